/**
 * npm run bench:client — how hard `ringkv bench` can push, against wrk: both drive the same minimal
 * node:http server (pinned to CPU 0) with 64 connections and the 90% GET / 10% PUT mix over 10,000 preloaded
 * keys of 100 bytes, taking turns on CPU 1; ringkv bench runs as users run it (the CLI, writing its CSVs and
 * report). Target: ringkv bench >= 0.8 of wrk's requests per second. Needs wrk (apt-get install wrk).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeEveryKey } from '../src/bench/load-generator.js';
import { CLI, type Server, startServer, TSX_LOADER } from './lib/servers.js';
import { mixScript, requireTool, runWrk } from './lib/wrk.js';
import { median, printTable } from './table.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

requireTool('wrk', ['--version'], 'apt-get install wrk');

const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-client-'));
const script = await mixScript(work);
const server: Server = await startServer(
  [...TSX_LOADER, new URL('./reference/minimal-server.ts', import.meta.url).pathname],
  'listening',
  0,
);
const wrkRates: number[] = [];
const benchRates: number[] = [];
try {
  await writeEveryKey(server.url, 10_000, 100);
  for (let round = 0; round < ROUNDS; round++) {
    wrkRates.push(
      (await runWrk(server.url, script, { connections: 64, seconds: SECONDS, cpu: 1 })).requestsPerSecond,
    );
    const bench = await run(
      'taskset',
      [
        '-c',
        '1',
        process.execPath,
        CLI,
        'bench',
        '--url',
        server.url,
        '--clients',
        '64',
        '--duration',
        String(SECONDS),
        '--keys',
        '10000',
        '--no-preload',
        '--out',
        join(work, `round-${round}`),
        '--json',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    benchRates.push(
      (JSON.parse(bench.stdout) as { results: { requestsPerSecond: number }[] }).results[0]!
        .requestsPerSecond,
    );
    console.log(
      `round ${round + 1}: wrk ${Math.round(wrkRates.at(-1)!)} req/s, ringkv bench ${Math.round(benchRates.at(-1)!)} req/s`,
    );
  }
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
const ratio = median(benchRates) / median(wrkRates);
console.log();
printTable(
  ['load generator (1 core, 64 connections)', 'req/s (median)'],
  [
    ['wrk -t1 -c64 (Lua mix)', Math.round(median(wrkRates)).toLocaleString('en-US')],
    [
      'ringkv bench --clients 64 (with CSVs and report)',
      Math.round(median(benchRates)).toLocaleString('en-US'),
    ],
  ],
);
console.log(`\nBar: ringkv bench >= 0.8 x wrk: ${ratio >= 0.8 ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`);
process.exitCode = ratio >= 0.8 ? 0 : 1;
