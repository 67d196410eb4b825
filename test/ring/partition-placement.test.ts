// rankAll, which a ring uses for every lookup and move plan, must rank exactly as rank() does segment by segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PartitionPlacement } from '../../src/ring/partition-placement.js';
import { normalizeNode } from '../../src/ring/ring-node.js';

const cases = [
  { name: 'five equal nodes', nodes: ['a', 'b', 'c', 'd', 'e'], partitions: 4096, depth: 5 },
  {
    name: 'six equal nodes, three deep',
    nodes: ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'],
    partitions: 1024,
    depth: 3,
  },
  {
    name: 'weighted nodes',
    nodes: [
      { id: 'x', weight: 1 },
      { id: 'y', weight: 2.5 },
      { id: 'z', weight: 0.5 },
      { id: 'w', weight: 1 },
    ],
    partitions: 2048,
    depth: 4,
  },
  { name: 'one node', nodes: ['solo'], partitions: 256, depth: 1 },
];

for (const { name, nodes, partitions, depth } of cases) {
  test(`rankAll equals rank() for every segment: ${name}`, () => {
    const members = nodes.map((node) => normalizeNode(node)).sort((a, b) => (a.id < b.id ? -1 : 1));
    const placement = new PartitionPlacement(members, partitions);
    const table = placement.rankAll(depth);
    assert.equal(table.length, partitions * depth);
    for (let segment = 0; segment < partitions; segment++) {
      assert.deepEqual(
        [...table.subarray(segment * depth, (segment + 1) * depth)],
        [...placement.rank(segment, depth)],
        `segment ${segment}`,
      );
    }
  });
}
