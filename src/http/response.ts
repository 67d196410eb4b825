import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isRingKvError, RingKvError } from '../errors.js';

const JSON_TYPE = 'application/json';

/** Sends a body that is already JSON text (hot paths pre-render their constant bodies). */
export function sendJsonText(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonText(response, status, JSON.stringify(body), headers);
}

/**
 * Answers any thrown value as `{ error, code }`. A RingKvError keeps its status; anything else is a bug
 * in ringkv, logged with its stack and answered 500 RINGKV_ERR_INTERNAL.
 */
export function sendError(response: ServerResponse, error: unknown, logger: Logger): void {
  const failure = isRingKvError(error)
    ? error
    : new RingKvError(
        'RINGKV_ERR_INTERNAL',
        `internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
  if (!isRingKvError(error)) logger.error({ err: error }, 'request failed unexpectedly');
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (failure.code === 'RINGKV_ERR_OVERLOADED' || failure.code === 'RINGKV_ERR_SHUTTING_DOWN')
    headers['retry-after'] = '1';
  if (failure.code === 'RINGKV_ERR_METHOD_NOT_ALLOWED' && typeof failure.details.allow === 'string') {
    headers.allow = failure.details.allow;
  }
  // A body left unread (too large, timed out) or a server going away: do not reuse the connection.
  if (failure.status === 413 || failure.status === 408 || failure.code === 'RINGKV_ERR_SHUTTING_DOWN') {
    headers.connection = 'close';
  }
  sendJson(response, failure.status, failure.toJSON(), headers);
}

export function methodNotAllowed(
  method: string | undefined,
  pathname: string,
  allowed: readonly string[],
): RingKvError {
  return new RingKvError('RINGKV_ERR_METHOD_NOT_ALLOWED', `${method ?? '?'} is not allowed on ${pathname}`, {
    allow: allowed.join(', '),
  });
}

export function routeNotFound(pathname: string): RingKvError {
  return new RingKvError('RINGKV_ERR_ROUTE_NOT_FOUND', `no route ${pathname}`);
}
