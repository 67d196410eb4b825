// Proves with real processes: every acknowledged write survives SIGKILL (lmdb), SIGTERM stops gracefully
// with a final snapshot, a snapshot re-imports into an empty engine, and a second signal exits at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Pool, request } from 'undici';
import { resolveNodeOptions } from '../../src/node/node-options.js';
import { http } from '../helpers/http.js';
import { startCli, startNodeProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-node-process-');
after(() => directory.remove());

test('every acknowledged write survives a SIGKILL in the middle of a write storm', async () => {
  const dataDir = `${directory.path}/kill`;
  const node = await startNodeProcess(dataDir, ['--snapshot-interval', '0']);
  const agent = new Agent({ connections: 32 });
  const acknowledged = new Map<string, string>();
  let killed = false;
  const writer = async (worker: number) => {
    for (let i = 0; !killed; i++) {
      const key = `w${worker}-k${i % 50}`;
      const value = `w${worker}-v${i}`;
      try {
        const answer = await request(`${node.url}/put?key=${key}&value=${value}`, {
          method: 'PUT',
          dispatcher: agent,
        });
        const body = await answer.body.text();
        if (answer.statusCode === 200 && body === '{"message":"Value stored successfully"}')
          acknowledged.set(key, value);
      } catch {
        return; // the connection died with the process: this write was never acknowledged
      }
    }
  };
  const writers = Array.from({ length: 32 }, (_, worker) => writer(worker));
  await sleep(1500);
  node.child.kill('SIGKILL');
  killed = true;
  await Promise.all(writers);
  assert.equal(await node.exited, 'SIGKILL');
  await agent.close();
  assert.ok(acknowledged.size > 500, `only ${acknowledged.size} writes were acknowledged before the kill`);

  const restarted = await startNodeProcess(dataDir, ['--snapshot-interval', '0']);
  try {
    const missing: string[] = [];
    for (const [key, value] of acknowledged) {
      const answer = await http(`${restarted.url}/get?key=${key}`);
      // A later write to the same key may have committed without its acknowledgement arriving: the
      // value must then be that later one, never an older one.
      const stored = answer.status === 200 ? (answer.json() as { value: string }).value : undefined;
      const [, storedSeq] = stored?.split('-v') ?? [];
      if (stored === undefined || Number(storedSeq) < Number(value.split('-v')[1]))
        missing.push(`${key}=${value} (got ${stored})`);
    }
    assert.deepEqual(missing, []);
  } finally {
    restarted.child.kill('SIGKILL');
    await restarted.exited;
  }
});

test('SIGTERM drains, snapshots and exits 0; the snapshot re-imports into an empty engine', async () => {
  const dataDir = `${directory.path}/graceful`;
  const node = await startNodeProcess(dataDir, ['--snapshot-interval', '0']);
  for (let i = 0; i < 200; i++) await http(`${node.url}/put?key=key${i}&value=value${i}`, { method: 'PUT' });
  await http(`${node.url}/kv/binary`, { method: 'PUT', body: Buffer.from([0xff, 0, 0xfe]) });
  await http(`${node.url}/del?key=key7`, { method: 'DELETE' });
  node.child.kill('SIGTERM');
  assert.equal(await node.exited, 0);
  assert.ok(node.logs.some((entry) => entry.msg === 'stopped: writes committed, snapshot written'));
  const snapshot = JSON.parse(await readFile(`${dataDir}/node-under-test.json`, 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(Object.keys(snapshot).length, 200);
  assert.equal(snapshot.key199, 'value199');
  assert.equal(snapshot.key7, undefined);

  await rm(`${dataDir}/node-under-test.lmdb`);
  await rm(`${dataDir}/node-under-test.lmdb-lock`, { force: true });
  const restarted = await startNodeProcess(dataDir, ['--snapshot-interval', '0']);
  try {
    assert.ok(
      restarted.logs.some(
        (entry) => entry.msg === 'imported snapshot into an empty engine' && entry.keys === 200,
      ),
    );
    assert.equal((await http(`${restarted.url}/get?key=key199`)).text, '{"value":"value199"}');
    assert.equal((await http(`${restarted.url}/get?key=key7`)).status, 404);
    assert.deepEqual((await http(`${restarted.url}/kv/binary`)).body, Buffer.from([0xff, 0, 0xfe]));
  } finally {
    restarted.child.kill('SIGTERM');
    assert.equal(await restarted.exited, 0);
  }
});

test('periodic snapshots appear on their own once something changed', async () => {
  const dataDir = `${directory.path}/periodic`;
  const node = await startNodeProcess(dataDir, ['--snapshot-interval', '1']);
  try {
    await http(`${node.url}/put?key=periodic&value=yes`, { method: 'PUT' });
    let snapshot: unknown;
    for (let attempt = 0; attempt < 30 && snapshot === undefined; attempt++) {
      await sleep(200);
      snapshot = await readFile(`${dataDir}/node-under-test.json`, 'utf8').then(JSON.parse, () => undefined);
    }
    assert.deepEqual(snapshot, { periodic: 'yes' });
  } finally {
    node.child.kill('SIGKILL');
    await node.exited;
  }
});

/** The scheduling policy of each thread of process `pid` (field 41 of /proc/<pid>/task/<tid>/stat; SCHED_BATCH is 3). */
async function threadPolicies(pid: number): Promise<Map<string, number>> {
  const policies = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    policies.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]));
  }
  return policies;
}
const SCHED_BATCH = 3;

test("the writer thread commits under SCHED_BATCH by default, the event loop under the default policy, and --writer-policy normal keeps the writer's", {
  skip: process.platform !== 'linux' && 'scheduling policies are read from Linux /proc',
}, async () => {
  for (const [policy, expected] of [
    [[], 1],
    [['--writer-policy', 'normal'], 0],
  ] as const) {
    const node = await startNodeProcess(`${directory.path}/policy-${expected}`, [
      '--snapshot-interval',
      '0',
      ...policy,
    ]);
    try {
      const pid = node.child.pid!;
      // Over 64 KiB of records: committed on the writer thread, which this write starts. The check counts
      // policies after the write, which holds however the thread came to be running.
      const answer = await http(`${node.url}/kv/large`, { method: 'PUT', body: Buffer.alloc(100_000, 1) });
      assert.equal(answer.status, 204);
      const after = await threadPolicies(pid);
      assert.equal(
        [...after.values()].filter((found) => found === SCHED_BATCH).length,
        expected,
        `threads with their policies: ${[...after]}`,
      );
      assert.equal(after.get(String(pid)), 0, 'the main thread keeps the default policy');
    } finally {
      node.child.kill('SIGTERM');
      assert.equal(await node.exited, 0);
    }
  }
  assert.throws(() => resolveNodeOptions({ writerPolicy: 'fast' as 'batch' }), {
    code: 'RINGKV_ERR_INVALID_OPTION',
  });
});

test('a node loads undici after it listens, not at its start nor at its first push', async () => {
  // Loading undici (110 modules, ~100 ms of CPU in one step) at a node's start delayed an add_server's new
  // node; at the first push it stalled every source of the add at once (docs/CLUSTER.md). undici is
  // CommonJS, so the module cache tells what the process has loaded: when its server starts listening, when
  // signalled, and at exit.
  const dataDir = `${directory.path}/undici`;
  await mkdir(dataDir, { recursive: true });
  const preload = `${dataDir}/report-undici.cjs`;
  const report = (file: string) =>
    `require('node:fs').writeFileSync(${JSON.stringify(`${dataDir}/${file}`)}, String(Object.keys(require('node:module')._cache).filter((path) => path.includes('/node_modules/undici/')).length))`;
  await writeFile(
    preload,
    `const { Server } = require('node:net');
    const emit = Server.prototype.emit;
    Server.prototype.emit = function (event, ...rest) {
      if (event === 'listening') ${report('at-listening')};
      return emit.call(this, event, ...rest);
    };
    process.on('SIGUSR2', () => ${report('at-signal')});
    process.on('exit', () => ${report('at-exit')});`,
  );
  const node = await startCli(
    ['node', '--port', '0', '--id', 'undici-late', '--data-dir', dataDir, '--snapshot-interval', '0'],
    'storage node listening',
    15_000,
    ['--require', preload],
  );
  const answer = await http(`${node.url}/put?key=k&value=v`, { method: 'PUT' });
  assert.equal(answer.status, 200);
  // The load runs after listening, in the background: wait for it, without any push asking for it.
  const deadline = Date.now() + 10_000;
  let loaded = 0;
  while (loaded === 0 && Date.now() < deadline) {
    await sleep(100);
    node.child.kill('SIGUSR2');
    loaded = Number(await readFile(`${dataDir}/at-signal`, 'utf8').catch(() => '0'));
  }
  node.child.kill('SIGTERM');
  assert.equal(await node.exited, 0);
  assert.equal(await readFile(`${dataDir}/at-listening`, 'utf8'), '0');
  assert.ok(Number(await readFile(`${dataDir}/at-exit`, 'utf8')) > 50);
});

test('a second signal exits at once, even while a request is still draining', async () => {
  const node = await startNodeProcess(`${directory.path}/twice`, ['--snapshot-interval', '0']);
  // A PUT whose body never finishes keeps one request in flight, so the first SIGTERM waits on it.
  const socket = connect(node.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('PUT /kv/slow HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\npartial');
  await sleep(200);
  node.child.kill('SIGTERM');
  await sleep(300);
  assert.equal(node.child.exitCode, null, 'the first signal waits for the in-flight request');
  const started = Date.now();
  node.child.kill('SIGTERM');
  assert.equal(await node.exited, 1);
  assert.ok(Date.now() - started < 2000);
  socket.destroy();
});

test('--socket serves the same API on a Unix socket (0600), replaces a dead process socket, refuses a live one', async () => {
  const dataDir = `${directory.path}/socket`;
  await mkdir(dataDir, { recursive: true });
  const path = `${dataDir}/node.sock`;
  // A socket file left by a process killed with SIGKILL (a clean close would have removed it).
  const squatter = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
  ]);
  await once(squatter.stdout!, 'data');
  squatter.kill('SIGKILL');
  await once(squatter, 'exit');
  assert.ok((await lstat(path)).isSocket());

  const node = await startNodeProcess(dataDir, ['--snapshot-interval', '0', '--socket', path]);
  const overSocket = new Pool('http://localhost', { socketPath: path });
  try {
    assert.equal((await lstat(path)).mode & 0o777, 0o600);
    const put = await overSocket.request({ method: 'PUT', path: '/put?key=over&value=socket' });
    assert.equal(await put.body.text(), '{"message":"Value stored successfully"}');
    assert.equal((await http(`${node.url}/get?key=over`)).text, '{"value":"socket"}', 'seen over TCP');
    const missing = await overSocket.request({ method: 'GET', path: '/get?key=nothing' });
    assert.equal(missing.statusCode, 404);
    assert.equal(await missing.body.text(), '{"error":"Key not found"}');

    // A second node on the same socket path: the first still answers there, so it must not be taken over.
    const second = await startNodeProcess(`${dataDir}/second`, ['--socket', path]).then(
      (started) => started,
      (error: Error) => error,
    );
    assert.ok(second instanceof Error, 'a second node started on a live socket');
    assert.match(second.message, /another process is serving on the socket/);
  } finally {
    // The pool's kept-alive connection over the socket is still open: the drain must end it, not wait on it.
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0);
    await overSocket.close();
  }
  await assert.rejects(lstat(path), { code: 'ENOENT' }, 'a clean stop removes the socket');
  assert.throws(() => resolveNodeOptions({ socketPath: `/${'s'.repeat(100)}` }), {
    code: 'RINGKV_ERR_INVALID_OPTION',
  });

  // Anything but a socket at the path is left alone, and the node does not start.
  await writeFile(path, 'not a socket');
  const refused = await startNodeProcess(dataDir, ['--socket', path]).then(
    () => undefined,
    (error: Error) => error,
  );
  assert.match(String(refused?.message), /exists and is not a socket/);
  assert.equal(await readFile(path, 'utf8'), 'not a socket');
});

test('a port already taken ends the node at once with a clear error, and its socket goes with it', async () => {
  const dataDir = `${directory.path}/port-taken`;
  await mkdir(dataDir, { recursive: true });
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  const path = `${dataDir}/n.sock`;
  try {
    const refused = await startNodeProcess(dataDir, ['--port', String(port), '--socket', path]).then(
      () => undefined,
      (error: Error) => error,
    );
    assert.ok(refused instanceof Error, 'the node started on a taken port');
    assert.match(refused.message, /exited \(2\)/);
    assert.match(refused.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    await assert.rejects(lstat(path), { code: 'ENOENT' }, 'the socket was removed');
  } finally {
    holder.close();
  }
});
