/**
 * The original design's ring, for comparison only: MD5 positions, 100 virtual nodes per server at
 * md5("<id>:<i>"), a key owned by the first virtual node at or after md5(key). Positions keep the top 48
 * bits of the digest, which orders them as the full 128-bit integers do.
 */
import { createHash } from 'node:crypto';

function md5Position(text: string): number {
  return createHash('md5').update(text).digest().readUIntBE(0, 6);
}

export class OriginalRing {
  readonly #positions: number[];
  readonly #owners: string[];

  constructor(ids: readonly string[], vnodes = 100) {
    const points = ids.flatMap((id) =>
      Array.from({ length: vnodes }, (_, i) => ({ at: md5Position(`${id}:${i}`), id })),
    );
    points.sort((a, b) => a.at - b.at);
    this.#positions = points.map((point) => point.at);
    this.#owners = points.map((point) => point.id);
  }

  ownerOf(key: string): string {
    const at = md5Position(key);
    let low = 0;
    let high = this.#positions.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#positions[middle]! < at) low = middle + 1;
      else high = middle;
    }
    return this.#owners[low % this.#owners.length]!;
  }

  withNode(id: string): OriginalRing {
    return new OriginalRing([...new Set([...this.#owners, id])]);
  }

  withoutNode(id: string): OriginalRing {
    return new OriginalRing([...new Set(this.#owners)].filter((other) => other !== id));
  }
}
