// Proves the ring's hash is MurmurHash3 x86_32 over UTF-8, pinned by published vectors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hashKey, murmur3Bytes, murmur3String } from '../../src/ring/hash.js';

// Published MurmurHash3_x86_32 test vectors (SMHasher's verification set and common ports).
const vectors: readonly [string, number, number][] = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['\0\0\0\0', 0, 0x2362f9de],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['ab', 0x9747b28c, 0x74875592],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
];

test('murmur3 matches the published test vectors for strings and bytes', () => {
  for (const [text, seed, expected] of vectors) {
    assert.equal(murmur3String(text, seed), expected, `string ${JSON.stringify(text)}`);
    assert.equal(murmur3Bytes(Buffer.from(text, 'utf8'), seed), expected, `bytes ${JSON.stringify(text)}`);
  }
});

test('a string key hashes exactly like its UTF-8 bytes, ASCII fast path or not', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
      assert.equal(hashKey(text), hashKey(new TextEncoder().encode(text)));
    }),
    { numRuns: 2000 },
  );
});

test('ring positions are unsigned 32-bit integers, pinned for sample keys (a change here moves data)', () => {
  assert.equal(hashKey('key0'), murmur3String('key0', 0));
  assert.deepEqual(
    ['key0', 'key1', 'user:42', 'ключ'].map((key) => hashKey(key)),
    [0xee16f4d7, 0x9b970125, 0xc7a6a375, 0x9a592042],
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const position = hashKey(bytes);
      assert.ok(Number.isInteger(position) && position >= 0 && position < 2 ** 32);
    }),
  );
});
