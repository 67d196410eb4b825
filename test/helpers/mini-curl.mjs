/**
 * Just enough of curl for the README's examples, for machines without curl: `[-s] [-X METHOD]
 * [-H 'name: value'] [--data-binary DATA] URL`, printing the answer's body. test/docs/readme.test.ts puts it on
 * PATH as `curl` only when the real one is missing.
 */
import { request } from 'undici';

const args = process.argv.slice(2);
let method;
let body;
const headers = {};
let url = '';
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '-s' || arg === '--silent') continue;
  if (arg === '-X' || arg === '--request') method = args[++i];
  else if (arg === '-H' || arg === '--header') {
    const [name, ...value] = args[++i].split(':');
    headers[name.trim().toLowerCase()] = value.join(':').trim();
  } else if (arg === '--data-binary' || arg === '-d' || arg === '--data') body = args[++i];
  else if (arg.startsWith('-')) throw new Error(`mini-curl does not know ${arg}`);
  else url = arg;
}
const answer = await request(url, {
  method: method ?? (body === undefined ? 'GET' : 'POST'),
  headers,
  ...(body !== undefined && { body }),
});
process.stdout.write(Buffer.from(await answer.body.arrayBuffer()));
