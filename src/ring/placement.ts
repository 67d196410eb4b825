import type { RingNode } from './ring-node.js';

/** Ring positions are integers in [0, RING_SIZE). */
export const RING_SIZE = 2 ** 32;

/**
 * How a ring cuts the position space into segments and ranks the members for each one. Segments are
 * contiguous and ordered: segment i covers [segmentStart(i), segmentStart(i + 1)), the last one ends at
 * RING_SIZE. A segment's ranking is its preference list: its owner first, then the replicas.
 *
 * Every implementation must be a pure function of the member set (nodes arrive sorted by id, and node
 * indexes below refer to that order) and must rank by a per-segment total order over node ids that does
 * not depend on who else is a member. That is what makes movement minimal: adding a node can only put it
 * ahead of others, removing one only lets the next in line move up.
 */
export interface Placement {
  readonly segmentCount: number;
  /** The index of the segment holding `position`. */
  segmentOf(position: number): number;
  segmentStart(segment: number): number;
  /** The owner's node index for `position`: the hot path, so it does the least possible work. */
  ownerAt(position: number): number;
  /** The first `depth` node indexes (distinct, depth <= node count) of the segment's ranking. */
  rank(segment: number, depth: number): Uint16Array;
  /**
   * rank(segment, depth) of every segment at once, in one array: segment s at [s * depth, (s + 1) * depth).
   * Only placements with a bounded segment count have it; one call is far cheaper than a rank() per segment.
   */
  rankAll?(depth: number): Uint16Array;
}

export type PlacementFactory = (nodes: readonly RingNode[]) => Placement;

/**
 * ln(x) for x > 0 computed from IEEE basic operations only (which are exactly rounded everywhere), so
 * weighted placement gives bit-identical results on every machine, unlike Math.log whose last bit may
 * differ between platforms. Accurate to about 1e-16 relative; the ring only needs it to be monotonic and
 * reproducible.
 */
export function portableLn(x: number): number {
  let mantissa = x;
  let exponent = 0;
  while (mantissa > Math.SQRT2) {
    mantissa /= 2;
    exponent++;
  }
  while (mantissa < Math.SQRT1_2) {
    mantissa *= 2;
    exponent--;
  }
  // ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.172 so 12 terms reach double precision.
  const s = (mantissa - 1) / (mantissa + 1);
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let k = 1; k <= 23; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return exponent * Math.LN2 + 2 * sum;
}
