/**
 * The lmdb engine's writer thread (a worker_threads Worker started by LmdbWriterThread). It owns every
 * write to the environment: each message is one batch of jobs, run in one transaction that is committed
 * and flushed to disk before the answer goes back, so the node's event loop never waits on a commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLmdbStore } from './lmdb-store.js';
import { runWriteJob, type WriteJob, type WriteResult } from './lmdb-writes.js';

export type WriterRequest =
  | { readonly id: number; readonly jobs: readonly WriteJob[] }
  | { readonly close: true };

export type WriterAnswer =
  | { readonly id: number; readonly results: readonly WriteResult[] }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

const port = parentPort;
if (port === null) throw new Error('lmdb-writer runs as a worker thread');
const store = openLmdbStore((workerData as { path: string }).path, false);

port.on('message', (request: WriterRequest) => {
  if ('close' in request) {
    port.close();
    void store.root.close();
    return;
  }
  let answer: WriterAnswer;
  try {
    // Commits and flushes before it returns: what the answer reports is durable.
    const results = store.root.transactionSync(() => request.jobs.map((job) => runWriteJob(store, job)));
    answer = { id: request.id, results };
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException;
    answer = {
      id: request.id,
      error: { message: String(message ?? error), ...(code !== undefined && { code }) },
    };
  }
  port.postMessage(answer);
});
