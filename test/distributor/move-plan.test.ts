// A move's plan copies every range whose holders change to each new holder from one of its old holders, and
// checks it against N - W more: any W of the old holders (where an acknowledged write is) include one of those
// N - W + 1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateCopies, planMove } from '../../src/distributor/move-plan.js';
import { HashRing } from '../../src/ring/hash-ring.js';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
const changes = [
  {
    name: 'adding a sixth node',
    before: new HashRing(five, { partitions: 1024 }),
    after: new HashRing([...five, 'n6'], { partitions: 1024 }),
  },
  {
    name: 'removing a node',
    before: new HashRing(five, { partitions: 1024 }),
    after: new HashRing(five.slice(1), { partitions: 1024 }),
  },
];

for (const { name, before, after } of changes) {
  for (const [replicas, writeQuorum] of [
    [3, 2],
    [3, 3],
    [3, 1],
    [1, 1],
  ] as const) {
    test(`${name}, N = ${replicas}, W = ${writeQuorum}: each moved range has one source and N - W verifiers among its old holders`, async () => {
      const plan = await planMove(before, after, replicas, writeQuorum);
      const moving = before
        .movedRanges(after, replicas)
        .map((range) => ({ ...range, targets: range.after.filter((id) => !range.before.includes(id)) }))
        .filter((range) => range.targets.length > 0);
      // The plan is made in slices, so its spans may be pieces of the ranges planned over the whole ring.
      const movingAt = (position: number) =>
        moving.find((range) => range.from <= position && position < range.to);
      const sources = new Map<number, { holders: readonly string[]; from: Set<string> }>();
      const rangesBySource = new Map<string, number>();
      for (const group of plan.copies) {
        for (const span of group.ranges) {
          const range = movingAt(span.from);
          assert.ok(
            range !== undefined && span.to <= range.to,
            `${group.source} copies [${span.from}, ${span.to}), which does not move`,
          );
          assert.deepEqual(group.targets, range.targets);
          assert.ok(range.before.includes(group.source), `${group.source} never held ${span.from}`);
          const entry = sources.get(span.from) ?? { holders: range.before, from: new Set<string>() };
          assert.ok(!entry.from.has(group.source), `${group.source} sends ${span.from} twice`);
          entry.from.add(group.source);
          sources.set(span.from, entry);
        }
        rangesBySource.set(group.source, (rangesBySource.get(group.source) ?? 0) + group.ranges.length);
      }
      // Nothing that moves is left out.
      assert.ok(
        moving.every((range) => sources.has(range.from)),
        'every moving range is copied',
      );
      const checks = new Map(plan.checks.map((check) => [check.range.from, check]));
      assert.equal(checks.size, plan.checks.length, 'one check per range');
      const wanted = Math.min(replicas, replicas - writeQuorum + 1);
      for (const [from, { holders, from: chosen }] of sources) {
        assert.equal(chosen.size, 1, `one source for ${from}`);
        const check = checks.get(from);
        const verifiers = check?.verifiers ?? [];
        if (check !== undefined) assert.deepEqual(check.targets, movingAt(from)!.targets);
        for (const id of verifiers) {
          assert.ok(holders.includes(id), `verifier ${id} never held ${from}`);
          assert.ok(!chosen.has(id), `${id} both sends and verifies ${from}`);
        }
        const consulted = new Set([...chosen, ...verifiers]);
        assert.equal(consulted.size, Math.min(holders.length, wanted), `holders consulted for ${from}`);
        // Every set of W old holders (where a write was acknowledged) meets those consulted.
        const others = holders.filter((id) => !consulted.has(id));
        assert.ok(others.length < Math.min(writeQuorum, holders.length) || consulted.size === holders.length);
      }
      assert.ok(
        plan.checks.every((check) => sources.has(check.range.from)),
        'every check is of a copied range',
      );
      // The work is shared: every node that held moved ranges sends some, none more than twice its share.
      const counts = [...rangesBySource.values()];
      const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length;
      assert.ok(
        counts.every((count) => count <= 2 * mean),
        `ranges per source: ${counts.join(', ')}`,
      );
      if (replicas > 1) assert.equal(rangesBySource.size, before.size, 'every old node is a source');
    });
  }
}

test('the records a move will send are estimated from the records held, within 2% of the count', async () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const before = new HashRing(nodes);
  for (const [after, kind] of [
    [new HashRing([...nodes, 'n6']), 'add'],
    [new HashRing(nodes.slice(1)), 'remove'],
  ] as const) {
    const plan = await planMove(before, after, 3, 2);
    const ranges = plan.copies.flatMap((group) => group.ranges).sort((a, b) => a.from - b.from);
    const copied = (position: number) => {
      let low = 0;
      let high = ranges.length - 1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        const range = ranges[middle]!;
        if (position < range.from) high = middle - 1;
        else if (position >= range.to) low = middle + 1;
        else return true;
      }
      return false;
    };
    let held = 0;
    let sent = 0;
    for (let i = 0; i < 50_000; i++) {
      const key = `estimate-${i}`;
      const holders = before.preferenceList(key, 3);
      held += holders.length;
      if (copied(before.position(key))) sent++;
    }
    const estimate = estimateCopies(plan, held, 3);
    assert.ok(sent > 10_000, `${kind}: ${sent} keys sent`);
    assert.ok(Math.abs(estimate - sent) / sent < 0.02, `${kind}: estimated ${estimate}, sent ${sent}`);
  }
});
