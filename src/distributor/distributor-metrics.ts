/**
 * What the distributor reports: Prometheus metrics (GET /metrics) and the per-second traffic windows of the
 * dashboard. Request counts and latencies are recorded as requests finish; the cluster's state (members,
 * keys, moves, hints, repair) is read from the cluster view when Prometheus scrapes.
 */
import type { IncomingMessage } from 'node:http';
import { Gauge, type Registry } from 'prom-client';
import { type CounterChild, type HistogramChild, HotCounter, HotHistogram } from '../metrics/hot-metrics.js';
import { HttpMetrics, LATENCY_BUCKETS_SECONDS } from '../metrics/http-metrics.js';
import { createRegistry } from '../metrics/registry.js';
import type { ClusterView } from './cluster.js';
import { TrafficStats } from './traffic-stats.js';

const KV_ROUTES = new Set(['/get', '/put', '/del', '/mget', '/mput']);
const NAMED_ROUTES = new Set([
  '/add_server',
  '/remove_server',
  '/shutdown',
  '/start_server',
  '/repair',
  '/cluster',
  '/ring',
  '/ring/layout',
  '/stats',
  '/metrics',
  '/events',
  '/',
]);

/** Every route label but `unmatched`: the routes the distributor answers (test/docs checks API.md has them). */
export function distributorRouteLabels(): string[] {
  return [...KV_ROUTES, ...NAMED_ROUTES, '/kv', '/dashboard'];
}

/** The route label of a request path: one of a fixed set, so no client can grow the series. */
export function distributorRoute(pathname: string): string {
  if (KV_ROUTES.has(pathname) || NAMED_ROUTES.has(pathname)) return pathname;
  if (pathname.startsWith('/kv/')) return '/kv';
  if (pathname.startsWith('/dashboard/')) return '/dashboard';
  return 'unmatched';
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  return mark === -1 ? url : url.slice(0, mark);
}

export class DistributorMetrics {
  readonly registry: Registry;
  readonly traffic: TrafficStats;
  readonly #http: HttpMetrics;
  readonly #operations: HotCounter;
  readonly #operationDuration: HotHistogram;
  #view: { readonly atMs: number; readonly view: ClusterView } | undefined;
  /** The labelled children of the per-operation metrics, by node, kind and outcome: no label hashing per op. */
  readonly #operationChildren = new Map<string, { count: CounterChild; duration: HistogramChild }>();

  constructor(distributorId: string, view: () => ClusterView, nowMs: number) {
    this.registry = createRegistry({ service: 'ringkv-distributor', distributor: distributorId });
    this.traffic = new TrafficStats(nowMs);
    this.#http = new HttpMetrics(this.registry);
    this.#operations = new HotCounter({
      name: 'ringkv_forwarded_operations_total',
      help: 'Reads and writes sent to each node, by outcome: ok, or the error code.',
      labelNames: ['node', 'kind', 'outcome'],
      registry: this.registry,
    });
    this.#operationDuration = new HotHistogram({
      name: 'ringkv_forwarded_operation_duration_seconds',
      help: "Time from an operation's queuing for a node to the node's answer, by node.",
      labelNames: ['node'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registry: this.registry,
    });
    // One view per scrape, shared by every gauge below.
    const current = () => {
      if (this.#view === undefined || Date.now() - this.#view.atMs > 250)
        this.#view = { atMs: Date.now(), view: view() };
      return this.#view.view;
    };
    this.#clusterGauges(current);
  }

  /**
   * Records a client request once its answer is sent (GuardedServer's onAnswered). True if it was key-value
   * traffic, the requests whose latency clients feel.
   */
  answered(request: IncomingMessage, status: number, durationMs: number): boolean {
    const route = distributorRoute(pathOf(request));
    if (route === '/events') return false; // a stream's lifetime is not a latency
    this.#http.observe(route, status, durationMs);
    // The dashboard's traffic is the key-value traffic: a minute-long add_server is not a slow request.
    if (!KV_ROUTES.has(route) && route !== '/kv') return false;
    this.traffic.recordRequest(durationMs, status);
    return true;
  }

  malformed(): void {
    this.#http.malformed();
  }

  /** Records one operation forwarded to a node (NodeClient's onOperation). */
  operation(node: string, kind: string, durationMs: number, errorCode: string | undefined): void {
    const outcome = errorCode ?? 'ok';
    const key = `${node} ${kind} ${outcome}`;
    let children = this.#operationChildren.get(key);
    if (children === undefined) {
      children = {
        count: this.#operations.labels(node, kind, outcome),
        duration: this.#operationDuration.labels(node),
      };
      this.#operationChildren.set(key, children);
    }
    children.count.count++;
    children.duration.observe(durationMs / 1000);
    this.traffic.recordOperation(node, durationMs, errorCode !== undefined);
  }

  #clusterGauges(current: () => ClusterView): void {
    const registers = [this.registry];
    const perNode = (name: string, help: string, value: (member: ClusterView['members'][number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['node'],
        registers,
        collect() {
          this.reset();
          for (const member of current().members) this.set({ node: member.id }, value(member));
        },
      });
    const single = (name: string, help: string, value: (view: ClusterView) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(current()));
        },
      });
    perNode('ringkv_node_up', '1 when the node answers health checks and is meant to run.', (m) =>
      m.status === 'up' ? 1 : 0,
    );
    perNode('ringkv_node_keys', 'Live keys on the node (last health check).', (m) => m.keys ?? 0);
    perNode('ringkv_node_bytes', 'Bytes the node stores (last health check).', (m) => m.bytes ?? 0);
    perNode('ringkv_node_ring_share', "The node's fraction of the ring.", (m) => m.share);
    perNode(
      'ringkv_node_hints_pending',
      'Writes waiting for the node (hinted handoff).',
      (m) => m.hintsPending,
    );
    single('ringkv_ring_version', 'Version of the ring routing requests.', (v) => v.ringVersion);
    single('ringkv_replicas', 'N: copies of each key.', (v) => v.replicas);
    single('ringkv_members', 'Members of the cluster.', (v) => v.members.length);
    single('ringkv_move_in_progress', '1 while a data move (add or remove a server) runs.', (v) =>
      v.move === null ? 0 : 1,
    );
    single('ringkv_move_keys_total', 'Keys the running move has to copy.', (v) => v.move?.keysTotal ?? 0);
    single('ringkv_move_keys_moved', 'Keys the running move has copied.', (v) => v.move?.keysMoved ?? 0);
    single(
      'ringkv_move_ranges_total',
      'Ranges the running move has to copy.',
      (v) => v.move?.rangesTotal ?? 0,
    );
    single(
      'ringkv_move_ranges_moved',
      'Ranges the running move has copied.',
      (v) => v.move?.rangesMoved ?? 0,
    );
    single('ringkv_hints_pending', 'Writes kept for replicas that were down.', (v) => v.hints.pending);
    single(
      'ringkv_hints_delivered',
      'Hints delivered since the distributor started.',
      (v) => v.hints.delivered,
    );
    single(
      'ringkv_read_repairs',
      'Replicas repaired by reads since the distributor started.',
      (v) => v.readRepairs,
    );
    single('ringkv_repair_in_progress', '1 while an anti-entropy repair runs.', (v) =>
      v.repair !== null && (v.repair.phase === 'digesting' || v.repair.phase === 'repairing') ? 1 : 0,
    );
    single(
      'ringkv_repair_ranges_total',
      'Ranges the last repair compares.',
      (v) => v.repair?.rangesTotal ?? 0,
    );
    single(
      'ringkv_repair_ranges_digested',
      'Ranges the last repair has compared.',
      (v) => v.repair?.rangesDigested ?? 0,
    );
    single(
      'ringkv_repair_keys_repaired',
      'Records the last repair copied.',
      (v) => v.repair?.keysRepaired ?? 0,
    );
  }
}
