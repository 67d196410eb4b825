/**
 * Small SVG charts for the bench report, rendered here as strings so the report is one self-contained file
 * (no scripts, no CDN, works offline and prints well). Every value is escaped; charts scale to their data.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Log scale on y (latencies spread over decades). */
  readonly logY?: boolean;
  /** Labels for x ticks instead of numbers (the latency-distribution chart's percentiles). */
  readonly xTickLabel?: (value: number) => string;
  /** The smallest step between x ticks (1 for whole seconds). */
  readonly xStepMin?: number;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

/** A line chart of one or more series, with axes, ticks, grid and a legend. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 300;
  const margin = { left: 70, right: 20, top: 36, bottom: 46 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = series.flatMap((line) => line.points);
  if (all.length === 0) return `<p class="empty">${escapeHtml(options.title)}: no data</p>`;
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y).filter((y) => !options.logY || y > 0);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs);
  const yLow = options.logY ? Math.max(Math.min(...ys), 1e-3) : 0;
  const yHigh = Math.max(...ys, options.logY ? yLow * 10 : 1);
  const logLow = Math.floor(Math.log10(yLow));
  const logHigh = Math.ceil(Math.log10(yHigh));
  const yTop = options.logY ? 10 ** logHigh : niceStep(yHigh, 5) * Math.ceil(yHigh / niceStep(yHigh, 5));
  const scaleX = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const scaleY = (y: number) =>
    options.logY
      ? margin.top +
        plotHeight -
        ((Math.log10(Math.max(y, 10 ** logLow)) - logLow) / (logHigh - logLow || 1)) * plotHeight
      : margin.top + plotHeight - (y / yTop) * plotHeight;
  const parts: string[] = [];
  const yTicks = options.logY
    ? Array.from({ length: logHigh - logLow + 1 }, (_, i) => 10 ** (logLow + i))
    : Array.from({ length: Math.round(yTop / niceStep(yHigh, 5)) + 1 }, (_, i) => i * niceStep(yHigh, 5));
  for (const tick of yTicks) {
    const y = scaleY(tick);
    parts.push(`<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}"/>`);
    parts.push(
      `<text class="tick" x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${escapeHtml(formatNumber(tick))}</text>`,
    );
  }
  const xStep = Math.max(niceStep(xMax - xMin, 8), options.xStepMin ?? 0);
  for (let tick = Math.ceil(xMin / xStep) * xStep; tick <= xMax + 1e-9; tick += xStep) {
    const x = scaleX(tick);
    const label = options.xTickLabel ? options.xTickLabel(tick) : formatNumber(tick);
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotHeight}"/>`);
    parts.push(
      `<text class="tick" x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  }
  for (const line of series) {
    if (line.points.length === 0) continue;
    const path = line.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${scaleX(x).toFixed(1)},${scaleY(y).toFixed(1)}`)
      .join('');
    parts.push(
      `<path d="${path}" fill="none" stroke="${line.color}" stroke-width="2" stroke-linejoin="round"/>`,
    );
  }
  const legend = series
    .map((line, i) => {
      const x = margin.left + 8 + i * 110;
      return `<rect x="${x}" y="${margin.top - 24}" width="12" height="4" fill="${line.color}"/><text class="legend" x="${x + 16}" y="${margin.top - 18}">${escapeHtml(line.name)}</text>`;
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(options.title)}</figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">
<rect class="plot" x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}"/>${parts.join('')}${legend}
<text class="axis" x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>
<text class="axis" transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>
</svg></figure>`;
}

/** A bar chart of labelled values, with an optional reference line (the ideal share). */
export function barChart(
  bars: readonly { readonly label: string; readonly value: number }[],
  options: {
    readonly title: string;
    readonly yLabel: string;
    readonly reference?: number;
    readonly width?: number;
    readonly height?: number;
  },
): string {
  const width = options.width ?? 720;
  const height = options.height ?? 300;
  const margin = { left: 70, right: 20, top: 30, bottom: 70 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  if (bars.length === 0) return `<p class="empty">${escapeHtml(options.title)}: no data</p>`;
  const high = Math.max(...bars.map((bar) => bar.value), options.reference ?? 0, 1);
  const step = niceStep(high, 5);
  const top = step * Math.ceil(high / step);
  const scaleY = (value: number) => margin.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / bars.length;
  const parts: string[] = [];
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    parts.push(
      `<line class="grid" x1="${margin.left}" x2="${width - margin.right}" y1="${scaleY(tick)}" y2="${scaleY(tick)}"/>`,
    );
    parts.push(
      `<text class="tick" x="${margin.left - 6}" y="${scaleY(tick) + 4}" text-anchor="end">${escapeHtml(formatNumber(tick))}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const x = margin.left + i * slot + slot * 0.15;
    const y = scaleY(bar.value);
    parts.push(
      `<rect class="bar" x="${x}" y="${y}" width="${slot * 0.7}" height="${margin.top + plotHeight - y}"><title>${escapeHtml(`${bar.label}: ${formatNumber(bar.value)}`)}</title></rect>`,
    );
    parts.push(
      `<text class="tick" transform="translate(${x + slot * 0.35} ${margin.top + plotHeight + 12}) rotate(30)">${escapeHtml(bar.label)}</text>`,
    );
  });
  if (options.reference !== undefined) {
    const y = scaleY(options.reference);
    parts.push(
      `<line class="reference" x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}"/>`,
    );
    parts.push(
      `<text class="legend" x="${width - margin.right - 4}" y="${y - 4}" text-anchor="end">ideal ${escapeHtml(formatNumber(options.reference))}</text>`,
    );
  }
  return `<figure><figcaption>${escapeHtml(options.title)}</figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}">
<rect class="plot" x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}"/>${parts.join('')}
<text class="axis" transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>
</svg></figure>`;
}
