// Proves the portable logarithm behind weighted placement is accurate and strictly monotonic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { portableLn } from '../../src/ring/placement.js';

test('portableLn agrees with Math.log to within a few units in the last place', () => {
  fc.assert(
    fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (x) => {
      fc.pre(x > 0);
      const expected = Math.log(x);
      assert.ok(Math.abs(portableLn(x) - expected) <= 4 * Number.EPSILON * Math.max(1, Math.abs(expected)));
    }),
    { numRuns: 5000 },
  );
});

test('portableLn is strictly increasing over the ranks of the largest partition table', () => {
  let previous = Number.NEGATIVE_INFINITY;
  for (let rank = 0; rank < 65_536; rank++) {
    const value = portableLn((rank + 0.5) / 65_536);
    assert.ok(value > previous, `rank ${rank}`);
    previous = value;
  }
});
