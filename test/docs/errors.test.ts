// Proves the error registry and the error table in docs/API.md list the same codes with the same statuses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorCatalog, RingKvError } from '../../src/errors.js';

const apiDoc = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');

test('docs/API.md lists every registered error code with its status, and nothing else', () => {
  const documented = new Map<string, number>();
  for (const match of apiDoc.matchAll(/^\|\s*`(RINGKV_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    documented.set(match[1]!, Number(match[2]));
  }
  const registered = new Map(Object.entries(errorCatalog).map(([code, entry]) => [code, entry.status]));
  assert.deepEqual([...documented].sort(), [...registered].sort());
});

test('codes are stable identifiers with client or server statuses', () => {
  for (const [code, entry] of Object.entries(errorCatalog)) {
    assert.match(code, /^RINGKV_ERR_[A-Z]+(_[A-Z]+)*$/);
    assert.ok(entry.status >= 400 && entry.status <= 599, code);
    assert.ok(entry.description.endsWith('.'), code);
  }
});

test('a RingKvError takes its status from the registry and keeps details in its body', () => {
  const error = new RingKvError('RINGKV_ERR_UNKNOWN_NODE', 'no node "x"', { node: 'x' });
  assert.equal(error.status, 404);
  assert.deepEqual(error.toJSON(), { node: 'x', error: 'no node "x"', code: 'RINGKV_ERR_UNKNOWN_NODE' });
  const spoofed = new RingKvError('RINGKV_ERR_UNKNOWN_NODE', 'real message', { error: 'fake', code: 'fake' });
  assert.deepEqual(spoofed.toJSON(), { error: 'real message', code: 'RINGKV_ERR_UNKNOWN_NODE' });
});
