import { RingKvError } from '../errors.js';

/** A member of the ring. `weight` scales its share of the keys (default 1). */
export interface RingNode {
  readonly id: string;
  readonly weight: number;
}

/** How callers name a member: its id alone (weight 1) or an id with a weight. */
export type NodeSpec = string | { readonly id: string; readonly weight?: number };

export const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const NODE_WEIGHT_MAX = 1_000_000;

/**
 * Node ids name files and appear in URLs, so they are restricted to letters, digits, `.`, `_` and `-`
 * (1 to 128 characters) and may not be `.` or `..`: no id can steer a path out of a data directory.
 */
export function validateNodeId(id: unknown): string {
  if (typeof id !== 'string' || !NODE_ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_NODE',
      `invalid node id ${JSON.stringify(id)}: use 1-128 of A-Z a-z 0-9 . _ - (not "." or "..")`,
    );
  }
  return id;
}

export function normalizeNode(spec: unknown): RingNode {
  if (typeof spec === 'string') return { id: validateNodeId(spec), weight: 1 };
  if (typeof spec !== 'object' || spec === null) {
    throw new RingKvError('RINGKV_ERR_INVALID_NODE', 'a node is an id string or { id, weight }');
  }
  const { id, weight = 1, ...rest } = spec as { id?: unknown; weight?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new RingKvError('RINGKV_ERR_INVALID_NODE', `unknown node field "${extra[0]}" (known: id, weight)`);
  }
  const validId = validateNodeId(id);
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > NODE_WEIGHT_MAX) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_NODE',
      `node ${validId}: weight must be a finite number in (0, ${NODE_WEIGHT_MAX}], got ${String(weight)}`,
    );
  }
  return { id: validId, weight };
}
