/** `ringkv ring`: shows how a ring of given members splits the key space, and where keys land. */
import { Command, Option } from 'commander';
import { HashRing, type HashRingOptions } from '../ring/hash-ring.js';
import { integerOption } from './parse.js';

interface RingCommandOptions {
  readonly nodes: number;
  readonly node?: string[];
  readonly partitions?: number;
  readonly vnodes?: number;
  readonly key?: string[];
  readonly replicas: number;
  readonly json?: boolean;
}

/** The default members: the ids `ringkv start` gives its nodes on 127.0.0.1:5001 and up. */
function defaultIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.1-${5001 + i}`);
}

function parseMember(text: string): { id: string; weight: number } {
  const [id = '', weight] = text.split('=');
  return { id, weight: weight === undefined ? 1 : Number(weight) };
}

export function ringCommand(): Command {
  return new Command('ring')
    .description("show a ring's members, their share of the keys, and where keys land")
    .addOption(
      new Option('--nodes <count>', 'members named like the default cluster')
        .default(5)
        .argParser(integerOption(1, 1024)),
    )
    .option('--node <members...>', 'explicit members as id or id=weight (overrides --nodes)')
    .addOption(
      new Option('--partitions <count>', 'partitions (power of two, 16-65536)').argParser(
        integerOption(16, 65536),
      ),
    )
    .addOption(
      new Option(
        '--vnodes <count>',
        'use the classic token ring with this many vnodes per unit of weight',
      ).argParser(integerOption(1, 10000)),
    )
    .option('--key <key...>', 'show the preference list of these keys')
    .addOption(
      new Option('--replicas <n>', 'length of the preference lists shown')
        .default(3)
        .argParser(integerOption(1, 1024)),
    )
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  ringkv ring\n  ringkv ring --node a b=2 c --key user:1 user:2\n')
    .action((options: RingCommandOptions) => {
      const members = options.node ? options.node.map(parseMember) : defaultIds(options.nodes);
      const ringOptions: HashRingOptions = {
        ...(options.partitions !== undefined && { partitions: options.partitions }),
        ...(options.vnodes !== undefined && { vnodes: options.vnodes }),
      };
      const ring = new HashRing(members, ringOptions);
      const replicas = Math.min(options.replicas, ring.size);
      const shares = ring.shares();
      const lookups = (options.key ?? []).map((key) => ({
        key,
        position: ring.position(key),
        nodes: ring.preferenceList(key, replicas),
      }));
      if (options.json) {
        console.log(
          JSON.stringify({ ...ring.toJSON(), shares: Object.fromEntries(shares), lookups }, null, 2),
        );
        return;
      }
      const placement =
        ring.settings.kind === 'partitions'
          ? `${ring.settings.partitions} partitions`
          : `${ring.settings.vnodes} vnodes per unit of weight`;
      console.log(`ring: ${ring.size} nodes, ${placement}, hash murmur3_x86_32 (UTF-8 keys)`);
      for (const node of ring.nodes) {
        console.log(
          `  ${node.id.padEnd(24)} weight ${String(node.weight).padEnd(6)} share ${(shares.get(node.id)! * 100).toFixed(2)}%`,
        );
      }
      for (const lookup of lookups)
        console.log(`${JSON.stringify(lookup.key)} @ ${lookup.position} -> ${lookup.nodes.join(', ')}`);
    });
}
