import type { StoredRecord } from './record.js';

interface Entry {
  record: StoredRecord;
  readonly bytes: number;
  /** Read since the clock hand last passed: the entry gets another turn instead of being evicted. */
  used: boolean;
}

/** What an entry costs beyond its key and value: the Map slot, the entry, the record and its version. */
const ENTRY_OVERHEAD_BYTES = 160;

export interface RecordCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries the clock pushed out to make room (not those a write, drop or purge removed). */
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Decoded records in front of the lmdb engine, so a read of a hot key is one Map lookup instead of a trip
 * through lmdb's read transaction and a decode. Bounded by `maxBytes` (key, value and a fixed overhead per
 * entry); eviction is CLOCK (second chance), an approximation of LRU that costs a flag store per hit.
 *
 * The cache holds only what LMDB holds, committed: the engine fills it from its own reads, and removes every
 * key a commit changed when that commit is settled (see LmdbEngine), before anyone is told of the write.
 */
export class RecordCache {
  readonly #maxBytes: number;
  /** Insertion order is the clock's order. */
  readonly #entries = new Map<string, Entry>();
  /**
   * The clock hand: one live iterator, kept from eviction to eviction and restarted at the end, so an
   * eviction never walks again over what the last one passed (a fresh iterator per eviction would).
   */
  #hand: Iterator<[string, Entry]> | undefined;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  /** `maxBytes` 0 turns the cache off. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get enabled(): boolean {
    return this.#maxBytes > 0;
  }

  get(id: string): StoredRecord | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    entry.used = true;
    return entry.record;
  }

  /** Caches `record` under `id` unless it alone would take more than an eighth of the cache. */
  set(id: string, record: StoredRecord): void {
    const bytes = ENTRY_OVERHEAD_BYTES + id.length + (record.value?.length ?? 0);
    if (bytes > this.#maxBytes / 8) return;
    this.delete(id);
    this.#entries.set(id, { record, bytes, used: false });
    this.#bytes += bytes;
    while (this.#bytes > this.#maxBytes) this.#evictOne();
  }

  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#hand = undefined;
    this.#bytes = 0;
  }

  stats(): RecordCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      entries: this.#entries.size,
      bytes: this.#bytes,
    };
  }

  #evictOne(): void {
    while (this.#entries.size > 0) {
      this.#hand ??= this.#entries.entries();
      const next = this.#hand.next();
      if (next.done === true) {
        this.#hand = undefined;
        continue;
      }
      const [id, entry] = next.value;
      if (entry.used) {
        entry.used = false;
        continue;
      }
      this.#entries.delete(id);
      this.#bytes -= entry.bytes;
      this.#evictions++;
      return;
    }
  }
}
