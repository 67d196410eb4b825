import type { IncomingMessage } from 'node:http';
import { RingKvError } from '../errors.js';
import { readSecretFile, writeSecretFile } from '../security/secret-file.js';
import {
  CLUSTER_SECRET_HEADER,
  clusterIdOf,
  SecretMatcher,
  unauthorized,
  validateSecret,
} from '../security/secrets.js';

interface ClusterFile {
  readonly clusterId: string;
  readonly secret: string;
}

/**
 * A node's belonging to one cluster. A node nobody has joined is open (a standalone node, as in the original
 * design). Once a distributor joins it (`POST /internal/join` with the cluster's secret), or when it starts with
 * a secret, it belongs to that cluster for good: every route but health and metrics then needs the secret, so no
 * client can read or write around the distributor, and a distributor with another secret is refused. The
 * membership is kept in `<data-dir>/<id>.cluster.json`, readable by its owner only.
 */
export class ClusterGuard {
  readonly #path: string;
  #membership: (ClusterFile & { readonly matcher: SecretMatcher }) | undefined;

  private constructor(path: string, membership: ClusterFile | undefined) {
    this.#path = path;
    if (membership !== undefined)
      this.#membership = { ...membership, matcher: new SecretMatcher(membership.secret) };
  }

  /** Opens the node's membership; with `secret`, joins that cluster at once (refusing if it belongs to another). */
  static async open(path: string, secret: string | undefined): Promise<ClusterGuard> {
    const saved = await readSecretFile<ClusterFile>(path);
    if (saved !== undefined) validateSecret(saved.secret, path);
    const guard = new ClusterGuard(path, saved);
    if (secret !== undefined) await guard.join(secret);
    return guard;
  }

  /** The cluster this node belongs to, or null while nobody has joined it. */
  get clusterId(): string | null {
    return this.#membership?.clusterId ?? null;
  }

  /** The cluster's secret, for requests this node makes to other nodes (moves). */
  get secret(): string | undefined {
    return this.#membership?.secret;
  }

  /** Throws 401 RINGKV_ERR_UNAUTHORIZED when the node belongs to a cluster and the request lacks its secret. */
  check(request: IncomingMessage): void {
    const membership = this.#membership;
    if (membership === undefined) return;
    const presented = request.headers[CLUSTER_SECRET_HEADER];
    if (!membership.matcher.matches(typeof presented === 'string' ? presented : undefined)) {
      throw unauthorized(
        `this node belongs to ${membership.clusterId}: use its distributor (requests to the node need the cluster secret)`,
      );
    }
  }

  /** Joins the cluster of `secret`; idempotent for the same cluster, refused for another. */
  async join(secret: string): Promise<string> {
    validateSecret(secret, 'the cluster secret');
    const clusterId = clusterIdOf(secret);
    const membership = this.#membership;
    if (membership !== undefined) {
      if (membership.matcher.matches(secret)) return membership.clusterId;
      throw new RingKvError(
        'RINGKV_ERR_NODE_IN_OTHER_CLUSTER',
        `this node belongs to ${membership.clusterId}; it will not join ${clusterId}`,
        { cluster: membership.clusterId },
      );
    }
    await writeSecretFile(this.#path, { clusterId, secret });
    this.#membership = { clusterId, secret, matcher: new SecretMatcher(secret) };
    return clusterId;
  }
}
