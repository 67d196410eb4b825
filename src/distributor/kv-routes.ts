/**
 * The distributor's key-value routes: the original query API (bodies byte for byte), the binary-safe REST
 * routes, and the batch routes. Every key is read and written through the cluster's quorums.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRingKvError, RingKvError } from '../errors.js';
import {
  DELETED_BODY,
  keyBytes,
  keyNotFound,
  NOT_FOUND_BODY,
  queryValue,
  REST_METHODS,
  STORED_BODY,
  sendValue,
  storedContentType,
} from '../http/kv-api.js';
import { decodeComponent, readBody } from '../http/request.js';
import { methodNotAllowed, sendJson, sendJsonText } from '../http/response.js';
import { VERSION_HEADER } from '../node/protocol.js';
import { fromJsonValue, type JsonValue, toJsonValue } from '../storage/json-value.js';
import { checkValueLength } from '../storage/record.js';
import type { Cluster } from './cluster.js';
import type { ResolvedDistributorOptions } from './distributor-options.js';

export interface KvRouteContext {
  readonly cluster: Cluster;
  readonly options: ResolvedDistributorOptions;
}

/** The methods each original route takes. */
const ORIGINAL_METHODS: Readonly<Record<'/get' | '/put' | '/del', readonly string[]>> = {
  '/get': ['GET', 'HEAD'],
  '/put': ['PUT'],
  '/del': ['DELETE'],
};

/** Operations of one batch that run at once: enough to fill the node batches, few enough to leave room. */
const BATCH_CONCURRENCY = 64;

async function readLive(cluster: Cluster, key: string) {
  const read = await cluster.read(key);
  return read.kind === 'found' ? read : undefined;
}

/** `GET /get`, `PUT /put`, `DELETE /del` with the original design's answers. */
export async function originalRoute(
  context: KvRouteContext,
  pathname: string,
  method: string | undefined,
  query: Map<string, string>,
  response: ServerResponse,
): Promise<void> {
  const { cluster, options } = context;
  const allowed = ORIGINAL_METHODS[pathname as keyof typeof ORIGINAL_METHODS];
  if (method === undefined || !allowed.includes(method)) throw methodNotAllowed(method, pathname, allowed);
  const key = keyBytes(query.get('key'), options.keyBytesMax).toString('utf8');
  if (pathname === '/get') {
    const found = await readLive(cluster, key);
    if (found === undefined) sendJsonText(response, 404, NOT_FOUND_BODY);
    else sendJson(response, 200, { value: toJsonValue(found.value, found.contentType) });
  } else if (pathname === '/put') {
    await cluster.write(key, queryValue(query, options.valueBytesMax));
    sendJsonText(response, 200, STORED_BODY);
  } else {
    const { previous } = await cluster.write(key, null);
    sendJsonText(
      response,
      previous === 'live' ? 200 : 404,
      previous === 'live' ? DELETED_BODY : NOT_FOUND_BODY,
    );
  }
}

/** `PUT`, `GET`, `HEAD`, `DELETE /kv/<key>`: the value is the raw body, its Content-Type kept. */
export async function restRoute(
  context: KvRouteContext,
  request: IncomingMessage,
  response: ServerResponse,
  encodedKey: string,
): Promise<void> {
  const { cluster, options } = context;
  const key = keyBytes(decodeComponent(encodedKey, false), options.keyBytesMax).toString('utf8');
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      const found = await readLive(cluster, key);
      if (found === undefined) throw keyNotFound();
      sendValue(response, request.method, found.value, found.contentType, found.version);
      return;
    }
    case 'PUT': {
      const contentType = storedContentType(request.headers['content-type']);
      const value = await readBody(request, {
        bytesMax: options.valueBytesMax,
        tooLargeCode: 'RINGKV_ERR_VALUE_TOO_LARGE',
        timeoutMs: options.bodyTimeoutMs,
      });
      const { version } = await cluster.write(key, value, contentType);
      response.writeHead(204, { [VERSION_HEADER]: version }).end();
      return;
    }
    case 'DELETE': {
      const { version, previous } = await cluster.write(key, null);
      if (previous !== 'live') throw keyNotFound();
      response.writeHead(204, { [VERSION_HEADER]: version }).end();
      return;
    }
    default:
      throw methodNotAllowed(request.method, '/kv/<key>', REST_METHODS);
  }
}

/** One entry of a batch that could not be done; the rest of the batch still was. */
interface BatchFailure {
  readonly index: number;
  readonly key: string;
  readonly error: string;
  readonly code: string;
}

/** Runs `work` for every index in [0, count), `BATCH_CONCURRENCY` at a time; collects failures per entry. */
async function forEachEntry(
  keys: readonly string[],
  work: (index: number) => Promise<void>,
): Promise<BatchFailure[]> {
  const failures: BatchFailure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const index = next++;
      try {
        await work(index);
      } catch (error) {
        if (!isRingKvError(error)) throw error;
        failures.push({ index, key: keys[index]!, error: error.message, code: error.code });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, keys.length) }, worker));
  return failures.sort((a, b) => a.index - b.index);
}

function invalidBatch(message: string): RingKvError {
  return new RingKvError('RINGKV_ERR_INVALID_ARGUMENT', message);
}

/** The JSON body of a batch request, parsed, with its list under `field` checked for size. */
async function batchBody(
  context: KvRouteContext,
  request: IncomingMessage,
  field: 'keys' | 'entries',
): Promise<unknown[]> {
  const { options } = context;
  const body = await readBody(request, {
    bytesMax: options.batchBytesMax,
    tooLargeCode: 'RINGKV_ERR_BODY_TOO_LARGE',
    timeoutMs: options.bodyTimeoutMs,
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidBatch('the body is not JSON');
  }
  const list = (parsed as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) throw invalidBatch(`the body must be a JSON object with an array "${field}"`);
  if (list.length > options.batchKeysMax) {
    throw new RingKvError(
      'RINGKV_ERR_BATCH_TOO_LARGE',
      `the batch has ${list.length} entries; the limit is ${options.batchKeysMax}`,
      { limit: options.batchKeysMax },
    );
  }
  return list;
}

/** Runs a check on entry `index` of a batch; a failure names the entry. */
function inEntry<T>(index: number, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (isRingKvError(error))
      throw new RingKvError(error.code, `entry ${index}: ${error.message}`, { ...error.details, index });
    throw error;
  }
}

/** A batch entry's key, checked like any key. */
function batchKey(context: KvRouteContext, key: unknown, index: number): string {
  if (typeof key !== 'string') throw invalidBatch(`entry ${index}: the key must be a string`);
  return inEntry(index, () => keyBytes(key, context.options.keyBytesMax).toString('utf8'));
}

/**
 * `POST /mget` `{"keys":[...]}` → `{"values":[...],"failed":[...]}`: `values[i]` is the value of `keys[i]` in
 * the JSON value form, or null when it has none or could not be read (then `failed` names it).
 */
async function multiGet(context: KvRouteContext, request: IncomingMessage, response: ServerResponse) {
  const keys = (await batchBody(context, request, 'keys')).map((key, index) => batchKey(context, key, index));
  const values: (JsonValue | null)[] = new Array(keys.length).fill(null);
  const failed = await forEachEntry(keys, async (index) => {
    const found = await readLive(context.cluster, keys[index]!);
    if (found !== undefined) values[index] = toJsonValue(found.value, found.contentType);
  });
  sendJson(response, 200, { values, failed });
}

/**
 * `POST /mput` `{"entries":[{"key","value"},...]}` (values in the JSON value form) → `{"stored":n,"failed":[...]}`.
 * Every entry is checked before any is written; each is then written on its own (a batch is not atomic).
 */
async function multiPut(context: KvRouteContext, request: IncomingMessage, response: ServerResponse) {
  const entries = (await batchBody(context, request, 'entries')).map((entry, index) => {
    if (typeof entry !== 'object' || entry === null)
      throw invalidBatch(`entry ${index}: expected {"key","value"}`);
    const { key, value } = entry as { key?: unknown; value?: unknown };
    const decoded = fromJsonValue(value);
    if (decoded === undefined)
      throw invalidBatch(`entry ${index}: the value must be a string or {"base64","contentType"?}`);
    inEntry(index, () => checkValueLength(decoded.bytes.length, context.options.valueBytesMax));
    return { key: batchKey(context, key, index), ...decoded };
  });
  const keys = entries.map((entry) => entry.key);
  const failed = await forEachEntry(keys, async (index) => {
    const { key, bytes, contentType } = entries[index]!;
    await context.cluster.write(key, bytes, contentType);
  });
  sendJson(response, 200, { stored: entries.length - failed.length, failed });
}

/** `POST /mget` and `POST /mput`. */
export async function batchRoute(
  context: KvRouteContext,
  pathname: '/mget' | '/mput',
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'POST') throw methodNotAllowed(request.method, pathname, ['POST']);
  if (pathname === '/mget') await multiGet(context, request, response);
  else await multiPut(context, request, response);
}
