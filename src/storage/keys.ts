import { hashKey } from '../ring/hash.js';

/**
 * Records are stored under `[ring position, u32 big-endian][key bytes]`, so byte order is position order
 * and the records of a position range [from, to) are one contiguous range of the store.
 */
export function compositeKey(key: Uint8Array): Buffer {
  const composite = Buffer.allocUnsafe(4 + key.length);
  composite.writeUInt32BE(hashKey(key), 0);
  composite.set(key, 4);
  return composite;
}

/** The smallest composite key at `position` (an integer in [0, 2^32)). */
export function positionPrefix(position: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(position, 0);
  return prefix;
}

/** The smallest byte string greater than `key`: resumes a scan just after it. */
export function successor(key: Uint8Array): Buffer {
  const next = Buffer.alloc(key.length + 1);
  next.set(key, 0);
  return next;
}
