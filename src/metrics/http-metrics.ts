import { Counter, Histogram, type Registry } from 'prom-client';

/** Latency buckets in seconds: from half a millisecond (a cached read) to ten seconds (a stuck node). */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Requests a server answered, by route and status, and their latency by route. Routes are a fixed set named
 * by the server (`routeOf`), never the raw path, so a client cannot grow the series without bound. The
 * labelled children are cached: the hot path does two map lookups, not label hashing.
 */
export class HttpMetrics {
  readonly #requests: Counter<'route' | 'status'>;
  readonly #duration: Histogram<'route'>;
  readonly #malformed: Counter;
  readonly #counters = new Map<string, Counter.Internal>();
  readonly #histograms = new Map<string, Histogram.Internal<'route'>>();

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'ringkv_http_requests_total',
      help: 'HTTP requests answered, by route and status.',
      labelNames: ['route', 'status'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'ringkv_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer being sent, by route.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.#malformed = new Counter({
      name: 'ringkv_http_malformed_requests_total',
      help: 'Connections that sent something that is not HTTP (answered 400 or 431 and closed).',
      registers: [registry],
    });
  }

  observe(route: string, status: number, durationMs: number): void {
    const key = `${route} ${status}`;
    let counter = this.#counters.get(key);
    if (counter === undefined) {
      counter = this.#requests.labels(route, String(status));
      this.#counters.set(key, counter);
    }
    counter.inc();
    let histogram = this.#histograms.get(route);
    if (histogram === undefined) {
      histogram = this.#duration.labels(route);
      this.#histograms.set(route, histogram);
    }
    histogram.observe(durationMs / 1000);
  }

  malformed(): void {
    this.#malformed.inc();
  }
}
