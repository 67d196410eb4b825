import { murmur3String } from './hash.js';
import { type Placement, RING_SIZE } from './placement.js';
import type { RingNode } from './ring-node.js';

/**
 * The classic ring of the original design: each node puts round(vnodes * weight) tokens (at least one)
 * on the ring, at murmur3("<id>#<i>"), and a key belongs to the first token at or after its position,
 * wrapping (as in Dynamo and ketama). The replicas are the next distinct nodes clockwise. A position's
 * ranking is thus "by clockwise distance to the node's nearest token, then by id": an order that does not
 * depend on who else is a member, which keeps movement minimal. Kept for users who want the familiar model
 * and for comparison: it needs about 20,000 tokens per node to be as even as the default partition
 * placement (docs/RING.md).
 */
export class TokenPlacement implements Placement {
  readonly segmentCount: number;
  /** Sorted segment starts: segment i covers [starts[i], starts[i + 1]); starts[0] is 0. */
  readonly #starts: Uint32Array;
  /** The index, in token order, of each segment's owning token. */
  readonly #tokenOf: Uint32Array;
  /** Each token's node index, tokens sorted by (position, node index). */
  readonly #nodeOfToken: Uint16Array;
  readonly #nodeCount: number;

  constructor(nodes: readonly RingNode[], vnodes: number) {
    const counts = nodes.map((node) => Math.max(1, Math.round(vnodes * node.weight)));
    const total = counts.reduce((sum, count) => sum + count, 0);
    // Pack (position, node index) into one double so a typed-array sort orders tokens; equal positions
    // then order by node index, which follows id order whoever else is a member.
    const packed = new Float64Array(total);
    let next = 0;
    nodes.forEach((node, index) => {
      for (let i = 0; i < counts[index]!; i++)
        packed[next++] = murmur3String(`${node.id}#${i}`) * 65536 + index;
    });
    packed.sort();
    this.#nodeCount = nodes.length;
    this.#nodeOfToken = Uint16Array.from(packed, (value) => value % 65536);
    // Token i owns (position[i - 1], position[i]], that is [position[i - 1] + 1, position[i] + 1); token 0
    // also owns the wrap-around tail after the last token, which becomes a final segment.
    const positionOf = (token: number) => Math.floor(packed[token]! / 65536);
    const tailStart = total > 0 ? positionOf(total - 1) + 1 : 0;
    const hasTail = total > 0 && tailStart < RING_SIZE;
    this.segmentCount = total + (hasTail ? 1 : 0);
    this.#starts = new Uint32Array(this.segmentCount);
    this.#tokenOf = new Uint32Array(this.segmentCount);
    for (let token = 1; token < total; token++) {
      this.#starts[token] = positionOf(token - 1) + 1;
      this.#tokenOf[token] = token;
    }
    if (hasTail) this.#starts[total] = tailStart;
  }

  segmentOf(position: number): number {
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (starts[middle]! <= position) low = middle;
      else high = middle - 1;
    }
    // Tokens sharing a position leave an empty segment (equal starts); taking the last equal start skips
    // it, and the shared position itself falls in the first such token's segment, as the order says.
    return low;
  }

  segmentStart(segment: number): number {
    return this.#starts[segment]!;
  }

  ownerAt(position: number): number {
    return this.#nodeOfToken[this.#tokenOf[this.segmentOf(position)]!]!;
  }

  rank(segment: number, depth: number): Uint16Array {
    const chosen = new Uint16Array(depth);
    const seen = new Uint8Array(this.#nodeCount);
    const first = this.#tokenOf[segment]!;
    const tokens = this.#nodeOfToken.length;
    let filled = 0;
    for (let step = 0; filled < depth; step++) {
      const node = this.#nodeOfToken[(first + step) % tokens]!;
      if (seen[node] === 0) {
        seen[node] = 1;
        chosen[filled++] = node;
      }
    }
    return chosen;
  }
}
