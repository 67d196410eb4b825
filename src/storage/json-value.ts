import { isUtf8 } from 'node:buffer';
import { CONTENT_TYPE_PATTERN, type StoredRecord } from './record.js';

/**
 * How a value appears inside JSON (the snapshot file and the original `GET /get` answer): a plain string
 * when it is valid UTF-8 stored without a content type, as in the original design; otherwise
 * `{ "base64": "<bytes>", "contentType": "<type>" }` (contentType only when set), which is reversible.
 */
export type JsonValue = string | { readonly base64: string; readonly contentType?: string };

export function toJsonValue(value: Uint8Array, contentType: string | undefined): JsonValue {
  if (contentType === undefined && isUtf8(value))
    return Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');
  const base64 = Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64');
  return contentType === undefined ? { base64 } : { base64, contentType };
}

export function recordJsonValue(record: StoredRecord & { readonly value: Uint8Array }): JsonValue {
  return toJsonValue(record.value, record.contentType);
}

/**
 * The bytes and content type a JSON value stands for, or undefined when it is neither a string nor a valid
 * `{ base64, contentType? }` object (the inverse of toJsonValue).
 */
export function fromJsonValue(
  value: unknown,
): { readonly bytes: Buffer; readonly contentType: string | undefined } | undefined {
  if (typeof value === 'string') return { bytes: Buffer.from(value, 'utf8'), contentType: undefined };
  if (typeof value !== 'object' || value === null) return undefined;
  const { base64, contentType } = value as { base64?: unknown; contentType?: unknown };
  if (typeof base64 !== 'string') return undefined;
  if (
    contentType !== undefined &&
    (typeof contentType !== 'string' || !CONTENT_TYPE_PATTERN.test(contentType))
  )
    return undefined;
  return { bytes: Buffer.from(base64, 'base64'), contentType };
}
