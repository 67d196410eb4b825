/**
 * The reference for bench:node: the smallest node:http server keeping a Map that answers the original
 * API with the original bodies. Prints `{"msg":"listening","port":N}` when ready. Usage: tsx minimal-server.ts [port]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const store = new Map<string, string>();
const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const key = url.searchParams.get('key') ?? '';
  let status = 200;
  let body: string;
  if (url.pathname === '/get') {
    const value = store.get(key);
    if (value === undefined) [status, body] = [404, '{"error":"Key not found"}'];
    else body = JSON.stringify({ value });
  } else if (url.pathname === '/put') {
    store.set(key, url.searchParams.get('value') ?? '');
    body = '{"message":"Value stored successfully"}';
  } else if (url.pathname === '/del') {
    if (store.delete(key)) body = '{"message":"Key deleted successfully"}';
    else [status, body] = [404, '{"error":"Key not found"}'];
  } else {
    [status, body] = [404, '{"error":"Not found"}'];
  }
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port }));
});
