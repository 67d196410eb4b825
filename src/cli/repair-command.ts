/** `ringkv repair`: runs anti-entropy on a cluster and prints what it did. */
import { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions, printJson, withClient } from './connection.js';

export function repairCommand(): Command {
  const command = new Command('repair')
    .description(
      'compare every replica of every range (digests) and copy the newest versions where they differ',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  ringkv repair\n  ringkv repair --url http://10.0.0.5:5000 --json\n',
    );
  return addConnectionOptions(command).action(async (options: ConnectionOptions) => {
    const result = await withClient(options, (client) => client.repair(), true);
    if (options.json) {
      printJson(result);
      return;
    }
    const skipped = result.nodesSkipped;
    process.stdout.write(
      `repair done: ${result.rangesTotal} ranges compared, ${result.rangesDiffering} differed, ${result.keysRepaired} records copied${skipped.length > 0 ? `; skipped (down): ${skipped.join(', ')}` : ''}\n`,
    );
  });
}
