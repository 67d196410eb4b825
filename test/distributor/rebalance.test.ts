// Proves membership changes are invisible to clients: 64 clients (90% GET, 10% PUT, some DELETE) over
// 100,000 keys see only correct answers while a node is added, two removed and one added back, and a
// distributor SIGKILLed in the middle of a move resumes it without losing an acknowledged write.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { http } from '../helpers/http.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-rebalance-');
after(() => directory.remove());

interface ClusterView {
  members: { id: string; url: string }[];
  move: { phase: string; keysMoved: number } | null;
}

/**
 * The expected state of every key, kept by the clients that own it (client c owns keys i with i % clients
 * == c, so each key's operations are sequential and its last acknowledged value is known exactly). A write
 * whose answer never came may or may not have happened: its key then accepts either value.
 */
class Model {
  readonly values = new Map<number, string | null>();
  readonly uncertain = new Map<number, (string | null)[]>();
  readonly failures: string[] = [];
  requests = 0;

  accepts(key: number, body: { status: number; text: string }): boolean {
    const options = this.uncertain.get(key) ?? [this.values.get(key) ?? null];
    return options.some((value) =>
      value === null
        ? body.status === 404 && body.text === '{"error":"Key not found"}'
        : body.status === 200 && body.text === JSON.stringify({ value }),
    );
  }
}

async function send(
  agent: Agent,
  url: string,
  method: 'GET' | 'PUT' | 'DELETE',
): Promise<{ status: number; text: string }> {
  const answer = await request(url, { method, dispatcher: agent });
  return { status: answer.statusCode, text: await answer.body.text() };
}

async function preload(base: string, model: Model, keys: number): Promise<void> {
  const agent = new Agent({ connections: 64 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys) {
        const key = next++;
        const answer = await send(agent, `${base}/put?key=key${key}&value=initial-${key}`, 'PUT');
        assert.equal(answer.status, 200);
        model.values.set(key, `initial-${key}`);
      }
    }),
  );
  await agent.close();
}

/** Runs `clients` clients until `stop` aborts; every unexpected answer is recorded in model.failures. */
function runClients(
  base: string,
  model: Model,
  keys: number,
  clients: number,
  stop: AbortSignal,
  deleteShare = 0.02,
): Promise<void> {
  const agent = new Agent({ connections: clients });
  const client = async (index: number) => {
    const owned = Math.floor(keys / clients);
    for (let sequence = 0; !stop.aborted; sequence++) {
      const key = index + clients * Math.floor(Math.random() * owned);
      const draw = Math.random();
      model.requests++;
      try {
        if (draw < 0.9 - deleteShare) {
          const answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
          if (!model.accepts(key, answer))
            model.failures.push(`GET key${key}: ${answer.status} ${answer.text}`);
        } else if (draw < 0.9) {
          const before = model.uncertain.get(key) ?? [model.values.get(key) ?? null];
          model.uncertain.set(key, [...before, null]);
          const answer = await send(agent, `${base}/del?key=key${key}`, 'DELETE');
          model.uncertain.delete(key);
          const wasLive = before.length === 1 && before[0] !== null;
          const expected = wasLive ? '{"message":"Key deleted successfully"}' : '{"error":"Key not found"}';
          if (before.length === 1 && answer.text !== expected)
            model.failures.push(`DEL key${key}: ${answer.status} ${answer.text}`);
          model.values.set(key, null);
        } else {
          const value = `c${index}-${sequence}`;
          model.uncertain.set(key, [...(model.uncertain.get(key) ?? [model.values.get(key) ?? null]), value]);
          const answer = await send(agent, `${base}/put?key=key${key}&value=${value}`, 'PUT');
          if (answer.status !== 200) model.failures.push(`PUT key${key}: ${answer.status} ${answer.text}`);
          else {
            model.uncertain.delete(key);
            model.values.set(key, value);
          }
        }
      } catch (error) {
        model.failures.push(`key${key}: ${(error as Error).message}`);
        if (stop.aborted) return;
      }
    }
  };
  return Promise.all(Array.from({ length: clients }, (_, index) => client(index))).then(() => agent.close());
}

/** Reads every key once and returns the ones whose answer the model does not accept. */
async function verifyAll(base: string, model: Model, keys: number): Promise<string[]> {
  const agent = new Agent({ connections: 64 });
  const wrong: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys) {
        const key = next++;
        const answer = await send(agent, `${base}/get?key=key${key}`, 'GET');
        if (!model.accepts(key, answer))
          wrong.push(`key${key}: ${answer.status} ${answer.text}, expected ${model.values.get(key)}`);
      }
    }),
  );
  await agent.close();
  return wrong;
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
    assert.deepEqual(model.failures.slice(0, 20), [], `${model.failures.length} failed requests`);
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
