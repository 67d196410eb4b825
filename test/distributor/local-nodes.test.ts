// Where the distributor looks for a local node's Unix socket, and when it falls back to TCP; and that a
// `ringkv start` that cannot listen stops the nodes it started and exits at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { localSocketPath, portIsFree } from '../../src/distributor/local-nodes.js';
import { SOCKET_PATH_BYTES_MAX } from '../../src/http/server.js';
import { CLI_PATH } from '../helpers/cli.js';
import { freePortRange } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-local-nodes-');
after(() => directory.remove());

test('a local node socket is <data-dir>/<id>.sock made absolute, or none when the path is too long', () => {
  assert.equal(localSocketPath('data', '127.0.0.1-5001'), resolve('data', '127.0.0.1-5001.sock'));
  assert.equal(localSocketPath('/var/lib/ringkv', 'n1'), '/var/lib/ringkv/n1.sock');
  const deep = `/${'d'.repeat(SOCKET_PATH_BYTES_MAX)}`;
  assert.equal(localSocketPath(deep, 'n1'), undefined);
  // Exactly at the limit still fits; one byte more does not.
  const fits = `/${'d'.repeat(SOCKET_PATH_BYTES_MAX - '/n1.sock'.length - 1)}`;
  assert.equal(localSocketPath(fits, 'n1')?.length, SOCKET_PATH_BYTES_MAX);
  assert.equal(localSocketPath(`${fits}x`, 'n1'), undefined);
});

test('ringkv start on a taken port exits 2 with a clear error, its nodes stopped, within seconds', async () => {
  const base = await freePortRange(4);
  const holder = createServer();
  await new Promise<void>((done) => holder.listen(base, '127.0.0.1', done));
  assert.equal((holder.address() as AddressInfo).port, base);
  try {
    const dataDir = `${directory.path}/taken`;
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'start', '--port', String(base), '--nodes', '2', '--data-dir', dataDir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${base}: EADDRINUSE`));
    assert.doesNotMatch(stderr, /at .*\(node:/, 'no stack trace');
    // Its nodes were started (their files exist) and stopped: their ports are free again.
    assert.ok(
      (await readdir(dataDir)).some((name) => name.endsWith('.lmdb')),
      'the nodes had started',
    );
    for (const port of [base + 1, base + 2])
      assert.ok(await portIsFree('127.0.0.1', port), `port ${port} is free`);
    assert.ok(Date.now() - started < 15_000, `exited after ${Date.now() - started} ms`);
  } finally {
    holder.close();
  }
});
