/** `ringkv cluster status|add|remove|shutdown|start`: look at the cluster and change its membership. */
import { Command, Option } from 'commander';
import type { ServerInfo, ServerSelector } from '../client/ring-kv-client.js';
import type { ClusterView } from '../distributor/cluster.js';
import { addConnectionOptions, type ConnectionOptions, printJson, withClient } from './connection.js';
import { integerOption } from './parse.js';

/** Columns padded to their widest cell. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number>,
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        right.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function formatStatus(view: ClusterView): string {
  const up = view.members.filter((member) => member.status === 'up').length;
  const lines = [
    `ring version ${view.ringVersion} · N=${view.replicas} R=${view.readQuorum} W=${view.writeQuorum} · ${view.members.length} members, ${up} up · hints pending ${view.hints.pending} · distributor ${view.distributor}`,
    '',
    table(
      ['NODE', 'URL', 'STATUS', 'KEYS', 'SHARE', 'HINTS'],
      view.members.map((member) => [
        member.id,
        member.url,
        member.status,
        member.keys === null ? '-' : member.keys.toLocaleString('en-US'),
        `${(member.share * 100).toFixed(1)}%`,
        String(member.hintsPending),
      ]),
      new Set([3, 4, 5]),
    ),
  ];
  const move = view.move;
  if (move !== null) {
    const percent = move.keysTotal > 0 ? Math.round((move.keysMoved / move.keysTotal) * 100) : 0;
    lines.push(
      '',
      `move: ${move.kind === 'add' ? 'adding' : 'removing'} ${move.node}, ${move.phase}: ${move.keysMoved.toLocaleString('en-US')} of ${move.keysTotal.toLocaleString('en-US')} keys (${percent}%), ${Math.round(move.keysPerSecond).toLocaleString('en-US')} keys/s (up to ${move.keysPerSecondAllowed.toLocaleString('en-US')})${move.etaSeconds === null ? '' : `, about ${Math.ceil(move.etaSeconds)} s left`}`,
    );
  }
  return lines.join('\n');
}

function describe(info: ServerInfo): string {
  const moved =
    info.moved === undefined
      ? ''
      : ` (moved ${info.moved.keysMoved.toLocaleString('en-US')} keys in ${info.moved.seconds.toFixed(1)} s)`;
  return `${info.message}: ${info.id} at ${info.url}, ring version ${info.ringVersion}${moved}`;
}

/** A node given as a port (digits) or an id. */
function selector(value: string): ServerSelector {
  return /^\d{1,5}$/.test(value) ? Number(value) : value;
}

type Change = 'removeServer' | 'shutdownServer' | 'startServer';

function changeCommand(name: string, description: string, change: Change, example: string): Command {
  const command = new Command(name)
    .argument('<node>', 'the node: its port (local nodes) or its id')
    .description(description)
    .addHelpText('after', `\nExamples:\n  ${example}\n`);
  return addConnectionOptions(command).action(async (node: string, options: ConnectionOptions) => {
    const info = await withClient(options, (client) => client[change](selector(node)), true);
    if (options.json) printJson(info);
    else process.stdout.write(`${describe(info)}\n`);
  });
}

interface AddOptions extends ConnectionOptions {
  readonly nodeUrl?: string;
  readonly weight?: number;
}

export function clusterCommand(): Command {
  const status = addConnectionOptions(
    new Command('status')
      .description('members, their status, keys and share; N/R/W; any data move')
      .addHelpText(
        'after',
        '\nExamples:\n  ringkv cluster status\n  ringkv cluster status --json | jq .members\n',
      ),
  ).action(async (options: ConnectionOptions) => {
    const view = await withClient(options, (client) => client.cluster());
    if (options.json) printJson(view);
    else process.stdout.write(`${formatStatus(view)}\n`);
  });
  const add = addConnectionOptions(
    new Command('add')
      .description(
        'add a server: a new local node, or (--node-url) an empty node running elsewhere; waits for its keys to move',
      )
      .addOption(new Option('--node-url <url>', 'base url of a node that runs elsewhere'))
      .addOption(
        new Option('--weight <n>', 'its share of the ring relative to the others').argParser(
          integerOption(1, 1_000_000),
        ),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  ringkv cluster add\n  ringkv cluster add --node-url http://10.0.0.7:5001 --weight 2\n',
      ),
  ).action(async (options: AddOptions) => {
    const info = await withClient(
      options,
      (client) =>
        client.addServer({
          ...(options.nodeUrl !== undefined && { url: options.nodeUrl }),
          ...(options.weight !== undefined && { weight: options.weight }),
        }),
      true,
    );
    if (options.json) printJson(info);
    else process.stdout.write(`${describe(info)}\n`);
  });
  return new Command('cluster')
    .description(
      'look at the cluster and change its membership (admin commands take --admin-token or $RINGKV_ADMIN_TOKEN)',
    )
    .addCommand(status)
    .addCommand(add)
    .addCommand(
      changeCommand(
        'remove',
        "move a node's keys to the others, then shut it down",
        'removeServer',
        'ringkv cluster remove 5003',
      ),
    )
    .addCommand(
      changeCommand(
        'shutdown',
        'stop a node gracefully; it stays a member, marked down',
        'shutdownServer',
        'ringkv cluster shutdown 127.0.0.1-5002',
      ),
    )
    .addCommand(
      changeCommand('start', 'start a stopped local node again', 'startServer', 'ringkv cluster start 5002'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv cluster status\n  ringkv cluster add\n  ringkv cluster remove 5003\n',
    );
}
