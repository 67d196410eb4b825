// Proves RingKvClient against a real cluster: text and bytes round trips with content types, delete semantics,
// mget/mput across several batches, typed errors with the server's codes, per-call timeouts, retries on 503
// that honour Retry-After and stop at their bound, and the admin calls (add a server, remove it, the view).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RingKvBatchError, RingKvClient, RingKvClientError } from '../../src/index.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-client-');
after(() => directory.remove());

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  httpStatus?: number,
): Promise<RingKvClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RingKvClientError, String(error));
    assert.equal(error.code, code, error.message);
    if (httpStatus !== undefined) assert.equal(error.httpStatus, httpStatus);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('against a real cluster', () => {
  let cluster: RunningProcess;
  let client: RingKvClient;
  before(async () => {
    cluster = await startCluster(`${directory.path}/cluster`, ['--engine', 'memory'], 3);
    client = new RingKvClient({ url: cluster.url });
  });
  after(async () => {
    await client.close();
    await stopProcess(cluster);
  });

  test('text round-trips, and a missing key is undefined', async () => {
    const { version } = await client.put('user:42', 'Ada Lovelace, ☃');
    assert.match(version, /^[0-9a-f]{12}\.[0-9a-f]{4}\./);
    assert.equal(await client.get('user:42'), 'Ada Lovelace, ☃');
    assert.equal(await client.get('nobody'), undefined);
    assert.equal(await client.getBytes('nobody'), undefined);
  });

  test('bytes round-trip exactly, with their content type and version', async () => {
    const bytes = new Uint8Array([0, 255, 1, 128, 10, 13]);
    await client.put('blob', bytes, { contentType: 'image/x-test' });
    assert.deepEqual(await client.getBytes('blob'), bytes);
    const entry = await client.getEntry('blob');
    assert.equal(entry?.contentType, 'image/x-test');
    assert.ok(entry !== undefined && entry.version.length > 0);
    await rejectsWith(client.get('blob'), 'RINGKV_ERR_BAD_ENCODING');
    await client.put('plain', new Uint8Array([104, 105]));
    assert.equal((await client.getEntry('plain'))?.contentType, undefined);
  });

  test('delete says whether the key had a value, and a deleted key stays deleted', async () => {
    await client.put('doomed', 'x');
    assert.equal(await client.delete('doomed'), true);
    assert.equal(await client.delete('doomed'), false);
    assert.equal(await client.get('doomed'), undefined);
  });

  test('mput and mget carry 2,500 keys in batches, in order, text and bytes', async () => {
    const entries: [string, string | Uint8Array][] = Array.from({ length: 2500 }, (_, i) => [
      `batch:${i}`,
      i % 10 === 0 ? new Uint8Array([i % 256, 0, 255]) : `value ${i}`,
    ]);
    assert.deepEqual(await client.mput(entries), { stored: 2500 });
    const keys = ['missing', ...entries.map(([key]) => key)];
    const bytes = await client.mgetBytes(keys);
    assert.equal(bytes.length, 2501);
    assert.equal(bytes[0], undefined);
    entries.forEach(([, value], index) => {
      assert.deepEqual(bytes[index + 1], typeof value === 'string' ? new TextEncoder().encode(value) : value);
    });
    const texts = await client.mget(['batch:1', 'missing', 'batch:2']);
    assert.deepEqual(texts, ['value 1', undefined, 'value 2']);
    await client.mput({ 'object:a': 'A', 'object:b': 'B' });
    assert.deepEqual(await client.mget(['object:a', 'object:b']), ['A', 'B']);
  });

  test("a batch with a down node's keys throws a RingKvBatchError that still carries the others", async () => {
    const lonely = await startCluster(
      `${directory.path}/single`,
      ['--engine', 'memory', '--replicas', '1'],
      2,
    );
    const single = new RingKvClient({ url: lonely.url, retries: 0 });
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      await single.mput(keys.map((key) => [key, `v-${key}`]));
      const view = await single.cluster();
      await single.shutdownServer(view.members[0]!.id);
      const owners = await Promise.all(keys.map(async (key) => (await single.ring(key)).nodes[0]!.id));
      try {
        await single.mget(keys);
        assert.fail('expected a RingKvBatchError');
      } catch (error) {
        assert.ok(error instanceof RingKvBatchError, String(error));
        const failed = new Set(error.failures.map((failure) => failure.key));
        keys.forEach((key, index) => {
          const down = owners[index] === view.members[0]!.id;
          assert.equal(failed.has(key), down, key);
          assert.equal((error.results as (string | undefined)[])[index], down ? undefined : `v-${key}`);
        });
        assert.equal(error.code, 'RINGKV_ERR_NODE_UNAVAILABLE');
      }
    } finally {
      await single.close();
      await stopProcess(lonely);
    }
  });

  test("errors are RingKvClientErrors with the server's code and status", async () => {
    await rejectsWith(client.put('k'.repeat(1025), 'v'), 'RINGKV_ERR_KEY_TOO_LARGE', 413);
    await rejectsWith(client.put('', 'v'), 'RINGKV_ERR_KEY_MISSING', 400);
    await rejectsWith(
      client.put('k', 'v', { contentType: 'bad\u0001type' }),
      'RINGKV_ERR_INVALID_CONTENT_TYPE',
      0,
    );
    await rejectsWith(client.removeServer(1), 'RINGKV_ERR_UNKNOWN_NODE', 404);
    const unreachable = new RingKvClient({ url: 'http://127.0.0.1:1', retries: 1, retryDelayMs: 5 });
    await rejectsWith(unreachable.get('k'), 'RINGKV_ERR_UNREACHABLE', 0);
    await unreachable.close();
  });

  test('admin calls add a server, show it in the view, and remove it, moving keys both ways', async () => {
    const added = await client.addServer();
    assert.equal(added.message, 'Server added');
    assert.ok(added.moved !== undefined && added.moved.keysMoved > 0);
    assert.ok((await client.cluster()).members.some((member) => member.id === added.id));
    assert.equal(await client.get('batch:7'), 'value 7');
    const removed = await client.removeServer(added.port);
    assert.equal(removed.id, added.id);
    assert.ok(!(await client.cluster()).members.some((member) => member.id === added.id));
    assert.equal(await client.get('batch:7'), 'value 7');
    const repaired = await client.repair();
    assert.equal(repaired.phase, 'done');
  });
});

describe('timeouts and retries (against small real HTTP servers)', () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  /** A server whose answers are given by `answer(n)` for its n-th request (from 0). */
  async function serve(
    answer: (n: number) => { status: number; headers?: Record<string, string>; body: string } | undefined,
  ) {
    let count = 0;
    const server = createServer((_request, response) => {
      const reply = answer(count++);
      if (reply === undefined) return; // never answers
      response
        .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
        .end(reply.body);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => count };
  }

  const overloaded = { status: 503, body: '{"error":"busy","code":"RINGKV_ERR_OVERLOADED"}' };

  test('a 503 is retried, at least as late as Retry-After asks, until it succeeds', async () => {
    const server = await serve((n) =>
      n < 2 ? { ...overloaded, headers: { 'retry-after': '0.2' } } : { status: 200, body: 'fine' },
    );
    const client = new RingKvClient({ url: server.url, retryDelayMs: 1 });
    const started = Date.now();
    assert.equal(await client.get('k'), 'fine');
    assert.equal(server.requests(), 3);
    assert.ok(Date.now() - started >= 380, `waited ${Date.now() - started} ms for two Retry-After of 200 ms`);
    await client.close();
  });

  test('retries stop at their bound and the last 503 becomes the error', async () => {
    const server = await serve(() => overloaded);
    const client = new RingKvClient({ url: server.url, retries: 3, retryDelayMs: 1, retryDelayMaxMs: 5 });
    const error = await rejectsWith(client.get('k'), 'RINGKV_ERR_OVERLOADED', 503);
    assert.equal(error.serverCode, 'RINGKV_ERR_OVERLOADED');
    assert.equal(server.requests(), 4);
    await client.close();
  });

  test('admin calls are never retried (a retry could add a second server)', async () => {
    const server = await serve(() => overloaded);
    const client = new RingKvClient({ url: server.url, retries: 5, retryDelayMs: 1 });
    await rejectsWith(client.addServer(), 'RINGKV_ERR_OVERLOADED');
    assert.equal(server.requests(), 1);
    await client.close();
  });

  test('a call past its timeout fails with RINGKV_ERR_CLIENT_TIMEOUT; an AbortSignal aborts it', async () => {
    const server = await serve(() => undefined);
    const client = new RingKvClient({ url: server.url, timeoutMs: 200 });
    const started = Date.now();
    await rejectsWith(client.get('k'), 'RINGKV_ERR_CLIENT_TIMEOUT', 0);
    assert.ok(Date.now() - started < 2000);
    await rejectsWith(client.get('k', { timeoutMs: 50 }), 'RINGKV_ERR_CLIENT_TIMEOUT');
    const controller = new AbortController();
    const pending = client.get('k', { signal: controller.signal, timeoutMs: 0 });
    controller.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
    await client.close();
  });

  test('an error code this client does not know is RINGKV_ERR_UNRECOGNIZED, with the server code kept', async () => {
    const server = await serve(() => ({
      status: 418,
      body: '{"error":"teapot","code":"RINGKV_ERR_FROM_THE_FUTURE"}',
    }));
    const client = new RingKvClient({ url: server.url });
    const error = await rejectsWith(client.get('k'), 'RINGKV_ERR_UNRECOGNIZED', 418);
    assert.equal(error.serverCode, 'RINGKV_ERR_FROM_THE_FUTURE');
    await client.close();
  });

  test('options are checked at construction', () => {
    assert.throws(() => new RingKvClient({ url: 'ftp://x' }), /url must be an http/);
    assert.throws(() => new RingKvClient({ retries: -1 }), /retries/);
    assert.throws(() => new RingKvClient({ timeoutMs: 1.5 }), /timeoutMs/);
    assert.throws(() => new RingKvClient({ adminToken: 'short' }), /adminToken/);
    assert.throws(() => new RingKvClient({ retry: 3 } as never), /unknown option "retry"/);
  });
});
