/** How often the pacer looks at the latest client requests. */
const WINDOW_MS = 200;
/** A window is congested when more than this share of its requests (and more than one) was over the target. */
const SLOW_SHARE = 0.01;
/** Clients may see up to this many times the p99 they had before the move (the bar), at least FLOOR_MS. */
const TARGET_RATIO = 3;
const FLOOR_MS = 5;
/** The move's speed never falls below this share of its limit, so it always ends. */
const FACTOR_MIN = 0.05;
/** A congested window multiplies the pace by this. */
const FACTOR_SLOWDOWN = 0.7;
/** What a calm window gives back, as a share of the limit. */
const FACTOR_STEP = 0.1;
/**
 * A window is also congested when clients' requests kept this share of their open connections busy through
 * it (the sum of their durations against the window times the connections): their next requests then wait
 * on their side, where no latency timed here shows them. With a bounded pool (the bench's 128 connections at
 * 2,000 req/s) the distributor's own latency stops growing at connections / throughput (64-100 ms) while
 * clients' queues, and their p99, grow by seconds. What the distributor times misses the time a request
 * waits in socket buffers and the clients' own turn-around, so it never shows a connection fully busy: in
 * bench:rebalance, in the first 12 s of an add with clients queued by seconds, the share was 0.48-0.91 in 58
 * of 60 windows; between moves, 0.20 at the median and 0.59 at the 90th percentile of windows.
 */
const BUSY_SHARE = 0.65;
/** A move starts at this share and speeds up while clients stay fast: full speed after 1.6 s if they do. */
const FACTOR_START = 0.2;

/**
 * Paces data moves by what clients feel, so a move takes the CPU and disk clients leave and no more. The
 * distributor reports every key request's latency (record); while a move runs (start to stop), every 200 ms
 * the pacer looks at the requests of that window: if more than 1% of them (and more than one) took longer than
 * the target, the move slows by 30%, down to 5% of its limit; otherwise it speeds up by a tenth of the limit.
 * A move starts at a fifth of its limit, so the first pushes cannot swamp clients before the pacer sees
 * them. The target is three times the p99 clients had before the move began (`baselineP99Ms`, asked at
 * start), at least 5 ms. A window is congested too when clients' requests kept 65% of their open
 * connections busy through it (BUSY_SHARE): clients then queue on their side, where no latency timed here
 * shows it. factor() is the share of the speed limit a push starting now may take. Measured
 * (docs/CLUSTER.md, three runs each): pacing to twice the p99 and halving made moves 10-30% slower, for p99s
 * that were within 3x either way.
 */
export class MovePacer {
  readonly #baselineP99Ms: () => number;
  readonly #openConnections: () => number;
  #targetMs = Number.POSITIVE_INFINITY;
  #factor = 1;
  #requests = 0;
  #slow = 0;
  #busyMs = 0;
  #windowStartMs = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `openConnections`: the clients' connections open now (the distributor's server counts them). */
  constructor(baselineP99Ms: () => number, openConnections: () => number = () => 0) {
    this.#baselineP99Ms = baselineP99Ms;
    this.#openConnections = openConnections;
  }

  /** The latency a client request above which counts as slow while a move runs. */
  get targetMs(): number {
    return this.#targetMs;
  }

  factor(): number {
    return this.#factor;
  }

  record(durationMs: number): void {
    if (this.#timer === undefined) return;
    this.#requests++;
    this.#busyMs += durationMs;
    if (durationMs > this.#targetMs) this.#slow++;
  }

  start(): void {
    this.stop();
    this.#targetMs = Math.max(FLOOR_MS, TARGET_RATIO * this.#baselineP99Ms());
    this.#factor = FACTOR_START;
    this.#windowStartMs = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.closeWindow(now - this.#windowStartMs);
      this.#windowStartMs = now;
    }, WINDOW_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#factor = 1;
    this.#requests = 0;
    this.#slow = 0;
    this.#busyMs = 0;
  }

  /**
   * Judges the requests of the last `windowMs` and sets the pace (the pacer's timer calls it every 200 ms,
   * with the time that really passed).
   */
  closeWindow(windowMs = WINDOW_MS): void {
    const connections = this.#openConnections();
    const busy = connections > 0 && this.#busyMs >= BUSY_SHARE * windowMs * connections;
    const congested = busy || this.#slow > Math.max(1, SLOW_SHARE * this.#requests);
    this.#factor = congested
      ? Math.max(FACTOR_MIN, this.#factor * FACTOR_SLOWDOWN)
      : Math.min(1, this.#factor + FACTOR_STEP);
    this.#requests = 0;
    this.#slow = 0;
    this.#busyMs = 0;
  }
}

/** The median of the p99s of the last `seconds` complete seconds that had requests; 0 without any. */
export function recentP99Ms(series: readonly { requests: number; p99Ms: number }[], seconds: number): number {
  const p99s = series
    .slice(-seconds)
    .filter((second) => second.requests > 0)
    .map((second) => second.p99Ms)
    .sort((a, b) => a - b);
  return p99s.length === 0 ? 0 : p99s[Math.floor(p99s.length / 2)]!;
}
