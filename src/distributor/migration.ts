import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { HashRing } from '../ring/hash-ring.js';
import type { StoredRecord } from '../storage/record.js';
import { type CopyGroup, planMove } from './move-plan.js';
import type { NodeClient } from './node-client.js';

/** What GET /cluster and the logs show while a move runs. */
export interface MoveProgress {
  readonly kind: 'add' | 'remove';
  readonly node: string;
  readonly phase: 'counting' | 'copying' | 'switching' | 'dropping';
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
  readonly seconds: number;
}

export interface RunMoveOptions {
  readonly before: HashRing;
  readonly after: HashRing;
  readonly replicas: number;
  readonly clients: ReadonlyMap<string, NodeClient>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly describe: { readonly kind: 'add' | 'remove'; readonly node: string };
  readonly onProgress: (progress: MoveProgress) => void;
  /** Called once every copy is in place: persist and route by the new ring, then wait out old requests. */
  readonly switchRing: () => Promise<void>;
  /** False when resuming a move whose ring already switched: only the drops are left. */
  readonly copy: boolean;
}

const BATCH_RECORDS = 1000;
const BATCH_BYTES = 1024 * 1024;
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
 * Carries out a move: copies every range whose owners change from its old holders to its new ones (in
 * batches, one batch in flight while the next is read, so memory stays bounded), switches the ring, then has
 * the old owners that remain members drop what they gave up. Copies carry versions, so a retried or
 * overlapping copy never overwrites a newer write. A failed stream is retried from its start.
 */
export async function runMove(options: RunMoveOptions): Promise<MoveSummary> {
  const { clients, logger, signal } = options;
  const plan = planMove(options.before, options.after, options.replicas);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let phase: MoveProgress['phase'] = 'counting';
  let keysTotal = 0;
  let rangesMoved = 0;
  let lastError: string | null = null;
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
    const queue = [...plan.copies];
    const worker = async () => {
      for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
        const current = group;
        await untilDone(
          () => copyGroup(current, client, movedByGroup),
          signal,
          failed(`copying from ${current.source}`),
        );
        rangesMoved += current.ranges.length;
        report();
      }
    };
    await Promise.all(Array.from({ length: GROUPS_AT_ONCE }, worker));
    phase = 'switching';
    report();
    await options.switchRing();
  }
}

/** Streams one group's ranges from its source into its targets, one batch in flight while the next is read. */
async function copyGroup(
  group: CopyGroup,
  client: (id: string) => NodeClient,
  movedByGroup: Map<CopyGroup, { keys: number; bytes: number }>,
): Promise<void> {
  const moved = { keys: 0, bytes: 0 };
  movedByGroup.set(group, moved);
  const targets = group.targets.map(client);
  let sending: Promise<void> = Promise.resolve();
  const send = async (records: StoredRecord[], bytes: number) => {
    await sending;
    sending = Promise.all(targets.map((target) => target.applyBatch(records))).then(() => {
      moved.keys += records.length;
      moved.bytes += bytes;
    });
    sending.catch(() => {}); // surfaced by the next await of `sending`
  };
  let batch: StoredRecord[] = [];
  let bytes = 0;
  for await (const records of client(group.source).scan(group.ranges)) {
    for (const record of records) {
      batch.push(record);
      bytes += record.key.length + (record.value?.length ?? 0) + record.version.length;
      if (batch.length >= BATCH_RECORDS || bytes >= BATCH_BYTES) {
        await send(batch, bytes);
        batch = [];
        bytes = 0;
      }
    }
  }
  if (batch.length > 0) await send(batch, bytes);
  await sending;
}
