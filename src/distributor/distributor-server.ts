import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { RingKvError } from '../errors.js';
import { parseQuery, splitTarget } from '../http/request.js';
import { createGuardedServer, listenOn, stopOnce } from '../http/server.js';
import { SecretMatcher } from '../security/secrets.js';
import { ADMIN_ROUTES, adminRoute, checkAdminToken } from './admin-routes.js';
import { Cluster, type LocalNodeSettings, membershipPath } from './cluster.js';
import { type Credentials, resolveCredentials } from './credentials.js';
import {
  type DistributorOptions,
  type ResolvedDistributorOptions,
  resolveDistributorOptions,
} from './distributor-options.js';
import { batchRoute, originalRoute, restRoute } from './kv-routes.js';
import {
  loadMembership,
  type Member,
  type Membership,
  replicationFor,
  saveMembership,
} from './membership.js';
import { MovePacer, recentP99Ms } from './move-pacer.js';
import { NodeClient } from './node-client.js';
import { Observability } from './observability.js';

export interface BuildDistributorOptions extends DistributorOptions {
  readonly logger?: Logger;
  readonly physicalNowMs?: () => number;
}

export interface Distributor {
  readonly options: ResolvedDistributorOptions;
  readonly server: Server;
  readonly cluster: Cluster;
  listen(): Promise<AddressInfo>;
  /** Stops taking requests, lets in-flight ones finish, stops local nodes gracefully. Idempotent. */
  shutdown(reason: string): Promise<void>;
  readonly stopped: Promise<void>;
  readonly credentials: Credentials;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Asks a node that runs elsewhere for its id, waiting up to 15 s for it to come up, and makes it join this
 * cluster (refused with RINGKV_ERR_NODE_IN_OTHER_CLUSTER if it belongs to another).
 */
async function identify(
  url: string,
  options: ResolvedDistributorOptions,
  clusterSecret: string,
): Promise<Member> {
  const client = new NodeClient('candidate', url, {
    connections: 1,
    inFlightMax: 4,
    timeoutMs: options.nodeTimeoutMs,
    clusterSecret,
  });
  try {
    for (let attempt = 0; ; attempt++) {
      let health: Awaited<ReturnType<NodeClient['health']>>;
      try {
        health = await client.health();
      } catch (error) {
        if (attempt >= 75)
          throw new RingKvError(
            'RINGKV_ERR_NOT_A_NODE',
            `${url} is not a reachable ringkv node: ${(error as Error).message}`,
          );
        await sleep(200);
        continue;
      }
      await client.join();
      return { id: health.id, url: new URL(url).origin, weight: 1, desired: 'running' };
    }
  } finally {
    await client.close();
  }
}

/** The membership on first start, from the options: local nodes on the ports after the distributor's, or given urls. */
async function initialMembership(
  options: ResolvedDistributorOptions,
  clusterSecret: string,
): Promise<Membership> {
  const members: Member[] = [];
  if (options.localNodes !== undefined) {
    for (let i = 1; i <= options.localNodes; i++) {
      const port = options.port + i;
      const id = `${options.host}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_');
      members.push({
        id,
        url: `http://${hostForUrl(options.host)}:${port}`,
        weight: 1,
        localPort: port,
        desired: 'running',
      });
    }
  }
  for (const url of options.nodes) members.push(await identify(url, options, clusterSecret));
  if (members.length === 0) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      'a new cluster needs nodes: --nodes N (local) or --node URL',
    );
  }
  return {
    format: 1,
    ringVersion: 1,
    placement:
      options.vnodes !== undefined
        ? { kind: 'tokens', vnodes: options.vnodes }
        : { kind: 'partitions', partitions: options.partitions },
    ...replicationFor(members.length, {
      ...(options.replicas !== undefined && { replicas: options.replicas }),
      ...(options.readQuorum !== undefined && { readQuorum: options.readQuorum }),
      ...(options.writeQuorum !== undefined && { writeQuorum: options.writeQuorum }),
    }),
    members,
    move: null,
  };
}

/**
 * Builds the distributor: opens (or creates) the cluster's membership, starts local nodes if it runs them,
 * and returns its HTTP server, not yet listening.
 */
export async function buildDistributor(input: BuildDistributorOptions = {}): Promise<Distributor> {
  const { logger: givenLogger, physicalNowMs = Date.now, ...distributorOptions } = input;
  const options = resolveDistributorOptions(distributorOptions);
  const logger = (givenLogger ?? pino({ name: 'ringkv-distributor' })).child({ distributor: options.id });
  const path = membershipPath(options.dataDir);
  await mkdir(dirname(path), { recursive: true });
  const credentials = await resolveCredentials(options);
  let state = await loadMembership(path);
  if (state === undefined) {
    state = await initialMembership(options, credentials.clusterSecret);
    await saveMembership(path, state);
    logger.info({ members: state.members.length, path }, 'created a new cluster');
  } else {
    logger.info(
      { members: state.members.length, ringVersion: state.ringVersion, path },
      'restored the cluster from its membership file',
    );
  }
  const local: LocalNodeSettings | undefined =
    options.localNodes === undefined
      ? undefined
      : {
          host: options.host,
          dataDir: options.dataDir,
          engine: options.engine,
          snapshotIntervalSeconds: options.snapshotIntervalSeconds,
          clusterSecret: credentials.clusterSecret,
        };
  const observability: Observability = new Observability(options.id, () => cluster, options.eventStreamsMax);
  // Clients' p99 over the 10 s before a move is what the move is paced against, and how busy they keep
  // their connections: the server, made below, counts them; a move resumed while the cluster opens is
  // paced by latency alone until it exists.
  let openConnections = () => 0;
  const movePacer = new MovePacer(
    () => recentP99Ms(observability.metrics.traffic.series(), 10),
    () => openConnections(),
  );
  const cluster: Cluster = await Cluster.open(
    {
      id: options.id,
      membershipPath: path,
      ...(local !== undefined && { local }),
      nodeLimits: {
        connections: options.nodeConnections,
        inFlightMax: options.nodeInFlightMax,
        timeoutMs: options.nodeTimeoutMs,
        clusterSecret: credentials.clusterSecret,
      },
      healthIntervalMs: options.healthIntervalMs,
      probeTimeoutMs: options.probeTimeoutMs,
      moveKeysPerSecond: options.moveKeysPerSecond,
      movePacer,
      logger,
      physicalNowMs,
      onOperation: (node, kind, durationMs, errorCode) =>
        observability.metrics.operation(node, kind, durationMs, errorCode),
    },
    state,
  );

  const context = { cluster, options };
  const adminToken =
    credentials.adminToken === undefined ? undefined : new SecretMatcher(credentials.adminToken);
  // Not async itself: the key routes' own promises go straight to createGuardedServer, without a wrapping one.
  const route = (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { pathname, query } = splitTarget(request.url ?? '/');
    if (adminToken !== undefined && ADMIN_ROUTES.has(pathname)) checkAdminToken(request, adminToken);
    if (pathname === '/get' || pathname === '/put' || pathname === '/del') {
      return originalRoute(context, pathname, request.method, parseQuery(query), response);
    }
    if (pathname.startsWith('/kv/')) return restRoute(context, request, response, pathname.slice(4));
    if (pathname === '/mget' || pathname === '/mput') return batchRoute(context, pathname, request, response);
    return otherRoute(pathname, query, request, response);
  };
  const otherRoute = async (
    pathname: string,
    query: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> => {
    if (await observability.handle(pathname, request, response)) return;
    return adminRoute(context, pathname, request.method, parseQuery(query), response);
  };

  const guarded = createGuardedServer({
    handle: route,
    logger,
    name: 'the distributor',
    inFlightMax: options.inFlightMax,
    connectionsMax: options.connectionsMax,
    bodyTimeoutMs: options.bodyTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    headerBytesMax: options.headerBytesMax,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    onAnswered: (request, status, durationMs) => {
      if (observability.metrics.answered(request, status, durationMs)) movePacer.record(durationMs);
    },
    onMalformed: () => observability.metrics.malformed(),
  });
  const server = guarded.server;
  openConnections = () => guarded.connections;

  const { shutdown, stopped } = stopOnce(async (reason) => {
    logger.info({ reason, inFlight: guarded.inFlight }, 'distributor shutting down');
    observability.close();
    await guarded.drain(10_000);
    await cluster.close();
    logger.info({ reason }, 'distributor stopped');
  });

  return {
    options,
    server,
    cluster,
    stopped,
    shutdown,
    credentials,
    async listen() {
      const address = await listenOn(server, options.port, options.host);
      logger.info({ host: address.address, port: address.port }, 'distributor listening');
      return address;
    },
  };
}
