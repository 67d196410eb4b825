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
    if (!CONTENT_TYPE_PATTERN.test(contentType)) throw corrupt('record body has a malformed content type');
  }
  if (offset > body.length || !isVersion(version)) throw corrupt('record body malformed');
  const value = (flags & TOMBSTONE) !== 0 ? null : body.subarray(offset);
  return contentType === undefined ? { key, version, value } : { key, version, value, contentType };
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
    const key = frames.subarray(offset + 6, keyEnd);
    if (key.length === 0 || key.length > limits.keyBytesMax || !isUtf8(key)) {
      throw corrupt(`a key is empty, over ${limits.keyBytesMax} bytes, or not UTF-8`);
    }
    const version = bodyVersion(frames, keyEnd, frameEnd, limits.valueBytesMax);
    if (version > newestVersion) newestVersion = version;
    offset = frameEnd;
  }
  return { records, newestVersion };
}

/** The version of the record body in `buffer` [start, end), after checking the body is well formed. */
function bodyVersion(buffer: Buffer, start: number, end: number, valueBytesMax: number): string {
  const versionEnd = start + 2 + buffer[start + 1]!;
  const version = buffer.toString('latin1', start + 2, Math.min(versionEnd, end));
  let valueStart = versionEnd;
  if ((buffer[start]! & HAS_CONTENT_TYPE) !== 0) {
    const length = buffer[versionEnd] ?? 0;
    if (!CONTENT_TYPE_PATTERN.test(buffer.toString('latin1', versionEnd + 1, versionEnd + 1 + length)))
      throw corrupt('record body has a malformed content type');
    valueStart += 1 + length;
  }
  if (versionEnd > end || valueStart > end || !isVersion(version)) throw corrupt('record body malformed');
  const valueLength = end - valueStart;
  if ((buffer[start]! & TOMBSTONE) === 0 && valueLength > valueBytesMax) {
    throw new RingKvError(
      'RINGKV_ERR_VALUE_TOO_LARGE',
      `the value is ${valueLength} bytes; the limit is ${valueBytesMax}`,
      { limitBytes: valueBytesMax },
    );
  }
  return version;
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
