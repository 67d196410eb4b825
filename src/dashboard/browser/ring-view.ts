import type { DashboardLayout, RingLayout } from './wire.js';

const TURN = Math.PI * 2;
const RING_SIZE = 2 ** 32;

/** `#rrggbb` of any CSS colour, through the canvas's own parser. */
function rgbOf(context: CanvasRenderingContext2D, color: string): [number, number, number] {
  context.fillStyle = '#000';
  context.fillStyle = color;
  const hex = String(context.fillStyle);
  return [
    Number.parseInt(hex.slice(1, 3), 16),
    Number.parseInt(hex.slice(3, 5), 16),
    Number.parseInt(hex.slice(5, 7), 16),
  ];
}

function ownersOf(layout: RingLayout): Uint16Array {
  const bytes = Uint8Array.from(atob(layout.owners), (char) => char.charCodeAt(0));
  return new Uint16Array(bytes.buffer);
}

/**
 * The ring drawn as a circle: each sampled position coloured by the node that owns it (the outer band), the
 * ring being moved to during a move (the inner band), and a marker at a looked-up key's position. The bands
 * are painted pixel by pixel once per layout and kept; a redraw only copies them and adds the marker.
 */
export class RingView {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D;
  readonly #bands = document.createElement('canvas');
  #layout: DashboardLayout | undefined;
  #colors = new Map<string, string>();
  #marker: number | undefined;
  #memberCount = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d')!;
    new ResizeObserver(() => this.#paintBands()).observe(canvas);
  }

  setLayout(layout: DashboardLayout, colors: Map<string, string>): void {
    this.#layout = layout;
    this.#colors = colors;
    this.#memberCount = layout.current.nodes.length;
    this.#paintBands();
  }

  /** Marks a position in [0, 2^32), or clears the marker. */
  setMarker(position: number | undefined): void {
    this.#marker = position;
    this.#draw();
  }

  #size(): number {
    const pixels = Math.round(this.#canvas.clientWidth * (window.devicePixelRatio || 1));
    return Math.max(120, Math.min(pixels || 400, 1600));
  }

  #paintBands(): void {
    const layout = this.#layout;
    if (layout === undefined) return;
    const size = this.#size();
    this.#canvas.width = this.#canvas.height = size;
    this.#bands.width = this.#bands.height = size;
    const context = this.#bands.getContext('2d')!;
    const image = context.createImageData(size, size);
    const outer = size / 2 - 4;
    const bands: [RingLayout, number, number][] = [[layout.current, 0.7 * outer, outer]];
    if (layout.next !== null) bands.push([layout.next, 0.5 * outer, 0.66 * outer]);
    for (const [ring, inner, edge] of bands) this.#paintBand(image, context, ring, inner, edge);
    context.putImageData(image, 0, 0);
    this.#draw();
  }

  #paintBand(
    image: ImageData,
    context: CanvasRenderingContext2D,
    ring: RingLayout,
    inner: number,
    outer: number,
  ): void {
    const owners = ownersOf(ring);
    const rgb = ring.nodes.map((id) => rgbOf(context, this.#colors.get(id) ?? '#888'));
    const size = image.width;
    const center = size / 2;
    const data = image.data;
    for (let y = 0; y < size; y++) {
      const dy = y + 0.5 - center;
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - center;
        const radius = Math.sqrt(dx * dx + dy * dy);
        if (radius < inner || radius > outer) continue;
        let angle = Math.atan2(dx, -dy);
        if (angle < 0) angle += TURN;
        const owner = owners[Math.min(ring.samples - 1, Math.floor((angle / TURN) * ring.samples))]!;
        const [red, green, blue] = rgb[owner] ?? [136, 136, 136];
        const edge = Math.min(1, radius - inner, outer - radius); // soften the band's edges
        const offset = (y * size + x) * 4;
        data[offset] = red;
        data[offset + 1] = green;
        data[offset + 2] = blue;
        data[offset + 3] = Math.round(255 * Math.max(0, edge));
      }
    }
  }

  #draw(): void {
    const context = this.#context;
    const size = this.#canvas.width;
    context.clearRect(0, 0, size, size);
    context.drawImage(this.#bands, 0, 0);
    const center = size / 2;
    const outer = size / 2 - 4;
    const scale = size / 400;
    context.fillStyle = '#e6edf3';
    context.textAlign = 'center';
    context.font = `600 ${Math.round(22 * scale)}px system-ui, sans-serif`;
    context.fillText(`ring v${this.#layout?.ringVersion ?? '…'}`, center, center - 4 * scale);
    context.fillStyle = '#8b98a5';
    context.font = `${Math.round(13 * scale)}px system-ui, sans-serif`;
    const caption = this.#layout?.next ? 'inner band: after the move' : `${this.#memberCount} nodes`;
    context.fillText(caption, center, center + 18 * scale);
    if (this.#marker === undefined) return;
    const angle = (this.#marker / RING_SIZE) * TURN;
    const x = center + Math.sin(angle) * (outer + 2);
    const y = center - Math.cos(angle) * (outer + 2);
    context.strokeStyle = '#ffffff';
    context.lineWidth = 2 * scale;
    context.beginPath();
    context.moveTo(center + Math.sin(angle) * outer * 0.45, center - Math.cos(angle) * outer * 0.45);
    context.lineTo(x, y);
    context.stroke();
    context.beginPath();
    context.arc(x, y, 6 * scale, 0, TURN);
    context.fillStyle = '#ffffff';
    context.fill();
  }
}
