// The guarded server's count of open connections, which the move pacer divides clients' busy time by.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createGuardedServer, listenOn, SERVER_LIMIT_DEFAULTS } from '../../src/http/server.js';

test('the server counts open connections, idle keep-alive ones included, and forgets closed ones', async () => {
  const guarded = createGuardedServer({
    ...SERVER_LIMIT_DEFAULTS,
    handle: (_request, response) => {
      response.end('ok');
      return Promise.resolve();
    },
    logger: pino({ level: 'silent' }),
    name: 'the test server',
    inFlightMax: 10,
    connectionsMax: 10,
    bodyTimeoutMs: 1000,
  });
  const { port } = await listenOn(guarded.server, 0, '127.0.0.1');
  const sockets: Socket[] = [];
  try {
    assert.equal(guarded.connections, 0);
    for (let i = 0; i < 3; i++) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      sockets.push(socket);
    }
    // A request answered on a kept-alive connection leaves it open, and counted.
    sockets[0]!.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    const [answer] = (await once(sockets[0]!, 'data')) as [Buffer];
    assert.match(answer.toString(), /^HTTP\/1\.1 200/);
    await until(() => guarded.connections === 3);
    assert.equal(guarded.connections, 3);
    for (const socket of sockets) socket.destroy();
    await until(() => guarded.connections === 0);
    assert.equal(guarded.connections, 0, 'after closing all three');
  } finally {
    for (const socket of sockets) socket.destroy();
    await guarded.drain(1000);
  }
});

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !condition(); attempt++) await sleep(20);
}
