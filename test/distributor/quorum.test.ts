// Proves quorum() answers with the first successes as soon as there are enough, fails as soon as there can
// no longer be enough, and reports every attempt afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { quorum } from '../../src/distributor/quorum.js';
import { RingKvError } from '../../src/errors.js';

const after = <T>(ms: number, value: T) => sleep(ms).then(() => value);
const failAfter = (ms: number, message: string) => sleep(ms).then(() => Promise.reject(new Error(message)));

test('resolves with the first `needed` answers without waiting for the slow one', async () => {
  const started = Date.now();
  const outcome = await quorum([after(10, 'a'), after(500, 'slow'), after(20, 'b')], 2, 'read');
  assert.deepEqual(outcome.answers, ['a', 'b']);
  assert.ok(Date.now() - started < 300);
  const settled = await outcome.settled;
  assert.deepEqual(
    settled.map((result) => result.status),
    ['fulfilled', 'fulfilled', 'fulfilled'],
  );
});

test('tolerates failures while the quorum can still be met', async () => {
  const outcome = await quorum([failAfter(5, 'down'), after(10, 'a'), after(15, 'b')], 2, 'write');
  assert.deepEqual(outcome.answers, ['a', 'b']);
});

test('fails with RINGKV_ERR_QUORUM_NOT_MET as soon as the quorum is out of reach, saying how many answered', async () => {
  const started = Date.now();
  await assert.rejects(
    quorum(
      [after(5, 'a'), failAfter(10, 'down'), failAfter(20, 'down too'), after(800, 'late')],
      3,
      'write of k',
    ),
    (error: unknown) => {
      assert.ok(error instanceof RingKvError);
      assert.equal(error.code, 'RINGKV_ERR_QUORUM_NOT_MET');
      assert.equal(error.status, 503);
      assert.equal(error.details.replicasAnswered, 1);
      assert.equal(error.details.replicasNeeded, 3);
      assert.match(error.message, /write of k: 1 of 4 replicas answered, 3 needed: down/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 400, 'did not wait for the late answer');
});

test('a single attempt passes its own error on, and asking more than exist fails at once', async () => {
  const own = new RingKvError('RINGKV_ERR_NODE_UNAVAILABLE', 'node x is down', { node: 'x' });
  await assert.rejects(quorum([Promise.reject(own)], 1, 'read'), (error: unknown) => error === own);
  await assert.rejects(quorum([after(1, 'a')], 2, 'read'), /0 of 1 replicas answered, 2 needed/);
});
