/** A line in a chart: a label, a colour, and how to read its value from a point. */
export interface ChartLine<Point> {
  readonly label: string;
  readonly color: string;
  readonly value: (point: Point) => number;
  /** Fill the area under the line. */
  readonly fill?: boolean;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * A time-series line chart on a canvas: the last `span` points, a y axis scaled to the data with grid lines,
 * and a legend. Redrawn whole on every update (a few hundred segments).
 */
export class LineChart<Point> {
  readonly #canvas: HTMLCanvasElement;
  readonly #lines: readonly ChartLine<Point>[];
  readonly #span: number;
  readonly #unit: string;

  constructor(canvas: HTMLCanvasElement, lines: readonly ChartLine<Point>[], span: number, unit: string) {
    this.#canvas = canvas;
    this.#lines = lines;
    this.#span = span;
    this.#unit = unit;
  }

  update(points: readonly Point[]): void {
    const canvas = this.#canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(200, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(80, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = canvas.getContext('2d')!;
    context.clearRect(0, 0, width, height);
    const pad = { left: 48 * ratio, right: 10 * ratio, top: 22 * ratio, bottom: 16 * ratio };
    const shown = points.slice(-this.#span);
    let maximum = 0;
    for (const point of shown) for (const line of this.#lines) maximum = Math.max(maximum, line.value(point));
    const top = niceMax(maximum * 1.1);
    const plotWidth = width - pad.left - pad.right;
    const plotHeight = height - pad.top - pad.bottom;
    const xOf = (index: number) =>
      pad.left + (plotWidth * (index + this.#span - shown.length)) / (this.#span - 1);
    const yOf = (value: number) => pad.top + plotHeight * (1 - Math.min(value, top) / top);

    context.font = `${11 * ratio}px system-ui, sans-serif`;
    context.strokeStyle = '#2a3541';
    context.fillStyle = '#8b98a5';
    context.lineWidth = 1;
    context.textAlign = 'right';
    for (let step = 0; step <= 4; step++) {
      const value = (top * step) / 4;
      const y = yOf(value);
      context.beginPath();
      context.moveTo(pad.left, y);
      context.lineTo(width - pad.right, y);
      context.stroke();
      context.fillText(
        `${value >= 1000 ? `${value / 1000}k` : value}${step === 4 ? ` ${this.#unit}` : ''}`,
        pad.left - 6 * ratio,
        y + 4 * ratio,
      );
    }
    context.textAlign = 'left';
    context.fillText(`last ${this.#span} s`, pad.left, height - 3 * ratio);

    let legendX = pad.left;
    for (const line of this.#lines) {
      context.fillStyle = line.color;
      context.fillRect(legendX, 6 * ratio, 10 * ratio, 10 * ratio);
      context.fillStyle = '#8b98a5';
      context.fillText(line.label, legendX + 14 * ratio, 15 * ratio);
      legendX += context.measureText(line.label).width + 30 * ratio;
      if (shown.length < 2) continue;
      context.beginPath();
      shown.forEach((point, index) => {
        const x = xOf(index);
        const y = yOf(line.value(point));
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.strokeStyle = line.color;
      context.lineWidth = 2 * ratio;
      context.stroke();
      if (line.fill) {
        context.lineTo(xOf(shown.length - 1), yOf(0));
        context.lineTo(xOf(0), yOf(0));
        context.closePath();
        context.globalAlpha = 0.15;
        context.fillStyle = line.color;
        context.fill();
        context.globalAlpha = 1;
      }
    }
  }
}
