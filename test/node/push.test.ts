// Proves that a node's pushes share their connections to a target: a second push to the same node opens no new
// connection, every record arrives, a pool in use is never closed under a push, a closed set refuses pushes, and
// a node's shutdown closes the connections its pushes kept.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { request } from 'undici';
import { buildNode, type StorageNode } from '../../src/node/node-server.js';
import { PushConnections, pushRanges } from '../../src/node/push.js';
import { RING_SIZE } from '../../src/ring/placement.js';
import { formatVersion } from '../../src/version/version.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-push-');
after(() => directory.remove());
const KEYS = 3_000;
const ALL = [{ from: 0, to: RING_SIZE }];

describe('pushes between nodes', () => {
  let source: StorageNode;
  let target: StorageNode;
  let targetUrl: string;
  let accepted = 0;
  const node = (id: string, keepAliveTimeoutMs?: number) =>
    buildNode({
      id,
      ...(keepAliveTimeoutMs !== undefined && { keepAliveTimeoutMs }),
      port: 0,
      dataDir: directory.path,
      engine: 'memory',
      snapshotIntervalSeconds: 0,
      logger: pino({ level: 'silent' }),
    });
  before(async () => {
    source = await node('push-source');
    target = await node('push-target');
    await source.listen();
    targetUrl = `http://127.0.0.1:${(await target.listen()).port}`;
    target.server.on('connection', () => accepted++);
    const version = formatVersion({ wallMs: 1_700_000_000_000, logical: 0, writer: 'test' });
    const records = Array.from({ length: KEYS }, (_, index) => ({
      key: Buffer.from(`key-${index}`),
      version,
      value: Buffer.from(`value-${index}`),
    }));
    await source.engine.apply(records);
  });
  after(() => Promise.all([source.shutdown('test over'), target.shutdown('test over')]));
  /** Every record of the source, pushed to the target over `connections`. */
  const pushAll = (connections: PushConnections) =>
    pushRanges(
      connections,
      source.engine,
      ALL,
      [targetUrl],
      1_000_000,
      () => {},
      AbortSignal.timeout(10_000),
      undefined,
    );

  test('a second push to the same target reuses the first push connections, and every record arrives', async () => {
    const connections = new PushConnections();
    const push = () => pushAll(connections);
    const first = await push();
    const afterFirst = accepted;
    const second = await push();
    assert.equal(first.keys, KEYS);
    assert.equal(second.keys, KEYS);
    assert.ok(afterFirst >= 1 && afterFirst <= 2, `the first push opened ${afterFirst} connections`);
    assert.equal(accepted, afterFirst, 'the second push opened no connection of its own');
    assert.equal(target.engine.stats().liveKeys, KEYS);
    await connections.close();
  });

  test('idle pools past the limit are closed, least recently used first, but never one in use', async () => {
    const connections = new PushConnections();
    const busy = await connections.acquire('http://127.0.0.1:1');
    for (let port = 2; port < 100; port++) {
      await connections.acquire(`http://127.0.0.1:${port}`);
      connections.release(`http://127.0.0.1:${port}`);
    }
    assert.ok(connections.size <= 33, `${connections.size} pools open`);
    assert.equal(await connections.acquire('http://127.0.0.1:1'), busy, 'the pool in use was kept');
    const recent = await connections.acquire('http://127.0.0.1:99');
    connections.release('http://127.0.0.1:99');
    assert.equal(
      await connections.acquire('http://127.0.0.1:99'),
      recent,
      'the most recently used idle pool was kept',
    );
  });

  test('once closed, the connections refuse new pushes', async () => {
    const connections = new PushConnections();
    await connections.close();
    await assert.rejects(pushAll(connections), { code: 'RINGKV_ERR_SHUTTING_DOWN' });
  });

  test("a node's shutdown closes the connections its pushes kept", async () => {
    // The target keeps idle connections a minute, so only the source's shutdown can close this one in time.
    const pusher = await node('push-pusher');
    const keeper = await node('push-keeper', 60_000);
    try {
      const pusherUrl = `http://127.0.0.1:${(await pusher.listen()).port}`;
      const keeperUrl = `http://127.0.0.1:${(await keeper.listen()).port}`;
      const sockets: Socket[] = [];
      keeper.server.on('connection', (socket: Socket) => sockets.push(socket));
      const version = formatVersion({ wallMs: 1_700_000_000_000, logical: 0, writer: 'test' });
      await pusher.engine.apply([{ key: Buffer.from('k'), version, value: Buffer.from('v') }]);
      const answer = await request(`${pusherUrl}/internal/push`, {
        method: 'POST',
        body: JSON.stringify({ ranges: [[0, RING_SIZE]], targets: [keeperUrl], keysPerSecond: 1_000_000 }),
      });
      assert.equal(answer.statusCode, 200, await answer.body.text());
      assert.equal(keeper.engine.stats().liveKeys, 1);
      const open = sockets.filter((socket) => !socket.destroyed);
      assert.ok(open.length >= 1, 'the push left its connection open for the next one');
      const closed = Promise.all(open.map((socket) => once(socket, 'close')));
      await pusher.shutdown('test over');
      await Promise.race([
        closed,
        new Promise((_, reject) =>
          AbortSignal.timeout(10_000).addEventListener('abort', () =>
            reject(new Error('the pusher shut down and left its push connections open')),
          ),
        ),
      ]);
    } finally {
      await Promise.allSettled([pusher.shutdown('test over'), keeper.shutdown('test over')]);
    }
  });
});
