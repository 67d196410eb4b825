// Proves versions order correctly as strings and the hybrid logical clock never goes backwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RingKvError } from '../../src/errors.js';
import { HybridLogicalClock } from '../../src/version/hlc.js';
import { compareVersions, formatVersion, parseVersion } from '../../src/version/version.js';

const parts = fc.record({
  wallMs: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
  logical: fc.integer({ min: 0, max: 0xffff }),
  writer: fc.constantFrom('a', 'b', 'dist-1', 'node.5001', 'z'),
});

test('versions compare as strings exactly as (wall, logical, writer) tuples do', () => {
  fc.assert(
    fc.property(parts, parts, (a, b) => {
      const tuple =
        Math.sign(a.wallMs - b.wallMs) ||
        Math.sign(a.logical - b.logical) ||
        (a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : 0);
      assert.equal(Math.sign(compareVersions(formatVersion(a), formatVersion(b))), tuple);
      assert.deepEqual(parseVersion(formatVersion(a)), { ...a });
    }),
  );
});

test('malformed versions are typed errors', () => {
  for (const bad of ['', '1.2.w', '00000000000g.0000.w', '000000000001.0000.', '000000000001.0000.a/b', 42]) {
    assert.throws(
      () => parseVersion(bad),
      (error: unknown) => error instanceof RingKvError && error.code === 'RINGKV_ERR_INVALID_VERSION',
    );
  }
});

test('the clock is strictly monotonic even when physical time stands still or runs backwards', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 300 }), (times) => {
      let index = 0;
      const clock = new HybridLogicalClock({
        writer: 'w',
        physicalNowMs: () => 1_000 + times[index % times.length]!,
      });
      let previous = '';
      for (; index < times.length * 2; index++) {
        const next = clock.now();
        assert.ok(next > previous, `${next} after ${previous}`);
        previous = next;
      }
    }),
  );
});

test('after observing a version, every new version is greater than it', () => {
  fc.assert(
    fc.property(parts, fc.integer({ min: 0, max: 2 ** 40 }), (remote, physical) => {
      const clock = new HybridLogicalClock({
        writer: 'w',
        physicalNowMs: () => physical,
        maxDriftMs: 2 ** 48,
      });
      const observed = formatVersion(remote);
      clock.observe(observed);
      assert.ok(clock.now() > observed);
    }),
  );
});

test('the logical counter overflows into the next millisecond', () => {
  const clock = new HybridLogicalClock({ writer: 'w', physicalNowMs: () => 5 });
  let last = '';
  for (let i = 0; i < 0x10002; i++) last = clock.now();
  assert.deepEqual(parseVersion(last), { wallMs: 6, logical: 1, writer: 'w' });
});

test('a version too far in the future is refused and leaves the clock unchanged', () => {
  const clock = new HybridLogicalClock({ writer: 'w', physicalNowMs: () => 10_000, maxDriftMs: 1_000 });
  const before = clock.now();
  assert.throws(
    () => clock.observe(formatVersion({ wallMs: 11_001, logical: 0, writer: 'x' })),
    (error: unknown) => error instanceof RingKvError && error.code === 'RINGKV_ERR_CLOCK_SKEW',
  );
  clock.observe(formatVersion({ wallMs: 11_000, logical: 0, writer: 'x' }));
  const after = clock.now();
  assert.ok(after > before && parseVersion(after).wallMs === 11_000);
});
