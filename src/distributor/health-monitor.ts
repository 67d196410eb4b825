import type { Logger } from 'pino';
import type { NodeStats } from '../node/protocol.js';
import type { NodeClient } from './node-client.js';

export interface HealthMonitorOptions {
  readonly logger: Logger;
  /** Time between probes of each node. Default 400 ms. */
  readonly intervalMs?: number;
  /** A probe slower than this fails. Default 400 ms. */
  readonly probeTimeoutMs?: number;
  /** The nodes to watch, asked afresh every round (membership changes). */
  readonly clients: () => Iterable<NodeClient>;
  readonly onChange?: (client: NodeClient, available: boolean) => void;
}

/**
 * Probes every node's /internal/stats on a fixed interval. A refused or reset connection marks a node down
 * at once; timeouts must happen twice in a row (a busy node is not a dead one). One good answer marks it up.
 * With the defaults a node that stops answering is down within 1.6 s, and up within 0.8 s of recovering.
 * The last stats of each node (its key count) are kept for GET /cluster.
 */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #timeouts = new Map<string, number>();
  readonly stats = new Map<string, NodeStats>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#round ??= this.checkAll().finally(() => {
        this.#round = undefined;
      });
    }, this.#options.intervalMs ?? 400).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#round;
  }

  /** One round of probes, all nodes in parallel. */
  async checkAll(): Promise<void> {
    await Promise.all([...this.#options.clients()].map((client) => this.check(client)));
  }

  async check(client: NodeClient): Promise<void> {
    try {
      this.stats.set(client.id, await client.probe(this.#options.probeTimeoutMs ?? 400));
      this.#timeouts.delete(client.id);
      this.#set(client, true);
    } catch (error) {
      const timedOut = (error as { code?: string }).code === 'RINGKV_ERR_NODE_TIMEOUT';
      const strikes = (this.#timeouts.get(client.id) ?? 0) + 1;
      this.#timeouts.set(client.id, strikes);
      if (!timedOut || strikes >= 2) this.#set(client, false, (error as Error).message);
    }
  }

  /** Marks a node down between probes (its process exited, a request was refused); a good probe brings it up. */
  markDown(client: NodeClient, reason: string): void {
    this.#set(client, false, reason);
  }

  #set(client: NodeClient, available: boolean, reason?: string): void {
    if (client.available === available) return;
    client.available = available;
    if (available) this.#options.logger.info({ node: client.id }, 'node is up');
    else this.#options.logger.warn({ node: client.id, reason }, 'node is down');
    this.#options.onChange?.(client, available);
  }
}
