/**
 * The wire contract between storage nodes and the distributor (docs/API.md, "Internal routes"): header
 * names, the record-stream content type, and the JSON shapes of the internal answers.
 */
import type { EngineKind, WriteOutcome } from '../storage/engine.js';

export { VERSION_HEADER } from '../http/kv-api.js';
export const TOMBSTONE_HEADER = 'x-ringkv-tombstone';
export const RECORDS_CONTENT_TYPE = 'application/x-ringkv-records';
export const MULTI_CONTENT_TYPE = 'application/x-ringkv-multi';
export const NODE_SERVICE = 'ringkv-node';

export interface NodeHealth {
  readonly status: 'ok' | 'stopping';
  readonly service: typeof NODE_SERVICE;
  readonly id: string;
  readonly engine: EngineKind;
  /** The cluster the node belongs to, or null while no distributor has joined it. */
  readonly cluster: string | null;
}

export interface NodeStats {
  readonly id: string;
  readonly engine: EngineKind;
  readonly liveKeys: number;
  readonly tombstones: number;
  readonly bytes: number;
  readonly changeCount: number;
}

export interface WriteAnswer {
  readonly outcome: WriteOutcome;
}

export interface BatchAnswer {
  readonly applied: number;
  readonly stale: number;
}

export interface DeleteAnswer extends WriteAnswer {
  /** The key's state before this delete, as the node saw it. */
  readonly previous: 'live' | 'tombstone' | 'absent';
}

/** The JSON body of scan, count and drop is `{ "ranges": [[from, to], ...] }`, positions [from, to). */
export type { PositionRange } from '../storage/engine.js';

export interface CountAnswer {
  readonly count: number;
}

export interface DropAnswer {
  readonly dropped: number;
}

/** Per requested range, in order: [record count, SHA-1 hex over its (key, version) pairs]. */
export interface DigestAnswer {
  readonly digests: readonly (readonly [number, string])[];
}
