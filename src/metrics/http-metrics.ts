import { Counter, type Registry } from 'prom-client';
import { type CounterChild, type HistogramChild, HotCounter, HotHistogram } from './hot-metrics.js';

/** Latency buckets in seconds: from half a millisecond (a cached read) to ten seconds (a stuck node). */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** One route's children: its latency histogram, and a counter per status it answered. */
interface RouteChildren {
  readonly duration: HistogramChild;
  readonly byStatus: Map<number, CounterChild>;
}

/**
 * Requests a server answered, by route and status, and their latency by route. Routes are a fixed set named
 * by the server (`routeOf`), never the raw path, so a client cannot grow the series without bound. Counting
 * a request is two map lookups and two increments (hot-metrics.ts).
 */
export class HttpMetrics {
  readonly #requests: HotCounter;
  readonly #duration: HotHistogram;
  readonly #malformed: Counter;
  readonly #routes = new Map<string, RouteChildren>();

  constructor(registry: Registry) {
    this.#requests = new HotCounter({
      name: 'ringkv_http_requests_total',
      help: 'HTTP requests answered, by route and status.',
      labelNames: ['route', 'status'],
      registry,
    });
    this.#duration = new HotHistogram({
      name: 'ringkv_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by route.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registry,
    });
    this.#malformed = new Counter({
      name: 'ringkv_http_malformed_requests_total',
      help: 'Connections that sent something that is not HTTP (answered 400 or 431 and closed).',
      registers: [registry],
    });
  }

  observe(route: string, status: number, durationMs: number): void {
    let children = this.#routes.get(route);
    if (children === undefined) {
      children = { duration: this.#duration.labels(route), byStatus: new Map() };
      this.#routes.set(route, children);
    }
    let counter = children.byStatus.get(status);
    if (counter === undefined) {
      counter = this.#requests.labels(route, String(status));
      children.byStatus.set(status, counter);
    }
    counter.count++;
    children.duration.observe(durationMs / 1000);
  }

  malformed(): void {
    this.#malformed.inc();
  }
}
