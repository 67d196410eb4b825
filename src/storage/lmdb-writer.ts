/**
 * The lmdb engine's writer thread (a worker_threads Worker started by LmdbWriterThread), for the commits
 * the event loop should not wait on: large ones, and all of them while commits are slow. Each message is one
 * batch of jobs, committed and flushed in one transaction before the answer goes back.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openLmdbStore } from './lmdb-store.js';
import { type CommitOutcome, commitJobs, type WriteJob } from './lmdb-writes.js';

export interface WriterData {
  readonly path: string;
  /** See CommitterOptions.writerPolicy. */
  readonly policy: WriterPolicy;
}

/**
 * How Linux schedules the writer thread: `batch` (SCHED_BATCH) keeps its share of the CPU but does not
 * preempt a running thread when it wakes, `normal` is the default policy (SCHED_OTHER).
 */
export type WriterPolicy = 'batch' | 'normal';

export type WriterRequest = { readonly jobs: readonly WriteJob[] } | { readonly close: true };

export type WriterAnswer =
  | CommitOutcome
  | { readonly error: { readonly message: string; readonly code?: string } };

const port = parentPort;
if (port === null) throw new Error('lmdb-writer runs as a worker thread');
const { path, policy } = workerData as WriterData;
if (policy === 'batch') scheduleAsBatch();
const store = openLmdbStore(path, false);

/**
 * Puts this thread (only: Linux schedules threads, not processes) under SCHED_BATCH. Node has no call for a
 * scheduling policy, so util-linux's chrt does it, once, when the thread starts; any user may choose this
 * policy for its own threads. Where chrt or /proc is missing the thread stays under the default policy.
 */
function scheduleAsBatch(): void {
  if (process.platform !== 'linux') return;
  try {
    const threadId = readlinkSync('/proc/thread-self').split('/').pop()!;
    execFileSync('chrt', ['--batch', '--pid', '0', threadId], { stdio: 'ignore', timeout: 5000 });
  } catch {}
}

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
