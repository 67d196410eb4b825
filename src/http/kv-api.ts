import type { ServerResponse } from 'node:http';
import { RingKvError } from '../errors.js';
import { CONTENT_TYPE_PATTERN, checkValueLength } from '../storage/record.js';

/**
 * The client-facing key-value API that storage nodes and the distributor both answer: the original design's
 * bodies, and the checks every key, value and content type passes.
 */

// The original design's answers, byte for byte.
export const STORED_BODY = '{"message":"Value stored successfully"}';
export const DELETED_BODY = '{"message":"Key deleted successfully"}';
export const NOT_FOUND_BODY = '{"error":"Key not found"}';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Carries a record's version on REST answers and internal requests. */
export const VERSION_HEADER = 'x-ringkv-version';
export const REST_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;

/** A key's bytes, checked: present, non-empty, within the limit. */
export function keyBytes(key: string | undefined, keyBytesMax: number): Buffer {
  if (key === undefined || key === '')
    throw new RingKvError('RINGKV_ERR_KEY_MISSING', 'a non-empty key is required');
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > keyBytesMax) {
    throw new RingKvError(
      'RINGKV_ERR_KEY_TOO_LARGE',
      `the key is ${bytes.length} bytes; the limit is ${keyBytesMax}`,
      {
        limitBytes: keyBytesMax,
      },
    );
  }
  return bytes;
}

/** The value of `/put?key=K&value=V`, checked. */
export function queryValue(query: Map<string, string>, valueBytesMax: number): Buffer {
  const text = query.get('value');
  if (text === undefined)
    throw new RingKvError('RINGKV_ERR_VALUE_MISSING', 'a value is required: /put?key=K&value=V');
  const value = Buffer.from(text, 'utf8');
  checkValueLength(value.length, valueBytesMax);
  return value;
}

/** The Content-Type to store with a REST put: none for the default, else validated. */
export function storedContentType(header: string | undefined): string | undefined {
  if (header === undefined || header === DEFAULT_CONTENT_TYPE) return undefined;
  if (!CONTENT_TYPE_PATTERN.test(header)) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_CONTENT_TYPE',
      'Content-Type must be 1-200 printable ASCII characters',
    );
  }
  return header;
}

export function keyNotFound(): RingKvError {
  return new RingKvError('RINGKV_ERR_KEY_NOT_FOUND', 'Key not found');
}

/** Answers a GET or HEAD with a stored value: its bytes, content type (default octet-stream) and version. */
export function sendValue(
  response: ServerResponse,
  method: string | undefined,
  value: Uint8Array,
  contentType: string | undefined,
  version: string,
): void {
  response.writeHead(200, {
    'content-type': contentType ?? DEFAULT_CONTENT_TYPE,
    'content-length': value.length,
    [VERSION_HEADER]: version,
  });
  response.end(method === 'HEAD' ? undefined : value);
}
