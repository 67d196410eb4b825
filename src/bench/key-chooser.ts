/** Seeded choices for load generation, so a run can be repeated exactly. */

/** mulberry32: a small, fast, seeded PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type KeyDistribution = 'uniform' | 'zipfian';

/**
 * Picks key indexes in [0, keys). Zipfian follows YCSB's generator (Gray et al., "Quickly generating
 * billion-record synthetic databases") with theta 0.99: index 0 is the hottest key, and a few keys take
 * most requests, as in real caches.
 */
export function keyChooser(distribution: KeyDistribution, keys: number, random: () => number): () => number {
  if (distribution === 'uniform') return () => Math.floor(random() * keys);
  const theta = 0.99;
  let zetaN = 0;
  for (let i = 1; i <= keys; i++) zetaN += 1 / i ** theta;
  const zeta2 = 1 + 1 / 2 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / keys) ** (1 - theta)) / (1 - zeta2 / zetaN);
  return () => {
    const u = random();
    const uz = u * zetaN;
    if (uz < 1) return 0;
    if (uz < zeta2) return 1;
    return Math.min(keys - 1, Math.floor(keys * (eta * u - eta + 1) ** alpha));
  };
}
