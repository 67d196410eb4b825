// Proves HashRing places keys as its spec says (against a naive reference), independent of member order,
// with minimal movement and an exact migration plan, for both the partition and the token placement.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HashRing, type MovedRange } from '../../src/ring/hash-ring.js';
import { RING_SIZE } from '../../src/ring/placement.js';
import { key, members, nodeId, position, ringOptions, settings } from './arbitraries.js';
import { referenceRanking } from './reference-ring.js';

const RUNS = 60;

function rangeHolding(ranges: readonly MovedRange[], at: number): MovedRange | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const range = ranges[middle]!;
    if (at < range.from) high = middle - 1;
    else if (at >= range.to) low = middle + 1;
    else return range;
  }
  return undefined;
}

describe('lookups agree with the naive reference', () => {
  test('ownerOf and every preference-list length match a linear scan on random memberships', () => {
    fc.assert(
      fc.property(
        members(1, 9),
        settings,
        fc.array(key, { minLength: 1, maxLength: 20 }),
        (nodes, chosen, keys) => {
          const ring = new HashRing(nodes, ringOptions(chosen));
          for (const k of keys) {
            const expected = referenceRanking(nodes, chosen, ring.position(k));
            assert.equal(ring.ownerOf(k), expected[0]);
            for (let n = 1; n <= nodes.length; n++)
              assert.deepEqual(ring.preferenceList(k, n), expected.slice(0, n));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('preferenceListAt agrees with the reference at arbitrary positions, segment edges included', () => {
    fc.assert(
      fc.property(
        members(2, 6),
        settings,
        fc.array(position, { maxLength: 20 }),
        (nodes, chosen, positions) => {
          const ring = new HashRing(nodes, ringOptions(chosen));
          const edges =
            chosen.kind === 'partitions'
              ? [0, RING_SIZE / chosen.partitions, RING_SIZE / chosen.partitions - 1, RING_SIZE - 1]
              : [0, RING_SIZE - 1];
          for (const at of [...positions, ...edges]) {
            assert.deepEqual(ring.preferenceListAt(at, nodes.length), referenceRanking(nodes, chosen, at));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

test('tokens sharing a position (a real murmur3 collision) rank by id, and lookups around them agree', () => {
  // murmur3("n20397#0") === murmur3("n145352#0") === 2149644132, found by a birthday search.
  const shared = 2149644132;
  const nodes = ['n20397', 'n145352', 'n274404', 'n280506'].map((id) => ({ id, weight: 1 }));
  const chosen = { kind: 'tokens', vnodes: 1 } as const;
  const ring = new HashRing(nodes, ringOptions(chosen));
  assert.deepEqual(ring.preferenceListAt(shared, 2), ['n145352', 'n20397']);
  for (const at of [shared - 1, shared, shared + 1, 43960734, 43960735, 0, RING_SIZE - 1]) {
    assert.deepEqual(ring.preferenceListAt(at, 4), referenceRanking(nodes, chosen, at), `position ${at}`);
  }
});

describe('placement depends only on the member set', () => {
  test('shuffled, incremental and sorted constructions place every key identically', () => {
    fc.assert(
      fc.property(
        members(1, 8).chain((nodes) =>
          fc.tuple(fc.constant(nodes), fc.shuffledSubarray(nodes, { minLength: nodes.length })),
        ),
        settings,
        fc.array(key, { minLength: 1, maxLength: 30 }),
        ([nodes, shuffled], chosen, keys) => {
          const options = ringOptions(chosen);
          const direct = new HashRing(nodes, options);
          const fromShuffled = new HashRing(shuffled, options);
          const incremental = shuffled.reduce((ring, node) => ring.withNode(node), new HashRing([], options));
          for (const ring of [fromShuffled, incremental]) {
            assert.deepEqual(ring.nodes, direct.nodes);
            assert.deepEqual(ring.movedRanges(direct, nodes.length), []);
            for (const k of keys)
              assert.deepEqual(ring.preferenceList(k, nodes.length), direct.preferenceList(k, nodes.length));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('movement is minimal', () => {
  test('adding a node moves keys only onto it, and shifts the other replicas down by one at most', () => {
    fc.assert(
      fc.property(
        members(1, 7),
        nodeId,
        settings,
        fc.array(key, { minLength: 1, maxLength: 40 }),
        (nodes, added, chosen, keys) => {
          fc.pre(!nodes.some((node) => node.id === added));
          const before = new HashRing(nodes, ringOptions(chosen));
          const after = before.withNode(added);
          for (const k of keys) {
            const owner = after.ownerOf(k);
            assert.ok(owner === before.ownerOf(k) || owner === added);
            const n = nodes.length;
            const withoutAdded = after.preferenceList(k, n + 1).filter((id) => id !== added);
            assert.deepEqual(withoutAdded, before.preferenceList(k, n));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('removing a node moves only its keys, and every other list keeps its order', () => {
    fc.assert(
      fc.property(
        members(2, 8),
        fc.nat(),
        settings,
        fc.array(key, { minLength: 1, maxLength: 40 }),
        (nodes, pick, chosen, keys) => {
          const removed = nodes[pick % nodes.length]!.id;
          const before = new HashRing(nodes, ringOptions(chosen));
          const after = before.withoutNode(removed);
          for (const k of keys) {
            if (before.ownerOf(k) !== removed) assert.equal(after.ownerOf(k), before.ownerOf(k));
            const full = before.preferenceList(k, nodes.length).filter((id) => id !== removed);
            assert.deepEqual(after.preferenceList(k, nodes.length - 1), full);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('movedRanges is the exact migration plan', () => {
  test('a position is inside a moved range exactly when its list differs, with both lists given', () => {
    fc.assert(
      fc.property(
        members(0, 6),
        members(0, 6),
        settings,
        fc.integer({ min: 1, max: 3 }),
        fc.array(position, { minLength: 10, maxLength: 60 }),
        (first, second, chosen, n, positions) => {
          const options = ringOptions(chosen);
          const before = new HashRing(first, options);
          const after = new HashRing(second, options);
          const plan = before.movedRanges(after, n);
          let previous: MovedRange | undefined;
          for (const range of plan) {
            assert.ok(range.from < range.to && range.from >= 0 && range.to <= RING_SIZE);
            if (previous) assert.ok(previous.to <= range.from, 'ranges are sorted and disjoint');
            previous = range;
          }
          const listOf = (ring: HashRing, at: number) =>
            ring.size === 0 ? [] : ring.preferenceListAt(at, Math.min(n, ring.size));
          const probes = [...positions, ...plan.flatMap((range) => [range.from, range.to - 1])];
          for (const at of probes) {
            const range = rangeHolding(plan, at);
            const changed = JSON.stringify(listOf(before, at)) !== JSON.stringify(listOf(after, at));
            assert.equal(range !== undefined, changed, `position ${at}`);
            if (range) {
              assert.deepEqual(range.before, listOf(before, at));
              assert.deepEqual(range.after, listOf(after, at));
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('planning in windows covers exactly the same ranges as planning the whole ring', () => {
    fc.assert(
      fc.property(
        members(1, 6),
        members(1, 6),
        settings,
        fc.integer({ min: 1, max: 3 }),
        fc.array(position, { minLength: 1, maxLength: 5 }),
        (a, b, chosen, n, cuts) => {
          const before = new HashRing(a, ringOptions(chosen));
          const after = new HashRing(b, ringOptions(chosen));
          const edges = [...new Set([0, ...cuts.filter((cut) => cut > 0), RING_SIZE])].sort((x, y) => x - y);
          const sliced = edges
            .slice(1)
            .flatMap((to, i) => before.movedRanges(after, n, { from: edges[i]!, to }));
          const whole = before.movedRanges(after, n);
          const covered = (ranges: readonly MovedRange[]) =>
            ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
          assert.equal(covered(sliced), covered(whole));
          for (const range of sliced) {
            const holder = rangeHolding(whole, range.from);
            assert.ok(holder !== undefined && range.to <= holder.to);
            assert.deepEqual([range.before, range.after], [holder.before, holder.after]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('rings compare across placements, and identical rings have an empty plan', () => {
    const nodes = ['a', 'b', 'c'];
    const partitions = new HashRing(nodes);
    assert.deepEqual(partitions.movedRanges(new HashRing(['c', 'a', 'b'])), []);
    const plan = partitions.movedRanges(new HashRing(nodes, { vnodes: 50 }));
    assert.ok(plan.length > 0);
    const movedBytes = plan.reduce((sum, range) => sum + (range.to - range.from), 0);
    assert.ok(movedBytes > 0 && movedBytes < RING_SIZE);
  });
});

describe('weights and evenness', () => {
  test('shares follow weights', () => {
    for (const options of [{}, { vnodes: 2000 }]) {
      const ring = new HashRing(
        [
          { id: 'w1', weight: 1 },
          { id: 'w2', weight: 2 },
          { id: 'w3', weight: 3 },
          { id: 'w4', weight: 4 },
        ],
        options,
      );
      const shares = ring.shares();
      for (const [id, share] of shares) {
        const expected = Number(id.slice(1)) / 10;
        assert.ok(Math.abs(share / expected - 1) < 0.06, `${id}: share ${share}, expected ${expected}`);
      }
      assert.ok(Math.abs([...shares.values()].reduce((a, b) => a + b) - 1) < 1e-9);
    }
  });

  test('the default ring meets the evenness and movement bars for 5 nodes and 1,000,000 keys', () => {
    const ids = [1, 2, 3, 4, 5].map((i) => `127.0.0.1-500${i}`);
    const ring = new HashRing(ids);
    const grown = ring.withNode('127.0.0.1-5006');
    const shrunk = ring.withoutNode(ids[2]!);
    const counts = new Map<string, number>();
    const received = new Map<string, number>();
    let movedOnAdd = 0;
    let movedOnRemove = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const k = `key${i}`;
      const owner = ring.ownerOf(k);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
      const ownerAfterAdd = grown.ownerOf(k);
      if (ownerAfterAdd !== owner) {
        movedOnAdd++;
        assert.equal(ownerAfterAdd, '127.0.0.1-5006');
      }
      const ownerAfterRemove = shrunk.ownerOf(k);
      if (ownerAfterRemove !== owner) {
        movedOnRemove++;
        assert.equal(owner, ids[2]);
        received.set(ownerAfterRemove, (received.get(ownerAfterRemove) ?? 0) + 1);
      }
    }
    assert.ok(Math.max(...counts.values()) / 200_000 <= 1.02, `evenness ${[...counts.values()]}`);
    assert.ok(movedOnAdd / 1_000_000 <= (1.05 * 1) / 6, `moved on add ${movedOnAdd}`);
    assert.equal(movedOnRemove, counts.get(ids[2]!));
    assert.equal(received.size, 4);
    assert.ok(
      Math.max(...received.values()) <= (1.1 * movedOnRemove) / 4,
      `spread ${[...received.values()]}`,
    );
  });
});

test('ranges() tiles the ring with the preference list of every position', () => {
  fc.assert(
    fc.property(
      members(1, 6),
      settings,
      fc.integer({ min: 1, max: 3 }),
      fc.array(position, { maxLength: 30 }),
      (nodes, chosen, n, positions) => {
        const ring = new HashRing(nodes, ringOptions(chosen));
        const ranges = ring.ranges(n);
        assert.equal(ranges[0]!.from, 0);
        assert.equal(ranges.at(-1)!.to, RING_SIZE);
        for (let i = 1; i < ranges.length; i++) {
          assert.equal(ranges[i]!.from, ranges[i - 1]!.to);
          assert.notDeepEqual(ranges[i]!.nodes, ranges[i - 1]!.nodes);
        }
        for (const at of positions) {
          const holder = ranges.find((range) => at >= range.from && at < range.to)!;
          assert.deepEqual(holder.nodes, ring.preferenceListAt(at, Math.min(n, ring.size)));
        }
      },
    ),
    { numRuns: RUNS },
  );
});
