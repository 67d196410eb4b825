import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { RingKvClientError } from './client-errors.js';
import type { ResolvedClientOptions } from './client-options.js';

export interface CallOptions {
  /** This call's budget, retries included (overrides the client's); 0 = none. */
  readonly timeoutMs?: number;
  /** Aborts the call; it then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export interface Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** Admin calls carry the token and have their own budget. */
  readonly admin?: boolean;
  /** Whether a 503 or a lost connection may be retried (not for calls that change membership). */
  readonly retry: boolean;
}

/** Error codes of connections that failed before an answer (refused, reset, unreachable): a retry can succeed. */
const TRANSPORT_RETRYABLE =
  /ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|EHOSTUNREACH|ENETUNREACH/;

/**
 * The client's HTTP: a keep-alive pool to the distributor, a time budget per call, and retries with
 * exponential back-off and full jitter on 503 (at least the `Retry-After` the server asked for) and on lost
 * connections. Answers of any other status are returned as they are.
 */
export class Transport {
  readonly #options: ResolvedClientOptions;
  readonly #pool: Pool;
  readonly #basePath: string;

  constructor(options: ResolvedClientOptions) {
    this.#options = options;
    const url = new URL(options.url);
    this.#pool = new Pool(url.origin, { connections: options.connections, keepAliveTimeout: 4_000 });
    this.#basePath = url.pathname.replace(/\/+$/, '');
  }

  async request(request: Request, call: CallOptions = {}): Promise<Exchange> {
    const budget = call.timeoutMs ?? (request.admin ? this.#options.adminTimeoutMs : this.#options.timeoutMs);
    const deadline = budget > 0 ? Date.now() + budget : Number.POSITIVE_INFINITY;
    const signals = [call.signal, budget > 0 ? AbortSignal.timeout(budget) : undefined].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const headers: Record<string, string> = { ...request.headers };
    if (request.admin && this.#options.adminToken !== undefined)
      headers.authorization = `Bearer ${this.#options.adminToken}`;
    for (let attempt = 0; ; attempt++) {
      const canRetry = request.retry && attempt < this.#options.retries;
      let exchange: Exchange;
      try {
        exchange = await this.#send(request, headers, signal);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        if (signal?.aborted) throw this.#timeout(request, budget);
        const code = String((error as { code?: string }).code ?? '');
        if (code === 'UND_ERR_INVALID_ARG') {
          throw new RingKvClientError('RINGKV_ERR_INVALID_ARGUMENT', (error as Error).message, 0);
        }
        const failure = new RingKvClientError(
          'RINGKV_ERR_UNREACHABLE',
          `could not reach ${this.#options.url}: ${code || (error as Error).message}`,
          0,
          { url: this.#options.url },
        );
        const delay = this.#delay(attempt, undefined);
        if (!canRetry || !TRANSPORT_RETRYABLE.test(code) || Date.now() + delay >= deadline) throw failure;
        await this.#wait(delay, signal);
        continue;
      }
      if (exchange.status !== 503 || !canRetry) return exchange;
      const delay = this.#delay(attempt, exchange.headers['retry-after']);
      if (Date.now() + delay >= deadline) return exchange;
      await this.#wait(delay, signal);
    }
  }

  async #send(
    request: Request,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Exchange> {
    const answer = await this.#pool.request({
      method: request.method,
      path: `${this.#basePath}${request.path}`,
      headers,
      ...(request.body !== undefined && { body: request.body }),
      ...(signal !== undefined && { signal }),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    return { status: answer.statusCode, headers: answer.headers, body };
  }

  /** Back-off before retry `attempt + 1`: full jitter, at least what Retry-After asked, at most the maximum. */
  #delay(attempt: number, retryAfter: string | string[] | undefined): number {
    const { retryDelayMs, retryDelayMaxMs } = this.#options;
    const jittered = Math.random() * Math.min(retryDelayMaxMs, retryDelayMs * 2 ** attempt);
    const asked = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) * 1000;
    return Math.min(retryDelayMaxMs, Math.max(jittered, Number.isFinite(asked) ? asked : 0));
  }

  /** Sleeps; an abort ends the sleep early (the next attempt then fails at once with the right error). */
  async #wait(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
    await sleep(delayMs, undefined, signal === undefined ? {} : { signal }).catch(() => {});
  }

  #timeout(request: Request, budget: number): RingKvClientError {
    return new RingKvClientError(
      'RINGKV_ERR_CLIENT_TIMEOUT',
      `${request.method} ${request.path} took longer than ${budget} ms`,
      0,
      { timeoutMs: budget },
    );
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
