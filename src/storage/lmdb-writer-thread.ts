import type { Worker } from 'node:worker_threads';
import { startWorker } from '../process/script.js';
import { storageError } from './lmdb-store.js';
import type { WriterAnswer, WriterRequest } from './lmdb-writer.js';
import type { WriteJob, WriteResult } from './lmdb-writes.js';

interface Waiting {
  readonly job: WriteJob;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: unknown) => void;
}

export interface WriterThreadOptions {
  /**
   * Least time from one commit's start to the next's: writes that arrive sooner share the next commit. A
   * write to an idle engine still commits at once. 0 = start each commit as soon as the last one is done.
   */
  readonly commitIntervalMs: number;
  /** Called when a batch is durable, before its jobs resolve: readers on this thread must see it now. */
  readonly onCommitted: () => void;
}

/**
 * The event loop's side of the writer thread (lmdb-writer.ts), and its group commit: one batch is in the
 * writer at a time; the jobs that arrive meanwhile wait and go together as the next batch, one transaction
 * and one flush for all of them, started no sooner than `commitIntervalMs` after the last. Batches grow with
 * load, so the cost of a commit (about 0.4 ms of CPU on the development VM, most of it the flush) is shared
 * by more writes exactly when writes are many; a lone write waits for nothing but its own commit.
 */
export class LmdbWriterThread {
  readonly #worker: Worker;
  readonly #options: WriterThreadOptions;
  #waiting: Waiting[] = [];
  #inWriter: Waiting[] = [];
  #busy = false;
  #commits = 0;
  /** performance.now() when the last batch went to the writer. */
  #lastSentMs = Number.NEGATIVE_INFINITY;
  #spacing: NodeJS.Timeout | undefined;
  #nextId = 0;
  #failure: unknown;
  #idle: (() => void) | undefined;
  readonly #exited: Promise<void>;

  constructor(path: string, options: WriterThreadOptions) {
    this.#options = options;
    this.#worker = startWorker('./lmdb-writer', import.meta.url, { workerData: { path } });
    this.#worker.unref();
    this.#worker.on('message', (answer: WriterAnswer) => this.#answered(answer));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        this.#fail(new Error(`the lmdb writer thread exited with code ${code}`));
        resolve();
      }),
    );
  }

  /** Batches committed and flushed. */
  get commits(): number {
    return this.#commits;
  }

  /** Runs `job` in the next batch; resolves once the batch is committed and flushed to disk. */
  run(job: WriteJob): Promise<WriteResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ job, resolve, reject });
      if (this.#busy) return;
      this.#busy = true;
      this.#worker.ref(); // an awaited write keeps the process alive
      // Everything this event-loop turn queues goes in the same batch.
      setImmediate(() => this.#send());
    });
  }

  #send(): void {
    const waitMs = this.#lastSentMs + this.#options.commitIntervalMs - performance.now();
    if (waitMs > 0 && this.#waiting.length > 0 && this.#failure === undefined) {
      this.#spacing = setTimeout(() => {
        this.#spacing = undefined;
        this.#send();
      }, waitMs);
      return;
    }
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0 || this.#failure !== undefined) {
      this.#busy = false;
      this.#worker.unref();
      this.#idle?.();
      return;
    }
    this.#inWriter = batch;
    this.#lastSentMs = performance.now();
    const request: WriterRequest = { id: ++this.#nextId, jobs: batch.map((waiting) => waiting.job) };
    this.#worker.postMessage(request);
  }

  #answered(answer: WriterAnswer): void {
    const batch = this.#inWriter;
    this.#inWriter = [];
    if ('error' in answer) {
      const error = storageError(Object.assign(new Error(answer.error.message), answer.error));
      for (const waiting of batch) waiting.reject(error);
    } else {
      this.#commits++;
      this.#options.onCommitted();
      for (const [index, waiting] of batch.entries()) waiting.resolve(answer.results[index]!);
    }
    this.#send();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    for (const waiting of [...this.#inWriter, ...this.#waiting]) waiting.reject(this.#failure);
    this.#inWriter = [];
    this.#waiting = [];
    this.#busy = false;
    clearTimeout(this.#spacing);
    this.#idle?.();
  }

  /** Lets queued batches finish, then stops the thread. */
  async close(): Promise<void> {
    if (this.#busy) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#worker.ref(); // until it has exited
    if (this.#failure === undefined) {
      const request: WriterRequest = { close: true };
      this.#worker.postMessage(request);
    }
    await this.#exited;
  }
}
