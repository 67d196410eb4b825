import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PushResult } from '../node/push.js';
import type { HashRing } from '../ring/hash-ring.js';
import { CopyChecks } from './copy-checks.js';
import { type CopyGroup, estimateCopies, planMove } from './move-plan.js';
import type { NodeClient } from './node-client.js';

/** What GET /cluster and the logs show while a move runs. */
export interface MoveProgress {
  readonly kind: 'add' | 'remove';
  readonly node: string;
  readonly phase: 'counting' | 'copying' | 'checking' | 'switching' | 'dropping';
  readonly rangesTotal: number;
  readonly rangesMoved: number;
  readonly keysTotal: number;
  readonly keysMoved: number;
  readonly keysToGo: number;
  readonly bytesMoved: number;
  readonly keysPerSecond: number;
  readonly etaSeconds: number | null;
  /** The speed pushes starting now may take: the limit, slowed while clients' requests are slow. */
  readonly keysPerSecondAllowed: number;
  readonly startedAt: string;
  readonly lastError: string | null;
}

export interface MoveSummary {
  readonly rangesMoved: number;
  readonly keysMoved: number;
  readonly bytesMoved: number;
  /** Counting and copying, until the ring switched. */
  readonly copySeconds: number;
  /** The whole move, the old owners' drops included. */
  readonly seconds: number;
}

export interface RunMoveOptions {
  readonly before: HashRing;
  readonly after: HashRing;
  readonly replicas: number;
  /** W: a range is copied from one old holder and checked against N - W more (see planMove). */
  readonly writeQuorum: number;
  readonly clients: ReadonlyMap<string, NodeClient>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly describe: { readonly kind: 'add' | 'remove'; readonly node: string };
  readonly onProgress: (progress: MoveProgress) => void;
  /** Called once every copy is in place: persist and route by the new ring, then wait out old requests. */
  readonly switchRing: () => Promise<void>;
  /** False when resuming a move whose ring already switched: only the drops are left. */
  readonly copy: boolean;
  /** The copy's speed limit for the whole move, shared by its concurrent streams. */
  readonly keysPerSecond: number;
  /** The share of that limit a push starting now may take, in (0, 1] (the MovePacer's); default 1. */
  readonly pace?: () => number;
  /**
   * Records (tombstones included) on all old holders together, from their latest stats; undefined when some
   * node's are missing. The keys to move are estimated from it, rather than counted range by range.
   */
  readonly recordsHeld?: () => number | undefined;
}

/**
 * Ranges in one push at full pace (fewer as the pace slows, at least PUSH_RANGES_MIN, so a slow push soon
 * makes way for one at the new pace). A source's share goes as many pushes, so the sources' streams stay
 * even to the end of the copy and the checks of each push run while the rest is still copying.
 */
const PUSH_RANGES = 250;
const PUSH_RANGES_MIN = 16;
/** Pushes at once, at most one per source node. */
const STREAMS_MAX = 8;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
const DROP_ATTEMPTS = 5;

/** Runs `task` until it succeeds, backing off between failures; stops only when `signal` aborts. */
async function untilDone<T>(
  task: () => Promise<T>,
  signal: AbortSignal,
  onError: (error: unknown) => void,
  attempts = Infinity,
): Promise<T> {
  let delay = RETRY_MIN_MS;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await task();
    } catch (error) {
      if (signal.aborted || attempt >= attempts) throw error;
      onError(error);
      await sleep(delay, undefined, { signal });
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }
}

/**
 * Carries out a move: has one old holder of each range whose owners change push it straight to the new
 * holders (node to node, in bounded batches), compares the digest of what it sent of each range with those of
 * N - W more old holders and has any that differ push theirs too (see planMove), switches the ring, then has
 * the old owners that remain members drop what they gave up. Copies carry versions, so a retried or
 * overlapping copy never overwrites a newer write. A failed push is retried from its start.
 */
export async function runMove(options: RunMoveOptions): Promise<MoveSummary> {
  const { clients, logger, signal } = options;
  const plan = await planMove(options.before, options.after, options.replicas, options.writeQuorum);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let phase: MoveProgress['phase'] = 'counting';
  let keysTotal = 0;
  let rangesMoved = 0;
  let lastError: string | null = null;
  let copySeconds = 0;
  const movedByGroup = new Map<CopyGroup, { keys: number; bytes: number }>();
  const client = (id: string) => {
    const found = clients.get(id);
    if (found === undefined) throw new Error(`no client for node ${id}`);
    return found;
  };
  const snapshot = (): MoveProgress => {
    let keysMoved = 0;
    let bytesMoved = 0;
    for (const moved of movedByGroup.values()) {
      keysMoved += moved.keys;
      bytesMoved += moved.bytes;
    }
    const seconds = (performance.now() - started) / 1000;
    const keysPerSecond = seconds > 0 ? keysMoved / seconds : 0;
    const keysToGo = Math.max(0, keysTotal - keysMoved);
    return {
      ...options.describe,
      phase,
      rangesTotal: plan.rangeCount,
      rangesMoved,
      keysTotal,
      keysMoved,
      keysToGo,
      bytesMoved,
      keysPerSecond: Math.round(keysPerSecond),
      etaSeconds: phase !== 'copying' ? null : keysPerSecond > 0 ? Math.ceil(keysToGo / keysPerSecond) : null,
      keysPerSecondAllowed: Math.round(options.keysPerSecond * (options.pace?.() ?? 1)),
      startedAt,
      lastError,
    };
  };
  const report = () => options.onProgress(snapshot());
  const failed = (what: string) => (error: unknown) => {
    lastError = `${what}: ${(error as Error).message}`;
    logger.warn({ err: error }, `move: ${what} failed; retrying`);
    report();
  };
  const ticker = setInterval(() => {
    report();
    logger.info(snapshot(), 'move progress');
  }, 1000);
  report();
  try {
    if (options.copy) await copyAndSwitch();
    phase = 'dropping';
    report();
    // One node at a time: dropping is background cleanup, and clients share the same CPUs.
    for (const [id, ranges] of plan.drops) {
      try {
        await untilDone(() => client(id).drop(ranges), signal, failed(`dropping on ${id}`), DROP_ATTEMPTS);
      } catch (error) {
        // The move is complete; leftover copies only cost space on a node that no longer serves them.
        logger.error({ node: id, err: error }, 'move: could not drop ranges the node gave up');
      }
    }
  } finally {
    clearInterval(ticker);
  }
  const final = snapshot();
  return {
    rangesMoved: final.rangesMoved,
    keysMoved: final.keysMoved,
    bytesMoved: final.bytesMoved,
    copySeconds,
    seconds: (performance.now() - started) / 1000,
  };

  async function copyAndSwitch(): Promise<void> {
    keysTotal = await keysToMove();
    phase = 'copying';
    report();
    const checks = new CopyChecks(plan, (id, ranges) =>
      untilDone(() => client(id).digest(ranges), signal, failed(`checking copies on ${id}`)),
    );
    await copyAll(plan.copies, (group, digests) => {
      rangesMoved += group.ranges.length;
      checks.delivered(group, digests);
    });
    phase = 'checking';
    report();
    const mends = await checks.finish();
    if (mends.length > 0) {
      logger.info(
        { groups: mends.length, ranges: mends.reduce((sum, group) => sum + group.ranges.length, 0) },
        'move: copies differ from other old holders; they send theirs too',
      );
      await copyAll(mends);
    }
    phase = 'switching';
    report();
    await options.switchRing();
    copySeconds = (performance.now() - started) / 1000;
  }

  /**
   * The records the copies will send. Keys spread evenly over the ring (they are placed by hash), so with
   * the holders' record counts at hand this is their share of the ring times the keys held, within 2% (as
   * move-plan.test.ts checks) and at no cost; counting range by range costs the sources about 33 µs a range, all at once, and
   * stalled clients at the start of a move. Counted only when some holder's stats are missing.
   */
  async function keysToMove(): Promise<number> {
    const held = options.recordsHeld?.();
    if (held !== undefined) {
      return estimateCopies(plan, held, Math.min(options.replicas, options.before.nodes.length));
    }
    let total = 0;
    for (const group of plan.copies)
      total += await untilDone(
        () => client(group.source).count(group.ranges),
        signal,
        failed(`counting on ${group.source}`),
      );
    return total;
  }

  /**
   * Runs copy groups as pushes of up to PUSH_RANGES ranges, one at a time per source and up to STREAMS_MAX
   * at once, the source with the most ranges left going first. Each push takes an even share, among the
   * sources with work left, of the speed limit times the pace at its start. `onDelivered` hears of each push
   * once it is in place, with what it sent.
   */
  async function copyAll(
    groups: readonly CopyGroup[],
    onDelivered?: (group: CopyGroup, digests: PushResult['digests']) => void,
  ): Promise<void> {
    /** Per source, its groups, where the next push starts in the first, and how many ranges are left. */
    const left = new Map<string, { groups: CopyGroup[]; offset: number; ranges: number }>();
    for (const group of groups) {
      const entry = left.get(group.source);
      if (entry === undefined)
        left.set(group.source, { groups: [group], offset: 0, ranges: group.ranges.length });
      else {
        entry.groups.push(group);
        entry.ranges += group.ranges.length;
      }
    }
    const busy = new Set<string>();
    const next = (count: number): CopyGroup | undefined => {
      let best: { groups: CopyGroup[]; offset: number; ranges: number } | undefined;
      for (const [source, entry] of left)
        if (!busy.has(source) && entry.ranges > 0 && entry.ranges > (best?.ranges ?? 0)) best = entry;
      if (best === undefined) return undefined;
      const group = best.groups[0]!;
      const push = { ...group, ranges: group.ranges.slice(best.offset, best.offset + count) };
      best.offset += push.ranges.length;
      if (best.offset === group.ranges.length) {
        best.groups.shift();
        best.offset = 0;
      }
      best.ranges -= push.ranges.length;
      return push;
    };
    const worker = async () => {
      for (;;) {
        const pace = Math.min(1, Math.max(0, options.pace?.() ?? 1));
        const push = next(Math.max(PUSH_RANGES_MIN, Math.round(PUSH_RANGES * pace)));
        if (push === undefined) return;
        busy.add(push.source);
        let sources = 0;
        for (const [source, entry] of left) if (entry.ranges > 0 || busy.has(source)) sources++;
        const share = Math.max(1, (options.keysPerSecond * pace) / Math.min(STREAMS_MAX, sources));
        try {
          const digests = await untilDone(
            () => copyGroup(push, client, movedByGroup, share),
            signal,
            failed(`copying from ${push.source}`),
          );
          onDelivered?.(push, digests);
        } finally {
          busy.delete(push.source);
        }
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(STREAMS_MAX, left.size) }, worker));
  }
}

/**
 * Has the group's source push its ranges straight to the targets (the data does not pass through here);
 * answers the digests of what each range sent.
 */
async function copyGroup(
  group: CopyGroup,
  client: (id: string) => NodeClient,
  movedByGroup: Map<CopyGroup, { keys: number; bytes: number }>,
  keysPerSecond: number,
): Promise<PushResult['digests']> {
  const moved = { keys: 0, bytes: 0 };
  movedByGroup.set(group, moved);
  const targets = group.targets.map((id) => client(id).url);
  const total = await client(group.source).push(group.ranges, targets, keysPerSecond, (progress) => {
    moved.keys = progress.keys;
    moved.bytes = progress.bytes;
  });
  moved.keys = total.keys;
  moved.bytes = total.bytes;
  return total.digests;
}
