import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary, LoadTick } from './load-generator.js';
import { barChart, escapeHtml, formatNumber, lineChart } from './svg-charts.js';

/** What one `ringkv bench` run measured, as its report shows it. */
export interface BenchResult {
  readonly title: string;
  readonly startedAt: string;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly requests: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  /** Microseconds. */
  readonly latency: LatencySummary;
  readonly histogram: Histogram;
  readonly seconds: readonly LoadTick[];
  readonly statuses: Readonly<Record<string, number>>;
  readonly errorCodes: Readonly<Record<string, number>>;
  /** Keys per node from GET /cluster, when the target is a distributor. */
  readonly nodes?: readonly { readonly id: string; readonly keys: number; readonly ideal: number }[];
  /** Verifying modes: what was checked and what was wrong. */
  readonly verification?: {
    readonly mode: string;
    readonly checked: number;
    readonly problems: readonly string[];
  };
}

const ms = (micros: number) => micros / 1000;
const COLORS = {
  p50: '#2b8a3e',
  p90: '#1971c2',
  p99: '#e8590c',
  p999: '#c2255c',
  rate: '#1971c2',
  errors: '#e03131',
};

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --card: #f8fafc; --accent: #1971c2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
header { padding: 28px 40px 18px; border-bottom: 1px solid var(--line); background: linear-gradient(180deg, #f0f6ff, #fff); }
h1 { margin: 0; font-size: 24px; } h2 { font-size: 18px; margin: 32px 0 12px; }
header p { margin: 4px 0 0; color: var(--muted); }
main { padding: 8px 40px 48px; max-width: 1240px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 12px; margin-top: 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 21px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px 32px; align-items: start; }
.card.bad .value { color: #c92a2a; } .card.good .value { color: #2b8a3e; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 20px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 10px; padding: 12px; background: #fff; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { width: 100%; height: auto; }
svg .plot { fill: #fcfdfe; stroke: var(--line); } svg .grid { stroke: #edf1f5; } svg .bar { fill: var(--accent); opacity: .85; }
svg .reference { stroke: #e8590c; stroke-dasharray: 6 4; stroke-width: 2; }
svg .tick { font-size: 11px; fill: var(--muted); } svg .axis { font-size: 12px; fill: var(--ink); } svg .legend { font-size: 12px; fill: var(--ink); }
table { border-collapse: collapse; min-width: 360px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 14px 6px 0; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
.problems { color: #c92a2a; } .ok { color: #2b8a3e; font-weight: 600; } .empty { color: var(--muted); }
`;

function card(label: string, value: string, tone = ''): string {
  return `<div class="card ${tone}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`;
}

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const head = headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Percentile labels for the distribution chart, whose x is log10(1 / (1 - p)). */
function percentileLabel(x: number): string {
  const percent = (1 - 10 ** -x) * 100;
  return `${percent.toFixed(Math.max(0, Math.round(x) - 2))}%`;
}

/** A tick's count as a rate: the last, partial second of a run would otherwise look like a collapse. */
function perSecond(tick: LoadTick, count: number): number {
  return tick.durationMs > 0 ? (count * 1000) / tick.durationMs : count;
}

/** The whole report: one HTML document, no scripts, no external resources. */
export function renderReport(result: BenchResult): string {
  const seconds = result.seconds;
  const throughput = lineChart(
    [
      {
        name: 'requests/s',
        color: COLORS.rate,
        points: seconds.map((tick) => [tick.second, perSecond(tick, tick.requests)]),
      },
      {
        name: 'errors/s',
        color: COLORS.errors,
        points: seconds.map((tick) => [tick.second, perSecond(tick, tick.errors)]),
      },
    ],
    { title: 'Throughput over time', xLabel: 'seconds', yLabel: 'requests per second', xStepMin: 1 },
  );
  const percentiles = lineChart(
    [
      { name: 'p50', color: COLORS.p50, points: seconds.map((tick) => [tick.second, ms(tick.latency.p50)]) },
      { name: 'p90', color: COLORS.p90, points: seconds.map((tick) => [tick.second, ms(tick.latency.p90)]) },
      { name: 'p99', color: COLORS.p99, points: seconds.map((tick) => [tick.second, ms(tick.latency.p99)]) },
      {
        name: 'p99.9',
        color: COLORS.p999,
        points: seconds.map((tick) => [tick.second, ms(tick.latency.p999)]),
      },
    ],
    {
      title: 'Latency percentiles over time',
      xLabel: 'seconds',
      yLabel: 'milliseconds (log)',
      logY: true,
      xStepMin: 1,
    },
  );
  const distributionPoints: [number, number][] = [];
  if (result.requests > 0) {
    const maxX = Math.min(5, Math.log10(Math.max(10, result.requests)));
    for (let x = 0; x <= maxX + 1e-9; x += 0.05) {
      distributionPoints.push([x, ms(result.histogram.getValueAtPercentile((1 - 10 ** -x) * 100))]);
    }
  }
  const distribution = lineChart([{ name: 'latency', color: COLORS.p99, points: distributionPoints }], {
    title: 'Latency distribution',
    xLabel: 'percentile',
    yLabel: 'milliseconds (log)',
    logY: true,
    xTickLabel: percentileLabel,
  });
  const nodes = result.nodes;
  const nodesChart =
    nodes === undefined || nodes.length === 0
      ? ''
      : barChart(
          nodes.map((node) => ({ label: node.id, value: node.keys })),
          { title: 'Keys per node', yLabel: 'keys', reference: nodes[0]!.ideal },
        );
  const latency = result.latency;
  const errorRows = [
    ...Object.entries(result.statuses).map(([status, count]) => [`status ${status}`, count]),
    ...Object.entries(result.errorCodes).map(([code, count]) => [code, count]),
  ] as [string, number][];
  const verification = result.verification;
  const verificationBlock =
    verification === undefined
      ? ''
      : `<h2>Verification: ${escapeHtml(verification.mode)}</h2>${
          verification.problems.length === 0
            ? `<p class="ok">All ${formatNumber(verification.checked)} checks passed.</p>`
            : `<p class="problems">${formatNumber(verification.problems.length)} of ${formatNumber(verification.checked)} checks failed:</p><ul class="problems">${verification.problems
                .slice(0, 200)
                .map((problem) => `<li>${escapeHtml(problem)}</li>`)
                .join('')}</ul>`
        }`;
  const tables = [
    `<div><h2>Answers</h2>${table(['status or error code', 'count'], errorRows)}</div>`,
    nodes === undefined
      ? ''
      : `<div><h2>Keys per node</h2>${table(
          ['node', 'keys', 'ideal', 'deviation'],
          nodes.map((node) => [
            node.id,
            node.keys,
            Math.round(node.ideal),
            `${(((node.keys - node.ideal) / node.ideal) * 100).toFixed(2)}%`,
          ]),
        )}</div>`,
    `<div><h2>Settings</h2>${table(
      ['setting', 'value'],
      Object.entries(result.settings).map(([name, value]) => [name, String(value)]),
    )}</div>`,
  ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(result.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(result.title)}</h1><p>${escapeHtml(`started ${result.startedAt} · ${formatNumber(result.durationMs / 1000)} s · ${String(result.settings.url ?? '')}`)}</p>
<div class="cards">${[
    card('throughput', `${formatNumber(result.requestsPerSecond)} req/s`),
    card('requests', formatNumber(result.requests)),
    card('errors', formatNumber(result.errors), result.errors > 0 ? 'bad' : 'good'),
    card('p50', `${formatNumber(ms(latency.p50))} ms`),
    card('p90', `${formatNumber(ms(latency.p90))} ms`),
    card('p99', `${formatNumber(ms(latency.p99))} ms`),
    card('p99.9', `${formatNumber(ms(latency.p999))} ms`),
    card('max', `${formatNumber(ms(latency.max))} ms`),
  ].join('')}</div></header>
<main>${verificationBlock}
<h2>Charts</h2><div class="charts">${throughput}${percentiles}${distribution}${nodesChart}</div>
<div class="tables">${tables}</div>
</main></body></html>
`;
}
