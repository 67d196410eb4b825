/**
 * The distributor's answers as the dashboard reads them (GET /events, /ring/layout, /ring). The server's own
 * types are the source of truth; test/dashboard/wire-types.test.ts checks they still fit these.
 */
export type MemberStatus = 'up' | 'down' | 'joining' | 'leaving';

export interface MemberView {
  readonly id: string;
  readonly url: string;
  readonly status: MemberStatus;
  readonly weight: number;
  readonly local: boolean;
  readonly keys: number | null;
  readonly bytes: number | null;
  readonly share: number;
  readonly hintsPending: number;
}

export interface MoveView {
  readonly kind: 'add' | 'remove';
  readonly node: string;
  readonly phase: string;
  readonly rangesTotal: number;
  readonly rangesMoved: number;
  readonly keysTotal: number;
  readonly keysMoved: number;
  readonly keysToGo: number;
  readonly keysPerSecond: number;
  readonly etaSeconds: number | null;
}

export interface ClusterView {
  readonly distributor: string;
  readonly ringVersion: number;
  readonly replicas: number;
  readonly readQuorum: number;
  readonly writeQuorum: number;
  readonly members: readonly MemberView[];
  readonly move: MoveView | null;
  readonly hints: { readonly pending: number; readonly delivered: number };
}

export interface SecondStats {
  readonly atMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface NodeTraffic {
  readonly operations: number;
  readonly errors: number;
  readonly p99Ms: number;
}

/** One event of GET /events: the cluster, and the traffic of the last second. */
export interface TickEvent {
  readonly cluster: ClusterView;
  readonly second: SecondStats | null;
  readonly nodes: Readonly<Record<string, NodeTraffic>>;
}

/** The first event of a stream: a tick, and the traffic history. */
export interface HelloEvent extends TickEvent {
  readonly series: readonly SecondStats[];
}

export interface RingLayout {
  readonly nodes: readonly string[];
  readonly samples: number;
  readonly owners: string;
}

export interface DashboardLayout {
  readonly ringVersion: number;
  readonly current: RingLayout;
  readonly next: RingLayout | null;
}

export interface RingAnswer {
  readonly key: string;
  readonly position: number;
  readonly ringVersion: number;
  readonly nodes: readonly {
    readonly id: string;
    readonly url: string | null;
    readonly available: boolean;
  }[];
  readonly nextNodes?: readonly {
    readonly id: string;
    readonly url: string | null;
    readonly available: boolean;
  }[];
}

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
}
