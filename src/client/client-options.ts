import { RingKvError } from '../errors.js';
import { validateSecret } from '../security/secrets.js';
import { assertPlainObject, integerInRange, rejectUnknownKeys } from '../validate.js';

export interface RingKvClientOptions {
  /** The distributor's base URL. Default `http://127.0.0.1:5000`. */
  readonly url?: string;
  /** Sent as `Authorization: Bearer` on the admin calls (addServer, removeServer, ...). Default none. */
  readonly adminToken?: string;
  /** A call's time budget, retries included; 0 = none. Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** The budget of admin calls, which wait for data moves; 0 = none. Default 0. */
  readonly adminTimeoutMs?: number;
  /** Attempts after the first when the answer is 503 or the distributor cannot be reached. Default 4. */
  readonly retries?: number;
  /** Back-off before the first retry; doubles each time, with full jitter. Default 50 ms. */
  readonly retryDelayMs?: number;
  /** Longest back-off, and the most a `Retry-After` is honoured. Default 2,000 ms. */
  readonly retryDelayMaxMs?: number;
  /** Keep-alive connections to the distributor. Default 16. */
  readonly connections?: number;
  /** Entries per batch request of mget/mput (the server's limit is 1000). Default 1000. */
  readonly batchSize?: number;
}

export type ResolvedClientOptions = Required<Omit<RingKvClientOptions, 'adminToken'>> & {
  readonly adminToken: string | undefined;
};

export const CLIENT_DEFAULTS = {
  url: 'http://127.0.0.1:5000',
  timeoutMs: 10_000,
  adminTimeoutMs: 0,
  retries: 4,
  retryDelayMs: 50,
  retryDelayMaxMs: 2_000,
  connections: 16,
  batchSize: 1000,
};

export function resolveClientOptions(options: unknown): ResolvedClientOptions {
  assertPlainObject(options, 'RingKvClient options');
  rejectUnknownKeys(options, ['adminToken', ...Object.keys(CLIENT_DEFAULTS)], 'RingKvClient');
  const merged = { ...CLIENT_DEFAULTS, ...(options as RingKvClientOptions) };
  let url: URL;
  try {
    url = new URL(merged.url);
  } catch {
    throw new RingKvError(
      'RINGKV_ERR_INVALID_OPTION',
      `url must be an http(s) URL, got ${String(merged.url)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RingKvError('RINGKV_ERR_INVALID_OPTION', `url must be an http(s) URL, got ${merged.url}`);
  integerInRange(merged.timeoutMs, 'timeoutMs', 0, 3_600_000);
  integerInRange(merged.adminTimeoutMs, 'adminTimeoutMs', 0, 86_400_000);
  integerInRange(merged.retries, 'retries', 0, 100);
  integerInRange(merged.retryDelayMs, 'retryDelayMs', 1, 60_000);
  integerInRange(merged.retryDelayMaxMs, 'retryDelayMaxMs', merged.retryDelayMs, 600_000);
  integerInRange(merged.connections, 'connections', 1, 4096);
  integerInRange(merged.batchSize, 'batchSize', 1, 100_000);
  const { adminToken } = options as RingKvClientOptions;
  return {
    ...merged,
    url: url.href.replace(/\/+$/, ''),
    adminToken: adminToken === undefined ? undefined : validateSecret(adminToken, 'adminToken'),
  };
}
