/**
 * npm run bench:rebalance — how fast add_server and remove_server move data, and what clients feel while
 * they do: a 5-node cluster (3 replicas, the default) holding 1,000,000 keys of 100 bytes, under a steady
 * open-loop load (2,000 req/s on 128 connections, 90% GET / 10% PUT, latency from the scheduled send time), adds a node and then
 * removes it. Reports keys/s moved (the key copies each move placed on a new holder, computed from both
 * rings over every key, over the copy time; the total, with the old owners' drops, is shown too), the
 * records and MB the sources sent (each range once, plus again from any verifier whose digest of it differs:
 * see planMove), and the client p99 during each move against the p99 of 10 s of the same load before it
 * (after 10 s of warm-up). Targets: >= 50,000 keys/s, p99 during a move <= 3x the p99 before.
 * BENCH_KEYS, BENCH_RATE, BENCH_CONNECTIONS (default 128) and BENCH_START_ARGS (extra `ringkv start` flags)
 * override the defaults.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { type LoadSample, type LoadTick, newHistogram, runLoad } from '../src/bench/load-generator.js';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { ringOf } from '../src/distributor/membership.js';
import { RECORDS_CONTENT_TYPE } from '../src/node/protocol.js';
import { HashRing, type PlacementSettings } from '../src/ring/hash-ring.js';
import { CLUSTER_SECRET_HEADER } from '../src/security/secrets.js';
import { encodeRecordFrames, type StoredRecord } from '../src/storage/record.js';
import { formatVersion } from '../src/version/version.js';
import { CLI, startServer } from './lib/servers.js';
import { printTable } from './table.js';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
/**
 * The load's connections. An open-loop load queues inside the generator whenever latency passes
 * CONNECTIONS / RATE (Little's law): with 32, past 16 ms, which turned a second of 84 ms at the distributor
 * into 446 ms at the client. With 128 the generator adds nothing below 64 ms.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 128);
const VALUE_BYTES = 100;
/** `ringkv start`'s default replication. */
const REPLICAS = 3;
const PRELOAD_BATCH = 1000;
/** Seconds of load before the window that measures the p99 before a move: connections, JIT, caches warm. */
const WARM_UP_SECONDS = 10;
const BEFORE_SECONDS = 10;

async function freeBase(count: number): Promise<number> {
  for (let base = 27_000; ; base += 100) {
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

/** The ring of the cluster `ringkv start` makes on `base`: five nodes on the next ports, default placement. */
function preloadRing(base: number): HashRing {
  return new HashRing([1, 2, 3, 4, 5].map((i) => `127.0.0.1-${base + i}`));
}

/** The ring the distributor routes by, rebuilt from GET /cluster (its members, their weights, its placement). */
async function clusterRing(url: string): Promise<HashRing> {
  const answer = await request(`${url}/cluster`);
  const { members, placement } = (await answer.body.json()) as {
    placement: PlacementSettings;
    members: { id: string; weight: number }[];
  };
  return ringOf(members, placement);
}

/** The bench's cluster secret: the preload writes straight into the nodes, which require it. */
const CLUSTER_SECRET = 'bench-rebalance-cluster-secret';

/**
 * Writes key0 ... key<KEYS-1> straight into each of their REPLICAS replicas (the cluster's default), as if
 * the distributor had written them: a cluster whose other replicas lacked the keys would spend the first
 * seconds of the load on read repairs. Batches of PRELOAD_BATCH records, one in flight per node: LMDB takes
 * seconds to reuse the pages freed by transactions of 10,000 random keys, and commits slowly meanwhile.
 */
async function preloadDirect(base: number): Promise<void> {
  const ring = preloadRing(base);
  const ids = ring.nodes.map((node) => node.id);
  const version = formatVersion({ wallMs: Date.now(), logical: 0, writer: 'bench' });
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const pending = new Map<string, StoredRecord[]>(ids.map((id) => [id, []]));
  const inFlight = new Map<string, Promise<void>>();
  const flush = async (id: string) => {
    const records = pending.get(id)!;
    pending.set(id, []);
    await inFlight.get(id);
    inFlight.set(id, send(id, records));
  };
  const send = async (id: string, records: readonly StoredRecord[]) => {
    const answer = await request(`http://${id.replace('-', ':')}/internal/batch`, {
      method: 'POST',
      body: encodeRecordFrames(records),
      headers: { 'content-type': RECORDS_CONTENT_TYPE, [CLUSTER_SECRET_HEADER]: CLUSTER_SECRET },
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) throw new Error(`preload into ${id}: ${answer.statusCode} ${text}`);
  };
  for (let i = 0; i < KEYS; i++) {
    const key = `key${i}`;
    for (const owner of ring.preferenceList(key, REPLICAS)) {
      pending.get(owner)!.push({ key: Buffer.from(key), version, value });
      if (pending.get(owner)!.length >= PRELOAD_BATCH) await flush(owner);
    }
  }
  for (const id of ids) if (pending.get(id)!.length > 0) await flush(id);
  await Promise.all(inFlight.values());
}

/**
 * Polls GET /cluster while a move runs; stop() gives how long each phase of the move was seen, and when it
 * began in seconds of the load (the t= of BENCH_TICKS's lines).
 */
function watchPhases(url: string, loadStarted: number): { stop(): Promise<string> } {
  const seen: { phase: string; atMs: number }[] = [];
  const allowed: number[] = [];
  let running = true;
  const polling = (async () => {
    while (running) {
      const answer = await request(`${url}/cluster`);
      const { move } = (await answer.body.json()) as {
        move: { phase: string; keysPerSecondAllowed: number } | null;
      };
      if (move?.phase === 'copying') allowed.push(move.keysPerSecondAllowed);
      if (move !== null && seen.at(-1)?.phase !== move.phase)
        seen.push({ phase: move.phase, atMs: performance.now() });
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await polling;
      const end = performance.now();
      const phases = seen
        .map(
          ({ phase, atMs }, index) =>
            `${phase} ${(((seen[index + 1]?.atMs ?? end) - atMs) / 1000).toFixed(1)} (from t=${((atMs - loadStarted) / 1000).toFixed(1)})`,
        )
        .join(', ');
      allowed.sort((a, b) => a - b);
      const at = (share: number) =>
        (allowed[Math.floor(share * (allowed.length - 1))] ?? 0).toLocaleString('en-US');
      return `${phases}; paced to (keys/s allowed while copying) min ${at(0)}, median ${at(0.5)}, max ${at(1)}`;
    },
  };
}

/** Key copies a change from `before` to `after` places on nodes that did not hold them: what a move must do. */
function keysPlaced(before: HashRing, after: HashRing): number {
  let placed = 0;
  for (let i = 0; i < KEYS; i++) {
    const key = `key${i}`;
    const holders = before.preferenceList(key, REPLICAS);
    for (const id of after.preferenceList(key, REPLICAS)) if (!holders.includes(id)) placed++;
  }
  return placed;
}

function p99(
  samples: readonly LoadSample[],
  from: number,
  to: number,
  operation?: LoadSample['operation'],
): number {
  const histogram = newHistogram();
  for (const sample of samples) {
    if (
      sample.atMs >= from &&
      sample.atMs < to &&
      (operation === undefined || sample.operation === operation)
    ) {
      histogram.recordValue(sample.latencyMicros);
    }
  }
  return histogram.getValueAtPercentile(99) / 1000;
}

const dataDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-rebalance-'));
const base = await freeBase(10);
console.log(
  `bench:rebalance: ${KEYS.toLocaleString('en-US')} keys of ${VALUE_BYTES} bytes on 5 nodes, client load ${RATE} req/s; node ${process.version}`,
);
const extra = process.env.BENCH_START_ARGS?.split(' ').filter(Boolean) ?? [];
const cluster = await startServer(
  [CLI, 'start', '--port', String(base), '--data-dir', dataDir, '--cluster-secret', CLUSTER_SECRET, ...extra],
  'distributor listening',
);
try {
  const preloadStarted = performance.now();
  await preloadDirect(base);
  console.log(`preloaded in ${((performance.now() - preloadStarted) / 1000).toFixed(1)} s`);
  const samples: LoadSample[] = [];
  const stop = new AbortController();
  const started = performance.now();
  const load = runLoad({
    url: cluster.url,
    connections: CONNECTIONS,
    durationMs: 3_600_000,
    readFraction: 0.9,
    deleteFraction: 0,
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    api: 'original',
    keyDistribution: 'uniform',
    seed: 1,
    rate: RATE,
    signal: stop.signal,
    onSample: (sample) => samples.push(sample),
    ...(process.env.BENCH_TICKS && {
      onTick: (tick: LoadTick) =>
        console.log(
          `t=${tick.second}s ${tick.requests} req p99 ${(tick.latency.p99 / 1000).toFixed(1)} ms max ${(tick.latency.max / 1000).toFixed(1)} ms`,
        ),
    }),
  });
  const now = () => performance.now() - started;
  type Moved = { keysMoved: number; bytesMoved: number; copySeconds: number; seconds: number };
  const moves: { name: string; from: number; to: number; moved: Moved; rings: [HashRing, HashRing] }[] = [];
  const phaseLines: string[] = [];
  const move = async (name: string, path: string) => {
    const ringBefore = await clusterRing(cluster.url);
    const from = now();
    const watching = watchPhases(cluster.url, started);
    const answer = await request(`${cluster.url}${path}`, { method: 'POST' });
    const body = (await answer.body.json()) as { moved: Moved; id: string };
    if (answer.statusCode !== 200) throw new Error(`${path}: ${JSON.stringify(body)}`);
    const to = now();
    phaseLines.push(`${name} (asked at t=${(from / 1000).toFixed(1)}): ${await watching.stop()}`);
    moves.push({ name, from, to, moved: body.moved, rings: [ringBefore, await clusterRing(cluster.url)] });
    return body.id;
  };
  await sleep((WARM_UP_SECONDS + BEFORE_SECONDS) * 1000);
  const beforeWindow = { from: WARM_UP_SECONDS * 1000, to: now() };
  const added = await move('add_server', '/add_server');
  await sleep(3000);
  await move('remove_server', `/remove_server?node=${added}`);
  await sleep(2000);
  stop.abort();
  const report = await load;
  // Counted once the load is over: done between the moves, this synchronous walk stalled the load generator
  // for 300-400 ms, and every request it delayed counted that stall as latency.
  const placedOf = moves.map(({ rings }) => keysPlaced(...rings));
  const before = p99(samples, beforeWindow.from, beforeWindow.to);
  console.log();
  printTable(
    [
      'operation',
      'keys moved',
      'copy s',
      'total s',
      'keys/s',
      'records sent',
      'MB sent',
      'sent MB/s',
      'client p99 before',
      'client p99 during',
      'ratio',
    ],
    moves.map(({ name, from, to, moved }, index) => {
      const placed = placedOf[index]!;
      const during = p99(samples, from, to);
      return [
        name,
        placed.toLocaleString('en-US'),
        moved.copySeconds.toFixed(2),
        moved.seconds.toFixed(2),
        Math.round(placed / moved.copySeconds).toLocaleString('en-US'),
        moved.keysMoved.toLocaleString('en-US'),
        (moved.bytesMoved / 1e6).toFixed(1),
        (moved.bytesMoved / 1e6 / moved.copySeconds).toFixed(1),
        `${before.toFixed(2)} ms`,
        `${during.toFixed(2)} ms`,
        (during / before).toFixed(2),
      ];
    }),
  );
  console.log(
    '\nkeys moved: key copies placed on a node that did not hold them (both rings, every key); records sent: what the sources streamed (each range once, again where a verifier digest differed)',
  );
  console.log(`\nphases (seconds, seen in GET /cluster every 100 ms; from: seconds since the load began):`);
  for (const line of phaseLines) console.log(`  ${line}`);
  const split = (from: number, to: number) =>
    `GET ${p99(samples, from, to, 'get').toFixed(1)} ms, PUT ${p99(samples, from, to, 'put').toFixed(1)} ms`;
  console.log(`\np99 by operation: before: ${split(beforeWindow.from, beforeWindow.to)}`);
  for (const { name, from, to } of moves) console.log(`  during ${name}: ${split(from, to)}`);
  console.log(
    `\nclient requests: ${report.requests}, errors: ${report.errors} ${JSON.stringify(report.errorCodes)}`,
  );
  const passed = moves.every(({ moved }, index) => placedOf[index]! / moved.copySeconds >= 50_000);
  const gentle = moves.every(({ from, to }) => p99(samples, from, to) <= 3 * before);
  console.log(
    `Bars: >= 50,000 keys/s: ${passed ? 'PASS' : 'FAIL'}; p99 during <= 3x before: ${gentle ? 'PASS' : 'FAIL'}; errors: ${report.errors === 0 ? 'none' : report.errors}`,
  );
  process.exitCode = passed && gentle && report.errors === 0 ? 0 : 1;
} finally {
  await cluster.stop();
  await rm(dataDir, { recursive: true, force: true });
}
