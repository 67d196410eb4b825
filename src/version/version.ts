import { RingKvError } from '../errors.js';
import { NODE_ID_PATTERN } from '../ring/ring-node.js';

/**
 * A record's version: a hybrid-logical-clock timestamp plus the id of the writer that assigned it.
 * On the wire and on disk it is the string `<wall ms, 12 hex>.<logical, 4 hex>.<writer id>`, fixed
 * width up to the writer, so versions order by plain string comparison: later wall time first, then
 * the logical counter, then the writer id as the tie-break. Last write wins by this order everywhere.
 */
export type Version = string;

export interface VersionParts {
  readonly wallMs: number;
  readonly logical: number;
  readonly writer: string;
}

export const WALL_MS_MAX = 0xffff_ffff_ffff;
export const LOGICAL_MAX = 0xffff;
const VERSION_PATTERN = /^[0-9a-f]{12}\.[0-9a-f]{4}\.[A-Za-z0-9._-]{1,128}$/;

export function formatVersion(parts: VersionParts): Version {
  return `${parts.wallMs.toString(16).padStart(12, '0')}.${parts.logical.toString(16).padStart(4, '0')}.${parts.writer}`;
}

export function isVersion(text: unknown): text is Version {
  return typeof text === 'string' && VERSION_PATTERN.test(text);
}

/** Throws RINGKV_ERR_INVALID_VERSION unless `text` is a well-formed version. */
export function parseVersion(text: unknown): VersionParts {
  if (!isVersion(text)) {
    throw new RingKvError('RINGKV_ERR_INVALID_VERSION', `malformed version ${JSON.stringify(text)}`);
  }
  return {
    wallMs: Number.parseInt(text.slice(0, 12), 16),
    logical: Number.parseInt(text.slice(13, 17), 16),
    writer: text.slice(18),
  };
}

export function wallMsOf(version: Version): number {
  return Number.parseInt(version.slice(0, 12), 16);
}

/** Negative if a is older than b, positive if newer, 0 if equal. */
export function compareVersions(a: Version, b: Version): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function assertWriterId(writer: string): void {
  if (!NODE_ID_PATTERN.test(writer)) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `writer id ${JSON.stringify(writer)} is not a valid node id`,
    );
  }
}
