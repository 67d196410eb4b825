/**
 * The distributor's observability: Prometheus metrics (GET /metrics), the traffic history (GET /stats), the
 * dashboard's live event stream (GET /events) and the dashboard itself. One timer closes each second of
 * traffic and sends it to every open stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardRoutes } from '../dashboard/dashboard-routes.js';
import { EventStreams } from '../dashboard/event-stream.js';
import { methodNotAllowed, sendJson } from '../http/response.js';
import { sendMetrics } from '../metrics/registry.js';
import type { Cluster } from './cluster.js';
import { DistributorMetrics } from './distributor-metrics.js';

export class Observability {
  readonly metrics: DistributorMetrics;
  readonly #cluster: () => Cluster;
  readonly #events: EventStreams;
  readonly #dashboard: DashboardRoutes;
  readonly #timer: NodeJS.Timeout;

  /** `cluster` is asked for lazily: the cluster reports its operations here while it opens. */
  constructor(distributorId: string, cluster: () => Cluster, eventStreamsMax: number) {
    this.#cluster = cluster;
    this.metrics = new DistributorMetrics(distributorId, () => cluster().view(), Date.now());
    this.#events = new EventStreams({
      streamsMax: eventStreamsMax,
      hello: () => ({ ...this.#tickEvent(), series: this.metrics.traffic.series() }),
      tick: () => this.#tickEvent(),
    });
    this.#dashboard = new DashboardRoutes({
      rings: () => ({ ...cluster().rings(), version: cluster().state.ringVersion }),
    });
    this.#timer = setInterval(() => {
      this.metrics.traffic.tick(Date.now());
      this.#events.broadcast();
    }, 1000).unref();
  }

  #tickEvent() {
    return {
      cluster: this.#cluster().view(),
      second: this.metrics.traffic.series().at(-1) ?? null,
      nodes: Object.fromEntries(this.metrics.traffic.nodes()),
    };
  }

  /** Answers /metrics, /stats, /events and the dashboard's paths; false for any other path. */
  async handle(pathname: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (pathname === '/metrics' || pathname === '/stats' || pathname === '/events') {
      if (request.method !== 'GET') throw methodNotAllowed(request.method, pathname, ['GET']);
      if (pathname === '/metrics') await sendMetrics(this.metrics.registry, response);
      else if (pathname === '/stats')
        sendJson(response, 200, {
          series: this.metrics.traffic.series(),
          nodes: Object.fromEntries(this.metrics.traffic.nodes()),
        });
      else await this.#events.serve(request, response);
      return true;
    }
    return this.#dashboard.handle(pathname, request, response);
  }

  /** Ends the event streams (so a shutdown's drain does not wait for them) and the timer. */
  close(): void {
    clearInterval(this.#timer);
    this.#events.close();
  }
}
