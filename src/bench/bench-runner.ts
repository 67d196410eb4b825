import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { KeyDistribution } from './key-chooser.js';
import {
  errorCodeOf,
  type KeyValueApi,
  type LoadReport,
  type LoadSample,
  type LoadTick,
  Recorder,
  requestFor,
  runLoad,
  writeEveryKey,
} from './load-generator.js';
import { Model, preload, runClients, verifyAll } from './model-clients.js';
import { type BenchResult, renderReport } from './report-html.js';

export interface BenchOptions {
  readonly url: string;
  readonly clients: number;
  /** Per client (the original NUM_REQUESTS). */
  readonly requests: number;
  readonly durationSeconds?: number;
  readonly readPercentage: number;
  readonly deletePercentage: number;
  readonly keys: number;
  readonly valueSize: number;
  readonly keyDistribution: KeyDistribution;
  readonly api: KeyValueApi;
  readonly rate?: number;
  readonly seed: number;
  readonly out: string;
  readonly preload: boolean;
  readonly allMethods: boolean;
  readonly testDistribution: boolean;
  readonly testAddRemove: boolean;
}

export interface BenchOutcome {
  readonly results: readonly BenchResult[];
  /** Lost, wrong or resurrected values found by a verifying mode. */
  readonly problems: number;
  readonly files: readonly string[];
}

export interface BenchHooks {
  /** Called once a second with the run's progress. */
  readonly onTick?: (tick: LoadTick, done: number, total: number | undefined) => void;
  readonly log?: (line: string) => void;
}

/** Streams the per-request latency CSV (the original client's first file), buffered. */
class LatencyCsv {
  readonly #stream: WriteStream;
  #buffer = 'time_ms,operation,key,status,latency_ms\n';

  constructor(path: string) {
    this.#stream = createWriteStream(path);
  }

  add(sample: LoadSample): void {
    this.#buffer += `${sample.atMs.toFixed(3)},${sample.operation},${sample.key},${sample.status},${(sample.latencyMicros / 1000).toFixed(3)}\n`;
    if (this.#buffer.length >= 64 * 1024) {
      this.#stream.write(this.#buffer);
      this.#buffer = '';
    }
  }

  async close(): Promise<void> {
    this.#stream.end(this.#buffer);
    await once(this.#stream, 'finish');
  }
}

function throughputCsv(seconds: readonly LoadTick[]): string {
  const rows = seconds.map(
    (tick) =>
      `${tick.second},${tick.requests},${tick.errors},${[tick.latency.p50, tick.latency.p90, tick.latency.p99, tick.latency.p999, tick.latency.max].map((micros) => (micros / 1000).toFixed(3)).join(',')},${Math.round(tick.durationMs)}`,
  );
  return `second,requests,errors,p50_ms,p90_ms,p99_ms,p99_9_ms,max_ms,duration_ms\n${rows.join('\n')}\n`;
}

interface ClusterView {
  readonly replicas?: number;
  readonly members: readonly {
    readonly id: string;
    readonly keys: number | null;
    readonly weight: number;
    readonly url: string;
  }[];
}

/** GET /cluster, or undefined when the target is not a distributor. */
async function clusterView(url: string): Promise<ClusterView | undefined> {
  try {
    const answer = await request(`${url}/cluster`);
    if (answer.statusCode !== 200) {
      await answer.body.dump();
      return undefined;
    }
    return (await answer.body.json()) as ClusterView;
  } catch {
    return undefined;
  }
}

/** Keys per node against the ideal share (by weight, times the replicas), from GET /cluster. */
async function keysPerNode(url: string, keys: number): Promise<BenchResult['nodes']> {
  await sleep(1000); // the distributor refreshes node stats every 400 ms
  const view = await clusterView(url);
  if (view === undefined) return undefined;
  const totalWeight = view.members.reduce((sum, member) => sum + member.weight, 0);
  const copies = Math.min(view.replicas ?? 1, view.members.length);
  return view.members.map((member) => ({
    id: member.id,
    keys: member.keys ?? 0,
    ideal: (keys * copies * member.weight) / totalWeight,
  }));
}

/** ALL_METHODS: PUT, GET, DELETE, GET of every key, each answer checked. */
async function allMethods(
  options: BenchOptions,
  recorder: Recorder,
): Promise<{ checked: number; problems: string[] }> {
  const agent = new Agent({ connections: options.clients });
  const problems: string[] = [];
  let checked = 0;
  let next = 0;
  const step = async (
    operation: 'get' | 'put' | 'del',
    key: string,
    value: string,
    expected: (status: number, text: string) => boolean,
  ) => {
    const begin = performance.now();
    const target = requestFor(options.api, operation, key, value);
    try {
      const answer = await request(`${options.url}${target.path}`, {
        method: target.method,
        body: target.body ?? null,
        dispatcher: agent,
      });
      const text = await answer.body.text();
      const ok = expected(answer.statusCode, text);
      recorder.record(operation, key, begin, answer.statusCode, ok, ok ? undefined : errorCodeOf(text));
      if (!ok)
        problems.push(
          `${operation.toUpperCase()} ${key}: answered ${answer.statusCode} ${text.slice(0, 120)}`,
        );
    } catch (error) {
      recorder.record(operation, key, begin, 0, false, (error as { code?: string }).code ?? 'TRANSPORT');
      problems.push(`${operation.toUpperCase()} ${key}: ${(error as Error).message}`);
    }
    checked++;
  };
  const rest = options.api === 'rest';
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (next < options.keys) {
        const key = `key${next++}`;
        const value = `${key}-${options.seed}-${'v'.repeat(Math.max(0, options.valueSize - key.length - 8))}`;
        await step('put', key, value, (status) => status === (rest ? 204 : 200));
        await step(
          'get',
          key,
          '',
          (status, text) => status === 200 && (rest ? text === value : text === JSON.stringify({ value })),
        );
        await step('del', key, '', (status) => status === (rest ? 204 : 200));
        await step('get', key, '', (status) => status === 404);
      }
    }),
  );
  await agent.close();
  return { checked, problems };
}

/** TEST_ADD_OR_REMOVE: model-checked clients while a server is added and then removed. */
async function addRemove(
  options: BenchOptions,
  recorder: Recorder,
  log: (line: string) => void,
): Promise<{ checked: number; problems: string[] }> {
  const model = new Model();
  log(`writing ${options.keys} keys with known values`);
  await preload(options.url, model, options.keys);
  const stop = new AbortController();
  const seconds = options.durationSeconds ?? 15;
  const clients = runClients(
    options.url,
    model,
    options.keys,
    options.clients,
    stop.signal,
    options.deletePercentage / 100,
    recorder,
    options.seed,
  );
  const problems: string[] = [];
  const admin = async (path: string) => {
    const answer = await request(`${options.url}${path}`, { method: 'POST' });
    const body = (await answer.body.json()) as { id?: string; error?: string };
    log(`POST ${path}: ${answer.statusCode} ${body.error ?? body.id ?? ''}`);
    if (answer.statusCode !== 200) problems.push(`POST ${path} answered ${answer.statusCode}: ${body.error}`);
    return body.id;
  };
  await sleep((seconds * 1000) / 3);
  const added = await admin('/add_server');
  await sleep((seconds * 1000) / 3);
  if (added !== undefined) await admin(`/remove_server?node=${encodeURIComponent(added)}`);
  await sleep((seconds * 1000) / 3);
  stop.abort();
  await clients;
  problems.push(...model.failures);
  log(`checking every key against its last acknowledged value`);
  problems.push(...(await verifyAll(options.url, model, options.keys)));
  return { checked: model.requests + options.keys, problems };
}

function resultOf(
  title: string,
  options: BenchOptions,
  report: LoadReport,
  startedAt: string,
  extra: Partial<BenchResult> = {},
): BenchResult {
  const { out: _out, ...settings } = options;
  return {
    title,
    startedAt,
    settings: Object.fromEntries(
      Object.entries(settings).filter(([, value]) => value !== undefined),
    ) as BenchResult['settings'],
    ...report,
    ...extra,
  };
}

/**
 * Runs `ringkv bench`: the verifying modes that are switched on, in turn, or else the mixed load (after
 * writing every key once, so reads find values). Writes latencies.csv, throughput.csv and report.html into
 * options.out (one set per mode, prefixed with the mode when there are several).
 */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchOutcome> {
  const log = hooks.log ?? (() => {});
  await mkdir(options.out, { recursive: true });
  const modes = [
    ...(options.allMethods ? ['all-methods' as const] : []),
    ...(options.testDistribution ? ['distribution' as const] : []),
    ...(options.testAddRemove ? ['add-remove' as const] : []),
  ];
  const runs = modes.length === 0 ? ['load' as const] : modes;
  const results: BenchResult[] = [];
  const files: string[] = [];
  let problems = 0;
  for (const mode of runs) {
    const prefix = runs.length > 1 ? `${mode}-` : '';
    const csv = new LatencyCsv(join(options.out, `${prefix}latencies.csv`));
    const startedAt = new Date().toISOString();
    const total =
      mode === 'all-methods'
        ? options.keys * 4
        : options.durationSeconds === undefined
          ? options.clients * options.requests
          : undefined;
    let done = 0;
    const onTick = (tick: LoadTick) => {
      done += tick.requests;
      hooks.onTick?.(tick, done, total);
    };
    const onSample = (sample: LoadSample) => csv.add(sample);
    let report: LoadReport;
    let verification: BenchResult['verification'];
    if (mode === 'all-methods' || mode === 'add-remove') {
      const recorder = new Recorder(onTick, onSample);
      const checked =
        mode === 'all-methods'
          ? await allMethods(options, recorder)
          : await addRemove(options, recorder, log);
      report = recorder.finish();
      verification = {
        mode:
          mode === 'all-methods'
            ? 'PUT, GET, DELETE, GET of every key'
            : 'no key lost, wrong or resurrected while a server was added and removed',
        ...checked,
      };
    } else {
      if (options.preload || mode === 'distribution') {
        log(`writing ${options.keys} keys (${options.valueSize} bytes each)`);
        await writeEveryKey(options.url, options.keys, options.valueSize, options.clients, options.api);
      }
      report = await runLoad({ ...loadSpec(options), onTick, onSample });
    }
    await csv.close();
    const nodes =
      mode === 'load' || mode === 'distribution' ? await keysPerNode(options.url, options.keys) : undefined;
    const result = resultOf(
      mode === 'load' ? 'ringkv bench' : `ringkv bench: ${mode}`,
      options,
      report,
      startedAt,
      {
        ...(verification !== undefined && { verification }),
        ...(nodes !== undefined && { nodes }),
      },
    );
    await writeFile(join(options.out, `${prefix}throughput.csv`), throughputCsv(report.seconds));
    await writeFile(join(options.out, `${prefix}report.html`), renderReport(result));
    files.push(
      ...['latencies.csv', 'throughput.csv', 'report.html'].map((name) =>
        join(options.out, `${prefix}${name}`),
      ),
    );
    problems += verification?.problems.length ?? 0;
    results.push(result);
  }
  return { results, problems, files };
}

function loadSpec(options: BenchOptions) {
  return {
    url: options.url,
    connections: options.clients,
    durationMs: options.durationSeconds === undefined ? 3_600_000 : options.durationSeconds * 1000,
    requestsPerConnection:
      options.durationSeconds === undefined ? options.requests : Number.POSITIVE_INFINITY,
    readFraction: options.readPercentage / 100,
    deleteFraction: options.deletePercentage / 100,
    keys: options.keys,
    valueBytes: options.valueSize,
    api: options.api,
    keyDistribution: options.keyDistribution,
    seed: options.seed,
    ...(options.rate !== undefined && { rate: options.rate }),
  };
}
