/**
 * The StorageEngine conformance suite: every engine must pass all of it. Call runEngineCases with a
 * factory that opens a fresh, empty engine.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hashKey } from '../../src/ring/hash.js';
import { RING_SIZE } from '../../src/ring/placement.js';
import type { StorageEngine } from '../../src/storage/engine.js';
import { RangeDigest } from '../../src/storage/range-digest.js';
import { encodeRecordFrames, type StoredRecord } from '../../src/storage/record.js';
import { formatVersion } from '../../src/version/version.js';

export type EngineFactory = () => Promise<StorageEngine>;

const bytes = (text: string) => Buffer.from(text, 'utf8');
export const version = (wallMs: number, logical = 0, writer = 'w') =>
  formatVersion({ wallMs, logical, writer });
const put = (key: string, value: string | Uint8Array, at: number, contentType?: string): StoredRecord => ({
  key: bytes(key),
  version: version(at),
  value: typeof value === 'string' ? bytes(value) : value,
  ...(contentType !== undefined && { contentType }),
});
const del = (key: string, at: number): StoredRecord => ({
  key: bytes(key),
  version: version(at),
  value: null,
});

async function withEngine(
  open: EngineFactory,
  body: (engine: StorageEngine) => Promise<void>,
): Promise<void> {
  const engine = await open();
  try {
    await body(engine);
  } finally {
    await engine.close();
  }
}

async function scanAll(
  engine: StorageEngine,
  from: number,
  to: number,
  batchSize: number,
): Promise<StoredRecord[][]> {
  const batches: StoredRecord[][] = [];
  for await (const batch of engine.scan(from, to, batchSize)) batches.push(batch);
  return batches;
}

const plain = (record: StoredRecord) => ({
  ...record,
  key: [...record.key],
  value: record.value && [...record.value],
});

export function runEngineCases(name: string, open: EngineFactory): void {
  describe(`${name} engine conformance`, () => {
    test('an unknown key reads as undefined', () =>
      withEngine(open, async (engine) => {
        assert.equal(engine.get(bytes('missing')), undefined);
      }));

    test('a put is read back with its version, bytes and content type', () =>
      withEngine(open, async (engine) => {
        const binary = Uint8Array.from([0, 255, 10, 0, 128]);
        assert.deepEqual(
          await engine.apply([put('a', 'hello', 1), put('b', binary, 2, 'image/png'), put('c', '', 3)]),
          ['applied', 'applied', 'applied'],
        );
        const a = engine.get(bytes('a'))!;
        assert.equal(Buffer.from(a.value!).toString(), 'hello');
        assert.equal(a.version, version(1));
        assert.equal(a.contentType, undefined);
        const b = engine.get(bytes('b'))!;
        assert.deepEqual(Uint8Array.from(b.value!), binary);
        assert.equal(b.contentType, 'image/png');
        assert.equal(engine.get(bytes('c'))!.value!.length, 0);
      }));

    test('a stale version never overwrites a newer one, and an equal version is a no-op', () =>
      withEngine(open, async (engine) => {
        await engine.apply([put('k', 'new', 20)]);
        assert.deepEqual(await engine.apply([put('k', 'old', 10), put('k', 'same', 20)]), ['stale', 'stale']);
        assert.equal(Buffer.from(engine.get(bytes('k'))!.value!).toString(), 'new');
        assert.deepEqual(
          await engine.apply([{ ...put('k', 'tie-break', 20), version: version(20, 0, 'x') }]),
          ['applied'],
        );
      }));

    test('an old write can never undo a delete, and a newer write revives the key', () =>
      withEngine(open, async (engine) => {
        await engine.apply([put('k', 'v1', 10), del('k', 20)]);
        const tombstone = engine.get(bytes('k'))!;
        assert.equal(tombstone.value, null);
        assert.equal(tombstone.version, version(20));
        assert.deepEqual(await engine.apply([put('k', 'late', 15)]), ['stale']);
        assert.equal(engine.get(bytes('k'))!.value, null);
        assert.deepEqual(await engine.apply([put('k', 'v2', 30)]), ['applied']);
        assert.equal(Buffer.from(engine.get(bytes('k'))!.value!).toString(), 'v2');
      }));

    test('concurrent applies to one key in the same turn keep the newest version', () =>
      withEngine(open, async (engine) => {
        const results = await Promise.all([
          engine.apply([put('k', 'v3', 3)]),
          engine.apply([put('k', 'v1', 1)]),
          engine.apply([del('k', 2)]),
        ]);
        assert.deepEqual(results, [['applied'], ['stale'], ['stale']]);
        assert.equal(Buffer.from(engine.get(bytes('k'))!.value!).toString(), 'v3');
        assert.deepEqual(engine.stats().liveKeys, 1);
      }));

    test('counts follow puts, overwrites and deletes, and changeCount counts applied writes only', () =>
      withEngine(open, async (engine) => {
        await engine.apply([
          put('a', '1', 1),
          put('b', '2', 1),
          put('c', '3', 1),
          put('a', '1b', 2),
          del('b', 3),
        ]);
        await engine.apply([put('c', 'stale', 0), del('never-written', 4)]);
        const stats = engine.stats();
        assert.equal(stats.liveKeys, 2);
        assert.equal(stats.tombstones, 2);
        assert.ok(stats.bytes > 0);
        assert.equal(engine.changeCount, 6);
      }));

    test('a scan returns exactly the records in [from, to), tombstones included, in position order and batches', () =>
      withEngine(open, async (engine) => {
        const keys = Array.from({ length: 700 }, (_, i) => `key-${i}`);
        await engine.apply(keys.map((key, i) => (i % 10 === 0 ? del(key, 5) : put(key, `v${i}`, 5))));
        const whole = await scanAll(engine, 0, RING_SIZE, 64);
        assert.ok(whole.every((batch) => batch.length > 0 && batch.length <= 64));
        const seen = whole.flat().map((record) => Buffer.from(record.key).toString());
        assert.deepEqual([...seen].sort(), [...keys].sort());
        const positions = seen.map((key) => hashKey(key));
        assert.deepEqual(
          positions,
          [...positions].sort((a, b) => a - b),
        );
        assert.equal(whole.flat().filter((record) => record.value === null).length, 70);
        const from = 0x40000000;
        const to = 0x90000000;
        const part = (await scanAll(engine, from, to, 7))
          .flat()
          .map((record) => Buffer.from(record.key).toString());
        const expected = keys.filter((key) => hashKey(key) >= from && hashKey(key) < to);
        assert.deepEqual([...part].sort(), [...expected].sort());
        assert.deepEqual((await scanAll(engine, to, to, 10)).flat(), []);
      }));

    test('a scan resumes correctly when keys are added between its batches', () =>
      withEngine(open, async (engine) => {
        await engine.apply(Array.from({ length: 50 }, (_, i) => put(`first-${i}`, 'x', 1)));
        const seen = new Set<string>();
        let round = 0;
        for await (const batch of engine.scan(0, RING_SIZE, 5)) {
          for (const record of batch) {
            const key = Buffer.from(record.key).toString();
            assert.ok(!seen.has(key), `duplicate ${key}`);
            seen.add(key);
          }
          await engine.apply([put(`during-${round++}`, 'y', 2)]);
        }
        for (let i = 0; i < 50; i++) assert.ok(seen.has(`first-${i}`));
      }));

    test('purging drops only tombstones deleted before the cutoff and keeps every live key', () =>
      withEngine(open, async (engine) => {
        await engine.apply([
          put('live', 'v', 1),
          del('old', 100),
          del('recent', 900),
          del('revived', 50),
          put('revived', 'v', 60),
        ]);
        assert.equal(await engine.purgeTombstones(500), 1);
        assert.equal(engine.get(bytes('old')), undefined);
        assert.equal(engine.get(bytes('recent'))!.value, null);
        assert.equal(Buffer.from(engine.get(bytes('revived'))!.value!).toString(), 'v');
        assert.equal(Buffer.from(engine.get(bytes('live'))!.value!).toString(), 'v');
        assert.deepEqual(engine.stats(), { ...engine.stats(), liveKeys: 2, tombstones: 1 });
        assert.equal(await engine.purgeTombstones(500), 0);
      }));

    test('any interleaving of versioned writes ends in the state of the newest version per key', async () => {
      const operation = fc.record({
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        wallMs: fc.integer({ min: 1, max: 40 }),
        writer: fc.constantFrom('w1', 'w2'),
        value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(operation, { maxLength: 6 }), { maxLength: 8 }),
          async (batches) => {
            await withEngine(open, async (engine) => {
              const model = new Map<string, StoredRecord>();
              const records = batches.map((batch) =>
                batch.map((op) => ({
                  key: bytes(op.key),
                  version: version(op.wallMs, 0, op.writer),
                  value: op.value,
                })),
              );
              await Promise.all(records.map((batch) => engine.apply(batch)));
              for (const record of records.flat()) {
                const id = Buffer.from(record.key).toString();
                const current = model.get(id);
                if (current === undefined || record.version > current.version) model.set(id, record);
              }
              for (const [id, expected] of model) {
                const stored = engine.get(bytes(id))!;
                assert.equal(stored.version, expected.version);
                assert.deepEqual(
                  stored.value && Uint8Array.from(stored.value),
                  expected.value && Uint8Array.from(expected.value),
                );
              }
              const live = [...model.values()].filter((record) => record.value !== null).length;
              assert.equal(engine.stats().liveKeys, live);
              assert.equal(engine.stats().tombstones, model.size - live);
            });
          },
        ),
        { numRuns: 40 },
      );
    });

    test('countRange counts and dropRanges removes exactly the records in [from, to), tombstones included', () =>
      withEngine(open, async (engine) => {
        const keys = Array.from({ length: 400 }, (_, i) => `drop-${i}`);
        await engine.apply(keys.map((key, i) => (i % 4 === 0 ? del(key, 3) : put(key, 'v', 3))));
        const from = 0x30000000;
        const to = 0xa0000000;
        const inside = keys.filter((key) => hashKey(key) >= from && hashKey(key) < to);
        assert.equal(engine.countRange(from, to), inside.length);
        assert.equal(engine.countRange(0, RING_SIZE), 400);
        assert.equal(await engine.dropRanges([{ from, to }]), inside.length);
        assert.equal(engine.countRange(from, to), 0);
        for (const key of keys) {
          const inRange = hashKey(key) >= from && hashKey(key) < to;
          assert.equal(engine.get(bytes(key)) === undefined, inRange, key);
        }
        const survivors = keys.filter((key) => !inside.includes(key));
        const stats = engine.stats();
        assert.equal(stats.liveKeys + stats.tombstones, survivors.length);
        assert.equal(stats.tombstones, survivors.filter((key) => keys.indexOf(key) % 4 === 0).length);
        assert.equal(await engine.dropRanges([{ from, to }]), 0);
      }));

    test('digestRange hashes (key, version) of exactly the records in [from, to), in position order', () =>
      withEngine(open, async (engine) => {
        const keys = Array.from({ length: 300 }, (_, i) => `digest-${i}`);
        await engine.apply(keys.map((key, i) => (i % 5 === 0 ? del(key, 4) : put(key, `v${i}`, 4))));
        const expected = async (from: number, to: number) => {
          const hash = createHash('sha1');
          let count = 0;
          for (const batch of await scanAll(engine, from, to, 64)) {
            for (const record of batch) {
              hash.update(record.key).update('\0').update(record.version).update('\0');
              count++;
            }
          }
          return { count, hash: hash.digest('hex') };
        };
        for (const [from, to] of [
          [0, RING_SIZE],
          [0x30000000, 0xa0000000],
          [0x70000000, 0x70000001],
        ] as const) {
          assert.deepEqual(engine.digestRange(from, to), await expected(from, to));
          assert.equal(engine.digestRange(from, to).count, engine.countRange(from, to));
          // What a push sends of the range hashes the same (a move compares it with other holders' digests).
          const sent = new RangeDigest();
          for await (const chunk of engine.scanFrames(from, to, 64)) sent.addFrames(chunk.frames);
          assert.deepEqual(sent.finish(), engine.digestRange(from, to));
        }
        const before = engine.digestRange(0, RING_SIZE);
        await engine.apply([put('digest-7', 'same bytes, newer version', 5)]);
        assert.notEqual(engine.digestRange(0, RING_SIZE).hash, before.hash, 'a newer version changes it');
        assert.equal(engine.digestRange(0, RING_SIZE).count, 300);
      }));

    for (const rangeCount of [64, 3000])
      test(`drops and purges far larger than one transaction remove every record across ${rangeCount} ranges`, () =>
        withEngine(open, async (engine) => {
          const keys = Array.from({ length: 6000 }, (_, i) => `bulk-${i}`);
          await engine.apply(keys.map((key, i) => (i % 3 === 0 ? del(key, 10) : put(key, 'v', 10))));
          // Every other of 2 * rangeCount equal slices of the ring, so a drop crosses ranges and transactions: with
          // 64, jobs end at their record limit inside a range; with 3,000 (about one record each), at the limit
          // of ranges a job carries.
          const width = RING_SIZE / (2 * rangeCount);
          const ranges = Array.from({ length: rangeCount }, (_, i) => ({
            from: 2 * i * width,
            to: (2 * i + 1) * width,
          }));
          const inRanges = (key: string) => Math.floor(hashKey(key) / width) % 2 === 0;
          const dropped = keys.filter(inRanges);
          assert.ok(dropped.length > 2500, `${dropped.length} keys in the ranges`);
          assert.equal(await engine.dropRanges(ranges), dropped.length);
          for (const key of keys) assert.equal(engine.get(bytes(key)) === undefined, inRanges(key), key);
          const tombstonesLeft = keys.filter((key, i) => i % 3 === 0 && !inRanges(key)).length;
          assert.equal(engine.stats().tombstones, tombstonesLeft);
          assert.equal(await engine.purgeTombstones(11), tombstonesLeft);
          assert.deepEqual(engine.stats(), {
            ...engine.stats(),
            liveKeys: keys.length - dropped.length - tombstonesLeft,
            tombstones: 0,
          });
        }));

    test('scanFrames yields the records scan does, as frames; applyFrames applies frames as apply does', () =>
      withEngine(open, async (engine) => {
        const keys = Array.from({ length: 250 }, (_, i) => `frame-${i}`);
        await engine.apply(
          keys.map((key, i) =>
            i % 5 === 0 ? del(key, 4) : put(key, `v${i}`, 4, i % 7 === 0 ? 'text/x' : undefined),
          ),
        );
        const from = 0x20000000;
        const to = 0xd0000000;
        const scanned = (await scanAll(engine, from, to, 30)).flat();
        const chunks: { frames: Buffer; records: number }[] = [];
        for await (const chunk of engine.scanFrames(from, to, 30)) chunks.push(chunk);
        assert.ok(chunks.every((chunk) => chunk.records <= 30 && chunk.records > 0));
        assert.equal(
          chunks.reduce((sum, chunk) => sum + chunk.records, 0),
          scanned.length,
        );
        assert.deepEqual(Buffer.concat(chunks.map((chunk) => chunk.frames)), encodeRecordFrames(scanned));
        // Into a second engine: the same records, and a second time every one is stale.
        await withEngine(open, async (copy) => {
          const frames = Buffer.concat(chunks.map((chunk) => chunk.frames));
          assert.deepEqual(await copy.applyFrames(frames), Array(scanned.length).fill('applied'));
          assert.deepEqual(await copy.applyFrames(frames), Array(scanned.length).fill('stale'));
          assert.deepEqual((await scanAll(copy, 0, RING_SIZE, 1000)).flat().map(plain), scanned.map(plain));
        });
      }));

    test('an engine refuses use after close', async () => {
      const engine = await open();
      await engine.close();
      assert.throws(() => engine.get(bytes('a')));
    });
  });
}
