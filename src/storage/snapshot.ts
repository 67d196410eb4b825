import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { streamObject } from 'stream-json/streamers/stream-object.js';
import { RingKvError } from '../errors.js';
import { spawnInBackground } from '../process/background.js';
import { scriptArgs } from '../process/script.js';
import { RING_SIZE } from '../ring/placement.js';
import type { Version } from '../version/version.js';
import { replaceFile } from './atomic-file.js';
import type { StorageEngine } from './engine.js';
import { fromJsonValue, toJsonValue } from './json-value.js';
import type { StoredRecord } from './record.js';

/**
 * The JSON snapshot, the original design's persistence kept as an export/import format: one file per node,
 * `{ "key": "value", ... }` with the live keys, values in the JsonValue form (plain strings for UTF-8,
 * `{ "base64", "contentType" }` otherwise), so the original files load as they are.
 */
export interface SnapshotLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
}

export interface SnapshotResult {
  readonly keys: number;
  /** Entries left out: unrepresentable keys when writing, malformed or oversized entries when importing. */
  readonly skipped: number;
}

const WRITE_CHUNK_BYTES = 256 * 1024;
const SCAN_BATCH = 1000;

/** Where this process writes the snapshot for `path` before renaming it into place. */
export function snapshotTemporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Writes every live record to `path` atomically: into a temporary file beside it, fsynced, renamed over
 * the old one, then the directory fsynced. Streams in chunks, never holding the data set in memory.
 */
export async function writeSnapshot(engine: StorageEngine, path: string): Promise<SnapshotResult> {
  const temporary = snapshotTemporaryPath(path);
  const file = await open(temporary, 'w');
  let keys = 0;
  let skipped = 0;
  try {
    let chunk = '{';
    for await (const batch of engine.scan(0, RING_SIZE, SCAN_BATCH)) {
      for (const record of batch) {
        if (record.value === null) continue;
        if (!isUtf8(record.key)) {
          skipped++;
          continue;
        }
        const key = Buffer.from(record.key).toString('utf8');
        chunk += `${keys === 0 ? '\n' : ',\n'}${JSON.stringify(key)}: ${JSON.stringify(toJsonValue(record.value, record.contentType))}`;
        keys++;
        if (chunk.length >= WRITE_CHUNK_BYTES) {
          await file.write(chunk);
          chunk = '';
        }
      }
      // Let requests in between batches: a snapshot is background work on a serving node.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await file.write(`${chunk}${keys === 0 ? '' : '\n'}}\n`);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await replaceFile(temporary, path);
  return { keys, skipped };
}

function importedRecord(
  key: string,
  value: unknown,
  version: Version,
  limits: SnapshotLimits,
): StoredRecord | undefined {
  const keyBytes = Buffer.from(key, 'utf8');
  if (keyBytes.length === 0 || keyBytes.length > limits.keyBytesMax) return undefined;
  const decoded = fromJsonValue(value);
  if (decoded === undefined) return undefined;
  const { bytes, contentType } = decoded;
  if (bytes.length > limits.valueBytesMax) return undefined;
  return contentType === undefined
    ? { key: keyBytes, version, value: bytes }
    : { key: keyBytes, version, value: bytes, contentType };
}

/**
 * Loads a snapshot file into `engine`, streaming it entry by entry. Every entry gets a fresh version from
 * `nextVersion`, so anything written later wins. Entries that break the limits or are neither a string nor
 * the base64 form are skipped and counted. Throws RINGKV_ERR_BAD_SNAPSHOT if the file is not a JSON object.
 */
export async function importSnapshot(
  engine: StorageEngine,
  path: string,
  nextVersion: () => Version,
  limits: SnapshotLimits,
): Promise<SnapshotResult> {
  const entries = streamObject.withParserAsStream();
  createReadStream(path)
    .on('error', (error) => entries.destroy(error))
    .pipe(entries);
  let keys = 0;
  let skipped = 0;
  let batch: StoredRecord[] = [];
  try {
    for await (const { key, value } of entries as AsyncIterable<{ key: string; value: unknown }>) {
      const record = importedRecord(key, value, nextVersion(), limits);
      if (record === undefined) {
        skipped++;
        continue;
      }
      batch.push(record);
      if (batch.length >= SCAN_BATCH) {
        await engine.apply(batch);
        keys += batch.length;
        batch = [];
      }
    }
  } catch (error) {
    throw new RingKvError(
      'RINGKV_ERR_BAD_SNAPSHOT',
      `snapshot ${path} is not a JSON object of keys: ${(error as Error).message}`,
    );
  }
  await engine.apply(batch);
  return { keys: keys + batch.length, skipped };
}

/**
 * Writes the snapshot of the LMDB environment at `lmdbPath` in a child process run as background work
 * (spawnInBackground: the lowest CPU priority, in a session of its own), which reads the environment beside
 * the serving node: the export costs the node no event-loop time, heap or garbage collection, and the OS runs
 * it when the CPUs would otherwise idle. If the node dies, the child stops and removes its temporary file.
 */
export async function writeSnapshotInChild(lmdbPath: string, path: string): Promise<SnapshotResult> {
  const child = spawnInBackground([...scriptArgs('./snapshot-child', import.meta.url), lmdbPath, path]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`snapshot writer exited with ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout) as SnapshotResult;
}

/**
 * Writes the snapshot every `intervalMs` when the engine changed since the last one, one at a time.
 * `flush()` writes a last one (used at shutdown); errors go to `onError`, the schedule goes on.
 */
/**
 * How long to wait before the next snapshot: the interval, but never less than nine times the last
 * snapshot's duration, so exporting a large node takes at most a tenth of the node's time (a 3 s export
 * of millions of keys runs every 30 s, not every 10 s).
 */
export function nextSnapshotDelayMs(intervalMs: number, lastDurationMs: number): number {
  return Math.max(intervalMs, 9 * lastDurationMs);
}

/** How often a periodic snapshot that is waiting (see `deferWhile`) looks again. */
const DEFER_CHECK_MS = 1000;

export class SnapshotScheduler {
  readonly #engine: StorageEngine;
  readonly #write: () => Promise<SnapshotResult>;
  readonly #onWritten: (result: SnapshotResult) => void;
  readonly #onError: (error: unknown) => void;
  readonly #deferWhile: () => boolean;
  readonly #deferMaxMs: number;
  #timer: NodeJS.Timeout | undefined;
  #writtenAtChange = -1;
  #running: Promise<void> | undefined;
  #lastDurationMs = 0;
  #stopped = false;

  constructor(options: {
    readonly engine: StorageEngine;
    /** Writes one snapshot: in a child process for lmdb, in this process for the memory engine. */
    readonly write: () => Promise<SnapshotResult>;
    readonly onWritten: (result: SnapshotResult) => void;
    readonly onError: (error: unknown) => void;
    /**
     * A periodic snapshot due while this answers true waits (looking again every second), up to `deferMaxMs`
     * past its time: while a move streams records in or out, an export would be stale at once and takes CPU
     * the move and the clients need. flush() never waits.
     */
    readonly deferWhile?: () => boolean;
    readonly deferMaxMs?: number;
  }) {
    this.#engine = options.engine;
    this.#write = options.write;
    this.#onWritten = options.onWritten;
    this.#onError = options.onError;
    this.#deferWhile = options.deferWhile ?? (() => false);
    this.#deferMaxMs = options.deferMaxMs ?? 60_000;
  }

  /**
   * `intervalMs` 0 turns periodic snapshots off. `writtenAtChange` is the engine change count already on disk.
   * The first snapshot comes at a random point within the first interval, so nodes started together do not
   * all write theirs in the same second.
   */
  start(intervalMs: number, writtenAtChange: number): void {
    this.#writtenAtChange = writtenAtChange;
    if (intervalMs <= 0) return;
    const next = (delayMs: number, dueAt: number) => {
      this.#timer = setTimeout(async () => {
        if (this.#stopped) return;
        if (this.#deferWhile() && performance.now() - dueAt < this.#deferMaxMs) {
          next(DEFER_CHECK_MS, dueAt);
          return;
        }
        await this.flush();
        const delay = nextSnapshotDelayMs(intervalMs, this.#lastDurationMs);
        if (!this.#stopped) next(delay, performance.now() + delay);
      }, delayMs).unref();
    };
    const first = Math.random() * intervalMs;
    next(first, performance.now() + first);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Writes a snapshot now if anything changed; waits for one already running first. */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    const change = this.#engine.changeCount;
    if (change === this.#writtenAtChange) return;
    const started = performance.now();
    this.#running = this.#write()
      .then((result) => {
        this.#writtenAtChange = change;
        this.#onWritten(result);
      }, this.#onError)
      .then(() => {
        this.#lastDurationMs = performance.now() - started;
      })
      .finally(() => {
        this.#running = undefined;
      });
    await this.#running;
  }
}
