import { build, type Histogram } from 'hdr-histogram-js';

/** One second of the distributor's client traffic. Latencies in milliseconds. */
export interface SecondStats {
  /** Start of the second, ms since the epoch. */
  readonly atMs: number;
  readonly requests: number;
  /** Answers with a 5xx status: the cluster failed the request (a client's mistake is not counted). */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** One node's share of the last complete second: operations the distributor sent it, and how they went. */
export interface NodeTraffic {
  readonly operations: number;
  readonly errors: number;
  readonly p99Ms: number;
}

export interface TrafficOptions {
  /** Seconds of history kept for the dashboard's charts. Default 120. */
  readonly secondsKept?: number;
}

/** Microseconds, 1 µs to 10 min, 2 significant digits: a few KB per histogram. */
function secondHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 2,
  });
}

const toMs = (micros: number) => Math.round(micros) / 1000;

interface NodeWindow {
  readonly histogram: Histogram;
  operations: number;
  errors: number;
  /** Seconds in a row without operations; a node quiet this long is forgotten (it may have left). */
  idleSeconds: number;
}

/**
 * Requests per second and latency percentiles, second by second, for the live dashboard; the same per node
 * for the operations forwarded to it. Recording is a histogram increment; `tick` (once a second, by the owner's
 * timer) closes the current second. Prometheus gets its own cumulative histograms; these are windows.
 */
export class TrafficStats {
  readonly #secondsKept: number;
  readonly #series: SecondStats[] = [];
  readonly #requests = secondHistogram();
  #requestCount = 0;
  #errorCount = 0;
  #secondStartMs: number;
  readonly #nodes = new Map<string, NodeWindow>();
  #nodeTraffic = new Map<string, NodeTraffic>();

  constructor(nowMs: number, options: TrafficOptions = {}) {
    this.#secondsKept = options.secondsKept ?? 120;
    this.#secondStartMs = nowMs;
  }

  recordRequest(durationMs: number, status: number): void {
    this.#requests.recordValue(Math.max(1, durationMs * 1000));
    this.#requestCount++;
    if (status >= 500) this.#errorCount++;
  }

  recordOperation(node: string, durationMs: number, failed: boolean): void {
    let window = this.#nodes.get(node);
    if (window === undefined) {
      window = { histogram: secondHistogram(), operations: 0, errors: 0, idleSeconds: 0 };
      this.#nodes.set(node, window);
    }
    window.histogram.recordValue(Math.max(1, durationMs * 1000));
    window.operations++;
    if (failed) window.errors++;
  }

  /** Closes the second that started at the last tick; `nowMs` is when this one ends. */
  tick(nowMs: number): SecondStats {
    const seconds = Math.max(0.001, (nowMs - this.#secondStartMs) / 1000);
    const histogram = this.#requests;
    const second: SecondStats = {
      atMs: this.#secondStartMs,
      requests: Math.round(this.#requestCount / seconds),
      errors: Math.round(this.#errorCount / seconds),
      p50Ms: toMs(histogram.getValueAtPercentile(50)),
      p90Ms: toMs(histogram.getValueAtPercentile(90)),
      p99Ms: toMs(histogram.getValueAtPercentile(99)),
      maxMs: toMs(histogram.maxValue),
    };
    histogram.reset();
    this.#requestCount = 0;
    this.#errorCount = 0;
    this.#secondStartMs = nowMs;
    this.#series.push(second);
    if (this.#series.length > this.#secondsKept) this.#series.shift();

    const traffic = new Map<string, NodeTraffic>();
    for (const [node, window] of this.#nodes) {
      window.idleSeconds = window.operations === 0 ? window.idleSeconds + 1 : 0;
      if (window.idleSeconds > this.#secondsKept) {
        window.histogram.destroy();
        this.#nodes.delete(node);
        continue;
      }
      traffic.set(node, {
        operations: Math.round(window.operations / seconds),
        errors: Math.round(window.errors / seconds),
        p99Ms: toMs(window.histogram.getValueAtPercentile(99)),
      });
      window.histogram.reset();
      window.operations = 0;
      window.errors = 0;
    }
    this.#nodeTraffic = traffic;
    return second;
  }

  /** The kept seconds, oldest first. */
  series(): readonly SecondStats[] {
    return this.#series;
  }

  /** Each node's numbers for the last complete second. */
  nodes(): ReadonlyMap<string, NodeTraffic> {
    return this.#nodeTraffic;
  }
}
