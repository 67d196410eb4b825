/**
 * The one registry of errors a user can see. Every code is stable (clients and scripts match on it) and
 * carries the HTTP status it is answered with; over HTTP every error body is `{ "error", "code" }`.
 * Add new codes here, never ad hoc elsewhere, and list them in docs/API.md (a test keeps the two in step).
 */
export const errorCatalog = {
  RINGKV_ERR_INVALID_ARGUMENT: {
    status: 400,
    description: 'An argument is missing, of the wrong type, or outside its allowed range.',
  },
  RINGKV_ERR_INVALID_OPTION: {
    status: 400,
    description: 'An option is unknown, of the wrong type, or outside its documented range.',
  },
  RINGKV_ERR_INVALID_NODE: {
    status: 400,
    description: 'A node id or weight is malformed (ids: 1-128 of A-Z a-z 0-9 . _ -; weights: finite, > 0).',
  },
  RINGKV_ERR_DUPLICATE_NODE: {
    status: 409,
    description: 'A node with this id is already a member.',
  },
  RINGKV_ERR_UNKNOWN_NODE: {
    status: 404,
    description: 'No member has this id.',
  },
  RINGKV_ERR_RING_EMPTY: {
    status: 503,
    description: 'The ring has no members, so no key can be placed.',
  },
  RINGKV_ERR_TOO_FEW_NODES: {
    status: 400,
    description: 'More distinct nodes were asked for than the ring has members.',
  },
  RINGKV_ERR_KEY_MISSING: {
    status: 400,
    description: 'The request names no key, or an empty one.',
  },
  RINGKV_ERR_VALUE_MISSING: {
    status: 400,
    description: 'A put names no value.',
  },
  RINGKV_ERR_KEY_TOO_LARGE: {
    status: 413,
    description: 'The key is longer than the limit in bytes (default 1 KiB).',
  },
  RINGKV_ERR_VALUE_TOO_LARGE: {
    status: 413,
    description: 'The value is longer than the limit in bytes (default 1 MiB).',
  },
  RINGKV_ERR_BAD_ENCODING: {
    status: 400,
    description:
      'Malformed percent-encoding, or a key or value that is not valid UTF-8 where text is required.',
  },
  RINGKV_ERR_INVALID_CONTENT_TYPE: {
    status: 400,
    description: 'The Content-Type is not 1-200 printable ASCII characters.',
  },
  RINGKV_ERR_KEY_NOT_FOUND: {
    status: 404,
    description: 'No live value is stored under this key.',
  },
  RINGKV_ERR_UNAUTHORIZED: {
    status: 401,
    description:
      'The admin token (Authorization: Bearer) or, on a node, the cluster secret (x-ringkv-cluster-secret) is missing or wrong.',
  },
  RINGKV_ERR_NODE_IN_OTHER_CLUSTER: {
    status: 409,
    description:
      'The node already belongs to another cluster (another secret); it refuses to join a second one.',
  },
  RINGKV_ERR_ROUTE_NOT_FOUND: {
    status: 404,
    description: 'No route has this path.',
  },
  RINGKV_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    description: 'The route exists but not with this method; the Allow header lists the methods it takes.',
  },
  RINGKV_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    description:
      'The request line (the URL included) and headers are over the limit (default 16 KiB); large values go in the body of PUT /kv/<key>.',
  },
  RINGKV_ERR_BATCH_TOO_LARGE: {
    status: 413,
    description:
      "A batch has more entries than its limit: POST /mget and /mput 1000, a node's internal batches 10,000.",
  },
  RINGKV_ERR_REQUEST_TIMEOUT: {
    status: 408,
    description: "The request's headers or body did not arrive within the time limit.",
  },
  RINGKV_ERR_BODY_TOO_LARGE: {
    status: 413,
    description: 'The request body is larger than the route accepts.',
  },
  RINGKV_ERR_INVALID_VERSION: {
    status: 400,
    description: 'A version is not of the form <12 hex wall ms>.<4 hex logical>.<writer id>.',
  },
  RINGKV_ERR_CLOCK_SKEW: {
    status: 400,
    description: "A version is further ahead of this process's clock than the allowed drift.",
  },
  RINGKV_ERR_BAD_RECORD_STREAM: {
    status: 400,
    description: 'A stream of record frames is malformed, truncated, or has a frame over the size limit.',
  },
  RINGKV_ERR_BAD_SNAPSHOT: {
    status: 400,
    description: 'A snapshot file is not a JSON object of keys to values.',
  },
  RINGKV_ERR_SHUTTING_DOWN: {
    status: 503,
    description: 'The server is shutting down and takes no new requests; retry against the cluster.',
  },
  RINGKV_ERR_OVERLOADED: {
    status: 503,
    description: 'Too many requests are in flight; retry after the Retry-After header.',
  },
  RINGKV_ERR_STORAGE_FULL: {
    status: 507,
    description: 'The storage engine could not write: its disk or map is full.',
  },
  RINGKV_ERR_NODE_UNAVAILABLE: {
    status: 503,
    description: 'The node that holds this key is down or unreachable; the body names it in `node`.',
  },
  RINGKV_ERR_NODE_TIMEOUT: {
    status: 504,
    description: 'The node that holds this key did not answer in time; the body names it in `node`.',
  },
  RINGKV_ERR_NODE_ERROR: {
    status: 502,
    description: 'A node answered something unexpected; the body names it in `node`.',
  },
  RINGKV_ERR_MEMBERSHIP_CHANGE_RUNNING: {
    status: 409,
    description: 'Another membership change is running; the body names it in `running`.',
  },
  RINGKV_ERR_LAST_NODE: {
    status: 409,
    description: 'The last node cannot be removed: its keys would have nowhere to go.',
  },
  RINGKV_ERR_QUORUM_NOT_MET: {
    status: 503,
    description:
      'Fewer replicas answered than the read or write quorum needs; `replicasAnswered` and `replicasNeeded` say how many.',
  },
  RINGKV_ERR_TOO_FEW_NODES_FOR_REPLICAS: {
    status: 409,
    description: 'The change would leave fewer nodes than copies of each key (replicas).',
  },
  RINGKV_ERR_REPAIR_RUNNING: {
    status: 409,
    description: 'A repair is already running, or a membership change is: repair compares a settled ring.',
  },
  RINGKV_ERR_NOT_A_NODE: {
    status: 400,
    description: 'The url does not answer as a ringkv storage node; the message says why.',
  },
  RINGKV_ERR_NODE_NOT_EMPTY: {
    status: 409,
    description: 'The node to add already holds data; empty it first, so no stale key comes back.',
  },
  RINGKV_ERR_NOT_LOCAL: {
    status: 400,
    description: 'The operation needs a node this distributor runs itself (started by ringkv start).',
  },
  RINGKV_ERR_BAD_MEMBERSHIP_FILE: {
    status: 500,
    description: "The distributor's membership file is unreadable or inconsistent; the message says where.",
  },
  RINGKV_ERR_UNREACHABLE: {
    status: 503,
    description:
      'The client library could not reach the distributor (refused, reset, no route); never sent by a server.',
  },
  RINGKV_ERR_CLIENT_TIMEOUT: {
    status: 504,
    description:
      "The client library's call took longer than its timeout, retries included; never sent by a server.",
  },
  RINGKV_ERR_UNRECOGNIZED: {
    status: 502,
    description:
      'The server answered an error code this client does not know (it is newer); `serverCode` has it.',
  },
  RINGKV_ERR_INTERNAL: {
    status: 500,
    description: 'An unexpected failure inside ringkv (a bug): the message and logs say where.',
  },
} as const satisfies Record<string, { readonly status: number; readonly description: string }>;

export type ErrorCode = keyof typeof errorCatalog;

/** The JSON body of every error answered over HTTP. */
export interface ErrorBody {
  readonly error: string;
  readonly code: ErrorCode;
  readonly [detail: string]: unknown;
}

/** Base class of every operating error ringkv reports; `details` travel into the HTTP body. */
export class RingKvError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(message);
    this.name = 'RingKvError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.details = details;
  }

  toJSON(): ErrorBody {
    return { ...this.details, error: this.message, code: this.code };
  }
}

export function isRingKvError(value: unknown): value is RingKvError {
  return value instanceof RingKvError;
}
