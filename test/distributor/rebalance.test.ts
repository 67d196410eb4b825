// Proves membership changes are invisible to clients: 64 clients (90% GET, 10% PUT, some DELETE) over
// 100,000 keys see only correct answers while a node is added, two removed and one added back, and a
// distributor SIGKILLed in the middle of a move resumes it without losing an acknowledged write, and a key
// the copying old holder lacks still reaches the new node from another.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Model, preload, runClients, verifyAll } from '../../src/bench/model-clients.js';
import { ringOf } from '../../src/distributor/membership.js';
import type { HashRing, PlacementSettings } from '../../src/ring/hash-ring.js';
import { http, httpWithSecret } from '../helpers/http.js';
import { clusterSecretOf, type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-rebalance-');
after(() => directory.remove());

interface ClusterView {
  members: { id: string; url: string }[];
  move: { phase: string; keysMoved: number; keysPerSecondAllowed: number } | null;
}

async function view(base: string): Promise<ClusterView> {
  return (await http(`${base}/cluster`)).json() as ClusterView;
}

test('64 clients see only correct answers while a node is added, two removed and one added back', {
  timeout: 300_000,
}, async () => {
  const keys = 100_000;
  const cluster = await startCluster(`${directory.path}/under-load`);
  try {
    const model = new Model();
    await preload(cluster.url, model, keys);
    const stop = new AbortController();
    const clients = runClients(cluster.url, model, keys, 64, stop.signal);
    // The speed each move allows while it copies: paced by the clients' latency, starting at a fifth.
    const allowed: number[] = [];
    const watching = (async () => {
      while (!stop.signal.aborted) {
        const { move } = await view(cluster.url);
        if (move?.phase === 'copying') allowed.push(move.keysPerSecondAllowed);
        await sleep(20);
      }
    })();
    const changes: string[] = [];
    const change = async (path: string) => {
      await sleep(500);
      const answer = await http(`${cluster.url}${path}`, { method: 'POST' });
      assert.equal(answer.status, 200, `${path}: ${answer.text}`);
      const moved = (answer.json() as { moved: { keysMoved: number } }).moved;
      changes.push(`${path}: ${moved.keysMoved} keys moved`);
    };
    await change('/add_server');
    const [first, second] = (await view(cluster.url)).members;
    await change(`/remove_server?node=${first!.id}`);
    await change(`/remove_server?node=${second!.id}`);
    await change('/add_server');
    await sleep(500);
    stop.abort();
    await clients;
    await watching;
    assert.deepEqual(model.failures.slice(0, 20), [], `${model.failures.length} failed requests`);
    assert.ok(allowed.length > 0, 'saw the moves copying');
    assert.ok(
      allowed.some((speed) => speed < 70_000),
      `the pacer held the moves under the limit at times: ${[...new Set(allowed)].slice(0, 10).join(', ')}`,
    );
    assert.ok(allowed.every((speed) => speed >= 3_500 && speed <= 70_000));
    assert.ok(model.requests > 10_000, `only ${model.requests} requests ran`);
    assert.deepEqual((await verifyAll(cluster.url, model, keys)).slice(0, 20), []);
    assert.equal((await view(cluster.url)).members.length, 5);
    for (const line of changes) assert.match(line, /: [1-9]\d* keys moved/);
  } finally {
    await stopProcess(cluster);
  }
});

test('a distributor killed in the middle of a move resumes it after a restart, and no acknowledged write is lost', {
  timeout: 300_000,
}, async () => {
  const keys = 60_000;
  const dataDir = `${directory.path}/killed`;
  let cluster: RunningProcess = await startCluster(dataDir);
  const model = new Model();
  await preload(cluster.url, model, keys);
  const stop = new AbortController();
  const writers = runClients(cluster.url, model, keys, 16, stop.signal, 0.05);
  void http(`${cluster.url}/add_server`, { method: 'POST' }).catch(() => {});
  let state: ClusterView['move'] = null;
  for (let attempt = 0; attempt < 2000 && !(state?.phase === 'copying' && state.keysMoved > 0); attempt++) {
    state = (await view(cluster.url)).move;
    await sleep(5);
  }
  assert.equal(state?.phase, 'copying', 'caught the move while it copied');
  cluster.child.kill('SIGKILL');
  assert.equal(await cluster.exited, 'SIGKILL');
  stop.abort();
  await writers;
  // Requests cut off by the kill were never acknowledged: their keys accept the old or the new value.
  const cutOff = model.failures.filter(
    (line) => !/other side closed|ECONNREFUSED|ECONNRESET|socket/i.test(line),
  );
  assert.deepEqual(cutOff, [], 'before the kill, every request succeeded');

  await sleep(1500); // the nodes notice their distributor is gone and stop
  cluster = await startCluster(dataDir);
  try {
    let members = 0;
    for (let attempt = 0; attempt < 600; attempt++) {
      const current = await view(cluster.url);
      members = current.members.length;
      if (current.move === null && members === 6) break;
      await sleep(100);
    }
    assert.equal(members, 6, 'the move completed after the restart');
    assert.ok(cluster.logs.some((entry) => entry.msg === 'resuming a move that did not finish'));
    assert.deepEqual((await verifyAll(cluster.url, model, keys)).slice(0, 20), []);
  } finally {
    await stopProcess(cluster);
  }
});

test('a key its source missed reaches the new node from another old holder (the copies are checked)', {
  timeout: 120_000,
}, async () => {
  const dataDir = `${directory.path}/checked`;
  const cluster = await startCluster(dataDir);
  try {
    const nodeHttp = httpWithSecret(await clusterSecretOf(dataDir));
    const keys = Array.from({ length: 600 }, (_, index) => `checked-${index}`);
    for (let start = 0; start < keys.length; start += 50) {
      await Promise.all(
        keys.slice(start, start + 50).map(async (key) => {
          const answer = await http(`${cluster.url}/put?key=${key}&value=v-${key}`, { method: 'PUT' });
          assert.equal(answer.status, 200, answer.text);
        }),
      );
    }
    // Each key loses its copy on one of its three holders, a different one from key to key, as if that
    // replica had missed the write: two copies are left, W of them. A move that copied each range from a
    // single old holder would leave about a third of these keys off the new node.
    const ring = await clusterRing(cluster.url);
    const urlOf = new Map((await view(cluster.url)).members.map((member) => [member.id, member.url]));
    for (const [index, key] of keys.entries()) {
      const holder = ring.preferenceList(key, 3)[index % 3]!;
      const position = ring.position(key);
      const drop = await nodeHttp(`${urlOf.get(holder)}/internal/drop`, {
        method: 'POST',
        body: JSON.stringify({ ranges: [[position, position + 1]] }),
      });
      assert.deepEqual(drop.json(), { dropped: 1 });
    }
    const added = await http(`${cluster.url}/add_server`, { method: 'POST' });
    assert.equal(added.status, 200, added.text);
    const newcomer = (added.json() as { id: string }).id;
    const grown = await clusterRing(cluster.url);
    const newcomerUrl = (await view(cluster.url)).members.find((member) => member.id === newcomer)!.url;
    const placed = keys.filter((key) => grown.preferenceList(key, 3).includes(newcomer));
    assert.ok(placed.length > 100, `only ${placed.length} keys moved to the new node`);
    const missing: string[] = [];
    for (const key of placed) {
      const answer = await nodeHttp(`${newcomerUrl}/internal/kv/${key}`);
      if (answer.status !== 200 || answer.text !== `v-${key}`) missing.push(`${key}: ${answer.status}`);
    }
    assert.deepEqual(missing, [], `${missing.length} of ${placed.length} keys missing on the new node`);
    assert.ok(
      cluster.logs.some(
        (entry) => entry.msg === 'move: copies differ from other old holders; they send theirs too',
      ),
      'the check found the copies that differed',
    );
  } finally {
    await stopProcess(cluster);
  }
});

async function clusterRing(base: string): Promise<HashRing> {
  const { members, placement } = (await http(`${base}/cluster`)).json() as {
    placement: PlacementSettings;
    members: { id: string; weight: number }[];
  };
  return ringOf(members, placement);
}
