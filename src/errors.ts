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
