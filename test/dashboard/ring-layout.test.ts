// Proves the ring layout the dashboard draws names the true owner of every sampled position, and (checked by
// the type checker in npm run check) that the distributor's answers still fit the types the dashboard reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as Wire from '../../src/dashboard/browser/wire.js';
import type { DashboardLayout } from '../../src/dashboard/dashboard-routes.js';
import { ringLayout } from '../../src/dashboard/ring-layout.js';
import type { RingAnswer } from '../../src/distributor/admin-routes.js';
import type { ClusterView } from '../../src/distributor/cluster.js';
import type { NodeTraffic, SecondStats } from '../../src/distributor/traffic-stats.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { RING_SIZE } from '../../src/ring/placement.js';

/** Compiles only if `Server` can be read as `Browser`. */
type Fits<Server extends Browser, Browser> = [Server, Browser];
export type WireChecks = [
  Fits<ClusterView, Wire.ClusterView>,
  Fits<SecondStats, Wire.SecondStats>,
  Fits<NodeTraffic, Wire.NodeTraffic>,
  Fits<DashboardLayout, Wire.DashboardLayout>,
  Fits<RingAnswer, Wire.RingAnswer>,
];

for (const [name, ring] of [
  ['partitions', new HashRing(['a', 'b', { id: 'c', weight: 3 }])],
  ['tokens', new HashRing(['a', 'b', 'c', 'd'], { vnodes: 50 })],
] as const) {
  test(`every sample of the layout names the owner of its position (${name})`, () => {
    const layout = ringLayout(ring, 1024);
    assert.deepEqual(layout.nodes, ['a', 'b', 'c', ...(name === 'tokens' ? ['d'] : [])]);
    const owners = new Uint16Array(Uint8Array.from(Buffer.from(layout.owners, 'base64')).buffer);
    assert.equal(owners.length, 1024);
    for (let i = 0; i < 1024; i++) {
      const position = Math.floor(((i + 0.5) * RING_SIZE) / 1024);
      assert.equal(layout.nodes[owners[i]!], ring.preferenceListAt(position, 1)[0]);
    }
  });
}

test('an empty ring has a layout with no nodes', () => {
  const layout = ringLayout(new HashRing([]), 16);
  assert.deepEqual(layout.nodes, []);
});
