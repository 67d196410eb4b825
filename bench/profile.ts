/**
 * npm run bench:profile — where the distributor's time goes per request. Starts `ringkv start` (5 lmdb nodes,
 * replicas = 1) with V8's CPU profiler on the distributor process, drives it with wrk (1 thread, 64
 * connections, 90% GET / 10% PUT over 10,000 keys of 100 bytes), stops it, and prints the distributor's
 * self time by area and its top functions, in microseconds per client request. The .cpuprofile is kept
 * (open it in Chrome DevTools or speedscope for a flame graph). Needs wrk. BENCH_SECONDS (default 8).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeEveryKey } from '../src/bench/load-generator.js';
import { portIsFree } from '../src/distributor/local-nodes.js';
import { CLI } from './lib/servers.js';
import { mixScript, requireTool, runWrk } from './lib/wrk.js';
import { printTable } from './table.js';

requireTool('wrk', ['--version'], 'apt-get install wrk');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
}

/** The area a function belongs to, from where its code lives. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript';
  if (url.includes('/undici/')) return 'undici (requests to nodes)';
  if (url.includes('/pino')) return 'logging';
  if (url.includes('/src/') || url.includes('/dist/')) {
    const file = url.slice(url.lastIndexOf('/') + 1).replace(/\.(js|ts)$/, '');
    return `ringkv: ${file}`;
  }
  if (/node:_http|node:internal\/http|_http_/.test(url)) return 'node:http (client-facing server)';
  if (/node:net|node:internal\/stream|node:stream|node:internal\/streams/.test(url))
    return 'node streams and sockets';
  if (url.startsWith('node:')) return `node: other (${url.slice(5).split('/').slice(-1)[0]})`;
  return url === '' ? `native: ${functionName || '(anonymous)'}` : url;
}

const work = await mkdtemp(join(tmpdir(), 'ringkv-bench-profile-'));
let base = 24_000;
while (!(await portIsFree('127.0.0.1', base)) || !(await portIsFree('127.0.0.1', base + 5))) base += 100;
const child = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${work}`,
    CLI,
    'start',
    '--port',
    String(base),
    '--replicas',
    '1',
    '--snapshot-interval',
    '0',
    '--data-dir',
    join(work, 'data'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise<void>((resolve) => {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"distributor listening"')) resolve();
  });
});
const url = `http://127.0.0.1:${base}`;
await writeEveryKey(url, 10_000, 100);
const script = await mixScript(work);
const result = await runWrk(url, script, { connections: 64, seconds: SECONDS });
const exited = once(child, 'exit');
child.kill('SIGTERM');
await exited;

const file = (await readdir(work)).find((name) => name.endsWith('.cpuprofile'));
if (file === undefined) throw new Error('the distributor wrote no .cpuprofile');
const profile = JSON.parse(await readFile(join(work, file), 'utf8')) as Profile;
const sampleMicros = (profile.endTime - profile.startTime) / profile.samples.length;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const id of profile.samples) {
  const frame = byId.get(id)!.callFrame;
  const area = areaOf(frame);
  areas.set(area, (areas.get(area) ?? 0) + sampleMicros);
  if (area.startsWith('idle')) continue;
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + sampleMicros);
}
// The profile spans the whole process (start-up, fill, load); scale by the load's share of requests is not
// possible, so costs are per request of the whole run: the fill's 10,000 PUTs plus wrk's requests.
const requests = result.requestsPerSecond * SECONDS + 10_000;
const totalMicros = profile.endTime - profile.startTime;
const busyMicros = totalMicros - (areas.get('idle (waiting for I/O)') ?? 0);
const rows = (entries: Map<string, number>, limit: number) =>
  [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, micros]) => [
      name,
      (micros / requests).toFixed(2),
      `${((micros / totalMicros) * 100).toFixed(1)}%`,
    ]);
console.log(
  `\nwrk: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; distributor busy ${(busyMicros / requests).toFixed(1)} us per request (${Math.round(requests)} requests, whole run)\n`,
);
printTable(['area of the distributor process', 'us/request', 'of wall time'], rows(areas, 20));
console.log();
printTable(['function (self time)', 'us/request', 'of wall time'], rows(functions, 25));
console.log(`\nprofile: ${join(work, file)}`);
