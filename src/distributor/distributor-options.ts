import { RingKvError } from '../errors.js';
import { SERVER_LIMIT_DEFAULTS, validateServerLimits } from '../http/server.js';
import { PARTITIONS_DEFAULT } from '../ring/hash-ring.js';
import { validateNodeId } from '../ring/ring-node.js';
import { validateSecret } from '../security/secrets.js';
import type { EngineKind } from '../storage/engine.js';
import { assertPlainObject, integerInRange, oneOf, rejectUnknownKeys } from '../validate.js';

export interface DistributorOptions {
  /** Writer id in the versions this distributor assigns. Default `distributor-<port>`. */
  readonly id?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 5000. */
  readonly port?: number;
  /** Holds `distributor/membership.json` and, for local nodes, their files. Default ./data. */
  readonly dataDir?: string;
  /** First start only: base URLs of nodes running elsewhere. */
  readonly nodes?: readonly string[];
  /**
   * Run storage nodes as local processes (`ringkv start`). On first start this many are created, on the
   * ports after the distributor's; afterwards the membership file decides. Omit for `ringkv distributor`.
   */
  readonly localNodes?: number;
  /** Engine of local nodes. Default lmdb. */
  readonly engine?: EngineKind;
  /** Seconds between the JSON snapshots of local nodes; 0 = off. Default 10. */
  readonly snapshotIntervalSeconds?: number;
  /** First start only: ring placement (see HashRing). Default 65536 partitions. */
  readonly partitions?: number;
  readonly vnodes?: number;
  /** First start only: N, copies of each key. Default 3, or the number of nodes when fewer. */
  readonly replicas?: number;
  /** First start only: R, replicas a read waits for. Default a majority of N. */
  readonly readQuorum?: number;
  /** First start only: W, replicas a write waits for. Default a majority of N. */
  readonly writeQuorum?: number;
  /** Default 1024. */
  readonly keyBytesMax?: number;
  /** Default 1 MiB. */
  readonly valueBytesMax?: number;
  /** Keep-alive connections to each node. Default 32. */
  readonly nodeConnections?: number;
  /** Requests in flight to one node; more answer 503 at once. Default 1024. */
  readonly nodeInFlightMax?: number;
  /** Time a node gets to answer. Default 5000 ms. */
  readonly nodeTimeoutMs?: number;
  /**
   * Speed limit of data moves (add_server, remove_server), keys per second: a move shares the CPUs with the
   * clients. Default 70,000.
   */
  readonly moveKeysPerSecond?: number;
  /** Health probes of each node, and their timeout. Default 400 ms each. */
  readonly healthIntervalMs?: number;
  readonly probeTimeoutMs?: number;
  /** Client requests in flight at once; more answer 503 with Retry-After. Default 8192. */
  readonly inFlightMax?: number;
  /** Open client connections. Default 10,000. */
  readonly connectionsMax?: number;
  /** Time for a request body to arrive. Default 10,000 ms. */
  readonly bodyTimeoutMs?: number;
  /** Entries in one POST /mget or /mput. Default 1000. */
  readonly batchKeysMax?: number;
  /** Bytes of one POST /mget or /mput body. Default 16 MiB. */
  readonly batchBytesMax?: number;
  /** Open dashboard event streams (GET /events). Default 64. */
  readonly eventStreamsMax?: number;
  /** Time for a request's line and headers to arrive. Default 10,000 ms. */
  readonly headersTimeoutMs?: number;
  /** Bytes of a request's line (URL included) and headers. Default 16 KiB. */
  readonly headerBytesMax?: number;
  /** Idle keep-alive connections close after this long. Default 5,000 ms. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Required as `Authorization: Bearer <token>` on the admin routes. Default: none on loopback; beyond
   * loopback, one is made on first start and kept in `<data-dir>/distributor/credentials.json`.
   */
  readonly adminToken?: string;
  /** The secret this cluster's nodes require. Default: made on first start and kept with the admin token. */
  readonly clusterSecret?: string;
}

export type ResolvedDistributorOptions = Required<
  Omit<
    DistributorOptions,
    | 'nodes'
    | 'localNodes'
    | 'vnodes'
    | 'replicas'
    | 'readQuorum'
    | 'writeQuorum'
    | 'adminToken'
    | 'clusterSecret'
  >
> & {
  readonly adminToken: string | undefined;
  readonly clusterSecret: string | undefined;
  readonly nodes: readonly string[];
  readonly localNodes: number | undefined;
  readonly vnodes: number | undefined;
  readonly replicas: number | undefined;
  readonly readQuorum: number | undefined;
  readonly writeQuorum: number | undefined;
};

export const DISTRIBUTOR_DEFAULTS = {
  host: '127.0.0.1',
  port: 5000,
  dataDir: './data',
  engine: 'lmdb' as EngineKind,
  snapshotIntervalSeconds: 10,
  partitions: PARTITIONS_DEFAULT,

  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  nodeConnections: 32,
  nodeInFlightMax: 1024,
  nodeTimeoutMs: 5000,
  moveKeysPerSecond: 70_000,
  healthIntervalMs: 400,
  probeTimeoutMs: 400,
  inFlightMax: 8192,
  connectionsMax: 10_000,
  bodyTimeoutMs: 10_000,
  batchKeysMax: 1000,
  batchBytesMax: 16 * 1024 * 1024,
  eventStreamsMax: 64,
  ...SERVER_LIMIT_DEFAULTS,
};

export function resolveDistributorOptions(options: unknown): ResolvedDistributorOptions {
  assertPlainObject(options, 'distributor options');
  rejectUnknownKeys(
    options,
    [
      'id',
      'nodes',
      'localNodes',
      'vnodes',
      'replicas',
      'readQuorum',
      'writeQuorum',
      'adminToken',
      'clusterSecret',
      ...Object.keys(DISTRIBUTOR_DEFAULTS),
    ],
    'distributor',
  );
  const given = options as DistributorOptions;
  const merged = { ...DISTRIBUTOR_DEFAULTS, ...given };
  integerInRange(merged.port, 'distributor port', 0, 65535);
  if (typeof merged.host !== 'string' || merged.host === '')
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', 'host must be a non-empty string');
  oneOf(merged.engine, 'engine', ['lmdb', 'memory']);
  if (given.localNodes !== undefined) integerInRange(given.localNodes, 'localNodes', 1, 1024);
  const nodes = given.nodes ?? [];
  if (!Array.isArray(nodes) || !nodes.every((url) => typeof url === 'string')) {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', 'nodes must be a list of base URLs');
  }
  if (given.vnodes !== undefined && given.partitions !== undefined) {
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', 'set either partitions or vnodes, not both');
  }
  integerInRange(merged.snapshotIntervalSeconds, 'snapshotIntervalSeconds', 0, 86_400);
  for (const [name, value] of [
    ['replicas', given.replicas],
    ['readQuorum', given.readQuorum],
    ['writeQuorum', given.writeQuorum],
  ] as const) {
    if (value !== undefined) integerInRange(value, name, 1, 64);
  }
  integerInRange(merged.keyBytesMax, 'keyBytesMax', 1, 1900);
  integerInRange(merged.valueBytesMax, 'valueBytesMax', 1, 64 * 1024 * 1024);
  integerInRange(merged.nodeConnections, 'nodeConnections', 1, 4096);
  integerInRange(merged.nodeInFlightMax, 'nodeInFlightMax', 1, 1_000_000);
  integerInRange(merged.nodeTimeoutMs, 'nodeTimeoutMs', 10, 600_000);
  integerInRange(merged.moveKeysPerSecond, 'moveKeysPerSecond', 100, 10_000_000);
  integerInRange(merged.healthIntervalMs, 'healthIntervalMs', 10, 60_000);
  integerInRange(merged.probeTimeoutMs, 'probeTimeoutMs', 10, 60_000);
  integerInRange(merged.inFlightMax, 'inFlightMax', 1, 1_000_000);
  integerInRange(merged.connectionsMax, 'connectionsMax', 1, 1_000_000);
  integerInRange(merged.bodyTimeoutMs, 'bodyTimeoutMs', 100, 600_000);
  integerInRange(merged.batchKeysMax, 'batchKeysMax', 1, 100_000);
  integerInRange(merged.batchBytesMax, 'batchBytesMax', 1024, 1024 * 1024 * 1024);
  integerInRange(merged.eventStreamsMax, 'eventStreamsMax', 1, 10_000);
  validateServerLimits(merged);
  const id = validateNodeId(given.id ?? `distributor-${merged.port}`);
  return {
    ...merged,
    id,
    nodes,
    localNodes: given.localNodes,
    vnodes: given.vnodes,
    replicas: given.replicas,
    readQuorum: given.readQuorum,
    writeQuorum: given.writeQuorum,
    adminToken: given.adminToken === undefined ? undefined : validateSecret(given.adminToken, 'adminToken'),
    clusterSecret:
      given.clusterSecret === undefined ? undefined : validateSecret(given.clusterSecret, 'clusterSecret'),
  };
}
