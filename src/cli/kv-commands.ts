/** `ringkv get`, `ringkv put`, `ringkv del`: one key at a time, binary-safe. */
import { Command, Option } from 'commander';
import { toJsonValue } from '../storage/json-value.js';
import { addConnectionOptions, type ConnectionOptions, printJson, withClient } from './connection.js';
import { EXIT } from './exit.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function notFound(key: string, json: boolean | undefined): void {
  if (json) printJson({ key, found: false });
  else process.stderr.write(`ringkv: key not found: ${key}\n`);
  process.exitCode = EXIT.notFound;
}

export function getCommand(): Command {
  const command = new Command('get')
    .argument('<key>', 'the key')
    .description('print the value of KEY (raw bytes; exit 1 if it has none)')
    .addHelpText(
      'after',
      `
Examples:
  ringkv get user:42
  ringkv get photo > photo.jpg
  ringkv get user:42 --json          # {"key","value","contentType","version"}
  RINGKV_URL=http://10.0.0.5:5000 ringkv get user:42
`,
    );
  return addConnectionOptions(command).action(async (key: string, options: ConnectionOptions) => {
    const entry = await withClient(options, (client) => client.getEntry(key));
    if (entry === undefined) return notFound(key, options.json);
    if (options.json) {
      printJson({
        key,
        value: toJsonValue(entry.value, entry.contentType),
        contentType: entry.contentType ?? null,
        version: entry.version,
      });
      return;
    }
    process.stdout.write(entry.value);
    if (process.stdout.isTTY) process.stdout.write('\n');
  });
}

interface PutOptions extends ConnectionOptions {
  readonly contentType?: string;
}

export function putCommand(): Command {
  const command = new Command('put')
    .argument('<key>', 'the key')
    .argument('[value]', 'the value; omitted or "-": read it from standard input (binary-safe)')
    .description('store VALUE under KEY')
    .addOption(new Option('--content-type <type>', 'stored with the value and answered on reads'))
    .addHelpText(
      'after',
      `
Examples:
  ringkv put user:42 '{"name":"Ada"}' --content-type application/json
  ringkv put photo < photo.jpg --content-type image/jpeg
  echo hello | ringkv put greeting
`,
    );
  return addConnectionOptions(command).action(
    async (key: string, value: string | undefined, options: PutOptions) => {
      const bytes = value === undefined || value === '-' ? await readStdin() : value;
      const { version } = await withClient(options, (client) =>
        client.put(key, bytes, options.contentType === undefined ? {} : { contentType: options.contentType }),
      );
      if (options.json) printJson({ key, version });
      else process.stdout.write('OK\n');
    },
  );
}

export function delCommand(): Command {
  const command = new Command('del')
    .argument('<key>', 'the key')
    .description('delete KEY (exit 1 if it had no value)')
    .addHelpText('after', '\nExamples:\n  ringkv del user:42\n  ringkv del user:42 --json\n');
  return addConnectionOptions(command).action(async (key: string, options: ConnectionOptions) => {
    const deleted = await withClient(options, (client) => client.delete(key));
    if (!deleted) return notFound(key, options.json);
    if (options.json) printJson({ key, deleted: true });
    else process.stdout.write('deleted\n');
  });
}
