// Proves `ringkv bench` against real servers: its CSVs and self-contained report, and that its verifying
// modes pass on a correct cluster and fail, naming keys, on a server that loses and resurrects values.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-bench-');
after(() => directory.remove());

describe('ringkv bench against a 3-node cluster', () => {
  let cluster: RunningProcess;
  before(async () => {
    cluster = await startCluster(`${directory.path}/cluster`, [], 3);
  });
  after(() => stopProcess(cluster));

  test('a mixed run writes the per-request and per-second CSVs and a self-contained HTML report', async () => {
    const out = `${directory.path}/mixed`;
    const result = await runCli([
      'bench',
      '--url',
      cluster.url,
      '--clients',
      '8',
      '--requests',
      '200',
      '--keys',
      '500',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as {
      results: { requests: number; errors: number; nodes: { id: string; keys: number }[] }[];
    };
    const [run] = summary.results;
    assert.equal(run!.requests, 1600);
    assert.equal(run!.errors, 0);
    assert.equal(run!.nodes.length, 3);
    const latencies = (await readFile(`${out}/latencies.csv`, 'utf8')).trim().split('\n');
    assert.equal(latencies[0], 'time_ms,operation,key,status,latency_ms');
    assert.equal(latencies.length, 1601);
    assert.match(latencies[1]!, /^\d+\.\d{3},(get|put),key\d+,200,\d+\.\d{3}$/);
    const throughput = (await readFile(`${out}/throughput.csv`, 'utf8')).trim().split('\n');
    assert.equal(throughput[0], 'second,requests,errors,p50_ms,p90_ms,p99_ms,p99_9_ms,max_ms,duration_ms');
    const rows = throughput.slice(1).map((line) => line.split(',').map(Number));
    assert.equal(
      rows.reduce((sum, row) => sum + row[1]!, 0),
      1600,
      'every request is in exactly one second',
    );
    assert.ok(
      rows.slice(0, -1).every((row) => Math.abs(row[8]! - 1000) < 100),
      'whole seconds last about 1 s',
    );
    const html = await readFile(`${out}/report.html`, 'utf8');
    for (const chart of [
      'Throughput over time',
      'Latency percentiles over time',
      'Latency distribution',
      'Keys per node',
    ]) {
      assert.ok(html.includes(`<figcaption>${chart}</figcaption>`), chart);
    }
    assert.doesNotMatch(
      html,
      /<script|<link|\b(src|href)="?https?:/i,
      'no scripts and nothing loaded from elsewhere',
    );
    assert.match(
      result.stderr,
      /^t=\d+s \d+ requests, \d+ req\/s/m,
      'plain progress lines when not on a terminal',
    );
  });

  test('--all-methods passes on a correct cluster', async () => {
    const result = await runCli([
      'bench',
      '--url',
      cluster.url,
      '--all-methods',
      '--keys',
      '300',
      '--clients',
      '8',
      '--out',
      `${directory.path}/all`,
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /verified \(PUT, GET, DELETE, GET of every key\): all 1200 checks passed/);
  });

  test('--test-distribution reports keys per node against the ideal', async () => {
    const result = await runCli([
      'bench',
      '--url',
      cluster.url,
      '--test-distribution',
      '--keys',
      '3000',
      '--requests',
      '10',
      '--out',
      `${directory.path}/dist`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const rows = [...result.stdout.matchAll(/^\s+(127\.0\.0\.1-\d+)\s+(\d+)\s+ideal (\d+)/gm)];
    assert.equal(rows.length, 3);
    for (const [, , keys, ideal] of rows)
      assert.ok(Math.abs(Number(keys) / Number(ideal) - 1) < 0.15, `${keys} vs ${ideal}`);
  });

  test('--test-add-remove adds and removes a server under load and finds every key intact', {
    timeout: 120_000,
  }, async () => {
    const result = await runCli([
      'bench',
      '--url',
      cluster.url,
      '--test-add-remove',
      '--keys',
      '2000',
      '--clients',
      '8',
      '--duration',
      '6',
      '--out',
      `${directory.path}/add-remove`,
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /POST \/add_server: 200/);
    assert.match(result.stderr, /POST \/remove_server\?node=.+: 200/);
    assert.match(
      result.stdout,
      /verified \(no key lost, wrong or resurrected while a server was added and removed\): all \d+ checks passed/,
    );
  });
});

test('--all-methods exits 1 and names the keys a server loses or resurrects', async () => {
  const store = new Map<string, string>();
  let puts = 0;
  let deletes = 0;
  const broken = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const key = url.searchParams.get('key') ?? '';
    const reply = (status: number, body: string) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (url.pathname === '/put') {
      if (++puts % 7 !== 0) store.set(key, url.searchParams.get('value') ?? ''); // every 7th write is acknowledged, then lost
      return reply(200, '{"message":"Value stored successfully"}');
    }
    if (url.pathname === '/get') {
      const value = store.get(key);
      return value === undefined
        ? reply(404, '{"error":"Key not found"}')
        : reply(200, JSON.stringify({ value }));
    }
    if (url.pathname === '/del') {
      if (!store.has(key)) return reply(404, '{"error":"Key not found"}');
      if (++deletes % 5 !== 0) store.delete(key); // every 5th delete is acknowledged, yet the value stays
      return reply(200, '{"message":"Key deleted successfully"}');
    }
    reply(404, '{"error":"Not found"}');
  });
  broken.listen(0, '127.0.0.1');
  await once(broken, 'listening');
  try {
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const result = await runCli([
      'bench',
      '--url',
      url,
      '--all-methods',
      '--keys',
      '70',
      '--clients',
      '1',
      '--out',
      `${directory.path}/broken`,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /VERIFICATION FAILED/);
    assert.match(result.stdout, /GET key6: answered 404/, 'the key whose write was lost is named');
    assert.match(
      result.stdout,
      /GET key\d+: answered 200 \{"value"/,
      'a key that came back after its delete is named',
    );
  } finally {
    broken.close();
  }
});
