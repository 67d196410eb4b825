/**
 * One Prometheus registry per server (never prom-client's global one, so several servers in one process keep
 * their numbers apart), with Node's default process metrics: CPU, memory, handles, GC and event-loop lag.
 */
import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(labels: Readonly<Record<string, string>>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...labels });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}

/** Answers GET /metrics in the Prometheus text format. */
export async function sendMetrics(registry: Registry, response: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  response.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
