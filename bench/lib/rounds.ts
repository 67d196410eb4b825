/** Measures several servers under the same load in alternating rounds, and prints medians side by side. */
import { type LoadReport, type LoadSpec, runLoad, writeEveryKey } from '../../src/bench/load-generator.js';
import { median, printTable } from '../table.js';
import type { Server } from './servers.js';

/** The bench workload: 90% GET / 10% PUT over 10,000 keys of 100 bytes, 64 connections, original API. */
export const MIX = {
  connections: 64,
  readFraction: 0.9,
  deleteFraction: 0,
  keys: 10_000,
  valueBytes: 100,
  api: 'original',
  keyDistribution: 'uniform',
} as const satisfies Omit<LoadSpec, 'url' | 'durationMs' | 'seed'>;

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export interface Named {
  readonly name: string;
}

/**
 * Preloads every server, then runs ROUNDS rounds; in each, every server gets 1 s of warm-up and SECONDS s
 * of measurement, one after another, so slow drift on a noisy machine hits all of them alike.
 */
export async function measureRounds(
  targets: readonly Named[],
  servers: readonly Server[],
  mix: Partial<LoadSpec> = {},
): Promise<LoadReport[][]> {
  const results: LoadReport[][] = targets.map(() => []);
  for (const server of servers) await writeEveryKey(server.url, MIX.keys, MIX.valueBytes);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, server] of servers.entries()) {
      const spec = { ...MIX, ...mix, url: server.url, seed: round + 1 };
      await runLoad({ ...spec, durationMs: 1000 });
      const report = await runLoad({ ...spec, durationMs: SECONDS * 1000 });
      if (report.errors > 0)
        throw new Error(
          `${targets[index]!.name}: ${report.errors} errors ${JSON.stringify(report.errorCodes)}`,
        );
      results[index]!.push(report);
      console.log(
        `round ${round + 1}: ${targets[index]!.name}: ${Math.round(report.requestsPerSecond)} req/s`,
      );
    }
  }
  return results;
}

/** Prints req/s (median of rounds), the median round's percentiles, and each row's ratio to `reference`. */
export function printRounds(
  targets: readonly Named[],
  results: readonly LoadReport[][],
  reference: number,
  ratioHeader: string,
): number[] {
  const ms = (micros: number) => (micros / 1000).toFixed(2);
  const rates = results.map((reports) => median(reports.map((report) => report.requestsPerSecond)));
  console.log();
  printTable(
    ['server', 'req/s (median)', 'p50 ms', 'p99 ms', 'p99.9 ms', ratioHeader],
    targets.map((target, index) => {
      const sorted = [...results[index]!].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
      const middle = sorted[sorted.length >> 1]!;
      return [
        target.name,
        Math.round(rates[index]!).toLocaleString('en-US'),
        ms(middle.latency.p50),
        ms(middle.latency.p99),
        ms(middle.latency.p999),
        (rates[index]! / rates[reference]!).toFixed(2),
      ];
    }),
  );
  return rates.map((rate) => rate / rates[reference]!);
}
