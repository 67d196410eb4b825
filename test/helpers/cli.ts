/** Runs the built `ringkv` CLI (dist/, built by `npm test`'s pretest) as a real process. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Standard output as bytes (binary values). */
  readonly output: Buffer;
}

export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  input?: string | Uint8Array,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: { ...process.env, ...env }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          stdout: stdout.toString('utf8'),
          stderr: stderr.toString('utf8'),
          output: stdout,
        });
      },
    );
    child.stdin!.end(input);
  });
}
