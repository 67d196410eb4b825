// Proves `ringkv ring` reports the ring a cluster would use, and answers bad usage with exit code 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashRing } from '../../src/ring/hash-ring.js';
import { runCli } from '../helpers/cli.js';

test('ringkv ring --json shows the default members, their shares and preference lists', async () => {
  const result = await runCli(['ring', '--json', '--key', 'user:1', 'hello']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  const ids = [1, 2, 3, 4, 5].map((i) => `127.0.0.1-500${i}`);
  assert.deepEqual(
    report.nodes.map((node: { id: string }) => node.id),
    ids,
  );
  assert.deepEqual(report.settings, { kind: 'partitions', partitions: 65536 });
  const ring = new HashRing(ids);
  assert.deepEqual(report.lookups[0], {
    key: 'user:1',
    position: ring.position('user:1'),
    nodes: ring.preferenceList('user:1', 3),
  });
  const total = Object.values(report.shares as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-9);
});

test('ringkv ring prints a readable table with weights', async () => {
  const result = await runCli(['ring', '--node', 'a', 'b=2', '--vnodes', '100']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /ring: 2 nodes, 100 vnodes per unit of weight/);
  assert.match(result.stdout, /b +weight 2 +share \d+\.\d\d%/);
});

for (const [args, pattern] of [
  [['ring', '--nodes', '0'], /--nodes/],
  [['ring', '--partitions', '1000'], /power of two/],
  [['ring', '--node', 'a', 'b=0'], /RINGKV_ERR_INVALID_NODE/],
  [['no-such-command'], /unknown command/],
] as const) {
  test(`ringkv ${args.join(' ')} is a usage error (exit 2)`, async () => {
    const result = await runCli(args);
    assert.equal(result.code, 2);
    assert.match(result.stderr, pattern);
  });
}
