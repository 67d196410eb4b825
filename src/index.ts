/** The ringkv library: the hash ring today; the client, nodes and distributor join as they land. */
export { type ErrorBody, type ErrorCode, errorCatalog, isRingKvError, RingKvError } from './errors.js';
export { hashKey, type Key } from './ring/hash.js';
export {
  HashRing,
  type HashRingOptions,
  type MovedRange,
  PARTITIONS_DEFAULT,
  type PlacementSettings,
  RING_NODES_MAX,
} from './ring/hash-ring.js';
export { RING_SIZE } from './ring/placement.js';
export { type NodeSpec, type RingNode, validateNodeId } from './ring/ring-node.js';
