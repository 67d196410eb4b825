/**
 * Counters and histograms for the hot path: a labelled child is a plain object, so counting a request is a
 * property increment and observing a latency a short bucket search, with no label validation or hashing
 * per call (prom-client's own children cost over a microsecond a request on the servers' hottest path).
 * They register in a prom-client Registry as custom metrics, so GET /metrics shows them in the usual text
 * format beside prom-client's own.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface MetricValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
  /** Printed after the registry's default labels (prom-client puts a histogram's own labels here). */
  readonly sharedLabels?: Labels;
}

/** The shape prom-client's Registry asks of a metric (`get` and `reset`, with its name, help and type). */
abstract class HotMetric<Child> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  readonly #labelNames: readonly string[];
  readonly #children = new Map<string, { readonly labels: Labels; readonly child: Child }>();

  constructor(options: {
    readonly name: string;
    readonly help: string;
    readonly labelNames: readonly string[];
    readonly registry: Registry;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    options.registry.registerMetric(this as never);
  }

  protected abstract newChild(): Child;
  protected abstract valuesOf(child: Child, labels: Labels): MetricValue[];
  protected abstract resetChild(child: Child): void;

  /** The child for these label values (one per label name, in order); keep it, it is the fast path. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let entry = this.#children.get(key);
    if (entry === undefined) {
      if (values.length !== this.#labelNames.length)
        throw new Error(`${this.name} takes labels ${this.#labelNames.join(', ')}`);
      const labels = Object.fromEntries(this.#labelNames.map((name, index) => [name, values[index]!]));
      entry = { labels, child: this.newChild() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    const values = [...this.#children.values()].flatMap(({ labels, child }) => this.valuesOf(child, labels));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const { child } of this.#children.values()) this.resetChild(child);
  }
}

export interface CounterChild {
  count: number;
}

export class HotCounter extends HotMetric<CounterChild> {
  readonly type = 'counter';

  protected newChild(): CounterChild {
    return { count: 0 };
  }

  protected valuesOf(child: CounterChild, labels: Labels): MetricValue[] {
    return [{ labels, value: child.count }];
  }

  protected resetChild(child: CounterChild): void {
    child.count = 0;
  }
}

export class HistogramChild {
  readonly #bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotHistogram extends HotMetric<HistogramChild> {
  readonly type = 'histogram';
  readonly #bounds: readonly number[];

  constructor(options: ConstructorParameters<typeof HotMetric>[0] & { readonly buckets: readonly number[] }) {
    super(options);
    this.#bounds = options.buckets;
  }

  protected newChild(): HistogramChild {
    return new HistogramChild(this.#bounds);
  }

  protected valuesOf(child: HistogramChild, labels: Labels): MetricValue[] {
    const bucket = `${this.name}_bucket`;
    const values: MetricValue[] = [];
    let cumulative = 0;
    for (const [index, bound] of this.#bounds.entries()) {
      cumulative += child.counts[index]!;
      values.push({ labels: { le: bound }, value: cumulative, metricName: bucket, sharedLabels: labels });
    }
    values.push(
      { labels: { le: '+Inf' }, value: child.count, metricName: bucket, sharedLabels: labels },
      { labels: {}, value: child.sum, metricName: `${this.name}_sum`, sharedLabels: labels },
      { labels: {}, value: child.count, metricName: `${this.name}_count`, sharedLabels: labels },
    );
    return values;
  }

  protected resetChild(child: HistogramChild): void {
    child.counts.fill(0);
    child.sum = 0;
    child.count = 0;
  }
}
