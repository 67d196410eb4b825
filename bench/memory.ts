/**
 * npm run bench:memory — what the data costs in memory: one lmdb node's RSS before and after taking in
 * 1,000,000 keys of 100 bytes, and a distributor's RSS in front of 5 nodes holding 10,000 keys against 1,000,000
 * keys (after reading across all of them), to show it keeps no per-key state. RSS from /proc.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runLoad } from '../src/bench/load-generator.js';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { RECORDS_CONTENT_TYPE } from '../src/node/protocol.js';
import { HashRing } from '../src/ring/hash-ring.js';
import { CLUSTER_SECRET_HEADER } from '../src/security/secrets.js';
import { encodeRecordFrames, type StoredRecord } from '../src/storage/record.js';
import { formatVersion } from '../src/version/version.js';
import { CLI, startServer } from './lib/servers.js';
import { printTable } from './table.js';

const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-memory-'));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function rssOfPort(port: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const pid = execFileSync('sh', [
    '-c',
    `ss -ltnpH 'sport = :${port}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`,
  ])
    .toString()
    .trim();
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Writes key<from> ... key<to-1> straight into their owners among `urls` (ids `ids`), 10,000 per batch. */
async function fill(
  ids: readonly string[],
  urls: readonly string[],
  from: number,
  to: number,
): Promise<void> {
  const ring = new HashRing(ids);
  const version = formatVersion({ wallMs: Date.now(), logical: 0, writer: 'bench' });
  const value = Buffer.alloc(100, 'v');
  const pending = new Map<string, StoredRecord[]>(ids.map((id) => [id, []]));
  const flush = async (id: string) => {
    const answer = await request(`${urls[ids.indexOf(id)]}/internal/batch`, {
      method: 'POST',
      body: encodeRecordFrames(pending.get(id)!),
      headers: { 'content-type': RECORDS_CONTENT_TYPE, [CLUSTER_SECRET_HEADER]: CLUSTER_SECRET },
    });
    await answer.body.text();
    pending.set(id, []);
  };
  for (let i = from; i < to; i++) {
    const key = `key${i}`;
    const owner = ring.ownerOf(key);
    pending.get(owner)!.push({ key: Buffer.from(key), version, value });
    if (pending.get(owner)!.length >= 10_000) await flush(owner);
  }
  for (const id of ids) if (pending.get(id)!.length > 0) await flush(id);
}

/** The cluster's secret: the fill writes straight into the nodes, which require it. */
const CLUSTER_SECRET = 'bench-memory-cluster-secret';
const rows: string[][] = [];
try {
  const node = await startServer(
    [
      CLI,
      'node',
      '--port',
      '0',
      '--id',
      'memory',
      '--data-dir',
      join(work, 'node'),
      '--snapshot-interval',
      '0',
    ],
    'storage node listening',
  );
  const nodePort = Number(new URL(node.url).port);
  const empty = await rssOfPort(nodePort);
  await fill(['memory'], [node.url], 0, 1_000_000);
  await runLoad({
    url: node.url,
    connections: 16,
    durationMs: 5000,
    readFraction: 1,
    deleteFraction: 0,
    keys: 1_000_000,
    valueBytes: 100,
    api: 'original',
    keyDistribution: 'uniform',
    seed: 1,
  });
  const full = await rssOfPort(nodePort);
  rows.push(
    ['one lmdb node, empty', mb(empty)],
    ['one lmdb node, 1,000,000 keys of 100 bytes (after 5 s of reads)', mb(full)],
  );
  await node.stop();

  let base = 23_000;
  while (!(await portIsFree('127.0.0.1', base)) || !(await portIsFree('127.0.0.1', base + 5))) base += 100;
  const cluster = await startServer(
    [
      CLI,
      'start',
      '--cluster-secret',
      CLUSTER_SECRET,
      '--port',
      String(base),
      '--replicas',
      '1',
      '--data-dir',
      join(work, 'cluster'),
      '--snapshot-interval',
      '0',
    ],
    'distributor listening',
  );
  const ids = [1, 2, 3, 4, 5].map((i) => `127.0.0.1-${base + i}`);
  const urls = [1, 2, 3, 4, 5].map((i) => `http://127.0.0.1:${base + i}`);
  const readAll = (keys: number) =>
    runLoad({
      url: cluster.url,
      connections: 32,
      durationMs: 8000,
      readFraction: 1,
      deleteFraction: 0,
      keys,
      valueBytes: 100,
      api: 'original',
      keyDistribution: 'uniform',
      seed: 2,
    });
  await fill(ids, urls, 0, 10_000);
  await readAll(10_000);
  const small = await rssOfPort(base);
  await fill(ids, urls, 10_000, 1_000_000);
  await readAll(1_000_000);
  const large = await rssOfPort(base);
  rows.push(
    ['distributor, cluster holding 10,000 keys', mb(small)],
    ['distributor, cluster holding 1,000,000 keys', mb(large)],
  );
  await cluster.stop();
} finally {
  await rm(work, { recursive: true, force: true });
}
printTable(['process', 'RSS MiB'], rows);
