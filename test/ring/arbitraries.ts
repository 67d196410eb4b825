/** fast-check generators shared by the ring's property tests. */
import fc from 'fast-check';
import type { HashRingOptions } from '../../src/ring/hash-ring.js';
import type { ReferenceSettings } from './reference-ring.js';

export const nodeId = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((id) => id !== '.' && id !== '..');

export const members = (minLength: number, maxLength: number) =>
  fc.uniqueArray(fc.record({ id: nodeId, weight: fc.constantFrom(1, 1, 2, 0.5, 3.25) }), {
    minLength,
    maxLength,
    selector: (node) => node.id,
  });

/** Small settings so that segment boundaries, ties and wrap-around all get exercised. */
export const settings: fc.Arbitrary<ReferenceSettings> = fc.oneof(
  fc
    .constantFrom(16, 32, 128, 1024, 65536)
    .map((partitions) => ({ kind: 'partitions' as const, partitions })),
  fc.integer({ min: 1, max: 40 }).map((vnodes) => ({ kind: 'tokens' as const, vnodes })),
);

export function ringOptions(chosen: ReferenceSettings): HashRingOptions {
  return chosen.kind === 'partitions' ? { partitions: chosen.partitions } : { vnodes: chosen.vnodes };
}

export const key = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.uint8Array({ maxLength: 24 }),
);

export const position = fc.integer({ min: 0, max: 2 ** 32 - 1 });
