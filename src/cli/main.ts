#!/usr/bin/env node
/** The `ringkv` command line. Each command lives in its own module; this file only wires them up. */
import { Command, CommanderError } from 'commander';
import { isRingKvError } from '../errors.js';
import { benchCommand } from './bench-command.js';
import { distributorCommand } from './distributor-command.js';
import { nodeCommand } from './node-command.js';
import { repairCommand } from './repair-command.js';
import { ringCommand } from './ring-command.js';
import { startCommand } from './start-command.js';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, notFound: 1, usage: 2, serverError: 3 } as const;

const program = new Command('ringkv')
  .description('ringkv: a small distributed key-value store on a consistent-hash ring')
  .showHelpAfterError()
  .exitOverride();
for (const command of [
  startCommand(),
  distributorCommand(),
  nodeCommand(),
  repairCommand(),
  benchCommand(),
  ringCommand(),
]) {
  // Settings are not inherited through addCommand, and every command must exit with the codes above.
  program.addCommand(command.copyInheritedSettings(program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (isRingKvError(error)) {
    console.error(`ringkv: ${error.message} (${error.code})`);
    process.exitCode = error.status < 500 ? EXIT.usage : EXIT.serverError;
  } else {
    throw error;
  }
}
