/**
 * npm run bench:compare — the ringkv distributor against nginx's consistent hashing in front of the same
 * ringkv nodes: wrk (1 thread, 64 connections, 8 s) with 90% GET / 10% PUT over 10,000 keys of 100 bytes, on
 * the original query API. One 5-node cluster (replicas = 1, the same work as nginx); nginx is configured with
 * `hash $arg_key consistent` over its nodes. Default replication (3) is measured beside it, and the original
 * design rebuilt in Flask (bench/reference/original) when Debian's python3-flask and python3-requests are
 * there. ringkv and nginx run in alternating rounds over the same nodes. Needs wrk and nginx from Debian;
 * installs nothing. BENCH_SECONDS (default 8), BENCH_ROUNDS (default 3).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeEveryKey } from '../src/bench/load-generator.js';
import { credentialsPath } from '../src/distributor/credentials.js';
import { localSocketPath, portIsFree } from '../src/distributor/local-nodes.js';
import { readSecretFile } from '../src/security/secret-file.js';
import { CLUSTER_SECRET_HEADER } from '../src/security/secrets.js';
import { CLI, type Server, startServer, stopChild } from './lib/servers.js';
import { mixScript, requireTool, runWrk, type WrkResult } from './lib/wrk.js';
import { median, printTable } from './table.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
requireTool('wrk', ['--version'], 'apt-get install wrk');
requireTool('nginx', ['-v'], 'apt-get install nginx');

async function freeBase(count: number, from: number): Promise<number> {
  for (let base = from; ; base += 100) {
    let free = true;
    for (let port = base; port <= base + count && free; port++) free = await portIsFree('127.0.0.1', port);
    if (free) return base;
  }
}

/**
 * nginx in front of `upstreams` (nginx server addresses: `host:port`, or `unix:<path>`) with
 * `hash $arg_key consistent`, one worker, keep-alive to the nodes. It adds the cluster's secret to what it
 * forwards, as the distributor does: the nodes of a cluster answer nobody else.
 */
async function startNginx(
  directory: string,
  port: number,
  upstreams: readonly string[],
  clusterSecret: string,
): Promise<Server> {
  const config = join(directory, 'nginx.conf');
  await writeFile(
    config,
    // Workers as this user (nginx started as root would run them as nobody): the nodes' sockets are 0600.
    `user ${userInfo().username};
worker_processes 1;
daemon off;
pid ${join(directory, 'nginx.pid')};
error_log ${join(directory, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${directory}/body; proxy_temp_path ${directory}/proxy;
  fastcgi_temp_path ${directory}/fastcgi; uwsgi_temp_path ${directory}/uwsgi; scgi_temp_path ${directory}/scgi;
  upstream ringkv { hash $arg_key consistent; ${upstreams.map((upstream) => `server ${upstream};`).join(' ')} keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ringkv; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header ${CLUSTER_SECRET_HEADER} "${clusterSecret}";
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', config, '-p', directory], { stdio: 'inherit' });
  for (let attempt = 0; attempt < 50 && (await portIsFree('127.0.0.1', port)); attempt++) await sleep(100);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}

function originalAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import flask, requests'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The original design rebuilt (bench/reference/original/original.py): a Flask distributor and 5 Flask nodes. */
async function startOriginal(directory: string, base: number): Promise<Server> {
  const script = new URL('./reference/original/original.py', import.meta.url).pathname;
  const children = [1, 2, 3, 4, 5].map((i) =>
    spawn('/usr/bin/python3', [script, 'node', String(base + i), directory], { stdio: 'ignore' }),
  );
  children.push(
    spawn(
      '/usr/bin/python3',
      [script, 'distributor', String(base), ...[1, 2, 3, 4, 5].map((i) => String(base + i))],
      { stdio: 'ignore' },
    ),
  );
  // Flask starts slowly: wait until the distributor and every node listen.
  for (const port of [base, base + 1, base + 2, base + 3, base + 4, base + 5]) {
    for (let attempt = 0; attempt < 100 && (await portIsFree('127.0.0.1', port)); attempt++) await sleep(100);
  }
  return {
    url: `http://127.0.0.1:${base}`,
    stop: async () => {
      await Promise.all(children.map((child) => stopChild(child, 'SIGTERM')));
    },
  };
}

const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-compare-'));
const script = await mixScript(work);
const results = new Map<string, WrkResult[]>();
/**
 * Rounds of the systems in turn (A, B, A, B, ...), after each has written the keys and had 2 s of load,
 * so the machine's drift over minutes and the nodes' own warming (JIT, caches, the first snapshots) fall on
 * every system alike rather than on whichever ran first.
 */
const measure = async (systems: readonly { readonly name: string; readonly url: string }[]) => {
  // Each through its own front: nginx places keys by its own hash, not by ringkv's ring.
  for (const { url } of systems) await writeEveryKey(url, 10_000, 100);
  for (const { url } of systems) await runWrk(url, script, { connections: 64, seconds: 2 });
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, url } of systems) {
      const run = await runWrk(url, script, { connections: 64, seconds: SECONDS });
      results.set(name, [...(results.get(name) ?? []), run]);
      console.log(`${name}: ${Math.round(run.requestsPerSecond)} req/s`);
    }
  }
};

console.log(
  `bench:compare: wrk -t1 -c64 -d${SECONDS}s, 90% GET / 10% PUT over 10,000 keys of 100 bytes, ${ROUNDS} rounds; node ${process.version}\n`,
);
try {
  const base = await freeBase(30, 21_000);
  const cluster = await startServer(
    [CLI, 'start', '--port', String(base), '--replicas', '1', '--data-dir', join(work, 'cluster')],
    'distributor listening',
  );
  try {
    const credentials = await readSecretFile<{ clusterSecret: string }>(
      credentialsPath(join(work, 'cluster')),
    );
    if (credentials === undefined) throw new Error('the cluster wrote no credentials');
    // The way the distributor reaches each node (its Unix socket, as `ringkv start` runs them), so both
    // proxies pay the same for the hop to the nodes.
    const { members } = (await (await fetch(`${cluster.url}/cluster`)).json()) as {
      members: { id: string; url: string; transport: 'unix' | 'tcp' }[];
    };
    const upstreams = members.map(({ id, url, transport }) => {
      const socket = transport === 'unix' ? localSocketPath(join(work, 'cluster'), id) : undefined;
      return socket === undefined ? new URL(url).host : `unix:${socket}`;
    });
    console.log(`nginx upstreams: ${upstreams.join(', ')}\n`);
    const nginx = await startNginx(work, base + 8, upstreams, credentials.clusterSecret);
    try {
      await measure([
        { name: 'ringkv distributor, replicas = 1', url: cluster.url },
        { name: 'nginx hash $arg_key consistent', url: nginx.url },
      ]);
    } finally {
      await nginx.stop();
    }
  } finally {
    await cluster.stop();
  }
  if (originalAvailable()) {
    const original = await startOriginal(work, base + 20);
    try {
      await measure([
        { name: 'original design (Flask, rebuilt from the design document)', url: original.url },
      ]);
    } finally {
      await original.stop();
    }
  } else {
    console.log(
      '(skipping the original design: it needs /usr/bin/python3 with flask and requests: apt-get install python3-flask python3-requests)',
    );
  }
  const replicated = await startServer(
    [CLI, 'start', '--port', String(base), '--data-dir', join(work, 'replicated')],
    'distributor listening',
  );
  try {
    await measure([{ name: 'ringkv distributor, replicas = 3 (default)', url: replicated.url }]);
  } finally {
    await replicated.stop();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const nginxRate = median(results.get('nginx hash $arg_key consistent')!.map((run) => run.requestsPerSecond));
console.log();
printTable(
  ['system (5 ringkv nodes behind it)', 'req/s (median)', 'p50 ms', 'p99 ms', 'vs nginx'],
  [...results].map(([name, runs]) => {
    const rate = median(runs.map((run) => run.requestsPerSecond));
    return [
      name,
      Math.round(rate).toLocaleString('en-US'),
      median(runs.map((run) => run.p50Ms)).toFixed(2),
      median(runs.map((run) => run.p99Ms)).toFixed(2),
      (rate / nginxRate).toFixed(2),
    ];
  }),
);
const ours = results.get('ringkv distributor, replicas = 1')!;
const theirs = results.get('nginx hash $arg_key consistent')!;
const faster = median(ours.map((run) => run.requestsPerSecond)) >= nginxRate;
const tighter = median(ours.map((run) => run.p99Ms)) <= median(theirs.map((run) => run.p99Ms));
console.log(
  `\nBar: at least nginx's req/s: ${faster ? 'PASS' : 'FAIL'}; p99 no worse: ${tighter ? 'PASS' : 'FAIL'}`,
);
const original = results.get('original design (Flask, rebuilt from the design document)');
if (original !== undefined) {
  const times =
    median(ours.map((run) => run.requestsPerSecond)) / median(original.map((run) => run.requestsPerSecond));
  console.log(
    `Bar: at least 50x the original design's req/s: ${times >= 50 ? 'PASS' : 'FAIL'} (${times.toFixed(1)}x)`,
  );
}
process.exitCode = faster && tighter ? 0 : 1;
