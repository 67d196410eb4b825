// Proves the load generator's HTTP/1.1 connection reads every framing real servers use, reconnects after
// connection: close, and fails (never hangs or guesses) on malformed answers, dropped connections and timeouts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Http1Connection } from '../../src/bench/http1-connection.js';

const http = createHttpServer((request, response) => {
  switch (request.url) {
    case '/value':
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"value":"hello"}');
      return;
    case '/missing':
      response.writeHead(404).end('{"error":"Key not found"}');
      return;
    case '/empty':
      response.writeHead(204).end();
      return;
    case '/chunked':
      response.writeHead(200);
      response.write('first,');
      setTimeout(() => response.end('second'), 10);
      return;
    case '/close':
      response.writeHead(200, { connection: 'close' }).end('bye');
      return;
    default: {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => response.writeHead(200).end(`${request.method} ${body}`));
    }
  }
});
let url = '';
before(async () => {
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
after(() => http.close());

test('reads Content-Length, chunked and empty bodies, HEAD answers and request bodies on one connection', async () => {
  const connection = new Http1Connection(url);
  const text = async (method: string, path: string, body?: string) => {
    const answer = await connection.request(method, path, body);
    return `${answer.status} ${answer.body.toString()}`;
  };
  assert.equal(await text('GET', '/value'), '200 {"value":"hello"}');
  assert.equal(await text('GET', '/missing'), '404 {"error":"Key not found"}');
  assert.equal(await text('DELETE', '/empty'), '204 ');
  assert.equal(await text('GET', '/chunked'), '200 first,second');
  assert.equal(await text('HEAD', '/value'), '200 ');
  assert.equal(await text('PUT', '/echo', 'payload'), '200 PUT payload');
  assert.equal(await text('PUT', '/echo'), '200 PUT ');
  connection.close();
});

test('after connection: close the next request opens a new connection', async () => {
  const connection = new Http1Connection(url);
  assert.equal((await connection.request('GET', '/close')).body.toString(), 'bye');
  assert.equal((await connection.request('GET', '/value')).status, 200);
  connection.close();
});

/** A TCP server answering each request with `reply(socket)`. */
async function rawServer(reply: (socket: Socket) => void): Promise<{ url: string; close: () => void }> {
  const server = createTcpServer((socket) => socket.once('data', () => reply(socket)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('an answer delivered a byte at a time is put together', async () => {
  const answer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld');
  const server = await rawServer((socket) => {
    let index = 0;
    const next = () => {
      if (index < answer.length) socket.write(answer.subarray(index, ++index), () => setImmediate(next));
    };
    next();
  });
  const connection = new Http1Connection(server.url);
  assert.equal((await connection.request('GET', '/')).body.toString(), 'world');
  connection.close();
  server.close();
});

test('a malformed answer, a connection dropped mid-answer and a silent server are errors', async () => {
  const malformed = await rawServer((socket) => socket.end('SMTP ready\r\n\r\n'));
  await assert.rejects(new Http1Connection(malformed.url).request('GET', '/'), /malformed status line/);
  malformed.close();
  const dropped = await rawServer((socket) =>
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'),
  );
  await assert.rejects(new Http1Connection(dropped.url).request('GET', '/'), /closed the connection/);
  dropped.close();
  const silent = await rawServer(() => {});
  await assert.rejects(
    new Http1Connection(silent.url, 200).request('GET', '/'),
    (error: unknown) => (error as { code?: string }).code === 'TIMEOUT',
  );
  silent.close();
});
