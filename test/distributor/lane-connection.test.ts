import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaneConnection, LaneError } from '../../src/distributor/lane-connection.js';
import { NodeClient } from '../../src/distributor/node-client.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-lane-');
after(() => directory.remove());

const HEAD = 'POST /internal/multi HTTP/1.1\r\nhost: node\r\ncontent-type: application/octet-stream\r\n';
const OPTIONS = { timeoutMs: 2000, answerBytesMax: 1024 * 1024 };

/** A node:http server answering each POST with its body reversed, counting the connections it accepted. */
async function echoServer(
  keepAliveTimeoutMs = 5000,
): Promise<{ server: HttpServer; port: number; connections: () => number }> {
  let connections = 0;
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).reverse();
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      response.end(body);
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

/** A raw TCP server that answers each request with `answer(socket)` (or never, if it does nothing). */
async function rawServer(answer: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.once('data', () => answer(socket)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

async function rejection(promise: Promise<unknown>): Promise<LaneError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LaneError, `a LaneError, got ${String(error)}`);
    return error;
  }
  assert.fail('the exchange succeeded');
}

test('exchanges go one after another over one kept-alive connection, binary bodies intact', async () => {
  const { server, port, connections } = await echoServer();
  const lane = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
  try {
    for (let i = 0; i < 20; i++) {
      const body = Buffer.from([0, 255, 13, 10, i, 128, 7]);
      const answer = await lane.request(HEAD, body);
      assert.equal(answer.status, 200);
      assert.deepEqual([...answer.body], [...body].reverse());
    }
    // A body larger than a socket read arrives in several chunks.
    const large = Buffer.alloc(300_000, 1);
    large[0] = 2;
    const answer = await lane.request(HEAD, large);
    assert.equal(answer.body.length, large.length);
    assert.equal(answer.body.at(-1), 2);
    assert.equal(connections(), 1);
    await assert.rejects(
      Promise.all([lane.request(HEAD, Buffer.from('a')), lane.request(HEAD, Buffer.from('b'))]),
      /already in flight/,
    );
  } finally {
    lane.close();
    server.close();
  }
});

test('a connection idle past half the keep-alive the node announces is replaced before it is used', async () => {
  // keep-alive 1 s: the server says timeout=1 and closes idle connections after 1 s.
  const { server, port, connections } = await echoServer(1000);
  const lane = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
  try {
    await lane.request(HEAD, Buffer.from('one'));
    await sleep(200);
    await lane.request(HEAD, Buffer.from('two'));
    assert.equal(connections(), 1, 'reused within half the keep-alive');
    await sleep(700);
    await lane.request(HEAD, Buffer.from('three'));
    assert.equal(connections(), 2, 'replaced past half the keep-alive');
    await sleep(1300); // the server has closed it by now
    assert.deepEqual([...(await lane.request(HEAD, Buffer.from('ab'))).body], [...Buffer.from('ba')]);
  } finally {
    lane.close();
    server.close();
  }
});

test('a node that does not answer fails the exchange with a timeout, and the next exchange reconnects', async () => {
  let requests = 0;
  const { server, port } = await rawServer((socket) => {
    if (++requests > 1) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  const lane = new LaneConnection({ host: '127.0.0.1', port }, { ...OPTIONS, timeoutMs: 300 });
  try {
    const started = performance.now();
    const error = await rejection(lane.request(HEAD, Buffer.from('x')));
    assert.equal(error.kind, 'timeout');
    assert.ok(performance.now() - started < 2000);
    assert.equal((await lane.request(HEAD, Buffer.from('x'))).body.toString(), 'ok');
  } finally {
    lane.close();
    server.close();
  }
});

test('answers it does not speak fail as malformed, never as a guess', async () => {
  const cases: [string, string | Buffer][] = [
    ['chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
    ['no length', 'HTTP/1.1 200 OK\r\n\r\nok'],
    ['too large', 'HTTP/1.1 200 OK\r\ncontent-length: 99999999\r\n\r\n'],
    ['status line', 'SMTP ready\r\n\r\n'],
    ['more than the answer', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA'],
    ['headers without end', Buffer.alloc(20_000, 'a')],
  ];
  for (const [name, answer] of cases) {
    const { server, port } = await rawServer((socket) => socket.write(answer));
    const lane = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
    try {
      const error = await rejection(lane.request(HEAD, Buffer.from('x')));
      assert.equal(error.kind, 'malformed', name);
    } finally {
      lane.close();
      server.close();
    }
  }
});

test('refused, reset and closed connections fail as transport errors', async () => {
  const { server, port } = await rawServer((socket) => socket.destroy());
  const serverClosed = once(server, 'close');
  const lane = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
  try {
    assert.equal((await rejection(lane.request(HEAD, Buffer.from('x')))).kind, 'transport');
  } finally {
    lane.close();
    server.close();
  }
  // Closed mid-answer: the head arrived, the body did not.
  const half = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
  const halfLane = new LaneConnection({ host: '127.0.0.1', port: half.port }, OPTIONS);
  try {
    assert.equal((await rejection(halfLane.request(HEAD, Buffer.from('x')))).kind, 'transport');
  } finally {
    halfLane.close();
    half.server.close();
  }
  await serverClosed;
  const refused = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
  const error = await rejection(refused.request(HEAD, Buffer.from('x')));
  assert.equal(error.kind, 'transport');
  assert.equal(error.code, 'ECONNREFUSED');
  refused.close();
  const closed = new LaneConnection({ host: '127.0.0.1', port }, OPTIONS);
  closed.close();
  assert.equal((await rejection(closed.request(HEAD, Buffer.from('x')))).kind, 'transport');
});

test('an answer with connection: close is the last on its connection; a Unix socket works the same', async () => {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.once('data', () =>
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 4\r\n\r\nbusy'),
    );
  });
  const path = `${directory.path}/node.sock`;
  server.listen(path);
  await once(server, 'listening');
  const lane = new LaneConnection({ path }, OPTIONS);
  try {
    for (let i = 0; i < 3; i++) {
      const answer = await lane.request(HEAD, Buffer.from('x'));
      assert.equal(answer.status, 503);
      assert.equal(answer.body.toString(), 'busy');
    }
    assert.equal(accepted, 3);
  } finally {
    lane.close();
    server.close();
  }
});

test("a node client's batches fail with typed errors: timeout, the node's error, unavailable", async () => {
  const settings = { connections: 2, inFlightMax: 64, timeoutMs: 300 };
  const silent = await rawServer(() => {});
  const chunked = await rawServer((socket) =>
    socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'),
  );
  const gone = await rawServer(() => {});
  const gonePort = gone.port;
  gone.server.close();
  const unreachable: string[] = [];
  const clients = [silent.port, chunked.port, gonePort].map((port) => {
    const client = new NodeClient(`node-${port}`, `http://127.0.0.1:${port}`, settings);
    client.onUnreachable = (reason) => unreachable.push(`${port}: ${reason}`);
    return client;
  });
  try {
    await assert.rejects(clients[0]!.read('k'), { code: 'RINGKV_ERR_NODE_TIMEOUT' });
    await assert.rejects(clients[1]!.read('k'), { code: 'RINGKV_ERR_NODE_ERROR' });
    assert.deepEqual(unreachable, [], 'a slow or confused node is not marked down');
    await assert.rejects(clients[2]!.read('k'), { code: 'RINGKV_ERR_NODE_UNAVAILABLE' });
    assert.equal(unreachable.length, 1);
    assert.match(unreachable[0]!, /ECONNREFUSED/);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    silent.server.close();
    chunked.server.close();
  }
});
