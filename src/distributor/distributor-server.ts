import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { RingKvError } from '../errors.js';
import {
  DELETED_BODY,
  keyBytes,
  keyNotFound,
  NOT_FOUND_BODY,
  queryValue,
  REST_METHODS,
  STORED_BODY,
  sendValue,
  storedContentType,
} from '../http/kv-api.js';
import { decodeComponent, parseQuery, readBody, splitTarget } from '../http/request.js';
import { methodNotAllowed, routeNotFound, sendJson, sendJsonText } from '../http/response.js';
import { createGuardedServer, listenOn, stopOnce } from '../http/server.js';
import { VERSION_HEADER } from '../node/protocol.js';
import { toJsonValue } from '../storage/json-value.js';
import { Cluster, type LocalNodeSettings, membershipPath } from './cluster.js';
import {
  type DistributorOptions,
  type ResolvedDistributorOptions,
  resolveDistributorOptions,
} from './distributor-options.js';
import {
  loadMembership,
  type Member,
  type Membership,
  replicationFor,
  saveMembership,
} from './membership.js';
import { NodeClient } from './node-client.js';

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
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Asks a node that runs elsewhere for its id, waiting up to 15 s for it to come up. */
async function identify(url: string, options: ResolvedDistributorOptions): Promise<Member> {
  const client = new NodeClient('candidate', url, {
    connections: 1,
    inFlightMax: 4,
    timeoutMs: options.nodeTimeoutMs,
  });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const health = await client.health();
        return { id: health.id, url: new URL(url).origin, weight: 1, desired: 'running' };
      } catch (error) {
        if (attempt >= 75)
          throw new RingKvError(
            'RINGKV_ERR_NOT_A_NODE',
            `${url} is not a reachable ringkv node: ${(error as Error).message}`,
          );
        await sleep(200);
      }
    }
  } finally {
    await client.close();
  }
}

/** The membership on first start, from the options: local nodes on the ports after the distributor's, or given urls. */
async function initialMembership(options: ResolvedDistributorOptions): Promise<Membership> {
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
  for (const url of options.nodes) members.push(await identify(url, options));
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

/** `?port=P` or `?node=ID`, as the admin routes take them. */
function memberSelector(query: Map<string, string>): { node?: string; port?: number } {
  const node = query.get('node');
  if (node !== undefined && node !== '') return { node };
  const port = query.get('port');
  if (port !== undefined && /^\d{1,5}$/.test(port)) return { port: Number(port) };
  throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', 'name the node with ?port=P or ?node=ID');
}

function weightParameter(query: Map<string, string>): number {
  const text = query.get('weight');
  if (text === undefined) return 1;
  const weight = Number(text);
  if (!Number.isFinite(weight) || weight <= 0 || weight > 1_000_000) {
    throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', 'weight must be a number in (0, 1000000]');
  }
  return weight;
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
  let state = await loadMembership(path);
  if (state === undefined) {
    state = await initialMembership(options);
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
        };
  const cluster = await Cluster.open(
    {
      id: options.id,
      membershipPath: path,
      ...(local !== undefined && { local }),
      nodeLimits: {
        connections: options.nodeConnections,
        inFlightMax: options.nodeInFlightMax,
        timeoutMs: options.nodeTimeoutMs,
      },
      healthIntervalMs: options.healthIntervalMs,
      probeTimeoutMs: options.probeTimeoutMs,
      moveKeysPerSecond: options.moveKeysPerSecond,
      logger,
      physicalNowMs,
    },
    state,
  );

  const readKey = async (key: string) => {
    const read = await cluster.read(key);
    return read.kind === 'found' ? read : undefined;
  };

  const originalRoute = async (
    pathname: string,
    method: string | undefined,
    query: Map<string, string>,
    response: ServerResponse,
  ) => {
    const key = keyBytes(query.get('key'), options.keyBytesMax).toString('utf8');
    if (pathname === '/get') {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, pathname, ['GET', 'HEAD']);
      const found = await readKey(key);
      if (found === undefined) sendJsonText(response, 404, NOT_FOUND_BODY);
      else sendJson(response, 200, { value: toJsonValue(found.value, found.contentType) });
    } else if (pathname === '/put') {
      if (method !== 'PUT') throw methodNotAllowed(method, pathname, ['PUT']);
      await cluster.write(key, queryValue(query, options.valueBytesMax));
      sendJsonText(response, 200, STORED_BODY);
    } else {
      if (method !== 'DELETE') throw methodNotAllowed(method, pathname, ['DELETE']);
      const { previous } = await cluster.write(key, null);
      sendJsonText(
        response,
        previous === 'live' ? 200 : 404,
        previous === 'live' ? DELETED_BODY : NOT_FOUND_BODY,
      );
    }
  };

  const restRoute = async (request: IncomingMessage, response: ServerResponse, encodedKey: string) => {
    const key = keyBytes(decodeComponent(encodedKey, false), options.keyBytesMax).toString('utf8');
    switch (request.method) {
      case 'GET':
      case 'HEAD': {
        const found = await readKey(key);
        if (found === undefined) throw keyNotFound();
        sendValue(response, request.method, found.value, found.contentType, found.version);
        return;
      }
      case 'PUT': {
        const contentType = storedContentType(request.headers['content-type']);
        const value = await readBody(request, {
          bytesMax: options.valueBytesMax,
          tooLargeCode: 'RINGKV_ERR_VALUE_TOO_LARGE',
          timeoutMs: options.bodyTimeoutMs,
        });
        const { version } = await cluster.write(key, value, contentType);
        response.writeHead(204, { [VERSION_HEADER]: version }).end();
        return;
      }
      case 'DELETE': {
        const { version, previous } = await cluster.write(key, null);
        if (previous !== 'live') throw keyNotFound();
        response.writeHead(204, { [VERSION_HEADER]: version }).end();
        return;
      }
      default:
        throw methodNotAllowed(request.method, '/kv/<key>', REST_METHODS);
    }
  };

  const describe = (member: Member) => ({
    id: member.id,
    url: member.url,
    port: Number(new URL(member.url).port),
    local: member.localPort !== undefined,
    ringVersion: cluster.state.ringVersion,
  });

  const adminRoute = async (
    pathname: string,
    method: string | undefined,
    query: Map<string, string>,
    response: ServerResponse,
  ) => {
    const expect = (allowed: string) => {
      if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
        throw methodNotAllowed(method, pathname, allowed === 'GET' ? ['GET', 'HEAD'] : [allowed]);
      }
    };
    switch (pathname) {
      case '/add_server': {
        expect('POST');
        const url = query.get('url');
        const weight = weightParameter(query);
        const { member, moved } =
          url === undefined ? await cluster.addLocalNode(weight) : await cluster.addRemoteNode(url, weight);
        return sendJson(response, 200, { message: 'Server added', ...describe(member), moved });
      }
      case '/remove_server': {
        expect('POST');
        const { member, moved } = await cluster.removeNode(cluster.findMember(memberSelector(query)).id);
        return sendJson(response, 200, { message: 'Server removed', ...describe(member), moved });
      }
      case '/shutdown': {
        expect('POST');
        const member = await cluster.stopNode(cluster.findMember(memberSelector(query)).id);
        return sendJson(response, 200, { message: 'Server shut down', ...describe(member) });
      }
      case '/start_server': {
        expect('POST');
        const member = await cluster.startNode(cluster.findMember(memberSelector(query)).id);
        return sendJson(response, 200, { message: 'Server started', ...describe(member) });
      }
      case '/repair': {
        expect('POST');
        return sendJson(response, 200, { message: 'Repair finished', ...(await cluster.repair()) });
      }
      case '/cluster':
        expect('GET');
        return sendJson(response, 200, cluster.view());
      case '/ring': {
        expect('GET');
        const key = keyBytes(query.get('key'), options.keyBytesMax).toString('utf8');
        const { current, next } = cluster.rings();
        const listed = (ids: readonly string[]) =>
          ids.map((id) => ({ id, url: cluster.memberUrl(id) ?? null, available: cluster.isAvailable(id) }));
        const replicas = Math.min(cluster.state.replicas, current.size);
        return sendJson(response, 200, {
          key,
          position: current.position(key),
          ringVersion: cluster.state.ringVersion,
          nodes: listed(current.preferenceList(key, replicas)),
          ...(next !== undefined && {
            nextNodes: listed(next.preferenceList(key, Math.min(cluster.state.replicas, next.size))),
          }),
        });
      }
      default:
        throw routeNotFound(pathname);
    }
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { pathname, query } = splitTarget(request.url ?? '/');
    if (pathname === '/get' || pathname === '/put' || pathname === '/del') {
      return originalRoute(pathname, request.method, parseQuery(query), response);
    }
    if (pathname.startsWith('/kv/')) return restRoute(request, response, pathname.slice(4));
    return adminRoute(pathname, request.method, parseQuery(query), response);
  };

  const guarded = createGuardedServer({
    handle: route,
    logger,
    name: 'the distributor',
    inFlightMax: options.inFlightMax,
    connectionsMax: options.connectionsMax,
    bodyTimeoutMs: options.bodyTimeoutMs,
  });
  const server = guarded.server;

  const { shutdown, stopped } = stopOnce(async (reason) => {
    logger.info({ reason, inFlight: guarded.inFlight }, 'distributor shutting down');
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
    async listen() {
      const address = await listenOn(server, options.port, options.host);
      logger.info({ host: address.address, port: address.port }, 'distributor listening');
      return address;
    },
  };
}
