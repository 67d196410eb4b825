import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { RingKvError } from '../errors.js';
import { SOCKET_PATH_BYTES_MAX } from '../http/server.js';
import { scriptArgs } from '../process/script.js';
import type { EngineKind } from '../storage/engine.js';

/** The CLI that runs nodes. */
const NODE_ARGS = scriptArgs('../cli/main', import.meta.url);

export interface LocalNodeSpec {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly engine: EngineKind;
  readonly snapshotIntervalSeconds: number;
  readonly clusterSecret: string;
  /** A Unix socket the node serves on as well, for this distributor (see localSocketPath). */
  readonly socketPath: string | undefined;
}

/**
 * Where a local node serves on a Unix socket as well: `<data-dir>/<id>.sock`, made absolute, or undefined
 * when that path is too long for a socket (then the distributor uses TCP alone).
 */
export function localSocketPath(dataDir: string, id: string): string | undefined {
  const path = resolve(dataDir, `${id}.sock`);
  return Buffer.byteLength(path) <= SOCKET_PATH_BYTES_MAX ? path : undefined;
}

export interface LocalNodesOptions {
  readonly logger: Logger;
  /** Called when a node process ends without being asked to. */
  readonly onUnexpectedExit?: (id: string, code: number | string) => void;
  /** Time a node gets to answer its first health check. Default 20 s. */
  readonly startTimeoutMs?: number;
  /** Time a node gets to stop after SIGTERM before SIGKILL. Default 20 s. */
  readonly stopTimeoutMs?: number;
}

interface Supervised {
  readonly spec: LocalNodeSpec;
  child: ChildProcess | undefined;
  wanted: boolean;
  restarts: number;
  startedAt: number;
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 10_000;
const STABLE_AFTER_MS = 30_000;

/** Is `port` free to bind on `host`? */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .once('listening', () => probe.close(() => resolve(true)))
      .listen(port, host);
  });
}

/**
 * Runs storage nodes as child processes of the distributor (ringkv start): each its own OS process, logs to
 * this terminal. A node that exits without being asked to is reported and restarted with exponential back-off
 * (200 ms doubling to 10 s, reset once it has stayed up 30 s).
 */
export class LocalNodes {
  readonly #logger: Logger;
  readonly #options: LocalNodesOptions;
  readonly #nodes = new Map<string, Supervised>();

  constructor(options: LocalNodesOptions) {
    this.#logger = options.logger;
    this.#options = options;
  }

  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  /** The process id of a running node (tests use it to kill one). */
  pid(id: string): number | undefined {
    return this.#nodes.get(id)?.child?.pid;
  }

  isRunning(id: string): boolean {
    const child = this.#nodes.get(id)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the node (or restarts a stopped one) and resolves once it answers health checks. */
  async start(spec: LocalNodeSpec): Promise<void> {
    const existing = this.#nodes.get(spec.id);
    if (existing?.wanted && this.isRunning(spec.id)) return;
    const entry: Supervised = existing ?? { spec, child: undefined, wanted: true, restarts: 0, startedAt: 0 };
    entry.wanted = true;
    this.#nodes.set(spec.id, entry);
    this.#spawn(entry);
    await this.#waitUntilServing(entry);
  }

  #spawn(entry: Supervised): void {
    const { id, host, port, dataDir, engine, snapshotIntervalSeconds, clusterSecret, socketPath } =
      entry.spec;
    const args = [
      ...NODE_ARGS,
      'node',
      '--id',
      id,
      '--host',
      host,
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--engine',
      engine,
      '--snapshot-interval',
      String(snapshotIntervalSeconds),
      ...(socketPath === undefined ? [] : ['--socket', socketPath]),
    ];
    // Own process group: a terminal's Ctrl-C reaches only the distributor, which stops nodes in order.
    // The IPC channel closes if the distributor dies, even by SIGKILL, and the node then stops by itself.
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
      // The secret travels in the environment: a command line is visible to every user of the machine.
      env: { ...process.env, RINGKV_CLUSTER_SECRET: clusterSecret },
    });
    entry.child = child;
    entry.startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (entry.child !== child) return;
      entry.child = undefined;
      if (!entry.wanted) return;
      const status = code ?? signal ?? 'unknown';
      if (Date.now() - entry.startedAt > STABLE_AFTER_MS) entry.restarts = 0;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** entry.restarts++);
      this.#logger.error(
        { node: id, exit: status, restartInMs: delay },
        'storage node process died; restarting',
      );
      this.#options.onUnexpectedExit?.(id, status);
      setTimeout(() => {
        if (entry.wanted && entry.child === undefined) this.#spawn(entry);
      }, delay).unref();
    });
  }

  async #waitUntilServing(entry: Supervised): Promise<void> {
    const { host, port, id } = entry.spec;
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 20_000);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/internal/health`;
    while (Date.now() < deadline) {
      if (entry.child === undefined)
        throw new RingKvError('RINGKV_ERR_NODE_UNAVAILABLE', `node ${id} exited while starting`, {
          node: id,
        });
      try {
        const answer = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (answer.ok) return;
      } catch {}
      await sleep(50);
    }
    throw new RingKvError('RINGKV_ERR_NODE_UNAVAILABLE', `node ${id} did not start serving on port ${port}`, {
      node: id,
    });
  }

  /** Stops a node gracefully (SIGTERM, then SIGKILL after the timeout); it is not restarted. */
  async stop(id: string): Promise<void> {
    const entry = this.#nodes.get(id);
    if (entry === undefined) return;
    entry.wanted = false;
    const child = entry.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    // Unreferenced: once the node has exited, this wait must not keep the process alive.
    const timeout = sleep(this.#options.stopTimeoutMs ?? 20_000, undefined, { ref: false }).then(
      () => 'timeout' as const,
    );
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      this.#logger.warn({ node: id }, 'storage node did not stop in time; killing it');
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Stops a node and deletes its files: for a node whose data has moved elsewhere. */
  async retire(id: string): Promise<void> {
    const entry = this.#nodes.get(id);
    await this.stop(id);
    this.#nodes.delete(id);
    if (entry !== undefined) await removeNodeFiles(entry.spec.dataDir, id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#nodes.keys()].map((id) => this.stop(id)));
  }
}

/** Deletes a node's LMDB file, its lock, its snapshot and its socket (if one was left). */
export async function removeNodeFiles(dataDir: string, id: string): Promise<void> {
  for (const suffix of ['.lmdb', '.lmdb-lock', '.json', '.sock'])
    await rm(join(dataDir, `${id}${suffix}`), { force: true });
}
