// Proves that a node's pushes share their connections to a target: a second push to the same node opens no new
// connection, every record arrives, a pool in use is never closed under a push, and a closed set refuses pushes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
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
  const node = (id: string) =>
    buildNode({
      id,
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

  test('idle pools past the limit are closed, least recently used first, but never one in use', () => {
    const connections = new PushConnections();
    const busy = connections.acquire('http://127.0.0.1:1');
    for (let port = 2; port < 100; port++) {
      connections.acquire(`http://127.0.0.1:${port}`);
      connections.release(`http://127.0.0.1:${port}`);
    }
    assert.ok(connections.size <= 33, `${connections.size} pools open`);
    assert.equal(connections.acquire('http://127.0.0.1:1'), busy, 'the pool in use was kept');
    const recent = connections.acquire('http://127.0.0.1:99');
    connections.release('http://127.0.0.1:99');
    assert.equal(
      connections.acquire('http://127.0.0.1:99'),
      recent,
      'the most recently used idle pool was kept',
    );
  });

  test('once closed, the connections refuse new pushes', async () => {
    const connections = new PushConnections();
    await connections.close();
    await assert.rejects(pushAll(connections), { code: 'RINGKV_ERR_SHUTTING_DOWN' });
  });
});
