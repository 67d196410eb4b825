import { RING_SIZE } from '../ring/placement.js';
import type { EngineStats, FramesBatch, PositionRange, StorageEngine, WriteOutcome } from './engine.js';
import { compositeKey, positionPrefix, successor } from './keys.js';
import { type CommitterOptions, LmdbCommitter } from './lmdb-committer.js';
import { type LmdbStore, openLmdbStore } from './lmdb-store.js';
import { hasTombstonesBefore, type WriteJob, type WriteResult } from './lmdb-writes.js';
import { RangeDigest } from './range-digest.js';
import { decodeRecordBody, encodeRecordFrames, forEachFrame, type StoredRecord } from './record.js';
import { RecordCache, type RecordCacheStats } from './record-cache.js';

export type LmdbEngineOptions = {
  readonly readOnly?: boolean;
  readonly cacheBytes?: number;
} & Partial<CommitterOptions>;

/** The cache's name for a key: its bytes as latin1, one character per byte. */
function cacheId(key: Uint8Array): string {
  return (key instanceof Buffer ? key : Buffer.from(key.buffer, key.byteOffset, key.length)).toString(
    'latin1',
  );
}

interface StatsShape {
  readonly pageSize: number;
  readonly entryCount: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

/** A batch of scanFrames ends at this many bytes of frames, if its record limit has not ended it before. */
const FRAMES_BATCH_BYTES = 256 * 1024;
/**
 * Where scanFrames lays a batch out before copying it whole into its own buffer; shared by every engine of
 * the process, as each batch is laid out and copied in one synchronous step. Grows for large records.
 */
let staging: Buffer = Buffer.allocUnsafe(FRAMES_BATCH_BYTES + 64 * 1024);

/** A buffer of at least `size` bytes holding the first `used` bytes of `buffer`. */
function grown(buffer: Buffer, used: number, size: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(size, 2 * buffer.length));
  buffer.copy(next, 0, 0, used);
  return next;
}

/**
 * Records a drop or a purge removes per transaction: large enough to be cheap, small enough to let writes in
 * between (a write arriving meanwhile waits for the job). Dropping every sixth of 65,536 partitions of 600,000
 * records, a write every 2-5 ms meanwhile: at 2,000 a job, writes waited 12-17 ms (p50) and the drop took
 * 0.86-1.02 s; at 1,000, 4-9 ms and 1.00-1.28 s; at 500, 2.6-5.3 ms and 1.15-1.60 s. CPU a record removed:
 * 6.7, 7.0 and 7.7 µs.
 */
const REMOVALS_PER_JOB = 1000;
/**
 * Ranges a drop job carries. A job reaches the writer thread as a structured clone: when each carried every
 * range not yet done, dropping every sixth of 65,536 partitions of 600,000 records spent about 9 ms a job
 * cloning ranges (CPU a record removed: 9.2-10.7 µs against 7.4-8.3 capped, 22.8 against 7.7 at 500 a job).
 */
const RANGES_PER_JOB = 512;

/**
 * The durable engine, on LMDB through the `lmdb` package (layout in lmdb-store.ts). Reads run on the
 * caller's thread, synchronously, from the memory map. Writes go through a group commit (lmdb-committer.ts):
 * the writes of an event-loop turn, and those that arrive while a commit runs, are one transaction, flushed
 * to disk before any of them resolves, so an acknowledged write survives a crash. Versions are checked inside
 * that transaction, so a stale write is refused however writes interleave.
 */
export class LmdbEngine implements StorageEngine {
  readonly kind = 'lmdb' as const;
  readonly #store: LmdbStore;
  readonly #committer: LmdbCommitter | undefined;
  readonly #cache: RecordCache;
  #changeCount = 0;
  #closing: Promise<void> | undefined;

  /**
   * `readOnly` opens an environment another process writes (a snapshot writer); writes then fail. The
   * commit options (see CommitterOptions) default to no spacing, inline commits while they take under
   * 1 ms, and the writer thread under the default scheduling policy. `cacheBytes` bounds the record cache
   * (record-cache.ts); default 0, off.
   */
  constructor(path: string, options: LmdbEngineOptions = {}) {
    const readOnly = options.readOnly === true;
    this.#store = openLmdbStore(path, readOnly);
    // A read-only engine sees another process's writes, which no commit of its own would tell the cache of.
    this.#cache = new RecordCache(readOnly ? 0 : (options.cacheBytes ?? 0));
    this.#committer = readOnly
      ? undefined
      : new LmdbCommitter(this.#store, path, {
          commitIntervalMs: options.commitIntervalMs ?? 0,
          inlineCommitMsMax: options.inlineCommitMsMax ?? 1,
          writerPolicy: options.writerPolicy ?? 'normal',
        });
  }

  get changeCount(): number {
    return this.#changeCount;
  }

  /** Transactions committed and flushed (group commit: fewer than writes under load). */
  get commits(): number {
    return this.#committer?.commits.total ?? 0;
  }

  /** How many of those committed on the writer thread rather than the event loop. */
  get threadCommits(): number {
    return this.#committer?.commits.onThread ?? 0;
  }

  /** The record cache's hits, misses and size. */
  get cache(): RecordCacheStats {
    return this.#cache.stats();
  }

  get(key: Uint8Array): StoredRecord | undefined {
    this.#assertOpen();
    const id = this.#cache.enabled ? cacheId(key) : undefined;
    if (id !== undefined) {
      const cached = this.#cache.get(id);
      if (cached !== undefined) return cached;
    }
    // lmdb's reused buffer (its `length` is this read's), copied once: lmdb's own copying read is slower.
    const view = this.#store.records.getBinaryFast(compositeKey(key));
    if (view === undefined) return undefined;
    const body = Buffer.allocUnsafe(view.length);
    body.set(new Uint8Array(view.buffer, view.byteOffset, view.length));
    if (id === undefined) return decodeRecordBody(key, body);
    // The cached record outlives this request: it keeps its own copy of the key.
    const record = decodeRecordBody(Uint8Array.from(key), body);
    this.#cache.set(id, record);
    return record;
  }

  async apply(records: readonly StoredRecord[]): Promise<WriteOutcome[]> {
    return records.length === 0 ? [] : this.applyFrames(encodeRecordFrames(records));
  }

  async applyFrames(frames: Buffer): Promise<WriteOutcome[]> {
    if (frames.length === 0) return [];
    const result = await this.#write({ kind: 'apply', frames });
    if (result.kind !== 'apply') throw new Error(`writer answered ${result.kind} to apply`);
    this.#forgetApplied(frames, result.applied);
    const outcomes: WriteOutcome[] = [];
    for (const applied of result.applied) {
      outcomes.push(applied === 1 ? 'applied' : 'stale');
      this.#changeCount += applied;
    }
    return outcomes;
  }

  /**
   * Drops from the cache each key the commit changed. This runs before the writers hear of their commit,
   * and any read from now on reads LMDB after it, so no read can see a cached value older than a write
   * already acknowledged.
   */
  #forgetApplied(frames: Buffer, applied: Uint8Array): void {
    if (!this.#cache.enabled) return;
    let index = 0;
    forEachFrame(frames, (keyStart, keyEnd) => {
      if (applied[index++] === 1) this.#cache.delete(frames.toString('latin1', keyStart, keyEnd));
    });
  }

  #write(job: WriteJob): Promise<WriteResult> {
    this.#assertOpen();
    if (this.#committer === undefined) throw new Error('this lmdb engine was opened read-only');
    return this.#committer.run(job);
  }

  async *scan(from: number, to: number, batchSize: number): AsyncGenerator<StoredRecord[]> {
    for (const entries of this.#rangeBatches(from, to, batchSize))
      yield entries.map(({ key, value }) => decodeRecordBody(key.subarray(4), value));
  }

  async *scanFrames(from: number, to: number, batchSize: number): AsyncGenerator<FramesBatch> {
    const end = to >= RING_SIZE ? undefined : positionPrefix(to);
    let start: Buffer = positionPrefix(from);
    for (;;) {
      this.#assertOpen();
      const batch = this.#framesFrom(start, end, batchSize);
      if (batch.records > 0) yield { frames: batch.frames, records: batch.records };
      if (batch.resumeAt === undefined) return;
      start = batch.resumeAt;
    }
  }

  /**
   * Up to `limit` records from `start` (up to `end`) as frames, laid out in the staging buffer straight from
   * lmdb's (recordViews), then copied out once. Stops early past FRAMES_BATCH_BYTES; `resumeAt` is where the
   * next batch starts, undefined when the range is done.
   */
  #framesFrom(
    start: Buffer,
    end: Buffer | undefined,
    limit: number,
  ): { frames: Buffer; records: number; resumeAt: Buffer | undefined } {
    let bytes = 0;
    let records = 0;
    let lastPosition = 0;
    let lastKeyStart = 0;
    const range = this.#store.recordViews.getRange(
      end === undefined ? { start, limit } : { start, end, limit },
    );
    // A stored key is [position u32][key]; a stored value is the record body, as it goes in a frame.
    for (const { key, value } of range) {
      const keyLength = key.length - 4;
      const frameEnd = bytes + 6 + keyLength + value.length;
      if (frameEnd > staging.length) staging = grown(staging, bytes, frameEnd);
      staging.writeUInt32BE(2 + keyLength + value.length, bytes);
      staging.writeUInt16BE(keyLength, bytes + 4);
      staging.set(key.subarray(4), bytes + 6);
      staging.set(value, bytes + 6 + keyLength);
      lastPosition = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
      lastKeyStart = bytes + 6;
      bytes = frameEnd;
      records++;
      if (bytes >= FRAMES_BATCH_BYTES) break;
    }
    const frames = Buffer.from(staging.subarray(0, bytes));
    if (records < limit && bytes < FRAMES_BATCH_BYTES) return { frames, records, resumeAt: undefined };
    // The last stored key read, [position][key], rebuilt from its frame: lmdb's view of it is gone.
    const keyLength = staging.readUInt16BE(lastKeyStart - 2);
    const last = Buffer.allocUnsafe(4 + keyLength);
    last.writeUInt32BE(lastPosition, 0);
    staging.copy(last, 4, lastKeyStart, lastKeyStart + keyLength);
    return { frames, records, resumeAt: successor(last) };
  }

  /**
   * The stored entries with positions in [from, to), in batches of at most `batchSize`, each read from where
   * the last one ended, so the caller may await between batches (writes meanwhile may or may not be seen).
   */
  *#rangeBatches(from: number, to: number, batchSize: number): Generator<{ key: Buffer; value: Buffer }[]> {
    const end = to >= RING_SIZE ? undefined : positionPrefix(to);
    let start: Buffer = positionPrefix(from);
    for (;;) {
      this.#assertOpen();
      const range = this.#store.records.getRange(
        end === undefined ? { start, limit: batchSize } : { start, end, limit: batchSize },
      );
      const entries = [...range];
      if (entries.length === 0) return;
      yield entries;
      if (entries.length < batchSize) return;
      start = successor(entries.at(-1)!.key);
    }
  }

  digestRange(from: number, to: number): { readonly count: number; readonly hash: string } {
    this.#assertOpen();
    const digest = new RangeDigest();
    const start = positionPrefix(from);
    const range =
      to >= RING_SIZE
        ? this.#store.recordViews.getRange({ start })
        : this.#store.recordViews.getRange({ start, end: positionPrefix(to) });
    // A stored key is [position u32][key]; a body begins [flags u8][version length u8][version].
    for (const { key, value } of range) digest.addPair(key, 4, key.length, value, 2, 2 + value[1]!);
    return digest.finish();
  }

  countRange(from: number, to: number): number {
    this.#assertOpen();
    const start = positionPrefix(from);
    return to >= RING_SIZE
      ? this.#store.records.getKeysCount({ start })
      : this.#store.records.getKeysCount({ start, end: positionPrefix(to) });
  }

  async dropRanges(ranges: readonly PositionRange[]): Promise<number> {
    let dropped = 0;
    try {
      // A move can hand over thousands of small ranges: each job resumes at the first range not yet empty, and
      // carries the next RANGES_PER_JOB of them only.
      for (let done = 0; done < ranges.length; ) {
        const job = ranges.slice(done, done + RANGES_PER_JOB);
        const result = await this.#write({ kind: 'drop', ranges: job, limit: REMOVALS_PER_JOB });
        if (result.kind !== 'drop') throw new Error(`writer answered ${result.kind} to drop`);
        dropped += result.dropped;
        done += result.rangesDone;
      }
      return dropped;
    } finally {
      this.#forgetRemoved();
    }
  }

  async purgeTombstones(deletedBeforeWallMs: number): Promise<number> {
    this.#assertOpen();
    if (!hasTombstonesBefore(this.#store, deletedBeforeWallMs)) return 0;
    let purged = 0;
    try {
      for (;;) {
        const result = await this.#write({ kind: 'purge', deletedBeforeWallMs, limit: REMOVALS_PER_JOB });
        if (result.kind !== 'purge') throw new Error(`writer answered ${result.kind} to purge`);
        purged += result.purged;
        if (result.done) return purged;
      }
    } finally {
      this.#forgetRemoved();
    }
  }

  /**
   * After a drop or a purge, the whole cache goes rather than each key removed: removals are rare (after a
   * move, and hourly purges). Once, when the removal ends, not after each of its transactions: until then the
   * keys the node keeps stay cached, and a key being removed may still be read as it was, which is what a
   * read that came before its removal would have seen (writes to it meanwhile drop it from the cache).
   */
  #forgetRemoved(): void {
    this.#cache.clear();
  }

  stats(): EngineStats {
    const records = this.#store.records.getStats() as StatsShape;
    const tombstones = this.#store.tombstones.getStats() as StatsShape;
    const pages = (stats: StatsShape) =>
      stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
    return {
      liveKeys: records.entryCount - tombstones.entryCount,
      tombstones: tombstones.entryCount,
      bytes: (pages(records) + pages(tombstones)) * records.pageSize,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#committer?.close();
      await this.#store.root.close();
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('storage engine used after close');
  }
}
