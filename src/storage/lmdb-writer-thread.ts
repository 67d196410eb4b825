import type { Worker } from 'node:worker_threads';
import { startWorker } from '../process/script.js';
import type { WriterAnswer, WriterData, WriterRequest } from './lmdb-writer.js';
import type { CommitOutcome, WriteJob } from './lmdb-writes.js';

/**
 * The event loop's handle on the writer thread (lmdb-writer.ts): one commit at a time (the caller waits for
 * each before the next), so the answers need no ids. The thread keeps the process alive only while a commit
 * is in it. If it dies, every commit after fails with why.
 */
export class LmdbWriterThread {
  readonly #worker: Worker;
  #pending: { resolve: (outcome: CommitOutcome) => void; reject: (error: unknown) => void } | undefined;
  #failure: unknown;
  readonly #exited: Promise<void>;

  constructor(data: WriterData) {
    this.#worker = startWorker('./lmdb-writer', import.meta.url, { workerData: data });
    this.#worker.unref();
    this.#worker.on('message', (answer: WriterAnswer) => {
      const pending = this.#pending;
      this.#pending = undefined;
      this.#worker.unref();
      if ('error' in answer) pending?.reject(Object.assign(new Error(answer.error.message), answer.error));
      else pending?.resolve(answer);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        this.#fail(new Error(`the lmdb writer thread exited with code ${code}`));
        resolve();
      }),
    );
  }

  commit(jobs: readonly WriteJob[]): Promise<CommitOutcome> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#pending !== undefined) throw new Error('one commit at a time on the writer thread');
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#worker.ref();
      const request: WriterRequest = { jobs };
      this.#worker.postMessage(request);
    });
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#pending?.reject(this.#failure);
    this.#pending = undefined;
  }

  /** Stops the thread; the caller has no commit in it. */
  async close(): Promise<void> {
    this.#worker.ref(); // until it has exited
    if (this.#failure === undefined) {
      const request: WriterRequest = { close: true };
      this.#worker.postMessage(request);
    }
    await this.#exited;
  }
}
