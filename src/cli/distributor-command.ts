/** `ringkv distributor`: a distributor in front of storage nodes that run elsewhere. */
import { Command, Option } from 'commander';
import { DISTRIBUTOR_DEFAULTS } from '../distributor/distributor-options.js';
import {
  addClusterOptions,
  type ClusterCommandOptions,
  clusterSettings,
  runDistributor,
} from './cluster-options.js';
import { createLogger } from './logger.js';
import { integerOption } from './parse.js';

interface DistributorCommandOptions extends ClusterCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly id?: string;
  readonly node?: string[];
  readonly dataDir: string;
}

export function distributorCommand(): Command {
  const command = new Command('distributor')
    .description('run a distributor in front of storage nodes that run elsewhere')
    .addOption(
      new Option('--port <port>', 'port to listen on')
        .default(DISTRIBUTOR_DEFAULTS.port)
        .argParser(integerOption(0, 65535)),
    )
    .option('--host <host>', 'interface to bind', DISTRIBUTOR_DEFAULTS.host)
    .option('--id <id>', 'distributor id, written into the versions it assigns (default distributor-<port>)')
    .option('--node <url...>', 'base URL of a storage node (first start; later the membership file decides)')
    .option('--data-dir <dir>', 'where the membership file lives', DISTRIBUTOR_DEFAULTS.dataDir)
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv distributor --port 5000 --node http://10.0.0.1:5001 --node http://10.0.0.2:5001\n  ringkv distributor --data-dir ./dist-data   # restart: members come from the membership file\n',
    );
  return addClusterOptions(command).action(async (options: DistributorCommandOptions) => {
    const { buildDistributor } = await import('../distributor/distributor-server.js');
    const distributor = await buildDistributor({
      ...clusterSettings(options),
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      nodes: options.node ?? [],
      ...(options.id !== undefined && { id: options.id }),
      logger: createLogger('ringkv-distributor'),
    });
    await runDistributor(distributor);
  });
}
