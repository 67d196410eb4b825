/**
 * The ring's hash: MurmurHash3 x86_32 with seed 0 over the key's UTF-8 bytes. It is fixed forever (a
 * change would move every key), pinned by test vectors, and uses only 32-bit integer operations, so
 * every machine computes the same position for the same key.
 */

export type Key = string | Uint8Array;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

export function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixBlock(h: number, block: number): number {
  let k = Math.imul(block, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  let next = h ^ k;
  next = (next << 13) | (next >>> 19);
  return (Math.imul(next, 5) + 0xe6546b64) | 0;
}

function mixTail(h: number, tail: number): number {
  let k = Math.imul(tail, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  return h ^ k;
}

/** MurmurHash3 x86_32 of `bytes`; returns an unsigned 32-bit integer. */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blockEnd = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blockEnd; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    let tail = bytes[blockEnd]!;
    if (rest > 1) tail |= bytes[blockEnd + 1]! << 8;
    if (rest > 2) tail |= bytes[blockEnd + 2]! << 16;
    h = mixTail(h, tail);
  }
  return fmix32(h ^ length);
}

/**
 * MurmurHash3 x86_32 of the UTF-8 encoding of `text`. ASCII text is hashed straight from its char codes
 * (no allocation); anything else is encoded first. Lone surrogates encode as U+FFFD, as TextEncoder does.
 */
export function murmur3String(text: string, seed = 0): number {
  const length = text.length;
  const blockEnd = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blockEnd; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3Bytes(Buffer.from(text, 'utf8'), seed);
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    const c0 = text.charCodeAt(blockEnd);
    const c1 = rest > 1 ? text.charCodeAt(blockEnd + 1) : 0;
    const c2 = rest > 2 ? text.charCodeAt(blockEnd + 2) : 0;
    if ((c0 | c1 | c2) > 0x7f) return murmur3Bytes(Buffer.from(text, 'utf8'), seed);
    h = mixTail(h, c0 | (c1 << 8) | (c2 << 16));
  }
  return fmix32(h ^ length);
}

/** The ring position of a key: an integer in [0, 2^32). */
export function hashKey(key: Key): number {
  return typeof key === 'string' ? murmur3String(key) : murmur3Bytes(key);
}
