import { isUtf8 } from 'node:buffer';
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

/** A record body's header, read from `buffer` [start, end). */
interface BodyHeader {
  readonly tombstone: boolean;
  readonly version: Version;
  readonly contentType: string | undefined;
  /** Where the value begins; it runs to the body's end. */
  readonly valueStart: number;
}

/** Reads and checks the header of the record body in `buffer` [start, end); throws if it is malformed. */
function readBodyHeader(buffer: Buffer, start: number, end: number): BodyHeader {
  if (end - start < 2) throw corrupt('record body too short');
  const flags = buffer[start]!;
  const versionEnd = start + 2 + buffer[start + 1]!;
  const version = buffer.toString('latin1', start + 2, Math.min(versionEnd, end));
  let valueStart = versionEnd;
  let contentType: string | undefined;
  if ((flags & HAS_CONTENT_TYPE) !== 0) {
    const length = versionEnd < end ? buffer[versionEnd]! : 0;
    contentType = buffer.toString('latin1', versionEnd + 1, Math.min(versionEnd + 1 + length, end));
    if (!CONTENT_TYPE_PATTERN.test(contentType)) throw corrupt('record body has a malformed content type');
    valueStart += 1 + length;
  }
  if (valueStart > end || !isVersion(version)) throw corrupt('record body malformed');
  return { tombstone: (flags & TOMBSTONE) !== 0, version, contentType, valueStart };
}

/** Decodes a body written by encodeRecordBody; the value is a view into `body`, which the caller gives up. */
export function decodeRecordBody(key: Uint8Array, body: Buffer): StoredRecord {
  const { tombstone, version, contentType, valueStart } = readBodyHeader(body, 0, body.length);
  const value = tombstone ? null : body.subarray(valueStart);
  return contentType === undefined ? { key, version, value } : { key, version, value, contentType };
}

/** Throws RINGKV_ERR_VALUE_TOO_LARGE for a value of `length` bytes over `valueBytesMax`. */
export function checkValueLength(length: number, valueBytesMax: number): void {
  if (length > valueBytesMax) {
    throw new RingKvError(
      'RINGKV_ERR_VALUE_TOO_LARGE',
      `the value is ${length} bytes; the limit is ${valueBytesMax}`,
      {
        limitBytes: valueBytesMax,
      },
    );
  }
}

/** Throws unless `key` is a key a node stores: non-empty, at most `keyBytesMax` bytes, UTF-8. */
export function checkRecordKey(key: Uint8Array, keyBytesMax: number): void {
  if (key.length === 0 || key.length > keyBytesMax || !isUtf8(key))
    throw corrupt(`a key is empty, over ${keyBytesMax} bytes, or not UTF-8`);
}

function corrupt(message: string): RingKvError {
  return new RingKvError('RINGKV_ERR_BAD_RECORD_STREAM', message);
}

/**
 * Records on the wire (scans, batches, migrations) are frames `[frame length u32][key length u16][key][body]`,
 * one after another; the body is the stored form (encodeRecordBody). This is a frame's first six bytes.
 */
export function frameHeader(keyLength: number, bodyLength: number): Buffer {
  const header = Buffer.allocUnsafe(6);
  header.writeUInt32BE(2 + keyLength + bodyLength, 0);
  header.writeUInt16BE(keyLength, 4);
  return header;
}

/**
 * Calls `visit` with the offsets of each frame in `frames`: its key is [keyStart, keyEnd), its body
 * [keyEnd, frameEnd). For frames already known whole (the engine's own, or checked by inspectFrames).
 */
export function forEachFrame(
  frames: Buffer,
  visit: (keyStart: number, keyEnd: number, frameEnd: number) => void,
): void {
  for (let offset = 0; offset < frames.length; ) {
    const frameEnd = offset + 4 + frames.readUInt32BE(offset);
    visit(offset + 6, offset + 6 + frames.readUInt16BE(offset + 4), frameEnd);
    offset = frameEnd;
  }
}

export interface FrameLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly recordsMax: number;
}

/**
 * Checks record frames from a writer (a batch, a move) without decoding them into records: every frame
 * whole, every key non-empty, within `keyBytesMax` and UTF-8, every body well formed (what
 * decodeRecordBody accepts), every value within `valueBytesMax`, at most `recordsMax` records. Returns the
 * count and the newest version ('' for none). Throws RINGKV_ERR_BAD_RECORD_STREAM, RINGKV_ERR_VALUE_TOO_LARGE
 * or RINGKV_ERR_BATCH_TOO_LARGE.
 */
export function inspectFrames(
  frames: Buffer,
  limits: FrameLimits,
): { records: number; newestVersion: string } {
  let records = 0;
  let newestVersion = '';
  for (let offset = 0; offset < frames.length; records++) {
    if (records >= limits.recordsMax) {
      throw new RingKvError(
        'RINGKV_ERR_BATCH_TOO_LARGE',
        `a batch holds at most ${limits.recordsMax} records`,
        {
          limit: limits.recordsMax,
        },
      );
    }
    if (offset + 6 > frames.length) throw corrupt('record stream ended inside a frame');
    const frameEnd = offset + 4 + frames.readUInt32BE(offset);
    const keyEnd = offset + 6 + frames.readUInt16BE(offset + 4);
    if (frameEnd > frames.length) throw corrupt('record stream ended inside a frame');
    if (keyEnd + 2 > frameEnd) throw corrupt('record frame key overruns the frame');
    checkRecordKey(frames.subarray(offset + 6, keyEnd), limits.keyBytesMax);
    const { tombstone, version, valueStart } = readBodyHeader(frames, keyEnd, frameEnd);
    if (!tombstone) checkValueLength(frameEnd - valueStart, limits.valueBytesMax);
    if (version > newestVersion) newestVersion = version;
    offset = frameEnd;
  }
  return { records, newestVersion };
}

/** `records` as frames, in order. */
export function encodeRecordFrames(records: readonly StoredRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    const body = encodeRecordBody(record);
    parts.push(
      frameHeader(record.key.length, body.length),
      Buffer.from(record.key.buffer, record.key.byteOffset, record.key.length),
      body,
    );
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
