/** Options and lifecycle shared by the commands that run a distributor (`start`, `distributor`). */
import { type Command, Option } from 'commander';
import { DISTRIBUTOR_DEFAULTS, type DistributorOptions } from '../distributor/distributor-options.js';
import type { Distributor } from '../distributor/distributor-server.js';
import { exitOnSignals } from './node-command.js';
import { integerOption } from './parse.js';

export interface ClusterCommandOptions {
  readonly vnodes?: number;
  readonly partitions?: number;
  readonly replicas?: number;
  readonly readQuorum?: number;
  readonly writeQuorum?: number;
  readonly moveRate: number;
  readonly adminToken?: string;
  readonly clusterSecret?: string;
}

/** Adds the ring, replication and move-speed options. */
export function addClusterOptions(command: Command): Command {
  return command
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
      new Option('--replicas <n>', 'copies of each key, N (default 3, or fewer nodes)').argParser(
        integerOption(1, 64),
      ),
    )
    .addOption(
      new Option('--read-quorum <r>', 'replicas a read waits for, R (default a majority of N)').argParser(
        integerOption(1, 64),
      ),
    )
    .addOption(
      new Option('--write-quorum <w>', 'replicas a write waits for, W (default a majority of N)').argParser(
        integerOption(1, 64),
      ),
    )
    .addOption(
      new Option('--move-rate <keys/s>', 'speed limit of data moves when servers are added or removed')
        .default(DISTRIBUTOR_DEFAULTS.moveKeysPerSecond)
        .argParser(integerOption(100, 10_000_000)),
    )
    .addOption(
      new Option(
        '--admin-token <token>',
        'required as "Authorization: Bearer <token>" on add_server, remove_server, shutdown, start_server, repair (default: none on loopback, made and printed once beyond it)',
      ).env('RINGKV_ADMIN_TOKEN'),
    )
    .addOption(
      new Option(
        '--cluster-secret <secret>',
        "the secret the cluster's nodes require (default: made on first start, kept in <data-dir>/distributor/credentials.json)",
      ).env('RINGKV_CLUSTER_SECRET'),
    );
}

export function clusterSettings(options: ClusterCommandOptions): DistributorOptions {
  return {
    moveKeysPerSecond: options.moveRate,
    ...(options.replicas !== undefined && { replicas: options.replicas }),
    ...(options.readQuorum !== undefined && { readQuorum: options.readQuorum }),
    ...(options.writeQuorum !== undefined && { writeQuorum: options.writeQuorum }),
    ...(options.vnodes !== undefined && { vnodes: options.vnodes }),
    ...(options.partitions !== undefined && { partitions: options.partitions }),
    ...(options.adminToken !== undefined && { adminToken: options.adminToken }),
    ...(options.clusterSecret !== undefined && { clusterSecret: options.clusterSecret }),
  };
}

/** Listens, stops gracefully on SIGTERM/SIGINT (at once on a second signal), and exits when stopped. */
export async function runDistributor(
  distributor: Distributor,
  onListening: (port: number) => void = () => {},
): Promise<never> {
  exitOnSignals((reason) => distributor.shutdown(reason));
  const address = await distributor.listen().catch(async (error: unknown) => {
    // Nothing will serve: stop what was started (ringkv start's nodes) before the error ends the command.
    // A failure to stop is not what to report: the listen error is.
    await distributor.shutdown('it could not listen').catch(() => {});
    throw error;
  });
  onListening(address.port);
  const { credentials } = distributor;
  if (credentials.adminTokenGenerated) {
    process.stdout.write(
      `\nThe distributor listens beyond loopback, so the admin routes need a token. It was made now and is shown once\n(it is kept in ${credentials.path}):\n  ${credentials.adminToken}\nUse it as: curl -H 'Authorization: Bearer <token>' -X POST .../add_server, or RINGKV_ADMIN_TOKEN for the CLI.\n\n`,
    );
  }
  await distributor.stopped;
  process.exit(0);
}
