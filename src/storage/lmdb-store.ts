/**
 * The on-disk layout of the lmdb engine, shared by the thread that reads (the node's event loop) and the
 * thread that writes (lmdb-writer.ts): one environment, two sub-databases.
 *
 * - `records`: composite key (keys.ts) -> record body (record.ts), tombstones included.
 * - `tombstones`: `[deleted-at wall ms, u48 big-endian][composite key]` -> empty, an index of deletes by
 *   time, which makes live/tombstone counts O(1) and lets purges read only expired tombstones.
 *
 * Both change in the same transaction.
 */
import { type Database, open, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import { RingKvError } from '../errors.js';
import { type Version, wallMsOf } from '../version/version.js';

export interface LmdbStore {
  readonly root: RootDatabase;
  readonly records: Database<Buffer, Buffer>;
  /**
   * `records` read without copying: each key and value a range yields is a view of a buffer lmdb reuses,
   * valid only until the iterator moves on or anything else reads. For scans that copy or hash each record
   * as they go (a copy per key and per value is most of what a plain range read costs).
   */
  readonly recordViews: Database<Uint8Array, Uint8Array>;
  readonly tombstones: Database<Buffer, Buffer>;
}

/** lmdb's hooks for a database whose reads answer views (keys.js and read.js of the lmdb package). */
const VIEW_KEYS = {
  writeKey: (key: Uint8Array, target: Uint8Array, start: number) => {
    target.set(key, start);
    return start + key.length;
  },
  readKey: (source: Uint8Array, start: number, end: number) => source.subarray(start, end),
};
const VIEW_VALUES = {
  encode: (value: Uint8Array) => value,
  decode: (source: Uint8Array, length: number) => source.subarray(0, length),
};

/** What a key's stored record says, read from its body's header without decoding the value. */
export interface KeyState {
  readonly version: Version;
  readonly tombstone: boolean;
}

export const TOMBSTONE_FLAG = 1;

/**
 * Opens the environment at `path` (a file, created if missing). lmdb shares one environment between the
 * threads of a process that open the same path, as LMDB requires.
 */
export function openLmdbStore(path: string, readOnly: boolean): LmdbStore {
  const root = open({ path, maxDbs: 4, readOnly });
  const subDatabase = (name: string) =>
    root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
  // An encoder without needsStableBuffer: lmdb hands its decode the reused buffer. (lmdb's declarations list
  // these options for the root database only; sub-databases take them as well.)
  const viewOptions: RootDatabaseOptions & { name: string } = {
    name: 'records',
    keyEncoder: VIEW_KEYS,
    encoder: VIEW_VALUES,
  };
  const recordViews = root.openDB<Uint8Array, Uint8Array>(viewOptions);
  return { root, records: subDatabase('records'), recordViews, tombstones: subDatabase('tombstones') };
}

export function keyStateOf(body: Buffer): KeyState {
  return {
    version: body.toString('latin1', 2, 2 + body[1]!),
    tombstone: (body[0]! & TOMBSTONE_FLAG) !== 0,
  };
}

/** The tombstone index key of a delete at `version` of the record stored under `composite`. */
export function tombstoneIndexKey(version: Version, composite: Buffer): Buffer {
  const key = Buffer.allocUnsafe(6 + composite.length);
  key.writeUIntBE(wallMsOf(version), 0, 6);
  composite.copy(key, 6);
  return key;
}

/** Disk-full failures become a typed operating error; anything else stays what it was. */
export function storageError(error: unknown): unknown {
  const text =
    error instanceof Error
      ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`
      : String(error);
  return /MDB_MAP_FULL|ENOSPC|No space left/i.test(text)
    ? new RingKvError('RINGKV_ERR_STORAGE_FULL', `the storage engine is full: ${text.trim()}`)
    : error;
}
