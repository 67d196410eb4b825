/** `ringkv start` (what `npm start` runs): a distributor and its storage nodes, each node its own process. */
import { Command, Option } from 'commander';
import { DISTRIBUTOR_DEFAULTS } from '../distributor/distributor-options.js';
import { buildDistributor, type Distributor } from '../distributor/distributor-server.js';
import { createLogger } from './logger.js';
import { exitOnSignals } from './node-command.js';
import { integerOption } from './parse.js';

interface StartOptions {
  readonly port: number;
  readonly host: string;
  readonly nodes: number;
  readonly vnodes?: number;
  readonly partitions?: number;
  readonly replicas: number;
  readonly moveRate: number;
  readonly dataDir: string;
  readonly engine: 'lmdb' | 'memory';
  readonly snapshotInterval: number;
}

/** Prints where everything listens and one request to try. */
function printWelcome(distributor: Distributor, port: number): void {
  const view = distributor.cluster.view();
  const host = distributor.options.host.includes(':')
    ? `[${distributor.options.host}]`
    : distributor.options.host;
  const base = `http://${host}:${port}`;
  const lines = [
    '',
    `ringkv is running: distributor ${base}, ${view.members.length} storage nodes, data in ${distributor.options.dataDir}`,
    ...view.members.map((member) => `  node ${member.id.padEnd(20)} ${member.url}  ${member.status}`),
    '',
    'Try:',
    `  curl -X PUT '${base}/put?key=myKey&value=myValue'`,
    `  curl '${base}/get?key=myKey'`,
    `  curl ${base}/cluster`,
    '',
    'Ctrl-C stops everything gracefully; starting again on the same --data-dir brings the cluster back.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function startCommand(): Command {
  return new Command('start')
    .description('start a distributor and its storage nodes (5 by default, each its own process)')
    .addOption(
      new Option('--port <port>', 'distributor port; nodes take the ports after it')
        .default(DISTRIBUTOR_DEFAULTS.port)
        .argParser(integerOption(1, 65535)),
    )
    .option('--host <host>', 'interface for the distributor and its nodes', DISTRIBUTOR_DEFAULTS.host)
    .addOption(
      new Option('--nodes <count>', 'storage nodes of a new cluster')
        .default(5)
        .argParser(integerOption(1, 1024)),
    )
    .addOption(
      new Option(
        '--vnodes <count>',
        'use the classic token ring with this many virtual nodes per node',
      ).argParser(integerOption(1, 10_000)),
    )
    .addOption(
      new Option('--partitions <count>', 'ring partitions (power of two, 16-65536; default 65536)').argParser(
        integerOption(16, 65_536),
      ),
    )
    .addOption(
      new Option('--replicas <n>', 'copies of each key (1 until replication lands)')
        .default(1)
        .argParser(integerOption(1, 1)),
    )
    .option(
      '--data-dir <dir>',
      'where the membership file and the nodes keep their data',
      DISTRIBUTOR_DEFAULTS.dataDir,
    )
    .addOption(
      new Option('--engine <engine>', 'storage engine of the nodes')
        .choices(['lmdb', 'memory'])
        .default('lmdb'),
    )
    .addOption(
      new Option('--snapshot-interval <seconds>', "seconds between the nodes' JSON snapshots, 0 = off")
        .default(10)
        .argParser(integerOption(0, 86_400)),
    )
    .addOption(
      new Option('--move-rate <keys/s>', 'speed limit of data moves when servers are added or removed')
        .default(DISTRIBUTOR_DEFAULTS.moveKeysPerSecond)
        .argParser(integerOption(100, 10_000_000)),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv start\n  ringkv start --port 6000 --nodes 3 --data-dir /var/lib/ringkv\n',
    )
    .action(async (options: StartOptions) => {
      const logger = createLogger('ringkv');
      const distributor = await buildDistributor({
        host: options.host,
        port: options.port,
        dataDir: options.dataDir,
        localNodes: options.nodes,
        engine: options.engine,
        snapshotIntervalSeconds: options.snapshotInterval,
        replicas: options.replicas,
        moveKeysPerSecond: options.moveRate,
        ...(options.vnodes !== undefined && { vnodes: options.vnodes }),
        ...(options.partitions !== undefined && { partitions: options.partitions }),
        logger,
      });
      exitOnSignals((reason) => distributor.shutdown(reason));
      const address = await distributor.listen();
      printWelcome(distributor, address.port);
      await distributor.stopped;
      process.exit(0);
    });
}
