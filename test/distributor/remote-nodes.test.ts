// Proves `ringkv distributor` runs in front of nodes started elsewhere: add_server?url= joins a running,
// empty node (a non-empty one is refused), remove_server shuts a remote node down, and no key is lost.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { http } from '../helpers/http.js';
import {
  freePortRange,
  type RunningProcess,
  startCli,
  startNodeProcess,
  stopProcess,
} from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const directory = await temporaryDirectory('ringkv-remote-');
const running: RunningProcess[] = [];
after(async () => {
  await Promise.all(running.filter((process) => process.child.exitCode === null).map(stopProcess));
  await directory.remove();
});

async function node(name: string): Promise<RunningProcess> {
  const started = await startNodeProcess(`${directory.path}/${name}`, [
    '--id',
    name,
    '--snapshot-interval',
    '0',
  ]);
  running.push(started);
  return started;
}

test('a distributor in front of remote nodes adds and removes them by url without losing keys', async () => {
  const [a, b] = await Promise.all([node('remote-a'), node('remote-b')]);
  const port = await freePortRange(1);
  const distributor = await startCli(
    [
      'distributor',
      '--port',
      String(port),
      '--data-dir',
      `${directory.path}/distributor`,
      '--node',
      a.url,
      '--node',
      b.url,
    ],
    'distributor listening',
  );
  running.push(distributor);
  const base = distributor.url;
  for (let i = 0; i < 500; i++) await http(`${base}/put?key=k${i}&value=v${i}`, { method: 'PUT' });

  const local = await http(`${base}/add_server`, { method: 'POST' });
  assert.equal(local.status, 400);
  assert.equal((local.json() as { code: string }).code, 'RINGKV_ERR_NOT_LOCAL');

  const full = await node('remote-full');
  await http(`${full.url}/put?key=stale&value=old`, { method: 'PUT' });
  const refused = await http(`${base}/add_server?url=${encodeURIComponent(full.url)}`, { method: 'POST' });
  assert.equal(refused.status, 409);
  assert.equal((refused.json() as { code: string }).code, 'RINGKV_ERR_NODE_NOT_EMPTY');

  const c = await node('remote-c');
  const added = await http(`${base}/add_server?url=${encodeURIComponent(c.url)}`, { method: 'POST' });
  assert.equal(added.status, 200, added.text);
  assert.equal((added.json() as { id: string }).id, 'remote-c');
  const duplicate = await http(`${base}/add_server?url=${encodeURIComponent(c.url)}`, { method: 'POST' });
  assert.equal(duplicate.status, 409);

  const removed = await http(`${base}/remove_server?node=remote-a`, { method: 'POST' });
  assert.equal(removed.status, 200, removed.text);
  assert.equal(await a.exited, 0, 'the removed node was shut down gracefully');
  for (let i = 0; i < 500; i++) assert.equal((await http(`${base}/get?key=k${i}`)).text, `{"value":"v${i}"}`);
  const { members } = (await http(`${base}/cluster`)).json() as {
    members: { id: string; transport: string }[];
  };
  assert.deepEqual(members.map((m) => m.id).sort(), ['remote-b', 'remote-c']);
  assert.ok(
    members.every((m) => m.transport === 'tcp'),
    'nodes it does not run are reached over TCP',
  );
});
