// Where the distributor looks for a local node's Unix socket, and when it falls back to TCP.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { localSocketPath } from '../../src/distributor/local-nodes.js';
import { SOCKET_PATH_BYTES_MAX } from '../../src/http/server.js';

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
