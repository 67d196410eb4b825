import { RingKvError } from '../errors.js';
import { assertPlainObject, integerInRange, rejectUnknownKeys } from '../validate.js';
import { hashKey, type Key } from './hash.js';
import { PartitionPlacement } from './partition-placement.js';
import { type Placement, RING_SIZE } from './placement.js';
import { type NodeSpec, normalizeNode, type RingNode } from './ring-node.js';
import { TokenPlacement } from './token-placement.js';

export interface HashRingOptions {
  /**
   * Equal-size partitions the position space is cut into: a power of two in [16, 65536]. Default 65536.
   * The default placement; see docs/RING.md for why.
   */
  readonly partitions?: number;
  /**
   * Use the classic token ring instead, with this many virtual nodes per unit of weight: an integer in
   * [1, 10000]. Cannot be combined with `partitions`.
   */
  readonly vnodes?: number;
}

/** How a ring places keys, as stored in membership files and shown to users. */
export type PlacementSettings =
  | { readonly kind: 'partitions'; readonly partitions: number }
  | { readonly kind: 'tokens'; readonly vnodes: number };

/** A range of positions [from, to) whose preference list differs between two rings. */
export interface MovedRange {
  readonly from: number;
  readonly to: number;
  readonly before: readonly string[];
  readonly after: readonly string[];
}

export const RING_NODES_MAX = 1024;
export const PARTITIONS_DEFAULT = 65_536;
const PARTITIONS_MIN = 16;
const VNODES_MAX = 10_000;
const TOKENS_MAX = 1 << 22;
/** Rankings up to this depth are cached per segment; replication factors are far smaller. */
const RANK_CACHE_DEPTH = 8;
const FULL_RING = { from: 0, to: RING_SIZE } as const;

function settingsFrom(options: unknown): PlacementSettings {
  assertPlainObject(options, 'HashRing options');
  rejectUnknownKeys(options, ['partitions', 'vnodes'], 'HashRing');
  const { partitions, vnodes } = options as HashRingOptions;
  if (vnodes !== undefined) {
    if (partitions !== undefined) {
      throw new RingKvError(
        'RINGKV_ERR_INVALID_OPTION',
        'HashRing: set either partitions or vnodes, not both',
      );
    }
    return { kind: 'tokens', vnodes: integerInRange(vnodes, 'HashRing vnodes', 1, VNODES_MAX) };
  }
  if (partitions === undefined) return { kind: 'partitions', partitions: PARTITIONS_DEFAULT };
  integerInRange(partitions, 'HashRing partitions', PARTITIONS_MIN, PARTITIONS_DEFAULT);
  if ((partitions & (partitions - 1)) !== 0) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `HashRing partitions must be a power of two, got ${partitions}`,
    );
  }
  return { kind: 'partitions', partitions };
}

function sortedMembers(specs: unknown): RingNode[] {
  if (!Array.isArray(specs)) {
    throw new RingKvError('RINGKV_ERR_INVALID_NODE', 'HashRing nodes must be an array');
  }
  if (specs.length > RING_NODES_MAX) {
    throw new RingKvError('RINGKV_ERR_INVALID_NODE', `a ring holds at most ${RING_NODES_MAX} nodes`);
  }
  const members = specs.map(normalizeNode).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < members.length; i++) {
    if (members[i]!.id === members[i - 1]!.id) {
      throw new RingKvError('RINGKV_ERR_DUPLICATE_NODE', `duplicate node id "${members[i]!.id}"`, {
        node: members[i]!.id,
      });
    }
  }
  return members;
}

function buildPlacement(members: readonly RingNode[], settings: PlacementSettings): Placement {
  if (settings.kind === 'partitions') return new PartitionPlacement(members, settings.partitions);
  const tokens = members.reduce(
    (sum, node) => sum + Math.max(1, Math.round(settings.vnodes * node.weight)),
    0,
  );
  if (tokens > TOKENS_MAX) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `HashRing: ${tokens} tokens exceed the limit of ${TOKENS_MAX}; lower vnodes or weights`,
    );
  }
  return new TokenPlacement(members, settings.vnodes);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * Consistent hashing: which members own a key, and which ranges move when membership changes.
 *
 * A ring is an immutable value and a pure function of its member set and settings: rings built from the
 * same members place every key identically, whatever order the members were given or added in, on any
 * machine. Positions come from `hashKey` (MurmurHash3 x86_32 of the key's UTF-8 bytes).
 */
export class HashRing {
  /** The members, sorted by id. */
  readonly nodes: readonly RingNode[];
  readonly settings: PlacementSettings;
  readonly #ids: readonly string[];
  readonly #placement: Placement;
  readonly #rankCache: (Uint16Array | undefined)[];
  /** Every segment's ranking, RANK_CACHE_DEPTH deep, for placements that rank all segments at once. */
  #rankTable: Uint16Array | undefined;

  constructor(nodes: readonly NodeSpec[], options: HashRingOptions = {}) {
    this.settings = settingsFrom(options);
    this.nodes = Object.freeze(sortedMembers(nodes).map((node) => Object.freeze(node)));
    this.#ids = this.nodes.map((node) => node.id);
    this.#placement = buildPlacement(this.nodes, this.settings);
    // Per-segment rankings, for placements that cannot rank every segment at once (#rankTable).
    this.#rankCache = this.#placement.rankAll === undefined ? new Array(this.#placement.segmentCount) : [];
  }

  get size(): number {
    return this.nodes.length;
  }

  has(id: string): boolean {
    return this.#ids.includes(id);
  }

  /** The key's position on the ring, an integer in [0, 2^32). Storage nodes index records by it. */
  position(key: Key): number {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', 'a key is a string or a Uint8Array');
    }
    return hashKey(key);
  }

  /** The id of the member that owns `key`. Throws RINGKV_ERR_RING_EMPTY on an empty ring. */
  ownerOf(key: Key): string {
    if (this.#ids.length === 0) throw new RingKvError('RINGKV_ERR_RING_EMPTY', 'the ring has no nodes');
    return this.#ids[this.#placement.ownerAt(this.position(key))]!;
  }

  /** `n` distinct member ids for `key`: the owner first, then the replicas in order. */
  preferenceList(key: Key, n: number): string[] {
    return this.preferenceListAt(this.position(key), n);
  }

  /** The preference list of a position in [0, 2^32). */
  preferenceListAt(position: number, n: number): string[] {
    if (this.#ids.length === 0) throw new RingKvError('RINGKV_ERR_RING_EMPTY', 'the ring has no nodes');
    integerInRange(position, 'position', 0, RING_SIZE - 1, 'RINGKV_ERR_INVALID_ARGUMENT');
    if (!Number.isInteger(n) || n < 1) {
      throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', `n must be a positive integer, got ${String(n)}`);
    }
    if (n > this.#ids.length) {
      throw new RingKvError(
        'RINGKV_ERR_TOO_FEW_NODES',
        `asked for ${n} distinct nodes but the ring has ${this.#ids.length}`,
        { requested: n, nodes: this.#ids.length },
      );
    }
    return this.#rankIds(this.#placement.segmentOf(position), n);
  }

  #rankIds(segment: number, n: number): string[] {
    const depth = Math.min(this.#ids.length, RANK_CACHE_DEPTH);
    if (n <= depth && this.#placement.rankAll !== undefined) {
      // Built on the first lookup: a move plans over every segment of a new ring, and ranking them one at a
      // time allocated two typed arrays each (planning an add took 93-135 ms cold that way, 44-64 ms now).
      this.#rankTable ??= this.#placement.rankAll(depth);
      const ids = new Array<string>(n);
      const base = segment * depth;
      for (let i = 0; i < n; i++) ids[i] = this.#ids[this.#rankTable[base + i]!]!;
      return ids;
    }
    let ranking: Uint16Array;
    if (n <= depth) {
      ranking = this.#rankCache[segment] ??= this.#placement.rank(segment, depth);
    } else {
      ranking = this.#placement.rank(segment, n);
    }
    const ids = new Array<string>(n);
    for (let i = 0; i < n; i++) ids[i] = this.#ids[ranking[i]!]!;
    return ids;
  }

  withNode(node: NodeSpec): HashRing {
    return new HashRing([...this.nodes, node], this.#options());
  }

  withoutNode(id: string): HashRing {
    if (!this.has(id))
      throw new RingKvError('RINGKV_ERR_UNKNOWN_NODE', `no node "${id}" in the ring`, { node: id });
    return new HashRing(
      this.nodes.filter((node) => node.id !== id),
      this.#options(),
    );
  }

  #options(): HashRingOptions {
    return this.settings.kind === 'partitions'
      ? { partitions: this.settings.partitions }
      : { vnodes: this.settings.vnodes };
  }

  /**
   * The plan a data migration follows: every range [from, to) whose first `n` preference-list entries
   * differ between this ring and `next`, with both lists, in position order. Adjacent ranges with the
   * same change are merged; ranges never wrap. Lists are shortened to the members a ring has. With
   * `window`, only positions in [window.from, window.to) are planned, so a caller can plan a big ring in
   * slices and stay responsive in between.
   */
  movedRanges(
    next: HashRing,
    n = 1,
    window: { readonly from: number; readonly to: number } = FULL_RING,
  ): MovedRange[] {
    integerInRange(n, 'n', 1, RING_NODES_MAX, 'RINGKV_ERR_INVALID_ARGUMENT');
    integerInRange(window.from, 'window.from', 0, RING_SIZE - 1, 'RINGKV_ERR_INVALID_ARGUMENT');
    integerInRange(window.to, 'window.to', window.from + 1, RING_SIZE, 'RINGKV_ERR_INVALID_ARGUMENT');
    const moved: { from: number; to: number; before: string[]; after: string[] }[] = [];
    const boundaries = HashRing.#mergedStarts(this, next, window);
    for (let i = 0; i < boundaries.length; i++) {
      const from = boundaries[i]!;
      const to = boundaries[i + 1] ?? window.to;
      const before = this.#listAt(from, n);
      const after = next.#listAt(from, n);
      if (sameList(before, after)) continue;
      const last = moved.at(-1);
      if (
        last !== undefined &&
        last.to === from &&
        sameList(last.before, before) &&
        sameList(last.after, after)
      ) {
        last.to = to;
      } else {
        moved.push({ from, to, before, after });
      }
    }
    return moved;
  }

  /**
   * The sorted union, without repeats, of two rings' segment starts within (window.from, window.to), after
   * window.from itself. Segments are in ring order, so each ring's part of the window is found by binary
   * search and the union is one merge: planning a slice costs what is in the slice, not the whole ring.
   */
  static #mergedStarts(
    a: HashRing,
    b: HashRing,
    window: { readonly from: number; readonly to: number },
  ): Float64Array {
    const [aFirst, aEnd] = a.#segmentsInside(window);
    const [bFirst, bEnd] = b.#segmentsInside(window);
    const all = new Float64Array(1 + (aEnd - aFirst) + (bEnd - bFirst));
    all[0] = window.from;
    let count = 1;
    for (let i = aFirst, j = bFirst; i < aEnd || j < bEnd; ) {
      const left = i < aEnd ? a.#placement.segmentStart(i) : Number.POSITIVE_INFINITY;
      const right = j < bEnd ? b.#placement.segmentStart(j) : Number.POSITIVE_INFINITY;
      let start: number;
      if (left <= right) {
        start = left;
        i++;
      } else {
        start = right;
        j++;
      }
      if (start !== all[count - 1]) all[count++] = start;
    }
    return all.subarray(0, count);
  }

  /** The indexes [first, end) of the segments that start strictly inside (window.from, window.to). */
  #segmentsInside(window: { readonly from: number; readonly to: number }): [number, number] {
    if (this.#ids.length === 0) return [0, 0];
    // The first segment starting after `position` (or at it too, when `orAt`).
    const firstAfter = (position: number, orAt: boolean) => {
      let low = 0;
      let high = this.#placement.segmentCount;
      while (low < high) {
        const middle = (low + high) >>> 1;
        const start = this.#placement.segmentStart(middle);
        if (start < position || (!orAt && start === position)) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    return [firstAfter(window.from, false), firstAfter(window.to, true)];
  }

  #listAt(position: number, n: number): string[] {
    const length = Math.min(n, this.#ids.length);
    if (length === 0) return [];
    // The owner alone needs no ranking: the placement's owner table answers at once.
    if (length === 1) return [this.#ids[this.#placement.ownerAt(position)]!];
    return this.#rankIds(this.#placement.segmentOf(position), length);
  }

  /**
   * Every range [from, to) of the ring with its first `n` preference-list entries (shortened to the members
   * the ring has), in position order, adjacent ranges with the same list merged: what each replica set holds.
   */
  ranges(n = 1): { readonly from: number; readonly to: number; readonly nodes: readonly string[] }[] {
    integerInRange(n, 'n', 1, RING_NODES_MAX, 'RINGKV_ERR_INVALID_ARGUMENT');
    const ranges: { from: number; to: number; nodes: string[] }[] = [];
    if (this.#ids.length === 0) return ranges;
    const count = this.#placement.segmentCount;
    for (let segment = 0; segment < count; segment++) {
      const from = this.#placement.segmentStart(segment);
      const to = segment + 1 < count ? this.#placement.segmentStart(segment + 1) : RING_SIZE;
      if (from === to) continue;
      const nodes = this.#listAt(from, n);
      const last = ranges.at(-1);
      if (last !== undefined && sameList(last.nodes, nodes)) last.to = to;
      else ranges.push({ from, to, nodes });
    }
    return ranges;
  }

  /** The fraction of the position space each member owns (as first in the preference list). */
  shares(): Map<string, number> {
    const shares = new Map<string, number>(this.#ids.map((id) => [id, 0]));
    if (this.#ids.length === 0) return shares;
    const count = this.#placement.segmentCount;
    for (let segment = 0; segment < count; segment++) {
      const end = segment + 1 < count ? this.#placement.segmentStart(segment + 1) : RING_SIZE;
      const start = this.#placement.segmentStart(segment);
      const id = this.#ids[this.#placement.ownerAt(start)]!;
      shares.set(id, shares.get(id)! + (end - start) / RING_SIZE);
    }
    return shares;
  }

  toJSON(): { readonly settings: PlacementSettings; readonly nodes: readonly RingNode[] } {
    return { settings: this.settings, nodes: this.nodes };
  }
}
