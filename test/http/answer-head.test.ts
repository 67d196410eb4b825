import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnswerHead } from '../../src/http/answer-head.js';

test('an answer head gives its status, framing, keep-alive and whether the connection ends', () => {
  assert.deepEqual(
    parseAnswerHead('HTTP/1.1 200 OK\r\nContent-Length: 12\r\nKeep-Alive: timeout=5\r\nX-Other: a:b'),
    { version: '1.1', status: 200, contentLength: 12, chunked: false, close: false, keepAliveSeconds: 5 },
  );
  const chunked = parseAnswerHead('HTTP/1.1 503 Busy\r\ntransfer-encoding: Chunked\r\nconnection: Close');
  assert.equal(chunked?.chunked, true);
  assert.equal(chunked?.close, true);
  assert.equal(chunked?.contentLength, undefined);
  assert.ok(Number.isNaN(parseAnswerHead('HTTP/1.1 200 OK\r\ncontent-length: 1e3')?.contentLength));
  // HTTP/1.0 ends the connection unless it says otherwise.
  assert.equal(parseAnswerHead('HTTP/1.0 200 OK')?.close, true);
  assert.equal(parseAnswerHead('HTTP/1.0 200 OK\r\nconnection: keep-alive')?.close, false);
  for (const malformed of ['SMTP ready', 'HTTP/2 200', 'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', ''])
    assert.equal(parseAnswerHead(malformed), undefined, malformed);
});
