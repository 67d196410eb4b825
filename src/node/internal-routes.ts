import type { IncomingMessage, ServerResponse } from 'node:http';
import { RingKvError } from '../errors.js';
import { keyBytes, keyNotFound, storedContentType } from '../http/kv-api.js';
import { decodeComponent, parseQuery, readBody } from '../http/request.js';
import { methodNotAllowed, routeNotFound, sendJson } from '../http/response.js';
import { RING_SIZE } from '../ring/placement.js';
import { CLUSTER_SECRET_HEADER, unauthorized } from '../security/secrets.js';
import {
  checkRecordKey,
  checkValueLength,
  encodeRecordFrames,
  inspectFrames,
  type StoredRecord,
} from '../storage/record.js';
import { isVersion, type Version } from '../version/version.js';
import type { NodeContext } from './client-routes.js';
import {
  decodeMultiRequest,
  encodeMultiResponse,
  type MultiResult,
  type Previous,
} from './multi-protocol.js';
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
  TOMBSTONE_HEADER,
  VERSION_HEADER,
  type WriteAnswer,
} from './protocol.js';
import { pushRanges } from './push.js';

/** A node that took a batch of records this recently is still in a move (or a hint or repair delivery). */
const BULK_QUIET_MS = 3000;

/**
 * Whether records are streaming through this node in bulk: a push of its ranges out, or batches in (a move's
 * copy, hints, a repair). The node's periodic snapshots wait while they do.
 */
export class BulkTraffic {
  #pushes = 0;
  #lastBatchMs = Number.NEGATIVE_INFINITY;

  batchArrived(): void {
    this.#lastBatchMs = performance.now();
  }

  /** Counts `push` as streaming until it settles; answers it unchanged. */
  async pushing(push: Promise<void>): Promise<void> {
    this.#pushes++;
    try {
      await push;
    } finally {
      this.#pushes--;
    }
  }

  get busy(): boolean {
    return this.#pushes > 0 || performance.now() - this.#lastBatchMs < BULK_QUIET_MS;
  }
}

const SCAN_BATCH_DEFAULT = 1000;
const SCAN_BATCH_MAX = 10_000;

/** A version from a writer: well-formed, and not further ahead of this node's clock than allowed. */
function writerVersion(context: NodeContext, header: string | string[] | undefined): Version {
  if (!isVersion(header)) {
    throw new RingKvError('RINGKV_ERR_INVALID_VERSION', `a valid ${VERSION_HEADER} header is required`);
  }
  context.clock.observe(header);
  return header;
}

const RANGES_MAX = 100_000;
const RANGES_BODY_BYTES_MAX = 4 * 1024 * 1024;

/** A JSON body `{ "ranges": [[from, to], ...] }`: sorted or not, each 0 <= from <= to <= 2^32. */
async function rangesBody(context: NodeContext, request: IncomingMessage): Promise<PositionRange[]> {
  const body = await readBody(request, {
    bytesMax: RANGES_BODY_BYTES_MAX,
    tooLargeCode: 'RINGKV_ERR_BODY_TOO_LARGE',
    timeoutMs: context.options.bodyTimeoutMs,
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_ARGUMENT',
      'the body must be JSON: { "ranges": [[from, to], ...] }',
    );
  }
  return validRanges((parsed as { ranges?: unknown } | null)?.ranges);
}

/** `[[from, to], ...]`, each 0 <= from <= to <= 2^32, at most RANGES_MAX of them. */
function validRanges(ranges: unknown): PositionRange[] {
  const valid =
    Array.isArray(ranges) &&
    ranges.length <= RANGES_MAX &&
    ranges.every(
      (range) =>
        Array.isArray(range) &&
        range.length === 2 &&
        Number.isInteger(range[0]) &&
        Number.isInteger(range[1]) &&
        range[0] >= 0 &&
        range[0] <= range[1] &&
        range[1] <= RING_SIZE,
    );
  if (!valid) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_ARGUMENT',
      `ranges must be at most ${RANGES_MAX} pairs [from, to] with 0 <= from <= to <= 2^32`,
    );
  }
  return (ranges as [number, number][]).map(([from, to]) => ({ from, to }));
}

function positionParameter(query: Map<string, string>, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > RING_SIZE) {
    throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', `${name} must be an integer in [0, 2^32]`);
  }
  return value;
}

/** Waits until the socket drains or closes, removing both listeners afterwards (no leak per wait). */
function drainOrClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.on('drain', done).on('close', done);
  });
}

export function health(context: NodeContext, stopping: boolean): NodeHealth {
  return {
    status: stopping ? 'stopping' : 'ok',
    service: NODE_SERVICE,
    id: context.options.id,
    engine: context.engine.kind,
    cluster: context.guard.clusterId,
  };
}

export function stats(context: NodeContext): NodeStats {
  return {
    id: context.options.id,
    engine: context.engine.kind,
    changeCount: context.engine.changeCount,
    ...context.engine.stats(),
  };
}

async function versionedKey(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
  encodedKey: string,
) {
  const key = keyBytes(decodeComponent(encodedKey, false), context.options.keyBytesMax);
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      const record = context.engine.get(key);
      if (record === undefined) throw keyNotFound();
      if (record.value === null) {
        sendJson(response, 404, keyNotFound().toJSON(), {
          [VERSION_HEADER]: record.version,
          [TOMBSTONE_HEADER]: '1',
        });
        return;
      }
      response.writeHead(200, {
        'content-length': record.value.length,
        [VERSION_HEADER]: record.version,
        ...(record.contentType !== undefined && { 'content-type': record.contentType }),
      });
      response.end(request.method === 'GET' ? record.value : undefined);
      return;
    }
    case 'PUT': {
      const version = writerVersion(context, request.headers[VERSION_HEADER]);
      const contentType = storedContentType(request.headers['content-type']);
      const value = await readBody(request, {
        bytesMax: context.options.valueBytesMax,
        tooLargeCode: 'RINGKV_ERR_VALUE_TOO_LARGE',
        timeoutMs: context.options.bodyTimeoutMs,
      });
      const record: StoredRecord =
        contentType === undefined ? { key, version, value } : { key, version, value, contentType };
      const [outcome] = await context.engine.apply([record]);
      sendJson(response, 200, { outcome: outcome! } satisfies WriteAnswer);
      return;
    }
    case 'DELETE': {
      const version = writerVersion(context, request.headers[VERSION_HEADER]);
      const before = context.engine.get(key);
      const [outcome] = await context.engine.apply([{ key, version, value: null }]);
      const previous = before === undefined ? 'absent' : before.value === null ? 'tombstone' : 'live';
      sendJson(response, 200, { outcome: outcome!, previous } satisfies DeleteAnswer);
      return;
    }
    default:
      throw methodNotAllowed(request.method, '/internal/kv/<key>', ['GET', 'HEAD', 'PUT', 'DELETE']);
  }
}

/**
 * Checks records arriving from a writer: keys non-empty, within the limit and UTF-8, values within the
 * limit, and the newest version not from a clock too far ahead (observing it moves this node's clock past
 * them all, since versions order as strings).
 */
function checkIncoming(context: NodeContext, records: readonly StoredRecord[]): void {
  const { keyBytesMax, valueBytesMax } = context.options;
  let newest = '';
  for (const record of records) {
    checkRecordKey(record.key, keyBytesMax);
    if (record.value !== null) checkValueLength(record.value.length, valueBytesMax);
    if (record.version > newest) newest = record.version;
  }
  if (newest !== '') context.clock.observe(newest);
}

/**
 * Many reads and versioned writes in one request (see multi-protocol.ts): reads answer the state before
 * this batch's writes; the writes are applied together, in order, and each answers its outcome and the
 * key's state before it.
 */
async function multi(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { batchBytesMax, batchRecordsMax, bodyTimeoutMs, keyBytesMax } = context.options;
  const body = await readBody(request, {
    bytesMax: batchBytesMax,
    tooLargeCode: 'RINGKV_ERR_BODY_TOO_LARGE',
    timeoutMs: bodyTimeoutMs,
  });
  const ops = decodeMultiRequest(body, batchRecordsMax);
  const writes: StoredRecord[] = [];
  for (const op of ops) {
    if (op.kind === 'write') writes.push(op.record);
    else if (op.key.length === 0 || op.key.length > keyBytesMax) {
      throw new RingKvError('RINGKV_ERR_BAD_RECORD_STREAM', `a key is empty or over ${keyBytesMax} bytes`);
    }
  }
  checkIncoming(context, writes);
  const stateOf = (key: Uint8Array): Previous => {
    const record = context.engine.get(key);
    return record === undefined ? 'absent' : record.value === null ? 'tombstone' : 'live';
  };
  const results: (MultiResult | undefined)[] = ops.map((op) =>
    op.kind === 'read' ? { kind: 'read', record: context.engine.get(op.key) } : undefined,
  );
  const previous = writes.map((record) => stateOf(record.key));
  const outcomes = writes.length === 0 ? [] : await context.engine.apply(writes);
  let write = 0;
  const answers = results.map(
    (result) => result ?? { kind: 'write' as const, outcome: outcomes[write]!, previous: previous[write++]! },
  );
  const answer = encodeMultiResponse(answers);
  response.writeHead(200, { 'content-type': MULTI_CONTENT_TYPE, 'content-length': answer.length });
  response.end(answer);
}

/**
 * A batch of versioned records (puts and tombstones) as record frames, each checked like a single write, then
 * applied as they came: the frames are the engine's own form, so a move's records are never decoded here.
 */
async function batch(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { batchBytesMax, batchRecordsMax, bodyTimeoutMs, keyBytesMax, valueBytesMax } = context.options;
  const body = await readBody(request, {
    bytesMax: batchBytesMax,
    tooLargeCode: 'RINGKV_ERR_BODY_TOO_LARGE',
    timeoutMs: bodyTimeoutMs,
  });
  const { newestVersion } = inspectFrames(body, { keyBytesMax, valueBytesMax, recordsMax: batchRecordsMax });
  // Observing the newest version moves this node's clock past them all (versions order as strings).
  if (newestVersion !== '') context.clock.observe(newestVersion);
  const outcomes = await context.engine.applyFrames(body);
  const applied = outcomes.filter((outcome) => outcome === 'applied').length;
  sendJson(response, 200, { applied, stale: outcomes.length - applied } satisfies BatchAnswer);
}

/**
 * Streams every record in [from, to) as record frames, tombstones included. Each batch waits for the
 * socket to drain before the next is read, so a slow reader holds back the scan, not memory.
 */
async function scan(
  context: NodeContext,
  request: IncomingMessage,
  query: Map<string, string>,
  response: ServerResponse,
): Promise<void> {
  const batchText = query.get('batch');
  const batchSize = batchText === undefined ? SCAN_BATCH_DEFAULT : Number(batchText);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > SCAN_BATCH_MAX) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_ARGUMENT',
      `batch must be an integer in [1, ${SCAN_BATCH_MAX}]`,
    );
  }
  let ranges: PositionRange[];
  if (request.method === 'POST') {
    ranges = await rangesBody(context, request);
  } else {
    const from = positionParameter(query, 'from', 0);
    const to = positionParameter(query, 'to', RING_SIZE);
    if (from > to) throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', 'need from <= to');
    ranges = [{ from, to }];
  }
  response.writeHead(200, { 'content-type': RECORDS_CONTENT_TYPE });
  for (const { from, to } of ranges) {
    for await (const records of context.engine.scan(from, to, batchSize)) {
      if (response.destroyed) return;
      if (!response.write(encodeRecordFrames(records))) await drainOrClose(response);
    }
  }
  response.end();
}

/**
 * Per range, how many records it holds and a SHA-1 over its records' (key, version) pairs in position order:
 * two replicas with the same digest for a range hold the same versions of the same keys (anti-entropy
 * compares these, and copies data only where they differ).
 */
async function digest(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const ranges = await rangesBody(context, request);
  const digests: [number, string][] = [];
  for (const [index, { from, to }] of ranges.entries()) {
    const { count, hash } = context.engine.digestRange(from, to);
    digests.push([count, hash]);
    // Clients' requests go in between: 50 ranges are about 3.6 ms with a million keys in the cluster (12 µs a
    // range and 4 µs a record, measured; about 15 records a range).
    if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  sendJson(response, 200, { digests } satisfies DigestAnswer);
}

const PUSH_TARGETS_MAX = 16;

/**
 * Pushes ranges straight to other nodes (a migration step). Answers 200 at once and streams one JSON line
 * of running totals per delivered batch, then `{"done":true,...}`, or an `{"error","code"}` line if the push
 * fails midway. Stops if the caller goes away.
 */
async function push(context: NodeContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request, {
    bytesMax: RANGES_BODY_BYTES_MAX,
    tooLargeCode: 'RINGKV_ERR_BODY_TOO_LARGE',
    timeoutMs: context.options.bodyTimeoutMs,
  });
  let parsed: { ranges?: unknown; targets?: unknown; keysPerSecond?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_ARGUMENT',
      'the body must be JSON: { "ranges": [...], "targets": [url, ...], "keysPerSecond": n }',
    );
  }
  const ranges = validRanges(parsed.ranges);
  const targets = parsed.targets;
  const rate = parsed.keysPerSecond;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 1 || rate > 10_000_000) {
    throw new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', 'keysPerSecond must be a number in [1, 10000000]');
  }
  const targetsValid =
    Array.isArray(targets) &&
    targets.length > 0 &&
    targets.length <= PUSH_TARGETS_MAX &&
    targets.every((url) => typeof url === 'string' && /^https?:\/\/[^/?#]+$/.test(url));
  if (!targetsValid) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_ARGUMENT',
      `targets must be 1-${PUSH_TARGETS_MAX} node base urls (http://host:port)`,
    );
  }
  const abort = new AbortController();
  response.on('close', () => abort.abort());
  response.writeHead(200, { 'content-type': 'application/x-ndjson' });
  try {
    const total = await pushRanges(
      context.pushes,
      context.engine,
      ranges,
      targets as string[],
      rate,
      (progress) => response.write(`${JSON.stringify(progress)}\n`),
      abort.signal,
      context.guard.secret,
    );
    response.end(`${JSON.stringify({ done: true, ...total })}\n`);
  } catch (error) {
    const failure =
      error instanceof RingKvError ? error : new RingKvError('RINGKV_ERR_INTERNAL', (error as Error).message);
    if (!abort.signal.aborted) context.logger.warn({ err: error }, 'push failed');
    response.end(`${JSON.stringify(failure.toJSON())}\n`);
  }
}

export async function internalRoute(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  query: string,
  stopping: boolean,
): Promise<void> {
  const route = pathname.slice('/internal/'.length);
  if (route.startsWith('kv/')) return versionedKey(context, request, response, route.slice(3));
  const expect = (method: string) => {
    if (request.method !== method && !(method === 'GET' && request.method === 'HEAD')) {
      throw methodNotAllowed(request.method, pathname, method === 'GET' ? ['GET', 'HEAD'] : [method]);
    }
  };
  switch (route) {
    case 'health':
      expect('GET');
      return sendJson(response, 200, health(context, stopping));
    case 'join': {
      expect('POST');
      const secret = request.headers[CLUSTER_SECRET_HEADER];
      if (typeof secret !== 'string')
        throw unauthorized(`joining needs the cluster secret in ${CLUSTER_SECRET_HEADER}`);
      return sendJson(response, 200, { cluster: await context.guard.join(secret), id: context.options.id });
    }
    case 'stats':
      expect('GET');
      return sendJson(response, 200, stats(context));
    case 'multi':
      expect('POST');
      return multi(context, request, response);
    case 'batch':
      expect('POST');
      context.bulk.batchArrived();
      return batch(context, request, response);
    case 'scan':
      if (request.method !== 'POST') expect('GET');
      return scan(context, request, parseQuery(query), response);
    case 'digest':
      expect('POST');
      return digest(context, request, response);
    case 'push':
      expect('POST');
      return context.bulk.pushing(push(context, request, response));
    case 'count': {
      expect('POST');
      const ranges = await rangesBody(context, request);
      let count = 0;
      for (const [index, { from, to }] of ranges.entries()) {
        count += context.engine.countRange(from, to);
        // Thousands of ranges take a while: let requests in between.
        if (index % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
      }
      return sendJson(response, 200, { count } satisfies CountAnswer);
    }
    case 'drop': {
      expect('POST');
      const dropped = await context.engine.dropRanges(await rangesBody(context, request));
      context.logger.info({ dropped }, 'dropped ranges this node no longer owns');
      return sendJson(response, 200, { dropped } satisfies DropAnswer);
    }
    default:
      throw routeNotFound(pathname);
  }
}
