/**
 * `evsim report DIR`: one self-contained HTML page for a results folder — a single run, a
 * comparison of ledger stacks, or a sweep (index.csv + aggregate.csv). Charts are Vega-Lite
 * specifications rendered to inline SVG in Node (charts.ts); the city replay is an inline SVG map
 * with a small inline script (replay.ts). The page makes no network request (no external script,
 * style, font or image), and holds no wall-clock figure (timing.json is not read), so the same
 * results folder gives a byte-identical page.
 */
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../output/output.js';
import { comparisonCharts, runCharts, sweepCharts, type Chart } from './charts.js';
import { detectKind, readComparison, readRun, readSweep, type ReportKind, type RunData } from './data.js';
import { buildReplay, esc, REPLAY_SCRIPT } from './replay.js';

import { REPORT_FILE } from './files.js';
export { REPORT_FILE };

const CSS = `body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;margin:0 auto;max-width:1180px;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table.kv{border-collapse:collapse;margin:8px 0}table.kv td,table.kv th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
table.data{border-collapse:collapse;font-size:12px;margin:8px 0}table.data td,table.data th{border:1px solid #ddd;padding:2px 6px;text-align:right}table.data th{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0;padding:8px;border:1px solid #e4e4e4;border-radius:4px;max-width:100%;overflow-x:auto}
figure.chart svg{max-width:100%;height:auto}figcaption{font-size:12px;color:#555;max-width:600px;margin-top:4px}
.note{color:#7a5200;font-size:12px}#replay{border:1px solid #e4e4e4;border-radius:4px;padding:8px}
.controls{display:flex;gap:12px;align-items:center;margin:6px 0}#replay-slider{flex:1}#replay-time{font:600 16px monospace;min-width:110px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle;border:1px solid #555}
#replay-counts{font-size:12px;color:#444}`;

function page(title: string, body: string[], script = ''): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // no request may leave the page: everything is inline; the policy says so to the browser too
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    ...body,
    script ? `<script>${script}</script>` : '',
    '</body></html>',
    '',
  ].join('\n');
}

function figures(charts: Chart[]): string {
  return `<div class="charts">${charts.map((c) => `<figure class="chart" data-chart="${esc(c.id)}">${c.svg}<figcaption>${esc(c.caption)}</figcaption></figure>`).join('\n')}</div>`;
}

const kv = (rows: [string, string][]) => `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

function identity(run: RunData, kind: string): string {
  const m = run.manifest;
  const s = run.summary;
  return kv([
    ['results', kind],
    ['scenario', `${s.scenario} (seed ${s.seed}, ${f1(s.simulatedSeconds / 3600)} h simulated)`],
    ['scenario sha256', m.scenario?.sha256 ?? '-'],
    ['evsim', m.evsim ?? '-'],
  ]);
}

function summaryRows(run: RunData): string {
  const s = run.summary;
  return kv([
    ['city', Object.entries(s.city).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['fleet', `${s.fleet.size} EVs, ${s.fleet.trips} trips, ${s.fleet.stranded} stranded`],
    ['stations', `${s.stations.count} stations, ${s.stations.chargers} chargers, utilisation ${f1(s.stations.utilizationPct)} %, peak ${f1(s.stations.peakKW)} kW`],
    ['sessions', `${s.sessions.count} (completed ${s.sessions.completed}, abandoned ${s.sessions.abandoned}, incomplete ${s.sessions.incomplete})`],
    ['wait', `mean ${f1(s.sessions.meanWaitSeconds / 60)} min, p95 ${f1(s.sessions.p95WaitSeconds / 60)} min`],
    ['energy', `${f1(s.sessions.energyDeliveredKWh)} of ${f1(s.sessions.energyRequestedKWh)} kWh requested (${f1(s.sessions.demandMetPct)} %)`],
    ['policy', `choice ${s.policy.stationChoice}, allocation ${s.policy.allocation}`],
    ['ledger', `stack ${s.ledger.stack}; ${s.ledger.backends.map((b) => `${b.backend} (${b.role}): ${b.confirmed} of ${b.submitted} final, p50 ${b.latencySeconds.p50.toFixed(3)} s, p99 ${b.latencySeconds.p99.toFixed(3)} s`).join('; ')}; audit ${s.ledger.auditProblems === 0 ? 'ok' : `${s.ledger.auditProblems} problem(s)`}`],
  ]);
}

function replaySection(run: RunData, heading: string): { html: string; script: string } {
  if (run.geometry && run.geometry.nodes.lat.length === 0) {
    return { html: `<h2>${esc(heading)}</h2><p class="note">This city has no road network (city type ${esc(String(run.summary.city.type ?? 'none'))}): there is no map to replay.</p>`, script: '' };
  }
  const r = buildReplay(run);
  if (!r) {
    return {
      html: `<h2>${esc(heading)}</h2><p class="note">No city geometry in this results folder: run with <code>evsim run --report</code> (or <code>output.geometry: true</code> in the scenario) to get city.json and the replay.</p>`,
      script: '',
    };
  }
  const horizonMin = Math.floor(run.summary.simulatedSeconds / 60);
  const start = Math.min(horizonMin, 12 * 60);
  const legend = [
    ...['idle', 'driving', 'calculating', 'go', 'waiting', 'charging'].map((s, i) => `<span><i style="background:${['#bdbdbd', '#4e79a7', '#edc948', '#f28e2b', '#e15759', '#59a14f'][i]};border-radius:5px"></i>EV ${s}</span>`),
    ...[
      ['#ffffff', 'station free'],
      ['#fdd49e', '< 50 % of chargers in use'],
      ['#fc8d59', '≥ 50 %'],
      ['#d7301f', 'all in use'],
    ].map(([c, t]) => `<span><i style="background:${c}"></i>${t}</span>`),
    '<span><i style="border:2px solid #e15759;border-radius:6px"></i>ring: queue (thicker = longer)</span>',
  ];
  const html = [
    `<h2>${esc(heading)}</h2>`,
    '<div id="replay">',
    `<div class="controls"><button id="replay-play" type="button">Play</button><input id="replay-slider" type="range" min="0" max="${horizonMin}" step="1" value="${start}" aria-label="simulated time (minutes)"><span id="replay-time"></span></div>`,
    `<div class="legend">${legend.join('')}</div>`,
    r.svg,
    '<div id="replay-counts"></div>',
    `<p class="note">Drag the slider (simulated minutes) or press Play. EVs move in a straight line between the ends of each trip (the real route follows the roads); stations show the share of chargers in use and a ring for the queue (stations.csv). ${r.drawnEvs} EVs, ${r.roadSegments} road segments. ${r.notes.map(esc).join(' ')}</p>`,
    `<script type="application/json" id="replay-data">${r.data.replace(/</g, '\\u003c')}</script>`,
    '</div>',
  ].join('\n');
  return { html, script: REPLAY_SCRIPT };
}

async function runPage(run: RunData): Promise<string> {
  const { charts, missing } = await runCharts(run);
  const rep = replaySection(run, 'City replay');
  const title = `evsim report: ${run.summary.scenario} (${run.summary.ledger.stack})`;
  return page(title, [
    `<h1>${esc(title)}</h1>`,
    identity(run, `single run, stack ${run.summary.ledger.stack}`),
    '<h2>Summary</h2>',
    summaryRows(run),
    '<h2>Charts</h2>',
    figures(charts),
    missing.length ? `<p class="note">Not drawn: ${missing.map(esc).join('; ')}.</p>` : '',
    rep.html,
  ], rep.script);
}

async function comparisonPage(dir: string): Promise<string> {
  const c = readComparison(dir);
  const first = c.stacks[0]!;
  const title = `evsim report: ${first.summary.scenario}, ${c.stacks.length} ledger stacks`;
  const cmpCharts = await comparisonCharts(c.comparison, c.stacks);
  const keep = ['stack', 'records', 'payments', 'submitted', 'final', 'success_pct', 'throughput_tps_caliper', 'latency_p50_s', 'latency_p95_s', 'latency_p99_s', 'audit_problems', 'abandoned', 'mean_wait_s', 'utilization_pct', 'demand_met_pct'];
  const idx = keep.map((k) => c.comparison.header.indexOf(k)).filter((i) => i >= 0);
  const table = `<table class="data"><tr>${idx.map((i) => `<th>${esc(c.comparison.header[i]!)}</th>`).join('')}</tr>${c.comparison.rows.map((r) => `<tr>${idx.map((i) => `<td>${esc(r[i] ?? '')}</td>`).join('')}</tr>`).join('')}</table>`;
  const { charts, missing } = await runCharts(first);
  const rep = replaySection(first, `City replay (stack ${first.summary.ledger.stack})`);
  return page(title, [
    `<h1>${esc(title)}</h1>`,
    identity(first, `comparison of ${c.stacks.map((s) => s.summary.ledger.stack).join(', ')}`),
    '<h2>Comparison</h2>',
    table,
    '<p class="note">The full table is comparison.csv in this folder.</p>',
    figures(cmpCharts),
    `<h2>The city day of stack ${esc(first.summary.ledger.stack)}</h2>`,
    summaryRows(first),
    figures(charts),
    missing.length ? `<p class="note">Not drawn: ${missing.map(esc).join('; ')}.</p>` : '',
    rep.html,
  ], rep.script);
}

async function sweepPage(dir: string): Promise<string> {
  const s = readSweep(dir);
  const { charts, params, metrics, groups, dropped } = await sweepCharts(s.aggregate);
  const title = `evsim report: sweep ${resolve(dir).split(/[\\/]/).pop()}`;
  return page(title, [
    `<h1>${esc(title)}</h1>`,
    kv([
      ['results', 'sweep'],
      ['swept parameters', params.join(', ') || '-'],
      ['metrics', metrics.join(', ') || '-'],
      ['points', `${groups} parameter combinations (aggregate.csv), ${s.index.rows.length} runs (index.csv)`],
    ]),
    '<h2>Each metric against each swept parameter</h2>',
    figures(charts),
    dropped ? `<p class="note">${dropped} more metric–parameter charts are not drawn (at most ${charts.length}).</p>` : '',
  ]);
}

/** The HTML of the report of DIR (a user error for a bad DIR). */
export async function reportHtml(dir: string, kind: ReportKind = detectKind(dir)): Promise<string> {
  if (kind === 'sweep') return sweepPage(dir);
  if (kind === 'comparison') return comparisonPage(dir);
  return runPage(readRun(dir));
}

/** Write the report of DIR to `out` (default DIR/report.html), atomically. Returns the path and size. */
export async function writeReport(dir: string, out: string = join(dir, REPORT_FILE)): Promise<{ path: string; bytes: number; kind: ReportKind }> {
  const kind = detectKind(dir);
  const html = await reportHtml(dir, kind);
  const path = resolve(out);
  writeFileAtomic(path, html);
  return { path, bytes: Buffer.byteLength(html), kind };
}
