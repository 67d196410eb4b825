import type { IncomingMessage, ServerResponse } from 'node:http';
import { RingKvError } from '../errors.js';

export interface EventStreamOptions {
  /** Open streams at most; more answer 503. */
  readonly streamsMax: number;
  /** The first event a new stream gets (the full state, with history). */
  readonly hello: () => unknown;
  /** The event every stream gets on each broadcast. */
  readonly tick: () => unknown;
}

/** A client that reads this slowly (bytes queued) is dropped rather than buffered without bound. */
const QUEUED_BYTES_MAX = 1024 * 1024;

/**
 * Server-sent events for the dashboard: each open stream gets the full state once, then a `tick` event on each
 * broadcast (the owner's once-a-second timer), rendered once for all streams, and only when someone listens.
 */
export class EventStreams {
  readonly #options: EventStreamOptions;
  readonly #streams = new Map<ServerResponse, () => void>();

  constructor(options: EventStreamOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Serves one stream; resolves when it closes (the client left, or close() was called). */
  serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.#streams.size >= this.#options.streamsMax) {
      throw new RingKvError('RINGKV_ERR_OVERLOADED', `${this.#options.streamsMax} event streams are open`);
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(this.#options.hello())}\n\n`);
    return new Promise((resolve) => {
      this.#streams.set(response, () => response.end());
      request.socket.setTimeout(0);
      response.once('close', () => {
        this.#streams.delete(response);
        resolve();
      });
    });
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const end of this.#streams.values()) end();
  }

  broadcast(): void {
    if (this.#streams.size === 0) return;
    const event = `event: tick\ndata: ${JSON.stringify(this.#options.tick())}\n\n`;
    for (const response of this.#streams.keys()) {
      if (response.writableLength > QUEUED_BYTES_MAX) response.destroy();
      else response.write(event);
    }
  }
}
