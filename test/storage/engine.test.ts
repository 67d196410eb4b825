// Runs the StorageEngine conformance suite against both engines.
import { after } from 'node:test';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { MemoryEngine } from '../../src/storage/memory-engine.js';
import { temporaryDirectory } from '../helpers/temporary.js';
import { runEngineCases } from './engine.case.js';

const directory = await temporaryDirectory('ringkv-engine-');
after(() => directory.remove());
let opened = 0;

runEngineCases('memory', async () => new MemoryEngine());
runEngineCases('lmdb', async () => new LmdbEngine(`${directory.path}/engine-${opened++}.lmdb`));
// Every commit on the writer thread, as when the disk is slow.
runEngineCases(
  'lmdb (writer thread)',
  async () => new LmdbEngine(`${directory.path}/engine-${opened++}.lmdb`, { inlineCommitMsMax: 0 }),
);
// With the record cache (small enough to evict), on both commit paths: reads from it must never differ.
runEngineCases(
  'lmdb (record cache)',
  async () => new LmdbEngine(`${directory.path}/engine-${opened++}.lmdb`, { cacheBytes: 64 * 1024 }),
);
runEngineCases(
  'lmdb (record cache, writer thread)',
  async () =>
    new LmdbEngine(`${directory.path}/engine-${opened++}.lmdb`, {
      cacheBytes: 64 * 1024,
      inlineCommitMsMax: 0,
    }),
);
