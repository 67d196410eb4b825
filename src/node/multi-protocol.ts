import { RingKvError } from '../errors.js';
import type { WriteOutcome } from '../storage/engine.js';
import { decodeRecordBody, encodeRecordBody, type StoredRecord } from '../storage/record.js';

/**
 * `POST /internal/multi`: many reads and versioned writes for one node in one request, so the distributor pays
 * one HTTP exchange per batch of concurrent client requests instead of one per key. Binary, in order:
 *
 * request  := op*            op := [1][u16 key length][key]                        a read
 *                                 | [2][u32 record length][u16 key length][key][record body]   a write
 * response := result*, one per op, in the same order:
 *   read  -> [0]                                   absent
 *          | [1 found | 2 tombstone][u32 body length][record body]
 *   write -> [0 applied | 1 stale][0 absent | 1 live | 2 tombstone]   (the state before)
 *
 * A record body is the storage encoding (record.ts): flags, version, content type, value.
 */
export type MultiOp =
  | { readonly kind: 'read'; readonly key: Buffer }
  | { readonly kind: 'write'; readonly record: StoredRecord };

export type Previous = 'absent' | 'live' | 'tombstone';

export type MultiResult =
  | { readonly kind: 'read'; readonly record: StoredRecord | undefined }
  | { readonly kind: 'write'; readonly outcome: WriteOutcome; readonly previous: Previous };

const READ = 1;
const WRITE = 2;
const PREVIOUS: readonly Previous[] = ['absent', 'live', 'tombstone'];

function malformed(message: string): RingKvError {
  return new RingKvError('RINGKV_ERR_BAD_RECORD_STREAM', `multi request: ${message}`);
}

export function encodeMultiRequest(ops: readonly MultiOp[]): Buffer {
  const parts: Buffer[] = [];
  for (const op of ops) {
    if (op.kind === 'read') {
      const header = Buffer.allocUnsafe(3);
      header[0] = READ;
      header.writeUInt16BE(op.key.length, 1);
      parts.push(header, op.key);
    } else {
      const body = encodeRecordBody(op.record);
      const header = Buffer.allocUnsafe(7);
      header[0] = WRITE;
      header.writeUInt32BE(2 + op.record.key.length + body.length, 1);
      header.writeUInt16BE(op.record.key.length, 5);
      parts.push(
        header,
        Buffer.from(op.record.key.buffer, op.record.key.byteOffset, op.record.key.length),
        body,
      );
    }
  }
  return Buffer.concat(parts);
}

/** Throws RINGKV_ERR_BAD_RECORD_STREAM on anything malformed, RINGKV_ERR_BATCH_TOO_LARGE past `opsMax`. */
export function decodeMultiRequest(body: Buffer, opsMax: number): MultiOp[] {
  const ops: MultiOp[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (ops.length >= opsMax) {
      throw new RingKvError('RINGKV_ERR_BATCH_TOO_LARGE', `a batch holds at most ${opsMax} operations`, {
        limit: opsMax,
      });
    }
    const kind = body[offset];
    if (kind === READ) {
      if (offset + 3 > body.length) throw malformed('truncated read');
      const length = body.readUInt16BE(offset + 1);
      if (offset + 3 + length > body.length) throw malformed('truncated key');
      ops.push({ kind: 'read', key: body.subarray(offset + 3, offset + 3 + length) });
      offset += 3 + length;
    } else if (kind === WRITE) {
      if (offset + 7 > body.length) throw malformed('truncated write');
      const length = body.readUInt32BE(offset + 1);
      const keyLength = body.readUInt16BE(offset + 5);
      const end = offset + 5 + length;
      if (end > body.length || 2 + keyLength > length) throw malformed('truncated record');
      const key = body.subarray(offset + 7, offset + 7 + keyLength);
      ops.push({ kind: 'write', record: decodeRecordBody(key, body.subarray(offset + 7 + keyLength, end)) });
      offset = end;
    } else {
      throw malformed(`unknown operation ${kind}`);
    }
  }
  return ops;
}

export function encodeMultiResponse(results: readonly MultiResult[]): Buffer {
  const parts: Buffer[] = [];
  for (const result of results) {
    if (result.kind === 'write') {
      parts.push(Buffer.from([result.outcome === 'applied' ? 0 : 1, PREVIOUS.indexOf(result.previous)]));
    } else if (result.record === undefined) {
      parts.push(Buffer.from([0]));
    } else {
      const body = encodeRecordBody(result.record);
      const header = Buffer.allocUnsafe(5);
      header[0] = result.record.value === null ? 2 : 1;
      header.writeUInt32BE(body.length, 1);
      parts.push(header, body);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes the answer to `ops` (it needs them to know each result's shape and the read keys). */
export function decodeMultiResponse(body: Buffer, ops: readonly MultiOp[]): MultiResult[] {
  const results: MultiResult[] = [];
  let offset = 0;
  for (const op of ops) {
    if (op.kind === 'write') {
      if (offset + 2 > body.length) throw malformed('truncated write result');
      const previous = PREVIOUS[body[offset + 1]!];
      if (previous === undefined) throw malformed('bad previous state');
      results.push({ kind: 'write', outcome: body[offset] === 0 ? 'applied' : 'stale', previous });
      offset += 2;
      continue;
    }
    const kind = body[offset];
    if (kind === 0) {
      results.push({ kind: 'read', record: undefined });
      offset += 1;
      continue;
    }
    if (offset + 5 > body.length) throw malformed('truncated read result');
    const length = body.readUInt32BE(offset + 1);
    if (offset + 5 + length > body.length) throw malformed('truncated read result body');
    results.push({
      kind: 'read',
      record: decodeRecordBody(op.key, body.subarray(offset + 5, offset + 5 + length)),
    });
    offset += 5 + length;
  }
  if (offset !== body.length) throw malformed('trailing bytes in the answer');
  return results;
}
