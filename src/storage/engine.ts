import type { StoredRecord } from './record.js';

/** Ring positions [from, to). */
export interface PositionRange {
  readonly from: number;
  readonly to: number;
}

export type EngineKind = 'lmdb' | 'memory';

/** `applied`: the write is now the key's state. `stale`: the stored version is as new or newer; nothing changed. */
export type WriteOutcome = 'applied' | 'stale';

export interface FramesBatch {
  readonly frames: Buffer;
  readonly records: number;
}

export interface EngineStats {
  readonly liveKeys: number;
  readonly tombstones: number;
  /** Bytes the engine's data occupies (lmdb: pages in use; memory: keys and values). */
  readonly bytes: number;
}

/**
 * Where a node keeps its records. Implementations: `lmdb` (durable, the default) and `memory`; both pass
 * test/storage/engine.case.ts. Reads are synchronous (lmdb reads are memory-mapped); writes are batched.
 */
export interface StorageEngine {
  readonly kind: EngineKind;
  /** Applied writes since the engine was opened; lets callers ask "has anything changed since?". */
  readonly changeCount: number;
  /** The key's record, tombstones included; undefined if the key was never written (or was purged). */
  get(key: Uint8Array): StoredRecord | undefined;
  /**
   * Applies each record unless the stored version is as new or newer, in order. Resolves once every
   * applied record is durable (lmdb: committed and flushed to disk), never before.
   */
  apply(records: readonly StoredRecord[]): Promise<WriteOutcome[]>;
  /**
   * Every record whose ring position is in [from, to), tombstones included, in position order, in batches
   * of at most `batchSize`, reading only that range. Writes during a scan may or may not be seen.
   */
  scan(from: number, to: number, batchSize: number): AsyncGenerator<StoredRecord[]>;
  /**
   * The same records as scan, as record frames (record.ts) of at most `batchSize` records each (lmdb also
   * ends a batch once it passes 256 KiB): what a move sends, read without decoding (lmdb stores each body in
   * its frame form).
   */
  scanFrames(from: number, to: number, batchSize: number): AsyncGenerator<FramesBatch>;
  /** apply() for records given as frames (record.ts) that the caller has checked (inspectFrames). */
  applyFrames(frames: Buffer): Promise<WriteOutcome[]>;
  /** How many records (tombstones included) have positions in [from, to). */
  countRange(from: number, to: number): number;
  /**
   * The records with positions in [from, to), tombstones included, as their count and a RangeDigest hash of
   * their (key, version) pairs in position order: two replicas with equal digests hold the same versions of
   * the same keys. Synchronous, and cheaper than scan (no record is decoded): anti-entropy and a move's
   * checks digest tens of thousands of small ranges.
   */
  digestRange(from: number, to: number): { readonly count: number; readonly hash: string };
  /**
   * Physically removes every record in the ranges [from, to), tombstones included, leaving no trace: for a
   * node that no longer owns them after a migration. Returns how many records were removed.
   */
  dropRanges(ranges: readonly PositionRange[]): Promise<number>;
  /** Drops tombstones deleted before `deletedBeforeWallMs` (by their version's wall time); returns how many. */
  purgeTombstones(deletedBeforeWallMs: number): Promise<number>;
  stats(): EngineStats;
  /** Waits for pending writes, then releases the engine; later calls fail. */
  close(): Promise<void>;
}
