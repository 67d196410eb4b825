import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { RingKvError } from '../errors.js';
import type { DeleteAnswer, WriteAnswer } from '../node/protocol.js';
import type { HashRing } from '../ring/hash-ring.js';
import { clusterIdOf } from '../security/secrets.js';
import type { EngineKind } from '../storage/engine.js';
import type { StoredRecord } from '../storage/record.js';
import { HybridLogicalClock } from '../version/hlc.js';
import type { Version } from '../version/version.js';
import { HealthMonitor } from './health-monitor.js';
import { HintStore } from './hint-store.js';
import { LocalNodes, localSocketPath, portIsFree, removeNodeFiles } from './local-nodes.js';
import { type Member, type Membership, type PendingMove, ringOf, saveMembership } from './membership.js';
import { type MoveProgress, type MoveSummary, runMove } from './migration.js';
import type { MovePacer } from './move-pacer.js';
import { NodeClient, type NodeClientSettings, type NodeRead } from './node-client.js';
import { quorum } from './quorum.js';
import { type RepairProgress, runRepair } from './repair.js';

/** Where and how this distributor runs nodes itself (`ringkv start`); absent for `ringkv distributor`. */
export interface LocalNodeSettings {
  readonly host: string;
  readonly dataDir: string;
  readonly engine: EngineKind;
  readonly snapshotIntervalSeconds: number;
  /** Given to each local node at start (in its environment, not its command line). */
  readonly clusterSecret: string;
}

export interface ClusterOptions {
  /** The distributor's id: the writer id in the versions it assigns. */
  readonly id: string;
  readonly membershipPath: string;
  readonly local?: LocalNodeSettings;
  readonly nodeLimits: NodeClientSettings;
  readonly healthIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** Speed limit of data moves, keys per second. */
  readonly moveKeysPerSecond: number;
  /** Slows moves down while clients' requests slow down (move-pacer.ts); without it moves keep to the limit. */
  readonly movePacer?: MovePacer;
  readonly logger: Logger;
  readonly physicalNowMs: () => number;
  /** Called for every read or write sent to a node for a client (metrics). */
  readonly onOperation?: (
    node: string,
    kind: string,
    durationMs: number,
    errorCode: string | undefined,
  ) => void;
}

/** Which ring routes requests; during a move both rings do (reads ask both owners, writes go to the new). */
interface Routing {
  readonly epoch: number;
  readonly current: HashRing;
  readonly next: HashRing | undefined;
}

export interface WriteResult {
  readonly version: Version;
  readonly previous: 'live' | 'tombstone' | 'absent';
}

/** What an add or a remove did: the member, and what its move carried. */
export interface ChangeResult {
  readonly member: Member;
  readonly moved: MoveSummary;
}

export type MemberStatus = 'up' | 'down' | 'joining' | 'leaving';

export interface MemberView {
  readonly id: string;
  readonly url: string;
  readonly status: MemberStatus;
  readonly weight: number;
  readonly local: boolean;
  /** Live keys and stored bytes at the last health check; null before the first. */
  readonly keys: number | null;
  readonly bytes: number | null;
  readonly share: number;
  /** Writes waiting for this node (hinted handoff). */
  readonly hintsPending: number;
  /** How the distributor reaches the node: its Unix socket (a local node) or TCP. */
  readonly transport: 'unix' | 'tcp';
}

export interface ClusterView {
  readonly distributor: string;
  readonly ringVersion: number;
  readonly placement: Membership['placement'];
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  readonly members: readonly MemberView[];
  readonly move: MoveProgress | null;
  readonly hints: { readonly pending: number; readonly delivered: number };
  readonly readRepairs: number;
  /** The running repair, or the last one. */
  readonly repair: RepairProgress | null;
}

/** The newest of several reads: the highest version wins, a tombstone included. */
export function newestRead(reads: readonly NodeRead[]): NodeRead {
  let newest: NodeRead = { kind: 'absent' };
  for (const read of reads) {
    if (read.kind !== 'absent' && (newest.kind === 'absent' || read.version > newest.version)) newest = read;
  }
  return newest;
}

/**
 * The cluster as the distributor sees it: the members and their clients, which ring routes each key, and
 * the membership changes (one at a time) that move data between nodes. Persists membership in a file so a
 * restart brings back the same cluster, and resumes a move that a crash cut off.
 */
export class Cluster {
  readonly #options: ClusterOptions;
  readonly #logger: Logger;
  readonly #clock: HybridLogicalClock;
  readonly #clients = new Map<string, NodeClient>();
  readonly #health: HealthMonitor;
  readonly #local: LocalNodes | undefined;
  #state: Membership;
  #routing: Routing;
  #shares = new Map<string, number>();
  readonly #inFlight = new Map<number, number>();
  #drainWaiters: (() => void)[] = [];
  #change: { readonly description: string; readonly done: Promise<unknown> } | undefined;
  #progress: MoveProgress | undefined;
  readonly #abort = new AbortController();
  readonly #hints: HintStore;
  /** Nodes that may have hints waiting. */
  readonly #hintsWaiting = new Set<string>();
  #hintTimer: NodeJS.Timeout | undefined;
  #hintDelivery: Promise<void> | undefined;
  #hintsDelivered = 0;
  #readRepairs = 0;
  #repairProgress: RepairProgress | undefined;

  private constructor(options: ClusterOptions, state: Membership) {
    this.#options = options;
    this.#logger = options.logger;
    this.#state = state;
    this.#clock = new HybridLogicalClock({ writer: options.id, physicalNowMs: options.physicalNowMs });
    this.#routing = { epoch: 1, current: ringOf(state.members, state.placement), next: undefined };
    this.#shares = this.#routing.current.shares();
    this.#health = new HealthMonitor({
      logger: options.logger,
      intervalMs: options.healthIntervalMs,
      probeTimeoutMs: options.probeTimeoutMs,
      clients: () => this.#clients.values(),
    });
    this.#hints = new HintStore(join(dirname(options.membershipPath), 'hints.lmdb'));
    this.#local =
      options.local === undefined
        ? undefined
        : new LocalNodes({
            logger: options.logger,
            onUnexpectedExit: (id) => this.#markDown(id, 'its process exited'),
          });
  }

  /** Opens the cluster from its saved membership: starts local nodes, health checks, and any unfinished move. */
  static async open(options: ClusterOptions, state: Membership): Promise<Cluster> {
    const cluster = new Cluster(options, state);
    const everyone = new Map(state.members.map((member) => [member.id, member]));
    for (const member of state.move?.target ?? [])
      if (!everyone.has(member.id)) everyone.set(member.id, member);
    for (const member of everyone.values()) cluster.#client(member);
    await Promise.all(
      [...everyone.values()]
        .filter((member) => member.localPort !== undefined && member.desired === 'running')
        .map((member) => cluster.#startLocal(member)),
    );
    for (const member of everyone.values())
      if (member.desired === 'stopped') cluster.#clients.get(member.id)!.available = false;
    await cluster.#health.checkAll();
    cluster.#health.start();
    for (const node of cluster.#hints.pending(everyone.keys()).keys()) cluster.#hintsWaiting.add(node);
    cluster.#hintTimer = setInterval(() => {
      cluster.#hintDelivery ??= cluster.#deliverHints().finally(() => {
        cluster.#hintDelivery = undefined;
      });
    }, 500).unref();
    if (state.move !== null) {
      cluster.#logger.warn(
        { move: state.move.kind, node: state.move.node },
        'resuming a move that did not finish',
      );
      cluster
        .#begin(`${state.move.kind} ${state.move.node} (resumed)`, () => cluster.#execute(state.move!))
        .catch(() => {});
    }
    return cluster;
  }

  get state(): Membership {
    return this.#state;
  }

  get localNodes(): LocalNodes | undefined {
    return this.#local;
  }

  #client(member: Member): NodeClient {
    let client = this.#clients.get(member.id);
    if (client === undefined) {
      const created = new NodeClient(
        member.id,
        member.url,
        this.#options.nodeLimits,
        this.#localSocket(member),
      );
      created.onUnreachable = (reason) => this.#health.markDown(created, reason);
      const { onOperation } = this.#options;
      if (onOperation !== undefined)
        created.onOperation = (kind, durationMs, errorCode) =>
          onOperation(member.id, kind, durationMs, errorCode);
      this.#clients.set(member.id, created);
      client = created;
    }
    return client;
  }

  /** The Unix socket a node this distributor runs serves on, if it has one. */
  #localSocket(member: Member): string | undefined {
    const local = this.#options.local;
    return local === undefined || member.localPort === undefined
      ? undefined
      : localSocketPath(local.dataDir, member.id);
  }

  #markDown(id: string, reason: string): void {
    const client = this.#clients.get(id);
    if (client !== undefined) this.#health.markDown(client, reason);
  }

  async #startLocal(member: Member): Promise<void> {
    const local = this.#options.local;
    if (this.#local === undefined || local === undefined || member.localPort === undefined) {
      throw new RingKvError('RINGKV_ERR_NOT_LOCAL', `node ${member.id} is not run by this distributor`);
    }
    await this.#local.start({
      id: member.id,
      host: local.host,
      port: member.localPort,
      dataDir: local.dataDir,
      engine: local.engine,
      snapshotIntervalSeconds: local.snapshotIntervalSeconds,
      clusterSecret: local.clusterSecret,
      socketPath: this.#localSocket(member),
    });
  }

  // --- the request path -------------------------------------------------------------------------------

  #enter(): Routing {
    const routing = this.#routing;
    this.#inFlight.set(routing.epoch, (this.#inFlight.get(routing.epoch) ?? 0) + 1);
    return routing;
  }

  #leave(routing: Routing): void {
    const left = this.#inFlight.get(routing.epoch)! - 1;
    if (left > 0) this.#inFlight.set(routing.epoch, left);
    else {
      this.#inFlight.delete(routing.epoch);
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Waits until no request routed before `epoch` is still in flight. */
  async #drainBefore(epoch: number): Promise<void> {
    while ([...this.#inFlight.keys()].some((earlier) => earlier < epoch)) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  /** The clients of the first N members of `key`'s preference list in `ring`. */
  #replicas(ring: HashRing, key: string): NodeClient[] {
    return ring
      .preferenceList(key, Math.min(this.#state.replicas, ring.size))
      .map((id) => this.#clients.get(id)!);
  }

  /**
   * The key's newest state: asks every replica, answers once R of them have (the newest version among them),
   * and repairs the replicas that turn out stale in the background. During a move the old replicas answer:
   * every write reaches them too (see write), so they have the newest state until the ring switches.
   */
  async read(key: string): Promise<NodeRead> {
    const routing = this.#enter();
    try {
      const replicas = this.#replicas(routing.current, key);
      const attempts = replicas.map((replica) => replica.read(key));
      const { answers, settled } = await quorum(
        attempts,
        Math.min(this.#state.readQuorum, replicas.length),
        `read of ${key}`,
      );
      if (replicas.length > 1) void this.#readRepair(key, replicas, settled);
      return newestRead(answers);
    } finally {
      this.#leave(routing);
    }
  }

  /** After a read, brings every replica that answered with an older state (or none) up to the newest. */
  async #readRepair(
    key: string,
    replicas: readonly NodeClient[],
    settled: Promise<PromiseSettledResult<NodeRead>[]>,
  ): Promise<void> {
    const results = await settled;
    const reads = results.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
    const newest = newestRead(reads.filter((read) => read !== undefined));
    if (newest.kind === 'absent') return;
    await Promise.all(
      replicas.map(async (replica, index) => {
        const read = reads[index];
        if (read === undefined || (read.kind !== 'absent' && read.version >= newest.version)) return;
        try {
          if (newest.kind === 'found')
            await replica.put(key, newest.version, newest.value, newest.contentType);
          else await replica.delete(key, newest.version);
          this.#readRepairs++;
        } catch (error) {
          this.#logger.debug({ node: replica.id, key, err: error }, 'read repair failed');
        }
      }),
    );
  }

  /**
   * Writes a value (or, with `null`, a tombstone) with a new version from this distributor's clock to every
   * replica, and answers once W have acknowledged (or 503 RINGKV_ERR_QUORUM_NOT_MET once that cannot
   * happen). A replica that is down or fails gets a hint, delivered when it is back. During a move the key is
   * written to its old and its new replicas, and needs W of each. For a delete, `previous` says whether the
   * key was live: with one replica from its answer, with several from a quorum read first.
   */
  async write(key: string, value: Buffer | null, contentType?: string): Promise<WriteResult> {
    const checkedLive = value === null && this.#state.replicas > 1;
    if (checkedLive) {
      const before = await this.read(key);
      if (before.kind !== 'found')
        return { version: before.kind === 'tombstone' ? before.version : '', previous: before.kind };
    }
    const routing = this.#enter();
    try {
      const current = this.#replicas(routing.current, key);
      const next = routing.next === undefined ? current : this.#replicas(routing.next, key);
      const version = this.#clock.now();
      const keyBytes = Buffer.from(key, 'utf8');
      const record: StoredRecord =
        contentType === undefined
          ? { key: keyBytes, version, value }
          : { key: keyBytes, version, value, contentType };
      const attempts = new Map<NodeClient, Promise<WriteAnswer | DeleteAnswer>>();
      for (const replica of new Set([...current, ...next])) {
        const attempt =
          value === null ? replica.delete(key, version) : replica.put(key, version, value, contentType);
        attempt.catch(() => this.#hint(replica.id, record));
        attempts.set(replica, attempt);
      }
      const lists = next === current ? [current] : [current, next];
      const outcomes = await Promise.all(
        lists.map((list) =>
          quorum(
            list.map((replica) => attempts.get(replica)!),
            Math.min(this.#state.writeQuorum, list.length),
            `write of ${key}`,
          ),
        ),
      );
      const previous =
        value !== null || checkedLive ? 'live' : (outcomes[0]!.answers[0] as DeleteAnswer).previous;
      return { version, previous };
    } finally {
      this.#leave(routing);
    }
  }

  // --- hinted handoff ---------------------------------------------------------------------------------

  #hint(node: string, record: StoredRecord): void {
    this.#hintsWaiting.add(node);
    this.#hints.add(node, record).catch((error: unknown) => {
      this.#logger.error({ node, err: error }, 'could not store a hint; the replica will need a repair');
    });
  }

  /** Delivers waiting hints to every replica that is up again, in batches, forgetting each batch once applied. */
  async #deliverHints(): Promise<void> {
    for (const node of this.#hintsWaiting) {
      const client = this.#clients.get(node);
      if (client === undefined) {
        this.#hintsWaiting.delete(node);
        continue;
      }
      if (!client.available) continue;
      try {
        for (let batch = this.#hints.take(node, 500); batch.length > 0; batch = this.#hints.take(node, 500)) {
          await client.applyBatch(batch);
          await this.#hints.remove(node, batch);
          this.#hintsDelivered += batch.length;
        }
        this.#hintsWaiting.delete(node);
        this.#logger.info({ node }, 'delivered every hint');
      } catch (error) {
        this.#logger.warn({ node, err: error }, 'hint delivery failed; retrying later');
      }
    }
  }

  // --- membership changes -----------------------------------------------------------------------------

  /** Runs one membership change at a time; a second one while it runs is a 409 naming the first. */
  #begin<T>(description: string, work: () => Promise<T>): Promise<T> {
    if (this.#change !== undefined) {
      throw new RingKvError(
        'RINGKV_ERR_MEMBERSHIP_CHANGE_RUNNING',
        `a membership change is running: ${this.#change.description}`,
        {
          running: this.#change.description,
        },
      );
    }
    const done = work().finally(() => {
      this.#change = undefined;
    });
    this.#change = { description, done };
    return done;
  }

  /** The member named by `?node=ID` or `?port=P`; 404 if none, 400 if the port is ambiguous. */
  findMember(selector: { readonly node?: string; readonly port?: number }): Member {
    const candidates = [...this.#state.members, ...(this.#state.move?.target ?? [])];
    const matches = candidates.filter((member) =>
      selector.node !== undefined
        ? member.id === selector.node
        : new URL(member.url).port === String(selector.port),
    );
    const unique = [...new Map(matches.map((member) => [member.id, member])).values()];
    const [first] = unique;
    const name = selector.node !== undefined ? `node ${selector.node}` : `port ${selector.port}`;
    if (first === undefined)
      throw new RingKvError('RINGKV_ERR_UNKNOWN_NODE', `no member at ${name}`, { ...selector });
    if (unique.length > 1)
      throw new RingKvError(
        'RINGKV_ERR_INVALID_ARGUMENT',
        `${name} is ambiguous; name the node with ?node=ID`,
      );
    return first;
  }

  async #nextLocalPort(): Promise<number> {
    const local = this.#options.local!;
    const ports = [...this.#state.members, ...(this.#state.move?.target ?? [])].flatMap((member) =>
      member.localPort === undefined ? [] : [member.localPort],
    );
    let port = Math.max(0, ...ports) + 1;
    while (port < 65536 && !(await portIsFree(local.host, port))) port++;
    if (port >= 65536) throw new RingKvError('RINGKV_ERR_INTERNAL', 'no free port left for a new node');
    return port;
  }

  /** POST /add_server: a new local node on the next free port (the original behaviour). */
  addLocalNode(weight = 1): Promise<ChangeResult> {
    const local = this.#options.local;
    if (local === undefined || this.#local === undefined) {
      throw new RingKvError(
        'RINGKV_ERR_NOT_LOCAL',
        'this distributor runs no nodes itself; add one with ?url=http://host:port',
      );
    }
    return this.#begin('add a local node', async () => {
      const port = await this.#nextLocalPort();
      const id = `${local.host}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_');
      await removeNodeFiles(local.dataDir, id);
      const member: Member = {
        id,
        url: `http://${local.host.includes(':') ? `[${local.host}]` : local.host}:${port}`,
        weight,
        localPort: port,
        desired: 'running',
      };
      await this.#startLocal(member);
      return this.#join(member);
    });
  }

  /** POST /add_server?url=: a node that already runs elsewhere; it must answer as a ringkv node and be empty. */
  addRemoteNode(url: string, weight = 1): Promise<ChangeResult> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new RingKvError('RINGKV_ERR_NOT_A_NODE', `${url} is not a URL`);
    }
    if (
      (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
      parsed.pathname !== '/' ||
      parsed.search !== ''
    ) {
      throw new RingKvError('RINGKV_ERR_NOT_A_NODE', `${url}: give the node's base url, http://host:port`);
    }
    const base = parsed.origin;
    return this.#begin(`add ${base}`, async () => {
      const probe = new NodeClient('candidate', base, { ...this.#options.nodeLimits, connections: 1 });
      try {
        let health: Awaited<ReturnType<NodeClient['health']>>;
        try {
          health = await probe.health();
        } catch (error) {
          throw new RingKvError(
            'RINGKV_ERR_NOT_A_NODE',
            `${base} is not a ringkv node: ${(error as Error).message}`,
          );
        }
        if (this.#clients.has(health.id)) {
          throw new RingKvError('RINGKV_ERR_DUPLICATE_NODE', `node ${health.id} is already a member`, {
            node: health.id,
          });
        }
        if (
          health.cluster !== null &&
          health.cluster !== clusterIdOf(this.#options.nodeLimits.clusterSecret!)
        ) {
          throw new RingKvError(
            'RINGKV_ERR_NODE_IN_OTHER_CLUSTER',
            `node ${health.id} belongs to ${health.cluster}; it will not join this cluster`,
            { node: health.id, cluster: health.cluster },
          );
        }
        const stats = await probe.stats();
        if (stats.liveKeys + stats.tombstones > 0) {
          throw new RingKvError(
            'RINGKV_ERR_NODE_NOT_EMPTY',
            `node ${health.id} already holds ${stats.liveKeys} keys`,
            {
              node: health.id,
            },
          );
        }
        await probe.join();
        return this.#join({ id: health.id, url: base, weight, desired: 'running' });
      } finally {
        await probe.close();
      }
    });
  }

  async #join(member: Member): Promise<ChangeResult> {
    this.#client(member);
    await this.#health.check(this.#clients.get(member.id)!);
    const move: PendingMove = {
      kind: 'add',
      node: member.id,
      phase: 'copying',
      target: [...this.#state.members, member],
      startedAt: new Date(this.#options.physicalNowMs()).toISOString(),
    };
    return { member, moved: await this.#execute(move) };
  }

  /** POST /remove_server: moves the node's keys to their new owners, then stops it. */
  removeNode(id: string): Promise<ChangeResult> {
    const member = this.findMember({ node: id });
    if (this.#state.members.length === 1 && this.#state.members[0]!.id === id) {
      throw new RingKvError(
        'RINGKV_ERR_LAST_NODE',
        `node ${id} is the last one; its keys would have nowhere to go`,
      );
    }
    if (this.#state.members.length - 1 < this.#state.replicas) {
      throw new RingKvError(
        'RINGKV_ERR_TOO_FEW_NODES_FOR_REPLICAS',
        `removing ${id} would leave ${this.#state.members.length - 1} nodes for ${this.#state.replicas} replicas of each key`,
      );
    }
    return this.#begin(`remove ${id}`, async () => {
      const move: PendingMove = {
        kind: 'remove',
        node: id,
        phase: 'copying',
        target: this.#state.members.filter((other) => other.id !== id),
        startedAt: new Date(this.#options.physicalNowMs()).toISOString(),
      };
      return { member, moved: await this.#execute(move) };
    });
  }

  /** Records (tombstones included) on the nodes of `ring`, from their last health probes; undefined if one has none. */
  #recordsHeld(ring: HashRing): number | undefined {
    let records = 0;
    for (const node of ring.nodes) {
      const stats = this.#health.stats.get(node.id);
      if (stats === undefined) return undefined;
      records += stats.liveKeys + stats.tombstones;
    }
    return records;
  }

  /**
   * Moves data from the current members to `move.target` while requests keep flowing, then switches the
   * ring. Recorded in the membership file before anything moves and again when the ring switches, so a crash
   * at any point resumes where it was: copying again (copies are idempotent) or dropping.
   */
  async #execute(move: PendingMove): Promise<MoveSummary> {
    if (this.#state.move === null) await this.#save({ ...this.#state, move });
    const copying = move.phase === 'copying';
    const before = copying ? this.#routing.current : ringOf(move.previous ?? [], this.#state.placement);
    const after = ringOf(move.target, this.#state.placement);
    for (const member of move.target) this.#client(member);
    if (copying) {
      this.#routing = { epoch: this.#routing.epoch + 1, current: before, next: after };
      await this.#drainBefore(this.#routing.epoch);
    }
    // Only copies are paced: a move resumed after its switch has only drops left.
    const pacer = copying ? this.#options.movePacer : undefined;
    if (pacer !== undefined) {
      pacer.start();
      this.#logger.info(
        { clientP99TargetMs: pacer.targetMs },
        'move: paced to keep client requests under the target',
      );
    }
    const summary = await runMove({
      before,
      after,
      replicas: this.#state.replicas,
      writeQuorum: this.#state.writeQuorum,
      clients: this.#clients,
      logger: this.#logger,
      signal: this.#abort.signal,
      describe: { kind: move.kind, node: move.node },
      copy: copying,
      keysPerSecond: this.#options.moveKeysPerSecond,
      pace: () => pacer?.factor() ?? 1,
      recordsHeld: () => this.#recordsHeld(before),
      onProgress: (current) => {
        this.#progress = current;
      },
      switchRing: async () => {
        const dropping: PendingMove = { ...move, phase: 'dropping', previous: this.#state.members };
        await this.#save({
          ...this.#state,
          members: move.target,
          ringVersion: this.#state.ringVersion + 1,
          move: dropping,
        });
        this.#routing = { epoch: this.#routing.epoch + 1, current: after, next: undefined };
        this.#shares = after.shares();
        await this.#drainBefore(this.#routing.epoch);
      },
    }).finally(() => pacer?.stop());
    if (move.kind === 'remove') await this.#retire(move.node);
    await this.#save({ ...this.#state, move: null });
    this.#progress = undefined;
    this.#logger.info(
      { ...summary, ringVersion: this.#state.ringVersion },
      `${move.kind} ${move.node}: done`,
    );
    return summary;
  }

  async #retire(id: string): Promise<void> {
    const client = this.#clients.get(id);
    this.#clients.delete(id);
    try {
      if (this.#local?.has(id)) await this.#local.retire(id);
      else await client?.shutdown();
    } catch (error) {
      this.#logger.warn({ node: id, err: error }, 'removed node did not acknowledge shutdown');
    }
    await client?.close();
  }

  async #save(state: Membership): Promise<void> {
    await saveMembership(this.#options.membershipPath, state);
    this.#state = state;
  }

  /** POST /shutdown?port=: stops the node gracefully; it stays a member, marked down, until started again. */
  stopNode(id: string): Promise<Member> {
    const member = this.findMember({ node: id });
    return this.#begin(`shut down ${id}`, async () => {
      await this.#setDesired(id, 'stopped');
      if (this.#local?.has(id)) {
        this.#markDown(id, 'shut down on request');
        await this.#local.stop(id);
      } else {
        // A remote node must hear the request while it still counts as up; then it is down for routing.
        await this.#clients.get(id)?.shutdown();
        this.#markDown(id, 'shut down on request');
      }
      return member;
    });
  }

  /** POST /start_server?port=: starts a stopped local node again. */
  startNode(id: string): Promise<Member> {
    const member = this.findMember({ node: id });
    if (member.localPort === undefined || this.#local === undefined) {
      throw new RingKvError('RINGKV_ERR_NOT_LOCAL', `node ${id} runs elsewhere; start it there`);
    }
    return this.#begin(`start ${id}`, async () => {
      await this.#startLocal(member);
      await this.#setDesired(id, 'running');
      await this.#health.check(this.#clients.get(id)!);
      return member;
    });
  }

  async #setDesired(id: string, desired: Member['desired']): Promise<void> {
    const update = (members: readonly Member[]) =>
      members.map((member) => (member.id === id ? { ...member, desired } : member));
    const move =
      this.#state.move === null ? null : { ...this.#state.move, target: update(this.#state.move.target) };
    await this.#save({ ...this.#state, members: update(this.#state.members), move });
  }

  /**
   * POST /repair: anti-entropy over the current ring (see runRepair). One at a time, never during a
   * membership change; its progress (and afterwards its result) is in the cluster view.
   */
  repair(): Promise<RepairProgress> {
    if (this.#change !== undefined) {
      throw new RingKvError('RINGKV_ERR_REPAIR_RUNNING', `busy: ${this.#change.description}`, {
        running: this.#change.description,
      });
    }
    return this.#begin('repair', () =>
      runRepair({
        ring: this.#routing.current,
        replicas: this.#state.replicas,
        clients: this.#clients,
        logger: this.#logger,
        signal: this.#abort.signal,
        onProgress: (progress) => {
          this.#repairProgress = progress;
        },
      }),
    );
  }

  /** Waits for the running membership change, if any (tests and shutdown use it). */
  async settled(): Promise<void> {
    await this.#change?.done.catch(() => {});
  }

  // --- views ------------------------------------------------------------------------------------------

  #status(member: Member): MemberStatus {
    const move = this.#state.move;
    if (move?.kind === 'remove' && move.node === member.id) return 'leaving';
    if (move?.kind === 'add' && move.phase === 'copying' && move.node === member.id) return 'joining';
    return member.desired === 'running' && this.#clients.get(member.id)?.available ? 'up' : 'down';
  }

  view(): ClusterView {
    const members = [...this.#state.members];
    const move = this.#state.move;
    if (move?.kind === 'add' && move.phase === 'copying')
      members.push(...move.target.filter((member) => member.id === move.node));
    const hints = this.#hints.pending(members.map((member) => member.id));
    return {
      distributor: this.#options.id,
      ringVersion: this.#state.ringVersion,
      placement: this.#state.placement,
      replicas: this.#state.replicas,
      readQuorum: this.#state.readQuorum,
      writeQuorum: this.#state.writeQuorum,
      members: members.map((member) => ({
        id: member.id,
        url: member.url,
        status: this.#status(member),
        weight: member.weight,
        local: member.localPort !== undefined,
        keys: this.#health.stats.get(member.id)?.liveKeys ?? null,
        bytes: this.#health.stats.get(member.id)?.bytes ?? null,
        share: this.#shares.get(member.id) ?? 0,
        hintsPending: hints.get(member.id) ?? 0,
        transport: this.#clients.get(member.id)?.transport ?? 'tcp',
      })),
      move: this.#progress ?? null,
      hints: {
        pending: [...hints.values()].reduce((sum, count) => sum + count, 0),
        delivered: this.#hintsDelivered,
      },
      readRepairs: this.#readRepairs,
      repair: this.#repairProgress ?? null,
    };
  }

  /** The ring(s) routing now: the current one, and the next during a move. */
  rings(): { readonly current: HashRing; readonly next: HashRing | undefined } {
    return { current: this.#routing.current, next: this.#routing.next };
  }

  memberUrl(id: string): string | undefined {
    return this.#clients.get(id)?.url;
  }

  isAvailable(id: string): boolean {
    return this.#clients.get(id)?.available ?? false;
  }

  /** Stops health checks, interrupts a running move (it resumes on restart), stops local nodes. */
  async close(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#hintTimer);
    await this.settled();
    await this.#hintDelivery;
    await this.#health.stop();
    await this.#local?.stopAll();
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
    await this.#hints.close();
  }
}

export function membershipPath(dataDir: string): string {
  return join(dataDir, 'distributor', 'membership.json');
}
