import type { PositionRange } from '../node/protocol.js';
import type { HashRing, MovedRange } from '../ring/hash-ring.js';
import { RING_SIZE } from '../ring/placement.js';

/** Planning yields to the event loop this many times: each slice of 65,536 partitions costs 1-3 ms. */
const PLAN_SLICES = 64;

/** One stream of a move: everything `source` sends to `targets`. */
export interface CopyGroup {
  readonly source: string;
  readonly targets: readonly string[];
  readonly ranges: readonly PositionRange[];
}

/** A range to compare, once copied, between each node that newly holds it and more of its old holders. */
export interface RangeCheck {
  readonly range: PositionRange;
  readonly targets: readonly string[];
  readonly verifiers: readonly string[];
}

export interface MovePlan {
  readonly copies: readonly CopyGroup[];
  /** After the copies: ranges whose new holders must match N - W more old holders (see planMove). */
  readonly checks: readonly RangeCheck[];
  /** After the switch, what each node that stays a member no longer owns. */
  readonly drops: ReadonlyMap<string, readonly PositionRange[]>;
  /** Ranges whose preference lists change. */
  readonly rangeCount: number;
}

/**
 * Plans a move from `before` to `after` for `replicas` copies per key (N) written with a quorum of
 * `writeQuorum` (W). A write is acknowledged only once W of its old holders have it (hints come on top and do
 * not count), so any N - W + 1 of them include one with the newest acknowledged state. Every range whose
 * preference list changes is therefore copied to each node that newly holds it from one of its old holders
 * (the source), and then checked against N - W others (the verifiers): where a verifier's digest of the
 * range differs from the digest of what the source sent, the verifier sends its copy too (runMove). The new holder so ends
 * with the newest of N - W + 1 holders, as if all had sent it the range, while in the usual case (every
 * replica in step) each record travels once and the others are only read and hashed. Versions make repeats
 * and overlaps harmless. Sources and verifiers rotate from range to range to share the work, and copies are
 * grouped so each source streams all its ranges for the same targets in one scan. Depends only on its inputs.
 */
export async function planMove(
  before: HashRing,
  after: HashRing,
  replicas: number,
  writeQuorum: number,
): Promise<MovePlan> {
  // In slices, yielding in between: planning 65,536 partitions must not stall the distributor's requests.
  const moved: MovedRange[] = [];
  for (let slice = 0; slice < PLAN_SLICES; slice++) {
    const window = { from: (slice * RING_SIZE) / PLAN_SLICES, to: ((slice + 1) * RING_SIZE) / PLAN_SLICES };
    moved.push(...before.movedRanges(after, replicas, window));
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Source, then targets: node ids are the ring's own strings, so the lookups hash no new string (a move
  // has tens of thousands of ranges, and one new node is nearly always the only target).
  const copies = new Map<
    string,
    Map<string, { source: string; targets: string[]; ranges: PositionRange[] }>
  >();
  const drops = new Map<string, PositionRange[]>();
  const checks: RangeCheck[] = [];
  const holdersConsulted = Math.max(1, replicas - writeQuorum + 1);
  for (const [index, range] of moved.entries()) {
    const span = { from: range.from, to: range.to };
    const targets = range.after.filter((id) => !range.before.includes(id));
    if (targets.length > 0) {
      const targetsKey = targets.length === 1 ? targets[0]! : targets.join('\n');
      const holders = range.before;
      const source = holders[index % holders.length]!;
      let bySource = copies.get(source);
      if (bySource === undefined) {
        bySource = new Map();
        copies.set(source, bySource);
      }
      const group = bySource.get(targetsKey);
      if (group === undefined) bySource.set(targetsKey, { source, targets, ranges: [span] });
      else group.ranges.push(span);
      const verifiers: string[] = [];
      for (let k = 1; k < Math.min(holders.length, holdersConsulted); k++)
        verifiers.push(holders[(index + k) % holders.length]!);
      if (verifiers.length > 0) checks.push({ range: span, targets, verifiers });
    }
    for (const id of range.before) {
      if (range.after.includes(id) || !after.has(id)) continue;
      const list = drops.get(id);
      if (list === undefined) drops.set(id, [span]);
      else list.push(span);
    }
  }
  return {
    copies: [...copies.values()].flatMap((bySource) => [...bySource.values()]),
    checks,
    drops,
    rangeCount: moved.length,
  };
}

/**
 * The records `plan`'s copies will send, from the `recordsHeld` by all old holders together (`copies` of each
 * key): keys are placed by hash, so a range holds its width's share of the keys.
 */
export function estimateCopies(plan: MovePlan, recordsHeld: number, copies: number): number {
  let width = 0;
  for (const group of plan.copies) for (const { from, to } of group.ranges) width += to - from;
  return Math.round((recordsHeld / copies) * (width / RING_SIZE));
}
