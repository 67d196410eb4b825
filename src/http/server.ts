import { once } from 'node:events';
import { chmod, lstat, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createConnection, createServer as createNetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { RingKvError } from '../errors.js';
import { integerInRange } from '../validate.js';
import { sendError } from './response.js';

export interface GuardedServerOptions {
  /**
   * Handles one request; whatever it throws (or its promise rejects with) is answered as `{ error, code }`.
   * A handler that answers at once returns undefined: no promise, no microtask (a cached read's whole path).
   */
  readonly handle: (request: IncomingMessage, response: ServerResponse) => Promise<void> | undefined;
  readonly logger: Logger;
  /** What the server is, for messages: "this node", "the distributor". */
  readonly name: string;
  readonly inFlightMax: number;
  readonly connectionsMax: number;
  readonly bodyTimeoutMs: number;
  /** Time for a request's line and headers to arrive. */
  readonly headersTimeoutMs: number;
  /** Bytes of a request's line (the URL included) and headers together. */
  readonly headerBytesMax: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Called once per request when its handler is done, with the status it answered (metrics). */
  readonly onAnswered?: (request: IncomingMessage, status: number, durationMs: number) => void;
  /** Called for a connection that sent something that is not HTTP. */
  readonly onMalformed?: () => void;
}

export interface GuardedServer {
  readonly server: Server;
  readonly inFlight: number;
  /** Connections open now, idle keep-alive ones included. */
  readonly connections: number;
  /**
   * Stops accepting connections, answers requests on open ones with 503 RINGKV_ERR_SHUTTING_DOWN, waits up
   * to `timeoutMs` for requests in flight, then closes every connection.
   */
  drain(timeoutMs: number): Promise<void>;
}

/** The limits every server takes as options, with their defaults. */
export const SERVER_LIMIT_DEFAULTS = {
  headersTimeoutMs: 10_000,
  headerBytesMax: 16 * 1024,
  keepAliveTimeoutMs: 5_000,
};

/** Checks the shared server limits of a merged options object; messages name the option. */
export function validateServerLimits(options: typeof SERVER_LIMIT_DEFAULTS): void {
  integerInRange(options.headersTimeoutMs, 'headersTimeoutMs', 100, 600_000);
  integerInRange(options.headerBytesMax, 'headerBytesMax', 1024, 1024 * 1024);
  integerInRange(options.keepAliveTimeoutMs, 'keepAliveTimeoutMs', 100, 600_000);
}

/**
 * The node:http server every ringkv process uses: a bound on requests in flight (503 with Retry-After past
 * it), on connections, on header size (16 KiB) and on time, JSON answers to malformed requests, and a drain
 * for graceful shutdown.
 */
export function createGuardedServer(options: GuardedServerOptions): GuardedServer {
  const { logger } = options;
  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | undefined;
  // Called when a handler is done: by then the answer is sent (or, for a stream, the stream ended).
  const done = (request: IncomingMessage, response: ServerResponse, started: number) => {
    inFlight--;
    options.onAnswered?.(request, response.statusCode, performance.now() - started);
    if (inFlight === 0) drained?.();
  };
  const server = createServer(
    {
      requestTimeout: options.headersTimeoutMs + options.bodyTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      maxHeaderSize: options.headerBytesMax,
      // How often node:http looks for requests past their timeouts (its default, 30 s, would let a slow
      // client hold a connection far longer than headersTimeoutMs).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(options.headersTimeoutMs / 2))),
      noDelay: true,
    },
    (request, response) => {
      const started = performance.now();
      if (stopping || inFlight >= options.inFlightMax) {
        const refusal = stopping
          ? new RingKvError('RINGKV_ERR_SHUTTING_DOWN', `${options.name} is shutting down`)
          : new RingKvError('RINGKV_ERR_OVERLOADED', `over ${options.inFlightMax} requests in flight`);
        sendError(response, refusal, logger);
        options.onAnswered?.(request, response.statusCode, performance.now() - started);
        return;
      }
      inFlight++;
      let pending: Promise<void> | undefined;
      try {
        pending = options.handle(request, response);
      } catch (error) {
        sendError(response, error, logger);
      }
      if (pending === undefined) done(request, response, started);
      else
        pending.then(
          () => done(request, response, started),
          (error: unknown) => {
            sendError(response, error, logger);
            done(request, response, started);
          },
        );
    },
  );
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  server.maxConnections = options.connectionsMax;
  server.keepAliveTimeout = options.keepAliveTimeoutMs; // a property, not a createServer option
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    options.onMalformed?.();
    if (!socket.writable) return;
    const { status, reason, body } = clientErrorAnswer(error, options);
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  });
  return {
    server,
    get inFlight() {
      return inFlight;
    },
    get connections() {
      return connections;
    },
    async drain(timeoutMs) {
      stopping = true;
      const closed = server.listening ? once(server, 'close') : Promise.resolve();
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          sleep(timeoutMs, undefined, { ref: false }),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The answer to a connection node:http could not parse, or that was too slow to send its request. */
function clientErrorAnswer(
  error: NodeJS.ErrnoException,
  options: GuardedServerOptions,
): { status: number; reason: string; body: Record<string, unknown> } {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      reason: 'Request Header Fields Too Large',
      body: {
        error: `the request line and headers are over ${options.headerBytesMax} bytes; send large values as the body of PUT /kv/<key>`,
        code: 'RINGKV_ERR_HEADERS_TOO_LARGE',
        limitBytes: options.headerBytesMax,
      },
    };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      reason: 'Request Timeout',
      body: {
        error: `the request did not arrive within ${options.headersTimeoutMs} ms (headers) or ${options.headersTimeoutMs + options.bodyTimeoutMs} ms (whole)`,
        code: 'RINGKV_ERR_REQUEST_TIMEOUT',
      },
    };
  }
  return {
    status: 400,
    reason: 'Bad Request',
    body: { error: `malformed request: ${error.code ?? error.message}`, code: 'RINGKV_ERR_INVALID_ARGUMENT' },
  };
}

/**
 * Listens on host:port and resolves with the bound address (port 0 picks a free port). A port another process
 * holds, or an address this machine does not have, is RINGKV_ERR_INVALID_OPTION naming it.
 */
export async function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new RingKvError('RINGKV_ERR_INVALID_OPTION', `cannot listen on ${host}:${port}: ${code}`);
    throw error;
  }
  return server.address() as AddressInfo;
}

/** Longest Unix socket path accepted (Linux allows 107 bytes, macOS 103). */
export const SOCKET_PATH_BYTES_MAX = 100;

/**
 * Serves `server`'s requests on a Unix socket at `path` as well (mode 0600), for a distributor on the same
 * machine: a message over a local socket costs the kernel less than one over TCP on loopback (measured in
 * docs/PERFORMANCE.md). A socket file left by a process that died is replaced; one a live process still
 * answers on is not, nor is any other kind of file. Errors once it listens (accept failures) are logged.
 * Resolves with a function that stops listening and removes the file.
 */
export async function listenOnSocket(
  server: Server,
  path: string,
  connectionsMax: number,
  logger: Logger,
): Promise<() => Promise<void>> {
  await removeStaleSocket(path);
  const listener = createNetServer((socket) => server.emit('connection', socket));
  // Its own bound, beside the TCP listener's (connections handed over by 'connection' skip the server's).
  listener.maxConnections = connectionsMax;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(path, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  listener.on('error', (error) => logger.warn({ err: error, path }, 'unix socket listener error'));
  await chmod(path, 0o600);
  return async () => {
    const closed = once(listener, 'close');
    listener.close();
    await closed;
    await rm(path, { force: true });
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined);
  if (found === undefined) return;
  if (!found.isSocket())
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `${path} exists and is not a socket: not replacing it`,
    );
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path)
      .once('connect', () => {
        probe.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false));
  });
  if (live)
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', `another process is serving on the socket ${path}`);
  await rm(path, { force: true });
}

/**
 * Runs `stop` at most once however often shutdown is asked for (a signal, POST /shutdown, a parent going
 * away); `stopped` resolves once it has finished.
 */
export function stopOnce(stop: (reason: string) => Promise<void>): {
  readonly shutdown: (reason: string) => Promise<void>;
  readonly stopped: Promise<void>;
} {
  let running: Promise<void> | undefined;
  let finished!: () => void;
  const stopped = new Promise<void>((resolve) => {
    finished = resolve;
  });
  return {
    stopped,
    shutdown: (reason) => {
      running ??= stop(reason).then(finished);
      return running;
    },
  };
}
