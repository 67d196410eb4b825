/**
 * The writes of the lmdb engine, as jobs run inside one write transaction (on the event loop or the writer
 * thread: see lmdb-committer.ts). Each job decides from what the transaction sees (its own earlier writes
 * included), so a version check and the write it guards are atomic: a stale copy can never overwrite a newer
 * value, however writes interleave.
 */
import { RING_SIZE } from '../ring/placement.js';
import type { PositionRange } from './engine.js';
import { compositeKey, positionPrefix } from './keys.js';
import { keyStateOf, type LmdbStore, tombstoneIndexKey } from './lmdb-store.js';
import { forEachFrame } from './record.js';

export type WriteJob =
  /** Records as record frames (encodeRecordFrames), applied in order unless the stored version is as new or newer. */
  | { readonly kind: 'apply'; readonly frames: Uint8Array }
  /** Removes up to `limit` records of `ranges`, in order. */
  | { readonly kind: 'drop'; readonly ranges: readonly PositionRange[]; readonly limit: number }
  /** Visits up to `limit` tombstone index entries older than `deletedBeforeWallMs`: removes them, and their records. */
  | { readonly kind: 'purge'; readonly deletedBeforeWallMs: number; readonly limit: number };

export type WriteResult =
  /** Per record, 1 if applied, 0 if stale. */
  | { readonly kind: 'apply'; readonly applied: Uint8Array }
  /** `rangesDone`: how many of the job's ranges are now empty (the others resume in a next job). */
  | { readonly kind: 'drop'; readonly dropped: number; readonly rangesDone: number }
  /** `done`: no expired index entry is left. */
  | { readonly kind: 'purge'; readonly purged: number; readonly done: boolean };

const EMPTY = Buffer.alloc(0);

/** What one commit did: each job's result, and how long the transaction took, its flush included. */
export interface CommitOutcome {
  readonly results: readonly WriteResult[];
  readonly commitMs: number;
}

/**
 * Runs `jobs` in one transaction on `store`, committed and flushed to disk before it returns (lmdb's
 * synchronous transaction), so what it reports is durable. Throws what the transaction threw; then nothing
 * of it was written.
 */
export function commitJobs(store: LmdbStore, jobs: readonly WriteJob[]): CommitOutcome {
  const started = performance.now();
  const results = store.root.transactionSync(() => jobs.map((job) => runWriteJob(store, job)));
  return { results, commitMs: performance.now() - started };
}

/** The bytes a job hands to its transaction: what decides whether a batch is small. */
export function jobBytes(job: WriteJob): number {
  return job.kind === 'apply' ? job.frames.length : Number.POSITIVE_INFINITY;
}

/** Runs one job in the write transaction open on `store` (the caller opens and commits it). */
function runWriteJob(store: LmdbStore, job: WriteJob): WriteResult {
  switch (job.kind) {
    case 'apply': {
      // A view, not a copy: from the writer thread the frames arrive as a plain Uint8Array.
      const { buffer, byteOffset, length } = job.frames;
      return { kind: 'apply', applied: applyFrames(store, Buffer.from(buffer, byteOffset, length)) };
    }
    case 'drop':
      return { kind: 'drop', ...dropRanges(store, job.ranges, job.limit) };
    case 'purge':
      return { kind: 'purge', ...purgeTombstones(store, job.deletedBeforeWallMs, job.limit) };
  }
}

/**
 * Frames are `[frame length u32][key length u16][key][record body]` (record.ts), written by the engine
 * itself, so each body is stored as it is, unparsed past its header.
 */
function applyFrames(store: LmdbStore, frames: Buffer): Uint8Array {
  const applied: number[] = [];
  forEachFrame(frames, (keyStart, keyEnd, frameEnd) => {
    const composite = compositeKey(frames.subarray(keyStart, keyEnd));
    const body = frames.subarray(keyEnd, frameEnd);
    const next = keyStateOf(body);
    const stored = store.records.getBinaryFast(composite);
    const current = stored === undefined ? undefined : keyStateOf(stored);
    if (current !== undefined && current.version >= next.version) {
      applied.push(0);
      return;
    }
    store.records.putSync(composite, body);
    if (current?.tombstone) store.tombstones.removeSync(tombstoneIndexKey(current.version, composite));
    if (next.tombstone) store.tombstones.putSync(tombstoneIndexKey(next.version, composite), EMPTY);
    applied.push(1);
  });
  return Uint8Array.from(applied);
}

function dropRanges(
  store: LmdbStore,
  ranges: readonly PositionRange[],
  limit: number,
): { dropped: number; rangesDone: number } {
  let dropped = 0;
  for (const [index, { from, to }] of ranges.entries()) {
    const start = positionPrefix(from);
    const bounds = to >= RING_SIZE ? { start } : { start, end: positionPrefix(to) };
    // Read first, then remove: no removal moves a cursor that is still reading.
    const records: Buffer[] = [];
    const tombstones: Buffer[] = [];
    for (const { key, value } of store.records.getRange({ ...bounds, limit: limit - dropped })) {
      const state = keyStateOf(value);
      records.push(key);
      if (state.tombstone) tombstones.push(tombstoneIndexKey(state.version, key));
    }
    for (const key of records) store.records.removeSync(key);
    for (const key of tombstones) store.tombstones.removeSync(key);
    dropped += records.length;
    if (dropped >= limit) return { dropped, rangesDone: index };
  }
  return { dropped, rangesDone: ranges.length };
}

/**
 * Whether any tombstone in `store` was written before `deletedBeforeWallMs`: a read, so a purge with nothing to
 * do starts no transaction (and at a node's start, no writer thread).
 */
export function hasTombstonesBefore(store: LmdbStore, deletedBeforeWallMs: number): boolean {
  return [...store.tombstones.getKeys({ end: tombstonesEnd(deletedBeforeWallMs), limit: 1 })].length > 0;
}

/** The tombstone index's keys start with the delete's wall time (u48): this is where `beforeWallMs` ends. */
function tombstonesEnd(beforeWallMs: number): Buffer {
  const end = Buffer.allocUnsafe(6);
  end.writeUIntBE(Math.max(0, Math.min(beforeWallMs, 2 ** 48 - 1)), 0, 6);
  return end;
}

function purgeTombstones(
  store: LmdbStore,
  deletedBeforeWallMs: number,
  limit: number,
): { purged: number; done: boolean } {
  const visited = [...store.tombstones.getKeys({ end: tombstonesEnd(deletedBeforeWallMs), limit })];
  let purged = 0;
  for (const indexKey of visited) {
    const composite = indexKey.subarray(6);
    const stored = store.records.getBinaryFast(composite);
    const state = stored === undefined ? undefined : keyStateOf(stored);
    // Purge only if the tombstone is still the key's newest state; a newer write owns the key now.
    if (state?.tombstone && tombstoneIndexKey(state.version, composite).equals(indexKey)) {
      store.records.removeSync(composite);
      purged++;
    }
    store.tombstones.removeSync(indexKey);
  }
  return { purged, done: visited.length < limit };
}
