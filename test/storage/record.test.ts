// Proves records survive the disk and wire codecs unchanged, and that hostile frame streams are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RingKvError } from '../../src/errors.js';
import {
  decodeRecordBody,
  encodeRecordBody,
  encodeRecordFrames,
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
