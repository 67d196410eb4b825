import { setTimeout as sleep } from 'node:timers/promises';
import { build, type Histogram } from 'hdr-histogram-js';
import { Pool } from 'undici';
import { Http1Connection } from './http1-connection.js';
import { type KeyDistribution, keyChooser, seededRandom } from './key-chooser.js';

export type KeyValueApi = 'original' | 'rest';
export type Operation = 'get' | 'put' | 'del';

export interface LoadSpec {
  readonly url: string;
  /** Concurrent connections, each with one request in flight (a closed loop). */
  readonly connections: number;
  /** Stop after this long... */
  readonly durationMs: number;
  /** ...or after this many requests per connection, whichever comes first. */
  readonly requestsPerConnection?: number;
  /** Fractions of GET and DELETE requests; the rest are PUTs. */
  readonly readFraction: number;
  readonly deleteFraction: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly api: KeyValueApi;
  readonly keyDistribution: KeyDistribution;
  readonly seed: number;
  /** Called once a second with that second's numbers. */
  readonly onTick?: (tick: LoadTick) => void;
  /**
   * Requests per second for all connections together (open loop): each connection sends on a fixed
   * schedule, and latency counts from the scheduled time, so a stall is charged to every request it delayed
   * (no coordinated omission). Without it, each connection sends as soon as its previous answer arrives.
   */
  readonly rate?: number;
  /** Called for every answered request. */
  readonly onSample?: (sample: LoadSample) => void;
  /** Stops the run early. */
  readonly signal?: AbortSignal;
}

export interface LoadSample {
  /** When the request was (scheduled to be) sent, in ms since the run started. */
  readonly atMs: number;
  readonly latencyMicros: number;
  readonly operation: Operation;
  readonly key: string;
  /** HTTP status, or 0 when the connection failed. */
  readonly status: number;
  readonly ok: boolean;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface LoadTick {
  readonly second: number;
  readonly requests: number;
  readonly errors: number;
  /** How long this tick lasted: 1000 ms but for the run's last, partial second. */
  readonly durationMs: number;
  /** Microseconds. */
  readonly latency: LatencySummary;
}

export interface LoadReport {
  readonly requests: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  /** Microseconds, over the whole run. */
  readonly latency: LatencySummary;
  readonly histogram: Histogram;
  /** Answers by status ("200", "404", ...; "transport" for failed connections). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Error answers by their `code` field. */
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly seconds: readonly LoadTick[];
}

export function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function summarize(histogram: Histogram): LatencySummary {
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    mean: histogram.mean,
  };
}

/** The request for one operation on key `key`, in the original query API or the REST API. */
export function requestFor(api: KeyValueApi, operation: Operation, key: string, value: string) {
  const encoded = encodeURIComponent(key);
  if (api === 'original') {
    if (operation === 'get') return { method: 'GET' as const, path: `/get?key=${encoded}` };
    if (operation === 'put')
      return { method: 'PUT' as const, path: `/put?key=${encoded}&value=${encodeURIComponent(value)}` };
    return { method: 'DELETE' as const, path: `/del?key=${encoded}` };
  }
  const path = `/kv/${encoded}`;
  if (operation === 'get') return { method: 'GET' as const, path };
  if (operation === 'put') return { method: 'PUT' as const, path, body: value };
  return { method: 'DELETE' as const, path };
}

/** A GET or DELETE of a missing key answers 404: an outcome, not an error. */
export function isExpected(operation: Operation, status: number): boolean {
  return (status >= 200 && status < 300) || (status === 404 && operation !== 'put');
}

/**
 * Accounts for requests as they complete: an HDR histogram over the run and one per second, answers by
 * status and by error code, and a per-second tick handed to `onTick`. Every load mode records through one.
 */
export class Recorder {
  readonly #onTick: ((tick: LoadTick) => void) | undefined;
  readonly #onSample: ((sample: LoadSample) => void) | undefined;
  readonly histogram = newHistogram();
  #tickHistogram = newHistogram();
  readonly #statuses: Record<string, number> = {};
  readonly #errorCodes: Record<string, number> = {};
  readonly #seconds: LoadTick[] = [];
  #requests = 0;
  #errors = 0;
  #tickRequests = 0;
  #tickErrors = 0;
  readonly started = performance.now();
  #tickStarted = this.started;
  readonly #ticker: NodeJS.Timeout;

  constructor(onTick?: (tick: LoadTick) => void, onSample?: (sample: LoadSample) => void) {
    this.#onTick = onTick;
    this.#onSample = onSample;
    this.#ticker = setInterval(() => this.#tick(), 1000);
  }

  get requests(): number {
    return this.#requests;
  }

  get errors(): number {
    return this.#errors;
  }

  #tick(): void {
    const now = performance.now();
    const tick = {
      second: this.#seconds.length + 1,
      requests: this.#tickRequests,
      errors: this.#tickErrors,
      durationMs: now - this.#tickStarted,
      latency: summarize(this.#tickHistogram),
    };
    this.#tickStarted = now;
    this.#seconds.push(tick);
    this.#onTick?.(tick);
    this.#tickRequests = 0;
    this.#tickErrors = 0;
    this.#tickHistogram = newHistogram();
  }

  /** Records one answered (or failed, status 0) request that began at `begin` (performance.now() ms). */
  record(
    operation: Operation,
    key: string,
    begin: number,
    status: number,
    ok: boolean,
    errorCode?: string,
  ): void {
    const micros = Math.max(1, Math.round((performance.now() - begin) * 1000));
    this.#onSample?.({ atMs: begin - this.started, latencyMicros: micros, operation, key, status, ok });
    this.histogram.recordValue(micros);
    this.#tickHistogram.recordValue(micros);
    const label = status === 0 ? 'transport' : String(status);
    this.#statuses[label] = (this.#statuses[label] ?? 0) + 1;
    this.#requests++;
    this.#tickRequests++;
    if (!ok) {
      this.#errors++;
      this.#tickErrors++;
      const code = errorCode ?? `HTTP_${label}`;
      this.#errorCodes[code] = (this.#errorCodes[code] ?? 0) + 1;
    }
  }

  finish(): LoadReport {
    clearInterval(this.#ticker);
    // The last, partial second counts too (and is the only one of a run shorter than a second).
    if (this.#tickRequests > 0) this.#tick();
    const durationMs = performance.now() - this.started;
    return {
      requests: this.#requests,
      errors: this.#errors,
      durationMs,
      requestsPerSecond: this.#requests / (durationMs / 1000),
      latency: summarize(this.histogram),
      histogram: this.histogram,
      statuses: this.#statuses,
      errorCodes: this.#errorCodes,
      seconds: this.#seconds,
    };
  }
}

/** The `code` of a `{ error, code }` answer body, if it has one. */
export function errorCodeOf(body: string): string | undefined {
  return /"code":"([A-Z_]+)"/.exec(body)?.[1];
}

/** Runs a closed-loop load (or, with `rate`, an open-loop one): see LoadSpec. */
export async function runLoad(spec: LoadSpec): Promise<LoadReport> {
  const recorder = new Recorder(spec.onTick, spec.onSample);
  const started = recorder.started;
  const deadline = started + spec.durationMs;
  const value = 'v'.repeat(spec.valueBytes);
  const interval = spec.rate === undefined ? 0 : (spec.connections * 1000) / spec.rate;
  const connection = async (index: number) => {
    const http = new Http1Connection(spec.url);
    const random = seededRandom(spec.seed * 7919 + index);
    const chooseKey = keyChooser(spec.keyDistribution, spec.keys, random);
    const limit = spec.requestsPerConnection ?? Number.POSITIVE_INFINITY;
    let scheduled = started + (interval * index) / spec.connections;
    for (let sent = 0; sent < limit && performance.now() < deadline && !spec.signal?.aborted; sent++) {
      if (interval > 0) {
        const wait = scheduled - performance.now();
        if (wait > 1) await sleep(wait);
      }
      const draw = random();
      const operation: Operation =
        draw < spec.readFraction ? 'get' : draw < spec.readFraction + spec.deleteFraction ? 'del' : 'put';
      const key = `key${chooseKey()}`;
      const begin = interval > 0 ? scheduled : performance.now();
      scheduled += interval;
      try {
        const request = requestFor(spec.api, operation, key, value);
        const answer = await http.request(request.method, request.path, request.body);
        const ok = isExpected(operation, answer.status);
        recorder.record(
          operation,
          key,
          begin,
          answer.status,
          ok,
          ok ? undefined : errorCodeOf(answer.body.toString('utf8')),
        );
      } catch (error) {
        recorder.record(operation, key, begin, 0, false, (error as { code?: string }).code ?? 'TRANSPORT');
      }
    }
    http.close();
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, index) => connection(index)));
  return recorder.finish();
}

/** Writes every key once (`key0` ... `key<keys-1>`), `connections` at a time, so reads find values. */
export async function writeEveryKey(
  url: string,
  keys: number,
  valueBytes: number,
  connections = 32,
  api: KeyValueApi = 'original',
): Promise<void> {
  const pool = new Pool(url, { connections });
  const value = 'v'.repeat(valueBytes);
  let next = 0;
  const worker = async () => {
    while (next < keys) {
      const key = `key${next++}`;
      const answer = await pool.request(requestFor(api, 'put', key, value));
      await answer.body.dump();
      if (answer.statusCode >= 300) throw new Error(`preloading ${key} answered ${answer.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
}
