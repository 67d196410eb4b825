/** The dashboard: live cluster state over server-sent events, the ring, traffic charts, nodes and their admin. */
import { Admin, ApiError } from './admin.js';
import { LineChart } from './charts.js';
import { nodeColors } from './colors.js';
import { duration, integer, milliseconds } from './format.js';
import { NodesTable } from './nodes-table.js';
import { RingView } from './ring-view.js';
import type {
  ClusterView,
  DashboardLayout,
  HelloEvent,
  MemberView,
  NodeTraffic,
  RingAnswer,
  SecondStats,
  TickEvent,
} from './wire.js';

const HISTORY_SECONDS = 120;

/** What tests and benchmarks read: how many updates were drawn, and how long each took. */
interface DashboardProbe {
  ticks: number;
  renderMs: number[];
  /** Time to paint the ring for each new layout. */
  layoutMs: number[];
}
const probe: DashboardProbe = { ticks: 0, renderMs: [], layoutMs: [] };
(window as unknown as { ringkvDashboard: DashboardProbe }).ringkvDashboard = probe;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const admin = new Admin();
const ring = new RingView(byId<HTMLCanvasElement>('ring-canvas'));
const rpsChart = new LineChart<SecondStats>(
  byId('rps-chart'),
  [
    { label: 'requests/s', color: '#4da3ff', value: (point) => point.requests, fill: true },
    { label: 'errors/s', color: '#f85149', value: (point) => point.errors },
  ],
  HISTORY_SECONDS,
  '/s',
);
const latencyChart = new LineChart<SecondStats>(
  byId('latency-chart'),
  [
    { label: 'p50', color: '#3fb950', value: (point) => point.p50Ms },
    { label: 'p90', color: '#d29922', value: (point) => point.p90Ms },
    { label: 'p99', color: '#f778ba', value: (point) => point.p99Ms },
  ],
  HISTORY_SECONDS,
  'ms',
);

let cluster: ClusterView | undefined;
let series: SecondStats[] = [];
let traffic: Readonly<Record<string, NodeTraffic>> = {};
let colors = new Map<string, string>();
let layoutKey = '';
let lookup: RingAnswer | undefined;
let changeRunning = false;

const table = new NodesTable(byId('nodes'), {
  shutdown: (member) =>
    void change(
      `Shut down ${member.id}?`,
      `The node stops gracefully and stays a member, marked down. With replicas its keys keep being served; with one replica they answer 503 until it starts again.`,
      `/shutdown?node=${encodeURIComponent(member.id)}`,
    ),
  start: (member) =>
    void change(
      `Start ${member.id}?`,
      'The node starts again with its data.',
      `/start_server?node=${encodeURIComponent(member.id)}`,
    ),
  remove: (member) =>
    void change(
      `Remove ${member.id}?`,
      'Its keys move to the nodes the new ring names (under load, without errors); then the node shuts down.',
      `/remove_server?node=${encodeURIComponent(member.id)}`,
    ),
});

async function change(title: string, text: string, path: string): Promise<void> {
  if ((await admin.confirm(title, text)) === undefined) return;
  await run(path);
}

async function run(path: string): Promise<void> {
  changeRunning = true;
  render();
  try {
    const answer = await admin.request<{ message: string; id: string }>('POST', path);
    admin.toast(`${answer.message}: ${answer.id}`);
  } catch (error) {
    admin.toast(error instanceof ApiError ? `${error.message} (${error.code})` : String(error), true);
  } finally {
    changeRunning = false;
    render();
  }
}

byId('add-server').addEventListener('click', async () => {
  const fields = await admin.confirm(
    'Add a server',
    'Leave the url empty to start a new local node on the next free port; or give the url of an empty ringkv node that runs elsewhere. Keys move to it under load.',
    [
      { name: 'url', label: 'node url (optional)', placeholder: 'http://10.0.0.7:5001' },
      { name: 'weight', label: 'weight (optional)', placeholder: '1' },
    ],
  );
  if (fields === undefined) return;
  const query = new URLSearchParams();
  if (fields.url) query.set('url', fields.url);
  if (fields.weight) query.set('weight', fields.weight);
  await run(`/add_server${query.size > 0 ? `?${query}` : ''}`);
});

byId('lookup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = byId<HTMLInputElement>('lookup-key').value;
  if (key === '') return;
  try {
    lookup = await admin.request<RingAnswer>('GET', `/ring?key=${encodeURIComponent(key)}`);
  } catch (error) {
    lookup = undefined;
    admin.toast(error instanceof ApiError ? error.message : String(error), true);
  }
  showLookup();
  render();
});

function chip(id: string, role: string): HTMLElement {
  const element = document.createElement('span');
  element.className = 'chip';
  const dot = document.createElement('span');
  dot.className = 'dot';
  dot.style.background = colors.get(id) ?? '#888';
  element.append(dot, `${id} · ${role}`);
  return element;
}

function showLookup(): void {
  const result = byId('lookup-result');
  ring.setMarker(lookup?.position);
  if (lookup === undefined) return;
  const degrees = ((lookup.position / 2 ** 32) * 360).toFixed(1);
  const line = document.createElement('div');
  line.textContent = `“${lookup.key}” is at position ${lookup.position.toLocaleString('en-US')} (${degrees}°), held by:`;
  const chips = document.createElement('div');
  lookup.nodes.forEach((node, index) => {
    chips.append(chip(node.id, index === 0 ? 'owner' : `replica ${index + 1}`));
  });
  result.replaceChildren(line, chips);
  if (lookup.nextNodes !== undefined) {
    const next = document.createElement('div');
    next.textContent = `after the move: ${lookup.nextNodes.map((node) => node.id).join(', ')}`;
    result.append(next);
  }
}

async function refreshLayout(view: ClusterView): Promise<void> {
  const key = `${view.ringVersion} ${view.move?.node ?? ''} ${view.move?.phase ?? ''}`;
  if (key === layoutKey) return;
  layoutKey = key;
  const layout = await admin.request<DashboardLayout>('GET', '/ring/layout');
  const ids = new Set([
    ...layout.current.nodes,
    ...(layout.next?.nodes ?? []),
    ...view.members.map((m) => m.id),
  ]);
  colors = nodeColors([...ids]);
  const started = performance.now();
  ring.setLayout(layout, colors);
  probe.layoutMs.push(performance.now() - started);
  renderLegend(view.members);
  if (lookup !== undefined) showLookup();
}

function renderLegend(members: readonly MemberView[]): void {
  byId('legend').replaceChildren(
    ...members.map((member) => {
      const item = document.createElement('span');
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = colors.get(member.id) ?? '#888';
      item.append(dot, member.id);
      return item;
    }),
  );
}

function renderMove(view: ClusterView): void {
  const section = byId('move');
  const move = view.move;
  section.classList.toggle('active', move !== null);
  if (move === null) return;
  const fraction = move.keysTotal > 0 ? move.keysMoved / move.keysTotal : 0;
  const bar = byId('move-bar');
  bar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
  (bar.firstElementChild as HTMLElement).style.width = `${Math.min(100, fraction * 100)}%`;
  byId('move-text').innerHTML = '';
  const verb = move.kind === 'add' ? 'Adding' : 'Removing';
  byId('move-text').append(
    `${verb} ${move.node} — ${move.phase}: `,
    Object.assign(document.createElement('b'), {
      textContent: `${integer(move.keysMoved)} of ${integer(move.keysTotal)} keys (${Math.round(fraction * 100)}%)`,
    }),
    `, ${integer(move.keysPerSecond)} keys/s, ${move.rangesMoved}/${move.rangesTotal} ranges, time left ${duration(move.etaSeconds)}`,
  );
}

function render(): void {
  if (cluster === undefined) return;
  const started = performance.now();
  const view = cluster;
  byId('fact-distributor').textContent = view.distributor;
  byId('fact-ring').textContent = String(view.ringVersion);
  byId('fact-quorum').textContent = `${view.replicas}/${view.readQuorum}/${view.writeQuorum}`;
  byId('fact-nodes').textContent =
    `${view.members.filter((m) => m.status === 'up').length} up of ${view.members.length}`;
  byId('fact-hints').textContent = integer(view.hints.pending);
  const busy = changeRunning || view.move !== null;
  byId<HTMLButtonElement>('add-server').disabled = busy;
  const highlighted = new Set(lookup?.nodes.map((node) => node.id) ?? []);
  table.update(view.members, traffic, colors, highlighted, busy);
  renderMove(view);
  rpsChart.update(series);
  latencyChart.update(series);
  const last = series.at(-1);
  byId('rps-now').textContent = last === undefined ? '–' : `${integer(last.requests)} req/s`;
  byId('latency-now').textContent = last === undefined ? '–' : `p99 ${milliseconds(last.p99Ms)} ms`;
  probe.renderMs.push(performance.now() - started);
  if (probe.renderMs.length > 1000) probe.renderMs.shift();
}

function accept(event: TickEvent): void {
  cluster = event.cluster;
  traffic = event.nodes;
  if (event.second !== null && event.second.atMs !== series.at(-1)?.atMs) {
    series.push(event.second);
    if (series.length > HISTORY_SECONDS) series.shift();
  }
  void refreshLayout(event.cluster).catch((error: unknown) => admin.toast(String(error), true));
  render();
  probe.ticks++;
}

function connect(): void {
  const live = byId('live');
  const events = new EventSource('/events');
  events.addEventListener('open', () => {
    live.classList.add('on');
    byId('live-text').textContent = 'live';
  });
  events.addEventListener('error', () => {
    live.classList.remove('on');
    byId('live-text').textContent = 'reconnecting';
  });
  events.addEventListener('hello', (message) => {
    const hello = JSON.parse((message as MessageEvent<string>).data) as HelloEvent;
    series = [...hello.series];
    accept(hello);
  });
  events.addEventListener('tick', (message) =>
    accept(JSON.parse((message as MessageEvent<string>).data) as TickEvent),
  );
}

connect();
