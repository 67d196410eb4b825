// Proves a storage node's HTTP API: the original routes byte for byte, REST binary-safety, the internal
// versioned routes, and a clear 4xx for every bad input without damage to stored data, on both engines.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { request } from 'undici';
import { buildNode, type StorageNode } from '../../src/node/node-server.js';
import { RECORDS_CONTENT_TYPE, TOMBSTONE_HEADER, VERSION_HEADER } from '../../src/node/protocol.js';
import { hashKey } from '../../src/ring/hash.js';
import { encodeRecordFrames, RecordFrameDecoder } from '../../src/storage/record.js';
import { formatVersion } from '../../src/version/version.js';
import { http } from '../helpers/http.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-node-api-');
after(() => directory.remove());
const NOW = 1_700_000_000_000;
const version = (offsetMs: number, writer = 'dist') =>
  formatVersion({ wallMs: NOW + offsetMs, logical: 0, writer });

for (const engine of ['lmdb', 'memory'] as const) {
  describe(`storage node API (${engine})`, () => {
    let node: StorageNode;
    let base: string;
    before(async () => {
      node = await buildNode({
        id: `api-${engine}`,
        port: 0,
        dataDir: directory.path,
        engine,
        snapshotIntervalSeconds: 0,
        valueBytesMax: 4096,
        logger: pino({ level: 'silent' }),
        physicalNowMs: () => NOW,
      });
      base = `http://127.0.0.1:${(await node.listen()).port}`;
    });
    after(() => node.shutdown('test over'));

    test('the original routes answer with the original bodies and statuses', async () => {
      const put = await http(`${base}/put?key=myKey&value=myValue`, { method: 'PUT' });
      assert.equal(put.status, 200);
      assert.equal(put.text, '{"message":"Value stored successfully"}');
      assert.match(String(put.headers['content-type']), /^application\/json/);
      const get = await http(`${base}/get?key=myKey`);
      assert.equal(get.status, 200);
      assert.equal(get.text, '{"value":"myValue"}');
      const missing = await http(`${base}/get?key=nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.text, '{"error":"Key not found"}');
      const del = await http(`${base}/del?key=myKey`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(del.text, '{"message":"Key deleted successfully"}');
      const again = await http(`${base}/del?key=myKey`, { method: 'DELETE' });
      assert.equal(again.status, 404);
      assert.equal(again.text, '{"error":"Key not found"}');
      assert.equal((await http(`${base}/get?key=myKey`)).status, 404);
    });

    test('GET /metrics counts applied writes, and with lmdb the commits they shared and the cache hits', async () => {
      const metric = (text: string, name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      const before = (await http(`${base}/metrics`)).text;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => http(`${base}/put?key=metric-${i}&value=v`, { method: 'PUT' })),
      );
      const text = (await http(`${base}/metrics`)).text;
      const writes = metric(text, 'ringkv_writes_applied') - metric(before, 'ringkv_writes_applied');
      assert.equal(writes, 40);
      if (engine === 'lmdb') {
        const commits = metric(text, 'ringkv_storage_commits') - metric(before, 'ringkv_storage_commits');
        assert.ok(commits >= 1 && commits <= 40, `${commits} commits for 40 writes`);
        // The record cache is on by default: a second read of a key is a hit.
        await http(`${base}/get?key=metric-0`);
        await http(`${base}/get?key=metric-0`);
        const after = (await http(`${base}/metrics`)).text;
        assert.equal(
          metric(after, 'ringkv_storage_cache_hits') - metric(text, 'ringkv_storage_cache_hits'),
          1,
        );
        assert.equal(
          metric(after, 'ringkv_storage_cache_misses') - metric(text, 'ringkv_storage_cache_misses'),
          1,
        );
        assert.ok(metric(after, 'ringkv_storage_cache_bytes') > 0);
        assert.equal(metric(after, 'ringkv_storage_cache_evictions'), 0, 'nothing came near the bound');
      } else assert.ok(!text.includes('ringkv_storage_commits'));
    });

    test('query strings decode keys and values with + and percent escapes, UTF-8 included', async () => {
      await http(`${base}/put?key=caf%C3%A9+au+lait&value=a%26b%3Dc+d`, { method: 'PUT' });
      assert.equal((await http(`${base}/get?key=caf%C3%A9%20au%20lait`)).text, '{"value":"a&b=c d"}');
      const rest = await http(`${base}/kv/caf%C3%A9%20au%20lait`);
      assert.equal(rest.text, 'a&b=c d');
      assert.equal(rest.headers['content-type'], 'application/octet-stream');
    });

    test('REST routes store raw bytes with their content type, and HEAD and DELETE behave', async () => {
      const bytes = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);
      const put = await http(`${base}/kv/bin%2Fkey`, {
        method: 'PUT',
        body: bytes,
        headers: { 'content-type': 'image/x-test' },
      });
      assert.equal(put.status, 204);
      assert.match(String(put.headers[VERSION_HEADER]), /^[0-9a-f]{12}\.[0-9a-f]{4}\.api-/);
      const get = await http(`${base}/kv/bin%2Fkey`);
      assert.deepEqual(get.body, bytes);
      assert.equal(get.headers['content-type'], 'image/x-test');
      const head = await http(`${base}/kv/bin%2Fkey`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(bytes.length));
      assert.equal(head.body.length, 0);
      const original = await http(`${base}/get?key=bin%2Fkey`);
      assert.deepEqual(original.json(), {
        value: { base64: bytes.toString('base64'), contentType: 'image/x-test' },
      });
      assert.equal((await http(`${base}/kv/bin%2Fkey`, { method: 'DELETE' })).status, 204);
      const gone = await http(`${base}/kv/bin%2Fkey`);
      assert.equal(gone.status, 404);
      assert.deepEqual(gone.json(), { error: 'Key not found', code: 'RINGKV_ERR_KEY_NOT_FOUND' });
      assert.equal((await http(`${base}/kv/bin%2Fkey`, { method: 'DELETE' })).status, 404);
      const empty = await http(`${base}/kv/empty`, { method: 'PUT', body: '' });
      assert.equal(empty.status, 204);
      assert.equal((await http(`${base}/get?key=empty`)).text, '{"value":""}');
    });

    test('a stale versioned write is reported and ignored, and a delete is never undone by an older write', async () => {
      const putAt = (offset: number, value: string) =>
        http(`${base}/internal/kv/versioned`, {
          method: 'PUT',
          body: value,
          headers: { [VERSION_HEADER]: version(offset) },
        });
      assert.deepEqual((await putAt(20, 'new')).json(), { outcome: 'applied' });
      assert.deepEqual((await putAt(10, 'old')).json(), { outcome: 'stale' });
      const current = await http(`${base}/internal/kv/versioned`);
      assert.equal(current.text, 'new');
      assert.equal(current.headers[VERSION_HEADER], version(20));
      const del = await http(`${base}/internal/kv/versioned`, {
        method: 'DELETE',
        headers: { [VERSION_HEADER]: version(30) },
      });
      assert.deepEqual(del.json(), { outcome: 'applied', previous: 'live' });
      assert.deepEqual((await putAt(25, 'late')).json(), { outcome: 'stale' });
      const tombstone = await http(`${base}/internal/kv/versioned`);
      assert.equal(tombstone.status, 404);
      assert.equal(tombstone.headers[TOMBSTONE_HEADER], '1');
      assert.equal(tombstone.headers[VERSION_HEADER], version(30));
      assert.equal((await http(`${base}/get?key=versioned`)).status, 404);
      assert.deepEqual((await putAt(40, 'revived')).json(), { outcome: 'applied' });
      assert.equal((await http(`${base}/get?key=versioned`)).text, '{"value":"revived"}');
    });

    test('a write through the node after a versioned write gets a newer version (the clock observed it)', async () => {
      await http(`${base}/internal/kv/clocked`, {
        method: 'PUT',
        body: 'x',
        headers: { [VERSION_HEADER]: version(50_000) },
      });
      const own = await http(`${base}/kv/clocked`, { method: 'PUT', body: 'y' });
      assert.ok(String(own.headers[VERSION_HEADER]) > version(50_000));
      assert.equal((await http(`${base}/kv/clocked`)).text, 'y');
    });

    test('batches apply versioned records and a scan streams a range as frames, tombstones included', async () => {
      const records = Array.from({ length: 300 }, (_, i) => ({
        key: Buffer.from(`batch-${i}`),
        version: version(100),
        value: i % 3 === 0 ? null : Buffer.from(`value-${i}`),
      }));
      const answer = await http(`${base}/internal/batch`, {
        method: 'POST',
        body: encodeRecordFrames(records),
        headers: { 'content-type': RECORDS_CONTENT_TYPE },
      });
      assert.deepEqual(answer.json(), { applied: 300, stale: 0 });
      const replay = await http(`${base}/internal/batch`, {
        method: 'POST',
        body: encodeRecordFrames(records.slice(0, 10)),
      });
      assert.deepEqual(replay.json(), { applied: 0, stale: 10 });
      const scan = await http(`${base}/internal/scan?from=0&to=4294967296&batch=17`);
      assert.equal(scan.headers['content-type'], RECORDS_CONTENT_TYPE);
      const decoder = new RecordFrameDecoder(1 << 20);
      const scanned = decoder.push(scan.body);
      decoder.end();
      const batchKeys = scanned
        .map((r) => Buffer.from(r.key).toString())
        .filter((key) => key.startsWith('batch-'));
      assert.equal(batchKeys.length, 300);
      assert.equal(
        scanned.filter((r) => r.value === null && Buffer.from(r.key).toString().startsWith('batch-')).length,
        100,
      );
      const stats = (await http(`${base}/internal/stats`)).json() as { liveKeys: number; tombstones: number };
      assert.ok(stats.liveKeys >= 200 && stats.tombstones >= 100);
      const healthy = (await http(`${base}/internal/health`)).json();
      assert.deepEqual(healthy, {
        status: 'ok',
        service: 'ringkv-node',
        id: `api-${engine}`,
        engine,
        cluster: null,
      });
    });

    test('scan, count and drop take many ranges at once and act on exactly those positions', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => `ranged-${i}`);
      await http(`${base}/internal/batch`, {
        method: 'POST',
        body: encodeRecordFrames(
          keys.map((key) => ({ key: Buffer.from(key), version: version(200), value: Buffer.from('r') })),
        ),
      });
      const ranges: [number, number][] = [
        [0, 0x20000000],
        [0x80000000, 0x90000000],
        [0xf0000000, 2 ** 32],
      ];
      const inRanges = (key: string) =>
        ranges.some(([from, to]) => hashKey(key) >= from && hashKey(key) < to);
      const scanned = new RecordFrameDecoder(1 << 20).push(
        (await http(`${base}/internal/scan?batch=3`, { method: 'POST', body: JSON.stringify({ ranges }) }))
          .body,
      );
      const scannedRanged = scanned
        .map((r) => Buffer.from(r.key).toString())
        .filter((key) => key.startsWith('ranged-'));
      assert.deepEqual(scannedRanged.sort(), keys.filter(inRanges).sort());
      assert.ok(scanned.every((r) => inRanges(Buffer.from(r.key).toString())));
      const count = (
        await http(`${base}/internal/count`, { method: 'POST', body: JSON.stringify({ ranges }) })
      ).json() as { count: number };
      assert.equal(count.count, scanned.length);
      const dropped = (
        await http(`${base}/internal/drop`, { method: 'POST', body: JSON.stringify({ ranges }) })
      ).json();
      assert.deepEqual(dropped, { dropped: scanned.length });
      for (const key of keys)
        assert.equal((await http(`${base}/internal/kv/${key}`)).status === 404, inRanges(key), key);
      const bad = await http(`${base}/internal/drop`, {
        method: 'POST',
        body: JSON.stringify({ ranges: [[5, 2]] }),
      });
      assert.equal(bad.status, 400);
    });

    const badInputs: [
      string,
      string,
      { method?: string; body?: string | Uint8Array; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      ['missing key on /get', '/get', {}, 400, 'RINGKV_ERR_KEY_MISSING'],
      ['empty key on /get', '/get?key=', {}, 400, 'RINGKV_ERR_KEY_MISSING'],
      ['missing key on /put', '/put?value=v', { method: 'PUT' }, 400, 'RINGKV_ERR_KEY_MISSING'],
      ['missing value on /put', '/put?key=k', { method: 'PUT' }, 400, 'RINGKV_ERR_VALUE_MISSING'],
      ['missing key on /del', '/del', { method: 'DELETE' }, 400, 'RINGKV_ERR_KEY_MISSING'],
      ['key over 1 KiB in a query', `/get?key=${'k'.repeat(1025)}`, {}, 413, 'RINGKV_ERR_KEY_TOO_LARGE'],
      ['key over 1 KiB in a path', `/kv/${'k'.repeat(1025)}`, {}, 413, 'RINGKV_ERR_KEY_TOO_LARGE'],
      ['multi-byte key over 1 KiB', `/get?key=${'%C3%A9'.repeat(513)}`, {}, 413, 'RINGKV_ERR_KEY_TOO_LARGE'],
      [
        'value over the limit on /put',
        `/put?key=k&value=${'v'.repeat(4097)}`,
        { method: 'PUT' },
        413,
        'RINGKV_ERR_VALUE_TOO_LARGE',
      ],
      [
        'value over the limit on REST',
        '/kv/k',
        { method: 'PUT', body: 'v'.repeat(4097) },
        413,
        'RINGKV_ERR_VALUE_TOO_LARGE',
      ],
      ['malformed percent-encoding', '/get?key=%zz', {}, 400, 'RINGKV_ERR_BAD_ENCODING'],
      ['truncated percent-encoding', '/kv/abc%4', {}, 400, 'RINGKV_ERR_BAD_ENCODING'],
      ['percent-encoded invalid UTF-8', '/get?key=%C3%28', {}, 400, 'RINGKV_ERR_BAD_ENCODING'],
      ['empty REST key', '/kv/', {}, 400, 'RINGKV_ERR_KEY_MISSING'],
      ['unknown route', '/nothing-here', {}, 404, 'RINGKV_ERR_ROUTE_NOT_FOUND'],
      ['unknown internal route', '/internal/nothing', {}, 404, 'RINGKV_ERR_ROUTE_NOT_FOUND'],
      ['wrong method on /get', '/get?key=k', { method: 'POST' }, 405, 'RINGKV_ERR_METHOD_NOT_ALLOWED'],
      ['wrong method on /put', '/put?key=k&value=v', { method: 'GET' }, 405, 'RINGKV_ERR_METHOD_NOT_ALLOWED'],
      ['wrong method on REST', '/kv/k', { method: 'PATCH' }, 405, 'RINGKV_ERR_METHOD_NOT_ALLOWED'],
      [
        'control characters in a content type',
        '/kv/k',
        { method: 'PUT', body: 'v', headers: { 'content-type': 'a\tb' } },
        400,
        'RINGKV_ERR_INVALID_CONTENT_TYPE',
      ],
      [
        'internal put without a version',
        '/internal/kv/k',
        { method: 'PUT', body: 'v' },
        400,
        'RINGKV_ERR_INVALID_VERSION',
      ],
      [
        'internal put with a malformed version',
        '/internal/kv/k',
        { method: 'PUT', body: 'v', headers: { [VERSION_HEADER]: '12.x' } },
        400,
        'RINGKV_ERR_INVALID_VERSION',
      ],
      [
        'internal put from a clock an hour ahead',
        '/internal/kv/k',
        { method: 'PUT', body: 'v', headers: { [VERSION_HEADER]: version(3_600_000) } },
        400,
        'RINGKV_ERR_CLOCK_SKEW',
      ],
      [
        'a batch of garbage',
        '/internal/batch',
        { method: 'POST', body: Buffer.from([0, 0, 0, 9, 1, 2, 3]) },
        400,
        'RINGKV_ERR_BAD_RECORD_STREAM',
      ],
      ['a scan with a bad range', '/internal/scan?from=10&to=5', {}, 400, 'RINGKV_ERR_INVALID_ARGUMENT'],
      ['a scan with a non-numeric bound', '/internal/scan?from=abc', {}, 400, 'RINGKV_ERR_INVALID_ARGUMENT'],
    ];

    test('every bad input gets its 4xx and code, and stored data is untouched', async () => {
      await http(`${base}/put?key=k&value=original`, { method: 'PUT' });
      for (const [name, path, options, status, code] of badInputs) {
        const answer = await http(`${base}${path}`, options);
        assert.equal(answer.status, status, name);
        const body = answer.json() as { error: unknown; code: unknown };
        assert.equal(body.code, code, name);
        assert.equal(typeof body.error, 'string', name);
      }
      assert.equal((await http(`${base}/get?key=k`)).text, '{"value":"original"}');
      const wrongMethod = await http(`${base}/get?key=k`, { method: 'DELETE' });
      assert.equal(wrongMethod.headers.allow, 'GET, HEAD');
    });

    test('an oversized chunked body is refused with 413 without reading it all', async () => {
      // A stream has no Content-Length, so the body goes out chunked and the limit is checked as it arrives.
      const body = Readable.from(Array.from({ length: 100 }, () => Buffer.alloc(1024, 'x')));
      const answer = await request(`${base}/kv/chunked`, { method: 'PUT', body });
      assert.equal(answer.statusCode, 413);
      assert.equal(((await answer.body.json()) as { code: string }).code, 'RINGKV_ERR_VALUE_TOO_LARGE');
      assert.equal((await http(`${base}/kv/chunked`)).status, 404);
    });
  });
}

test('POST /shutdown stops the node after answering, with a final snapshot of its keys', async () => {
  const node = await buildNode({
    id: 'shutdown-test',
    port: 0,
    dataDir: directory.path,
    snapshotIntervalSeconds: 0,
    logger: pino({ level: 'silent' }),
  });
  const base = `http://127.0.0.1:${(await node.listen()).port}`;
  await http(`${base}/put?key=a&value=1`, { method: 'PUT' });
  await http(`${base}/put?key=b&value=2`, { method: 'PUT' });
  const answer = await http(`${base}/shutdown`, { method: 'POST' });
  assert.equal(answer.status, 200);
  await node.stopped;
  assert.equal(node.server.listening, false);
  assert.deepEqual(JSON.parse(await readFile(`${directory.path}/shutdown-test.json`, 'utf8')), {
    a: '1',
    b: '2',
  });
});

test('a node taking the batches of a move postpones its periodic snapshot until they stop', {
  timeout: 30_000,
}, async () => {
  const node = await buildNode({
    id: 'busy-snapshots',
    port: 0,
    dataDir: directory.path,
    engine: 'memory',
    snapshotIntervalSeconds: 1,
    logger: pino({ level: 'silent' }),
  });
  const base = `http://127.0.0.1:${(await node.listen()).port}`;
  const snapshot = `${directory.path}/busy-snapshots.json`;
  const written = () =>
    readFile(snapshot, 'utf8').then(
      () => true,
      () => false,
    );
  try {
    // Four seconds of batches, one every 300 ms: every snapshot that falls due meanwhile waits.
    for (let round = 0; round < 13; round++) {
      const answer = await http(`${base}/internal/batch`, {
        method: 'POST',
        body: encodeRecordFrames([
          { key: Buffer.from(`moved-${round}`), version: version(round), value: Buffer.from('v') },
        ]),
        headers: { 'content-type': RECORDS_CONTENT_TYPE },
      });
      assert.deepEqual(answer.json(), { applied: 1, stale: 0 });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(await written(), false, 'no snapshot while batches kept coming');
    let appeared = false;
    for (let waited = 0; waited < 8000 && !appeared; waited += 100) {
      appeared = await written();
      if (!appeared) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(appeared, 'the snapshot came once the batches stopped');
    assert.equal(Object.keys(JSON.parse(await readFile(snapshot, 'utf8'))).length, 13);
  } finally {
    await node.shutdown('test over');
  }
});
