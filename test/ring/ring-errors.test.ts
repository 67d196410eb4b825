// Proves every kind of bad input to the ring is a typed RingKvError with a stable code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ErrorCode, RingKvError } from '../../src/errors.js';
import { HashRing } from '../../src/ring/hash-ring.js';

function throwsCode(action: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof RingKvError, `expected a RingKvError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const ring = new HashRing(['a', 'b', 'c']);

const cases: readonly [string, () => unknown, ErrorCode, RegExp?][] = [
  ['lookup on an empty ring', () => new HashRing([]).ownerOf('k'), 'RINGKV_ERR_RING_EMPTY'],
  [
    'preference list on an empty ring',
    () => new HashRing([]).preferenceList('k', 1),
    'RINGKV_ERR_RING_EMPTY',
  ],
  ['duplicate id', () => new HashRing(['a', 'b', 'a']), 'RINGKV_ERR_DUPLICATE_NODE', /"a"/],
  ['duplicate id through withNode', () => ring.withNode({ id: 'b', weight: 2 }), 'RINGKV_ERR_DUPLICATE_NODE'],
  ['weight zero', () => new HashRing([{ id: 'a', weight: 0 }]), 'RINGKV_ERR_INVALID_NODE', /weight/],
  ['negative weight', () => new HashRing([{ id: 'a', weight: -1 }]), 'RINGKV_ERR_INVALID_NODE', /weight/],
  ['NaN weight', () => new HashRing([{ id: 'a', weight: Number.NaN }]), 'RINGKV_ERR_INVALID_NODE', /weight/],
  [
    'infinite weight',
    () => new HashRing([{ id: 'a', weight: Number.POSITIVE_INFINITY }]),
    'RINGKV_ERR_INVALID_NODE',
  ],
  ['weight above the limit', () => new HashRing([{ id: 'a', weight: 1e7 }]), 'RINGKV_ERR_INVALID_NODE'],
  [
    'weight that is not a number',
    () => new HashRing([{ id: 'a', weight: '2' as unknown as number }]),
    'RINGKV_ERR_INVALID_NODE',
  ],
  ['empty id', () => new HashRing(['']), 'RINGKV_ERR_INVALID_NODE'],
  ['id steering a path', () => new HashRing(['../etc']), 'RINGKV_ERR_INVALID_NODE'],
  ['id ".."', () => new HashRing(['..']), 'RINGKV_ERR_INVALID_NODE'],
  ['id too long', () => new HashRing(['x'.repeat(129)]), 'RINGKV_ERR_INVALID_NODE'],
  [
    'unknown node field',
    () => new HashRing([{ id: 'a', wieght: 2 } as never]),
    'RINGKV_ERR_INVALID_NODE',
    /wieght/,
  ],
  ['nodes not an array', () => new HashRing('abc' as never), 'RINGKV_ERR_INVALID_NODE'],
  [
    'too many nodes',
    () => new HashRing(Array.from({ length: 1025 }, (_, i) => `n${i}`)),
    'RINGKV_ERR_INVALID_NODE',
  ],
  ['n larger than the node count', () => ring.preferenceList('k', 4), 'RINGKV_ERR_TOO_FEW_NODES'],
  ['n zero', () => ring.preferenceList('k', 0), 'RINGKV_ERR_INVALID_ARGUMENT'],
  ['n fractional', () => ring.preferenceList('k', 1.5), 'RINGKV_ERR_INVALID_ARGUMENT'],
  ['key of the wrong type', () => ring.ownerOf(42 as never), 'RINGKV_ERR_INVALID_ARGUMENT'],
  ['position out of range', () => ring.preferenceListAt(2 ** 32, 1), 'RINGKV_ERR_INVALID_ARGUMENT'],
  ['vnodes zero', () => new HashRing(['a'], { vnodes: 0 }), 'RINGKV_ERR_INVALID_OPTION', /vnodes/],
  [
    'vnodes above the range',
    () => new HashRing(['a'], { vnodes: 10_001 }),
    'RINGKV_ERR_INVALID_OPTION',
    /vnodes/,
  ],
  ['vnodes fractional', () => new HashRing(['a'], { vnodes: 1.5 }), 'RINGKV_ERR_INVALID_OPTION', /vnodes/],
  [
    'too many tokens',
    () => new HashRing([{ id: 'a', weight: 500 }], { vnodes: 10_000 }),
    'RINGKV_ERR_INVALID_OPTION',
    /tokens/,
  ],
  [
    'partitions not a power of two',
    () => new HashRing(['a'], { partitions: 1000 }),
    'RINGKV_ERR_INVALID_OPTION',
    /power of two/,
  ],
  ['partitions too few', () => new HashRing(['a'], { partitions: 8 }), 'RINGKV_ERR_INVALID_OPTION'],
  ['partitions too many', () => new HashRing(['a'], { partitions: 2 ** 17 }), 'RINGKV_ERR_INVALID_OPTION'],
  [
    'partitions with vnodes',
    () => new HashRing(['a'], { partitions: 64, vnodes: 10 }),
    'RINGKV_ERR_INVALID_OPTION',
  ],
  [
    'misspelt option',
    () => new HashRing(['a'], { vnode: 10 } as never),
    'RINGKV_ERR_INVALID_OPTION',
    /vnode/,
  ],
  ['options not an object', () => new HashRing(['a'], 5 as never), 'RINGKV_ERR_INVALID_OPTION'],
  ['removing an unknown node', () => ring.withoutNode('z'), 'RINGKV_ERR_UNKNOWN_NODE'],
];

for (const [name, action, code, message] of cases) {
  test(`${name} is a typed error (${code})`, () => throwsCode(action, code, message));
}

test('errors carry their HTTP status and serialize to { error, code }', () => {
  try {
    ring.preferenceList('k', 4);
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof RingKvError);
    assert.equal(error.status, 400);
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      error: 'asked for 4 distinct nodes but the ring has 3',
      code: 'RINGKV_ERR_TOO_FEW_NODES',
      requested: 4,
      nodes: 3,
    });
  }
});
