// RangeDigest batches what it hashes through one buffer shared by every digest: interleaved digests, and
// pairs larger than that buffer, must hash exactly what a plain SHA-1 of `key 0 version 0 ...` does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { RangeDigest } from '../../src/storage/range-digest.js';

const plain = (pairs: readonly (readonly [Buffer, Buffer])[]) => {
  const hash = createHash('sha1');
  for (const [key, version] of pairs) hash.update(key).update('\0').update(version).update('\0');
  return { count: pairs.length, hash: hash.digest('hex') };
};

test('interleaved digests, and pairs of every size up to past the shared buffer, hash as plain SHA-1', () => {
  const sizes = [1, 5, 63, 64, 65, 1000, 30_000, 64 * 1024 - 40, 64 * 1024, 100_000];
  const pairs = (salt: string) =>
    sizes.flatMap((size, i) =>
      Array.from({ length: 40 }, (_, j) => {
        const key = Buffer.alloc(j % 2 === 0 ? size : (size % 97) + 1, `${salt}${i}.${j}`);
        return [key, Buffer.from(`0000${i}${j}-${salt}`, 'latin1')] as const;
      }),
    );
  const a = pairs('a');
  const b = pairs('b');
  const digestA = new RangeDigest();
  const digestB = new RangeDigest();
  // A with one pair, and every third pair B with the next three: each steals the shared buffer from the other.
  for (let i = 0; i < a.length; i++) {
    digestA.add(...a[i]!);
    if (i % 3 === 0) for (const pair of b.slice(i, i + 3)) digestB.add(...pair);
  }
  assert.deepEqual(digestA.finish(), plain(a));
  assert.deepEqual(digestB.finish(), plain(b));
  // A digest of nothing, finished while another holds the buffer.
  const holder = new RangeDigest();
  holder.add(Buffer.from('k'), Buffer.from('v'));
  assert.deepEqual(new RangeDigest().finish(), plain([]));
  assert.deepEqual(holder.finish(), plain([[Buffer.from('k'), Buffer.from('v')]]));
});
