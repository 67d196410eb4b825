import type { RingAnswer } from '../distributor/admin-routes.js';
import type { ClusterView } from '../distributor/cluster.js';
import type { MoveSummary } from '../distributor/migration.js';
import type { RepairProgress } from '../distributor/repair.js';
import { fromJsonValue, type JsonValue, toJsonValue } from '../storage/json-value.js';
import { CONTENT_TYPE_PATTERN } from '../storage/record.js';
import { type BatchFailure, RingKvBatchError, RingKvClientError } from './client-errors.js';
import {
  type ResolvedClientOptions,
  type RingKvClientOptions,
  resolveClientOptions,
} from './client-options.js';
import { type CallOptions, type Exchange, type Request, Transport } from './transport.js';

/** A value as stored: its bytes, its content type (undefined for application/octet-stream), its version. */
export interface Entry {
  readonly value: Uint8Array;
  readonly contentType: string | undefined;
  readonly version: string;
}

export interface PutOptions extends CallOptions {
  /** Stored with the value and answered on reads. Default none (application/octet-stream). */
  readonly contentType?: string;
}

/** A member of the cluster, as an admin call answers it. */
export interface ServerInfo {
  readonly message: string;
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly local: boolean;
  readonly ringVersion: number;
  /** What the data move carried (add and remove only). */
  readonly moved?: MoveSummary;
}

export type { RingAnswer };

/** A node, by its port (local nodes) or its id. */
export type ServerSelector = number | string;

const TEXT = new TextDecoder('utf-8', { fatal: true });

function keyPath(key: string): string {
  return `/kv/${encodeURIComponent(key)}`;
}

function selectorQuery(server: ServerSelector): string {
  return typeof server === 'number' ? `port=${server}` : `node=${encodeURIComponent(server)}`;
}

function header(exchange: Exchange, name: string): string | undefined {
  const value = exchange.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The error an answer carries: its `{ error, code }`, or what the status says when the body is not one. */
function answerError(exchange: Exchange): RingKvClientError {
  try {
    const { error, code, ...details } = JSON.parse(exchange.body.toString('utf8')) as Record<string, unknown>;
    if (typeof code === 'string')
      return new RingKvClientError(code, String(error ?? code), exchange.status, details);
  } catch {}
  return new RingKvClientError(
    'RINGKV_ERR_UNRECOGNIZED',
    `the server answered ${exchange.status} without an error body`,
    exchange.status,
  );
}

function text(bytes: Uint8Array, key: string): string {
  try {
    return TEXT.decode(bytes);
  } catch {
    throw new RingKvClientError(
      'RINGKV_ERR_BAD_ENCODING',
      `the value of "${key}" is not UTF-8 text; read it with getBytes`,
      0,
    );
  }
}

/**
 * A typed client for a ringkv distributor: key-value calls (text or bytes, binary-safe through the REST routes),
 * batches, and the cluster's admin calls. Every call has a time budget and retries on 503 and lost connections
 * (see docs/CLIENT.md); every failure is a RingKvClientError with the server's code.
 */
export class RingKvClient {
  readonly options: ResolvedClientOptions;
  readonly #transport: Transport;

  constructor(options: RingKvClientOptions = {}) {
    this.options = resolveClientOptions(options);
    this.#transport = new Transport(this.options);
  }

  async #expect(request: Request, call: CallOptions | undefined, ok: readonly number[]): Promise<Exchange> {
    const exchange = await this.#transport.request(request, call);
    if (!ok.includes(exchange.status)) throw answerError(exchange);
    return exchange;
  }

  async #json<T>(request: Request, call?: CallOptions): Promise<T> {
    const exchange = await this.#expect(request, call, [200]);
    return JSON.parse(exchange.body.toString('utf8')) as T;
  }

  /** The value of `key` with its content type and version, or undefined if it has none. */
  async getEntry(key: string, call?: CallOptions): Promise<Entry | undefined> {
    const exchange = await this.#expect({ method: 'GET', path: keyPath(key), retry: true }, call, [200, 404]);
    if (exchange.status === 404) {
      const error = answerError(exchange);
      if (error.code === 'RINGKV_ERR_KEY_NOT_FOUND') return undefined;
      throw error;
    }
    const type = header(exchange, 'content-type');
    return {
      value: new Uint8Array(exchange.body.buffer, exchange.body.byteOffset, exchange.body.length),
      contentType: type === 'application/octet-stream' ? undefined : type,
      version: header(exchange, 'x-ringkv-version') ?? '',
    };
  }

  /** The value of `key` as bytes, or undefined. */
  async getBytes(key: string, call?: CallOptions): Promise<Uint8Array | undefined> {
    return (await this.getEntry(key, call))?.value;
  }

  /** The value of `key` as UTF-8 text, or undefined. Throws RINGKV_ERR_BAD_ENCODING for bytes that are not text. */
  async get(key: string, call?: CallOptions): Promise<string | undefined> {
    const entry = await this.getEntry(key, call);
    return entry === undefined ? undefined : text(entry.value, key);
  }

  /** Stores `value` (text is stored as UTF-8) once the write quorum has it; resolves with its version. */
  async put(key: string, value: string | Uint8Array, options: PutOptions = {}): Promise<{ version: string }> {
    const { contentType, ...call } = options;
    if (contentType !== undefined && !CONTENT_TYPE_PATTERN.test(contentType)) {
      throw new RingKvClientError(
        'RINGKV_ERR_INVALID_CONTENT_TYPE',
        'contentType must be 1-200 printable ASCII characters',
        0,
      );
    }
    const exchange = await this.#expect(
      {
        method: 'PUT',
        path: keyPath(key),
        body: value,
        headers: { 'content-type': contentType ?? 'application/octet-stream' },
        retry: true,
      },
      call,
      [204],
    );
    return { version: header(exchange, 'x-ringkv-version') ?? '' };
  }

  /**
   * Deletes `key`; resolves with whether it had a live value. A delete retried after a lost answer may find
   * the key already deleted (by its first attempt) and resolve false.
   */
  async delete(key: string, call?: CallOptions): Promise<boolean> {
    const exchange = await this.#expect(
      { method: 'DELETE', path: keyPath(key), retry: true },
      call,
      [204, 404],
    );
    if (exchange.status === 204) return true;
    const error = answerError(exchange);
    if (error.code === 'RINGKV_ERR_KEY_NOT_FOUND') return false;
    throw error;
  }

  /** Runs `chunk` over `items` in batches of `batchSize`, four batches at a time, in order of results. */
  async #batches<Item, Result>(
    items: readonly Item[],
    chunk: (batch: readonly Item[], offset: number) => Promise<Result>,
  ): Promise<Result[]> {
    const size = this.options.batchSize;
    const starts = Array.from({ length: Math.ceil(items.length / size) }, (_, index) => index * size);
    const results: Result[] = new Array(starts.length);
    let next = 0;
    const worker = async () => {
      while (next < starts.length) {
        const index = next++;
        results[index] = await chunk(items.slice(starts[index]!, starts[index]! + size), starts[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, starts.length) }, worker));
    return results;
  }

  async #mget(keys: readonly string[], call: CallOptions | undefined): Promise<(JsonValue | null)[]> {
    const values: (JsonValue | null)[] = new Array(keys.length).fill(null);
    const failures: BatchFailure[] = [];
    await this.#batches(keys, async (batch, offset) => {
      const answer = await this.#json<{ values: (JsonValue | null)[]; failed: BatchFailure[] }>(
        { method: 'POST', path: '/mget', body: JSON.stringify({ keys: batch }), retry: true },
        call,
      );
      answer.values.forEach((value, index) => {
        values[offset + index] = value;
      });
      for (const failure of answer.failed) failures.push({ ...failure, index: failure.index + offset });
    });
    if (failures.length > 0) {
      throw new RingKvBatchError(
        failures.sort((a, b) => a.index - b.index),
        values,
      );
    }
    return values;
  }

  /** #mget, with every value decoded by `decode`, failures included (their RingKvBatchError is decoded too). */
  async #mgetDecoded<Value>(
    keys: readonly string[],
    call: CallOptions | undefined,
    decode: (value: JsonValue, key: string) => Value,
  ): Promise<(Value | undefined)[]> {
    const all = (values: (JsonValue | null)[]) =>
      values.map((value, index) => (value === null ? undefined : decode(value, keys[index]!)));
    try {
      return all(await this.#mget(keys, call));
    } catch (error) {
      if (error instanceof RingKvBatchError) throw new RingKvBatchError(error.failures, all(error.results));
      throw error;
    }
  }

  /**
   * The values of `keys` as text, in order (undefined for keys without one), in batches of `batchSize`. If some
   * keys could not be read, throws a RingKvBatchError whose `results` has the others.
   */
  mget(keys: readonly string[], call?: CallOptions): Promise<(string | undefined)[]> {
    return this.#mgetDecoded(keys, call, (value, key) =>
      typeof value === 'string' ? value : text(fromJsonValue(value)!.bytes, key),
    );
  }

  /** As mget, with the values as bytes. */
  mgetBytes(keys: readonly string[], call?: CallOptions): Promise<(Uint8Array | undefined)[]> {
    return this.#mgetDecoded(keys, call, (value) => new Uint8Array(fromJsonValue(value)!.bytes));
  }

  /**
   * Stores many values, in batches of `batchSize` (each entry is its own write: a batch is not atomic).
   * Resolves with how many were stored; if some failed, throws a RingKvBatchError naming them.
   */
  async mput(
    entries: Iterable<readonly [string, string | Uint8Array]> | Readonly<Record<string, string | Uint8Array>>,
    call?: CallOptions,
  ): Promise<{ stored: number }> {
    const list =
      Symbol.iterator in entries
        ? [...(entries as Iterable<readonly [string, string | Uint8Array]>)]
        : Object.entries(entries);
    const failures: BatchFailure[] = [];
    const stored = await this.#batches(list, async (batch, offset) => {
      const body = JSON.stringify({
        entries: batch.map(([key, value]) => ({
          key,
          value: typeof value === 'string' ? value : toJsonValue(value, undefined),
        })),
      });
      const answer = await this.#json<{ stored: number; failed: BatchFailure[] }>(
        { method: 'POST', path: '/mput', body, retry: true },
        call,
      );
      for (const failure of answer.failed) failures.push({ ...failure, index: failure.index + offset });
      return answer.stored;
    });
    const total = { stored: stored.reduce((sum, count) => sum + count, 0) };
    if (failures.length > 0)
      throw new RingKvBatchError(
        failures.sort((a, b) => a.index - b.index),
        total,
      );
    return total;
  }

  // --- the cluster ----------------------------------------------------------------------------------------

  /** GET /cluster: members and their state, N/R/W, any data move, hints and repairs. */
  cluster(call?: CallOptions): Promise<ClusterView> {
    return this.#json({ method: 'GET', path: '/cluster', retry: true }, call);
  }

  /** Where `key` lives: its ring position and preference list. */
  ring(key: string, call?: CallOptions): Promise<RingAnswer> {
    return this.#json({ method: 'GET', path: `/ring?key=${encodeURIComponent(key)}`, retry: true }, call);
  }

  /**
   * Adds a server: a new local node (no url), or an empty node running at `url`. Resolves once its keys have
   * moved to it. Not retried: a retry could add a second server.
   */
  addServer(
    options: { readonly url?: string; readonly weight?: number } = {},
    call?: CallOptions,
  ): Promise<ServerInfo> {
    const query = new URLSearchParams();
    if (options.url !== undefined) query.set('url', options.url);
    if (options.weight !== undefined) query.set('weight', String(options.weight));
    const search = query.size > 0 ? `?${query}` : '';
    return this.#json({ method: 'POST', path: `/add_server${search}`, admin: true, retry: false }, call);
  }

  /** Moves the server's keys to the others, then shuts it down. */
  removeServer(server: ServerSelector, call?: CallOptions): Promise<ServerInfo> {
    return this.#admin(`/remove_server?${selectorQuery(server)}`, call);
  }

  /** Stops the server gracefully; it stays a member, marked down. */
  shutdownServer(server: ServerSelector, call?: CallOptions): Promise<ServerInfo> {
    return this.#admin(`/shutdown?${selectorQuery(server)}`, call);
  }

  /** Starts a stopped local server again. */
  startServer(server: ServerSelector, call?: CallOptions): Promise<ServerInfo> {
    return this.#admin(`/start_server?${selectorQuery(server)}`, call);
  }

  /** Anti-entropy: compares every replica set and copies the newest versions where they differ. */
  repair(call?: CallOptions): Promise<RepairProgress & { readonly message: string }> {
    return this.#admin('/repair', call);
  }

  #admin<T>(path: string, call: CallOptions | undefined): Promise<T> {
    return this.#json({ method: 'POST', path, admin: true, retry: false }, call);
  }

  /** Closes the connections; the client cannot be used afterwards. */
  close(): Promise<void> {
    return this.#transport.close();
  }
}
