/** `ringkv repair`: runs anti-entropy on a cluster and prints what it did. */
import { Command } from 'commander';
import { request } from 'undici';
import { RingKvError } from '../errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:5000';

interface RepairOptions {
  readonly url?: string;
  readonly json?: boolean;
}

export function repairCommand(): Command {
  return new Command('repair')
    .description(
      'compare every replica of every range (digests) and copy the newest versions where they differ',
    )
    .option('--url <url>', 'the distributor (default $RINGKV_URL or http://127.0.0.1:5000)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  ringkv repair\n  ringkv repair --url http://10.0.0.5:5000 --json\n')
    .action(async (options: RepairOptions) => {
      const base = options.url ?? process.env.RINGKV_URL ?? DEFAULT_URL;
      const answer = await request(`${base}/repair`, { method: 'POST', headersTimeout: 0, bodyTimeout: 0 });
      const body = (await answer.body.json()) as Record<string, unknown>;
      if (answer.statusCode !== 200) {
        throw new RingKvError(
          (body.code as never) ?? 'RINGKV_ERR_INTERNAL',
          String(body.error ?? `the distributor answered ${answer.statusCode}`),
        );
      }
      if (options.json) {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      const skipped = body.nodesSkipped as string[];
      console.log(
        `repair done: ${body.rangesTotal} ranges compared, ${body.rangesDiffering} differed, ${body.keysRepaired} records copied` +
          (skipped.length > 0 ? `; skipped (down): ${skipped.join(', ')}` : ''),
      );
    });
}
