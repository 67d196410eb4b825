// What the lmdb engine adds to the conformance suite: group commit, on the event loop or the writer thread, and reads that see a write the moment it is acknowledged.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { formatVersion } from '../../src/version/version.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-lmdb-engine-');
after(() => directory.remove());
let opened = 0;
const openEngine = (options: ConstructorParameters<typeof LmdbEngine>[1] = {}) =>
  new LmdbEngine(`${directory.path}/lmdb-${opened++}.lmdb`, options);
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

for (const [where, options] of [
  ['on the event loop', {}],
  ['on the writer thread', { inlineCommitMsMax: 0 }],
] as const) {
  test(`an acknowledged write is read back at once, even by a reader that held an older snapshot (${where})`, async () => {
    const engine = openEngine(options);
    try {
      for (let round = 1; round <= 200; round++) {
        engine.get(Buffer.from('key')); // opens this turn's read snapshot before the write
        await engine.apply([record('key', round, `value ${round}`)]);
        assert.equal(Buffer.from(engine.get(Buffer.from('key'))!.value!).toString(), `value ${round}`);
      }
      assert.equal(engine.threadCommits > 0, where === 'on the writer thread');
    } finally {
      await engine.close();
    }
  });
}

test('small batches commit on the event loop; large ones, drops and purges on the writer thread', async () => {
  const engine = openEngine();
  try {
    await engine.apply([record('small', 1, 'v')]);
    assert.equal(engine.threadCommits, 0);
    const large = Array.from({ length: 1000 }, (_, i) => record(`large-${i}`, 2, 'x'.repeat(100)));
    assert.deepEqual(await engine.apply(large), Array(1000).fill('applied'));
    assert.equal(engine.threadCommits, 1);
    assert.equal(Buffer.from(engine.get(Buffer.from('large-999'))!.value!).toString(), 'x'.repeat(100));
    await engine.dropRanges([{ from: 0, to: 2 ** 32 }]);
    assert.equal(engine.get(Buffer.from('small')), undefined);
    assert.equal(engine.threadCommits, 2);
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
