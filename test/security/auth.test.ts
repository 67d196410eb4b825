// Proves the admin token and the cluster secret with real processes: admin routes answer 401 without the token
// (and work with it) while the data routes stay open; bound beyond loopback a distributor makes a token and
// prints it once; a cluster's nodes answer nothing but health and metrics without the cluster secret, keep it
// off their command lines and in owner-only files, and refuse to join a second cluster.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { after, test } from 'node:test';
import { http } from '../helpers/http.js';
import {
  clusterSecretOf,
  freePortRange,
  type RunningProcess,
  startCli,
  startCluster,
  startNodeProcess,
  stopProcess,
} from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-auth-');
after(() => directory.remove());

const TOKEN = 'admin-token-for-the-auth-test';

/** The admin token a distributor printed (lines that are not JSON land in `logs` as `raw`). */
async function printedToken(running: RunningProcess): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lines = running.logs.map((entry) => String(entry.raw ?? ''));
    const announced = lines.findIndex((line) => line.includes('shown once'));
    const token = lines.slice(announced + 1).find((line) => /^ {2}\S{40,}$/.test(line));
    if (announced !== -1 && token !== undefined) return token.trim();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no token printed: ${JSON.stringify(running.logs.slice(-5))}`);
}

function commandLines(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        return [readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')];
      } catch {
        return [];
      }
    });
}

test('with an admin token, admin routes need it (401 without or wrong); data and views stay open', async () => {
  const cluster = await startCluster(
    `${directory.path}/token`,
    ['--engine', 'memory', '--admin-token', TOKEN],
    3,
  );
  try {
    const port = new URL(
      ((await http(`${cluster.url}/cluster`)).json() as { members: { url: string }[] }).members[0]!.url,
    ).port;
    for (const path of [
      '/add_server',
      `/remove_server?port=${port}`,
      `/shutdown?port=${port}`,
      `/start_server?port=${port}`,
      '/repair',
    ]) {
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-of-some-length' },
        { authorization: TOKEN },
      ]) {
        const answer = await http(`${cluster.url}${path}`, { method: 'POST', headers });
        assert.equal(answer.status, 401, `${path} ${JSON.stringify(headers)}: ${answer.text}`);
        assert.equal((answer.json() as { code: string }).code, 'RINGKV_ERR_UNAUTHORIZED');
      }
    }
    assert.equal((await http(`${cluster.url}/cluster`)).json() instanceof Object, true);
    assert.equal((await http(`${cluster.url}/put?key=a&value=b`, { method: 'PUT' })).status, 200);
    assert.equal((await http(`${cluster.url}/get?key=a`)).text, '{"value":"b"}');
    assert.equal((await http(`${cluster.url}/metrics`)).status, 200);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const repaired = await http(`${cluster.url}/repair`, { method: 'POST', headers: bearer });
    assert.equal(repaired.status, 200, repaired.text);
    const stopped = await http(`${cluster.url}/shutdown?port=${port}`, { method: 'POST', headers: bearer });
    assert.equal(stopped.status, 200, stopped.text);
    const started = await http(`${cluster.url}/start_server?port=${port}`, {
      method: 'POST',
      headers: bearer,
    });
    assert.equal(started.status, 200, started.text);
  } finally {
    await stopProcess(cluster);
  }
});

test("a cluster's nodes answer only health and metrics without its secret; the secret stays off command lines", async () => {
  const dataDir = `${directory.path}/secret`;
  const cluster = await startCluster(dataDir, ['--engine', 'memory'], 3);
  try {
    const secret = await clusterSecretOf(dataDir);
    assert.equal(statSync(`${dataDir}/distributor/credentials.json`).mode & 0o777, 0o600);
    assert.ok(!commandLines().some((line) => line.includes(secret)), 'no process shows the secret');
    assert.equal((await http(`${cluster.url}/put?key=k&value=v`, { method: 'PUT' })).status, 200);
    const node = ((await http(`${cluster.url}/cluster`)).json() as { members: { id: string; url: string }[] })
      .members[0]!;
    for (const [method, path] of [
      ['GET', '/get?key=k'],
      ['PUT', '/put?key=k&value=around'],
      ['DELETE', '/del?key=k'],
      ['GET', '/kv/k'],
      ['POST', '/shutdown'],
      ['GET', '/internal/stats'],
      ['GET', '/internal/scan'],
      ['POST', '/internal/multi'],
      ['POST', '/internal/drop'],
    ] as const) {
      const answer = await http(`${node.url}${path}`, {
        method,
        headers: { 'x-ringkv-cluster-secret': 'not-the-secret-but-long-enough' },
      });
      assert.equal(answer.status, 401, `${method} ${path}: ${answer.text}`);
      assert.equal((answer.json() as { code: string }).code, 'RINGKV_ERR_UNAUTHORIZED');
    }
    const health = (await http(`${node.url}/internal/health`)).json() as { cluster: string };
    assert.match(health.cluster, /^cluster-[0-9a-f]{16}$/);
    assert.equal((await http(`${node.url}/metrics`)).status, 200);
    const withSecret = await http(`${node.url}/internal/stats`, {
      headers: { 'x-ringkv-cluster-secret': secret },
    });
    assert.equal(withSecret.status, 200);
    const clusterFile = `${dataDir}/${node.id}.cluster.json`;
    assert.equal(statSync(clusterFile).mode & 0o777, 0o600);
    assert.equal((await http(`${cluster.url}/get?key=k`)).text, '{"value":"v"}', 'no write went around');
  } finally {
    await stopProcess(cluster);
  }
});

test('a node joined by one cluster refuses a second: add_server answers 409, and a restart with another secret fails', async () => {
  const node = await startNodeProcess(`${directory.path}/lonely`, ['--engine', 'memory']);
  const base = await freePortRange(4);
  const first = await startCli(
    ['distributor', '--port', String(base), '--data-dir', `${directory.path}/first`, '--node', node.url],
    'distributor listening',
  );
  const second = await startCluster(`${directory.path}/second`, ['--engine', 'memory'], 1);
  try {
    assert.equal((await http(`${first.url}/put?key=mine&value=1`, { method: 'PUT' })).status, 200);
    const health = (await http(`${node.url}/internal/health`)).json() as { cluster: string | null };
    assert.notEqual(health.cluster, null);
    const answer = await http(`${second.url}/add_server?url=${encodeURIComponent(node.url)}`, {
      method: 'POST',
    });
    assert.equal(answer.status, 409, answer.text);
    assert.equal((answer.json() as { code: string }).code, 'RINGKV_ERR_NODE_IN_OTHER_CLUSTER');
    assert.equal((await http(`${first.url}/get?key=mine`)).text, '{"value":"1"}');
  } finally {
    await stopProcess(second);
    await stopProcess(first);
    await stopProcess(node);
  }
  const restarted = await startNodeProcess(`${directory.path}/lonely`, [
    '--engine',
    'memory',
    '--cluster-secret',
    'a-different-cluster-secret',
  ]).then(
    (running) => stopProcess(running).then(() => 'started'),
    (error: Error) => error.message,
  );
  assert.match(restarted, /RINGKV_ERR_NODE_IN_OTHER_CLUSTER|belongs to cluster-/);
});

test('bound beyond loopback, a distributor makes an admin token, prints it once, and requires it', async () => {
  const node = await startNodeProcess(`${directory.path}/wide-node`, ['--engine', 'memory']);
  const base = await freePortRange(2);
  const args = [
    'distributor',
    '--host',
    '0.0.0.0',
    '--port',
    String(base),
    '--data-dir',
    `${directory.path}/wide`,
    '--node',
    node.url,
  ];
  try {
    const first = await startCli(args, 'distributor listening');
    const token = await printedToken(first);
    const url = `http://127.0.0.1:${base}`;
    assert.equal((await http(`${url}/repair`, { method: 'POST' })).status, 401);
    const repaired = await http(`${url}/repair`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(repaired.status, 200, repaired.text);
    await stopProcess(first);
    const again = await startCli(args, 'distributor listening');
    const kept = await http(`${url}/repair`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(kept.status, 200, 'the same token works after a restart');
    await stopProcess(again);
    assert.ok(!again.logs.some((entry) => JSON.stringify(entry).includes(token)), 'printed once only');
  } finally {
    await stopProcess(node);
  }
});
