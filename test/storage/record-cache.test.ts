// The record cache alone: its byte bound, CLOCK's second chance, and what it refuses to hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredRecord } from '../../src/storage/record.js';
import { RecordCache } from '../../src/storage/record-cache.js';

const record = (key: string, valueBytes: number): StoredRecord => ({
  key: Buffer.from(key),
  version: 'v',
  value: Buffer.alloc(valueBytes, 1),
});

test('the cache never holds more bytes than its bound, and counts hits and misses', () => {
  const cache = new RecordCache(10_000);
  for (let i = 0; i < 1000; i++) {
    cache.set(`k${i}`, record(`k${i}`, 100));
    assert.ok(cache.stats().bytes <= 10_000);
  }
  const { entries } = cache.stats();
  // Each entry costs its key, its value and a fixed overhead: 10,000 bytes hold a few dozen of these.
  assert.ok(entries > 20 && entries < 50, `${entries} entries`);
  assert.equal(cache.get('k999')?.key.toString(), 'k999');
  assert.equal(cache.get('k0'), undefined);
  assert.deepEqual([cache.stats().hits, cache.stats().misses], [1, 1]);
});

test('an entry read since the clock hand last passed survives the next eviction; an unread one goes first', () => {
  const cache = new RecordCache(4_000);
  const keys: string[] = [];
  for (let i = 0; cache.stats().entries === i; i++) {
    keys.push(`k${i}`);
    cache.set(`k${i}`, record(`k${i}`, 100));
  }
  // The last set evicted the oldest; what is left is full. Read the now-oldest entry, then add one more.
  const oldest = keys.find((key) => cache.get(key) !== undefined)!;
  cache.set('newcomer', record('newcomer', 100));
  assert.notEqual(cache.get(oldest), undefined, 'the entry just read was given a second chance');
  assert.equal(cache.get('newcomer')?.key.toString(), 'newcomer');
  const next = keys[keys.indexOf(oldest) + 1]!;
  assert.equal(cache.get(next), undefined, 'the oldest unread entry was evicted instead');
});

test('a record larger than an eighth of the cache is not cached; replacing and deleting keep the count exact', () => {
  const cache = new RecordCache(8_000);
  cache.set('big', record('big', 1_000));
  assert.equal(cache.get('big'), undefined);
  cache.set('small', record('small', 10));
  const one = cache.stats().bytes;
  cache.set('small', record('small', 10));
  assert.equal(cache.stats().bytes, one, 'replacing an entry does not count it twice');
  cache.set('tombstone', { key: Buffer.from('tombstone'), version: 'v', value: null });
  cache.delete('small');
  cache.delete('never-cached');
  assert.equal(cache.stats().entries, 1);
  cache.clear();
  assert.deepEqual([cache.stats().entries, cache.stats().bytes], [0, 0]);
});

test('a cache of 0 bytes is off: it holds nothing', () => {
  const cache = new RecordCache(0);
  assert.equal(cache.enabled, false);
  cache.set('k', record('k', 1));
  assert.equal(cache.get('k'), undefined);
});
