// Proves two separate processes, given the same members in different orders, place every key identically.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/ring-digest.ts', import.meta.url));

async function digest(options: object, members: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    fixture,
    JSON.stringify(options),
    ...members,
  ]);
  return stdout;
}

for (const options of [{}, { vnodes: 160 }]) {
  test(`processes agree on placement whatever the member order (${JSON.stringify(options)})`, async () => {
    const members = ['node-a=1', 'node-b=2.5', 'node-c=1', 'node-d=0.75', 'node-e=1'];
    const [forward, backward, shuffled] = await Promise.all([
      digest(options, members),
      digest(options, [...members].reverse()),
      digest(options, [members[2]!, members[0]!, members[4]!, members[1]!, members[3]!]),
    ]);
    assert.match(forward, /^[0-9a-f]{64}$/);
    assert.equal(backward, forward);
    assert.equal(shuffled, forward);
    const different = await digest(options, members.slice(1));
    assert.notEqual(different, forward, 'a different member set must place keys differently');
  });
}
