/**
 * npm run bench:scaling — how throughput moves with the cluster's size and the clients' concurrency: wrk
 * (1 thread, 6 s) with 90% GET / 10% PUT over 10,000 keys of 100 bytes through the distributor (replicas = 1),
 * for 1, 2, 4 and 8 nodes at 64 connections, and for 16, 64 and 256 connections at 5 nodes. Everything shares
 * the machine's cores. Needs wrk from Debian.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEveryKey } from '../src/bench/load-generator.js';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { CLI, startServer } from './lib/servers.js';
import { mixScript, requireTool, runWrk, type WrkResult } from './lib/wrk.js';
import { printTable } from './table.js';

requireTool('wrk', ['--version'], 'apt-get install wrk');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-scaling-'));
const script = await mixScript(work);

async function freeBase(count: number, from: number): Promise<number> {
  for (let base = from; ; base += 100) {
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

async function measure(nodes: number, connections: number): Promise<WrkResult> {
  const base = await freeBase(nodes + 2, 26_000);
  const cluster = await startServer(
    [
      CLI,
      'start',
      '--port',
      String(base),
      '--nodes',
      String(nodes),
      '--replicas',
      '1',
      '--data-dir',
      join(work, `n${nodes}-c${connections}`),
    ],
    'distributor listening',
  );
  try {
    await writeEveryKey(cluster.url, 10_000, 100);
    await runWrk(cluster.url, script, { connections, seconds: 2 });
    const result = await runWrk(cluster.url, script, { connections, seconds: SECONDS });
    console.log(`${nodes} nodes, ${connections} connections: ${Math.round(result.requestsPerSecond)} req/s`);
    return result;
  } finally {
    await cluster.stop();
  }
}

const row = (label: string, result: WrkResult) => [
  label,
  Math.round(result.requestsPerSecond).toLocaleString('en-US'),
  result.p50Ms.toFixed(2),
  result.p99Ms.toFixed(2),
];
try {
  const bySize = [];
  for (const nodes of [1, 2, 4, 8])
    bySize.push(row(`${nodes} node${nodes > 1 ? 's' : ''}, 64 connections`, await measure(nodes, 64)));
  const byClients = [];
  for (const connections of [16, 64, 256])
    byClients.push(row(`5 nodes, ${connections} connections`, await measure(5, connections)));
  console.log();
  printTable(['cluster', 'req/s', 'p50 ms', 'p99 ms'], [...bySize, ...byClients]);
} finally {
  await rm(work, { recursive: true, force: true });
}
