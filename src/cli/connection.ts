/** What the commands that talk to a distributor share: --url, --admin-token, --timeout, --json, and the client. */
import { type Command, Option } from 'commander';
import type { RingKvClient } from '../client/ring-kv-client.js';
import { integerOption } from './parse.js';

export const DEFAULT_URL = 'http://127.0.0.1:5000';

export interface ConnectionOptions {
  readonly url?: string;
  readonly adminToken?: string;
  readonly timeout?: number;
  readonly json?: boolean;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', `the distributor (default ${DEFAULT_URL})`).env('RINGKV_URL'))
    .addOption(
      new Option('--admin-token <token>', 'for admin commands, when the cluster has one').env(
        'RINGKV_ADMIN_TOKEN',
      ),
    )
    .addOption(
      new Option('--timeout <ms>', 'time budget of the call, retries included (0 = none)').argParser(
        integerOption(0, 86_400_000),
      ),
    )
    .option('--json', 'print JSON, for scripts');
}

/**
 * Runs `work` with a client, and closes it whatever happens. The client (and undici under it) is loaded here,
 * not when the CLI starts: `ringkv node` never uses it, and without it a node's CPU until it listens fell from
 * 590 to 430 ms (with push.ts loading undici lazily too), which an add_server pays while clients wait.
 */
export async function withClient<T>(
  options: ConnectionOptions,
  work: (client: RingKvClient) => Promise<T>,
  admin = false,
): Promise<T> {
  const { RingKvClient } = await import('../client/ring-kv-client.js');
  const client = new RingKvClient({
    url: options.url ?? DEFAULT_URL,
    ...(options.adminToken !== undefined && options.adminToken !== '' && { adminToken: options.adminToken }),
    ...(options.timeout !== undefined &&
      (admin ? { adminTimeoutMs: options.timeout } : { timeoutMs: options.timeout })),
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
