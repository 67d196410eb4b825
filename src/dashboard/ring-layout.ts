import type { HashRing } from '../ring/hash-ring.js';
import { RING_SIZE } from '../ring/placement.js';

/** Positions sampled around the ring for the dashboard's drawing: finer than any screen shows. */
export const LAYOUT_SAMPLES = 4096;

/** The ring as the dashboard draws it: the members, and the owner of each of `samples` evenly spaced positions. */
export interface RingLayout {
  readonly nodes: readonly string[];
  readonly samples: number;
  /** Base64 of a little-endian Uint16Array: owners[i] indexes `nodes`, for position (i + 0.5) * 2^32 / samples. */
  readonly owners: string;
}

export function ringLayout(ring: HashRing, samples = LAYOUT_SAMPLES): RingLayout {
  const nodes = ring.nodes.map((node) => node.id);
  const index = new Map(nodes.map((id, i) => [id, i]));
  const owners = new Uint16Array(samples);
  if (nodes.length > 0) {
    for (let i = 0; i < samples; i++) {
      const position = Math.floor(((i + 0.5) * RING_SIZE) / samples);
      owners[i] = index.get(ring.preferenceListAt(position, 1)[0]!)!;
    }
  }
  return { nodes, samples, owners: Buffer.from(owners.buffer).toString('base64') };
}
