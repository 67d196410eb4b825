import { access, mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { parseQuery, splitTarget } from '../http/request.js';
import { methodNotAllowed, routeNotFound, sendJson } from '../http/response.js';
import { createGuardedServer, listenOn, listenOnSocket, stopOnce } from '../http/server.js';
import { sendMetrics } from '../metrics/registry.js';
import type { StorageEngine } from '../storage/engine.js';
import { LmdbEngine } from '../storage/lmdb-engine.js';
import { MemoryEngine } from '../storage/memory-engine.js';
import {
  importSnapshot,
  SnapshotScheduler,
  writeSnapshot,
  writeSnapshotInChild,
} from '../storage/snapshot.js';
import { HybridLogicalClock } from '../version/hlc.js';
import { type NodeContext, originalDelete, originalGet, originalPut, restRoute } from './client-routes.js';
import { ClusterGuard } from './cluster-guard.js';
import { BulkTraffic, internalRoute } from './internal-routes.js';
import { NodeMetrics } from './node-metrics.js';
import { type ResolvedNodeOptions, resolveNodeOptions, type StorageNodeOptions } from './node-options.js';
import { PushConnections } from './push.js';

export interface BuildNodeOptions extends StorageNodeOptions {
  readonly logger?: Logger;
  /** Physical clock for versions; tests inject one. Default Date.now. */
  readonly physicalNowMs?: () => number;
}

/** A storage node: its HTTP server (not yet listening), its engine, and its lifecycle. */
export interface StorageNode {
  readonly id: string;
  readonly options: ResolvedNodeOptions;
  readonly server: Server;
  readonly engine: StorageEngine;
  /** Starts listening on options.host:options.port. */
  listen(): Promise<AddressInfo>;
  /**
   * Graceful stop: refuse new requests, let in-flight ones finish (up to drainTimeoutMs), write a final
   * snapshot, commit and close the engine. Idempotent; resolves when done.
   */
  shutdown(reason: string): Promise<void>;
  /** Resolves once shutdown has completed, however it was started (including POST /shutdown). */
  readonly stopped: Promise<void>;
}

function openEngine(options: ResolvedNodeOptions): StorageEngine {
  return options.engine === 'memory'
    ? new MemoryEngine()
    : new LmdbEngine(join(options.dataDir, `${options.id}.lmdb`), {
        commitIntervalMs: options.commitIntervalMs,
        writerPolicy: options.writerPolicy,
        cacheBytes: options.cacheBytes,
      });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Opens the node's engine (importing `<dataDir>/<id>.json` into an empty one) and builds its HTTP server.
 * Only the CLI and tests call listen().
 */
export async function buildNode(input: BuildNodeOptions = {}): Promise<StorageNode> {
  const { logger: givenLogger, physicalNowMs = Date.now, ...nodeOptions } = input;
  const options = resolveNodeOptions(nodeOptions);
  const logger = (givenLogger ?? pino({ name: 'ringkv-node' })).child({ node: options.id });
  await mkdir(options.dataDir, { recursive: true });
  // Before the engine: a node that belongs to another cluster must not start at all.
  const guard = await ClusterGuard.open(
    join(options.dataDir, `${options.id}.cluster.json`),
    options.clusterSecret,
  );
  const engine = openEngine(options);
  const clock = new HybridLogicalClock({
    writer: options.id,
    physicalNowMs,
    maxDriftMs: options.maxClockDriftMs,
  });
  const context: NodeContext = {
    options,
    engine,
    clock,
    logger,
    guard,
    bulk: new BulkTraffic(),
    pushes: new PushConnections(),
  };
  const metrics = new NodeMetrics(options.id, engine);

  const snapshotPath = join(options.dataDir, `${options.id}.json`);
  const snapshotExists = await exists(snapshotPath);
  const { liveKeys, tombstones } = engine.stats();
  if (snapshotExists && liveKeys + tombstones === 0) {
    const result = await importSnapshot(engine, snapshotPath, () => clock.now(), options);
    logger.info({ ...result, path: snapshotPath }, 'imported snapshot into an empty engine');
  }
  const snapshots = new SnapshotScheduler({
    engine,
    deferWhile: () => context.bulk.busy,
    write: () =>
      engine.kind === 'lmdb'
        ? writeSnapshotInChild(join(options.dataDir, `${options.id}.lmdb`), snapshotPath)
        : writeSnapshot(engine, snapshotPath),
    onWritten: (result) => {
      metrics.snapshot('written');
      logger.debug({ ...result, path: snapshotPath }, 'snapshot written');
    },
    onError: (error) => {
      metrics.snapshot('failed');
      logger.error({ err: error, path: snapshotPath }, 'snapshot failed');
    },
  });
  // The snapshot on disk already reflects the engine unless it is missing while the engine has data.
  const engineHasData = engine.stats().liveKeys > 0;
  snapshots.start(
    options.snapshotIntervalSeconds * 1000,
    snapshotExists || !engineHasData ? engine.changeCount : -1,
  );

  const purgeTombstones = async () => {
    try {
      const purged = await engine.purgeTombstones(physicalNowMs() - options.tombstoneTtlMs);
      if (purged > 0) logger.info({ purged }, 'purged expired tombstones');
    } catch (error) {
      logger.error({ err: error }, 'tombstone purge failed');
    }
  };
  const purgeTimer = setInterval(() => void purgeTombstones(), options.tombstonePurgeIntervalMs).unref();
  void purgeTombstones();

  let stopping = false;
  let stopRequested: (reason: string) => void = () => {};

  // Not async: a read answers synchronously (see createGuardedServer's handle).
  const route = (request: IncomingMessage, response: ServerResponse): Promise<void> | undefined => {
    const { pathname, query } = splitTarget(request.url ?? '/');
    const method = request.method;
    // Health and metrics stay open (they hold no data); everything else needs the cluster secret once joined.
    if (pathname !== '/internal/health' && pathname !== '/metrics' && pathname !== '/internal/join')
      guard.check(request);
    switch (pathname) {
      case '/get':
        if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, pathname, ['GET', 'HEAD']);
        originalGet(context, parseQuery(query), response);
        return;
      case '/put':
        if (method !== 'PUT') throw methodNotAllowed(method, pathname, ['PUT']);
        return originalPut(context, parseQuery(query), response);
      case '/del':
        if (method !== 'DELETE') throw methodNotAllowed(method, pathname, ['DELETE']);
        return originalDelete(context, parseQuery(query), response);
      case '/metrics':
        if (method !== 'GET') throw methodNotAllowed(method, pathname, ['GET']);
        return sendMetrics(metrics.registry, response);
      case '/shutdown':
        if (method !== 'POST') throw methodNotAllowed(method, pathname, ['POST']);
        sendJson(response, 200, { message: 'Shutting down', id: options.id });
        response.once('finish', () => stopRequested('POST /shutdown'));
        return;
    }
    if (pathname.startsWith('/kv/')) return restRoute(context, request, response, pathname.slice(4));
    if (pathname.startsWith('/internal/'))
      return internalRoute(context, request, response, pathname, query, stopping);
    throw routeNotFound(pathname);
  };

  const guarded = createGuardedServer({
    handle: route,
    logger,
    name: 'this node',
    inFlightMax: options.inFlightMax,
    connectionsMax: options.connectionsMax,
    bodyTimeoutMs: options.bodyTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
    headerBytesMax: options.headerBytesMax,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    onAnswered: (request, status, durationMs) => metrics.answered(request, status, durationMs),
    onMalformed: () => metrics.malformed(),
  });
  const server = guarded.server;
  let closeSocket: (() => Promise<void>) | undefined;

  const { shutdown, stopped } = stopOnce(async (reason) => {
    stopping = true;
    logger.info({ reason, inFlight: guarded.inFlight }, 'shutting down: draining requests');
    // Closing the socket's listener completes only once its connections end, which the drain sees to.
    const socketClosed = closeSocket?.();
    await guarded.drain(options.drainTimeoutMs);
    await socketClosed;
    await context.pushes.close();
    clearInterval(purgeTimer);
    snapshots.stop();
    await snapshots.flush();
    await engine.close();
    logger.info({ reason }, 'stopped: writes committed, snapshot written');
  });
  stopRequested = (reason) => void shutdown(reason);

  return {
    id: options.id,
    options,
    server,
    engine,
    stopped,
    shutdown,
    async listen() {
      // The socket first: whoever waits for the TCP port to answer may then use either.
      if (options.socketPath !== undefined)
        closeSocket = await listenOnSocket(server, options.socketPath, options.connectionsMax, logger);
      const address = await listenOn(server, options.port, options.host).catch(async (error: unknown) => {
        // Nothing will serve: the socket goes too, rather than keep the process alive with its file in place.
        await closeSocket?.();
        closeSocket = undefined;
        throw error;
      });
      logger.info(
        {
          host: address.address,
          port: address.port,
          engine: engine.kind,
          ...(options.socketPath !== undefined && { socket: options.socketPath }),
        },
        'storage node listening',
      );
      setImmediate(() => context.pushes.warm());
      return address;
    },
  };
}
