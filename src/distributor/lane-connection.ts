import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { parseAnswerHead } from '../http/answer-head.js';

/** An answer to a batch: its status and its body (Content-Length framed). */
export interface LaneAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * Why an exchange failed, for NodeClient to classify: `timeout` (no progress for the lane's timeout),
 * `malformed` (an answer this connection does not speak), or `transport` (refused, reset, closed).
 */
export class LaneError extends Error {
  readonly kind: 'timeout' | 'malformed' | 'transport';
  readonly code: string | undefined;

  constructor(kind: LaneError['kind'], message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

export interface LaneConnectionOptions {
  /** No answer, or no further bytes of it, for this long fails the exchange (and closes the connection). */
  readonly timeoutMs: number;
  /** The largest answer body accepted. */
  readonly answerBytesMax: number;
}

interface Pending {
  readonly resolve: (answer: LaneAnswer) => void;
  readonly reject: (error: LaneError) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const HEADERS_MAX_BYTES = 16 * 1024;
/** Reuse an idle connection only while it has been idle for less than this share of the node's keep-alive. */
const KEEP_ALIVE_SHARE = 0.5;
/** What a node's keep-alive is taken to be until an answer says (node:http's default is 5 s). */
const KEEP_ALIVE_DEFAULT_MS = 5000;

/**
 * One keep-alive HTTP/1.1 connection from the distributor to a node, for one of its batch lanes, which has
 * at most one batch in flight (BatchLane): so one request at a time, answered in order, and no pool. Through
 * undici's pool an exchange cost its client 42-49 µs of CPU at saturation and 124 at 1,000 a second; here it
 * costs 21-29 and 80 (the same POST of 200 bytes answered with 300, on one core, measured side by side). It
 * speaks only what a node's batch route answers: a status line, headers, a body framed by Content-Length.
 * An idle connection is reused only within half the keep-alive the node announces, so a request does not
 * race the node closing it; anything unexpected fails the exchange and closes the connection, and the next
 * exchange opens a new one.
 */
export class LaneConnection {
  readonly #target: NetConnectOpts;
  readonly #options: LaneConnectionOptions;
  #socket: Socket | undefined;
  #pending: Pending | undefined;
  #chunks: Buffer[] = [];
  #received = 0;
  /** Once the head is parsed: the answer's status, where its body starts and how long it is. */
  #answer: { status: number; bodyStart: number; length: number; close: boolean } | undefined;
  #idleSince = 0;
  #reuseMs = KEEP_ALIVE_DEFAULT_MS * KEEP_ALIVE_SHARE;
  #closed = false;

  /** `target`: `{ path }` for a Unix socket, `{ host, port }` for TCP. */
  constructor(target: NetConnectOpts, options: LaneConnectionOptions) {
    this.#target = target;
    this.#options = options;
  }

  /**
   * Sends `head` (the request line and headers, each ending in CRLF, without Content-Length and the blank
   * line) and `body`, and resolves with the answer. Rejects with a LaneError.
   */
  request(head: string, body: Buffer): Promise<LaneAnswer> {
    if (this.#pending !== undefined)
      return Promise.reject(new LaneError('transport', 'a batch is already in flight on this connection'));
    if (this.#closed) return Promise.reject(new LaneError('transport', 'the connection is closed'));
    if (this.#socket !== undefined && performance.now() - this.#idleSince > this.#reuseMs) this.#drop();
    this.#socket ??= this.#open();
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      socket.cork();
      socket.write(`${head}content-length: ${body.length}\r\n\r\n`, 'latin1');
      socket.write(body);
      socket.uncork();
    });
  }

  /** Closes the connection; an exchange in flight fails. */
  close(): void {
    this.#closed = true;
    this.#fail(new LaneError('transport', 'the connection was closed')); // drops the socket too
  }

  #open(): Socket {
    const socket = connect(this.#target);
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#onData(chunk);
    });
    socket.on('timeout', () => {
      // An idle connection may sit past the timeout; only an exchange waiting on it fails.
      if (this.#socket === socket && this.#pending !== undefined)
        this.#fail(new LaneError('timeout', `no answer within ${this.#options.timeoutMs} ms`, 'TIMEOUT'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#socket === socket) this.#fail(new LaneError('transport', error.message, error.code));
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#fail(new LaneError('transport', 'the node closed the connection', 'ECONNRESET'));
      this.#socket = undefined;
    });
    this.#chunks = [];
    this.#received = 0;
    this.#answer = undefined;
    return socket;
  }

  #drop(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #fail(error: LaneError): void {
    const pending = this.#pending;
    this.#drop();
    if (pending === undefined) return;
    this.#pending = undefined;
    pending.reject(error);
  }

  #onData(chunk: Buffer): void {
    if (this.#pending === undefined) {
      this.#fail(new LaneError('malformed', 'the node sent bytes no request asked for'));
      return;
    }
    this.#chunks.push(chunk);
    this.#received += chunk.length;
    if (this.#answer === undefined && !this.#parseHead()) return;
    const answer = this.#answer!;
    const end = answer.bodyStart + answer.length;
    if (this.#received < end) return;
    if (this.#received > end) {
      this.#fail(new LaneError('malformed', 'the node sent more than its answer'));
      return;
    }
    const whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#received);
    const pending = this.#pending;
    this.#pending = undefined;
    this.#chunks = [];
    this.#received = 0;
    this.#answer = undefined;
    if (answer.close) this.#drop();
    else this.#idleSince = performance.now();
    pending.resolve({ status: answer.status, body: whole.subarray(answer.bodyStart, end) });
  }

  /** Parses the answer's head once it is complete; false while it is not (or after failing the exchange). */
  #parseHead(): boolean {
    const buffer = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#received);
    this.#chunks = [buffer];
    const headEnd = buffer.indexOf(HEADER_END);
    if (headEnd === -1) {
      if (this.#received > HEADERS_MAX_BYTES)
        this.#fail(new LaneError('malformed', 'answer headers too large'));
      return false;
    }
    const head = buffer.toString('latin1', 0, headEnd);
    const parsed = parseAnswerHead(head);
    if (parsed === undefined || parsed.status < 200) {
      this.#fail(new LaneError('malformed', `unexpected status line: ${head.slice(0, 40)}`));
      return false;
    }
    const { status, contentLength: length, chunked, close, keepAliveSeconds } = parsed;
    if (keepAliveSeconds !== undefined) this.#reuseMs = keepAliveSeconds * 1000 * KEEP_ALIVE_SHARE;
    if (chunked || length === undefined || !Number.isSafeInteger(length)) {
      this.#fail(new LaneError('malformed', 'an answer not framed by Content-Length'));
      return false;
    }
    if (length > this.#options.answerBytesMax) {
      this.#fail(
        new LaneError('malformed', `an answer of ${length} bytes, over ${this.#options.answerBytesMax}`),
      );
      return false;
    }
    this.#answer = { status, bodyStart: headEnd + 4, length, close };
    return true;
  }
}
