import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** The lowest CPU priority (the highest nice value). */
const NICE_MAX = 19;
/** Linux lets an unprivileged process set an autogroup's nice value once per 100 ms, machine-wide. */
const AUTOGROUP_TRIES = 5;
const AUTOGROUP_RETRY_MS = 150;

/**
 * Starts `node args` as background work at the lowest CPU priority, its stdout and stderr piped to the caller
 * and an IPC channel open, so the child can tell when the caller dies (its `disconnect` event) and stop.
 *
 * A nice value alone does not make a process background work on Linux: with autogroups on (the default of
 * most distributions), the scheduler first shares the CPUs equally between sessions, and nice values only
 * rank processes within one. A child niced inside a storage node's session therefore still took the node's
 * whole share from every other session, the distributor's included (measured: five nodes' snapshot writers
 * held 30-55% of both cores and the distributor's clients waited seconds). So on Linux the child gets a
 * session of its own (`detached`), and that session's autogroup is niced too, through /proc: it then runs
 * when the machine's other sessions leave a CPU idle. Where either step is refused the child runs anyway.
 */
export function spawnInBackground(args: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  const ownSession = process.platform === 'linux';
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: ownSession,
  }) as ChildProcessByStdio<null, Readable, Readable>; // node's typings have no overload for a 4-entry stdio
  const { pid } = child;
  if (pid !== undefined) {
    try {
      setPriority(pid, NICE_MAX);
    } catch {} // refused in some sandboxes; the work is still right
    if (ownSession) void niceAutogroup(pid);
  }
  return child;
}

async function niceAutogroup(pid: number): Promise<void> {
  for (let attempt = 0; attempt < AUTOGROUP_TRIES; attempt++) {
    try {
      await writeFile(`/proc/${pid}/autogroup`, String(NICE_MAX));
      return;
    } catch (error) {
      // EAGAIN: another process set an autogroup's nice within the last 100 ms. Anything else (no autogroup
      // support, the child gone already) is final.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      await sleep(AUTOGROUP_RETRY_MS);
    }
  }
}
