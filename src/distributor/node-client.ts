import { Pool } from 'undici';
import { type ErrorCode, errorCatalog, RingKvError } from '../errors.js';
import {
  decodeMultiResponse,
  encodeMultiRequest,
  type MultiOp,
  type MultiResult,
} from '../node/multi-protocol.js';
import {
  type BatchAnswer,
  type CountAnswer,
  type DeleteAnswer,
  type DigestAnswer,
  type DropAnswer,
  MULTI_CONTENT_TYPE,
  NODE_SERVICE,
  type NodeHealth,
  type NodeStats,
  type PositionRange,
  RECORDS_CONTENT_TYPE,
  type WriteAnswer,
} from '../node/protocol.js';
import type { PushProgress, PushResult } from '../node/push.js';
import { CLUSTER_SECRET_HEADER } from '../security/secrets.js';
import { encodeRecordFrames, RecordFrameDecoder, type StoredRecord } from '../storage/record.js';
import type { Version } from '../version/version.js';
import { BatchLane } from './batch-lane.js';
import { type LaneAnswer, LaneConnection, LaneError } from './lane-connection.js';

export interface NodeClientSettings {
  /** Sent on every request (x-ringkv-cluster-secret): a node that belongs to the cluster requires it. */
  readonly clusterSecret?: string;
  /** Keep-alive connections to the node for what is not a batch (health, scans, pushes, admin calls). */
  readonly connections: number;
  /** Requests in flight to the node at once; more answer 503 at once rather than queue without bound. */
  readonly inFlightMax: number;
  /** Time for the node to start answering, and between chunks of its answer. */
  readonly timeoutMs: number;
}

/** A key read from one node: its value, its tombstone, or nothing. */
export type NodeRead =
  | {
      readonly kind: 'found';
      readonly version: Version;
      readonly value: Buffer;
      readonly contentType?: string;
    }
  | { readonly kind: 'tombstone'; readonly version: Version }
  | { readonly kind: 'absent' };

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST' | 'HEAD';

interface Exchange {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A push answers a line per batch; this long without one means it is stuck. */
const PUSH_IDLE_TIMEOUT_MS = 60_000;
/** Operations one batch to a node carries at most. */
const BATCH_OPS_MAX = 256;
/** The largest frame a node may send back in a scan: a 64 MiB value and its key. */
const FRAME_BYTES_MAX = 65 * 1024 * 1024;
/**
 * The largest answer to a batch accepted: BATCH_OPS_MAX reads of values at the default limit (1 MiB) fit,
 * with room. A batch whose values are larger in all (values of up to 64 MiB may be allowed) fails as the
 * node's error rather than be held in memory.
 */
const BATCH_ANSWER_BYTES_MAX = 1024 * 1024 * 1024;

/** Moves ranges in the JSON form the node's scan, count and drop routes take. */
function rangesJson(ranges: readonly PositionRange[]): string {
  return JSON.stringify({ ranges: ranges.map(({ from, to }) => [from, to]) });
}

/**
 * The distributor's connection to one storage node: a keep-alive pool, a bound on requests in flight, a
 * timeout, and typed failures. Every failure names the node: RINGKV_ERR_NODE_UNAVAILABLE (down, refused,
 * reset), RINGKV_ERR_NODE_TIMEOUT, RINGKV_ERR_NODE_ERROR (an answer that makes no sense), or the node's
 * own error code when it refused a request for a reason of its own (full disk, a limit).
 */
export class NodeClient {
  readonly id: string;
  readonly url: string;
  /** How requests reach the node: over its Unix socket (a local node) or TCP to its url. */
  readonly transport: 'unix' | 'tcp';
  /** Kept current by the health monitor; requests to a node known to be down fail at once. */
  available = true;
  /**
   * Called when a request finds the node unreachable (refused, reset), so it is marked down at once rather
   * than at the next health probe. Timeouts do not call it: a busy node is not a dead one.
   */
  onUnreachable: ((reason: string) => void) | undefined;
  /** Called when a read or write for a client request is done: its time, and its error code if it failed. */
  onOperation:
    | ((kind: MultiOp['kind'], durationMs: number, errorCode: string | undefined) => void)
    | undefined;
  readonly #pool: Pool;
  readonly #limits: NodeClientSettings;
  #inFlight = 0;
  /**
   * Reads and writes batch separately, so reads never wait behind a batch waiting for its writes' flush.
   * Each lane has one batch in flight at most, on a connection of its own (lane-connection.ts).
   */
  readonly #reads: BatchLane;
  readonly #writes: BatchLane;
  readonly #readConnection: LaneConnection;
  readonly #writeConnection: LaneConnection;
  /** The request line and headers of a batch, Content-Length aside. */
  readonly #multiHead: string;
  #queuedOrSent = 0;
  readonly #plainHeaders: Record<string, string>;

  /** `socketPath`: the node's Unix socket, when it runs on this machine and serves on one (`url` names it still). */
  constructor(id: string, url: string, limits: NodeClientSettings, socketPath?: string) {
    this.id = id;
    this.url = url;
    this.transport = socketPath === undefined ? 'tcp' : 'unix';
    this.#limits = limits;
    this.#pool = new Pool(url, {
      connections: limits.connections,
      pipelining: 1,
      keepAliveTimeout: 10_000,
      ...(socketPath !== undefined && { socketPath }),
    });
    this.#plainHeaders = this.#headers(undefined);
    const { hostname, port, host } = new URL(url);
    const target =
      socketPath !== undefined
        ? { path: socketPath }
        : { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 80) };
    const lane = { timeoutMs: limits.timeoutMs, answerBytesMax: BATCH_ANSWER_BYTES_MAX };
    this.#readConnection = new LaneConnection(target, lane);
    this.#writeConnection = new LaneConnection(target, lane);
    this.#multiHead = `POST /internal/multi HTTP/1.1\r\nhost: ${host}\r\n${Object.entries(
      this.#headers({ 'content-type': MULTI_CONTENT_TYPE }),
    )
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}`;
    this.#reads = new BatchLane((ops) => this.#multi(ops, this.#readConnection), BATCH_OPS_MAX);
    this.#writes = new BatchLane((ops) => this.#multi(ops, this.#writeConnection), BATCH_OPS_MAX);
  }

  /** `extra` and the cluster secret. The batches' (the hot path's) are rendered once: #multiHead. */
  #headers(extra: Record<string, string> | undefined): Record<string, string> {
    const secret = this.#limits.clusterSecret;
    if (secret === undefined) return extra ?? {};
    return { ...extra, [CLUSTER_SECRET_HEADER]: secret };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  #failure(code: ErrorCode, message: string): RingKvError {
    return new RingKvError(code, `node ${this.id} (${this.url}): ${message}`, { node: this.id });
  }

  async #exchange(
    method: Method,
    path: string,
    body?: string | Buffer,
    /** Complete: built by #headers (the cluster secret included). */
    headers: Record<string, string> = this.#plainHeaders,
    probe?: { readonly timeoutMs: number },
  ): Promise<Exchange> {
    if (probe === undefined) this.#admit();
    else this.#checkInFlight();
    const timeoutMs = probe?.timeoutMs ?? this.#limits.timeoutMs;
    this.#inFlight++;
    try {
      const answer = await this.#pool.request({
        method,
        path,
        ...(body !== undefined && { body }),
        headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const data = Buffer.from(await answer.body.arrayBuffer());
      return { status: answer.statusCode, headers: answer.headers, body: data };
    } catch (error) {
      throw this.#transportFailure(error, timeoutMs);
    } finally {
      this.#inFlight--;
    }
  }

  /** Refuses a request at once when the node is marked down or has its limit of requests in flight. */
  #admit(): void {
    if (!this.available) throw this.#failure('RINGKV_ERR_NODE_UNAVAILABLE', 'marked down by health checks');
    this.#checkInFlight();
  }

  #checkInFlight(): void {
    if (this.#inFlight >= this.#limits.inFlightMax) {
      throw this.#failure('RINGKV_ERR_OVERLOADED', `${this.#limits.inFlightMax} requests already in flight`);
    }
  }

  /** A lane's failure as a typed error: an answer it cannot read is the node's error, not its absence. */
  #laneFailure(error: unknown): RingKvError {
    if (error instanceof LaneError && error.kind === 'malformed')
      return this.#failure('RINGKV_ERR_NODE_ERROR', error.message);
    return this.#transportFailure(error); // a timeout carries the code TIMEOUT
  }

  #transportFailure(error: unknown, timeoutMs = this.#limits.timeoutMs): RingKvError {
    if (error instanceof RingKvError) return error;
    const code = (error as { code?: string }).code ?? '';
    const message = (error as Error).message ?? String(error);
    if (/TIMEOUT/.test(code))
      return this.#failure('RINGKV_ERR_NODE_TIMEOUT', `no answer within ${timeoutMs} ms`);
    const reason = `${code || 'request failed'}: ${message}`;
    this.onUnreachable?.(reason);
    return this.#failure('RINGKV_ERR_NODE_UNAVAILABLE', reason);
  }

  /** Turns a node's `{ error, code }` answer into the same typed error, or a NODE_ERROR if it is not one. */
  #refusal(exchange: Pick<Exchange, 'status' | 'body'>): RingKvError {
    try {
      const body = JSON.parse(exchange.body.toString('utf8')) as { error?: string; code?: string };
      if (typeof body.code === 'string' && body.code in errorCatalog) {
        return new RingKvError(body.code as ErrorCode, `node ${this.id}: ${body.error ?? body.code}`, {
          node: this.id,
        });
      }
    } catch {}
    return this.#failure('RINGKV_ERR_NODE_ERROR', `unexpected answer ${exchange.status}`);
  }

  #json<T>(exchange: Exchange): T {
    if (exchange.status !== 200) throw this.#refusal(exchange);
    try {
      return JSON.parse(exchange.body.toString('utf8')) as T;
    } catch {
      throw this.#failure('RINGKV_ERR_NODE_ERROR', 'answered with malformed JSON');
    }
  }

  /** Sends one batch of operations as POST /internal/multi. */
  async #multi(ops: MultiOp[], connection: LaneConnection): Promise<MultiResult[]> {
    this.#admit();
    this.#inFlight++;
    let exchange: LaneAnswer;
    try {
      exchange = await connection.request(this.#multiHead, encodeMultiRequest(ops));
    } catch (error) {
      throw this.#laneFailure(error);
    } finally {
      this.#inFlight--;
    }
    if (exchange.status !== 200) throw this.#refusal(exchange);
    try {
      return decodeMultiResponse(exchange.body, ops);
    } catch {
      throw this.#failure('RINGKV_ERR_NODE_ERROR', 'answered a malformed batch');
    }
  }

  /**
   * Queues one operation for the next batch to this node (see BatchLane): concurrent client requests for one
   * node travel in one HTTP exchange. Fails at once when the node is down or too much is already in flight.
   */
  async #enqueue(op: MultiOp): Promise<MultiResult> {
    const started = performance.now();
    try {
      const result = await this.#enqueueNow(op);
      this.onOperation?.(op.kind, performance.now() - started, undefined);
      return result;
    } catch (error) {
      this.onOperation?.(
        op.kind,
        performance.now() - started,
        (error as { code?: string }).code ?? 'unknown',
      );
      throw error;
    }
  }

  async #enqueueNow(op: MultiOp): Promise<MultiResult> {
    if (!this.available) throw this.#failure('RINGKV_ERR_NODE_UNAVAILABLE', 'marked down by health checks');
    if (this.#queuedOrSent >= this.#limits.inFlightMax) {
      throw this.#failure('RINGKV_ERR_OVERLOADED', `${this.#limits.inFlightMax} requests already in flight`);
    }
    this.#queuedOrSent++;
    try {
      return await (op.kind === 'read' ? this.#reads : this.#writes).add(op);
    } finally {
      this.#queuedOrSent--;
    }
  }

  async read(key: string): Promise<NodeRead> {
    const result = await this.#enqueue({ kind: 'read', key: Buffer.from(key, 'utf8') });
    const record = result.kind === 'read' ? result.record : undefined;
    if (record === undefined) return { kind: 'absent' };
    if (record.value === null) return { kind: 'tombstone', version: record.version };
    const value = Buffer.from(record.value.buffer, record.value.byteOffset, record.value.length);
    return record.contentType === undefined
      ? { kind: 'found', version: record.version, value }
      : { kind: 'found', version: record.version, value, contentType: record.contentType };
  }

  async put(key: string, version: Version, value: Buffer, contentType?: string): Promise<WriteAnswer> {
    const keyBytes = Buffer.from(key, 'utf8');
    const record =
      contentType === undefined
        ? { key: keyBytes, version, value }
        : { key: keyBytes, version, value, contentType };
    const result = await this.#enqueue({ kind: 'write', record });
    return { outcome: result.kind === 'write' ? result.outcome : 'stale' };
  }

  async delete(key: string, version: Version): Promise<DeleteAnswer> {
    const result = await this.#enqueue({
      kind: 'write',
      record: { key: Buffer.from(key, 'utf8'), version, value: null },
    });
    return result.kind === 'write'
      ? { outcome: result.outcome, previous: result.previous }
      : { outcome: 'stale', previous: 'absent' };
  }

  async health(): Promise<NodeHealth> {
    const health = this.#json<NodeHealth>(await this.#exchange('GET', '/internal/health'));
    if (health.service !== NODE_SERVICE)
      throw this.#failure('RINGKV_ERR_NOT_A_NODE', 'does not answer as a ringkv node');
    return health;
  }

  /**
   * Makes the node belong to this distributor's cluster (POST /internal/join with the secret); idempotent.
   * Throws RINGKV_ERR_NODE_IN_OTHER_CLUSTER if it belongs to another.
   */
  async join(): Promise<string> {
    return this.#json<{ cluster: string }>(await this.#exchange('POST', '/internal/join')).cluster;
  }

  /** The node's stats, asked even while it is marked down, with a short timeout: the health monitor's probe. */
  async probe(timeoutMs: number): Promise<NodeStats> {
    return this.#json<NodeStats>(
      await this.#exchange('GET', '/internal/stats', undefined, this.#plainHeaders, { timeoutMs }),
    );
  }

  async stats(): Promise<NodeStats> {
    return this.#json<NodeStats>(await this.#exchange('GET', '/internal/stats'));
  }

  async applyBatch(records: readonly StoredRecord[]): Promise<BatchAnswer> {
    const body = encodeRecordFrames(records);
    return this.#json<BatchAnswer>(
      await this.#exchange(
        'POST',
        '/internal/batch',
        body,
        this.#headers({ 'content-type': RECORDS_CONTENT_TYPE }),
      ),
    );
  }

  async count(ranges: readonly PositionRange[]): Promise<number> {
    const answer = await this.#exchange(
      'POST',
      '/internal/count',
      rangesJson(ranges),
      this.#headers({
        'content-type': 'application/json',
      }),
    );
    return this.#json<CountAnswer>(answer).count;
  }

  async drop(ranges: readonly PositionRange[]): Promise<number> {
    const answer = await this.#exchange(
      'POST',
      '/internal/drop',
      rangesJson(ranges),
      this.#headers({
        'content-type': 'application/json',
      }),
    );
    return this.#json<DropAnswer>(answer).dropped;
  }

  async shutdown(): Promise<void> {
    this.#json<unknown>(await this.#exchange('POST', '/shutdown'));
  }

  /** Per range, the node's record count and digest of (key, version) pairs (anti-entropy). */
  async digest(ranges: readonly PositionRange[]): Promise<DigestAnswer['digests']> {
    const answer = await this.#exchange(
      'POST',
      '/internal/digest',
      rangesJson(ranges),
      this.#headers({
        'content-type': 'application/json',
      }),
    );
    return this.#json<DigestAnswer>(answer).digests;
  }

  /** Every record in `ranges`, tombstones included, read in full (the caller bounds how much it asks for). */
  async records(ranges: readonly PositionRange[]): Promise<StoredRecord[]> {
    const answer = await this.#exchange(
      'POST',
      '/internal/scan?batch=1000',
      rangesJson(ranges),
      this.#headers({
        'content-type': 'application/json',
      }),
    );
    if (answer.status !== 200) throw this.#refusal(answer);
    const decoder = new RecordFrameDecoder(FRAME_BYTES_MAX);
    const records = decoder.push(answer.body);
    decoder.end();
    return records;
  }

  /**
   * Has the node push every record of `ranges` straight to `targets` (node base urls), hearing the running
   * totals as batches land. Resolves with the totals and the digests of what each range sent; throws the
   * node's error if the push fails midway.
   */
  async push(
    ranges: readonly PositionRange[],
    targets: readonly string[],
    keysPerSecond: number,
    onProgress: (progress: PushProgress) => void,
  ): Promise<PushResult> {
    if (!this.available) throw this.#failure('RINGKV_ERR_NODE_UNAVAILABLE', 'marked down by health checks');
    let answer: Awaited<ReturnType<Pool['request']>>;
    try {
      answer = await this.#pool.request({
        method: 'POST',
        path: '/internal/push',
        body: JSON.stringify({ ranges: ranges.map(({ from, to }) => [from, to]), targets, keysPerSecond }),
        headers: this.#headers({ 'content-type': 'application/json' }),
        headersTimeout: this.#limits.timeoutMs,
        bodyTimeout: PUSH_IDLE_TIMEOUT_MS,
      });
    } catch (error) {
      throw this.#transportFailure(error);
    }
    if (answer.statusCode !== 200) {
      throw this.#refusal({
        status: answer.statusCode,
        body: Buffer.from(await answer.body.arrayBuffer()),
      });
    }
    let pending = '';
    try {
      for await (const chunk of answer.body) {
        pending += (chunk as Buffer).toString('utf8');
        for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
          const line = JSON.parse(pending.slice(0, newline)) as PushProgress & {
            done?: true;
            digests?: PushResult['digests'];
            error?: string;
            code?: string;
          };
          pending = pending.slice(newline + 1);
          if (line.error !== undefined)
            throw this.#refusal({ status: 500, body: Buffer.from(JSON.stringify(line)) });
          if (line.done) {
            if (!Array.isArray(line.digests) || line.digests.length !== ranges.length)
              throw this.#failure('RINGKV_ERR_NODE_ERROR', 'the push answered no digest for each range');
            return { keys: line.keys, bytes: line.bytes, digests: line.digests };
          }
          onProgress(line);
        }
      }
    } catch (error) {
      throw error instanceof RingKvError ? error : this.#transportFailure(error);
    }
    throw this.#failure('RINGKV_ERR_NODE_ERROR', 'the push ended without a result');
  }

  close(): Promise<void> {
    this.#readConnection.close();
    this.#writeConnection.close();
    return this.#pool.close();
  }
}
