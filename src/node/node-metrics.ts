/**
 * A storage node's Prometheus metrics (GET /metrics): requests by route and status with latencies, what the
 * engine holds (read when scraped), snapshots written, and Node's process metrics with event-loop lag.
 */
import type { IncomingMessage } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HttpMetrics } from '../metrics/http-metrics.js';
import { createRegistry } from '../metrics/registry.js';
import type { StorageEngine } from '../storage/engine.js';
import { LmdbEngine } from '../storage/lmdb-engine.js';

const CLIENT_ROUTES = new Set(['/get', '/put', '/del', '/shutdown', '/metrics']);
const INTERNAL_ROUTES = new Set([
  'health',
  'stats',
  'kv',
  'batch',
  'multi',
  'scan',
  'count',
  'drop',
  'push',
  'digest',
  'join',
]);

/** Every route label but `unmatched`: the routes a node answers (test/docs checks API.md has them). */
export function nodeRouteLabels(): string[] {
  return [...CLIENT_ROUTES, '/kv', ...[...INTERNAL_ROUTES].map((name) => `/internal/${name}`)];
}

/** Paths that are their own label, looked up whole: every request of a node is labeled. */
const EXACT_ROUTES = new Set(nodeRouteLabels().filter((label) => label !== '/kv'));

/** The route label of a request path, from a fixed set. */
export function nodeRoute(url: string): string {
  if (EXACT_ROUTES.has(url)) return url;
  const mark = url.indexOf('?');
  const pathname = mark === -1 ? url : url.slice(0, mark);
  if (CLIENT_ROUTES.has(pathname)) return pathname;
  if (pathname.startsWith('/kv/')) return '/kv';
  if (pathname.startsWith('/internal/')) {
    const name = pathname.slice('/internal/'.length).split('/')[0]!;
    return INTERNAL_ROUTES.has(name) ? `/internal/${name}` : 'unmatched';
  }
  return 'unmatched';
}

export class NodeMetrics {
  readonly registry: Registry;
  readonly #http: HttpMetrics;
  readonly #snapshots: Counter<'outcome'>;

  constructor(nodeId: string, engine: StorageEngine) {
    this.registry = createRegistry({ service: 'ringkv-node', node: nodeId });
    this.#http = new HttpMetrics(this.registry);
    this.#snapshots = new Counter({
      name: 'ringkv_snapshots_total',
      help: 'JSON snapshots written, by outcome (written or failed).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    const engineGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    engineGauge('ringkv_keys', 'Live keys stored.', () => engine.stats().liveKeys);
    engineGauge(
      'ringkv_tombstones',
      'Deleted keys remembered until their tombstones expire.',
      () => engine.stats().tombstones,
    );
    engineGauge('ringkv_bytes_stored', "Bytes the engine's data occupies.", () => engine.stats().bytes);
    engineGauge('ringkv_writes_applied', 'Writes applied since the node started.', () => engine.changeCount);
    if (engine instanceof LmdbEngine) {
      engineGauge(
        'ringkv_storage_commits',
        'Transactions committed and flushed since the node started (writes share them under load).',
        () => engine.commits,
      );
      engineGauge(
        'ringkv_storage_cache_hits',
        'Reads answered from the record cache since the node started.',
        () => engine.cache.hits,
      );
      engineGauge(
        'ringkv_storage_cache_misses',
        'Reads the record cache could not answer since the node started (they read lmdb).',
        () => engine.cache.misses,
      );
      engineGauge(
        'ringkv_storage_cache_evictions',
        'Records the record cache pushed out to make room since the node started.',
        () => engine.cache.evictions,
      );
      engineGauge('ringkv_storage_cache_bytes', 'Bytes the record cache holds.', () => engine.cache.bytes);
    }
  }

  answered(request: IncomingMessage, status: number, durationMs: number): void {
    this.#http.observe(nodeRoute(request.url ?? '/'), status, durationMs);
  }

  malformed(): void {
    this.#http.malformed();
  }

  snapshot(outcome: 'written' | 'failed'): void {
    this.#snapshots.inc({ outcome });
  }
}
