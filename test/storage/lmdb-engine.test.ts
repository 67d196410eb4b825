// What the lmdb engine adds to the conformance suite: group commit on its writer thread, and reads that see a write the moment it is acknowledged.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { formatVersion } from '../../src/version/version.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-lmdb-engine-');
after(() => directory.remove());
let opened = 0;
const openEngine = () => new LmdbEngine(`${directory.path}/lmdb-${opened++}.lmdb`);
const record = (key: string, wallMs: number, value: string) => ({
  key: Buffer.from(key),
  version: formatVersion({ wallMs, logical: 0, writer: 'w' }),
  value: Buffer.from(value),
});

test('writes that arrive together share one commit, and each still gets its own outcome', async () => {
  const engine = openEngine();
  try {
    await engine.apply([record('warm', 1, 'up')]);
    const before = engine.commits;
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => engine.apply([record(`k${i % 100}`, 10 + i, `v${i}`)])),
    );
    // 200 applies in one event-loop turn: a commit each would be 200; group commit makes them one.
    assert.equal(engine.commits - before, 1);
    assert.deepEqual(outcomes.flat(), Array(200).fill('applied'));
    for (let i = 100; i < 200; i++)
      assert.equal(Buffer.from(engine.get(Buffer.from(`k${i % 100}`))!.value!).toString(), `v${i}`);
  } finally {
    await engine.close();
  }
});

test('an acknowledged write is read back at once, even by a reader that held an older snapshot', async () => {
  const engine = openEngine();
  try {
    for (let round = 1; round <= 200; round++) {
      engine.get(Buffer.from('key')); // opens this turn's read snapshot before the write
      await engine.apply([record('key', round, `value ${round}`)]);
      assert.equal(Buffer.from(engine.get(Buffer.from('key'))!.value!).toString(), `value ${round}`);
    }
  } finally {
    await engine.close();
  }
});

test('a stale write queued behind a newer one in the same commit is refused', async () => {
  const engine = openEngine();
  try {
    const [newer, older] = await Promise.all([
      engine.apply([record('race', 20, 'newer')]),
      engine.apply([record('race', 10, 'older')]),
    ]);
    assert.deepEqual([newer, older], [['applied'], ['stale']]);
    assert.equal(Buffer.from(engine.get(Buffer.from('race'))!.value!).toString(), 'newer');
    assert.equal(engine.changeCount, 1);
  } finally {
    await engine.close();
  }
});

test('with a commit interval, writes that arrive within it share a commit; the first after a quiet spell commits alone', async () => {
  const spaced = new LmdbEngine(`${directory.path}/lmdb-${opened++}.lmdb`, { commitIntervalMs: 300 });
  const unspaced = openEngine();
  try {
    const commitsFor = async (engine: LmdbEngine) => {
      await engine.apply([record('first', 1, 'a')]); // commits at once: nothing came before it
      const before = engine.commits;
      // Two writes in different event-loop turns, the second while the first is queued or committing.
      const second = engine.apply([record('second', 2, 'b')]);
      await new Promise((resolve) => setImmediate(resolve));
      const third = engine.apply([record('third', 3, 'c')]);
      await Promise.all([second, third]);
      return engine.commits - before;
    };
    assert.equal(await commitsFor(unspaced), 2);
    assert.equal(await commitsFor(spaced), 1);
    assert.equal(spaced.commits, 2, 'the first write committed alone, before any interval');
  } finally {
    await Promise.all([spaced.close(), unspaced.close()]);
  }
});
