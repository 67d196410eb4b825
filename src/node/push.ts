import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { RingKvError } from '../errors.js';
import { CLUSTER_SECRET_HEADER } from '../security/secrets.js';
import type { PositionRange, StorageEngine } from '../storage/engine.js';
import { encodeRecordFrames, type StoredRecord } from '../storage/record.js';
import { RECORDS_CONTENT_TYPE } from './protocol.js';

export interface PushProgress {
  readonly keys: number;
  readonly bytes: number;
}

const BATCH_RECORDS = 100;
const WINDOW = 2;
const BATCH_BYTES = 256 * 1024;
const TARGET_TIMEOUT_MS = 30_000;

/**
 * Streams every record of `ranges` (tombstones included, versions kept) from `engine` to each target node's
 * /internal/batch, node to node without passing through the distributor. Batches are small (100 records or
 * 256 KiB), so each one is a short step on the target whose clients are served in between, and two are in
 * flight at a time so the round trips do not idle the stream. At most `keysPerSecond` on average, so the
 * move leaves CPU and disk to the clients. `onBatch` hears the running totals after each delivered batch.
 * Throws RINGKV_ERR_NODE_UNAVAILABLE (naming the target) when a target refuses or cannot be reached.
 */
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

export async function pushRanges(
  engine: StorageEngine,
  ranges: readonly PositionRange[],
  targets: readonly string[],
  keysPerSecond: number,
  onBatch: (progress: PushProgress) => void,
  signal: AbortSignal,
  /** The cluster's secret, which the targets require. */
  secret: string | undefined,
): Promise<PushProgress> {
  const started = performance.now();
  const pools = targets.map((url) => ({ url, pool: new Pool(url, { connections: WINDOW, pipelining: 1 }) }));
  let keys = 0;
  let bytes = 0;
  let queued = 0;
  const inFlight: Promise<void>[] = [];
  const send = async (records: StoredRecord[], size: number) => {
    if (inFlight.length >= WINDOW) await inFlight.shift();
    queued += records.length;
    // Keep to the rate: a move shares the CPUs with the clients it must not slow down.
    const ahead = (queued / keysPerSecond) * 1000 - (performance.now() - started);
    if (ahead > 1) await sleep(ahead, undefined, { signal });
    const body = encodeRecordFrames(records);
    const delivered = Promise.all(pools.map(({ url, pool }) => deliver(url, pool, body, secret))).then(() => {
      keys += records.length;
      bytes += size;
      onBatch({ keys, bytes });
    });
    delivered.catch(() => {}); // surfaced when the window awaits it
    inFlight.push(delivered);
  };
  try {
    let batch: StoredRecord[] = [];
    let size = 0;
    for (const { from, to } of ranges) {
      for await (const records of engine.scan(from, to, BATCH_RECORDS)) {
        signal.throwIfAborted();
        for (const record of records) {
          batch.push(record);
          size += record.key.length + (record.value?.length ?? 0) + record.version.length;
          if (batch.length >= BATCH_RECORDS || size >= BATCH_BYTES) {
            await send(batch, size);
            batch = [];
            size = 0;
          }
        }
      }
    }
    if (batch.length > 0) await send(batch, size);
    await Promise.all(inFlight);
    return { keys, bytes };
  } finally {
    await Promise.all(pools.map(({ pool }) => pool.close()));
  }
}
