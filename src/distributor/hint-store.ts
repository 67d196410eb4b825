import { type Database, open, type RootDatabase } from 'lmdb';
import { decodeRecordBody, encodeRecordBody, type StoredRecord } from '../storage/record.js';

/**
 * Hinted handoff: writes meant for a replica that was down or failed, kept durably in the distributor's own
 * LMDB file until that replica is back. A hint is keyed `[node id length u8][node id][version length u8]
 * [version][key bytes]`, so concurrent hints for one key never overwrite each other (delivery sends them all
 * and the replica's version check keeps the newest), and all hints of a node are one key range.
 */
export class HintStore {
  readonly #root: RootDatabase;
  readonly #hints: Database<Buffer, Buffer>;
  /** Hints per node, counted once at open and kept current, so the cluster view never scans the store. */
  readonly #counts = new Map<string, number>();

  constructor(path: string) {
    this.#root = open({ path, maxDbs: 2 });
    this.#hints = this.#root.openDB<Buffer, Buffer>({
      name: 'hints',
      encoding: 'binary',
      keyEncoding: 'binary',
    });
    for (const key of this.#hints.getKeys()) {
      const node = key.toString('latin1', 1, 1 + key[0]!);
      this.#counts.set(node, (this.#counts.get(node) ?? 0) + 1);
    }
  }

  #count(node: string, change: number): void {
    const count = (this.#counts.get(node) ?? 0) + change;
    if (count > 0) this.#counts.set(node, count);
    else this.#counts.delete(node);
  }

  static #prefix(node: string): Buffer {
    const id = Buffer.from(node, 'latin1');
    return Buffer.concat([Buffer.from([id.length]), id]);
  }

  static #key(node: string, record: StoredRecord): Buffer {
    const version = Buffer.from(record.version, 'latin1');
    return Buffer.concat([HintStore.#prefix(node), Buffer.from([version.length]), version, record.key]);
  }

  /** Keeps `record` for `node`; resolves once it is durable. */
  async add(node: string, record: StoredRecord): Promise<void> {
    const key = HintStore.#key(node, record);
    if (!this.#hints.doesExist(key)) this.#count(node, 1);
    await this.#hints.put(key, encodeRecordBody(record));
    await this.#root.flushed;
  }

  /** Up to `limit` hints for `node`, oldest key first. */
  take(node: string, limit: number): StoredRecord[] {
    const prefix = HintStore.#prefix(node);
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1; // node ids are printable, so the last byte never overflows
    const records: StoredRecord[] = [];
    for (const { key, value } of this.#hints.getRange({ start: prefix, end, limit })) {
      const versionLength = key[prefix.length]!;
      records.push(decodeRecordBody(key.subarray(prefix.length + 1 + versionLength), value));
    }
    return records;
  }

  /** Forgets hints that were delivered. */
  async remove(node: string, records: readonly StoredRecord[]): Promise<void> {
    const keys = records
      .map((record) => HintStore.#key(node, record))
      .filter((key) => this.#hints.doesExist(key));
    this.#count(node, -keys.length);
    await Promise.all(keys.map((key) => this.#hints.remove(key)));
    await this.#root.flushed;
  }

  /** Hints waiting per node (only nodes that have some). */
  pending(nodes: Iterable<string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const node of nodes) {
      const count = this.#counts.get(node);
      if (count !== undefined) counts.set(node, count);
    }
    return counts;
  }

  async close(): Promise<void> {
    await this.#root.flushed;
    await this.#root.close();
  }
}
