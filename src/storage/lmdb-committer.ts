import { type LmdbStore, storageError } from './lmdb-store.js';
import type { WriterPolicy } from './lmdb-writer.js';
import { LmdbWriterThread } from './lmdb-writer-thread.js';
import { type CommitOutcome, commitJobs, jobBytes, type WriteJob, type WriteResult } from './lmdb-writes.js';

export interface CommitterOptions {
  /**
   * Least time from one commit's start to the next's: writes that arrive sooner share the next commit. The
   * first write after a quiet spell commits at once. 0 = start each commit as soon as the last one is done.
   */
  readonly commitIntervalMs: number;
  /**
   * Small commits run on the event loop while recent commits took less than this (a moving average, flush
   * included); others run on the writer thread. 0 = every commit on the writer thread.
   */
  readonly inlineCommitMsMax: number;
  /**
   * How Linux schedules the writer thread (see WriterPolicy). Under `batch`, a flush that completes while the
   * event loop is answering requests waits for the loop to pause instead of interrupting it, so on a busy
   * core commits come a little later and hold more writes each.
   */
  readonly writerPolicy: WriterPolicy;
}

interface Waiting {
  readonly job: WriteJob;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: unknown) => void;
}

/** A batch of at most this many bytes of records may commit on the event loop. */
const INLINE_BYTES_MAX = 64 * 1024;
/** Weight of the newest commit in the moving average of commit times. */
const AVERAGE_WEIGHT = 0.2;

/**
 * Group commit for the lmdb engine. One batch commits at a time; the jobs that arrive meanwhile wait and go
 * together as the next batch, one transaction and one flush for all of them, started no sooner than
 * `commitIntervalMs` after the last. Batches grow with load, so the cost of a commit (0.1 to 0.4 ms of CPU on
 * the development VM, most of it the flush) is shared by more writes exactly when writes are many.
 *
 * Where a batch commits: on the event loop when it is small and commits are quick (a local disk), because
 * handing it to a thread and back costs more CPU than the commit; on the writer thread (lmdb-writer.ts) when
 * it is large (a migration's batches, drops, purges) or commits are slow (a network disk), so the event loop
 * keeps serving while the disk works. The thread starts the first time it is needed.
 */
export class LmdbCommitter {
  readonly #store: LmdbStore;
  readonly #path: string;
  readonly #options: CommitterOptions;
  #thread: LmdbWriterThread | undefined;
  #waiting: Waiting[] = [];
  /** A batch is scheduled or committing; jobs that arrive now join the next one. */
  #busy = false;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #spacing: NodeJS.Timeout | undefined;
  #commitMsAverage: number | undefined;
  #commits = 0;
  #threadCommits = 0;
  #idle: (() => void) | undefined;

  constructor(store: LmdbStore, path: string, options: CommitterOptions) {
    this.#store = store;
    this.#path = path;
    this.#options = options;
  }

  /** Batches committed and flushed, and how many of them on the writer thread. */
  get commits(): { readonly total: number; readonly onThread: number } {
    return { total: this.#commits, onThread: this.#threadCommits };
  }

  /** Runs `job` in the next batch; resolves once the batch is committed and flushed to disk. */
  run(job: WriteJob): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ job, resolve, reject });
      if (this.#busy) return;
      this.#busy = true;
      // Everything this event-loop turn queues goes in the same batch.
      setImmediate(() => this.#next());
    });
  }

  #next(): void {
    if (this.#waiting.length === 0) {
      this.#busy = false;
      this.#idle?.();
      return;
    }
    const waitMs = this.#lastStartMs + this.#options.commitIntervalMs - performance.now();
    if (waitMs > 0) {
      this.#spacing = setTimeout(() => this.#next(), waitMs);
      return;
    }
    const batch = this.#waiting;
    this.#waiting = [];
    this.#lastStartMs = performance.now();
    const jobs = batch.map((waiting) => waiting.job);
    if (this.#inline(jobs)) {
      try {
        this.#settle(batch, commitJobs(this.#store, jobs), false);
      } catch (error) {
        this.#fail(batch, error);
      }
      // One more turn of the event loop: the writes it reads from its sockets join the next batch.
      setImmediate(() => this.#next());
      return;
    }
    this.#thread ??= new LmdbWriterThread({ path: this.#path, policy: this.#options.writerPolicy });
    this.#thread.commit(jobs).then(
      (outcome) => {
        // Readers on the event loop must see the batch before its writes are acknowledged.
        this.#store.root.resetReadTxn();
        this.#settle(batch, outcome, true);
        this.#next();
      },
      (error: unknown) => {
        this.#fail(batch, error);
        this.#next();
      },
    );
  }

  #inline(jobs: readonly WriteJob[]): boolean {
    const { inlineCommitMsMax } = this.#options;
    if (inlineCommitMsMax === 0 || (this.#commitMsAverage ?? 0) > inlineCommitMsMax) return false;
    let bytes = 0;
    for (const job of jobs) bytes += jobBytes(job);
    return bytes <= INLINE_BYTES_MAX;
  }

  #settle(batch: readonly Waiting[], outcome: CommitOutcome, onThread: boolean): void {
    this.#commits++;
    if (onThread) this.#threadCommits++;
    this.#commitMsAverage =
      this.#commitMsAverage === undefined
        ? outcome.commitMs
        : this.#commitMsAverage + AVERAGE_WEIGHT * (outcome.commitMs - this.#commitMsAverage);
    for (const [index, waiting] of batch.entries()) waiting.resolve(outcome.results[index]!);
  }

  #fail(batch: readonly Waiting[], error: unknown): void {
    const failure = storageError(error);
    for (const waiting of batch) waiting.reject(failure);
  }

  /** Lets queued batches commit, then stops the writer thread if it started. */
  async close(): Promise<void> {
    if (this.#busy) await new Promise<void>((resolve) => (this.#idle = resolve));
    clearTimeout(this.#spacing);
    await this.#thread?.close();
  }
}
