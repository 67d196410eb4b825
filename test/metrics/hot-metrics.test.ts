// The hot-path counters and histograms expose exactly what prom-client's own would for the same observations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/metrics/hot-metrics.js';
import { LATENCY_BUCKETS_SECONDS } from '../../src/metrics/http-metrics.js';

function registries() {
  const hot = new Registry();
  const reference = new Registry();
  for (const registry of [hot, reference]) registry.setDefaultLabels({ service: 'test' });
  return { hot, reference };
}

test('a hot histogram and counter print the same text as prom-client for any observations', async () => {
  const observation = fc.record({
    route: fc.constantFrom('/get', '/put', 'unmatched'),
    status: fc.constantFrom('200', '404', '503'),
    // Bucket bounds themselves included: a value equal to a bound belongs to that bucket.
    seconds: fc.oneof(
      fc.constantFrom(...LATENCY_BUCKETS_SECONDS, 0, 20),
      fc.double({ min: 0, max: 12, noNaN: true }),
    ),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
      const { hot, reference } = registries();
      const names = { counter: 'requests_total', histogram: 'duration_seconds' };
      const hotCounter = new HotCounter({
        name: names.counter,
        help: 'c',
        labelNames: ['route', 'status'],
        registry: hot,
      });
      const hotHistogram = new HotHistogram({
        name: names.histogram,
        help: 'h',
        labelNames: ['route'],
        buckets: LATENCY_BUCKETS_SECONDS,
        registry: hot,
      });
      const counter = new Counter({
        name: names.counter,
        help: 'c',
        labelNames: ['route', 'status'],
        registers: [reference],
      });
      const histogram = new Histogram({
        name: names.histogram,
        help: 'h',
        labelNames: ['route'],
        buckets: LATENCY_BUCKETS_SECONDS,
        registers: [reference],
      });
      for (const { route, status, seconds } of observations) {
        hotCounter.labels(route, status).count++;
        hotHistogram.labels(route).observe(seconds);
        counter.labels(route, status).inc();
        histogram.labels(route).observe(seconds);
      }
      assert.equal(await hot.metrics(), await reference.metrics());
    }),
    { numRuns: 60 },
  );
});

test('reset zeroes every child, and a child asked for with the wrong label count is refused', async () => {
  const { hot } = registries();
  const counter = new HotCounter({ name: 'c_total', help: 'c', labelNames: ['a'], registry: hot });
  counter.labels('x').count += 3;
  hot.resetMetrics();
  assert.match(await hot.metrics(), /^c_total\{a="x",service="test"\} 0$/m);
  assert.throws(() => counter.labels('x', 'y'), /takes labels a/);
});
