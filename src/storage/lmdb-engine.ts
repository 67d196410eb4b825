import { type Database, open, type RootDatabase } from 'lmdb';
import { RingKvError } from '../errors.js';
import { RING_SIZE } from '../ring/placement.js';
import { type Version, wallMsOf } from '../version/version.js';
import type { EngineStats, PositionRange, StorageEngine, WriteOutcome } from './engine.js';
import { compositeKey, positionPrefix, successor } from './keys.js';
import { decodeRecordBody, encodeRecordBody, type StoredRecord } from './record.js';

interface StatsShape {
  readonly pageSize: number;
  readonly entryCount: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

/** What a key's latest write (committed or still in flight) was, enough to order the next one. */
interface KeyState {
  readonly version: Version;
  readonly tombstone: boolean;
}

const EMPTY = Buffer.alloc(0);
const TOMBSTONE_FLAG = 1;
const DROP_BATCH = 2000;

/** Tombstone index key: `[deleted-at wall ms, u48 big-endian][composite key]`, so purges read oldest first. */
function tombstoneIndexKey(version: Version, composite: Buffer): Buffer {
  const key = Buffer.allocUnsafe(6 + composite.length);
  key.writeUIntBE(wallMsOf(version), 0, 6);
  composite.copy(key, 6);
  return key;
}

/** Disk-full failures become a typed operating error; anything else stays what it was. */
function storageError(error: unknown): unknown {
  const text =
    error instanceof Error
      ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`
      : String(error);
  return /MDB_MAP_FULL|ENOSPC|No space left/i.test(text)
    ? new RingKvError('RINGKV_ERR_STORAGE_FULL', `the storage engine is full: ${text.trim()}`)
    : error;
}

/**
 * The durable engine, on LMDB through the `lmdb` package. Two sub-databases in one environment:
 * `records` (composite key -> encoded record) and `tombstones` (an index of deletes by time, which makes
 * live/tombstone counts O(1) and purges read only expired tombstones). Both change in the same transaction.
 *
 * Writes are queued with lmdb's asynchronous `put`, which batches every write of an event turn into one
 * transaction; `apply` resolves only after the commit *and* the flush (`db.flushed`), so an acknowledged
 * write survives a crash. The stale-version check reads the newest state including writes still in
 * flight (`#inFlight`), so two writes to one key in the same turn are ordered correctly.
 */
export class LmdbEngine implements StorageEngine {
  readonly kind = 'lmdb' as const;
  readonly #root: RootDatabase;
  readonly #records: Database<Buffer, Buffer>;
  readonly #tombstones: Database<Buffer, Buffer>;
  readonly #inFlight = new Map<string, KeyState>();
  #changeCount = 0;
  #closing: Promise<void> | undefined;

  /** `readOnly` opens an environment another process writes (a snapshot writer); writes then fail. */
  constructor(path: string, options: { readonly readOnly?: boolean } = {}) {
    this.#root = open({ path, maxDbs: 4, readOnly: options.readOnly === true });
    this.#records = this.#root.openDB<Buffer, Buffer>({
      name: 'records',
      encoding: 'binary',
      keyEncoding: 'binary',
    });
    this.#tombstones = this.#root.openDB<Buffer, Buffer>({
      name: 'tombstones',
      encoding: 'binary',
      keyEncoding: 'binary',
    });
  }

  get changeCount(): number {
    return this.#changeCount;
  }

  get(key: Uint8Array): StoredRecord | undefined {
    this.#assertOpen();
    const body = this.#records.get(compositeKey(key));
    return body === undefined ? undefined : decodeRecordBody(key, body);
  }

  async apply(records: readonly StoredRecord[]): Promise<WriteOutcome[]> {
    this.#assertOpen();
    const outcomes: WriteOutcome[] = [];
    const writes: Promise<boolean>[] = [];
    const started: [string, KeyState][] = [];
    for (const record of records) {
      const composite = compositeKey(record.key);
      const id = composite.toString('latin1');
      const current = this.#inFlight.get(id) ?? this.#committedState(composite);
      if (current !== undefined && current.version >= record.version) {
        outcomes.push('stale');
        continue;
      }
      const tombstone = record.value === null;
      writes.push(this.#records.put(composite, encodeRecordBody(record)));
      if (current?.tombstone)
        writes.push(this.#tombstones.remove(tombstoneIndexKey(current.version, composite)));
      if (tombstone) writes.push(this.#tombstones.put(tombstoneIndexKey(record.version, composite), EMPTY));
      const state = { version: record.version, tombstone };
      this.#inFlight.set(id, state);
      started.push([id, state]);
      outcomes.push('applied');
      this.#changeCount++;
    }
    try {
      await Promise.all(writes);
      await this.#root.flushed;
    } catch (error) {
      throw storageError(error);
    } finally {
      for (const [id, state] of started) if (this.#inFlight.get(id) === state) this.#inFlight.delete(id);
    }
    return outcomes;
  }

  /** Reads only the header of the stored record, through lmdb's reused buffer: no copy of the value. */
  #committedState(composite: Buffer): KeyState | undefined {
    const body = this.#records.getBinaryFast(composite);
    if (body === undefined) return undefined;
    return {
      version: body.toString('latin1', 2, 2 + body[1]!),
      tombstone: (body[0]! & TOMBSTONE_FLAG) !== 0,
    };
  }

  async *scan(from: number, to: number, batchSize: number): AsyncGenerator<StoredRecord[]> {
    const end = to >= RING_SIZE ? undefined : positionPrefix(to);
    let start: Buffer = positionPrefix(from);
    for (;;) {
      this.#assertOpen();
      const batch: StoredRecord[] = [];
      let last: Buffer | undefined;
      const range = this.#records.getRange(
        end === undefined ? { start, limit: batchSize } : { start, end, limit: batchSize },
      );
      for (const { key, value } of range) {
        batch.push(decodeRecordBody(key.subarray(4), value));
        last = key;
      }
      if (last === undefined) return;
      yield batch;
      if (batch.length < batchSize) return;
      start = successor(last);
    }
  }

  countRange(from: number, to: number): number {
    this.#assertOpen();
    const start = positionPrefix(from);
    return to >= RING_SIZE
      ? this.#records.getKeysCount({ start })
      : this.#records.getKeysCount({ start, end: positionPrefix(to) });
  }

  async dropRanges(ranges: readonly PositionRange[]): Promise<number> {
    this.#assertOpen();
    let dropped = 0;
    let removals: Promise<boolean>[] = [];
    // One flush per DROP_BATCH removals, not per range: a move can hand over thousands of small ranges.
    const settle = async () => {
      await Promise.all(removals);
      await this.#root.flushed;
      removals = [];
      // Background work on a serving node: let requests in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (const { from, to } of ranges) {
      const end = to >= RING_SIZE ? undefined : positionPrefix(to);
      const range = this.#records.getRange(
        end === undefined ? { start: positionPrefix(from) } : { start: positionPrefix(from), end },
      );
      for (const { key: composite, value: body } of range) {
        const version = body.toString('latin1', 2, 2 + body[1]!);
        if ((body[0]! & TOMBSTONE_FLAG) !== 0)
          removals.push(this.#tombstones.remove(tombstoneIndexKey(version, composite)));
        removals.push(this.#records.remove(composite));
        this.#inFlight.delete(composite.toString('latin1'));
        dropped++;
      }
      if (removals.length >= DROP_BATCH) await settle();
    }
    await settle();
    return dropped;
  }

  async purgeTombstones(deletedBeforeWallMs: number): Promise<number> {
    this.#assertOpen();
    const end = Buffer.allocUnsafe(6);
    end.writeUIntBE(Math.max(0, Math.min(deletedBeforeWallMs, 2 ** 48 - 1)), 0, 6);
    let purged = 0;
    for (;;) {
      const removals: Promise<boolean>[] = [];
      for (const { key: indexKey } of this.#tombstones.getRange({ end, limit: 1000 })) {
        const composite = indexKey.subarray(6);
        const id = composite.toString('latin1');
        const state = this.#inFlight.get(id) ?? this.#committedState(composite);
        // Purge only if the tombstone is still the key's newest state; a newer write owns the key now.
        if (state?.tombstone && tombstoneIndexKey(state.version, composite).equals(indexKey)) {
          removals.push(this.#records.remove(composite));
          purged++;
        }
        removals.push(this.#tombstones.remove(indexKey));
      }
      if (removals.length === 0) return purged;
      await Promise.all(removals);
      await this.#root.flushed;
    }
  }

  stats(): EngineStats {
    const records = this.#records.getStats() as StatsShape;
    const tombstones = this.#tombstones.getStats() as StatsShape;
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
      await this.#root.flushed;
      await this.#root.close();
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('storage engine used after close');
  }
}
