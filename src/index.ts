/** The ringkv library: the hash ring, the typed client, and the error registry. */

export { type BatchFailure, RingKvBatchError, RingKvClientError } from './client/client-errors.js';
export { CLIENT_DEFAULTS, type RingKvClientOptions } from './client/client-options.js';
export {
  type Entry,
  type PutOptions,
  type RingAnswer,
  RingKvClient,
  type ServerInfo,
  type ServerSelector,
} from './client/ring-kv-client.js';
export type { CallOptions } from './client/transport.js';
export type { ClusterView, MemberView } from './distributor/cluster.js';
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
