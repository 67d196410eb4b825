/** Starts real ringkv processes (the built CLI) and waits until they listen. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CLI_PATH } from './cli.js';

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Every log line the process has printed so far (JSON lines, parsed). */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

/**
 * Runs `ringkv <args>` (with `nodeFlags` for Node itself) and resolves once it logs `listeningMessage` with a
 * port. Logs are JSON because stdout is a pipe. Rejects if the process exits first or takes longer than
 * `timeoutMs`.
 */
export async function startCli(
  args: readonly string[],
  listeningMessage: string,
  timeoutMs = 15_000,
  nodeFlags: readonly string[] = [],
): Promise<RunningProcess> {
  const child = spawn(process.execPath, [...nodeFlags, CLI_PATH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === listeningMessage && typeof entry.port === 'number') resolve(entry.port);
      } catch {
        logs.push({ raw: line });
      }
    });
    void exited.then((code) =>
      reject(new Error(`ringkv ${args.join(' ')} exited (${code}) before listening: ${stderr}`)),
    );
    setTimeout(
      () => reject(new Error(`ringkv ${args.join(' ')} did not listen within ${timeoutMs} ms`)),
      timeoutMs,
    ).unref();
  });
  const port = await listening;
  return { child, port, url: `http://127.0.0.1:${port}`, logs, exited };
}

export function startNodeProcess(dataDir: string, extra: readonly string[] = []): Promise<RunningProcess> {
  return startCli(
    ['node', '--port', '0', '--id', 'node-under-test', '--data-dir', dataDir, ...extra],
    'storage node listening',
  );
}

/** A base port with `count` free ports after it (the distributor on base, nodes on base+1 ...). */
export async function freePortRange(count: number): Promise<number> {
  const { portIsFree } = await import('../../src/distributor/local-nodes.js');
  for (;;) {
    // Below Linux's ephemeral range (32768-60999): a port checked free there can be taken by an outgoing
    // connection before the server binds it (a replication test failed so once).
    const base = 10_000 + Math.floor(Math.random() * 22_000);
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

/** `ringkv start` on a free port range; resolves when the distributor listens. */
export async function startCluster(
  dataDir: string,
  extra: readonly string[] = [],
  nodes = 5,
): Promise<RunningProcess> {
  const port = await freePortRange(nodes + 3);
  return startCli(
    ['start', '--port', String(port), '--nodes', String(nodes), '--data-dir', dataDir, ...extra],
    'distributor listening',
    30_000,
  );
}

/** Sends SIGTERM and waits for a clean exit. */
export async function stopProcess(running: RunningProcess): Promise<number | string> {
  running.child.kill('SIGTERM');
  return running.exited;
}

/** The cluster secret a distributor made in `dataDir` (tests use it to ask nodes directly). */
export async function clusterSecretOf(dataDir: string): Promise<string> {
  const text = await readFile(`${dataDir}/distributor/credentials.json`, 'utf8');
  return (JSON.parse(text) as { clusterSecret: string }).clusterSecret;
}
