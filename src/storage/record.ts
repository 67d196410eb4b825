import { RingKvError } from '../errors.js';
import { isVersion, type Version } from '../version/version.js';

/** One key's state on a node: its latest value, or a tombstone recording when it was deleted. */
export interface StoredRecord {
  /** The key's bytes (the UTF-8 encoding of a string key). */
  readonly key: Uint8Array;
  readonly version: Version;
  /** The value's bytes, or null for a tombstone. */
  readonly value: Uint8Array | null;
  /** Set when the writer gave one; readers default to application/octet-stream. */
  readonly contentType?: string | undefined;
}

const TOMBSTONE = 1;
const HAS_CONTENT_TYPE = 2;
export const CONTENT_TYPE_PATTERN = /^[\x20-\x7e]{1,200}$/;

/**
 * A record without its key, as stored on disk:
 * `[flags u8][version length u8][version][content-type length u8][content type]?[value bytes]`.
 */
export function encodeRecordBody(record: StoredRecord): Buffer {
  const contentType = record.contentType;
  const versionLength = Buffer.byteLength(record.version, 'latin1');
  const contentTypeLength = contentType === undefined ? 0 : 1 + contentType.length;
  const valueLength = record.value === null ? 0 : record.value.length;
  const body = Buffer.allocUnsafe(2 + versionLength + contentTypeLength + valueLength);
  body[0] = (record.value === null ? TOMBSTONE : 0) | (contentType === undefined ? 0 : HAS_CONTENT_TYPE);
  body[1] = versionLength;
  let offset = 2 + body.write(record.version, 2, 'latin1');
  if (contentType !== undefined) {
    body[offset] = contentType.length;
    offset += 1 + body.write(contentType, offset + 1, 'latin1');
  }
  if (record.value !== null) body.set(record.value, offset);
  return body;
}

/** Decodes a body written by encodeRecordBody; the value is a view into `body`, which the caller gives up. */
export function decodeRecordBody(key: Uint8Array, body: Buffer): StoredRecord {
  if (body.length < 2) throw corrupt('record body too short');
  const flags = body[0]!;
  const versionEnd = 2 + body[1]!;
  const version = body.toString('latin1', 2, versionEnd);
  let offset = versionEnd;
  let contentType: string | undefined;
  if ((flags & HAS_CONTENT_TYPE) !== 0) {
    const length = body[offset]!;
    contentType = body.toString('latin1', offset + 1, offset + 1 + length);
    offset += 1 + length;
  }
  if (offset > body.length || !isVersion(version)) throw corrupt('record body malformed');
  const value = (flags & TOMBSTONE) !== 0 ? null : body.subarray(offset);
  return contentType === undefined ? { key, version, value } : { key, version, value, contentType };
}

function corrupt(message: string): RingKvError {
  return new RingKvError('RINGKV_ERR_BAD_RECORD_STREAM', message);
}

/** Records on the wire (scans, batches, migrations): `[frame length u32][key length u16][key][body]...`. */
export function encodeRecordFrames(records: readonly StoredRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    const body = encodeRecordBody(record);
    const header = Buffer.allocUnsafe(6);
    header.writeUInt32BE(2 + record.key.length + body.length, 0);
    header.writeUInt16BE(record.key.length, 4);
    parts.push(header, Buffer.from(record.key.buffer, record.key.byteOffset, record.key.length), body);
  }
  return Buffer.concat(parts);
}

/**
 * Incremental decoder for a stream of frames: feed chunks as they arrive, take out whole records. Frames
 * larger than `frameBytesMax` are refused before they are buffered, so a bad peer cannot exhaust memory.
 */
export class RecordFrameDecoder {
  readonly #frameBytesMax: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  push(chunk: Buffer): StoredRecord[] {
    let buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const records: StoredRecord[] = [];
    while (buffer.length >= 4) {
      const frameLength = buffer.readUInt32BE(0);
      if (frameLength > this.#frameBytesMax || frameLength < 4) {
        throw corrupt(`record frame of ${frameLength} bytes (limit ${this.#frameBytesMax})`);
      }
      if (buffer.length < 4 + frameLength) break;
      const keyLength = buffer.readUInt16BE(4);
      if (2 + keyLength + 2 > frameLength) throw corrupt('record frame key overruns the frame');
      const key = Buffer.from(buffer.subarray(6, 6 + keyLength));
      records.push(decodeRecordBody(key, Buffer.from(buffer.subarray(6 + keyLength, 4 + frameLength))));
      buffer = buffer.subarray(4 + frameLength);
    }
    this.#pending = buffer;
    return records;
  }

  /** Throws if the stream ended in the middle of a frame. */
  end(): void {
    if (this.#pending.length > 0) throw corrupt('record stream ended inside a frame');
  }
}
