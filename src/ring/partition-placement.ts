import { fmix32, murmur3String } from './hash.js';
import { type Placement, portableLn, RING_SIZE } from './placement.js';
import type { RingNode } from './ring-node.js';

/**
 * ringkv's default placement: the position space is cut into `partitions` equal ranges (a power of two,
 * so a key's partition is the top bits of its position), and each partition goes to the member with the
 * highest score for it (rendezvous hashing).
 *
 * A node's scores are a keyed pseudo-random *permutation* of the partition numbers (a 4-round Feistel
 * network whose round tables derive from the node id), not independent hashes: every node then holds
 * exactly the same multiset of scores, which cuts the statistical imbalance by about 1.7x against
 * independent hashes (docs/RING.md has the measurements). Weights use the weighted-rendezvous rule
 * score = weight / -ln(u), with u the node's permuted rank mapped into (0, 1).
 */

const ROUNDS = 4;
const NODE_SEED = 0x52494e47; // "RING"

/** Keyed bijection on [0, size) built from a Feistel network on 2*halfBits bits, cycle-walking when odd. */
class NodePermutation {
  readonly #tables: Uint16Array;
  readonly #halfBits: number;
  readonly #halfMask: number;
  readonly #size: number;

  constructor(id: string, bits: number) {
    this.#halfBits = Math.ceil(bits / 2);
    this.#halfMask = (1 << this.#halfBits) - 1;
    this.#size = 2 ** bits;
    const seed = murmur3String(id, NODE_SEED);
    const width = 1 << this.#halfBits;
    this.#tables = new Uint16Array(ROUNDS * width);
    for (let i = 0; i < ROUNDS * width; i++) {
      this.#tables[i] = fmix32(seed ^ Math.imul(i + 1, 0x9e3779b1)) & this.#halfMask;
    }
  }

  /** Writes apply(i) into out[i] for every i in [0, size), unrolled for the common even-bits case. */
  applyToAll(out: Uint16Array): void {
    const halfBits = this.#halfBits;
    const width = this.#halfMask + 1;
    if (width * width !== this.#size) {
      for (let i = 0; i < this.#size; i++) out[i] = this.apply(i);
      return;
    }
    const round0 = this.#tables.subarray(0, width);
    const round1 = this.#tables.subarray(width, 2 * width);
    const round2 = this.#tables.subarray(2 * width, 3 * width);
    const round3 = this.#tables.subarray(3 * width, 4 * width);
    for (let left = 0; left < width; left++) {
      const base = left << halfBits;
      for (let right = 0; right < width; right++) {
        const c = left ^ round0[right]!;
        const d = right ^ round1[c]!;
        const e = c ^ round2[d]!;
        out[base | right] = (e << halfBits) | (d ^ round3[e]!);
      }
    }
  }

  apply(value: number): number {
    const tables = this.#tables;
    const halfBits = this.#halfBits;
    const mask = this.#halfMask;
    const width = mask + 1;
    let x = value;
    do {
      let left = x >>> halfBits;
      let right = x & mask;
      for (let round = 0; round < ROUNDS; round++) {
        const next = left ^ tables[round * width + right]!;
        left = right;
        right = next;
      }
      x = (left << halfBits) | right;
    } while (x >= this.#size);
    return x;
  }
}

const scoreTables = new Map<number, Float64Array>();

/** scoreOfRank[r] = 1 / -ln((r + 0.5) / size): strictly increasing in r, shared by rings of one size. */
function scoreTable(size: number): Float64Array {
  let table = scoreTables.get(size);
  if (table === undefined) {
    table = new Float64Array(size);
    for (let rank = 0; rank < size; rank++) table[rank] = 1 / -portableLn((rank + 0.5) / size);
    scoreTables.set(size, table);
  }
  return table;
}

/**
 * Puts `node` with `score` into the ranking at chosen[base, base + depth) (scores alongside), which holds
 * `filled` nodes in descending score; returns how many it holds now. Only a strictly higher score moves a
 * node ahead, so ties go to the node inserted first (the smaller id, as nodes come in id order).
 */
function insertRanked(
  chosen: Uint16Array,
  scores: Float64Array,
  base: number,
  filled: number,
  depth: number,
  node: number,
  score: number,
): number {
  if (filled === depth && score <= scores[base + depth - 1]!) return filled;
  let slot = filled < depth ? filled : depth - 1;
  while (slot > 0 && score > scores[base + slot - 1]!) {
    scores[base + slot] = scores[base + slot - 1]!;
    chosen[base + slot] = chosen[base + slot - 1]!;
    slot--;
  }
  scores[base + slot] = score;
  chosen[base + slot] = node;
  return filled < depth ? filled + 1 : filled;
}

export class PartitionPlacement implements Placement {
  readonly segmentCount: number;
  readonly #shift: number;
  readonly #segmentBytes: number;
  readonly #weights: Float64Array;
  readonly #permutations: readonly NodePermutation[];
  readonly #scoreOfRank: Float64Array;
  readonly #owner: Uint16Array;

  constructor(nodes: readonly RingNode[], partitions: number) {
    const bits = Math.log2(partitions);
    this.segmentCount = partitions;
    this.#shift = 32 - bits;
    this.#segmentBytes = RING_SIZE / partitions;
    this.#weights = Float64Array.from(nodes, (node) => node.weight);
    this.#permutations = nodes.map((node) => new NodePermutation(node.id, bits));
    this.#scoreOfRank = scoreTable(partitions);
    this.#owner = this.#assignOwners();
  }

  // Node-major so each node's permutation runs over all partitions in one tight loop. Nodes come in id
  // order and only a strictly higher score displaces, so ties go to the smaller id.
  #assignOwners(): Uint16Array {
    const count = this.segmentCount;
    const owner = new Uint16Array(count);
    const ranks = new Uint16Array(count);
    if (this.#weights.every((weight) => weight === 1)) {
      // All weights 1 (the default): the score is strictly increasing in the rank (and multiplying by 1 is
      // exact), so comparing ranks directly gives the same owners and the same ties, with less work.
      const bestRank = new Int32Array(count).fill(-1);
      for (let node = 0; node < this.#permutations.length; node++) {
        this.#permutations[node]!.applyToAll(ranks);
        for (let partition = 0; partition < count; partition++) {
          const rank = ranks[partition]!;
          if (rank > bestRank[partition]!) {
            bestRank[partition] = rank;
            owner[partition] = node;
          }
        }
      }
      return owner;
    }
    const best = new Float64Array(count).fill(-1);
    for (let node = 0; node < this.#permutations.length; node++) {
      this.#permutations[node]!.applyToAll(ranks);
      const weight = this.#weights[node]!;
      const scoreOfRank = this.#scoreOfRank;
      for (let partition = 0; partition < count; partition++) {
        const score = weight * scoreOfRank[ranks[partition]!]!;
        if (score > best[partition]!) {
          best[partition] = score;
          owner[partition] = node;
        }
      }
    }
    return owner;
  }

  segmentOf(position: number): number {
    return position >>> this.#shift;
  }

  segmentStart(segment: number): number {
    return segment * this.#segmentBytes;
  }

  ownerAt(position: number): number {
    return this.#owner[position >>> this.#shift]!;
  }

  rankAll(depth: number): Uint16Array {
    // rank(), node-major over all segments: the same node order and the same insertion, so the same rankings.
    const count = this.segmentCount;
    const chosen = new Uint16Array(count * depth);
    const scores = new Float64Array(count * depth);
    const filled = new Uint16Array(count);
    const ranks = new Uint16Array(count);
    for (let node = 0; node < this.#permutations.length; node++) {
      this.#permutations[node]!.applyToAll(ranks);
      const weight = this.#weights[node]!;
      for (let segment = 0; segment < count; segment++) {
        const score = weight * this.#scoreOfRank[ranks[segment]!]!;
        filled[segment] = insertRanked(chosen, scores, segment * depth, filled[segment]!, depth, node, score);
      }
    }
    return chosen;
  }

  rank(segment: number, depth: number): Uint16Array {
    const chosen = new Uint16Array(depth);
    const scores = new Float64Array(depth);
    let filled = 0;
    for (let node = 0; node < this.#permutations.length; node++) {
      const score = this.#weights[node]! * this.#scoreOfRank[this.#permutations[node]!.apply(segment)]!;
      filled = insertRanked(chosen, scores, 0, filled, depth, node, score);
    }
    return chosen;
  }
}
