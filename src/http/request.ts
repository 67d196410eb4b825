import type { IncomingMessage } from 'node:http';
import { type ErrorCode, RingKvError } from '../errors.js';

/** The path and raw query of a request target, split without allocating a URL object. */
export function splitTarget(target: string): { readonly pathname: string; readonly query: string } {
  const mark = target.indexOf('?');
  return mark === -1
    ? { pathname: target, query: '' }
    : { pathname: target.slice(0, mark), query: target.slice(mark + 1) };
}

/**
 * Strict percent-decoding: malformed escapes and byte sequences that are not UTF-8 are errors, not
 * silently replaced (URLSearchParams would keep them), so no two spellings of a key collide.
 */
export function decodeComponent(raw: string, plusIsSpace: boolean): string {
  const text = plusIsSpace && raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RingKvError(
      'RINGKV_ERR_BAD_ENCODING',
      'malformed percent-encoding or invalid UTF-8 in the request target',
    );
  }
}

/** Query parameters, first occurrence wins (as Flask's request.args.get). */
export function parseQuery(query: string): Map<string, string> {
  const parameters = new Map<string, string>();
  if (query === '') return parameters;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals), true);
    if (!parameters.has(name))
      parameters.set(name, equals === -1 ? '' : decodeComponent(pair.slice(equals + 1), true));
  }
  return parameters;
}

export interface BodyLimits {
  readonly bytesMax: number;
  /** The code answered when the body is over bytesMax (413). */
  readonly tooLargeCode: ErrorCode;
  readonly timeoutMs: number;
}

/**
 * Reads a request body up to `bytesMax`, refusing early on a too-large Content-Length and stopping the
 * moment a chunked body passes the limit. Throws RINGKV_ERR_REQUEST_TIMEOUT if the body is not complete
 * within `timeoutMs`. On failure the connection is marked to close, since the rest of the body is unread.
 */
export function readBody(request: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.bytesMax) {
    request.resume();
    return Promise.reject(tooLarge(limits));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (error: RingKvError) => {
      cleanup();
      request.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.bytesMax) fail(tooLarge(limits));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onAborted = () =>
      fail(new RingKvError('RINGKV_ERR_REQUEST_TIMEOUT', 'the request body was cut off'));
    const timer = setTimeout(
      () =>
        fail(
          new RingKvError(
            'RINGKV_ERR_REQUEST_TIMEOUT',
            `the request body took longer than ${limits.timeoutMs} ms`,
          ),
        ),
      limits.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('aborted', onAborted);
    };
    request.on('data', onData).on('end', onEnd).on('aborted', onAborted);
  });
}

function tooLarge(limits: BodyLimits): RingKvError {
  return new RingKvError(limits.tooLargeCode, `the request body is larger than ${limits.bytesMax} bytes`, {
    limitBytes: limits.bytesMax,
  });
}
