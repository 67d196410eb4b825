/** Starts the processes a benchmark measures, optionally pinned to a CPU (when taskset exists). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const TSX_LOADER = ['--import', 'tsx'];
const LOG_FILE = process.env.BENCH_LOG || undefined;

export interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Keeps the load generator (this process) off the servers' core, so they do not compete. */
export function pinSelf(cpu: number): string {
  if (!hasTaskset) return 'not pinned (no taskset)';
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  return `servers on CPU 0, load generator on CPU ${cpu}`;
}

/**
 * Runs `node <args>` and resolves when it prints a JSON line with `msg` equal to `ready` and a `port`.
 * With `cpu`, the process (and its children) are pinned to that CPU. With BENCH_LOG set, every line the
 * process prints (its log) is appended to that file, to see afterwards when each step of a run happened.
 */
export async function startServer(args: readonly string[], ready: string, cpu?: number): Promise<Server> {
  const pinned = hasTaskset && cpu !== undefined;
  const command = pinned ? 'taskset' : process.execPath;
  const fullArgs = pinned ? ['-c', String(cpu), process.execPath, ...args] : [...args];
  const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (LOG_FILE !== undefined) appendFileSync(LOG_FILE, `${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === ready && typeof entry.port === 'number') resolve(entry.port);
      } catch {}
    });
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child, 'SIGTERM') };
}

/** Signals a child and waits for it to exit; a child that has already exited is done. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
