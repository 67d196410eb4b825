// Proves a distributor and a storage node survive 10,000+ malformed and hostile requests sent over raw sockets
// (random methods and paths, broken percent-encodings, invalid UTF-8 and control characters in keys, huge,
// truncated and lying bodies, oversized headers, header floods, garbage, slow partial requests): no process
// dies, nothing answers a 5xx but 503, memory stays bounded, and the data written before is intact after.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { seededRandom } from '../../src/bench/key-chooser.js';
import { distributorRouteLabels } from '../../src/distributor/distributor-metrics.js';
import { nodeRouteLabels } from '../../src/node/node-metrics.js';
import { http } from '../helpers/http.js';
import { clusterSecretOf, type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const REQUESTS_PER_TARGET = 5_200;
const CONCURRENCY = 16;
const KEYS = 500;

const directory = await temporaryDirectory('ringkv-fuzz-');
let cluster: RunningProcess;
let nodeUrl = '';
let nodePid = 0;
let secret = '';
/** The admin routes are in the mix, so they must not run: the fuzzer does not know this token. */
const ADMIN_TOKEN = 'fuzz-test-admin-token-unknown-to-the-fuzzer';

before(async () => {
  cluster = await startCluster(directory.path, ['--replicas', '2', '--admin-token', ADMIN_TOKEN], 3);
  secret = await clusterSecretOf(directory.path);
  const view = (await http(`${cluster.url}/cluster`)).json() as { members: { id: string; url: string }[] };
  nodeUrl = view.members[0]!.url;
  nodePid = pidOf(`node --id ${view.members[0]!.id} `);
  const agent = new Agent({ connections: 8 });
  await Promise.all(
    Array.from({ length: KEYS }, async (_, i) => {
      const answer = await request(`${cluster.url}/kv/fuzz${i}`, {
        method: 'PUT',
        body: `value-${i}-${'x'.repeat(i % 50)}`,
        dispatcher: agent,
      });
      await answer.body.text();
      assert.equal(answer.statusCode, 204);
    }),
  );
  await agent.close();
});
after(async () => {
  await stopProcess(cluster);
  await directory.remove();
});

/** The pid of the process whose command line contains `fragment`. */
function pidOf(fragment: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(fragment))
        return Number(name);
    } catch {}
  }
  throw new Error(`no process runs ${fragment}`);
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** Every route the servers answer (their own lists, keys and scripts filled in), and paths no route has. */
const ROUTE_PATHS = [...new Set([...distributorRouteLabels(), ...nodeRouteLabels()])].map((route) =>
  route === '/kv' || route === '/internal/kv'
    ? `${route}/other`
    : route === '/dashboard'
      ? '/dashboard/app.js'
      : route,
);
const PATHS = [
  ...ROUTE_PATHS,
  '/kv/',
  '/dashboard/../../etc/passwd',
  '/openapi.json',
  '//',
  '/%2e%2e/',
  '/kv/%',
  '/kv/%zz',
  '/kv/%C3%28',
  '/kv/%00%01',
  '*',
];
const METHODS = [
  'GET',
  'PUT',
  'POST',
  'DELETE',
  'HEAD',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'BREW',
  'G\x01T',
  '',
];
const PIECES = [
  '%',
  '%G',
  '%C3%28',
  '%FF%FE',
  '%ED%A0%80',
  '%00',
  '%0A',
  '%0D%0A',
  '\u00e9',
  '+',
  '&',
  '=',
  '%25',
  'key',
  'other',
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function junk(next: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * 256));
  return text;
}

/** One hostile request as raw bytes (latin1), and whether to stop sending before its end (truncated). */
function hostileRequest(
  next: () => number,
  host: string,
  withSecret: boolean,
): { bytes: Buffer; truncate: boolean } {
  const kind = Math.floor(next() * 10);
  const method = pick(next, METHODS);
  let target = pick(next, PATHS);
  const query = Array.from({ length: Math.floor(next() * 4) }, () =>
    Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(next, PIECES)).join(''),
  );
  if (query.length > 0) target += `?key=${query.join('&')}${next() < 0.5 ? `&value=${query[0]}` : ''}`;
  if (kind === 0) target += `?key=${'k'.repeat(Math.floor(next() * 40_000))}`;
  // With the secret, the requests reach the node's routes; a well-formed shutdown or drop would end the test.
  if (withSecret && (target.startsWith('/shutdown') || target.startsWith('/internal/drop')))
    target = '/internal/stats';
  const headers = [`Host: ${host}`, 'Connection: close'];
  if (withSecret) headers.push(`x-ringkv-cluster-secret: ${secret}`);
  let body = '';
  let truncate = false;
  switch (kind) {
    case 1:
      headers.push(`X-Big: ${'h'.repeat(20_000 + Math.floor(next() * 20_000))}`);
      break;
    case 2:
      for (let i = 0; i < 200 + Math.floor(next() * 3000); i++) headers.push(`X-Flood-${i}: ${i}`);
      break;
    case 3:
      body = junk(next, Math.floor(next() * 4096));
      headers.push(`Content-Length: ${body.length + (next() < 0.5 ? 0 : 1000)}`);
      truncate = true;
      break;
    case 4:
      headers.push(
        `Content-Length: ${pick(next, ['99999999999', '-1', '1e3', 'abc', '0x10', '18446744073709551616'])}`,
      );
      break;
    case 5:
      headers.push('Transfer-Encoding: chunked');
      body = pick(next, ['zz\r\nabc\r\n0\r\n\r\n', `${'f'.repeat(20)}\r\n`, '5\r\nab', '0\r\n\r\n']);
      break;
    case 6:
      return { bytes: Buffer.from(junk(next, 1 + Math.floor(next() * 2000)), 'latin1'), truncate: false };
    case 7:
      headers.push(`Content-Type: ${junk(next, Math.floor(next() * 300))}`.replace(/[\r\n]/g, ''));
      body = JSON.stringify({ keys: [junk(next, 20)], entries: [{ key: junk(next, 10), value: 7 }] });
      headers.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
      break;
    case 8:
      headers.push(`Authorization: Bearer ${junk(next, 40).replace(/[\r\n]/g, '')}`);
      break;
    default:
      break;
  }
  const head = `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
  return { bytes: Buffer.from(head + body, 'latin1'), truncate };
}

/** Sends raw bytes, returns the status code of the answer (0 if the server closed without one). */
function exchange(port: number, bytes: Buffer, truncate: boolean): Promise<number> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    const finish = () => {
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      resolve(match === null ? 0 : Number(match[1]));
    };
    socket.setTimeout(3000, finish);
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.length > 64) finish();
    });
    socket.on('connect', () => {
      if (truncate) socket.end(bytes.subarray(0, Math.max(1, bytes.length - 10)));
      else socket.write(bytes);
    });
  });
}

async function fuzz(url: string, seed: number, withSecret: boolean): Promise<Map<number, number>> {
  const { port, host } = new URL(url);
  const next = seededRandom(seed); // deterministic: a failure replays with the same seed
  const statuses = new Map<number, number>();
  let sent = 0;
  // Slow clients: half a request each, held open during the whole run.
  const slow = Array.from({ length: 40 }, () => connect(Number(port), '127.0.0.1'));
  for (const socket of slow) {
    socket.on('error', () => {});
    socket.write(`GET /get?key=slow HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
  }
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < REQUESTS_PER_TARGET) {
        sent++;
        const { bytes, truncate } = hostileRequest(next, host, withSecret && next() < 0.7);
        const status = await exchange(Number(port), bytes, truncate);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  for (const socket of slow) socket.destroy();
  return statuses;
}

async function intact(): Promise<string[]> {
  const wrong: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const answer = await http(`${cluster.url}/kv/fuzz${i}`);
    if (answer.text !== `value-${i}-${'x'.repeat(i % 50)}`)
      wrong.push(`fuzz${i}: ${answer.status} ${answer.text.slice(0, 80)}`);
  }
  return wrong;
}

for (const [target, seed] of [
  ['distributor', 1],
  ['storage node', 2],
] as const) {
  test(`the ${target} survives ${REQUESTS_PER_TARGET} hostile requests with no 5xx but 503, bounded memory, and data intact`, async (t) => {
    const url = target === 'distributor' ? cluster.url : nodeUrl;
    const pid = target === 'distributor' ? cluster.child.pid! : nodePid;
    const rssBefore = rssBytes(pid);
    const statuses = await fuzz(url, seed, target === 'storage node');
    t.diagnostic(`answers by status: ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}`);
    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    assert.equal(total, REQUESTS_PER_TARGET);
    const serverErrors = [...statuses].filter(([status]) => status >= 500 && status !== 503);
    assert.deepEqual(serverErrors, [], `answers by status: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(404) ?? 0) > 0, JSON.stringify([...statuses]));
    process.kill(pid, 0); // still alive
    assert.ok(
      rssBytes(pid) < rssBefore + 150 * 1024 * 1024,
      `RSS grew from ${rssBefore} to ${rssBytes(pid)}`,
    );
    assert.ok(!cluster.logs.some((entry) => entry.msg === 'storage node process died; restarting'));
    assert.deepEqual(await intact(), []);
    assert.equal((await http(`${cluster.url}/get?key=fuzz1`)).status, 200);
  });
}
