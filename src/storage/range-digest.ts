import { createHash, type Hash } from 'node:crypto';
import { forEachFrame } from './record.js';

const SEPARATOR = Buffer.from([0]);

/**
 * Pairs wait here and go to their hash together: one hash update per 64 KiB instead of four per record (a
 * native call each, most of a digest's cost once reads stop copying). Shared by every digest; whichever digest
 * finds another's bytes here hashes them into that one first, so digests may interleave.
 */
const PENDING_BYTES = 64 * 1024;
const pending = Buffer.allocUnsafe(PENDING_BYTES);
let pendingBytes = 0;
let pendingOwner: RangeDigest | undefined;

/** Below this many bytes a JavaScript loop copies faster than a native call. */
const LOOP_COPY_MAX = 64;

function appendBytes(source: Uint8Array, start: number, end: number): void {
  if (end - start < LOOP_COPY_MAX) {
    for (let index = start; index < end; index++) pending[pendingBytes++] = source[index]!;
  } else {
    pending.set(source.subarray(start, end), pendingBytes);
    pendingBytes += end - start;
  }
}

/**
 * A SHA-1 over (key, version) pairs, each written as `key 0x00 version 0x00` in the order added: the digest
 * replicas compare (StorageEngine.digestRange). Versions are ASCII, so their latin1 bytes are their text.
 */
export class RangeDigest {
  readonly #hash: Hash = createHash('sha1');
  #count = 0;

  add(key: Uint8Array, version: Uint8Array): void {
    this.addPair(key, 0, key.length, version, 0, version.length);
  }

  /**
   * Adds the pair (key [keyStart, keyEnd) of `keySource`, version [versionStart, versionEnd) of
   * `versionSource`). The bytes are copied before this returns: the sources may be buffers lmdb reuses.
   */
  addPair(
    keySource: Uint8Array,
    keyStart: number,
    keyEnd: number,
    versionSource: Uint8Array,
    versionStart: number,
    versionEnd: number,
  ): void {
    this.#count++;
    const size = keyEnd - keyStart + versionEnd - versionStart + 2;
    if (pendingOwner !== this || pendingBytes + size > PENDING_BYTES) this.#takePending();
    if (size > PENDING_BYTES) {
      this.#hash
        .update(keySource.subarray(keyStart, keyEnd))
        .update(SEPARATOR)
        .update(versionSource.subarray(versionStart, versionEnd))
        .update(SEPARATOR);
      return;
    }
    appendBytes(keySource, keyStart, keyEnd);
    pending[pendingBytes++] = 0;
    appendBytes(versionSource, versionStart, versionEnd);
    pending[pendingBytes++] = 0;
  }

  /**
   * Adds every record of `frames` (record frames, record.ts), in order: the digest of what a push sends is
   * the digest of the range it read, as digestRange would answer it, without a second read.
   */
  addFrames(frames: Buffer): void {
    // A record body begins [flags u8][version length u8][version].
    forEachFrame(frames, (keyStart, keyEnd) => {
      const versionStart = keyEnd + 2;
      this.addPair(frames, keyStart, keyEnd, frames, versionStart, versionStart + frames[keyEnd + 1]!);
    });
  }

  finish(): { readonly count: number; readonly hash: string } {
    if (pendingOwner === this) this.#takePending();
    return { count: this.#count, hash: this.#hash.digest('hex') };
  }

  /** Hashes what is pending into its owner's hash, and makes this digest the owner of the empty buffer. */
  #takePending(): void {
    if (pendingOwner !== undefined && pendingBytes > 0)
      pendingOwner.#hash.update(pending.subarray(0, pendingBytes));
    pendingBytes = 0;
    pendingOwner = this;
  }
}
