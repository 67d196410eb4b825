/** `ringkv node`: runs one storage node in the foreground until SIGTERM, SIGINT or POST /shutdown. */
import { Command, Option } from 'commander';
import { NODE_DEFAULTS } from '../node/node-options.js';
import { buildNode } from '../node/node-server.js';
import { createLogger } from './logger.js';
import { integerOption } from './parse.js';

interface NodeCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly id?: string;
  readonly dataDir: string;
  readonly engine: 'lmdb' | 'memory';
  readonly snapshotInterval: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly tombstoneTtl: number;
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
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv node --port 5001 --data-dir ./data\n  ringkv node --port 0 --engine memory --snapshot-interval 0\n',
    )
    .action(async (options: NodeCommandOptions) => {
      const logger = createLogger('ringkv-node');
      const node = await buildNode({
        ...(options.id !== undefined && { id: options.id }),
        host: options.host,
        port: options.port,
        dataDir: options.dataDir,
        engine: options.engine,
        snapshotIntervalSeconds: options.snapshotInterval,
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
      await node.stopped;
      process.exit(0);
    });
}
