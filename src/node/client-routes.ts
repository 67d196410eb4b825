import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
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
import type { StorageEngine } from '../storage/engine.js';
import { recordJsonValue } from '../storage/json-value.js';
import type { StoredRecord } from '../storage/record.js';
import type { HybridLogicalClock } from '../version/hlc.js';
import type { ClusterGuard } from './cluster-guard.js';
import type { BulkTraffic } from './internal-routes.js';
import type { ResolvedNodeOptions } from './node-options.js';
import { VERSION_HEADER } from './protocol.js';
import type { PushConnections } from './push.js';

/** What every route handler of a node works with. */
export interface NodeContext {
  readonly options: ResolvedNodeOptions;
  readonly engine: StorageEngine;
  readonly clock: HybridLogicalClock;
  readonly logger: Logger;
  readonly guard: ClusterGuard;
  readonly bulk: BulkTraffic;
  /** Connections to the nodes this one pushes ranges to, kept between pushes. */
  readonly pushes: PushConnections;
}

function liveRecord(
  context: NodeContext,
  key: Buffer,
): (StoredRecord & { readonly value: Uint8Array }) | undefined {
  const record = context.engine.get(key);
  return record === undefined || record.value === null
    ? undefined
    : (record as StoredRecord & { value: Uint8Array });
}

/** Writes with a fresh version from this node's clock (a node used directly versions its own writes). */
async function writeOwn(
  context: NodeContext,
  key: Buffer,
  value: Uint8Array | null,
  contentType?: string,
): Promise<string> {
  const version = context.clock.now();
  await context.engine.apply([
    contentType === undefined ? { key, version, value } : { key, version, value, contentType },
  ]);
  return version;
}

export function originalGet(
  context: NodeContext,
  query: Map<string, string>,
  response: ServerResponse,
): void {
  const record = liveRecord(context, keyBytes(query.get('key'), context.options.keyBytesMax));
  if (record === undefined) sendJsonText(response, 404, NOT_FOUND_BODY);
  else sendJson(response, 200, { value: recordJsonValue(record) });
}

export async function originalPut(
  context: NodeContext,
  query: Map<string, string>,
  response: ServerResponse,
): Promise<void> {
  const key = keyBytes(query.get('key'), context.options.keyBytesMax);
  await writeOwn(context, key, queryValue(query, context.options.valueBytesMax));
  sendJsonText(response, 200, STORED_BODY);
}

export async function originalDelete(
  context: NodeContext,
  query: Map<string, string>,
  response: ServerResponse,
): Promise<void> {
  const key = keyBytes(query.get('key'), context.options.keyBytesMax);
  if (liveRecord(context, key) === undefined) {
    sendJsonText(response, 404, NOT_FOUND_BODY);
    return;
  }
  await writeOwn(context, key, null);
  sendJsonText(response, 200, DELETED_BODY);
}

/** `/kv/<url-encoded key>`: the value is the raw body, binary-safe. */
export async function restRoute(
  context: NodeContext,
  request: IncomingMessage,
  response: ServerResponse,
  encodedKey: string,
): Promise<void> {
  const key = keyBytes(decodeComponent(encodedKey, false), context.options.keyBytesMax);
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      const record = liveRecord(context, key);
      if (record === undefined) throw keyNotFound();
      sendValue(response, request.method, record.value, record.contentType, record.version);
      return;
    }
    case 'PUT': {
      const contentType = storedContentType(request.headers['content-type']);
      const { valueBytesMax, bodyTimeoutMs } = context.options;
      const value = await readBody(request, {
        bytesMax: valueBytesMax,
        tooLargeCode: 'RINGKV_ERR_VALUE_TOO_LARGE',
        timeoutMs: bodyTimeoutMs,
      });
      const version = await writeOwn(context, key, value, contentType);
      response.writeHead(204, { [VERSION_HEADER]: version }).end();
      return;
    }
    case 'DELETE': {
      if (liveRecord(context, key) === undefined) throw keyNotFound();
      const version = await writeOwn(context, key, null);
      response.writeHead(204, { [VERSION_HEADER]: version }).end();
      return;
    }
    default:
      throw methodNotAllowed(request.method, '/kv/<key>', REST_METHODS);
  }
}
