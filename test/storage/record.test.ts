// Proves records survive the disk and wire codecs unchanged, and that hostile frame streams are refused.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import fc from 'fast-check';
import { RingKvError } from '../../src/errors.js';
import {
  decodeRecordBody,
  encodeRecordBody,
  encodeRecordFrames,
  inspectFrames,
  RecordFrameDecoder,
  type StoredRecord,
} from '../../src/storage/record.js';
import { formatVersion } from '../../src/version/version.js';

const record: fc.Arbitrary<StoredRecord> = fc
  .record({
    key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    wallMs: fc.integer({ min: 0, max: 2 ** 47 }),
    value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
    contentType: fc.option(fc.stringMatching(/^[\x20-\x7e]{1,30}$/), { nil: undefined }),
  })
  .map(({ key, wallMs, value, contentType }) => ({
    key,
    version: formatVersion({ wallMs, logical: 3, writer: 'node-1' }),
    value,
    ...(contentType !== undefined && { contentType }),
  }));

const plain = (r: StoredRecord) => ({ ...r, key: [...r.key], value: r.value && [...r.value] });

test('a record body round-trips through the disk codec', () => {
  fc.assert(
    fc.property(record, (r) => {
      assert.deepEqual(plain(decodeRecordBody(r.key, encodeRecordBody(r))), plain(r));
    }),
  );
});

test('frames round-trip however the stream is cut into chunks', () => {
  fc.assert(
    fc.property(
      fc.array(record, { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }),
      (records, cuts) => {
        const wire = encodeRecordFrames(records);
        const decoder = new RecordFrameDecoder(1 << 20);
        const decoded: StoredRecord[] = [];
        for (let offset = 0, i = 0; offset < wire.length; i++) {
          const size = cuts[i % cuts.length]!;
          decoded.push(...decoder.push(wire.subarray(offset, offset + size)));
          offset += size;
        }
        decoder.end();
        assert.deepEqual(decoded.map(plain), records.map(plain));
      },
    ),
  );
});

test('oversized, truncated and malformed frames are RINGKV_ERR_BAD_RECORD_STREAM', () => {
  const isBadStream = (error: unknown) =>
    error instanceof RingKvError && error.code === 'RINGKV_ERR_BAD_RECORD_STREAM';
  const one = encodeRecordFrames([
    {
      key: Buffer.from('k'),
      version: formatVersion({ wallMs: 1, logical: 0, writer: 'w' }),
      value: Buffer.alloc(100),
    },
  ]);
  assert.throws(() => new RecordFrameDecoder(50).push(one), isBadStream);
  const truncated = new RecordFrameDecoder(1 << 20);
  assert.deepEqual(truncated.push(one.subarray(0, 20)), []);
  assert.throws(() => truncated.end(), isBadStream);
  const garbage = Buffer.from([0, 0, 0, 8, 0, 200, 1, 2, 3, 4, 5, 6]);
  assert.throws(() => new RecordFrameDecoder(1 << 20).push(garbage), isBadStream);
  const badVersion = Buffer.from(one);
  badVersion[12] = 'Z'.charCodeAt(0);
  assert.throws(() => new RecordFrameDecoder(1 << 20).push(badVersion), isBadStream);
});

const LIMITS = { keyBytesMax: 64, valueBytesMax: 200, recordsMax: 50 };
const REFUSALS = new Set([
  'RINGKV_ERR_BAD_RECORD_STREAM',
  'RINGKV_ERR_VALUE_TOO_LARGE',
  'RINGKV_ERR_BATCH_TOO_LARGE',
]);
const codeOf = (run: () => unknown) => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof RingKvError ? error.code : `not a RingKvError: ${String(error)}`;
  }
};

/** The slow way to check frames: decode every record, then check each in order, then the stream's end. */
function decodeAndCheck(frames: Buffer): { records: number; newestVersion: string } {
  const decoder = new RecordFrameDecoder(frames.length + 1);
  const records = decoder.push(frames);
  let newestVersion = '';
  for (const [index, r] of records.entries()) {
    if (index >= LIMITS.recordsMax) throw new RingKvError('RINGKV_ERR_BATCH_TOO_LARGE', 'too many');
    if (r.key.length === 0 || r.key.length > LIMITS.keyBytesMax || !isUtf8(r.key))
      throw new RingKvError('RINGKV_ERR_BAD_RECORD_STREAM', 'key');
    if (r.value !== null && r.value.length > LIMITS.valueBytesMax)
      throw new RingKvError('RINGKV_ERR_VALUE_TOO_LARGE', 'value');
    if (r.version > newestVersion) newestVersion = r.version;
  }
  decoder.end();
  return { records: records.length, newestVersion };
}

test('inspecting frames accepts exactly what decoding and checking every record accepts', () => {
  const anyKey = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 80 }),
    fc.string({ minLength: 1, maxLength: 20 }).map((text) => Buffer.from(text)),
  );
  const candidate = fc
    .record({
      key: anyKey,
      wallMs: fc.integer({ min: 0, max: 2 ** 47 }),
      value: fc.option(fc.uint8Array({ maxLength: 260 }), { nil: null }),
    })
    .map(({ key, wallMs, value }) => ({
      key,
      version: formatVersion({ wallMs, logical: 0, writer: 'w' }),
      value,
    }));
  fc.assert(
    fc.property(fc.array(candidate, { maxLength: 60 }), fc.nat(), fc.nat(255), (records, cut, byte) => {
      const whole = encodeRecordFrames(records);
      // A byte overwritten anywhere: a length, a key, a version, a flag.
      const mutated = Buffer.from(whole);
      if (mutated.length > 0) mutated[cut % mutated.length] = byte;
      for (const frames of [whole, whole.subarray(0, cut % (whole.length + 1)), mutated]) {
        const expected = codeOf(() => decodeAndCheck(frames));
        const actual = codeOf(() => inspectFrames(frames, LIMITS));
        // The same frames are accepted, with the same result; a stream with two faults may be refused for
        // either one first.
        assert.equal(actual === 'accepted', expected === 'accepted', `${actual} against ${expected}`);
        if (expected === 'accepted') assert.deepEqual(inspectFrames(frames, LIMITS), decodeAndCheck(frames));
        else assert.ok(REFUSALS.has(actual), actual);
      }
    }),
    { numRuns: 300 },
  );
});
