// Proves the batch routes on a real 3-node cluster: POST /mput stores every entry (text and bytes), POST /mget
// reads them back in order with null for absent keys, a down node's keys are reported per entry while the
// rest succeed, and malformed or oversized batches are refused whole, before anything is written.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http } from '../helpers/http.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-batch-');
let cluster: RunningProcess;

before(async () => {
  cluster = await startCluster(directory.path, ['--replicas', '1', '--engine', 'memory'], 3);
});
after(async () => {
  await stopProcess(cluster);
  await directory.remove();
});

const post = (path: string, body: unknown) =>
  http(`${cluster.url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

test('mput stores every entry and mget reads them back in order, null for absent keys', async () => {
  const entries = Array.from({ length: 300 }, (_, i) => ({ key: `batch${i}`, value: `value${i}` }));
  entries.push({ key: 'bytes', value: { base64: Buffer.from([0, 255, 1]).toString('base64') } as never });
  const stored = await post('/mput', { entries });
  assert.equal(stored.status, 200, stored.text);
  assert.deepEqual(stored.json(), { stored: 301, failed: [] });
  const keys = ['missing', ...entries.map((entry) => entry.key)];
  const read = await post('/mget', { keys });
  assert.equal(read.status, 200, read.text);
  const { values, failed } = read.json() as { values: unknown[]; failed: unknown[] };
  assert.deepEqual(failed, []);
  assert.deepEqual(values, [null, ...entries.map((entry) => entry.value)]);
  assert.equal((await http(`${cluster.url}/get?key=batch7`)).text, '{"value":"value7"}');
  const binary = await http(`${cluster.url}/kv/bytes`);
  assert.deepEqual([...binary.body], [0, 255, 1]);
});

test("a down node's keys fail per entry with its code while the others succeed", async () => {
  const view = (await http(`${cluster.url}/cluster`)).json() as { members: { id: string; url: string }[] };
  const victim = view.members[0]!;
  const owned = async (key: string) =>
    ((await http(`${cluster.url}/ring?key=${key}`)).json() as { nodes: { id: string }[] }).nodes[0]!.id ===
    victim.id;
  const keys = Array.from({ length: 40 }, (_, i) => `batch${i}`);
  const victimKeys = new Set<string>();
  for (const key of keys) if (await owned(key)) victimKeys.add(key);
  assert.ok(victimKeys.size > 0 && victimKeys.size < keys.length);
  const port = new URL(victim.url).port;
  assert.equal((await http(`${cluster.url}/shutdown?port=${port}`, { method: 'POST' })).status, 200);
  try {
    const read = await post('/mget', { keys });
    const { values, failed } = read.json() as {
      values: (string | null)[];
      failed: { index: number; key: string; code: string }[];
    };
    assert.equal(read.status, 200);
    assert.deepEqual(failed.map((failure) => failure.key).sort(), [...victimKeys].sort());
    assert.ok(failed.every((failure) => failure.code === 'RINGKV_ERR_NODE_UNAVAILABLE'));
    keys.forEach((key, index) => {
      assert.equal(values[index], victimKeys.has(key) ? null : `value${key.slice(5)}`);
    });
    const written = await post('/mput', { entries: keys.map((key) => ({ key, value: 'new' })) });
    const result = written.json() as { stored: number; failed: { key: string }[] };
    assert.equal(result.stored, keys.length - victimKeys.size);
    assert.deepEqual(result.failed.map((failure) => failure.key).sort(), [...victimKeys].sort());
  } finally {
    assert.equal((await http(`${cluster.url}/start_server?port=${port}`, { method: 'POST' })).status, 200);
  }
});

test('malformed and oversized batches are refused whole with a code, and nothing is written', async () => {
  const cases: [unknown, number, string][] = [
    ['not json', 400, 'RINGKV_ERR_INVALID_ARGUMENT'],
    [{ keys: 'a' }, 400, 'RINGKV_ERR_INVALID_ARGUMENT'],
    [
      {
        entries: [
          { key: 'ok', value: 'v' },
          { key: 5, value: 'v' },
        ],
      },
      400,
      'RINGKV_ERR_INVALID_ARGUMENT',
    ],
    [
      {
        entries: [
          { key: 'ok', value: 'v' },
          { key: '', value: 'v' },
        ],
      },
      400,
      'RINGKV_ERR_KEY_MISSING',
    ],
    [
      {
        entries: [
          { key: 'ok', value: 'v' },
          { key: 'x', value: 7 },
        ],
      },
      400,
      'RINGKV_ERR_INVALID_ARGUMENT',
    ],
    [
      {
        entries: [
          { key: 'ok', value: 'v' },
          { key: 'k'.repeat(1025), value: 'v' },
        ],
      },
      413,
      'RINGKV_ERR_KEY_TOO_LARGE',
    ],
    [{ entries: [{ key: 'ok', value: 'x'.repeat(1024 * 1024 + 1) }] }, 413, 'RINGKV_ERR_VALUE_TOO_LARGE'],
    [
      { entries: Array.from({ length: 1001 }, (_, i) => ({ key: `ok${i}`, value: 'v' })) },
      413,
      'RINGKV_ERR_BATCH_TOO_LARGE',
    ],
  ];
  for (const [body, status, code] of cases) {
    const path = typeof body === 'object' && body !== null && 'keys' in body ? '/mget' : '/mput';
    const answer = await post(path, body);
    assert.equal(answer.status, status, `${JSON.stringify(body).slice(0, 80)}: ${answer.text}`);
    assert.equal((answer.json() as { code: string }).code, code);
  }
  assert.equal(
    (await http(`${cluster.url}/get?key=ok`)).status,
    404,
    'no entry of a refused batch was written',
  );
  assert.equal((await http(`${cluster.url}/get?key=ok0`)).status, 404);
  const tooMany = await post('/mget', { keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) });
  assert.equal(tooMany.status, 413);
  const wrongMethod = await http(`${cluster.url}/mget`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.allow, 'POST');
});
