// Proves GET /metrics on the distributor and on a node counts exactly the requests sent (by route and status,
// with latency histograms), reports forwarded operations per node, node state, keys and event-loop lag, keeps
// unknown paths in one series, and that GET /stats shows the traffic second by second.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../helpers/http.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-metrics-');
let cluster: RunningProcess;
let nodeUrls: string[] = [];

before(async () => {
  cluster = await startCluster(directory.path, ['--replicas', '1', '--engine', 'memory'], 3);
  nodeUrls = ((await http(`${cluster.url}/cluster`)).json() as { members: { url: string }[] }).members.map(
    (member) => member.url,
  );
});
after(async () => {
  await stopProcess(cluster);
  await directory.remove();
});

/** The samples of metric `name` in Prometheus text, as [labels, value] pairs. */
function samples(text: string, name: string): [Record<string, string>, number][] {
  const found: [Record<string, string>, number][] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]),
    );
    found.push([labels, Number(match[3])]);
  }
  return found;
}

function total(text: string, name: string, where: Record<string, string> = {}): number {
  return samples(text, name)
    .filter(([labels]) => Object.entries(where).every(([key, value]) => labels[key] === value))
    .reduce((sum, [, value]) => sum + value, 0);
}

test('the distributor counts every request by route and status, and every forwarded operation per node', async () => {
  for (let i = 0; i < 30; i++)
    assert.equal((await http(`${cluster.url}/put?key=key${i}&value=v${i}`, { method: 'PUT' })).status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await http(`${cluster.url}/get?key=key${i}`)).status, 200);
  for (let i = 0; i < 10; i++) assert.equal((await http(`${cluster.url}/get?key=missing${i}`)).status, 404);
  for (let i = 0; i < 5; i++)
    assert.equal((await http(`${cluster.url}/del?key=key${i}`, { method: 'DELETE' })).status, 200);
  for (const path of ['/no-such-route', '/another/one', '/x%20y'])
    assert.equal((await http(`${cluster.url}${path}`)).status, 404);

  const text = (await http(`${cluster.url}/metrics`)).text;
  assert.equal(total(text, 'ringkv_http_requests_total', { route: '/put', status: '200' }), 30);
  assert.equal(total(text, 'ringkv_http_requests_total', { route: '/get', status: '200' }), 20);
  assert.equal(total(text, 'ringkv_http_requests_total', { route: '/get', status: '404' }), 10);
  assert.equal(total(text, 'ringkv_http_requests_total', { route: '/del', status: '200' }), 5);
  assert.equal(total(text, 'ringkv_http_requests_total', { route: 'unmatched', status: '404' }), 3);
  assert.equal(
    samples(text, 'ringkv_http_requests_total').filter(([l]) => l.route === 'unmatched').length,
    1,
  );
  assert.equal(total(text, 'ringkv_http_request_duration_seconds_count', { route: '/put' }), 30);
  assert.ok(total(text, 'ringkv_http_request_duration_seconds_sum', { route: '/put' }) > 0);
  const writes = samples(text, 'ringkv_forwarded_operations_total').filter(([l]) => l.kind === 'write');
  assert.equal(new Set(writes.map(([labels]) => labels.node)).size, 3, 'writes reached all three nodes');
  assert.equal(total(text, 'ringkv_forwarded_operations_total', { kind: 'write', outcome: 'ok' }), 35);
  assert.equal(total(text, 'ringkv_forwarded_operations_total', { kind: 'read', outcome: 'ok' }), 30);
  assert.equal(total(text, 'ringkv_forwarded_operation_duration_seconds_count'), 65);
  assert.deepEqual(
    samples(text, 'ringkv_node_up').map(([, value]) => value),
    [1, 1, 1],
  );
  assert.equal(total(text, 'ringkv_members'), 3);
  assert.equal(total(text, 'ringkv_move_in_progress'), 0);
  assert.equal(total(text, 'ringkv_hints_pending'), 0);
  assert.ok(samples(text, 'nodejs_eventloop_lag_seconds').length === 1);
});

test('keys per node reach the distributor with the health checks, and each node reports its own', async () => {
  let text = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    text = (await http(`${cluster.url}/metrics`)).text;
    if (total(text, 'ringkv_node_keys') === 25) break;
    await sleep(200);
  }
  assert.equal(total(text, 'ringkv_node_keys'), 25);
  assert.ok(total(text, 'ringkv_node_bytes') > 0);
  let keys = 0;
  for (const url of nodeUrls) {
    const node = (await http(`${url}/metrics`)).text;
    keys += total(node, 'ringkv_keys');
    assert.equal(total(node, 'ringkv_tombstones') >= 0, true);
    assert.ok(total(node, 'ringkv_http_requests_total', { route: '/internal/multi', status: '200' }) > 0);
    assert.ok(total(node, 'ringkv_http_requests_total', { route: '/internal/stats', status: '200' }) > 0);
    assert.equal(samples(node, 'nodejs_eventloop_lag_seconds').length, 1);
  }
  assert.equal(keys, 25);
  assert.equal((await http(`${nodeUrls[0]}/metrics`, { method: 'POST' })).status, 405);
});

test('GET /stats shows requests per second and each node’s operations for the last seconds', async () => {
  const sent = Date.now();
  for (let i = 0; i < 50; i++) await http(`${cluster.url}/get?key=key${i % 30}`);
  await sleep(2200);
  const stats = (await http(`${cluster.url}/stats`)).json() as {
    series: { atMs: number; requests: number; p99Ms: number }[];
    nodes: Record<string, { operations: number }>;
  };
  const busy = stats.series.filter((second) => second.atMs >= sent - 1000 && second.requests > 0);
  assert.ok(busy.length > 0, JSON.stringify(stats.series.slice(-4)));
  assert.ok(busy.every((second) => second.p99Ms > 0));
  assert.ok(stats.series.length <= 120);
});
