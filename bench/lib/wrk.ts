/** Runs wrk with the bench mix (90% GET / 10% PUT over 10,000 keys of 100 bytes) and parses what it prints. */
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Exits with a hint when a Debian tool the benchmark needs is missing; benchmarks install nothing. */
export function requireTool(tool: string, probe: readonly string[], hint: string): void {
  try {
    execFileSync(tool, probe, { stdio: 'ignore' });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      console.log(`this benchmark needs ${tool}: ${hint} (it installs nothing itself)`);
      process.exit(2);
    }
  }
}

/** Writes the Lua script for the mix into `directory` and returns its path. */
export async function mixScript(directory: string): Promise<string> {
  const path = join(directory, 'mix.lua');
  await writeFile(
    path,
    `local value = string.rep("v", 100)
request = function()
  local key = "key" .. math.random(0, 9999)
  if math.random(1, 10) == 1 then return wrk.format("PUT", "/put?key=" .. key .. "&value=" .. value) end
  return wrk.format("GET", "/get?key=" .. key)
end
`,
  );
  return path;
}

function milliseconds(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** `wrk -t<threads> -c<connections> -d<seconds>s --latency -s <script> <url>`, optionally pinned to a CPU. */
export async function runWrk(
  url: string,
  script: string,
  options: { connections: number; seconds: number; threads?: number; cpu?: number },
): Promise<WrkResult> {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    '-s',
    script,
    url,
  ];
  const { stdout } =
    options.cpu === undefined
      ? await run('wrk', args)
      : await run('taskset', ['-c', String(options.cpu), 'wrk', ...args]);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (errors !== null && Number(errors[1]) > Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0) * 0.001) {
    throw new Error(`wrk saw ${errors[1]} error answers:\n${stdout}`);
  }
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50Ms: milliseconds(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? ''),
    p99Ms: milliseconds(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? ''),
  };
}
