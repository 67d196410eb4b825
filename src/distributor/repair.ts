import type { Logger } from 'pino';
import type { PositionRange } from '../node/protocol.js';
import type { HashRing } from '../ring/hash-ring.js';
import type { StoredRecord } from '../storage/record.js';
import type { NodeClient } from './node-client.js';

/** What GET /cluster and the logs show about the last or running repair. */
export interface RepairProgress {
  readonly phase: 'digesting' | 'repairing' | 'done' | 'failed';
  readonly rangesTotal: number;
  readonly rangesDigested: number;
  readonly rangesDiffering: number;
  readonly rangesRepaired: number;
  readonly keysRepaired: number;
  /** Replicas that were down: their ranges were compared among the others only. */
  readonly nodesSkipped: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
}

export interface RunRepairOptions {
  readonly ring: HashRing;
  readonly replicas: number;
  readonly clients: ReadonlyMap<string, NodeClient>;
  readonly logger: Logger;
  readonly onProgress: (progress: RepairProgress) => void;
  readonly signal: AbortSignal;
}

/** Ranges asked for in one digest request, and compared record by record in one step. */
const DIGEST_CHUNK = 5000;
const REPAIR_CHUNK = 200;
const APPLY_BATCH = 1000;

interface ReplicaSet {
  readonly nodes: readonly string[];
  readonly ranges: PositionRange[];
}

/**
 * Anti-entropy: makes every replica of every range hold the newest version of every key. Each node digests
 * the ranges it replicates (a count and a hash of its (key, version) pairs per range; no data moves); ranges
 * whose replicas' digests differ are read from each replica, and every record a replica lacks or holds in an
 * older version is written to it, tombstones included. Replicas that are down are skipped and reported.
 */
export async function runRepair(options: RunRepairOptions): Promise<RepairProgress> {
  const { ring, clients, logger, signal } = options;
  const ranges = ring.ranges(Math.min(options.replicas, ring.size));
  const startedAt = new Date().toISOString();
  const skipped = new Set<string>();
  let progress: RepairProgress = {
    phase: 'digesting',
    rangesTotal: ranges.length,
    rangesDigested: 0,
    rangesDiffering: 0,
    rangesRepaired: 0,
    keysRepaired: 0,
    nodesSkipped: [],
    startedAt,
    finishedAt: null,
    error: null,
  };
  const update = (change: Partial<RepairProgress>) => {
    progress = { ...progress, ...change, nodesSkipped: [...skipped] };
    options.onProgress(progress);
  };
  const ticker = setInterval(() => logger.info(progress, 'repair progress'), 1000);
  try {
    // Digests: each node, for every range it replicates.
    const indexesByNode = new Map<string, number[]>();
    ranges.forEach((range, index) => {
      for (const id of range.nodes) {
        const indexes = indexesByNode.get(id);
        if (indexes === undefined) indexesByNode.set(id, [index]);
        else indexes.push(index);
      }
    });
    const digestOf = new Map<string, Map<number, string>>();
    let digested = 0;
    for (const [id, indexes] of indexesByNode) {
      const client = clients.get(id);
      if (client === undefined || !client.available) {
        skipped.add(id);
        continue;
      }
      const mine = new Map<number, string>();
      for (let start = 0; start < indexes.length; start += DIGEST_CHUNK) {
        signal.throwIfAborted();
        const chunk = indexes.slice(start, start + DIGEST_CHUNK);
        const answer = await client.digest(chunk.map((index) => ranges[index]!));
        for (const [position, index] of chunk.entries()) mine.set(index, answer[position]!.join(':'));
        digested += chunk.length;
        update({ rangesDigested: digested });
      }
      digestOf.set(id, mine);
    }

    // Ranges whose replicas disagree, grouped by replica set so each set is read in a few requests.
    const sets = new Map<string, ReplicaSet>();
    let differing = 0;
    ranges.forEach((range, index) => {
      const present = range.nodes.filter((id) => digestOf.has(id));
      if (new Set(present.map((id) => digestOf.get(id)!.get(index))).size <= 1) return;
      differing++;
      const key = present.join(',');
      const set = sets.get(key) ?? { nodes: present, ranges: [] };
      set.ranges.push({ from: range.from, to: range.to });
      sets.set(key, set);
    });
    update({ phase: 'repairing', rangesDiffering: differing });

    let repairedRanges = 0;
    let repairedKeys = 0;
    for (const set of sets.values()) {
      for (let start = 0; start < set.ranges.length; start += REPAIR_CHUNK) {
        signal.throwIfAborted();
        const chunk = set.ranges.slice(start, start + REPAIR_CHUNK);
        repairedKeys += await repairChunk(set.nodes, chunk, clients);
        repairedRanges += chunk.length;
        update({ rangesRepaired: repairedRanges, keysRepaired: repairedKeys });
      }
    }
    update({ phase: 'done', finishedAt: new Date().toISOString() });
    logger.info(progress, 'repair done');
    return progress;
  } catch (error) {
    update({ phase: 'failed', finishedAt: new Date().toISOString(), error: (error as Error).message });
    throw error;
  } finally {
    clearInterval(ticker);
  }
}

/** Reads `ranges` from every node of a replica set and gives each node what it lacks; returns records written. */
async function repairChunk(
  nodes: readonly string[],
  ranges: readonly PositionRange[],
  clients: ReadonlyMap<string, NodeClient>,
): Promise<number> {
  const held = await Promise.all(nodes.map((id) => clients.get(id)!.records(ranges)));
  const newest = new Map<string, StoredRecord>();
  const versions = held.map((records) => {
    const byKey = new Map<string, string>();
    for (const record of records) {
      const key = Buffer.from(record.key).toString('latin1');
      byKey.set(key, record.version);
      const best = newest.get(key);
      if (best === undefined || record.version > best.version) newest.set(key, record);
    }
    return byKey;
  });
  let written = 0;
  await Promise.all(
    nodes.map(async (id, index) => {
      const lacking = [...newest.entries()]
        .filter(([key, record]) => (versions[index]!.get(key) ?? '') < record.version)
        .map(([, record]) => record);
      for (let start = 0; start < lacking.length; start += APPLY_BATCH) {
        await clients.get(id)!.applyBatch(lacking.slice(start, start + APPLY_BATCH));
      }
      written += lacking.length;
    }),
  );
  return written;
}
