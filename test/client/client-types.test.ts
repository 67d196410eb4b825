// Proves the client's public surface by its types (checked by tsc in npm run check: the @ts-expect-error lines
// must stay errors, the Equal checks must hold) and that the built package entry exports it at run time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BatchFailure,
  type ClusterView,
  type Entry,
  type ErrorCode,
  type RingKvBatchError,
  RingKvClient,
  RingKvClientError,
  RingKvError,
  type ServerInfo,
} from '../../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Resolves<Method extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<Method>>;
type Client = RingKvClient;

export type SurfaceChecks = [
  Equal<Resolves<Client['get']>, string | undefined>,
  Equal<Resolves<Client['getBytes']>, Uint8Array | undefined>,
  Equal<Resolves<Client['getEntry']>, Entry | undefined>,
  Equal<Resolves<Client['put']>, { version: string }>,
  Equal<Resolves<Client['delete']>, boolean>,
  Equal<Resolves<Client['mget']>, (string | undefined)[]>,
  Equal<Resolves<Client['mgetBytes']>, (Uint8Array | undefined)[]>,
  Equal<Resolves<Client['mput']>, { stored: number }>,
  Equal<Resolves<Client['cluster']>, ClusterView>,
  Equal<Resolves<Client['addServer']>, ServerInfo>,
  Equal<Resolves<Client['removeServer']>, ServerInfo>,
  Equal<RingKvClientError['code'], ErrorCode>,
  Equal<RingKvClientError['serverCode'], string>,
  Equal<RingKvBatchError<unknown>['failures'], readonly BatchFailure[]>,
];
/** Compiles only if every check above is `true`. */
export const allHold: SurfaceChecks extends true[] ? true : false = true;

/** Never called: each line must fail to compile, or tsc reports an unused @ts-expect-error. */
export async function misuse(client: RingKvClient): Promise<void> {
  // @ts-expect-error keys are strings
  await client.get(42);
  // @ts-expect-error values are strings or bytes
  await client.put('k', { not: 'a value' });
  // @ts-expect-error the content type is an option, not a third positional argument
  await client.put('k', 'v', 'text/plain');
  // @ts-expect-error mput takes [key, value] pairs or an object of values
  await client.mput([['k', 1]]);
  // @ts-expect-error a server is a port or an id
  await client.removeServer({ port: 5001 });
  // @ts-expect-error unknown options do not compile
  new RingKvClient({ retry: 3 });
  // @ts-expect-error get answers text or undefined, never bytes
  const bytes: Uint8Array | undefined = await client.get('k');
  void bytes;
}

test('the built package entry exports the client and its errors, which are RingKvErrors', async () => {
  const entry = (await import('../../dist/index.js')) as Record<string, unknown>;
  for (const name of [
    'RingKvClient',
    'RingKvClientError',
    'RingKvBatchError',
    'RingKvError',
    'HashRing',
    'CLIENT_DEFAULTS',
  ])
    assert.equal(typeof entry[name], name === 'CLIENT_DEFAULTS' ? 'object' : 'function', name);
  const error = new RingKvClientError('RINGKV_ERR_KEY_TOO_LARGE', 'too big', 413, { limitBytes: 1024 });
  assert.ok(error instanceof RingKvError);
  assert.deepEqual(
    [error.code, error.status, error.httpStatus, error.details],
    ['RINGKV_ERR_KEY_TOO_LARGE', 413, 413, { limitBytes: 1024 }],
  );
  const client = new RingKvClient();
  assert.equal(client.options.url, 'http://127.0.0.1:5000');
  assert.equal(client.options.retries, 4);
  await client.close();
});
