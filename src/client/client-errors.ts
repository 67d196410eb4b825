import { type ErrorCode, errorCatalog, RingKvError } from '../errors.js';

/**
 * An error from a RingKvClient call: the server's `{ error, code }` answer (with its HTTP status and any details
 * it sent), or a failure to reach the server or to finish in time. `code` is always one of the registry's codes;
 * `serverCode` is the code exactly as the server sent it, which may be newer than this client.
 */
export class RingKvClientError extends RingKvError {
  /** The HTTP status the server answered; 0 when no answer came. */
  readonly httpStatus: number;
  readonly serverCode: string;

  constructor(
    code: string,
    message: string,
    httpStatus: number,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    const known = code in errorCatalog ? (code as ErrorCode) : 'RINGKV_ERR_UNRECOGNIZED';
    super(known, message, details);
    this.name = 'RingKvClientError';
    this.httpStatus = httpStatus;
    this.serverCode = code;
  }
}

/** One entry of a batch that failed: its index in the call, its key, and why. */
export interface BatchFailure {
  readonly index: number;
  readonly key: string;
  readonly code: string;
  readonly error: string;
}

/**
 * A batch call where some entries failed (their replicas were down, say): the others succeeded. `results` holds
 * what the call would have returned, with `undefined` for the failed entries; `failures` says which and why.
 */
export class RingKvBatchError<Result> extends RingKvClientError {
  readonly failures: readonly BatchFailure[];
  readonly results: Result;

  constructor(failures: readonly BatchFailure[], results: Result) {
    const first = failures[0]!;
    super(
      first.code,
      `${failures.length} of the batch's entries failed; the first, "${first.key}": ${first.error}`,
      200,
      { failed: failures.length },
    );
    this.name = 'RingKvBatchError';
    this.failures = failures;
    this.results = results;
  }
}
