/**
 * npm run bench:cluster — requests per second and p50/p99/p99.9 for 90% GET / 10% PUT over 10,000 keys,
 * 100-byte values, 64 connections: through the distributor of a 5-node `ringkv start` cluster, and directly
 * against one storage node, in the same run. Nothing is pinned: the cluster and the load generator share
 * both cores, as they would on a small machine. BENCH_SECONDS (default 6), BENCH_ROUNDS (default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { MIX, measureRounds, printRounds, ROUNDS, SECONDS } from './lib/rounds.js';
import { CLI, type Server, startServer } from './lib/servers.js';

async function freeBase(count: number): Promise<number> {
  for (let base = 31_000; ; base += 100) {
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-cluster-'));
const base = await freeBase(8);
const targets = [
  {
    name: 'through the distributor (5 nodes)',
    start: () =>
      startServer(
        [CLI, 'start', '--port', String(base), '--data-dir', join(dataDir, 'cluster')],
        'distributor listening',
      ),
  },
  {
    name: 'one node directly',
    start: () =>
      startServer(
        [CLI, 'node', '--port', '0', '--id', 'direct', '--data-dir', join(dataDir, 'direct')],
        'storage node listening',
      ),
  },
];

console.log(
  `bench:cluster: ${MIX.keys} keys, ${MIX.valueBytes}-byte values, 90% GET / 10% PUT, ${MIX.connections} connections,`,
);
console.log(`${ROUNDS} rounds of ${SECONDS} s (after 1 s of warm-up), unpinned; node ${process.version}\n`);
const servers: Server[] = [];
try {
  for (const target of targets) servers.push(await target.start());
  printRounds(targets, await measureRounds(targets, servers), 1, 'vs one node');
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dataDir, { recursive: true, force: true });
}
