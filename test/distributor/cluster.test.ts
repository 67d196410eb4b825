// Proves with real processes (`ringkv start`): the original API through the distributor, add_server and
// remove_server keeping every key, a restart on the same data keeping every key, admin errors, and a
// SIGKILLed node detected (503), restarted and serving again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { http } from '../helpers/http.js';
import { clusterSecretOf, type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

interface ClusterView {
  ringVersion: number;
  members: {
    id: string;
    url: string;
    status: string;
    keys: number | null;
    share: number;
    transport: string;
  }[];
  move: unknown;
}

const directory = await temporaryDirectory('ringkv-cluster-');
after(() => directory.remove());

async function view(url: string): Promise<ClusterView> {
  return (await http(`${url}/cluster`)).json() as ClusterView;
}

/** Writes key0 ... key<count-1> through the distributor, 16 at a time. */
async function writeKeys(url: string, count: number, prefix = 'value'): Promise<void> {
  const agent = new Agent({ connections: 16 });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const answer = await request(`${url}/put?key=key${i}&value=${prefix}${i}`, {
        method: 'PUT',
        dispatcher: agent,
      });
      assert.equal(await answer.body.text(), '{"message":"Value stored successfully"}');
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await agent.close();
}

/**
 * For a key that read wrong: where the ring says it lives, and what every member holds for it (an
 * unexplained loss was seen once in a full-suite run; if it comes back this says where the key went).
 */
async function whereIs(url: string, key: string): Promise<string> {
  const ring = (await http(`${url}/ring?key=${key}`)).text;
  const held = await Promise.all(
    (await view(url)).members.map(async (member) => {
      const answer = await http(`${member.url}/internal/kv/${key}`, {
        headers: { 'x-ringkv-cluster-secret': await clusterSecretOf(`${directory.path}/five`) },
      });
      return `${member.id}: ${answer.status} ${answer.headers['x-ringkv-version'] ?? ''}`;
    }),
  );
  return `${key}: ring ${ring}; nodes ${held.join(', ')}`;
}

/** Reads every key back; returns the keys whose value is not the expected one. */
async function wrongKeys(url: string, count: number, prefix = 'value'): Promise<string[]> {
  const agent = new Agent({ connections: 16 });
  const wrong: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const answer = await request(`${url}/get?key=key${i}`, { dispatcher: agent });
      const body = await answer.body.text();
      if (body !== `{"value":"${prefix}${i}"}`) wrong.push(`key${i}: ${answer.statusCode} ${body}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await agent.close();
  return wrong;
}

describe('a 5-node cluster started with ringkv start, one replica per key', () => {
  let cluster: RunningProcess;
  const dataDir = `${directory.path}/five`;
  before(async () => {
    cluster = await startCluster(dataDir, ['--replicas', '1']);
  });
  after(async () => {
    if (cluster.child.exitCode === null) await stopProcess(cluster);
  });

  test('the original API answers through the distributor byte for byte', async () => {
    const put = await http(`${cluster.url}/put?key=myKey&value=myValue`, { method: 'PUT' });
    assert.equal(put.status, 200);
    assert.equal(put.text, '{"message":"Value stored successfully"}');
    assert.equal((await http(`${cluster.url}/get?key=myKey`)).text, '{"value":"myValue"}');
    const missing = await http(`${cluster.url}/get?key=nothing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '{"error":"Key not found"}');
    const del = await http(`${cluster.url}/del?key=myKey`, { method: 'DELETE' });
    assert.equal(del.text, '{"message":"Key deleted successfully"}');
    const again = await http(`${cluster.url}/del?key=myKey`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(again.text, '{"error":"Key not found"}');
  });

  test('REST routes are binary-safe through the distributor', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10]);
    assert.equal(
      (
        await http(`${cluster.url}/kv/b%2Fin`, {
          method: 'PUT',
          body: bytes,
          headers: { 'content-type': 'image/x-t' },
        })
      ).status,
      204,
    );
    const get = await http(`${cluster.url}/kv/b%2Fin`);
    assert.deepEqual(get.body, bytes);
    assert.equal(get.headers['content-type'], 'image/x-t');
    assert.equal((await http(`${cluster.url}/kv/b%2Fin`, { method: 'HEAD' })).headers['content-length'], '5');
    assert.equal((await http(`${cluster.url}/kv/b%2Fin`, { method: 'DELETE' })).status, 204);
    assert.equal((await http(`${cluster.url}/kv/b%2Fin`)).status, 404);
  });

  test('GET /cluster lists five members that are up, each with a share of the ring; /ring names the owner', async () => {
    const current = await view(cluster.url);
    assert.equal(current.members.length, 5);
    assert.ok(current.members.every((member) => member.status === 'up'));
    // The distributor reaches the nodes it runs over their Unix sockets (every request above went that way).
    assert.deepEqual(new Set(current.members.map((member) => member.transport)), new Set(['unix']));
    const shares = current.members.reduce((sum, member) => sum + member.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9);
    const ring = (await http(`${cluster.url}/ring?key=myKey`)).json() as {
      nodes: { id: string }[];
      position: number;
    };
    assert.equal(ring.nodes.length, 1);
    assert.ok(current.members.some((member) => member.id === ring.nodes[0]!.id));
  });

  test('add_server then remove_server of two nodes keeps every key with its last value', async () => {
    await writeKeys(cluster.url, 3000);
    const added = await http(`${cluster.url}/add_server`, { method: 'POST' });
    assert.equal(added.status, 200, added.text);
    const member = added.json() as { id: string; port: number };
    let current = await view(cluster.url);
    assert.equal(current.members.length, 6);
    assert.equal(current.ringVersion, 2);
    const wrongAfterAdd = await wrongKeys(cluster.url, 3000);
    const firstWrong = wrongAfterAdd[0]?.split(':')[0];
    assert.deepEqual(
      wrongAfterAdd,
      [],
      firstWrong === undefined ? '' : await whereIs(cluster.url, firstWrong),
    );
    // The new node holds the keys the ring now gives it: its share is served by it, not stale elsewhere.
    await sleep(600);
    current = await view(cluster.url);
    const newcomer = current.members.find((m) => m.id === member.id)!;
    assert.ok(newcomer.keys !== null && newcomer.keys > 300, `new node holds ${newcomer.keys} keys`);
    assert.equal(
      current.members.reduce((sum, m) => sum + (m.keys ?? 0), 0),
      3000,
      'every key is on exactly one node: old owners dropped what they gave up',
    );
    const [first, second] = current.members;
    for (const leaving of [first!, second!]) {
      const removed = await http(`${cluster.url}/remove_server?port=${new URL(leaving.url).port}`, {
        method: 'POST',
      });
      assert.equal(removed.status, 200, removed.text);
    }
    current = await view(cluster.url);
    assert.equal(current.members.length, 4);
    assert.equal(current.ringVersion, 4);
    assert.deepEqual(await wrongKeys(cluster.url, 3000), []);
  });

  test('membership errors: unknown port 404, bad url 400, a second change while one runs 409', async () => {
    const unknown = await http(`${cluster.url}/remove_server?port=1`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json() as { code: string }).code, 'RINGKV_ERR_UNKNOWN_NODE');
    const notANode = await http(`${cluster.url}/add_server?url=${encodeURIComponent(cluster.url)}`, {
      method: 'POST',
    });
    assert.equal(notANode.status, 400);
    assert.equal((notANode.json() as { code: string }).code, 'RINGKV_ERR_NOT_A_NODE');
    const noSelector = await http(`${cluster.url}/remove_server`, { method: 'POST' });
    assert.equal(noSelector.status, 400);
    const [running, second] = await Promise.all([
      http(`${cluster.url}/add_server`, { method: 'POST' }),
      sleep(50).then(() => http(`${cluster.url}/add_server`, { method: 'POST' })),
    ]);
    assert.equal(running.status, 200, running.text);
    assert.equal(second.status, 409);
    assert.equal((second.json() as { code: string }).code, 'RINGKV_ERR_MEMBERSHIP_CHANGE_RUNNING');
    assert.match((second.json() as { running: string }).running, /add a local node/);
    assert.equal((await http(`${cluster.url}/add_server`, { method: 'GET' })).status, 405);
  });

  test('a SIGKILLed node is marked down within 2 s (its keys answer 503), restarted, and serves again', async () => {
    const current = await view(cluster.url);
    const victim = current.members[0]!;
    const ring = async (key: string) =>
      ((await http(`${cluster.url}/ring?key=${key}`)).json() as { nodes: { id: string }[] }).nodes[0]!.id;
    let victimKey = '';
    for (let i = 0; victimKey === ''; i++) if ((await ring(`key${i}`)) === victim.id) victimKey = `key${i}`;
    const pid = Number(
      (await import('node:child_process'))
        .execFileSync('pgrep', ['-f', `node --id ${victim.id} `])
        .toString()
        .trim()
        .split('\n')[0],
    );
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    let unavailable: { status: number; code?: string } | undefined;
    while (Date.now() - killedAt < 2000) {
      const answer = await http(`${cluster.url}/get?key=${victimKey}`);
      if (answer.status === 503) {
        unavailable = { status: 503, code: (answer.json() as { code: string }).code };
        break;
      }
      await sleep(50);
    }
    assert.deepEqual(unavailable, { status: 503, code: 'RINGKV_ERR_NODE_UNAVAILABLE' });
    let markedDown = false;
    while (!markedDown && Date.now() - killedAt < 2000) {
      markedDown = (await view(cluster.url)).members.find((m) => m.id === victim.id)!.status === 'down';
      if (!markedDown) await sleep(50);
    }
    assert.ok(markedDown, 'GET /cluster showed the node down within 2 s of the kill');
    let back = false;
    for (let attempt = 0; attempt < 100 && !back; attempt++) {
      await sleep(100);
      back = (await http(`${cluster.url}/get?key=${victimKey}`)).status === 200;
    }
    assert.ok(back, 'the node was restarted and serves its keys again');
    assert.ok(cluster.logs.some((entry) => entry.msg === 'storage node process died; restarting'));
  });

  test('shutdown?port= stops a node (503 for its keys), start_server brings it back with its data', async () => {
    const current = await view(cluster.url);
    const target = current.members.at(-1)!;
    const port = new URL(target.url).port;
    const stopped = await http(`${cluster.url}/shutdown?port=${port}`, { method: 'POST' });
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal((await view(cluster.url)).members.find((m) => m.id === target.id)!.status, 'down');
    const wrong = await wrongKeys(cluster.url, 3000);
    assert.ok(
      wrong.length > 0 &&
        wrong.every((line) => line.includes(' 503 ') && line.includes('RINGKV_ERR_NODE_UNAVAILABLE')),
    );
    const started = await http(`${cluster.url}/start_server?port=${port}`, { method: 'POST' });
    assert.equal(started.status, 200, started.text);
    assert.deepEqual(await wrongKeys(cluster.url, 3000), []);
  });

  test('a restart on the same data directory brings back the same members with every key', async () => {
    const members = (await view(cluster.url)).members.map((m) => m.id).sort();
    assert.equal(await stopProcess(cluster), 0);
    cluster = await startCluster(dataDir);
    const restored = await view(cluster.url);
    assert.deepEqual(restored.members.map((m) => m.id).sort(), members);
    assert.deepEqual(await wrongKeys(cluster.url, 3000), []);
  });
});

test('the last node cannot be removed (409)', async () => {
  const cluster = await startCluster(`${directory.path}/single`, [], 1);
  try {
    const port = new URL((await view(cluster.url)).members[0]!.url).port;
    const answer = await http(`${cluster.url}/remove_server?port=${port}`, { method: 'POST' });
    assert.equal(answer.status, 409);
    assert.equal((answer.json() as { code: string }).code, 'RINGKV_ERR_LAST_NODE');
  } finally {
    await stopProcess(cluster);
  }
});
