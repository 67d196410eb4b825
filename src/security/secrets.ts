/**
 * Credentials: the admin token (clients' admin routes) and the cluster secret (the distributor's requests to
 * its nodes). Both are random 256-bit strings, compared in constant time through their SHA-256 digests, so
 * neither the length nor a prefix of the expected value leaks through timing.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { RingKvError } from '../errors.js';

/** The header carrying the cluster secret on every request from a distributor to a node, and node to node. */
export const CLUSTER_SECRET_HEADER = 'x-ringkv-cluster-secret';
/** Shortest secret or token accepted: anything shorter is guessable. */
export const SECRET_LENGTH_MIN = 16;
export const SECRET_LENGTH_MAX = 256;

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** One-shot (no Hash object): a node checks the cluster secret on every request. */
function digest(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/**
 * Checks presented secrets against one expected secret, in time independent of where they differ. The
 * expected digest is computed once, so a check on a hot path hashes only what was presented.
 */
export class SecretMatcher {
  readonly #digest: Buffer;

  constructor(expected: string) {
    this.#digest = digest(expected);
  }

  matches(presented: string | undefined): boolean {
    return presented !== undefined && timingSafeEqual(digest(presented), this.#digest);
  }
}

/** The public name of the cluster a secret belongs to: nodes record it, so they refuse a second cluster. */
export function clusterIdOf(secret: string): string {
  return `cluster-${createHash('sha256').update(`ringkv-cluster:${secret}`).digest('hex').slice(0, 16)}`;
}

/** Checks a secret or token given by a user; the message names where it came from. */
export function validateSecret(value: unknown, name: string): string {
  if (
    typeof value !== 'string' ||
    value.length < SECRET_LENGTH_MIN ||
    value.length > SECRET_LENGTH_MAX ||
    !/^[\x21-\x7e]+$/.test(value)
  ) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `${name} must be ${SECRET_LENGTH_MIN}-${SECRET_LENGTH_MAX} printable ASCII characters without spaces`,
    );
  }
  return value;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Whether binding to `host` keeps a server on this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '::1' || /^::ffff:127\./i.test(bare);
}

export function unauthorized(message: string): RingKvError {
  return new RingKvError('RINGKV_ERR_UNAUTHORIZED', message);
}
