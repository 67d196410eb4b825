// Proves the key-value and cluster commands of the CLI against a real cluster: get/put/del round trips (values
// from arguments and from stdin, binary-safe through stdout), --json outputs, the exit codes (0 ok, 1 not found,
// 2 usage, 3 server unreachable), `cluster status` as a table of every member, and --help with examples.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-cli-');
let cluster: RunningProcess;
let env: NodeJS.ProcessEnv = {};

before(async () => {
  cluster = await startCluster(directory.path, ['--engine', 'memory'], 3);
  env = { RINGKV_URL: cluster.url };
});
after(async () => {
  await stopProcess(cluster);
  await directory.remove();
});

test('put, get and del round-trip a value, and a missing key exits 1', async () => {
  const put = await runCli(['put', 'greeting', 'hello world'], env);
  assert.deepEqual([put.code, put.stdout], [0, 'OK\n']);
  const get = await runCli(['get', 'greeting'], env);
  assert.deepEqual([get.code, get.stdout], [0, 'hello world']);
  const deleted = await runCli(['del', 'greeting'], env);
  assert.deepEqual([deleted.code, deleted.stdout], [0, 'deleted\n']);
  const missing = await runCli(['get', 'greeting'], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /key not found: greeting/);
  assert.equal((await runCli(['del', 'greeting'], env)).code, 1);
});

test('a value from stdin is stored byte for byte and comes back on stdout', async () => {
  const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
  const put = await runCli(['put', 'binary', '--content-type', 'application/x-test'], env, bytes);
  assert.equal(put.code, 0, put.stderr);
  const get = await runCli(['get', 'binary'], env);
  assert.deepEqual(get.output, bytes);
  const json = await runCli(['get', 'binary', '--json'], env);
  assert.deepEqual(JSON.parse(json.stdout), {
    key: 'binary',
    value: { base64: bytes.toString('base64'), contentType: 'application/x-test' },
    contentType: 'application/x-test',
    version: JSON.parse(json.stdout).version,
  });
  assert.match(JSON.parse(json.stdout).version, /^[0-9a-f]{12}\.[0-9a-f]{4}\./);
  const dash = await runCli(['put', 'dash', '-'], env, 'from stdin');
  assert.equal(dash.code, 0);
  assert.equal((await runCli(['get', 'dash'], env)).stdout, 'from stdin');
});

test('--json gives parseable answers, --url overrides RINGKV_URL', async () => {
  const put = await runCli(['put', 'j', 'v', '--json', '--url', cluster.url], {
    RINGKV_URL: 'http://127.0.0.1:1',
  });
  assert.equal(put.code, 0, put.stderr);
  assert.equal(JSON.parse(put.stdout).key, 'j');
  assert.deepEqual(JSON.parse((await runCli(['del', 'j', '--json'], env)).stdout), {
    key: 'j',
    deleted: true,
  });
  assert.deepEqual(JSON.parse((await runCli(['get', 'j', '--json'], env)).stdout), {
    key: 'j',
    found: false,
  });
  const status = JSON.parse((await runCli(['cluster', 'status', '--json'], env)).stdout);
  assert.equal(status.members.length, 3);
});

test('exit codes: 2 for usage mistakes, 3 when the distributor cannot be reached', async () => {
  const noKey = await runCli(['get'], env);
  assert.equal(noKey.code, 2);
  const tooLong = await runCli(['put', 'k'.repeat(2000), 'v'], env);
  assert.equal(tooLong.code, 2);
  assert.match(tooLong.stderr, /RINGKV_ERR_KEY_TOO_LARGE/);
  assert.equal((await runCli(['cluster', 'frobnicate'], env)).code, 2);
  const down = await runCli(['get', 'k', '--timeout', '2000'], { RINGKV_URL: 'http://127.0.0.1:1' });
  assert.equal(down.code, 3);
  assert.match(down.stderr, /could not reach http:\/\/127\.0\.0\.1:1.*RINGKV_ERR_UNREACHABLE/);
  assert.ok(!down.stderr.includes('    at '), 'no stack trace');
  const unknownNode = await runCli(['cluster', 'shutdown', 'no-such-node'], env);
  assert.equal(unknownNode.code, 1);
});

test('cluster status prints a table with every member; add and remove change it', async () => {
  const status = await runCli(['cluster', 'status'], env);
  assert.equal(status.code, 0);
  const lines = status.stdout.split('\n');
  assert.match(lines[0]!, /^ring version 1 · N=3 R=2 W=2 · 3 members, 3 up/);
  assert.match(lines[2]!, /^NODE +URL +STATUS +KEYS +SHARE +HINTS$/);
  assert.equal(lines.filter((line) => /^127\.0\.0\.1-\d+ +http.* up /.test(line)).length, 3);
  const added = await runCli(['cluster', 'add'], env);
  assert.equal(added.code, 0, added.stderr);
  const id = /^Server added: (\S+) at http:\/\/127\.0\.0\.1:(\d+)/.exec(added.stdout);
  assert.ok(id !== null, added.stdout);
  assert.ok((await runCli(['cluster', 'status'], env)).stdout.includes(id[1]!));
  const removed = await runCli(['cluster', 'remove', id[2]!], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(!(await runCli(['cluster', 'status'], env)).stdout.includes(id[1]!));
});

test('every command has --help with examples', async () => {
  for (const command of [
    ['start'],
    ['node'],
    ['distributor'],
    ['get'],
    ['put'],
    ['del'],
    ['cluster'],
    ['cluster', 'status'],
    ['cluster', 'add'],
    ['cluster', 'remove'],
    ['cluster', 'shutdown'],
    ['cluster', 'start'],
    ['repair'],
    ['bench'],
    ['ring'],
  ]) {
    const help = await runCli([...command, '--help']);
    assert.equal(help.code, 0, command.join(' '));
    assert.match(help.stdout, /Examples:\n {2}ringkv /, command.join(' '));
  }
});
