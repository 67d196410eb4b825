import { createHash, type Hash } from 'node:crypto';

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

  finish(): { readonly count: number; readonly hash: string } {
    return { count: this.#count, hash: this.#hash.digest('hex') };
  }
}
