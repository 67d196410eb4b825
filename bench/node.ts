/**
 * npm run bench:node — one storage node's throughput and latency for 90% GET / 10% PUT over 10,000 keys
 * with 100-byte values and 64 connections, against a minimal node:http server keeping a Map, driven by
 * the same load generator in the same run. Servers on CPU 0, the load generator on CPU 1. Rounds
 * alternate between servers; the table shows medians. BENCH_SECONDS (default 6), BENCH_ROUNDS (default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIX, measureRounds, printRounds, ROUNDS, SECONDS } from './lib/rounds.js';
import { CLI, pinSelf, type Server, startServer, TSX_LOADER } from './lib/servers.js';

const dataDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-node-'));
const minimalServer = new URL('./reference/minimal-server.ts', import.meta.url).pathname;
const nodeArgs = (id: string, ...extra: string[]) => [
  CLI,
  'node',
  '--port',
  '0',
  '--id',
  id,
  '--data-dir',
  dataDir,
  ...extra,
];
const targets = [
  {
    name: 'minimal node:http + Map (reference)',
    start: () => startServer([...TSX_LOADER, minimalServer], 'listening', 0),
  },
  {
    name: 'ringkv node, lmdb',
    start: () => startServer(nodeArgs('bench-lmdb'), 'storage node listening', 0),
  },
  {
    name: 'ringkv node, memory',
    start: () => startServer(nodeArgs('bench-memory', '--engine', 'memory'), 'storage node listening', 0),
  },
];

console.log(
  `bench:node: ${MIX.keys} keys, ${MIX.valueBytes}-byte values, 90% GET / 10% PUT, ${MIX.connections} connections,`,
);
console.log(
  `${ROUNDS} rounds of ${SECONDS} s per server (after 1 s of warm-up); ${pinSelf(1)}; node ${process.version}\n`,
);
const servers: Server[] = [];
try {
  for (const target of targets) servers.push(await target.start());
  const ratios = printRounds(targets, await measureRounds(targets, servers), 0, 'ratio to reference');
  const ratio = ratios[1]!;
  console.log(
    `\nBar: ringkv node (lmdb) >= 0.7 x the minimal server: ${ratio >= 0.7 ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`,
  );
  process.exitCode = ratio >= 0.7 ? 0 : 1;
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dataDir, { recursive: true, force: true });
}
