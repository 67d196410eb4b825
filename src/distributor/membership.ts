import { RingKvError } from '../errors.js';
import { HashRing, type PlacementSettings } from '../ring/hash-ring.js';
import { validateNodeId } from '../ring/ring-node.js';
import { readFileIfExists, writeFileAtomically } from '../storage/atomic-file.js';

/** A storage node in the cluster. */
export interface Member {
  readonly id: string;
  /** Base URL, `http://host:port`. */
  readonly url: string;
  readonly weight: number;
  /** Set when this distributor runs the node as a local process on this port. */
  readonly localPort?: number;
  /** `stopped` after POST /shutdown: still a member (its keys answer 503), not restarted. */
  readonly desired: 'running' | 'stopped';
}

/**
 * A membership change whose data move has started but not finished; resumed after a restart. While
 * `copying`, the current members are the ones before the move and `target` the ones after. Once the ring has
 * switched it is `dropping`: the members are the target and `previous` the ones before, whose old owners
 * still have to drop what they gave up.
 */
export interface PendingMove {
  readonly kind: 'add' | 'remove';
  readonly node: string;
  readonly phase: 'copying' | 'dropping';
  readonly target: readonly Member[];
  readonly previous?: readonly Member[];
  readonly startedAt: string;
}

/**
 * What the distributor keeps in `<data-dir>/distributor/membership.json`: enough to bring back the same
 * cluster after a restart, and to finish a move that was cut off.
 */
export interface Membership {
  readonly format: 1;
  readonly ringVersion: number;
  readonly placement: PlacementSettings;
  /** N: copies of each key, on the first N nodes of its preference list. */
  readonly replicas: number;
  /** R: replicas that must answer a read (the newest version among them wins). */
  readonly readQuorum: number;
  /** W: replicas that must acknowledge a write before it is acknowledged. */
  readonly writeQuorum: number;
  readonly members: readonly Member[];
  readonly move: PendingMove | null;
}

/** The ring of these members (only their ids and weights count) under these placement settings. */
export function ringOf(
  members: readonly Pick<Member, 'id' | 'weight'>[],
  placement: PlacementSettings,
): HashRing {
  const options =
    placement.kind === 'partitions' ? { partitions: placement.partitions } : { vnodes: placement.vnodes };
  return new HashRing(
    members.map((member) => ({ id: member.id, weight: member.weight })),
    options,
  );
}

function invalid(path: string, reason: string): RingKvError {
  return new RingKvError('RINGKV_ERR_BAD_MEMBERSHIP_FILE', `${path}: ${reason}`);
}

function validMember(value: unknown, path: string): Member {
  const member = value as Partial<Member> | null;
  if (typeof member !== 'object' || member === null) throw invalid(path, 'a member is not an object');
  validateNodeId(member.id);
  if (typeof member.url !== 'string' || !/^https?:\/\/[^/]+$/.test(member.url))
    throw invalid(path, `member ${member.id}: bad url`);
  if (typeof member.weight !== 'number' || !(member.weight > 0))
    throw invalid(path, `member ${member.id}: bad weight`);
  if (
    member.localPort !== undefined &&
    !(Number.isInteger(member.localPort) && member.localPort > 0 && member.localPort < 65536)
  ) {
    throw invalid(path, `member ${member.id}: bad localPort`);
  }
  if (member.desired !== 'running' && member.desired !== 'stopped')
    throw invalid(path, `member ${member.id}: bad desired state`);
  return member as Member;
}

/** Checks a parsed membership file; throws RINGKV_ERR_BAD_MEMBERSHIP_FILE naming what is wrong. */
export function validateMembership(value: unknown, path: string): Membership {
  const state = value as Partial<Membership> | null;
  if (typeof state !== 'object' || state === null || state.format !== 1)
    throw invalid(path, 'not a format-1 membership file');
  if (!Number.isInteger(state.ringVersion) || (state.ringVersion as number) < 1)
    throw invalid(path, 'bad ringVersion');
  const n = state.replicas as number;
  if (!Number.isInteger(n) || n < 1) throw invalid(path, 'bad replicas');
  for (const quorum of [state.readQuorum, state.writeQuorum]) {
    if (!Number.isInteger(quorum) || (quorum as number) < 1 || (quorum as number) > n) {
      throw invalid(path, 'bad read or write quorum');
    }
  }
  if (!Array.isArray(state.members)) throw invalid(path, 'members is not a list');
  const members = state.members.map((member) => validMember(member, path));
  const move = state.move ?? null;
  if (move !== null) {
    const phaseValid =
      move.phase === 'copying' || (move.phase === 'dropping' && Array.isArray(move.previous));
    if ((move.kind !== 'add' && move.kind !== 'remove') || !Array.isArray(move.target) || !phaseValid) {
      throw invalid(path, 'bad pending move');
    }
    for (const member of [...move.target, ...(move.previous ?? [])]) validMember(member, path);
  }
  try {
    ringOf(members, state.placement as PlacementSettings);
  } catch (error) {
    throw invalid(path, `members or placement do not form a ring: ${(error as Error).message}`);
  }
  return {
    format: 1,
    ringVersion: state.ringVersion!,
    placement: state.placement!,
    replicas: n,
    readQuorum: state.readQuorum!,
    writeQuorum: state.writeQuorum!,
    members,
    move,
  };
}

export async function loadMembership(path: string): Promise<Membership | undefined> {
  const text = await readFileIfExists(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  return validateMembership(parsed, path);
}

export function saveMembership(path: string, membership: Membership): Promise<void> {
  return writeFileAtomically(path, `${JSON.stringify(membership, null, 2)}\n`);
}

/** N, R and W of a cluster. */
export interface Replication {
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
}

/**
 * N, R and W for a cluster of `members` nodes: N defaults to 3 (or the node count when smaller), R and W to a
 * majority of N. Throws RINGKV_ERR_INVALID_OPTION naming the setting when they cannot hold together.
 */
export function replicationFor(members: number, requested: Partial<Replication>): Replication {
  const replicas = requested.replicas ?? Math.min(3, members);
  if (replicas > members) {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `replicas (N = ${replicas}) cannot exceed the number of nodes (${members})`,
    );
  }
  const majority = Math.floor(replicas / 2) + 1;
  const readQuorum = requested.readQuorum ?? majority;
  const writeQuorum = requested.writeQuorum ?? majority;
  for (const [name, value] of [
    ['read quorum (R)', readQuorum],
    ['write quorum (W)', writeQuorum],
  ] as const) {
    if (value < 1 || value > replicas) {
      throw new RingKvError(
        'RINGKV_ERR_INVALID_OPTION',
        `${name} must be between 1 and replicas (N = ${replicas}), got ${value}`,
      );
    }
  }
  return { replicas, readQuorum, writeQuorum };
}
