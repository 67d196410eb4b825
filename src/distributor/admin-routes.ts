/**
 * The distributor's membership and cluster routes: add, remove, shut down and start servers, repair, and the
 * views of the cluster and the ring.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RingKvError } from '../errors.js';
import { keyBytes } from '../http/kv-api.js';
import { methodNotAllowed, routeNotFound, sendJson } from '../http/response.js';
import { bearerToken, type SecretMatcher } from '../security/secrets.js';
import type { Cluster } from './cluster.js';
import type { ResolvedDistributorOptions } from './distributor-options.js';
import type { Member } from './membership.js';

export interface AdminRouteContext {
  readonly cluster: Cluster;
  readonly options: ResolvedDistributorOptions;
}

/** The routes that change the cluster (and so need the admin token once one is set). */
export const ADMIN_ROUTES: ReadonlySet<string> = new Set([
  '/add_server',
  '/remove_server',
  '/shutdown',
  '/start_server',
  '/repair',
]);

/**
 * Throws 401 RINGKV_ERR_UNAUTHORIZED unless the request carries `Authorization: Bearer <token>`. The
 * comparison takes the same time wherever a wrong token differs.
 */
export function checkAdminToken(request: IncomingMessage, token: SecretMatcher): void {
  if (!token.matches(bearerToken(request.headers.authorization))) {
    throw new RingKvError(
      'RINGKV_ERR_UNAUTHORIZED',
      'this route needs the admin token: Authorization: Bearer <token> (ringkv printed it when it made it)',
    );
  }
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

function describe(cluster: Cluster, member: Member) {
  return {
    id: member.id,
    url: member.url,
    port: Number(new URL(member.url).port),
    local: member.localPort !== undefined,
    ringVersion: cluster.state.ringVersion,
  };
}

/** A node of a key's preference list. */
export interface ReplicaView {
  readonly id: string;
  readonly url: string | null;
  readonly available: boolean;
}

/** The body of `GET /ring?key=K`. */
export interface RingAnswer {
  readonly key: string;
  readonly position: number;
  readonly ringVersion: number;
  readonly nodes: readonly ReplicaView[];
  /** The preference list after the running move, if one runs. */
  readonly nextNodes?: readonly ReplicaView[];
}

/** `GET /ring?key=K`: the key's position and preference list (and the next one during a move). */
function ringOfKey(context: AdminRouteContext, query: Map<string, string>, response: ServerResponse): void {
  const { cluster, options } = context;
  const key = keyBytes(query.get('key'), options.keyBytesMax).toString('utf8');
  const { current, next } = cluster.rings();
  const listed = (ids: readonly string[]): ReplicaView[] =>
    ids.map((id) => ({ id, url: cluster.memberUrl(id) ?? null, available: cluster.isAvailable(id) }));
  const answer: RingAnswer = {
    key,
    position: current.position(key),
    ringVersion: cluster.state.ringVersion,
    nodes: listed(current.preferenceList(key, Math.min(cluster.state.replicas, current.size))),
    ...(next !== undefined && {
      nextNodes: listed(next.preferenceList(key, Math.min(cluster.state.replicas, next.size))),
    }),
  };
  sendJson(response, 200, answer);
}

export async function adminRoute(
  context: AdminRouteContext,
  pathname: string,
  method: string | undefined,
  query: Map<string, string>,
  response: ServerResponse,
): Promise<void> {
  const { cluster } = context;
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
      return sendJson(response, 200, { message: 'Server added', ...describe(cluster, member), moved });
    }
    case '/remove_server': {
      expect('POST');
      const { member, moved } = await cluster.removeNode(cluster.findMember(memberSelector(query)).id);
      return sendJson(response, 200, { message: 'Server removed', ...describe(cluster, member), moved });
    }
    case '/shutdown': {
      expect('POST');
      const member = await cluster.stopNode(cluster.findMember(memberSelector(query)).id);
      return sendJson(response, 200, { message: 'Server shut down', ...describe(cluster, member) });
    }
    case '/start_server': {
      expect('POST');
      const member = await cluster.startNode(cluster.findMember(memberSelector(query)).id);
      return sendJson(response, 200, { message: 'Server started', ...describe(cluster, member) });
    }
    case '/repair': {
      expect('POST');
      return sendJson(response, 200, { message: 'Repair finished', ...(await cluster.repair()) });
    }
    case '/cluster':
      expect('GET');
      return sendJson(response, 200, cluster.view());
    case '/ring':
      expect('GET');
      return ringOfKey(context, query, response);
    default:
      throw routeNotFound(pathname);
  }
}
