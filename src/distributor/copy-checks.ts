import type { DigestAnswer, PositionRange } from '../node/protocol.js';
import type { CopyGroup, MovePlan } from './move-plan.js';

/**
 * Ranges in one digest request. A node digests a range in about 12 µs plus 4 µs a record (measured) and
 * yields every 50 ranges, so a request holds its event loop a few milliseconds at a time. Two nodes digest
 * at a time: every node at once (with an older, slower digest) stalled clients for over a second.
 */
const RANGES_PER_REQUEST = 400;
const NODES_AT_ONCE = 2;

/** Asks node `id` for its digests of `ranges`, in their order. */
type DigestRanges = (id: string, ranges: readonly PositionRange[]) => Promise<DigestAnswer['digests']>;

/**
 * A move's checks (see planMove), run while the copy goes on: once a copy group is delivered, its ranges'
 * verifiers digest them, two nodes at a time, so checking overlaps copying instead of following it, and each
 * digest is compared with the source's digest of what it sent (hashed as it streamed: the new holders need
 * not read the range again). finish() waits for the last digests and answers the copies the differences call
 * for: from each verifier whose digest of a range differs from the source's, that range to the range's new
 * holders, grouped per verifier and targets. Empty when every replica is in step.
 */
export class CopyChecks {
  readonly #plan: MovePlan;
  readonly #digest: DigestRanges;
  /** A check's index by the start of its range. */
  readonly #checkAt = new Map<number, number>();
  /** Per check, the source's digest of what it sent. */
  readonly #sent = new Map<number, string>();
  /** Per verifier, the checks whose ranges it has yet to digest. */
  readonly #pending = new Map<string, number[]>();
  readonly #busy = new Set<string>();
  readonly #digests = new Map<string, Map<number, string>>();
  readonly #workers = new Set<Promise<void>>();
  #failure: unknown;

  /** `digest` asks a node for its digests of ranges (retrying as the move retries). */
  constructor(plan: MovePlan, digest: DigestRanges) {
    this.#plan = plan;
    this.#digest = digest;
    for (const [index, check] of plan.checks.entries()) this.#checkAt.set(check.range.from, index);
  }

  /** The group's ranges are in place on its targets, `digests` (in the group's order) what they sent. */
  delivered(group: CopyGroup, digests: DigestAnswer['digests']): void {
    for (const [offset, range] of group.ranges.entries()) {
      const index = this.#checkAt.get(range.from);
      if (index === undefined) continue;
      const [count, hash] = digests[offset]!;
      this.#sent.set(index, `${count} ${hash}`);
      for (const id of this.#plan.checks[index]!.verifiers) {
        const list = this.#pending.get(id);
        if (list === undefined) this.#pending.set(id, [index]);
        else list.push(index);
      }
    }
    this.#startWorkers();
  }

  /** Waits for every delivered group's checks; the copies they call for. */
  async finish(): Promise<CopyGroup[]> {
    for (;;) {
      while (this.#workers.size > 0) await Promise.all(this.#workers);
      if (this.#failure !== undefined) throw this.#failure;
      // Checks delivered just as a worker stopped wait for none: start workers for them.
      if (this.#nextNode() === undefined) break;
      this.#startWorkers();
    }
    const mends = new Map<string, CopyGroup & { ranges: PositionRange[] }>();
    for (const [index, { range, verifiers, targets }] of this.#plan.checks.entries()) {
      const sent = this.#sent.get(index);
      for (const verifier of verifiers) {
        const theirs = this.#digests.get(verifier)?.get(index);
        if (theirs !== undefined && theirs === sent) continue;
        const key = `${verifier}\n${targets.join('\n')}`;
        const group = mends.get(key);
        if (group === undefined) mends.set(key, { source: verifier, targets, ranges: [range] });
        else group.ranges.push(range);
      }
    }
    return [...mends.values()];
  }

  #startWorkers(): void {
    while (this.#workers.size < NODES_AT_ONCE && this.#nextNode() !== undefined) {
      const worker: Promise<void> = this.#work().then(
        () => void this.#workers.delete(worker),
        (error: unknown) => {
          this.#failure ??= error;
          this.#workers.delete(worker);
        },
      );
      this.#workers.add(worker);
    }
  }

  /** The idle node with the most checks waiting. */
  #nextNode(): string | undefined {
    let best: string | undefined;
    for (const [id, list] of this.#pending) {
      if (list.length === 0 || this.#busy.has(id)) continue;
      if (best === undefined || list.length > this.#pending.get(best)!.length) best = id;
    }
    return best;
  }

  async #work(): Promise<void> {
    for (let id = this.#nextNode(); id !== undefined && this.#failure === undefined; id = this.#nextNode()) {
      this.#busy.add(id);
      try {
        const list = this.#pending.get(id)!;
        const chunk = list.splice(0, RANGES_PER_REQUEST);
        const answer = await this.#digest(
          id,
          chunk.map((index) => this.#plan.checks[index]!.range),
        );
        let mine = this.#digests.get(id);
        if (mine === undefined) {
          mine = new Map();
          this.#digests.set(id, mine);
        }
        for (const [offset, [count, hash]] of answer.entries()) mine.set(chunk[offset]!, `${count} ${hash}`);
      } finally {
        this.#busy.delete(id);
      }
    }
  }
}
