// Proves the JSON snapshot keeps the original format, round-trips every value, replaces files atomically,
// and is rewritten only after a change.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RingKvError } from '../../src/errors.js';
import type { StorageEngine } from '../../src/storage/engine.js';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { MemoryEngine } from '../../src/storage/memory-engine.js';
import {
  importSnapshot,
  nextSnapshotDelayMs,
  SnapshotScheduler,
  writeSnapshot,
  writeSnapshotInChild,
} from '../../src/storage/snapshot.js';
import { HybridLogicalClock } from '../../src/version/hlc.js';
import { formatVersion } from '../../src/version/version.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-snapshot-');
after(() => directory.remove());
const limits = { keyBytesMax: 1024, valueBytesMax: 1 << 20 };
const v = (wallMs: number) => formatVersion({ wallMs, logical: 0, writer: 'w' });
let files = 0;
const nextPath = () => `${directory.path}/node-${files++}.json`;
const clock = () => {
  const hlc = new HybridLogicalClock({ writer: 'import', physicalNowMs: Date.now });
  return () => hlc.now();
};

async function filled(): Promise<MemoryEngine> {
  const engine = new MemoryEngine();
  await engine.apply([
    { key: Buffer.from('plain'), version: v(1), value: Buffer.from('héllo "quoted"\n') },
    { key: Buffer.from('ключ'), version: v(1), value: Buffer.from('значение') },
    { key: Buffer.from('binary'), version: v(1), value: Buffer.from([0xff, 0x00, 0xfe]) },
    {
      key: Buffer.from('typed'),
      version: v(1),
      value: Buffer.from('{"a":1}'),
      contentType: 'application/json',
    },
    { key: Buffer.from('empty'), version: v(1), value: Buffer.alloc(0) },
    { key: Buffer.from('deleted'), version: v(1), value: null },
  ]);
  return engine;
}

test('a snapshot is the original plain JSON object, with a reversible form for bytes and content types', async () => {
  const path = nextPath();
  const result = await writeSnapshot(await filled(), path);
  assert.deepEqual(result, { keys: 5, skipped: 0 });
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    plain: 'héllo "quoted"\n',
    ключ: 'значение',
    binary: { base64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') },
    typed: { base64: Buffer.from('{"a":1}').toString('base64'), contentType: 'application/json' },
    empty: '',
  });
  const emptyPath = nextPath();
  await writeSnapshot(new MemoryEngine(), emptyPath);
  assert.deepEqual(JSON.parse(await readFile(emptyPath, 'utf8')), {});
});

test('a snapshot imports into an empty engine with every value, byte for byte', async () => {
  const path = nextPath();
  const source = await filled();
  await writeSnapshot(source, path);
  for (const target of [
    new MemoryEngine(),
    new LmdbEngine(`${directory.path}/import-${files}.lmdb`),
  ] as StorageEngine[]) {
    assert.deepEqual(await importSnapshot(target, path, clock(), limits), { keys: 5, skipped: 0 });
    for (const key of ['plain', 'ключ', 'binary', 'typed', 'empty']) {
      const expected = source.get(Buffer.from(key))!;
      const actual = target.get(Buffer.from(key))!;
      assert.deepEqual(Buffer.from(actual.value!), Buffer.from(expected.value!), key);
      assert.equal(actual.contentType, expected.contentType);
    }
    assert.equal(target.get(Buffer.from('deleted')), undefined);
    await target.close();
  }
});

test("the original design's storage file loads, and entries that break the limits are skipped", async () => {
  const path = nextPath();
  await writeFile(
    path,
    JSON.stringify({
      myKey: 'myValue',
      other: 'x',
      big: 'y'.repeat(2000),
      number: 42,
      [`${'k'.repeat(1025)}`]: 'v',
    }),
  );
  const engine = new MemoryEngine();
  const result = await importSnapshot(engine, path, clock(), { keyBytesMax: 1024, valueBytesMax: 1000 });
  assert.deepEqual(result, { keys: 2, skipped: 3 });
  assert.equal(Buffer.from(engine.get(Buffer.from('myKey'))!.value!).toString(), 'myValue');
});

test('a file that is not a JSON object is a RINGKV_ERR_BAD_SNAPSHOT', async () => {
  for (const content of ['{"a": "1", "b": ', '[1, 2]', 'not json']) {
    const path = nextPath();
    await writeFile(path, content);
    await assert.rejects(
      importSnapshot(new MemoryEngine(), path, clock(), limits),
      (error: unknown) => error instanceof RingKvError && error.code === 'RINGKV_ERR_BAD_SNAPSHOT',
    );
  }
});

test('a failed write leaves the previous snapshot intact and no temporary file behind', async () => {
  const path = nextPath();
  await writeSnapshot(await filled(), path);
  const before = await readFile(path, 'utf8');
  const failing = await filled();
  failing.scan = async function* () {
    yield [{ key: Buffer.from('partial'), version: v(1), value: Buffer.from('x') }];
    throw new Error('disk went away');
  };
  await assert.rejects(writeSnapshot(failing, path), /disk went away/);
  assert.equal(await readFile(path, 'utf8'), before);
  assert.deepEqual(
    (await readdir(directory.path)).filter((name) => name.includes('.tmp-')),
    [],
  );
});

test('a snapshot written by a low-priority child process beside the writing engine matches', async () => {
  const lmdbPath = `${directory.path}/child-${files}.lmdb`;
  const engine = new LmdbEngine(lmdbPath);
  await engine.apply([
    { key: Buffer.from('a'), version: v(1), value: Buffer.from('1') },
    { key: Buffer.from('bytes'), version: v(1), value: Buffer.from([0xff]) },
    { key: Buffer.from('gone'), version: v(1), value: null },
  ]);
  const path = nextPath();
  assert.deepEqual(await writeSnapshotInChild(lmdbPath, path), { keys: 2, skipped: 0 });
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { a: '1', bytes: { base64: '/w==' } });
  await engine.close();
  await assert.rejects(
    writeSnapshotInChild(`${directory.path}/no-such.lmdb`, nextPath()),
    /snapshot writer exited/,
  );
});

/** A scheduler over a filled memory engine, writing to a fresh path and recording each snapshot's key count. */
async function recordingScheduler(defer: { deferWhile?: () => boolean; deferMaxMs?: number } = {}) {
  const path = nextPath();
  const engine = await filled();
  const written: number[] = [];
  const scheduler = new SnapshotScheduler({
    engine,
    write: () => writeSnapshot(engine, path),
    onWritten: (r) => written.push(r.keys),
    onError: (error) => assert.fail(String(error)),
    ...defer,
  });
  return { path, engine, written, scheduler };
}

test('a periodic snapshot waits while the node is busy with a move, and comes once it is not', async () => {
  let busy = true;
  const { written, scheduler } = await recordingScheduler({ deferWhile: () => busy });
  scheduler.start(20, -1);
  try {
    await sleep(600);
    assert.deepEqual(written, [], 'no snapshot while busy');
    busy = false;
    for (let waited = 0; waited < 3000 && written.length === 0; waited += 50) await sleep(50);
    assert.deepEqual(written, [5], 'written once no longer busy');
  } finally {
    scheduler.stop();
  }
});

test('a snapshot waits for a busy node at most deferMaxMs past its time', async () => {
  const { written, scheduler } = await recordingScheduler({ deferWhile: () => true, deferMaxMs: 300 });
  scheduler.start(20, -1);
  try {
    for (let waited = 0; waited < 4000 && written.length === 0; waited += 50) await sleep(50);
    assert.deepEqual(written, [5], 'written although always busy');
  } finally {
    scheduler.stop();
  }
});

test('the scheduler writes only when something changed since the last snapshot', async () => {
  const { path, engine, written, scheduler } = await recordingScheduler();
  scheduler.start(0, -1);
  await scheduler.flush();
  const first = (await stat(path)).mtimeMs;
  await scheduler.flush();
  assert.deepEqual(written, [5]);
  assert.equal((await stat(path)).mtimeMs, first);
  await engine.apply([{ key: Buffer.from('new'), version: v(2), value: Buffer.from('n') }]);
  await Promise.all([scheduler.flush(), scheduler.flush()]);
  assert.deepEqual(written, [5, 6]);
  scheduler.stop();
});

test('snapshots keep to their interval, but a slow one spaces the next to keep exports under a tenth of the time', () => {
  assert.equal(nextSnapshotDelayMs(10_000, 0), 10_000);
  assert.equal(nextSnapshotDelayMs(10_000, 400), 10_000);
  assert.equal(nextSnapshotDelayMs(10_000, 1_111), 10_000);
  assert.equal(nextSnapshotDelayMs(10_000, 3_000), 27_000);
  assert.equal(nextSnapshotDelayMs(1_000, 500), 4_500);
});

test('a running scheduler writes a changed engine periodically, and stops writing after stop()', async () => {
  const { engine, written, scheduler } = await recordingScheduler();
  scheduler.start(20, -1);
  for (let attempt = 0; attempt < 100 && written.length === 0; attempt++) await sleep(10);
  await engine.apply([{ key: Buffer.from('later'), version: v(3), value: Buffer.from('l') }]);
  for (let attempt = 0; attempt < 100 && written.length < 2; attempt++) await sleep(10);
  assert.deepEqual(written, [5, 6]);
  scheduler.stop();
  await engine.apply([{ key: Buffer.from('after-stop'), version: v(4), value: Buffer.from('s') }]);
  await sleep(100);
  assert.deepEqual(written, [5, 6], 'nothing written after stop()');
});

test('a snapshot child whose node dies stops at once and removes its temporary file', async () => {
  const lmdbPath = `${directory.path}/orphaned.lmdb`;
  const engine = new LmdbEngine(lmdbPath);
  const value = Buffer.alloc(100, 'v');
  for (let start = 0; start < 200_000; start += 1000) {
    await engine.apply(
      Array.from({ length: 1000 }, (_, i) => ({ key: Buffer.from(`key${start + i}`), version: v(1), value })),
    );
  }
  await engine.close();
  const path = nextPath();
  const module = new URL('../../src/storage/snapshot.ts', import.meta.url).href;
  const node = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { writeSnapshotInChild } = await import(${JSON.stringify(module)});
       await writeSnapshotInChild(${JSON.stringify(lmdbPath)}, ${JSON.stringify(path)});`,
    ],
    { stdio: 'ignore' },
  );
  const name = basename(path);
  let temporary: string | undefined;
  for (let waited = 0; temporary === undefined && waited < 20_000; waited += 5) {
    temporary = (await readdir(directory.path)).find((file) => file.startsWith(`${name}.tmp-`));
    if (temporary === undefined) await sleep(5);
  }
  assert.ok(temporary !== undefined, 'the snapshot child started writing its temporary file');
  node.kill('SIGKILL');
  const childPid = Number(temporary.split('.tmp-')[1]);
  const alive = () => {
    try {
      process.kill(childPid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let waited = 0; waited < 10_000 && alive(); waited += 20) await sleep(20);
  assert.equal(alive(), false, 'the orphaned snapshot child exited');
  const left = await readdir(directory.path);
  assert.equal(left.includes(temporary), false, 'its temporary file is gone');
  assert.equal(left.includes(name), false, 'no snapshot was renamed into place');
});
