/**
 * npm run bench:dashboard — does the dashboard stay responsive with 100 nodes? For 5 and then 100 storage nodes
 * (memory engine, all in one helper process) behind a distributor (replicas 3) with a steady 500 req/s of
 * traffic, Chromium (playwright-core, /usr/bin/chromium) keeps the dashboard open for BENCH_SECONDS (default 20)
 * and the page reports how long each live update took to render and how long the ring took to paint.
 * The 5-node row is the reference measured in the same run. Needs chromium (apt-get install chromium).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { runLoad } from '../src/bench/load-generator.js';
import { MIX } from './lib/rounds.js';
import { CLI, startServer, stopChild, TSX_LOADER } from './lib/servers.js';
import { median, printTable } from './table.js';

const CHROMIUM = process.env.RINGKV_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(
    `bench:dashboard needs Chromium at ${CHROMIUM}: apt-get install chromium (it installs nothing itself)`,
  );
  process.exit(2);
}
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-dashboard-'));

async function startNodes(count: number) {
  const child = spawn(
    process.execPath,
    [
      ...TSX_LOADER,
      new URL('./lib/many-nodes.ts', import.meta.url).pathname,
      String(count),
      join(work, `nodes-${count}`),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const urls = await new Promise<string[]>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; urls?: string[] };
      if (entry.msg === 'listening') resolve(entry.urls!);
    });
    child.once('exit', (code) => reject(new Error(`many-nodes exited with ${code}`)));
  });
  return { urls, stop: () => stopChild(child, 'SIGTERM') };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const rows: string[][] = [];
try {
  for (const count of [5, 100]) {
    const nodes = await startNodes(count);
    const distributor = await startServer(
      [
        CLI,
        'distributor',
        '--port',
        '0',
        '--data-dir',
        join(work, `distributor-${count}`),
        ...nodes.urls.flatMap((url) => ['--node', url]),
      ],
      'distributor listening',
    );
    try {
      const load = runLoad({
        ...MIX,
        url: distributor.url,
        connections: 8,
        durationMs: (SECONDS + 5) * 1000,
        rate: 500,
        seed: 1,
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(distributor.url);
      await page.waitForTimeout(SECONDS * 1000);
      const probe = (await page.evaluate('window.ringkvDashboard')) as {
        ticks: number;
        renderMs: number[];
        layoutMs: number[];
      };
      const rowsShown = await page.locator('#nodes tr').count();
      await page.close();
      await load;
      console.log(`${count} nodes: ${probe.ticks} updates, ${rowsShown} rows shown`);
      rows.push([
        `${count} nodes (${rowsShown} rows shown)`,
        String(probe.ticks),
        median(probe.renderMs).toFixed(2),
        percentile(probe.renderMs, 99).toFixed(2),
        Math.max(...probe.renderMs).toFixed(2),
        median(probe.layoutMs).toFixed(1),
      ]);
    } finally {
      await distributor.stop();
      await nodes.stop();
    }
  }
} finally {
  await browser.close();
  await rm(work, { recursive: true, force: true });
}
console.log();
printTable(
  ['cluster', 'updates', 'render median ms', 'render p99 ms', 'render max ms', 'ring paint ms'],
  rows,
);
