/**
 * The dashboard's page: markup and styles. Its behaviour is in src/dashboard/browser (compiled to
 * /dashboard/app.js). No external resource: it works offline and under a strict Content-Security-Policy.
 */
const STYLE = `
:root {
  --bg: #0f1419; --panel: #171e26; --panel-2: #1d2630; --line: #2a3541; --text: #e6edf3; --muted: #8b98a5;
  --accent: #4da3ff; --good: #3fb950; --bad: #f85149; --warn: #d29922;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; font-size: 14px;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; border-bottom: 1px solid var(--line);
  background: var(--panel); position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 18px; margin: 0; letter-spacing: 0.5px; }
header h1 span { color: var(--accent); }
.facts { display: flex; gap: 18px; color: var(--muted); flex: 1; flex-wrap: wrap; }
.facts b { color: var(--text); font-weight: 600; }
.live { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); }
.live i { width: 9px; height: 9px; border-radius: 50%; background: var(--bad); display: inline-block; }
.live.on i { background: var(--good); box-shadow: 0 0 6px var(--good); }
main { padding: 20px 24px; display: grid; gap: 20px; grid-template-columns: minmax(360px, 420px) 1fr; max-width: 1500px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; min-width: 0; }
section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 1px; color: var(--muted); margin: 0 0 12px; font-weight: 600; }
.wide { grid-column: 1 / -1; }
#ring-canvas { width: 100%; aspect-ratio: 1; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 12px; margin-top: 10px; color: var(--muted); font-size: 12px; max-height: 84px; overflow: auto; }
.dot { width: 10px; height: 10px; border-radius: 3px; display: inline-block; margin-right: 5px; vertical-align: -1px; }
form.lookup { display: flex; gap: 8px; margin-top: 14px; }
input, select { background: var(--panel-2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 7px 10px; font: inherit; min-width: 0; }
input:focus { outline: 2px solid var(--accent); border-color: transparent; }
form.lookup input { flex: 1; }
button { background: var(--panel-2); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 7px 12px;
  font: inherit; cursor: pointer; white-space: nowrap; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
button.primary { background: var(--accent); border-color: var(--accent); color: #04121f; font-weight: 600; }
button.danger { color: var(--bad); }
button.small { padding: 3px 9px; font-size: 12px; }
#lookup-result { margin-top: 10px; min-height: 44px; color: var(--muted); font-size: 13px; line-height: 1.7; }
.chip { display: inline-flex; align-items: center; gap: 5px; background: var(--panel-2); border: 1px solid var(--line); border-radius: 999px;
  padding: 1px 9px 1px 7px; margin: 2px 4px 2px 0; color: var(--text); font-size: 12px; }
.charts { display: grid; gap: 16px; grid-template-columns: 1fr; }
.chart-title { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; margin-bottom: 4px; }
.chart-title b { color: var(--text); font-size: 15px; }
canvas.chart { width: 100%; height: 170px; display: block; background: var(--panel-2); border-radius: 6px; }
.toolbar { display: flex; gap: 10px; align-items: center; margin-bottom: 12px; }
.toolbar h2 { margin: 0; flex: 1; }
.table-wrap { overflow: auto; max-height: 560px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; position: sticky; top: 0; background: var(--panel); }
td.num, th.num { text-align: right; }
tr.highlight td { background: rgba(77, 163, 255, 0.12); }
.status { border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; }
.status.up { background: rgba(63, 185, 80, 0.15); color: var(--good); }
.status.down { background: rgba(248, 81, 73, 0.15); color: var(--bad); }
.status.joining, .status.leaving { background: rgba(210, 153, 34, 0.15); color: var(--warn); }
td.actions { display: flex; gap: 6px; }
#move { display: none; }
#move.active { display: block; }
.progress { height: 10px; background: var(--panel-2); border-radius: 999px; overflow: hidden; margin-top: 8px; }
.progress div { height: 100%; width: 0; background: linear-gradient(90deg, var(--accent), #7cc4ff); transition: width 0.4s; }
#move-text { color: var(--muted); }
#move-text b { color: var(--text); }
dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 10px; padding: 20px; width: min(440px, 92vw); }
dialog::backdrop { background: rgba(0, 0, 0, 0.55); }
dialog h3 { margin: 0 0 8px; }
dialog p { color: var(--muted); margin: 0 0 14px; line-height: 1.5; }
dialog label { display: block; color: var(--muted); font-size: 12px; margin: 10px 0 4px; }
dialog input { width: 100%; }
dialog menu { display: flex; justify-content: flex-end; gap: 8px; padding: 0; margin: 18px 0 0; }
#toasts { position: fixed; bottom: 20px; right: 20px; display: flex; flex-direction: column; gap: 8px; z-index: 5; }
.toast { background: var(--panel-2); border: 1px solid var(--line); border-left: 4px solid var(--good); border-radius: 6px; padding: 10px 14px;
  max-width: 420px; box-shadow: 0 6px 20px rgba(0, 0, 0, 0.35); }
.toast.error { border-left-color: var(--bad); }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ringkv dashboard</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 16 16%22%3E%3Ccircle cx=%228%22 cy=%228%22 r=%226%22 fill=%22none%22 stroke=%22%234da3ff%22 stroke-width=%223%22/%3E%3C/svg%3E">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>ring<span>kv</span></h1>
  <div class="facts">
    <span>distributor <b id="fact-distributor">…</b></span>
    <span>ring version <b id="fact-ring">…</b></span>
    <span>N/R/W <b id="fact-quorum">…</b></span>
    <span>nodes <b id="fact-nodes">…</b></span>
    <span>hints pending <b id="fact-hints">…</b></span>
  </div>
  <button id="token-button" class="small" type="button" title="The admin token the membership buttons send">Admin token</button>
  <span class="live" id="live"><i></i><span id="live-text">connecting</span></span>
</header>
<main>
  <section id="move" class="wide" aria-live="polite">
    <h2>Data move in progress</h2>
    <div id="move-text"></div>
    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" id="move-bar"><div></div></div>
  </section>
  <section>
    <h2>The ring</h2>
    <canvas id="ring-canvas" width="400" height="400" aria-label="the hash ring, coloured by node"></canvas>
    <div class="legend" id="legend"></div>
    <form class="lookup" id="lookup-form">
      <input id="lookup-key" placeholder="Look a key up: where does it live?" autocomplete="off" maxlength="1024" aria-label="key">
      <button class="primary" type="submit">Look up</button>
    </form>
    <div id="lookup-result">Type a key to see its position on the ring and the nodes that hold it.</div>
  </section>
  <section>
    <h2>Traffic through the distributor</h2>
    <div class="charts">
      <div>
        <div class="chart-title"><span>requests per second</span><b id="rps-now">–</b></div>
        <canvas class="chart" id="rps-chart" width="800" height="170"></canvas>
      </div>
      <div>
        <div class="chart-title"><span>latency, ms (p50 / p90 / p99)</span><b id="latency-now">–</b></div>
        <canvas class="chart" id="latency-chart" width="800" height="170"></canvas>
      </div>
    </div>
  </section>
  <section class="wide">
    <div class="toolbar">
      <h2>Nodes</h2>
      <button class="primary" id="add-server" type="button">Add server</button>
    </div>
    <div class="table-wrap">
      <table>
        <thead><tr>
          <th>node</th><th>url</th><th>status</th><th class="num">keys</th><th class="num">share</th>
          <th class="num">req/s</th><th class="num">p99 ms</th><th class="num">hints</th><th>actions</th>
        </tr></thead>
        <tbody id="nodes"></tbody>
      </table>
    </div>
  </section>
</main>
<dialog id="confirm-dialog">
  <form method="dialog">
    <h3 id="confirm-title"></h3>
    <p id="confirm-text"></p>
    <div id="confirm-fields"></div>
    <menu><button value="cancel" type="submit">Cancel</button><button class="primary" value="ok" type="submit" id="confirm-ok">Confirm</button></menu>
  </form>
</dialog>
<dialog id="token-dialog">
  <form method="dialog">
    <h3>Admin token</h3>
    <p>Membership changes need the cluster's admin token once one is set (ringkv prints it when it generates one).
    It is kept in this tab only.</p>
    <label for="token-input">token</label>
    <input id="token-input" type="password" autocomplete="off">
    <menu><button value="cancel" type="submit">Cancel</button><button class="primary" value="ok" type="submit">Save</button></menu>
  </form>
</dialog>
<div id="toasts" aria-live="polite"></div>
<script type="module" src="/dashboard/app.js"></script>
</body>
</html>
`;
