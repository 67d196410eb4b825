// Proves the dashboard in a real browser (Debian's Chromium through playwright-core) against a real cluster:
// the page loads with no errors and shows 5 nodes, a key lookup names the key's replicas and marks their rows,
// "Add server" (confirmed) adds a sixth node while the move's progress shows, a screenshot is saved, and on a
// cluster with an admin token an action asks for the token and then succeeds.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { http } from '../helpers/http.js';
import { type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const CHROMIUM = process.env.RINGKV_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.RINGKV_REQUIRE_BROWSER === '1';
const missing = !existsSync(CHROMIUM);
if (missing && REQUIRED)
  throw new Error(`RINGKV_REQUIRE_BROWSER is set but there is no browser at ${CHROMIUM}`);
const skip = missing ? `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)` : false;

export const SCREENSHOT = new URL('../../test-results/dashboard.png', import.meta.url).pathname;
const directory = await temporaryDirectory('ringkv-dashboard-');
let cluster: RunningProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  cluster = await startCluster(directory.path, ['--engine', 'memory', '--move-rate', '1000']);
  for (let batch = 0; batch < 6; batch++) {
    const entries = Array.from({ length: 1000 }, (_, i) => ({ key: `key${batch * 1000 + i}`, value: 'v' }));
    const stored = await http(`${cluster.url}/mput`, { method: 'POST', body: JSON.stringify({ entries }) });
    assert.equal(stored.status, 200, stored.text);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
});
after(async () => {
  await browser?.close();
  if (cluster !== undefined) await stopProcess(cluster);
  await directory.remove();
});

const rowCount = () => page.locator('#nodes tr').count();

/** Polls `condition` (through locators: the page's CSP forbids evaluating strings) until it holds. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the page loads with no errors and shows the five nodes, all up', { skip }, async () => {
  await page.goto(cluster!.url);
  await until(async () => (await rowCount()) === 5, 10_000, 'five rows');
  await page.waitForSelector('#live.on');
  const statuses = await page.locator('#nodes .status').allTextContents();
  assert.deepEqual(statuses, ['up', 'up', 'up', 'up', 'up']);
  assert.equal(await page.locator('#fact-quorum').textContent(), '3/2/2');
  assert.deepEqual(pageErrors, []);
});

test('a key lookup names its owner and replicas and marks their rows', { skip }, async () => {
  const expected = ((await http(`${cluster!.url}/ring?key=user%3A42`)).json() as { nodes: { id: string }[] })
    .nodes;
  await page.fill('#lookup-key', 'user:42');
  await page.click('#lookup-form button[type=submit]');
  await page.waitForSelector('#lookup-result .chip');
  const chips = await page.locator('#lookup-result .chip').allTextContents();
  assert.deepEqual(
    chips,
    expected.map((node, index) => `${node.id} · ${index === 0 ? 'owner' : `replica ${index + 1}`}`),
  );
  const highlighted = page.locator('#nodes tr.highlight');
  const marked: (string | null)[] = [];
  for (let row = 0; row < (await highlighted.count()); row++)
    marked.push(await highlighted.nth(row).getAttribute('data-node'));
  assert.deepEqual(marked.sort(), expected.map((node) => node.id).sort());
});

test('"Add server", confirmed, adds a sixth node; the move shows its progress and finishes', {
  skip,
}, async () => {
  await page.click('#add-server');
  await page.waitForSelector('#confirm-dialog[open]');
  await page.click('#confirm-ok');
  await page.waitForSelector('#move.active', { timeout: 20_000 });
  const during = await page.locator('#move-text').textContent();
  assert.match(during ?? '', /^Adding .* keys/);
  await until(
    async () =>
      (await rowCount()) === 6 &&
      (await page.locator('#move.active').count()) === 0 &&
      (await page.locator('#nodes .status').allTextContents()).every((status) => status === 'up'),
    60_000,
    'six nodes up and the move finished',
  );
  assert.equal(await rowCount(), 6);
  await page.waitForSelector('.toast', { timeout: 10_000 });
  assert.match((await page.locator('.toast').first().textContent()) ?? '', /^Server added/);
  const view = (await http(`${cluster!.url}/cluster`)).json() as { members: unknown[]; move: unknown };
  assert.equal(view.members.length, 6);
  assert.equal(view.move, null);
  await mkdir(new URL('../../test-results/', import.meta.url), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));
  assert.deepEqual(pageErrors, []);
});

test('with an admin token, an action asks for it, then succeeds with it', { skip }, async () => {
  const token = 'dashboard-test-admin-token';
  const guarded = await startCluster(
    `${directory.path}/guarded`,
    ['--engine', 'memory', '--admin-token', token],
    3,
  );
  const tab = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await tab.goto(guarded.url);
    await until(async () => (await tab.locator('#nodes tr').count()) === 3, 10_000, 'three rows');
    const row = tab.locator('#nodes tr').first();
    const node = await row.getAttribute('data-node');
    await row.locator('button', { hasText: 'Shut down' }).click();
    await tab.click('#confirm-ok');
    await tab.waitForSelector('#token-dialog[open]');
    await tab.fill('#token-input', token);
    await tab.locator('#token-dialog button[value=ok]').click();
    await tab.waitForSelector('.toast');
    assert.match((await tab.locator('.toast').first().textContent()) ?? '', /^Server shut down/);
    const view = (await http(`${guarded.url}/cluster`)).json() as {
      members: { id: string; status: string }[];
    };
    assert.equal(view.members.find((member) => member.id === node)?.status, 'down');
  } finally {
    await tab.close();
    await stopProcess(guarded);
  }
});
