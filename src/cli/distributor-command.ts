/** `ringkv distributor`: a distributor in front of storage nodes that run elsewhere. */
import { Command, Option } from 'commander';
import { DISTRIBUTOR_DEFAULTS } from '../distributor/distributor-options.js';
import { buildDistributor } from '../distributor/distributor-server.js';
import { createLogger } from './logger.js';
import { exitOnSignals } from './node-command.js';
import { integerOption } from './parse.js';

interface DistributorCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly id?: string;
  readonly node?: string[];
  readonly vnodes?: number;
  readonly partitions?: number;
  readonly replicas: number;
  readonly moveRate: number;
  readonly dataDir: string;
}

export function distributorCommand(): Command {
  return new Command('distributor')
    .description('run a distributor in front of storage nodes that run elsewhere')
    .addOption(
      new Option('--port <port>', 'port to listen on')
        .default(DISTRIBUTOR_DEFAULTS.port)
        .argParser(integerOption(0, 65535)),
    )
    .option('--host <host>', 'interface to bind', DISTRIBUTOR_DEFAULTS.host)
    .option('--id <id>', 'distributor id, written into the versions it assigns (default distributor-<port>)')
    .option('--node <url...>', 'base URL of a storage node (first start; later the membership file decides)')
    .addOption(
      new Option('--vnodes <count>', 'use the classic token ring').argParser(integerOption(1, 10_000)),
    )
    .addOption(
      new Option('--partitions <count>', 'ring partitions (power of two, 16-65536)').argParser(
        integerOption(16, 65_536),
      ),
    )
    .addOption(
      new Option('--replicas <n>', 'copies of each key (1 until replication lands)')
        .default(1)
        .argParser(integerOption(1, 1)),
    )
    .option('--data-dir <dir>', 'where the membership file lives', DISTRIBUTOR_DEFAULTS.dataDir)
    .addOption(
      new Option('--move-rate <keys/s>', 'speed limit of data moves when servers are added or removed')
        .default(DISTRIBUTOR_DEFAULTS.moveKeysPerSecond)
        .argParser(integerOption(100, 10_000_000)),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv distributor --port 5000 --node http://10.0.0.1:5001 --node http://10.0.0.2:5001\n  ringkv distributor --data-dir ./dist-data   # restart: members come from the membership file\n',
    )
    .action(async (options: DistributorCommandOptions) => {
      const logger = createLogger('ringkv-distributor');
      const distributor = await buildDistributor({
        host: options.host,
        port: options.port,
        dataDir: options.dataDir,
        nodes: options.node ?? [],
        replicas: options.replicas,
        moveKeysPerSecond: options.moveRate,
        ...(options.id !== undefined && { id: options.id }),
        ...(options.vnodes !== undefined && { vnodes: options.vnodes }),
        ...(options.partitions !== undefined && { partitions: options.partitions }),
        logger,
      });
      exitOnSignals((reason) => distributor.shutdown(reason));
      await distributor.listen();
      await distributor.stopped;
      process.exit(0);
    });
}
