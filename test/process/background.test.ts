// Proves that background work really runs as such on Linux: at nice 19, in a session of its own, and in an
// autogroup niced to 19 (without which a nice value ranks a process only within its parent's session).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { spawnInBackground } from '../../src/process/background.js';

/** Field 6 of /proc/<pid>/stat: the session id (the command name, field 2, may hold spaces, so split after it). */
const sessionOf = (pid: number | 'self') =>
  Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);

// The child waits (up to 5 s) for its autogroup to be niced, which the parent does just after the spawn.
const report = `
const { readFileSync, existsSync } = require('node:fs');
const { getPriority } = require('node:os');
const group = () => existsSync('/proc/self/autogroup') ? readFileSync('/proc/self/autogroup', 'utf8').trim() : 'none';
const started = Date.now();
const wait = () => {
  if (group() !== 'none' && !/nice 19$/.test(group()) && Date.now() - started < 5000) return setTimeout(wait, 20);
  const session = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[3]);
  process.stdout.write(JSON.stringify({ nice: getPriority(), group: group(), session, pid: process.pid }));
};
wait();
`;

test('background work runs at nice 19 in a session and autogroup of its own', {
  skip: process.platform !== 'linux',
}, async () => {
  const child = spawnInBackground(['-e', report]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  const seen = JSON.parse(stdout) as { nice: number; group: string; session: number; pid: number };
  assert.equal(seen.nice, 19);
  assert.equal(seen.session, seen.pid, 'the child leads a session of its own');
  assert.notEqual(seen.session, sessionOf('self'));
  if (existsSync('/proc/self/autogroup')) assert.match(seen.group, /nice 19$/);
});
