// What the lmdb engine adds to the conformance suite: group commit, on the event loop or the writer thread, and reads that see a write the moment it is acknowledged.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { hashKey } from '../../src/ring/hash.js';
import { RING_SIZE } from '../../src/ring/placement.js';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { RangeDigest } from '../../src/storage/range-digest.js';
import { encodeRecordFrames, type StoredRecord } from '../../src/storage/record.js';
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
  // However slow this machine's disk is at the moment: small commits stay on the event loop.
  ['on the event loop', { inlineCommitMsMax: Number.POSITIVE_INFINITY }],
  ['on the writer thread', { inlineCommitMsMax: 0 }],
  [
    'on the event loop, with the record cache',
    { cacheBytes: 1024 * 1024, inlineCommitMsMax: Number.POSITIVE_INFINITY },
  ],
  ['on the writer thread, with the record cache', { cacheBytes: 1024 * 1024, inlineCommitMsMax: 0 }],
] as const) {
  test(`an acknowledged write is read back at once, even by a reader that held an older snapshot (${where})`, async () => {
    const engine = openEngine(options);
    try {
      for (let round = 1; round <= 200; round++) {
        engine.get(Buffer.from('key')); // opens this turn's read snapshot before the write
        await engine.apply([record('key', round, `value ${round}`)]);
        assert.equal(Buffer.from(engine.get(Buffer.from('key'))!.value!).toString(), `value ${round}`);
      }
      assert.equal(engine.threadCommits > 0, where.startsWith('on the writer thread'));
      if ('cacheBytes' in options)
        assert.equal(engine.cache.hits, 199, 'each round read the previous value from the cache');
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
    assert.equal(engine.threadCommits, 3, '1,001 records: two transactions of at most 1,000 removals');
  } finally {
    await engine.close();
  }
});

test('a purge with no tombstone old enough commits nothing and starts no writer thread', async () => {
  const engine = openEngine();
  try {
    const tombstone = { key: Buffer.from('gone'), version: record('gone', 100, '').version, value: null };
    await engine.apply([record('live', 1, 'v'), tombstone]);
    const commits = engine.commits;
    assert.equal(await engine.purgeTombstones(100), 0, 'deleted at 100: not before 100');
    assert.equal(engine.commits, commits);
    assert.equal(engine.threadCommits, 0);
    assert.equal(await engine.purgeTombstones(101), 1);
    assert.equal(engine.commits, commits + 1);
    assert.equal(engine.threadCommits, 1, 'a purge that has work commits on the writer thread');
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

test('the record cache answers repeated reads, and forgets what drops and purges remove', async () => {
  const engine = openEngine({ cacheBytes: 1024 * 1024 });
  try {
    await engine.apply([record('hot', 1, 'v1'), record('gone', 1, 'soon')]);
    for (let i = 0; i < 10; i++)
      assert.equal(Buffer.from(engine.get(Buffer.from('hot'))!.value!).toString(), 'v1');
    assert.deepEqual([engine.cache.hits, engine.cache.misses], [9, 1]);
    engine.get(Buffer.from('gone'));
    await engine.apply([
      {
        key: Buffer.from('gone'),
        version: formatVersion({ wallMs: 2, logical: 0, writer: 'w' }),
        value: null,
      },
    ]);
    assert.equal(engine.get(Buffer.from('gone'))!.value, null, 'the tombstone, not the cached value');
    assert.equal(await engine.purgeTombstones(Date.now()), 1);
    assert.equal(engine.get(Buffer.from('gone')), undefined, 'purged, and not served from the cache');
    await engine.dropRanges([{ from: 0, to: 2 ** 32 }]);
    assert.equal(engine.get(Buffer.from('hot')), undefined, 'dropped, and not served from the cache');
  } finally {
    await engine.close();
  }
});

test('a drop of many transactions keeps the cache of the keys it leaves until it ends', async () => {
  const engine = openEngine({ cacheBytes: 4 * 1024 * 1024 });
  try {
    await engine.apply(Array.from({ length: 5000 }, (_, i) => record(`drop-${i}`, 1, 'v')));
    await engine.apply([record('kept', 1, 'kept value')]);
    const kept = Buffer.from('kept');
    const position = hashKey(kept);
    engine.get(kept);
    const misses = engine.cache.misses;
    let ended = false;
    // Every position but kept's: five transactions of 1,000 removals, with reads between them.
    const drop = engine.dropRanges([
      { from: 0, to: position },
      { from: position + 1, to: RING_SIZE },
    ]);
    const end = () => {
      ended = true;
    };
    drop.then(end, end);
    let reads = 0;
    while (!ended) {
      assert.equal(Buffer.from(engine.get(kept)!.value!).toString(), 'kept value');
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await drop, 5000);
    assert.ok(reads >= 5, `${reads} reads during the drop`);
    assert.equal(engine.cache.misses, misses, 'every read during the drop came from the cache');
    assert.equal(Buffer.from(engine.get(kept)!.value!).toString(), 'kept value');
    assert.equal(engine.cache.misses, misses + 1, 'the drop emptied the cache when it ended');
  } finally {
    await engine.close();
  }
});

test('while a write commits on the writer thread, cached reads see the old value or the new, never the old after the new', async () => {
  const engine = openEngine({ cacheBytes: 1024 * 1024, inlineCommitMsMax: 0 });
  try {
    await engine.apply([record('key', 1, 'old')]);
    for (let round = 2; round <= 50; round++) {
      const previous = `value ${round - 1}`;
      if (round > 2) assert.equal(Buffer.from(engine.get(Buffer.from('key'))!.value!).toString(), previous);
      let acknowledged = false;
      const write = engine.apply([record('key', round, `value ${round}`)]).then(() => (acknowledged = true));
      let seenNew = false;
      while (!acknowledged) {
        const seen = Buffer.from(engine.get(Buffer.from('key'))!.value!).toString();
        if (seen === `value ${round}`) seenNew = true;
        else assert.ok(!seenNew, `read ${seen} after reading value ${round}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await write;
      assert.equal(Buffer.from(engine.get(Buffer.from('key'))!.value!).toString(), `value ${round}`);
    }
  } finally {
    await engine.close();
  }
});

test('with a cache small enough to evict, any mix of writes, deletes, drops and reads reads what a plain map says', async () => {
  const engines = [
    openEngine({ cacheBytes: 2 * 1024 }),
    openEngine({ cacheBytes: 2 * 1024, inlineCommitMsMax: 0 }),
  ];
  try {
    for (const engine of engines) {
      const model = new Map<string, string | null>();
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return Math.floor((seed / 2 ** 31) * n); // the high bits: an LCG's low bits repeat quickly
      };
      for (let step = 1; step <= 1500; step++) {
        const key = `k${random(60)}`;
        const choice = random(10);
        if (choice < 6) {
          const stored = engine.get(Buffer.from(key));
          const expected = model.get(key);
          const actual =
            stored === undefined
              ? undefined
              : stored.value === null
                ? null
                : Buffer.from(stored.value).toString();
          assert.equal(actual, expected, `step ${step}: ${key}`);
        } else if (choice < 9) {
          const value = choice === 8 ? null : `v${step}`;
          const version = formatVersion({ wallMs: step, logical: 0, writer: 'w' });
          await engine.apply([
            { key: Buffer.from(key), version, value: value === null ? null : Buffer.from(value) },
          ]);
          model.set(key, value);
        } else if (random(20) === 0) {
          await engine.dropRanges([{ from: 0, to: 2 ** 32 }]);
          model.clear();
        }
      }
      const { hits, misses, evictions } = engine.cache;
      assert.ok(hits > 50 && misses > 100 && evictions > 100, JSON.stringify(engine.cache));
    }
  } finally {
    await Promise.all(engines.map((engine) => engine.close()));
  }
});

test('scanFrames ends a batch past 256 KiB of frames and resumes exactly after it', async () => {
  const engine = openEngine();
  try {
    // 40 records of 60 KiB: a batch of 500 records would be 2.4 MB.
    const records = Array.from({ length: 40 }, (_, i) =>
      record(`big-${i}`, 5, `${i}`.padEnd(60 * 1024, '.')),
    );
    await engine.apply(records);
    const chunks: { frames: Buffer; records: number }[] = [];
    for await (const chunk of engine.scanFrames(0, RING_SIZE, 500)) chunks.push(chunk);
    // A frame is just over 60 KiB: the fifth of a batch passes 256 KiB and ends it.
    assert.deepEqual(
      chunks.map((chunk) => chunk.records),
      Array(8).fill(5),
    );
    const scanned: StoredRecord[] = [];
    for await (const batch of engine.scan(0, RING_SIZE, 7)) scanned.push(...batch);
    assert.equal(scanned.length, 40);
    assert.equal(
      chunks.reduce((sum, chunk) => sum + chunk.records, 0),
      40,
    );
    assert.deepEqual(Buffer.concat(chunks.map((chunk) => chunk.frames)), encodeRecordFrames(scanned));
    const sent = new RangeDigest();
    for (const chunk of chunks) sent.addFrames(chunk.frames);
    assert.deepEqual(sent.finish(), engine.digestRange(0, RING_SIZE));
  } finally {
    await engine.close();
  }
});
