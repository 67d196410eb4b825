/**
 * npm run bench:node — one storage node's throughput and latency for 90% GET / 10% PUT over 10,000 keys
 * with 100-byte values and 64 connections, against a minimal node:http server keeping a Map, driven by
 * the same load generator in the same run. Rounds alternate between servers; the table shows medians.
 * BENCH_SECONDS (default 6) sets each measurement, BENCH_ROUNDS (default 3) the rounds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadReport, preload, runLoad } from '../src/bench/load-generator.js';
import { CLI, pinSelf, type Server, startServer, TSX_LOADER } from './lib/servers.js';
import { median, printTable } from './table.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEYS = 10_000;
const VALUE_BYTES = 100;
const CONNECTIONS = 64;

const dataDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-node-'));
const targets: { name: string; start: () => Promise<Server> }[] = [
  {
    name: 'minimal node:http + Map (reference)',
    start: () =>
      startServer(
        [...TSX_LOADER, new URL('./reference/minimal-server.ts', import.meta.url).pathname],
        'listening',
      ),
  },
  {
    name: 'ringkv node, lmdb',
    start: () =>
      startServer(
        [CLI, 'node', '--port', '0', '--id', 'bench-lmdb', '--data-dir', dataDir],
        'storage node listening',
      ),
  },
  {
    name: 'ringkv node, memory',
    start: () =>
      startServer(
        [CLI, 'node', '--port', '0', '--id', 'bench-memory', '--engine', 'memory', '--data-dir', dataDir],
        'storage node listening',
      ),
  },
];

console.log(
  `bench:node: ${KEYS} keys, ${VALUE_BYTES}-byte values, 90% GET / 10% PUT, ${CONNECTIONS} connections,`,
);
console.log(
  `${ROUNDS} rounds of ${SECONDS} s per server (after 1 s of warm-up); ${pinSelf(1)}; node ${process.version}\n`,
);

const servers = await Promise.all(targets.map((target) => target.start()));
const results = targets.map(() => [] as LoadReport[]);
try {
  for (const server of servers) await preload(server.url, KEYS, VALUE_BYTES);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, server] of servers.entries()) {
      const spec = {
        url: server.url,
        connections: CONNECTIONS,
        readFraction: 0.9,
        deleteFraction: 0,
        keys: KEYS,
        valueBytes: VALUE_BYTES,
        api: 'original' as const,
        keyDistribution: 'uniform' as const,
        seed: round + 1,
      };
      await runLoad({ ...spec, durationMs: 1000 });
      const report = await runLoad({ ...spec, durationMs: SECONDS * 1000 });
      if (report.errors > 0)
        throw new Error(
          `${targets[index]!.name}: ${report.errors} errors: ${JSON.stringify(report.errorCodes)}`,
        );
      results[index]!.push(report);
      process.stdout.write(
        `round ${round + 1}: ${targets[index]!.name}: ${Math.round(report.requestsPerSecond)} req/s\n`,
      );
    }
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dataDir, { recursive: true, force: true });
}

const ms = (micros: number) => (micros / 1000).toFixed(2);
const reference = median(results[0]!.map((report) => report.requestsPerSecond));
const rows = targets.map((target, index) => {
  const reports = results[index]!;
  const rps = median(reports.map((report) => report.requestsPerSecond));
  const middle = [...reports].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[reports.length >> 1]!;
  return [
    target.name,
    Math.round(rps).toLocaleString('en-US'),
    ms(middle.latency.p50),
    ms(middle.latency.p99),
    ms(middle.latency.p999),
    (rps / reference).toFixed(2),
  ];
});
console.log();
printTable(['server', 'req/s (median)', 'p50 ms', 'p99 ms', 'p99.9 ms', 'ratio to reference'], rows);
const ratio = Number(rows[1]![5]);
console.log(
  `\nBar: ringkv node (lmdb) >= 0.7 x the minimal server: ${ratio >= 0.7 ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`,
);
process.exitCode = ratio >= 0.7 ? 0 : 1;
