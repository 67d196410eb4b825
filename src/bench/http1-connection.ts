import { connect, type Socket } from 'node:net';
import { parseAnswerHead } from '../http/answer-head.js';

/**
 * One keep-alive HTTP/1.1 connection that sends a request and waits for its answer, for the load generator
 * only. It exists because a load generator's own per-request cost is what it measures against: undici's
 * request machinery held `ringkv bench` to 0.75 of wrk on one core, this to about 1.0 (bench:client). It
 * speaks just what ringkv and plain HTTP servers answer: a status line, headers, and a body framed by
 * Content-Length or chunked encoding (or none, for 204, 304 and HEAD); `connection: close` is honoured by
 * reconnecting for the next request. Anything else is an error, never a guess.
 */
export interface Http1Answer {
  readonly status: number;
  /** A view of the body; valid until the next request on this connection. */
  readonly body: Buffer;
}

interface Pending {
  readonly resolve: (answer: Http1Answer) => void;
  readonly reject: (error: Error) => void;
  readonly head: boolean;
  readonly timer: NodeJS.Timeout;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const HEADERS_MAX_BYTES = 64 * 1024;

export class Http1Connection {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #timeoutMs: number;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;

  constructor(url: string, timeoutMs = 30_000) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:')
      throw new Error(`the load generator speaks plain http, not ${parsed.protocol}`);
    this.#host = parsed.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(parsed.port || 80);
    this.#hostHeader = parsed.host;
    this.#timeoutMs = timeoutMs;
  }

  #open(): Socket {
    const socket = connect(this.#port, this.#host);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      try {
        this.#onData(chunk);
      } catch (error) {
        this.#fail(error as Error);
      }
    });
    // A socket given up after `connection: close` may still report; only the current one speaks.
    socket.on('error', (error) => {
      if (this.#socket === socket) this.#fail(error);
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#fail(new Error('the server closed the connection'));
    });
    this.#buffer = Buffer.alloc(0);
    return socket;
  }

  /** Sends one request (the connection must be idle) and resolves with the answer. */
  request(method: string, path: string, body?: string): Promise<Http1Answer> {
    if (this.#pending !== undefined)
      return Promise.reject(new Error('a request is already in flight on this connection'));
    this.#socket ??= this.#open();
    const length =
      body === undefined ? (method === 'PUT' || method === 'POST' ? 0 : undefined) : Buffer.byteLength(body);
    const head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#hostHeader}\r\n${length === undefined ? '' : `content-length: ${length}\r\n`}\r\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'TIMEOUT' }));
        this.#socket?.destroy();
      }, this.#timeoutMs);
      this.#pending = { resolve, reject, head: method === 'HEAD', timer };
      this.#socket!.write(body === undefined ? head : head + body, 'latin1');
    });
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    this.#socket?.destroy();
    this.#socket = undefined;
    pending.reject(error);
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const pending = this.#pending;
    if (pending === undefined) return;
    const end = this.#buffer.indexOf(HEADER_END);
    if (end === -1) {
      if (this.#buffer.length > HEADERS_MAX_BYTES) this.#fail(new Error('answer headers too large'));
      return;
    }
    const headText = this.#buffer.toString('latin1', 0, end);
    const parsed = parseAnswerHead(headText);
    if (parsed === undefined) {
      this.#fail(new Error(`malformed status line: ${headText.slice(0, 40)}`));
      return;
    }
    const { status, contentLength, chunked, close } = parsed;
    const bodyStart = end + 4;
    let body: Buffer;
    let consumed: number;
    if (pending.head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      consumed = bodyStart;
    } else if (chunked) {
      const decoded = decodeChunked(this.#buffer, bodyStart);
      if (decoded === undefined) return; // wait for more
      ({ body, consumed } = decoded);
    } else if (contentLength !== undefined && Number.isFinite(contentLength)) {
      if (this.#buffer.length < bodyStart + contentLength) return;
      body = this.#buffer.subarray(bodyStart, bodyStart + contentLength);
      consumed = bodyStart + contentLength;
    } else {
      this.#fail(new Error('an answer without Content-Length or chunked encoding'));
      return;
    }
    this.#buffer = this.#buffer.subarray(consumed);
    this.#pending = undefined;
    clearTimeout(pending.timer);
    if (close) {
      this.#socket?.end();
      this.#socket = undefined;
    }
    pending.resolve({ status, body });
  }

  close(): void {
    this.#socket?.end();
    this.#socket = undefined;
  }
}

/** Decodes a chunked body starting at `start`; undefined if it is not complete yet. */
function decodeChunked(buffer: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buffer.toString('latin1', offset, lineEnd), 16);
    if (!Number.isFinite(size)) throw new Error('malformed chunk size');
    const dataStart = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buffer.indexOf('\r\n', dataStart);
      if (trailerEnd === -1) return undefined;
      return { body: Buffer.concat(parts), consumed: trailerEnd + 2 };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    offset = dataStart + size + 2;
  }
}
