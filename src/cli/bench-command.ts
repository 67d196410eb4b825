/** `ringkv bench`: the load-testing client (the original design's testing client, grown up). */

import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import type { BenchOptions } from '../bench/bench-runner.js';
import type { LoadTick } from '../bench/load-generator.js';
import type { BenchResult } from '../bench/report-html.js';
import { DEFAULT_URL } from './connection.js';
import { integerOption } from './parse.js';

interface BenchCommandOptions {
  readonly url?: string;
  readonly clients: number;
  readonly requests: number;
  readonly duration?: number;
  readonly readPercentage: number;
  readonly deletePercentage: number;
  readonly keys: number;
  readonly valueSize: number;
  readonly keyDistribution: 'uniform' | 'zipfian';
  readonly api: 'original' | 'rest';
  readonly rate?: number;
  readonly seed: number;
  readonly out?: string;
  readonly preload: boolean;
  readonly allMethods?: boolean;
  readonly testDistribution?: boolean;
  readonly testAddRemove?: boolean;
  readonly json?: boolean;
}

const ms = (micros: number) => `${(micros / 1000).toFixed(2)} ms`;

function summary(result: BenchResult): string {
  const lines = [
    `${result.title}: ${result.requests.toLocaleString('en-US')} requests in ${(result.durationMs / 1000).toFixed(1)} s = ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, ${result.errors} errors`,
    `  latency p50 ${ms(result.latency.p50)}  p90 ${ms(result.latency.p90)}  p99 ${ms(result.latency.p99)}  p99.9 ${ms(result.latency.p999)}  max ${ms(result.latency.max)}`,
    `  answers: ${Object.entries(result.statuses)
      .map(([status, count]) => `${status} x${count}`)
      .join(', ')}`,
  ];
  const codes = Object.entries(result.errorCodes);
  if (codes.length > 0)
    lines.push(`  errors: ${codes.map(([code, count]) => `${code} x${count}`).join(', ')}`);
  if (result.nodes !== undefined) {
    lines.push('  keys per node (ideal share):');
    for (const node of result.nodes) {
      const deviation = ((node.keys - node.ideal) / node.ideal) * 100;
      lines.push(
        `    ${node.id.padEnd(24)} ${String(node.keys).padStart(9)}  ideal ${Math.round(node.ideal)}  ${deviation >= 0 ? '+' : ''}${deviation.toFixed(2)}%`,
      );
    }
  }
  const verification = result.verification;
  if (verification !== undefined) {
    lines.push(
      verification.problems.length === 0
        ? `  verified (${verification.mode}): all ${verification.checked} checks passed`
        : `  VERIFICATION FAILED (${verification.mode}): ${verification.problems.length} problems, first ones:`,
    );
    for (const problem of verification.problems.slice(0, 20)) lines.push(`    ${problem}`);
  }
  return lines.join('\n');
}

/** A live bar on a terminal; a line a second otherwise (CI logs, pipes). */
function progress(): {
  onTick: (tick: LoadTick, done: number, total: number | undefined) => void;
  stop: () => void;
} {
  if (!process.stderr.isTTY) {
    return {
      onTick: (tick, done) =>
        process.stderr.write(
          `t=${tick.second}s ${done} requests, ${tick.requests} req/s, ${tick.errors} errors/s, p99 ${ms(tick.latency.p99)}\n`,
        ),
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format:
      ' {bar} {percentage}% | {value}/{total} req | {rate} req/s | errors {errors} | p99 {p99} | ETA {eta_formatted}',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    stream: process.stderr,
  });
  let started = false;
  return {
    onTick: (tick, done, total) => {
      const payload = { rate: tick.requests, errors: tick.errors, p99: ms(tick.latency.p99) };
      if (!started) {
        bar.start(total ?? Math.max(done * 2, 1), done, payload);
        started = true;
      }
      if (total === undefined) bar.setTotal(Math.max(done * 2, 1));
      bar.update(done, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function benchCommand(): Command {
  const percentage = integerOption(0, 100);
  return new Command('bench')
    .description('load-test a cluster (GET/PUT/DEL mixes, verifying modes) and write CSVs and an HTML report')
    .option('--url <url>', 'the distributor (BASE_URL; default $RINGKV_URL or http://127.0.0.1:5000)')
    .addOption(
      new Option('--clients <n>', 'concurrent clients (NUM_CLIENTS)')
        .default(16)
        .argParser(integerOption(1, 4096)),
    )
    .addOption(
      new Option('--requests <n>', 'requests per client (NUM_REQUESTS)')
        .default(1000)
        .argParser(integerOption(1, 100_000_000)),
    )
    .addOption(
      new Option('--duration <seconds>', 'run for this long instead of a request count').argParser(
        integerOption(1, 86_400),
      ),
    )
    .addOption(
      new Option('--read-percentage <p>', 'GETs among requests (READ_PERCENTAGE); the rest PUT')
        .default(90)
        .argParser(percentage),
    )
    .addOption(
      new Option('--delete-percentage <p>', 'DELETEs among requests').default(0).argParser(percentage),
    )
    .addOption(
      new Option('--keys <n>', 'key space: key0 ... key<n-1>')
        .default(10_000)
        .argParser(integerOption(1, 100_000_000)),
    )
    .addOption(
      new Option('--value-size <bytes>', 'value size')
        .default(100)
        .argParser(integerOption(1, 64 * 1024 * 1024)),
    )
    .addOption(
      new Option('--key-distribution <kind>', 'which keys are hot')
        .choices(['uniform', 'zipfian'])
        .default('uniform'),
    )
    .addOption(
      new Option('--api <api>', 'original query routes or REST /kv routes')
        .choices(['original', 'rest'])
        .default('original'),
    )
    .addOption(
      new Option(
        '--rate <req/s>',
        'fixed request rate (open loop, coordinated-omission corrected)',
      ).argParser(integerOption(1, 10_000_000)),
    )
    .addOption(
      new Option('--seed <n>', 'seed for keys and operations')
        .default(1)
        .argParser(integerOption(0, 2 ** 31)),
    )
    .option(
      '--out <dir>',
      'where latencies.csv, throughput.csv and report.html go (default ./bench-results/<time>)',
    )
    .option('--no-preload', 'do not write every key before a mixed run')
    .option('--all-methods', 'PUT, GET, DEL, GET every key and verify every answer (ALL_METHODS)')
    .option(
      '--test-distribution',
      'write the keys, then report keys per node against the ideal (TEST_DISTRIBUTION)',
    )
    .option(
      '--test-add-remove',
      'add and remove a server during the load, then verify no key was lost or wrong (TEST_ADD_OR_REMOVE)',
    )
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ringkv bench --clients 64 --duration 30
  ringkv bench --read-percentage 50 --key-distribution zipfian --out ./results
  ringkv bench --all-methods --keys 5000
  ringkv bench --test-add-remove --duration 20
  ringkv bench --rate 5000 --duration 60      # latency at a fixed rate

Exit codes: 0 done (errors are reported, not fatal), 1 a verifying mode found lost, wrong or resurrected values.`,
    )
    .action(async (options: BenchCommandOptions) => {
      const url = options.url ?? process.env.RINGKV_URL ?? DEFAULT_URL;
      const settings: BenchOptions = {
        url,
        clients: options.clients,
        requests: options.requests,
        ...(options.duration !== undefined && { durationSeconds: options.duration }),
        readPercentage: options.readPercentage,
        deletePercentage: options.deletePercentage,
        keys: options.keys,
        valueSize: options.valueSize,
        keyDistribution: options.keyDistribution,
        api: options.api,
        ...(options.rate !== undefined && { rate: options.rate }),
        seed: options.seed,
        out: options.out ?? `./bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}`,
        preload: options.preload,
        allMethods: options.allMethods === true,
        testDistribution: options.testDistribution === true,
        testAddRemove: options.testAddRemove === true,
      };
      if (settings.readPercentage + settings.deletePercentage > 100) {
        throw new Error('--read-percentage and --delete-percentage add up to more than 100');
      }
      const bar = progress();
      const { runBench } = await import('../bench/bench-runner.js');
      const outcome = await runBench(settings, {
        onTick: bar.onTick,
        log: (line) => process.stderr.write(`${line}\n`),
      }).finally(bar.stop);
      if (options.json) {
        const plain = outcome.results.map(({ histogram: _histogram, ...rest }) => rest);
        console.log(
          JSON.stringify({ results: plain, problems: outcome.problems, files: outcome.files }, null, 2),
        );
      } else {
        for (const result of outcome.results) console.log(summary(result));
        console.log(`files: ${outcome.files.join(', ')}`);
      }
      if (outcome.problems > 0) process.exitCode = 1;
    });
}
