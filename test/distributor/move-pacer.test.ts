/** The move pacer: how clients' latency sets the share of the speed limit a move may take. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MovePacer, recentP99Ms } from '../../src/distributor/move-pacer.js';

/** A pacer for a move that has started, clients' p99 before it `baselineMs`; stopped after `body`. */
function withPacer(baselineMs: number, body: (pacer: MovePacer) => void): void {
  const pacer = new MovePacer(() => baselineMs);
  pacer.start();
  try {
    body(pacer);
  } finally {
    pacer.stop();
  }
}

/** One window of `requests` requests, `slow` of them over the target. */
function window(pacer: MovePacer, requests: number, slow: number): void {
  for (let i = 0; i < requests; i++) pacer.record(i < slow ? pacer.targetMs + 1 : pacer.targetMs / 2);
  pacer.closeWindow();
}

test('a move starts at a fifth of its limit and speeds up while clients stay fast', () => {
  withPacer(10, (pacer) => {
    assert.equal(pacer.targetMs, 30);
    assert.equal(pacer.factor(), 0.2);
    window(pacer, 400, 0);
    assert.ok(Math.abs(pacer.factor() - 0.3) < 1e-9, String(pacer.factor()));
    for (let i = 0; i < 20; i++) window(pacer, 400, 0);
    assert.equal(pacer.factor(), 1);
  });
});

test('more than 1% of slow requests in a window slows the move by 30%, never below 5% of the limit', () => {
  withPacer(10, (pacer) => {
    for (let i = 0; i < 10; i++) window(pacer, 400, 0);
    window(pacer, 400, 5);
    assert.ok(Math.abs(pacer.factor() - 0.7) < 1e-9, String(pacer.factor()));
    window(pacer, 400, 4); // 1% exactly: calm
    assert.ok(Math.abs(pacer.factor() - 0.8) < 1e-9, String(pacer.factor()));
    for (let i = 0; i < 10; i++) window(pacer, 400, 400);
    assert.equal(pacer.factor(), 0.05);
  });
});

test('one slow request alone is not congestion, nor are requests no slower than the target', () => {
  withPacer(10, (pacer) => {
    window(pacer, 3, 1);
    assert.ok(Math.abs(pacer.factor() - 0.3) < 1e-9, String(pacer.factor()));
    window(pacer, 3, 2);
    assert.ok(Math.abs(pacer.factor() - 0.21) < 1e-9, String(pacer.factor()));
    for (let i = 0; i < 50; i++) pacer.record(pacer.targetMs);
    pacer.closeWindow();
    assert.ok(Math.abs(pacer.factor() - 0.31) < 1e-9, String(pacer.factor()));
  });
});

test('a window in which clients kept 65% of their open connections busy is congested, however fast each request', () => {
  let connections = 10;
  const pacer = new MovePacer(
    () => 100,
    () => connections,
  );
  pacer.start();
  try {
    assert.equal(pacer.targetMs, 300);
    // 10 connections over a 200 ms window: 2,000 ms of connection time. 65 requests of 20 ms use 1,300 ms.
    const busyWindow = (requests: number) => {
      for (let i = 0; i < requests; i++) pacer.record(20);
      pacer.closeWindow(200);
    };
    busyWindow(64);
    assert.ok(Math.abs(pacer.factor() - 0.3) < 1e-9, `64 requests (64%) are calm: ${pacer.factor()}`);
    busyWindow(65);
    assert.ok(Math.abs(pacer.factor() - 0.21) < 1e-9, `65 requests (65%) are congested: ${pacer.factor()}`);
    connections = 20;
    busyWindow(65);
    assert.ok(
      Math.abs(pacer.factor() - 0.31) < 1e-9,
      `the same on 20 connections is calm: ${pacer.factor()}`,
    );
    connections = 0;
    busyWindow(500);
    assert.ok(
      Math.abs(pacer.factor() - 0.41) < 1e-9,
      `no connections known: latency alone: ${pacer.factor()}`,
    );
  } finally {
    pacer.stop();
  }
});

test('the target is three times the p99 before the move, at least 5 ms; without a move nothing is judged', () => {
  withPacer(0, (pacer) => assert.equal(pacer.targetMs, 5));
  withPacer(1.5, (pacer) => assert.equal(pacer.targetMs, 5));
  withPacer(40, (pacer) => assert.equal(pacer.targetMs, 120));
  const idle = new MovePacer(() => 10);
  for (let i = 0; i < 100; i++) idle.record(10_000);
  idle.closeWindow();
  assert.equal(
    idle.factor(),
    1,
    'no move: full speed, and what was recorded before the start is not counted',
  );
  idle.start();
  idle.closeWindow();
  assert.ok(Math.abs(idle.factor() - 0.3) < 1e-9, String(idle.factor()));
  idle.stop();
  assert.equal(idle.factor(), 1);
});

test('the baseline is the median p99 of the last seconds that had requests', () => {
  const seconds = [50, 7, 9, 0, 8, 200].map((p99Ms, index) => ({ requests: index === 3 ? 0 : 100, p99Ms }));
  assert.equal(recentP99Ms(seconds, 10), 9);
  assert.equal(recentP99Ms(seconds, 3), 200, 'the last 3 seconds: 0 requests, 8 and 200 ms');
  assert.equal(recentP99Ms([], 10), 0);
});
