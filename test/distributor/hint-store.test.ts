// Proves the hint store keeps exact per-node counts as hints are added and delivered, and counts them again
// from disk when it is reopened (hints survive a distributor restart).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HintStore } from '../../src/distributor/hint-store.js';
import type { StoredRecord } from '../../src/storage/record.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-hints-');
after(() => directory.remove());

const record = (key: string, logical: number): StoredRecord => ({
  key: Buffer.from(key),
  version: `00000000000a.${logical.toString(16).padStart(4, '0')}.test`,
  value: Buffer.from(`value of ${key}`),
});

test('pending counts follow adds and removals per node, and come back after a reopen', async () => {
  const path = `${directory.path}/hints.lmdb`;
  let store = new HintStore(path);
  const forA = [record('k1', 1), record('k2', 2), record('k1', 3)];
  for (const hint of forA) await store.add('node-a', hint);
  await store.add('node-b', record('k9', 4));
  await store.add('node-b', record('k9', 4)); // the same hint twice is one hint
  assert.deepEqual(
    store.pending(['node-a', 'node-b', 'node-c']),
    new Map([
      ['node-a', 3],
      ['node-b', 1],
    ]),
  );
  assert.deepEqual(
    store.take('node-a', 10).map((hint) => hint.version),
    forA.map((hint) => hint.version).sort(),
  );
  await store.remove('node-a', forA.slice(0, 2));
  await store.remove('node-a', forA.slice(0, 1)); // already gone: no double count
  assert.deepEqual(
    store.pending(['node-a', 'node-b']),
    new Map([
      ['node-a', 1],
      ['node-b', 1],
    ]),
  );
  await store.close();
  store = new HintStore(path);
  assert.deepEqual(
    store.pending(['node-a', 'node-b']),
    new Map([
      ['node-a', 1],
      ['node-b', 1],
    ]),
  );
  await store.remove('node-b', [record('k9', 4)]);
  assert.deepEqual(store.pending(['node-a', 'node-b']), new Map([['node-a', 1]]));
  await store.close();
});
