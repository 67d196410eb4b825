import { RING_SIZE } from '../ring/placement.js';
import { wallMsOf } from '../version/version.js';
import type { EngineStats, FramesBatch, PositionRange, StorageEngine, WriteOutcome } from './engine.js';
import { compositeKey, positionPrefix } from './keys.js';
import { RangeDigest } from './range-digest.js';
import { encodeRecordFrames, RecordFrameDecoder, type StoredRecord } from './record.js';

/**
 * An engine that keeps everything in a Map: for caches and tests. Nothing survives the process. Scans
 * sort the composite keys lazily (once after each burst of new keys), which suits occasional migrations.
 */
export class MemoryEngine implements StorageEngine {
  readonly kind = 'memory' as const;
  #changeCount = 0;
  /** Composite keys as latin1 strings, whose order is the bytes' order. */
  readonly #records = new Map<string, StoredRecord>();
  #sorted: string[] = [];
  #sortedIsCurrent = true;
  #liveKeys = 0;
  #bytes = 0;
  #closed = false;

  get changeCount(): number {
    return this.#changeCount;
  }

  get(key: Uint8Array): StoredRecord | undefined {
    this.#assertOpen();
    return this.#records.get(compositeKey(key).toString('latin1'));
  }

  async apply(records: readonly StoredRecord[]): Promise<WriteOutcome[]> {
    this.#assertOpen();
    return records.map((record) => {
      const composite = compositeKey(record.key).toString('latin1');
      const current = this.#records.get(composite);
      if (current !== undefined && current.version >= record.version) return 'stale';
      if (current === undefined) this.#sortedIsCurrent = false;
      this.#account(current, -1);
      const copy: StoredRecord = {
        ...record,
        key: Uint8Array.from(record.key),
        value: record.value && Uint8Array.from(record.value),
      };
      this.#records.set(composite, copy);
      this.#account(copy, 1);
      this.#changeCount++;
      return 'applied';
    });
  }

  #account(record: StoredRecord | undefined, sign: 1 | -1): void {
    if (record === undefined) return;
    if (record.value !== null) this.#liveKeys += sign;
    this.#bytes += sign * (record.key.length + (record.value?.length ?? 0) + record.version.length);
  }

  async *scan(from: number, to: number, batchSize: number): AsyncGenerator<StoredRecord[]> {
    const end = to >= RING_SIZE ? undefined : positionPrefix(to).toString('latin1');
    let start = positionPrefix(from).toString('latin1');
    let inclusive = true;
    for (;;) {
      this.#assertOpen();
      const sorted = this.#sortedKeys();
      let index = lowerBound(sorted, start);
      if (!inclusive && sorted[index] === start) index++;
      const batch: StoredRecord[] = [];
      for (; index < sorted.length && batch.length < batchSize; index++) {
        const composite = sorted[index]!;
        if (end !== undefined && composite >= end) break;
        const record = this.#records.get(composite);
        if (record !== undefined) batch.push(record);
        start = composite;
      }
      if (batch.length === 0) return;
      inclusive = false;
      yield batch;
      if (batch.length < batchSize) return;
    }
  }

  async *scanFrames(from: number, to: number, batchSize: number): AsyncGenerator<FramesBatch> {
    for await (const batch of this.scan(from, to, batchSize))
      yield { frames: encodeRecordFrames(batch), records: batch.length };
  }

  applyFrames(frames: Buffer): Promise<WriteOutcome[]> {
    const decoder = new RecordFrameDecoder(frames.length);
    const records = decoder.push(frames);
    decoder.end();
    return this.apply(records);
  }

  digestRange(from: number, to: number): { readonly count: number; readonly hash: string } {
    this.#assertOpen();
    const sorted = this.#sortedKeys();
    const end = to >= RING_SIZE ? sorted.length : lowerBound(sorted, positionPrefix(to).toString('latin1'));
    const digest = new RangeDigest();
    for (let index = lowerBound(sorted, positionPrefix(from).toString('latin1')); index < end; index++) {
      const record = this.#records.get(sorted[index]!)!;
      digest.add(record.key, Buffer.from(record.version, 'latin1'));
    }
    return digest.finish();
  }

  countRange(from: number, to: number): number {
    this.#assertOpen();
    const sorted = this.#sortedKeys();
    const end = to >= RING_SIZE ? sorted.length : lowerBound(sorted, positionPrefix(to).toString('latin1'));
    return Math.max(0, end - lowerBound(sorted, positionPrefix(from).toString('latin1')));
  }

  async dropRanges(ranges: readonly PositionRange[]): Promise<number> {
    this.#assertOpen();
    const sorted = this.#sortedKeys();
    let dropped = 0;
    for (const { from, to } of ranges) {
      const end = to >= RING_SIZE ? sorted.length : lowerBound(sorted, positionPrefix(to).toString('latin1'));
      for (let index = lowerBound(sorted, positionPrefix(from).toString('latin1')); index < end; index++) {
        const record = this.#records.get(sorted[index]!);
        if (record === undefined) continue;
        this.#account(record, -1);
        this.#records.delete(sorted[index]!);
        dropped++;
      }
    }
    if (dropped > 0) this.#sortedIsCurrent = false;
    return dropped;
  }

  #sortedKeys(): string[] {
    if (!this.#sortedIsCurrent) {
      this.#sorted = [...this.#records.keys()].sort();
      this.#sortedIsCurrent = true;
    }
    return this.#sorted;
  }

  async purgeTombstones(deletedBeforeWallMs: number): Promise<number> {
    this.#assertOpen();
    let purged = 0;
    for (const [composite, record] of this.#records) {
      if (record.value === null && wallMsOf(record.version) < deletedBeforeWallMs) {
        this.#account(record, -1);
        this.#records.delete(composite);
        purged++;
      }
    }
    if (purged > 0) this.#sortedIsCurrent = false;
    return purged;
  }

  stats(): EngineStats {
    return { liveKeys: this.#liveKeys, tombstones: this.#records.size - this.#liveKeys, bytes: this.#bytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('storage engine used after close');
  }
}

function lowerBound(sorted: readonly string[], target: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}
