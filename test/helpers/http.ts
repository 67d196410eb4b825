/** A small HTTP client for tests (undici, so request targets go out exactly as written). */
import { request } from 'undici';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
  json(): unknown;
}

export async function http(
  url: string,
  options: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const answer = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    ...(options.body !== undefined && { body: options.body }),
    ...(options.headers !== undefined && { headers: options.headers }),
  });
  const body = Buffer.from(await answer.body.arrayBuffer());
  const text = body.toString('utf8');
  return { status: answer.statusCode, headers: answer.headers, body, text, json: () => JSON.parse(text) };
}

/** http() with a cluster's secret on every request: for asking its nodes directly, as its distributor does. */
export function httpWithSecret(secret: string): typeof http {
  return (url, options = {}) =>
    http(url, { ...options, headers: { ...options.headers, 'x-ringkv-cluster-secret': secret } });
}
