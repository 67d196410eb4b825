/**
 * The lmdb engine's writer thread (a worker_threads Worker started by LmdbWriterThread), for the commits
 * the event loop should not wait on: large ones, and all of them while commits are slow. Each message is one
 * batch of jobs, committed and flushed in one transaction before the answer goes back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLmdbStore } from './lmdb-store.js';
import { type CommitOutcome, commitJobs, type WriteJob } from './lmdb-writes.js';

export type WriterRequest = { readonly jobs: readonly WriteJob[] } | { readonly close: true };

export type WriterAnswer =
  | CommitOutcome
  | { readonly error: { readonly message: string; readonly code?: string } };

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
    answer = commitJobs(store, request.jobs);
  } catch (error) {
    const { message, code } = error as NodeJS.ErrnoException;
    answer = { error: { message: String(message ?? error), ...(code !== undefined && { code }) } };
  }
  port.postMessage(answer);
});
