// Proves docs/API.md and the servers agree on routes: every route the document lists exists on a real
// distributor or node (it answers an unused method with 405 and names the documented method in Allow), a path
// it does not list is 404, and every route the servers' metrics know by name is documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { distributorRoute, distributorRouteLabels } from '../../src/distributor/distributor-metrics.js';
import { nodeRoute, nodeRouteLabels } from '../../src/node/node-metrics.js';
import { http } from '../helpers/http.js';
import { clusterSecretOf, type RunningProcess, startCluster, stopProcess } from '../helpers/processes.js';
import { temporaryDirectory } from '../helpers/temporary.js';

const apiDoc = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');

/** The `METHOD /path` rows of a section of API.md, placeholders filled in. */
function documentedRoutes(from: string, to: string): { method: string; path: string }[] {
  const section = apiDoc.slice(apiDoc.indexOf(from), apiDoc.indexOf(to));
  return [...section.matchAll(/^\| `([A-Z]+) (\/[^`?\s]*)/gm)].map((match) => ({
    method: match[1]!,
    path: match[2]!.replace('<key>', 'some-key').replace('<name>', 'app'),
  }));
}

const distributorRoutes = documentedRoutes('## Distributor routes', '## Storage node routes');
const nodeRoutes = documentedRoutes('## Storage node routes', '## Errors');
// The distributor answers the node's client API too (the section says so).
const clientRoutes = nodeRoutes.filter(
  (route) => !route.path.startsWith('/internal/') && route.path !== '/shutdown' && route.path !== '/metrics',
);

const directory = await temporaryDirectory('ringkv-api-routes-');
let cluster: RunningProcess;
let nodeUrl = '';
let secret = '';
before(async () => {
  cluster = await startCluster(directory.path, ['--engine', 'memory'], 1);
  nodeUrl = ((await http(`${cluster.url}/cluster`)).json() as { members: { url: string }[] }).members[0]!.url;
  secret = await clusterSecretOf(directory.path);
});
after(async () => {
  await stopProcess(cluster);
  await directory.remove();
});

async function exists(base: string, route: { method: string; path: string }, headers = {}): Promise<void> {
  const answer = await http(`${base}${route.path}`, { method: 'PATCH', headers });
  assert.equal(answer.status, 405, `PATCH ${route.path}: ${answer.text}`);
  assert.ok(
    String(answer.headers.allow).split(', ').includes(route.method),
    `${route.path}: Allow ${answer.headers.allow}`,
  );
}

test('API.md lists the routes it should', () => {
  assert.ok(distributorRoutes.length >= 14, JSON.stringify(distributorRoutes));
  assert.ok(nodeRoutes.length >= 15, JSON.stringify(nodeRoutes));
});

test('every distributor route in API.md exists with its documented method, and others are 404', async () => {
  for (const route of [...distributorRoutes, ...clientRoutes]) await exists(cluster.url, route);
  const unknown = await http(`${cluster.url}/no/such/route`);
  assert.equal(unknown.status, 404);
  assert.equal((unknown.json() as { code: string }).code, 'RINGKV_ERR_ROUTE_NOT_FOUND');
});

test('every storage node route in API.md exists with its documented method', async () => {
  for (const route of nodeRoutes) await exists(nodeUrl, route, { 'x-ringkv-cluster-secret': secret });
});

test('every route the metrics name is documented', () => {
  const documented = new Set(
    [...distributorRoutes, ...clientRoutes].map((route) => distributorRoute(route.path)),
  );
  for (const label of distributorRouteLabels()) {
    assert.ok(documented.has(label), `the distributor's ${label} is not in API.md`);
  }
  const nodeDocumented = new Set(nodeRoutes.map((route) => nodeRoute(route.path)));
  for (const label of nodeRouteLabels()) {
    assert.ok(nodeDocumented.has(label), `the node's ${label} is not in API.md`);
  }
});
