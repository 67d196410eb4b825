import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { RingKvError } from '../errors.js';
import { CLUSTER_SECRET_HEADER } from '../security/secrets.js';
import type { PositionRange, StorageEngine } from '../storage/engine.js';
import { RangeDigest } from '../storage/range-digest.js';
import { type DigestAnswer, RECORDS_CONTENT_TYPE } from './protocol.js';

export interface PushProgress {
  readonly keys: number;
  /** Bytes of record frames delivered (keys, bodies and frame headers). */
  readonly bytes: number;
}

export interface PushResult extends PushProgress {
  /** Per range, in order, the digest of the records sent (as /internal/digest answers it). */
  readonly digests: DigestAnswer['digests'];
}

const BATCH_RECORDS = 500;
const WINDOW = 2;
const BATCH_BYTES = 256 * 1024;
const TARGET_TIMEOUT_MS = 30_000;
/** Idle targets' pools kept past this many are closed, least recently used first. */
const IDLE_POOLS_MAX = 32;

/** undici, loaded once the node listens (see PushConnections.warm), or by the first push if sooner. */
let undici: Promise<typeof import('undici')> | undefined;

function loadUndici(): Promise<typeof import('undici')> {
  undici ??= import('undici');
  return undici;
}

/**
 * Connections to push targets, kept from one push to the next. A move makes dozens of pushes from each
 * source to the same few targets; a pool per push (two new connections each, and their teardown) was about
 * 5% of a source's CPU during a move (profiled). A pool in use is never closed under a push; idle ones past
 * IDLE_POOLS_MAX are, and each pool's idle sockets close on their own after undici's keep-alive timeout.
 */
export class PushConnections {
  /** Insertion order is recency of use: the first idle entry is the least recently used. */
  readonly #pools = new Map<string, { readonly pool: Pool; users: number }>();
  #closed = false;

  /**
   * Loads undici, in the background, for the pushes to come. A node calls it once it listens: loading undici
   * is about 100 ms of CPU in one synchronous step (110 modules), a fifth of what a node's start imports. At
   * its first push that step fell on every source of an add_server at once, while clients waited on them
   * (each old node answered its health check in 350-400 ms then, bench:rebalance at 2,000 requests/s); before
   * it listens it delayed the new node, to which no request is routed until the move has begun.
   */
  warm(): void {
    loadUndici().catch(() => {}); // a failure resurfaces at the first acquire
  }

  /** The pool for `url`, held until `release(url)`. Rejects if closed. */
  async acquire(url: string): Promise<Pool> {
    const { Pool } = await loadUndici();
    // Nothing awaits from here on, so two pushes to one target cannot both open a pool for it.
    if (this.#closed) throw new RingKvError('RINGKV_ERR_SHUTTING_DOWN', 'the node is shutting down');
    const entry = this.#pools.get(url) ?? {
      pool: new Pool(url, { connections: WINDOW, pipelining: 1 }),
      users: 0,
    };
    this.#pools.delete(url);
    this.#pools.set(url, entry);
    entry.users++;
    return entry.pool;
  }

  release(url: string): void {
    const entry = this.#pools.get(url);
    if (entry !== undefined) entry.users--;
    let idle = 0;
    for (const { users } of this.#pools.values()) if (users === 0) idle++;
    for (const [key, { pool, users }] of this.#pools) {
      if (idle <= IDLE_POOLS_MAX) break;
      if (users > 0) continue;
      this.#pools.delete(key);
      idle--;
      void pool.close();
    }
  }

  /** Pools open now (in use or idle). */
  get size(): number {
    return this.#pools.size;
  }

  /** Closes every pool once its requests are done; acquire throws from now on. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()].map(({ pool }) => pool.close());
    this.#pools.clear();
    await Promise.all(pools);
  }
}

async function deliver(url: string, pool: Pool, body: Buffer, secret: string | undefined): Promise<void> {
  let answer: Awaited<ReturnType<Pool['request']>>;
  try {
    answer = await pool.request({
      method: 'POST',
      path: '/internal/batch',
      body,
      headers: {
        'content-type': RECORDS_CONTENT_TYPE,
        ...(secret !== undefined && { [CLUSTER_SECRET_HEADER]: secret }),
      },
      headersTimeout: TARGET_TIMEOUT_MS,
      bodyTimeout: TARGET_TIMEOUT_MS,
    });
  } catch (error) {
    throw new RingKvError(
      'RINGKV_ERR_NODE_UNAVAILABLE',
      `push to ${url} failed: ${(error as Error).message}`,
      { node: url },
    );
  }
  const text = await answer.body.text();
  if (answer.statusCode !== 200) {
    throw new RingKvError(
      'RINGKV_ERR_NODE_UNAVAILABLE',
      `push to ${url} refused: ${answer.statusCode} ${text}`,
      { node: url },
    );
  }
}

/**
 * Streams every record of `ranges` (tombstones included, versions kept) from `engine` to each target node's
 * /internal/batch, node to node without passing through the distributor. Batches of 500 records (or
 * 256 KiB): with 100-byte values that is over 64 KiB, so the target commits each on its writer thread while
 * its event loop serves clients, and checking one is still a short step there (1.6 ms of its event loop,
 * profiled). Two are in flight so the round trips do not idle the stream. At most `keysPerSecond` on
 * average, so the move leaves CPU and disk to the clients. `onBatch` hears the running totals after each
 * delivered batch. Answers the totals and each range's digest of what was sent, hashed from the frames as they
 * go out (a move compares them with other holders' instead of reading the range again on the targets). Throws
 * RINGKV_ERR_NODE_UNAVAILABLE (naming the target) when a target refuses or cannot be reached.
 */
export async function pushRanges(
  connections: PushConnections,
  engine: StorageEngine,
  ranges: readonly PositionRange[],
  targets: readonly string[],
  keysPerSecond: number,
  onBatch: (progress: PushProgress) => void,
  signal: AbortSignal,
  /** The cluster's secret, which the targets require. */
  secret: string | undefined,
): Promise<PushResult> {
  const started = performance.now();
  const pools: { readonly url: string; readonly pool: Pool }[] = [];
  let keys = 0;
  let bytes = 0;
  let queued = 0;
  const inFlight: Promise<void>[] = [];
  const send = async (frames: Buffer[], records: number) => {
    if (inFlight.length >= WINDOW) await inFlight.shift();
    queued += records;
    // Keep to the rate: a move shares the CPUs with the clients it must not slow down.
    const ahead = (queued / keysPerSecond) * 1000 - (performance.now() - started);
    if (ahead > 1) await sleep(ahead, undefined, { signal });
    const body = Buffer.concat(frames);
    const delivered = Promise.all(pools.map(({ url, pool }) => deliver(url, pool, body, secret))).then(() => {
      keys += records;
      bytes += body.length;
      onBatch({ keys, bytes });
    });
    delivered.catch(() => {}); // surfaced when the window awaits it
    inFlight.push(delivered);
  };
  try {
    for (const url of targets) pools.push({ url, pool: await connections.acquire(url) });
    // Frames as the engine stores them, gathered across ranges: a move has thousands of small ranges.
    let batch: Buffer[] = [];
    let records = 0;
    let size = 0;
    const digests: [number, string][] = [];
    for (const { from, to } of ranges) {
      const digest = new RangeDigest();
      for await (const chunk of engine.scanFrames(from, to, BATCH_RECORDS)) {
        signal.throwIfAborted();
        digest.addFrames(chunk.frames);
        batch.push(chunk.frames);
        records += chunk.records;
        size += chunk.frames.length;
        if (records >= BATCH_RECORDS || size >= BATCH_BYTES) {
          await send(batch, records);
          batch = [];
          records = 0;
          size = 0;
        }
      }
      const { count, hash } = digest.finish();
      digests.push([count, hash]);
    }
    if (records > 0) await send(batch, records);
    await Promise.all(inFlight);
    return { keys, bytes, digests };
  } finally {
    for (const { url } of pools) connections.release(url);
  }
}
