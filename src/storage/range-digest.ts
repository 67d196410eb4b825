import { createHash, type Hash } from 'node:crypto';
import { forEachFrame } from './record.js';

const SEPARATOR = Buffer.from([0]);

/**
 * A SHA-1 over (key, version) pairs, each written as `key 0x00 version 0x00` in the order added: the digest
 * replicas compare (StorageEngine.digestRange). Versions are ASCII, so their latin1 bytes are their text.
 */
export class RangeDigest {
  readonly #hash: Hash = createHash('sha1');
  #count = 0;

  add(key: Uint8Array, version: Uint8Array): void {
    this.#hash.update(key).update(SEPARATOR).update(version).update(SEPARATOR);
    this.#count++;
  }

  /**
   * Adds every record of `frames` (record frames, record.ts), in order: the digest of what a push sends is
   * the digest of the range it read, as digestRange would answer it, without a second read.
   */
  addFrames(frames: Buffer): void {
    // A record body begins [flags u8][version length u8][version].
    forEachFrame(frames, (keyStart, keyEnd) => {
      const versionStart = keyEnd + 2;
      this.add(
        frames.subarray(keyStart, keyEnd),
        frames.subarray(versionStart, versionStart + frames[keyEnd + 1]!),
      );
    });
  }

  finish(): { readonly count: number; readonly hash: string } {
    return { count: this.#count, hash: this.#hash.digest('hex') };
  }
}
