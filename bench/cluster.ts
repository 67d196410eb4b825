/**
 * npm run bench:cluster — requests per second and p50/p99/p99.9 for 90% GET / 10% PUT over 10,000 keys,
 * 100-byte values, 64 connections: through the distributor of a 5-node `ringkv start` cluster with one and
 * with three replicas per key, and directly against one storage node, in the same run. Nothing is pinned:
 * the servers and the load generator share both cores, as they would on a small machine.
 * BENCH_SECONDS (default 6), BENCH_ROUNDS (default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { MIX, measureRounds, printRounds, ROUNDS, SECONDS } from './lib/rounds.js';
import { CLI, type Server, startServer } from './lib/servers.js';

async function freeBase(count: number, from: number): Promise<number> {
  for (let base = from; ; base += 100) {
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-cluster-'));
const cluster = (name: string, base: number, replicas: number) => ({
  name,
  start: () =>
    startServer(
      [
        CLI,
        'start',
        '--port',
        String(base),
        '--replicas',
        String(replicas),
        '--data-dir',
        join(dataDir, `cluster-${replicas}`),
      ],
      'distributor listening',
    ),
});
const targets = [
  cluster('distributor, 5 nodes, replicas = 1', await freeBase(8, 31_000), 1),
  cluster('distributor, 5 nodes, replicas = 3 (R = W = 2)', await freeBase(8, 32_000), 3),
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
  // One cluster at a time: two clusters of six processes each would fight over the two cores.
  const results = [];
  for (const target of targets) {
    const server = await target.start();
    servers.push(server);
    results.push((await measureRounds([target], [server]))[0]!);
    await server.stop();
    servers.pop();
  }
  printRounds(targets, results, 2, 'vs one node');
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dataDir, { recursive: true, force: true });
}
