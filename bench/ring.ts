/**
 * npm run bench:ring — the HashRing's bars, measured beside the original design's ring in one run:
 * evenness (max/mean keys per node), movement on adding a 6th node and on removing one, lookups per
 * second on one core, and the time to build a 100-node ring. 5 nodes, keys key0 ... key999999.
 */
import { HashRing, type HashRingOptions } from '../src/ring/hash-ring.js';
import { OriginalRing } from './reference/original-ring.js';
import { median, printTable } from './table.js';

interface Ring {
  ownerOf(key: string): string;
  withNode(id: string): Ring;
  withoutNode(id: string): Ring;
}

interface Candidate {
  readonly name: string;
  readonly build: (ids: readonly string[]) => Ring;
  readonly lookupKeys: number;
}

const KEY_COUNT = 1_000_000;
const keys = Array.from({ length: KEY_COUNT }, (_, i) => `key${i}`);
const ids = [1, 2, 3, 4, 5].map((i) => `127.0.0.1-500${i}`);
const addedId = '127.0.0.1-5006';

const ringkv = (options: HashRingOptions) => (members: readonly string[]) => new HashRing(members, options);
const candidates: Candidate[] = [
  { name: 'original (MD5, 100 vnodes)', build: (members) => new OriginalRing(members), lookupKeys: 200_000 },
  { name: 'tokens, 160 vnodes (ketama-like)', build: ringkv({ vnodes: 160 }), lookupKeys: KEY_COUNT },
  { name: 'tokens, 1000 vnodes', build: ringkv({ vnodes: 1000 }), lookupKeys: KEY_COUNT },
  { name: 'ringkv default (65536 partitions)', build: ringkv({}), lookupKeys: KEY_COUNT },
];

function countOwners(ring: Ring, sample: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of sample) {
    const owner = ring.ownerOf(key);
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return counts;
}

function evenness(counts: Map<string, number>, nodes: number, total: number): number {
  return Math.max(...counts.values()) / (total / nodes);
}

function movement(ring: Ring) {
  const grown = ring.withNode(addedId);
  const removedId = ids[2]!;
  const shrunk = ring.withoutNode(removedId);
  let movedOnAdd = 0;
  let addedElsewhere = 0;
  let movedOnRemove = 0;
  let removedFromOthers = 0;
  const received = new Map<string, number>();
  for (const key of keys) {
    const owner = ring.ownerOf(key);
    const afterAdd = grown.ownerOf(key);
    if (afterAdd !== owner) {
      movedOnAdd++;
      if (afterAdd !== addedId) addedElsewhere++;
    }
    const afterRemove = shrunk.ownerOf(key);
    if (afterRemove !== owner) {
      movedOnRemove++;
      if (owner !== removedId) removedFromOthers++;
      received.set(afterRemove, (received.get(afterRemove) ?? 0) + 1);
    }
  }
  const fairShare = movedOnRemove / (ids.length - 1);
  return {
    addRatio: movedOnAdd / KEY_COUNT / (1 / 6),
    addOnlyToNew: addedElsewhere === 0,
    removeOnlyOwn: removedFromOthers === 0,
    removeSpread:
      received.size === ids.length - 1
        ? Math.max(...received.values()) / fairShare
        : Number.POSITIVE_INFINITY,
  };
}

function lookupsPerSecond(ring: Ring, count: number): number {
  const sample = keys.slice(0, count);
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) {
    let checksum = 0;
    const started = process.hrtime.bigint();
    for (const key of sample) checksum += ring.ownerOf(key).length;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (checksum === 0) throw new Error('unreachable: keeps the loop from being optimized away');
    rates.push(count / seconds);
  }
  return median(rates);
}

function buildMilliseconds(candidate: Candidate): number {
  const times: number[] = [];
  for (let run = 0; run < 7; run++) {
    const members = Array.from({ length: 100 }, (_, i) => `10.0.${run}.${i}-5001`);
    const started = process.hrtime.bigint();
    candidate.build(members);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

/** Evenness over random 5-node member sets on 200,000 keys: shows the default ids were not a lucky pick. */
function evennessSpread(candidate: Candidate): { median: number; worst: number } {
  const sample = keys.slice(0, 200_000);
  const values: number[] = [];
  for (let set = 0; set < 20; set++) {
    const members = Array.from(
      { length: 5 },
      (_, i) => `host${set}x${(i * 7919 + set * 104729) % 100000}-${5001 + i}`,
    );
    values.push(evenness(countOwners(candidate.build(members), sample), 5, sample.length));
  }
  return { median: median(values), worst: Math.max(...values) };
}

const fixed = (value: number, digits = 3) => value.toFixed(digits);
const rows: string[][] = [];
const results = new Map<
  string,
  { even: number; move: ReturnType<typeof movement>; lookups: number; build: number }
>();
for (const candidate of candidates) {
  const ring = candidate.build(ids);
  const even = evenness(countOwners(ring, keys), ids.length, KEY_COUNT);
  const move = movement(ring);
  const lookups = lookupsPerSecond(ring, candidate.lookupKeys);
  const build = buildMilliseconds(candidate);
  const spread = evennessSpread(candidate);
  results.set(candidate.name, { even, move, lookups, build });
  rows.push([
    candidate.name,
    fixed(even),
    `${fixed(spread.median)} / ${fixed(spread.worst)}`,
    `${fixed(move.addRatio)}${move.addOnlyToNew ? '' : ' (!)'}`,
    `${move.removeOnlyOwn ? 'yes' : 'NO'}, ${fixed(move.removeSpread)}`,
    fixed(lookups / 1e6, 2),
    fixed(build, 1),
  ]);
}

console.log(
  `HashRing, 5 nodes, ${KEY_COUNT.toLocaleString('en-US')} keys (key0 ... key${KEY_COUNT - 1}), node ${process.version}\n`,
);
printTable(
  [
    'ring',
    'max/mean',
    'random sets med/worst',
    'add: moved ÷ 1/6',
    'remove: own keys only, max/fair',
    'M lookups/s',
    '100-node build ms',
  ],
  rows,
);
console.log(
  '\n(!) = some keys moved between old nodes. "random sets": 20 random 5-node memberships, 200,000 keys.',
);

const original = results.get(candidates[0]!.name)!;
const ours = results.get(candidates.at(-1)!.name)!;
const bars: [string, boolean, string][] = [
  ['evenness max/mean <= 1.02', ours.even <= 1.02, fixed(ours.even)],
  [
    'add: moved <= 1.05 x 1/6, all onto the new node',
    ours.move.addRatio <= 1.05 && ours.move.addOnlyToNew,
    fixed(ours.move.addRatio),
  ],
  [
    'remove: only its keys, none > 1.1 x fair share',
    ours.move.removeOnlyOwn && ours.move.removeSpread <= 1.1,
    fixed(ours.move.removeSpread),
  ],
  ['>= 5,000,000 ownerOf lookups/s', ours.lookups >= 5e6, `${fixed(ours.lookups / 1e6, 2)} M/s`],
  ['100-node ring builds in < 50 ms', ours.build < 50, `${fixed(ours.build, 1)} ms`],
];
console.log('\nBars for the ringkv default:');
printTable(
  ['bar', 'result', 'measured'],
  bars.map(([bar, ok, value]) => [bar, ok ? 'PASS' : 'FAIL', value]),
);
console.log(
  `\nAgainst the original: evenness ${fixed(original.even)} -> ${fixed(ours.even)}, lookups ${fixed(ours.lookups / original.lookups, 1)}x faster.`,
);
process.exitCode = bars.every(([, ok]) => ok) ? 0 : 1;
