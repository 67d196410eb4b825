import { RingKvError } from '../errors.js';
import { SERVER_LIMIT_DEFAULTS, SOCKET_PATH_BYTES_MAX, validateServerLimits } from '../http/server.js';
import { validateNodeId } from '../ring/ring-node.js';
import { validateSecret } from '../security/secrets.js';
import type { EngineKind } from '../storage/engine.js';
import type { WriterPolicy } from '../storage/lmdb-writer.js';
import { assertPlainObject, integerInRange, oneOf, rejectUnknownKeys } from '../validate.js';

export interface StorageNodeOptions {
  /** Node id: names its files and its versions. Default: derived from host and port (`127.0.0.1-5001`). */
  readonly id?: string;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. Default 5001. */
  readonly port?: number;
  /** Directory for `<id>.lmdb/` and the snapshot `<id>.json`. Default ./data. */
  readonly dataDir?: string;
  /** Default lmdb. */
  readonly engine?: EngineKind;
  /**
   * lmdb: least time between the starts of two commits; writes arriving sooner share the next one (a write
   * to an idle node commits at once). Trades a little write latency under load for far fewer flushes.
   * 0 = commit whenever the last commit is done. Default 4.
   */
  readonly commitIntervalMs?: number;
  /**
   * lmdb: how Linux schedules the thread that commits large batches, and every batch while commits are slow:
   * `batch` (SCHED_BATCH: its fair share of the CPU, without preempting the event loop when a flush
   * completes) or `normal`. Default batch.
   */
  readonly writerPolicy?: WriterPolicy;
  /**
   * lmdb: bytes of decoded records kept in memory for reads (keys, values and ~160 bytes per entry); 0 = no
   * cache. Default 64 MiB.
   */
  readonly cacheBytes?: number;
  /** Seconds between JSON snapshots (written only after a change); 0 = off. Default 10. */
  readonly snapshotIntervalSeconds?: number;
  /** Default 1024 (1 KiB). */
  readonly keyBytesMax?: number;
  /** Default 1,048,576 (1 MiB). */
  readonly valueBytesMax?: number;
  /** Tombstones older than this are purged. Default 7 days. */
  readonly tombstoneTtlMs?: number;
  /** How often to look for tombstones to purge. Default 1 hour. */
  readonly tombstonePurgeIntervalMs?: number;
  /** Requests handled at once; more answer 503 with Retry-After. Default 4096. */
  readonly inFlightMax?: number;
  /** Open connections accepted. Default 10,000. */
  readonly connectionsMax?: number;
  /** Time for a request body to arrive. Default 10,000 ms. */
  readonly bodyTimeoutMs?: number;
  /** Bytes of record frames one internal batch may carry. Default 64 MiB. */
  readonly batchBytesMax?: number;
  /** Records one internal batch may carry. Default 10,000. */
  readonly batchRecordsMax?: number;
  /** Versions from a writer may run at most this far ahead of this node's clock. Default 60,000 ms. */
  readonly maxClockDriftMs?: number;
  /** On shutdown, in-flight requests get this long to finish. Default 10,000 ms. */
  readonly drainTimeoutMs?: number;
  /** Time for a request's line and headers to arrive. Default 10,000 ms. */
  readonly headersTimeoutMs?: number;
  /** Bytes of a request's line (URL included) and headers. Default 16 KiB. */
  readonly headerBytesMax?: number;
  /** Idle keep-alive connections close after this long. Default 5,000 ms. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * The cluster's secret: the node belongs to that cluster from the start (see ClusterGuard). Without it, the
   * node is open until a distributor joins it. Default none.
   */
  readonly clusterSecret?: string;
  /**
   * Also serve on a Unix socket at this path (at most 100 bytes), for a distributor on the same machine
   * (`ringkv start` gives its nodes `<data-dir>/<id>.sock`). Default none.
   */
  readonly socketPath?: string;
}

export type ResolvedNodeOptions = Required<Omit<StorageNodeOptions, 'clusterSecret' | 'socketPath'>> & {
  readonly clusterSecret: string | undefined;
  readonly socketPath: string | undefined;
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** The largest record cache a node accepts (64 GiB). */
export const CACHE_BYTES_MAX = 64 * 1024 ** 3;

export const NODE_DEFAULTS: Omit<ResolvedNodeOptions, 'id' | 'clusterSecret' | 'socketPath'> = {
  host: '127.0.0.1',
  port: 5001,
  dataDir: './data',
  engine: 'lmdb',
  commitIntervalMs: 4,
  writerPolicy: 'batch',
  cacheBytes: 64 * 1024 * 1024,
  snapshotIntervalSeconds: 10,
  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  tombstoneTtlMs: 7 * DAY_MS,
  tombstonePurgeIntervalMs: 60 * 60 * 1000,
  inFlightMax: 4096,
  connectionsMax: 10_000,
  bodyTimeoutMs: 10_000,
  batchBytesMax: 64 * 1024 * 1024,
  batchRecordsMax: 10_000,
  maxClockDriftMs: 60_000,
  drainTimeoutMs: 10_000,
  ...SERVER_LIMIT_DEFAULTS,
};

/** The default id of a node listening on host:port; characters outside the id alphabet become `_`. */
export function defaultNodeId(host: string, port: number): string {
  return `${host}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function resolveNodeOptions(options: unknown): ResolvedNodeOptions {
  assertPlainObject(options, 'storage node options');
  rejectUnknownKeys(
    options,
    ['id', 'clusterSecret', 'socketPath', ...Object.keys(NODE_DEFAULTS)],
    'storage node',
  );
  const merged = { ...NODE_DEFAULTS, ...(options as StorageNodeOptions) };
  if (typeof merged.host !== 'string' || merged.host === '') {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', 'storage node host must be a non-empty string');
  }
  integerInRange(merged.port, 'storage node port', 0, 65535);
  if (typeof merged.dataDir !== 'string' || merged.dataDir === '') {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', 'storage node dataDir must be a non-empty path');
  }
  oneOf(merged.engine, 'storage node engine', ['lmdb', 'memory']);
  integerInRange(merged.commitIntervalMs, 'commitIntervalMs', 0, 1000);
  oneOf(merged.writerPolicy, 'storage node writerPolicy', ['batch', 'normal']);
  integerInRange(merged.cacheBytes, 'cacheBytes', 0, CACHE_BYTES_MAX);
  integerInRange(merged.snapshotIntervalSeconds, 'snapshotIntervalSeconds', 0, 86_400);
  integerInRange(merged.keyBytesMax, 'keyBytesMax', 1, 1900);
  integerInRange(merged.valueBytesMax, 'valueBytesMax', 1, 64 * 1024 * 1024);
  integerInRange(merged.tombstoneTtlMs, 'tombstoneTtlMs', 1000, 3650 * DAY_MS);
  integerInRange(merged.tombstonePurgeIntervalMs, 'tombstonePurgeIntervalMs', 1000, DAY_MS);
  integerInRange(merged.inFlightMax, 'inFlightMax', 1, 1_000_000);
  integerInRange(merged.connectionsMax, 'connectionsMax', 1, 1_000_000);
  integerInRange(merged.bodyTimeoutMs, 'bodyTimeoutMs', 100, 600_000);
  integerInRange(merged.batchBytesMax, 'batchBytesMax', 1024, 1024 * 1024 * 1024);
  integerInRange(merged.batchRecordsMax, 'batchRecordsMax', 1, 1_000_000);
  integerInRange(merged.maxClockDriftMs, 'maxClockDriftMs', 0, DAY_MS);
  integerInRange(merged.drainTimeoutMs, 'drainTimeoutMs', 0, 600_000);
  validateServerLimits(merged);
  if (merged.batchBytesMax < merged.valueBytesMax + merged.keyBytesMax + 512) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      'batchBytesMax must hold at least one record of the largest size',
    );
  }
  const id = validateNodeId((options as StorageNodeOptions).id ?? defaultNodeId(merged.host, merged.port));
  const { clusterSecret, socketPath } = options as StorageNodeOptions;
  if (
    socketPath !== undefined &&
    (typeof socketPath !== 'string' ||
      socketPath === '' ||
      Buffer.byteLength(socketPath) > SOCKET_PATH_BYTES_MAX)
  ) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `socketPath must be a path of 1-${SOCKET_PATH_BYTES_MAX} bytes`,
    );
  }
  return {
    ...merged,
    id,
    socketPath,
    clusterSecret: clusterSecret === undefined ? undefined : validateSecret(clusterSecret, 'clusterSecret'),
  };
}
