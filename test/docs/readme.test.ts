// Proves the README's quick start works as shown: `npm start` is `ringkv start`, and every command of every
// block after it runs against a real cluster on the default ports (5000-5005), exits 0, and prints what its
// `# →` comment says.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portIsFree } from '../../src/distributor/local-nodes.js';
import { CLI_PATH } from '../helpers/cli.js';
import { type RunningProcess, startCli, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const quickStart = readme.slice(
  readme.indexOf('## Quick start'),
  readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5),
);
const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** One command line of a block: the command, and the output its `# →` comment promises, if any. */
function commandOf(line: string): { command: string; expected: string | undefined } {
  const comment = line.search(/ {2,}# /);
  const command = (comment === -1 ? line : line.slice(0, comment)).trim();
  const note = comment === -1 ? '' : line.slice(comment).trim();
  return { command, expected: note.startsWith('# → ') ? note.slice('# → '.length) : undefined };
}

const directory = await temporaryDirectory('ringkv-readme-');
let cluster: RunningProcess | undefined;
const env: NodeJS.ProcessEnv = { ...process.env };

before(async () => {
  for (let port = 5000; port <= 5006; port++) {
    assert.ok(await portIsFree('127.0.0.1', port), `the README's quick start needs port ${port} free`);
  }
  // `npx ringkv` and, where curl is missing, a small stand-in, on PATH.
  const bin = `${directory.path}/bin`;
  await mkdir(bin);
  await writeFile(`${bin}/ringkv`, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  await chmod(`${bin}/ringkv`, 0o755);
  let hasCurl = true;
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    hasCurl = false;
  }
  if (!hasCurl) {
    const miniCurl = fileURLToPath(new URL('../helpers/mini-curl.mjs', import.meta.url));
    await writeFile(`${bin}/curl`, `#!/bin/sh\nexec "${process.execPath}" "${miniCurl}" "$@"\n`);
    await chmod(`${bin}/curl`, 0o755);
  }
  env.PATH = `${bin}:${process.env.PATH}`;
  delete env.RINGKV_URL;
  delete env.RINGKV_ADMIN_TOKEN;
  cluster = await startCli(
    ['start', '--data-dir', `${directory.path}/data`],
    'distributor listening',
    30_000,
  );
});
after(async () => {
  if (cluster !== undefined) await stopProcess(cluster);
  await directory.remove();
});

test('the first block is the two quick-start commands, and npm start runs ringkv start', async () => {
  assert.match(blocks[0]!, /^npm install && npm start /m);
  assert.match(blocks[0]!, /^npm test /m);
  const scripts = (
    JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  assert.equal(scripts.start, 'node dist/cli/main.js start');
  assert.ok(blocks.length >= 4, `found ${blocks.length} blocks`);
});

blocks.slice(1).forEach((block, index) => {
  test(`block ${index + 2} of the quick start runs as shown: ${block.split('\n')[0]!.slice(0, 60)}`, async () => {
    for (const line of block.split('\n').filter((text) => text.trim() !== '' && !text.startsWith('#'))) {
      const { command, expected } = commandOf(line);
      const shell = command.replace(/^npx ringkv /, 'ringkv ');
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          'bash',
          ['-c', shell],
          { cwd: directory.path, env, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
      assert.equal(result.code, 0, `${command}\n${result.stderr}`);
      if (expected !== undefined) assert.equal(result.stdout.trim(), expected, command);
    }
  });
});
