/**
 * A deliberately naive ring written from the placement spec in docs/RING.md: it scores every member
 * for every lookup and scans tokens linearly. The fast HashRing must agree with it everywhere.
 */
import { fmix32, murmur3String } from '../../src/ring/hash.js';

export interface ReferenceNode {
  readonly id: string;
  readonly weight: number;
}

export type ReferenceSettings =
  | { kind: 'partitions'; partitions: number }
  | { kind: 'tokens'; vnodes: number };

function feistelRank(id: string, bits: number, partition: number): number {
  const halfBits = Math.ceil(bits / 2);
  const width = 2 ** halfBits;
  const seed = murmur3String(id, 0x52494e47);
  const table = (i: number) => fmix32(seed ^ Math.imul(i + 1, 0x9e3779b1)) % width;
  let x = partition;
  do {
    let left = Math.floor(x / width);
    let right = x % width;
    for (let round = 0; round < 4; round++) {
      [left, right] = [right, left ^ table(round * width + right)];
    }
    x = left * width + right;
  } while (x >= 2 ** bits);
  return x;
}

function byId(a: ReferenceNode, b: ReferenceNode): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The full preference list (every member, in order) for a ring position. */
export function referenceRanking(
  nodes: readonly ReferenceNode[],
  settings: ReferenceSettings,
  position: number,
): string[] {
  if (settings.kind === 'partitions') {
    const bits = Math.log2(settings.partitions);
    const partition = Math.floor(position / 2 ** (32 - bits));
    const scored = nodes.map((node) => ({
      node,
      score: node.weight / -Math.log((feistelRank(node.id, bits, partition) + 0.5) / settings.partitions),
    }));
    scored.sort((a, b) => b.score - a.score || byId(a.node, b.node));
    return scored.map((entry) => entry.node.id);
  }
  const tokens: { position: number; node: ReferenceNode }[] = [];
  for (const node of nodes) {
    const count = Math.max(1, Math.round(settings.vnodes * node.weight));
    for (let i = 0; i < count; i++) tokens.push({ position: murmur3String(`${node.id}#${i}`), node });
  }
  tokens.sort((a, b) => a.position - b.position || byId(a.node, b.node));
  let start = tokens.findIndex((token) => token.position >= position);
  if (start === -1) start = 0;
  const ranking: string[] = [];
  for (let step = 0; ranking.length < nodes.length; step++) {
    const id = tokens[(start + step) % tokens.length]!.node.id;
    if (!ranking.includes(id)) ranking.push(id);
  }
  return ranking;
}
