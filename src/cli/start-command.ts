/** `ringkv start` (what `npm start` runs): a distributor and its storage nodes, each node its own process. */
import { Command, Option } from 'commander';
import { DISTRIBUTOR_DEFAULTS } from '../distributor/distributor-options.js';
import type { Distributor } from '../distributor/distributor-server.js';
import {
  addClusterOptions,
  type ClusterCommandOptions,
  clusterSettings,
  runDistributor,
} from './cluster-options.js';
import { DEFAULT_URL } from './connection.js';
import { createLogger } from './logger.js';
import { integerOption } from './parse.js';

interface StartOptions extends ClusterCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly nodes: number;
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
    `Dashboard: ${base}/   metrics: ${base}/metrics`,
    '',
    'Try:',
    `  curl -X PUT '${base}/put?key=myKey&value=myValue'`,
    `  curl '${base}/get?key=myKey'`,
    `  npx ringkv cluster status${base === DEFAULT_URL ? '' : ` --url ${base}`}`,
    '',
    'Ctrl-C stops everything gracefully; starting again on the same --data-dir brings the cluster back.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function startCommand(): Command {
  const command = new Command('start')
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
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv start\n  ringkv start --port 6000 --nodes 3 --data-dir /var/lib/ringkv\n',
    );
  return addClusterOptions(command).action(async (options: StartOptions) => {
    const { buildDistributor } = await import('../distributor/distributor-server.js');
    const distributor = await buildDistributor({
      ...clusterSettings(options),
      host: options.host,
      port: options.port,
      dataDir: options.dataDir,
      localNodes: options.nodes,
      engine: options.engine,
      snapshotIntervalSeconds: options.snapshotInterval,
      logger: createLogger('ringkv'),
    });
    await runDistributor(distributor, (port) => printWelcome(distributor, port));
  });
}
