/** `ringkv node`: runs one storage node in the foreground until SIGTERM, SIGINT or POST /shutdown. */

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CACHE_BYTES_MAX, defaultNodeId, NODE_DEFAULTS } from '../node/node-options.js';
import { generateSecret, isLoopback } from '../security/secrets.js';
import type { WriterPolicy } from '../storage/lmdb-writer.js';
import { createLogger } from './logger.js';
import { integerOption } from './parse.js';

interface NodeCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly id?: string;
  readonly dataDir: string;
  readonly engine: 'lmdb' | 'memory';
  readonly snapshotInterval: number;
  readonly commitInterval: number;
  readonly writerPolicy: WriterPolicy;
  readonly cacheBytes: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly tombstoneTtl: number;
  readonly clusterSecret?: string;
  readonly socket?: string;
}

/**
 * The secret a node starts with: given (option or RINGKV_CLUSTER_SECRET), or, for a node bound beyond loopback
 * that belongs to no cluster yet, a new one (printed once, so it can be given to the distributor).
 */
async function startingSecret(
  options: NodeCommandOptions,
): Promise<{ secret: string | undefined; generated: boolean }> {
  const given = options.clusterSecret ?? process.env.RINGKV_CLUSTER_SECRET;
  if (given !== undefined && given !== '') return { secret: given, generated: false };
  if (isLoopback(options.host)) return { secret: undefined, generated: false };
  const id = options.id ?? defaultNodeId(options.host, options.port);
  const joined = await access(join(options.dataDir, `${id}.cluster.json`)).then(
    () => true,
    () => false,
  );
  return joined ? { secret: undefined, generated: false } : { secret: generateSecret(), generated: true };
}

/** Stops gracefully on the first signal, at once on a second one. */
export function exitOnSignals(stop: (reason: string) => Promise<void>): void {
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(1);
      signalled = true;
      void stop(signal);
    });
  }
}

export function nodeCommand(): Command {
  return new Command('node')
    .description('run a storage node (GET/PUT/DELETE over HTTP, data in LMDB, JSON snapshots)')
    .addOption(
      new Option('--port <port>', 'port to listen on')
        .default(NODE_DEFAULTS.port)
        .argParser(integerOption(0, 65535)),
    )
    .option('--host <host>', 'interface to bind', NODE_DEFAULTS.host)
    .option('--id <id>', 'node id (default: <host>-<port>)')
    .option('--data-dir <dir>', 'where <id>.lmdb and <id>.json live', NODE_DEFAULTS.dataDir)
    .addOption(
      new Option('--engine <engine>', 'storage engine')
        .choices(['lmdb', 'memory'])
        .default(NODE_DEFAULTS.engine),
    )
    .addOption(
      new Option(
        '--commit-interval <ms>',
        'lmdb: least time between two commits; writes arriving sooner share the next (0 = no spacing)',
      )
        .default(NODE_DEFAULTS.commitIntervalMs)
        .argParser(integerOption(0, 1000)),
    )
    .addOption(
      new Option(
        '--writer-policy <policy>',
        'lmdb: Linux scheduling of the commit thread: batch (never preempts the event loop) or normal',
      )
        .choices(['batch', 'normal'])
        .default(NODE_DEFAULTS.writerPolicy),
    )
    .addOption(
      new Option('--cache-bytes <bytes>', 'lmdb: memory for decoded records of hot keys (0 = no cache)')
        .default(NODE_DEFAULTS.cacheBytes)
        .argParser(integerOption(0, CACHE_BYTES_MAX)),
    )
    .addOption(
      new Option('--snapshot-interval <seconds>', 'seconds between JSON snapshots, 0 = off')
        .default(NODE_DEFAULTS.snapshotIntervalSeconds)
        .argParser(integerOption(0, 86_400)),
    )
    .addOption(
      new Option('--max-key-bytes <bytes>', 'largest key')
        .default(NODE_DEFAULTS.keyBytesMax)
        .argParser(integerOption(1, 1900)),
    )
    .addOption(
      new Option('--max-value-bytes <bytes>', 'largest value')
        .default(NODE_DEFAULTS.valueBytesMax)
        .argParser(integerOption(1, 64 * 1024 * 1024)),
    )
    .addOption(
      new Option('--tombstone-ttl <seconds>', 'how long deletes are remembered before purging')
        .default(NODE_DEFAULTS.tombstoneTtlMs / 1000)
        .argParser(integerOption(1, 3650 * 86_400)),
    )
    .option('--socket <path>', 'also serve on this Unix socket, for a distributor on the same machine')
    .option(
      '--cluster-secret <secret>',
      "the cluster's secret (or RINGKV_CLUSTER_SECRET): only its distributors may use this node",
    )
    .addHelpText(
      'after',
      `
Examples:
  ringkv node --port 5001 --data-dir ./data
  ringkv node --port 0 --engine memory --snapshot-interval 0
  RINGKV_CLUSTER_SECRET=... ringkv node --host 10.0.0.7 --port 5001   # a node for a distributor elsewhere

A node nobody has joined answers anyone (as in the original design). Once a distributor joins it, or when
it starts with a secret, it belongs to that cluster: every route but /internal/health and /metrics needs the
secret, and it refuses other clusters. Bound beyond loopback without a secret, it makes one and prints it.
`,
    )
    .action(async (options: NodeCommandOptions) => {
      const logger = createLogger('ringkv-node');
      const { secret, generated } = await startingSecret(options);
      const { buildNode } = await import('../node/node-server.js');
      const node = await buildNode({
        ...(secret !== undefined && { clusterSecret: secret }),
        ...(options.id !== undefined && { id: options.id }),
        ...(options.socket !== undefined && { socketPath: options.socket }),
        host: options.host,
        port: options.port,
        dataDir: options.dataDir,
        engine: options.engine,
        snapshotIntervalSeconds: options.snapshotInterval,
        commitIntervalMs: options.commitInterval,
        writerPolicy: options.writerPolicy,
        cacheBytes: options.cacheBytes,
        keyBytesMax: options.maxKeyBytes,
        valueBytesMax: options.maxValueBytes,
        tombstoneTtlMs: options.tombstoneTtl * 1000,
        logger,
      });
      exitOnSignals((reason) => node.shutdown(reason));
      // Started by a distributor (ringkv start): stop gracefully when it goes away, however it went.
      if (process.send !== undefined)
        process.once('disconnect', () => void node.shutdown('the distributor exited'));
      await node.listen();
      if (generated) {
        process.stdout.write(
          `\nThis node listens beyond loopback, so it belongs to a new cluster secret (shown once; kept in ${options.dataDir}):\n  ${secret}\nGive it to the distributor: ringkv distributor --cluster-secret <secret> --node http://${options.host}:${options.port}\n\n`,
        );
      }
      await node.stopped;
      process.exit(0);
    });
}
