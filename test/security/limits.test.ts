// Proves every limit at its boundary on real servers built with small limits: key and value bytes, header
// bytes, batch entries and bytes, body, header and keep-alive time, requests in flight (503 with Retry-After),
// connections, event streams, and, against a real node process frozen with SIGSTOP, the distributor's in-flight bound per node
// and its node timeout.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildDistributor, type Distributor } from '../../src/distributor/distributor-server.js';
import { buildNode, type StorageNode } from '../../src/node/node-server.js';
import { encodeRecordFrames } from '../../src/storage/record.js';
import { http } from '../helpers/http.js';
import { type RunningProcess, startNodeProcess, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-limits-');
const silent = pino({ level: 'silent' });
const LIMITS = {
  keyBytesMax: 16,
  valueBytesMax: 64,
  headerBytesMax: 2048,
  bodyTimeoutMs: 300,
  headersTimeoutMs: 300,
  inFlightMax: 2,
  connectionsMax: 6,
  keepAliveTimeoutMs: 300,
};
let node: StorageNode;
let nodeUrl = '';

before(async () => {
  node = await buildNode({
    ...LIMITS,
    id: 'limits',
    port: 0,
    dataDir: directory.path,
    engine: 'memory',
    snapshotIntervalSeconds: 0,
    batchRecordsMax: 3,
    batchBytesMax: 1024,
    logger: silent,
  });
  nodeUrl = `http://127.0.0.1:${(await node.listen()).port}`;
});
after(async () => {
  await node.shutdown('test over');
  await directory.remove();
});

/** Opens a raw connection and sends `text`; resolves with what the server answered before closing (or `waitMs`). */
async function raw(url: string, text: string, waitMs = 2000): Promise<string> {
  const socket: Socket = connect(Number(new URL(url).port), '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  socket.write(text);
  await Promise.race([once(socket, 'close'), sleep(waitMs)]);
  socket.destroy();
  return answer;
}

const codeOf = (answer: { json(): unknown }) => (answer.json() as { code: string }).code;

describe('a storage node', () => {
  test('keys up to keyBytesMax are stored; one byte more is 413 RINGKV_ERR_KEY_TOO_LARGE', async () => {
    assert.equal((await http(`${nodeUrl}/kv/${'k'.repeat(16)}`, { method: 'PUT', body: 'v' })).status, 204);
    const over = await http(`${nodeUrl}/kv/${'k'.repeat(17)}`, { method: 'PUT', body: 'v' });
    assert.equal(over.status, 413);
    assert.equal(codeOf(over), 'RINGKV_ERR_KEY_TOO_LARGE');
  });

  test('values up to valueBytesMax are stored; one byte more is 413 RINGKV_ERR_VALUE_TOO_LARGE', async () => {
    assert.equal((await http(`${nodeUrl}/kv/v`, { method: 'PUT', body: 'x'.repeat(64) })).status, 204);
    const over = await http(`${nodeUrl}/kv/v`, { method: 'PUT', body: 'x'.repeat(65) });
    assert.equal(over.status, 413);
    assert.equal(codeOf(over), 'RINGKV_ERR_VALUE_TOO_LARGE');
    assert.equal((await http(`${nodeUrl}/kv/v`)).body.length, 64, 'the refused write changed nothing');
  });

  test('headers under headerBytesMax pass; over it is 431 RINGKV_ERR_HEADERS_TOO_LARGE', async () => {
    const under = await http(`${nodeUrl}/kv/v`, { headers: { 'x-pad': 'p'.repeat(1500) } });
    assert.equal(under.status, 200);
    const answer = await raw(nodeUrl, `GET /kv/v HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(2100)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.match(answer, /RINGKV_ERR_HEADERS_TOO_LARGE/);
  });

  test('a body slower than bodyTimeoutMs is 408 RINGKV_ERR_REQUEST_TIMEOUT', async () => {
    const started = Date.now();
    const answer = await raw(nodeUrl, 'PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /RINGKV_ERR_REQUEST_TIMEOUT/);
    assert.ok(Date.now() - started < 1900, 'answered near the limit, not at the client timeout');
    assert.equal((await http(`${nodeUrl}/kv/slow`)).status, 404);
  });

  test('headers slower than headersTimeoutMs end the connection with 408', async () => {
    const answer = await raw(nodeUrl, 'GET /kv/v HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const socket = connect(Number(new URL(nodeUrl).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume(); // read the answer, so the close is seen
    socket.write('GET /kv/v HTTP/1.1\r\nHost: x\r\n\r\n');
    const started = Date.now();
    const closed = await Promise.race([once(socket, 'close').then(() => true), sleep(3000, false)]);
    socket.destroy();
    assert.ok(closed, 'the server closed the idle connection');
    assert.ok(Date.now() - started >= 250, 'kept open while within the timeout');
  });

  test('an internal batch over batchBytesMax is 413 RINGKV_ERR_BODY_TOO_LARGE', async () => {
    const over = await http(`${nodeUrl}/internal/batch`, {
      method: 'POST',
      body: Buffer.alloc(1025),
      headers: { 'content-type': 'application/x-ringkv-records' },
    });
    assert.deepEqual([over.status, codeOf(over)], [413, 'RINGKV_ERR_BODY_TOO_LARGE']);
  });

  test('past inFlightMax requests answer 503 RINGKV_ERR_OVERLOADED with Retry-After, and work again after', async () => {
    const held = [0, 1].map(() => {
      const socket = connect(Number(new URL(nodeUrl).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write('PUT /kv/held HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab');
      return socket;
    });
    await sleep(100);
    const refused = await http(`${nodeUrl}/kv/v`);
    assert.equal(refused.status, 503);
    assert.equal(codeOf(refused), 'RINGKV_ERR_OVERLOADED');
    assert.equal(refused.headers['retry-after'], '1');
    for (const socket of held) socket.destroy();
    await sleep(400);
    assert.equal((await http(`${nodeUrl}/kv/v`)).status, 200);
  });

  test('past connectionsMax a new connection is closed unanswered; the open ones keep working', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const socket = connect(Number(new URL(nodeUrl).port), '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        return socket;
      }),
    );
    await sleep(100);
    const extra = await raw(nodeUrl, 'GET /kv/v HTTP/1.1\r\nHost: x\r\n\r\n', 1000);
    assert.equal(extra, '');
    sockets[0]!.write('GET /kv/v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let answer = '';
    sockets[0]!.on('data', (chunk) => {
      answer += chunk;
    });
    await once(sockets[0]!, 'close');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    for (const socket of sockets) socket.destroy();
  });

  test('a batch of batchRecordsMax records applies; one more is refused whole', async () => {
    const records = (count: number) =>
      encodeRecordFrames(
        Array.from({ length: count }, (_, i) => ({
          key: Buffer.from(`b${count}-${i}`),
          version: '00000000000a.0000.test',
          value: Buffer.from('v'),
        })),
      );
    const post = (body: Uint8Array) =>
      http(`${nodeUrl}/internal/batch`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-ringkv-records' },
      });
    assert.equal((await post(records(3))).status, 200);
    const over = await post(records(4));
    assert.equal(over.status, 413);
    assert.equal(codeOf(over), 'RINGKV_ERR_BATCH_TOO_LARGE');
    assert.equal((await http(`${nodeUrl}/kv/b4-0`)).status, 404, 'nothing of the refused batch was written');
  });
});

describe('a distributor', () => {
  let frozen: RunningProcess;
  let distributor: Distributor;
  let url = '';

  before(async () => {
    frozen = await startNodeProcess(`${directory.path}/frozen`, ['--engine', 'memory']);
    distributor = await buildDistributor({
      port: 0,
      dataDir: `${directory.path}/distributor`,
      nodes: [frozen.url],
      replicas: 1,
      keyBytesMax: 16,
      valueBytesMax: 64,
      batchKeysMax: 5,
      batchBytesMax: 2048,
      eventStreamsMax: 2,
      nodeInFlightMax: 3,
      nodeTimeoutMs: 600,
      healthIntervalMs: 60_000,
      logger: silent,
    });
    url = `http://127.0.0.1:${(await distributor.listen()).port}`;
  });
  after(async () => {
    frozen.child.kill('SIGCONT');
    await distributor.shutdown('test over');
    await stopProcess(frozen);
  });

  test('keys and values at their limits pass; one byte more is 413 with the code', async () => {
    assert.equal(
      (await http(`${url}/put?key=${'k'.repeat(16)}&value=${'v'.repeat(64)}`, { method: 'PUT' })).status,
      200,
    );
    const key = await http(`${url}/put?key=${'k'.repeat(17)}&value=v`, { method: 'PUT' });
    assert.deepEqual([key.status, codeOf(key)], [413, 'RINGKV_ERR_KEY_TOO_LARGE']);
    const value = await http(`${url}/kv/k`, { method: 'PUT', body: 'v'.repeat(65) });
    assert.deepEqual([value.status, codeOf(value)], [413, 'RINGKV_ERR_VALUE_TOO_LARGE']);
  });

  test('a batch of batchKeysMax entries passes; one more is 413 RINGKV_ERR_BATCH_TOO_LARGE', async () => {
    const keys = (count: number) =>
      JSON.stringify({ keys: Array.from({ length: count }, (_, i) => `k${i}`) });
    assert.equal((await http(`${url}/mget`, { method: 'POST', body: keys(5) })).status, 200);
    const over = await http(`${url}/mget`, { method: 'POST', body: keys(6) });
    assert.deepEqual([over.status, codeOf(over)], [413, 'RINGKV_ERR_BATCH_TOO_LARGE']);
    const bytes = JSON.stringify({ keys: ['a'], pad: 'p'.repeat(2048) });
    const tooBig = await http(`${url}/mget`, { method: 'POST', body: bytes });
    assert.deepEqual([tooBig.status, codeOf(tooBig)], [413, 'RINGKV_ERR_BODY_TOO_LARGE']);
  });

  test('eventStreamsMax streams open; one more is 503 RINGKV_ERR_OVERLOADED', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const { request } = await import('undici');
    const streams = await Promise.all(
      controllers.map((controller) => request(`${url}/events`, { signal: controller.signal })),
    );
    assert.deepEqual(
      streams.map((stream) => stream.statusCode),
      [200, 200],
    );
    const third = await http(`${url}/events`);
    assert.deepEqual([third.status, codeOf(third)], [503, 'RINGKV_ERR_OVERLOADED']);
    for (const controller of controllers) controller.abort();
    for (const stream of streams) await stream.body.text().catch(() => {});
  });

  test('with its node frozen, nodeInFlightMax requests wait, the next is 503 at once, and the waiting ones time out with 504', async () => {
    frozen.child.kill('SIGSTOP');
    try {
      const waiting = [0, 1, 2].map((i) => http(`${url}/get?key=wait${i}`));
      await sleep(100);
      const started = Date.now();
      const refused = await http(`${url}/get?key=one-too-many`);
      assert.deepEqual([refused.status, codeOf(refused)], [503, 'RINGKV_ERR_OVERLOADED']);
      assert.ok(Date.now() - started < 300, 'refused at once, not queued');
      for (const answer of await Promise.all(waiting)) {
        assert.deepEqual([answer.status, codeOf(answer)], [504, 'RINGKV_ERR_NODE_TIMEOUT']);
      }
    } finally {
      frozen.child.kill('SIGCONT');
    }
    let back = 0;
    for (let attempt = 0; attempt < 30 && back !== 200; attempt++) {
      back = (await http(`${url}/get?key=${'k'.repeat(16)}`)).status;
      if (back !== 200) await sleep(100);
    }
    assert.equal(back, 200);
  });
});
