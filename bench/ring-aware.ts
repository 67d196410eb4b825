/**
 * npm run bench:ring-aware — what a ring-aware client would gain by sending each request straight to the
 * key's owner instead of through the distributor. One 5-node cluster (replicas = 1); the same 90% GET /
 * 10% PUT mix over 10,000 keys of 100 bytes with 64 connections in total: first wrk through the distributor,
 * then five wrk processes at once, one per node, each with the keys that node owns (its share of the 64
 * connections), which is exactly the traffic a ring-aware client sends. Needs wrk. BENCH_SECONDS (default 8),
 * BENCH_ROUNDS (default 3).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEveryKey } from '../src/bench/load-generator.js';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { HashRing } from '../src/ring/hash-ring.js';
import { CLI, startServer } from './lib/servers.js';
import { mixScript, requireTool, runWrk, type WrkResult } from './lib/wrk.js';
import { median, printTable } from './table.js';

requireTool('wrk', ['--version'], 'apt-get install wrk');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEYS = 10_000;
const CONNECTIONS = 64;

/** A wrk script for the mix over the given keys only. */
async function keysScript(path: string, keys: readonly string[]): Promise<string> {
  await writeFile(
    path,
    `local keys = {${keys.map((key) => `"${key}"`).join(',')}}
local value = string.rep("v", 100)
request = function()
  local key = keys[math.random(1, #keys)]
  if math.random(1, 10) == 1 then return wrk.format("PUT", "/put?key=" .. key .. "&value=" .. value) end
  return wrk.format("GET", "/get?key=" .. key)
end
`,
  );
  return path;
}

const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-ring-aware-'));
let base = 25_000;
while (!(await portIsFree('127.0.0.1', base)) || !(await portIsFree('127.0.0.1', base + 5))) base += 100;
const ports = [1, 2, 3, 4, 5].map((i) => base + i);
const ring = new HashRing(ports.map((port) => `127.0.0.1-${port}`));
const owned = new Map<number, string[]>(ports.map((port) => [port, []]));
for (let i = 0; i < KEYS; i++) {
  const owner = ring.ownerOf(`key${i}`);
  owned.get(Number(owner.slice(owner.lastIndexOf('-') + 1)))!.push(`key${i}`);
}
const direct = await Promise.all(
  ports.map(async (port) => ({
    port,
    connections: Math.max(1, Math.round((owned.get(port)!.length / KEYS) * CONNECTIONS)),
    script: await keysScript(join(work, `node-${port}.lua`), owned.get(port)!),
  })),
);

const cluster = await startServer(
  [CLI, 'start', '--port', String(base), '--replicas', '1', '--data-dir', join(work, 'data')],
  'distributor listening',
);
const through: WrkResult[] = [];
const straight: { rate: number; p50: number; p99: number }[] = [];
try {
  await writeEveryKey(cluster.url, KEYS, 100);
  const mix = await mixScript(work);
  await runWrk(cluster.url, mix, { connections: CONNECTIONS, seconds: 2 });
  for (let round = 0; round < ROUNDS; round++) {
    through.push(await runWrk(cluster.url, mix, { connections: CONNECTIONS, seconds: SECONDS }));
    const parts = await Promise.all(
      direct.map(({ port, connections, script }) =>
        runWrk(`http://127.0.0.1:${port}`, script, { connections, seconds: SECONDS }),
      ),
    );
    straight.push({
      rate: parts.reduce((sum, part) => sum + part.requestsPerSecond, 0),
      p50: median(parts.map((part) => part.p50Ms)),
      p99: Math.max(...parts.map((part) => part.p99Ms)),
    });
    console.log(
      `round ${round + 1}: distributor ${Math.round(through.at(-1)!.requestsPerSecond)} req/s, ring-aware ${Math.round(straight.at(-1)!.rate)} req/s`,
    );
  }
} finally {
  await cluster.stop();
  await rm(work, { recursive: true, force: true });
}
const throughRate = median(through.map((run) => run.requestsPerSecond));
const straightRate = median(straight.map((run) => run.rate));
console.log();
printTable(
  ['64 connections, 5 nodes, replicas = 1', 'req/s (median)', 'p50 ms', 'p99 ms', 'ratio'],
  [
    [
      'through the distributor',
      Math.round(throughRate).toLocaleString('en-US'),
      median(through.map((run) => run.p50Ms)).toFixed(2),
      median(through.map((run) => run.p99Ms)).toFixed(2),
      '1.00',
    ],
    [
      'ring-aware: straight to each owner',
      Math.round(straightRate).toLocaleString('en-US'),
      median(straight.map((run) => run.p50)).toFixed(2),
      median(straight.map((run) => run.p99)).toFixed(2),
      (straightRate / throughRate).toFixed(2),
    ],
  ],
);
