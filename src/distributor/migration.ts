import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { HashRing } from '../ring/hash-ring.js';
import { CopyChecks } from './copy-checks.js';
import { type CopyGroup, planMove } from './move-plan.js';
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
}

const GROUPS_AT_ONCE = 2;
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
 * holders (node to node, in bounded batches), compares the new holders' digests of each range with those of
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
    for (const group of plan.copies) {
      keysTotal += await untilDone(
        () => client(group.source).count(group.ranges),
        signal,
        failed(`counting on ${group.source}`),
      );
    }
    phase = 'copying';
    report();
    const checks = new CopyChecks(plan, (id, ranges) =>
      untilDone(() => client(id).digest(ranges), signal, failed(`checking copies on ${id}`)),
    );
    await copyAll(plan.copies, (group) => {
      rangesMoved += group.ranges.length;
      checks.delivered(group);
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

  /** Runs copy groups, two at a time; `onDelivered` hears of each once it is in place. */
  async function copyAll(
    groups: readonly CopyGroup[],
    onDelivered?: (group: CopyGroup) => void,
  ): Promise<void> {
    const queue = [...groups];
    const worker = async () => {
      for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
        const current = group;
        await untilDone(
          () => copyGroup(current, client, movedByGroup, options.keysPerSecond / GROUPS_AT_ONCE),
          signal,
          failed(`copying from ${current.source}`),
        );
        onDelivered?.(current);
        report();
      }
    };
    await Promise.all(Array.from({ length: GROUPS_AT_ONCE }, worker));
  }
}

/** Has the group's source push its ranges straight to the targets; the data does not pass through here. */
async function copyGroup(
  group: CopyGroup,
  client: (id: string) => NodeClient,
  movedByGroup: Map<CopyGroup, { keys: number; bytes: number }>,
  keysPerSecond: number,
): Promise<void> {
  const moved = { keys: 0, bytes: 0 };
  movedByGroup.set(group, moved);
  const targets = group.targets.map((id) => client(id).url);
  const total = await client(group.source).push(group.ranges, targets, keysPerSecond, (progress) => {
    moved.keys = progress.keys;
    moved.bytes = progress.bytes;
  });
  moved.keys = total.keys;
  moved.bytes = total.bytes;
}
