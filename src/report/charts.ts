/**
 * The report's charts: Vega-Lite specifications built from the results files, compiled to Vega and
 * rendered to SVG in Node (no browser, no canvas: the `none` renderer's SVG string), so the HTML
 * page carries finished inline SVG and needs no script to show a chart. Every chart has a title,
 * axis titles with units and a caption.
 *
 * Series are aggregated in Node before they reach Vega (five-minute means over time, at most
 * MAX_SERIES stations by name with the rest summed as "other"), which keeps each SVG small for
 * large cities.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { STATE_NAMES } from '../charging/ev.js';
import { column, num, type RunData, type Table } from './data.js';

export interface Chart {
  /** stable id (data-chart attribute) */
  id: string;
  title: string;
  caption: string;
  svg: string;
}

type Row = Record<string, string | number>;
type Spec = Record<string, unknown>;

/** Most stations drawn as their own series; the rest are summed as "other". */
export const MAX_SERIES = 10;
/** Time-series resolution (minutes). */
export const STEP_MIN = 5;

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 180 },
  title: { fontSize: 14, anchor: 'start' },
};

export async function renderSvg(spec: Spec): Promise<string> {
  // the specifications are built as plain JSON objects (checked by Vega-Lite's compiler at run
  // time); the JSON round trip also keeps anything but plain data out of them
  const full: vl.TopLevelSpec = JSON.parse(JSON.stringify({ width: 560, height: 240, config: CONFIG, background: 'white', ...spec }));
  const compiled = vl.compile(full).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

async function chart(id: string, title: string, caption: string, spec: Spec): Promise<Chart> {
  return { id, title, caption, svg: await renderSvg({ title, ...spec }) };
}

const hours = (s: number) => Number((s / 3600).toFixed(4));
const r3 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(3)) : 0);

/** EV counts per state, sampled every STEP_MIN minutes, from events.csv or city.json tracks. */
export function evStateSeries(run: RunData): Row[] | null {
  let t: number[];
  let to: number[];
  let from: number[];
  if (run.events) {
    const e = run.events;
    const ti = column(e, 'time_s', 'events.csv');
    const fi = column(e, 'from', 'events.csv');
    const oi = column(e, 'to', 'events.csv');
    const idx = (s: string) => (STATE_NAMES as readonly string[]).indexOf(s);
    t = e.rows.map((r) => num(r[ti]));
    from = e.rows.map((r) => idx(r[fi]!));
    to = e.rows.map((r) => idx(r[oi]!));
  } else if (run.geometry) {
    const tr = run.geometry.tracks;
    t = tr.t;
    to = tr.state;
    // the state before each transition: the EV's previous one (idle at the start)
    const last = new Map<number, number>();
    from = tr.ev.map((ev, i) => {
      const f = last.get(ev) ?? 0;
      last.set(ev, tr.state[i]!);
      return f;
    });
  } else return null;
  const counts = new Array<number>(STATE_NAMES.length).fill(0);
  counts[0] = run.summary.fleet.size;
  const horizon = run.summary.simulatedSeconds;
  const rows: Row[] = [];
  let k = 0;
  for (let s = 0; s <= horizon; s += STEP_MIN * 60) {
    while (k < t.length && t[k]! <= s) {
      if (from[k]! >= 0) counts[from[k]!]!--;
      if (to[k]! >= 0) counts[to[k]!]!++;
      k++;
    }
    // idle EVs (most of the fleet, most of the day) are left out so the others can be seen
    for (let q = 1; q < STATE_NAMES.length; q++) rows.push({ h: hours(s), state: STATE_NAMES[q]!, evs: counts[q]! });
  }
  return rows;
}

/** Station display names: the name from sessions.csv or city.json when known, else "station N". */
export function stationNames(run: RunData): Map<number, string> {
  const m = new Map<number, string>();
  for (const s of run.geometry?.stations ?? []) m.set(s.id, s.name);
  const t = run.sessions;
  if (t) {
    const si = column(t, 'station_id', 'sessions.csv');
    const ni = column(t, 'station_name', 'sessions.csv');
    for (const r of t.rows) if (!m.has(num(r[si]))) m.set(num(r[si]), r[ni]!);
  }
  return m;
}

/** The stations drawn as their own series: the MAX_SERIES with most energy (ties by id). */
function topStations(st: Table, names: Map<number, string>): { label: (id: number) => string; count: number; shown: number; order: string[] } {
  const si = column(st, 'station_id', 'stations.csv');
  const pi = column(st, 'power_kw', 'stations.csv');
  const energy = new Map<number, number>();
  for (const r of st.rows) energy.set(num(r[si]), (energy.get(num(r[si])) ?? 0) + num(r[pi]));
  const ids = [...energy.keys()].sort((a, b) => energy.get(b)! - energy.get(a)! || a - b);
  // one "other" series for a single station would hide it for nothing
  const keep = new Set(ids.length <= MAX_SERIES + 1 ? ids : ids.slice(0, MAX_SERIES));
  const label = (id: number) => (keep.has(id) ? `${id}: ${(names.get(id) ?? `station ${id}`).slice(0, 28)}` : 'other');
  const order = [...keep].sort((a, b) => a - b).map(label);
  if (keep.size < ids.length) order.push('other');
  return { label, count: ids.length, shown: keep.size, order };
}

/** Five-minute means of queue, plugged and power per station series. */
function stationSeries(run: RunData): { rows: Row[]; note: string; order: string[] } | null {
  const st = run.stations;
  if (!st || !st.rows.length) return null;
  const names = stationNames(run);
  const top = topStations(st, names);
  const mi = column(st, 'minute', 'stations.csv');
  const si = column(st, 'station_id', 'stations.csv');
  const qi = column(st, 'queue', 'stations.csv');
  const li = column(st, 'plugged', 'stations.csv');
  const pi = column(st, 'power_kw', 'stations.csv');
  const acc = new Map<string, { h: number; station: string; queue: number; plugged: number; power: number }>();
  for (const r of st.rows) {
    const bin = Math.floor(num(r[mi]) / STEP_MIN);
    const station = top.label(num(r[si]));
    const key = `${bin}|${station}`;
    let a = acc.get(key);
    if (!a) acc.set(key, (a = { h: hours(bin * STEP_MIN * 60), station, queue: 0, plugged: 0, power: 0 }));
    a.queue += num(r[qi]) / STEP_MIN;
    a.plugged += num(r[li]) / STEP_MIN;
    a.power += num(r[pi]) / STEP_MIN;
  }
  const rows = [...acc.values()].map((a) => ({ h: a.h, station: a.station, queue: r3(a.queue), plugged: r3(a.plugged), power: r3(a.power) }));
  const note = top.count > top.shown ? ` The ${top.shown} stations with most energy are drawn on their own, the other ${top.count - top.shown} summed as "other".` : '';
  return { rows, note, order: top.order };
}

const X_HOURS = { field: 'h', type: 'quantitative', title: 'simulated time (h)' };

/** Latency CDF points per series: at most 200 quantiles each. */
export function latencyCdf(ledger: Table, series: (r: string[]) => string): Row[] {
  const li = column(ledger, 'latency_s', 'ledger.csv');
  const st = column(ledger, 'status', 'ledger.csv');
  const by = new Map<string, number[]>();
  for (const r of ledger.rows) {
    if (r[st] !== 'final') continue;
    const v = num(r[li]);
    if (!Number.isFinite(v)) continue;
    const k = series(r);
    let a = by.get(k);
    if (!a) by.set(k, (a = []));
    a.push(v);
  }
  const rows: Row[] = [];
  for (const k of [...by.keys()].sort()) {
    const a = by.get(k)!.sort((x, y) => x - y);
    const n = a.length;
    const pts = Math.min(200, n);
    for (let i = 0; i < pts; i++) {
      const idx = pts === 1 ? n - 1 : Math.round((i * (n - 1)) / (pts - 1));
      rows.push({ series: k, latency: r3(a[idx]!), share: r3((100 * (idx + 1)) / n) });
    }
  }
  return rows;
}

/** A histogram of one per-session value in minutes (30 bins), sessions counted by status. */
function sessionHistogram(id: string, title: string, caption: string, values: object[], field: string, xTitle: string): Promise<Chart> {
  return chart(id, title, caption, {
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field, type: 'quantitative', bin: { maxbins: 30 }, title: xTitle },
      y: { aggregate: 'count', type: 'quantitative', title: 'sessions (count)' },
      color: { field: 'status', type: 'nominal', title: 'status' },
    },
  });
}

/** Every chart of a single run (the ones whose data the folder holds). */
export async function runCharts(run: RunData): Promise<{ charts: Chart[]; missing: string[] }> {
  const charts: Chart[] = [];
  const missing: string[] = [];
  const states = evStateSeries(run);
  if (states) {
    charts.push(
      await chart('ev-states', 'EVs by state over the day', `How many EVs are driving, choosing a station (calculating), heading to one (go), waiting and charging, stacked, sampled every ${STEP_MIN} simulated minutes; the rest of the fleet (${run.summary.fleet.size} EVs) is idle (parked).`, {
        data: { values: states },
        mark: { type: 'area' },
        encoding: {
          x: X_HOURS,
          y: { field: 'evs', type: 'quantitative', stack: 'zero', title: 'EVs (count)' },
          color: { field: 'state', type: 'nominal', title: 'state', sort: STATE_NAMES.slice(1), scale: { domain: STATE_NAMES.slice(1), range: STATE_COLORS.slice(1) } },
          order: { field: 'order', type: 'quantitative' },
        },
        transform: [{ calculate: `indexof(${JSON.stringify(STATE_NAMES)}, datum.state)`, as: 'order' }],
      }),
    );
  } else missing.push('EVs by state: needs events.csv (output.eventsLog: true) or city.json (evsim run --report, or output.geometry: true)');
  const ss = stationSeries(run);
  if (ss) {
    const line = (id: string, title: string, field: string, ytitle: string, caption: string) =>
      chart(id, title, caption + ss.note, {
        data: { values: ss.rows },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: { x: X_HOURS, y: { field, type: 'quantitative', title: ytitle }, color: { field: 'station', type: 'nominal', title: 'station', sort: ss.order } },
      });
    charts.push(await line('station-queue', 'Queue per station', 'queue', 'EVs queued (count, 5-min mean)', 'EVs waiting for a charger at each station (five-minute means of the per-minute samples in stations.csv).'));
    charts.push(await line('station-plugged', 'Plugged EVs per station', 'plugged', 'EVs plugged in (count, 5-min mean)', 'EVs plugged into a charger at each station (five-minute means of stations.csv).'));
    charts.push(
      await chart('station-power', 'Power per station', 'Charging power drawn at each station, stacked: the top edge is the city-wide load (five-minute means of stations.csv).' + ss.note, {
        data: { values: ss.rows },
        mark: { type: 'area' },
        encoding: { x: X_HOURS, y: { field: 'power', type: 'quantitative', stack: 'zero', title: 'power (kW, 5-min mean)' }, color: { field: 'station', type: 'nominal', title: 'station', sort: ss.order } },
      }),
    );
  } else missing.push('queue, plugged EVs and power per station: need stations.csv (output.stationsCsv: true)');
  const se = run.sessions;
  if (se && se.rows.length) {
    const wi = column(se, 'wait_s', 'sessions.csv');
    const ai = column(se, 'arrived_s', 'sessions.csv');
    const ui = column(se, 'unplugged_s', 'sessions.csv');
    const sti = column(se, 'status', 'sessions.csv');
    const waits = se.rows.filter((r) => r[wi] !== '').map((r) => ({ wait: r3(num(r[wi]) / 60), status: r[sti]! }));
    charts.push(await sessionHistogram('wait', 'Wait distribution', 'Minutes from arriving at the station to plugging in (or to giving up, for abandoned sessions), one count per session, by session status.', waits, 'wait', 'wait (min)'));
    const sys = se.rows.filter((r) => r[ui] !== '' && r[ai] !== '').map((r) => ({ minutes: r3((num(r[ui]) - num(r[ai])) / 60), status: r[sti]! }));
    if (sys.length)
      charts.push(await sessionHistogram('time-in-system', 'Time-in-system distribution', 'Minutes from arriving at the station to leaving it (waiting plus charging), per session that left before the horizon, by status.', sys, 'minutes', 'time in system (min)'));
    // energy and price flows: per station, and cumulative over the day
    const names = stationNames(run);
    const sidI = column(se, 'station_id', 'sessions.csv');
    const kI = column(se, 'kwh_delivered', 'sessions.csv');
    const pI = column(se, 'price', 'sessions.csv');
    const per = new Map<number, { kwh: number; price: number }>();
    for (const r of se.rows) {
      const id = num(r[sidI]);
      const a = per.get(id) ?? { kwh: 0, price: 0 };
      a.kwh += num(r[kI]) || 0;
      a.price += num(r[pI]) || 0;
      per.set(id, a);
    }
    const flows: Row[] = [];
    for (const id of [...per.keys()].sort((a, b) => a - b)) {
      const label = `${id}: ${(names.get(id) ?? `station ${id}`).slice(0, 28)}`;
      flows.push({ station: label, flow: 'energy delivered (kWh)', value: r3(per.get(id)!.kwh) });
      flows.push({ station: label, flow: 'price paid (tariff currency)', value: r3(per.get(id)!.price) });
    }
    charts.push(
      await chart('energy-price-stations', 'Energy and payments per station', 'Energy delivered and the price paid for it at each station over the run (sessions.csv; the price is in the scenario tariff\'s currency).', {
        data: { values: flows },
        mark: { type: 'bar' },
        width: 260,
        encoding: {
          y: { field: 'station', type: 'nominal', title: 'station', sort: null },
          x: { field: 'value', type: 'quantitative', title: 'amount (kWh or currency)' },
          column: { field: 'flow', type: 'nominal', title: null },
          color: { field: 'flow', type: 'nominal', legend: null },
        },
        resolve: { scale: { x: 'independent' } },
      }),
    );
    const ends = se.rows.filter((r) => r[ui] !== '').map((r) => ({ t: num(r[ui]), kwh: num(r[kI]) || 0, price: num(r[pI]) || 0 })).sort((a, b) => a.t - b.t);
    const cum: Row[] = [];
    let ck = 0;
    let cp = 0;
    cum.push({ h: 0, flow: 'energy delivered (kWh)', value: 0 }, { h: 0, flow: 'price paid (tariff currency)', value: 0 });
    for (const e of ends) {
      ck += e.kwh;
      cp += e.price;
      cum.push({ h: hours(e.t), flow: 'energy delivered (kWh)', value: r3(ck) }, { h: hours(e.t), flow: 'price paid (tariff currency)', value: r3(cp) });
    }
    charts.push(
      await chart('energy-price-flow', 'Energy and money over the day', 'Cumulative energy delivered and price paid, counted when each session ends (sessions.csv unplugged_s); sessions still charging at the horizon are not counted.', {
        data: { values: cum },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: { x: X_HOURS, y: { field: 'value', type: 'quantitative', title: 'cumulative amount (kWh or currency)' }, color: { field: 'flow', type: 'nominal', title: 'flow' } },
      }),
    );
  } else missing.push('wait, time-in-system, energy and price: no sessions in sessions.csv');
  if (run.ledger && run.ledger.rows.length) {
    const bi = column(run.ledger, 'backend', 'ledger.csv');
    const ri = column(run.ledger, 'role', 'ledger.csv');
    charts.push(await latencyChart('ledger-latency', latencyCdf(run.ledger, (r) => `${r[bi]} (${r[ri]})`), 'backend (role)', 'Share of final ledger transactions whose latency (submission to finality) is at most x, per backend and role (ledger.csv).'));
  } else missing.push('ledger latency: no ledger.csv (output.ledgerCsv: true) or no transactions');
  return { charts, missing };
}

async function latencyChart(id: string, rows: Row[], legend: string, caption: string): Promise<Chart> {
  const max = rows.reduce((m, r) => Math.max(m, Number(r.latency)), 0);
  return chart(id, 'Ledger latency CDF', caption + (max === 0 ? ' Every latency here is 0 s (an ideal ledger).' : ''), {
    data: { values: rows },
    mark: { type: 'line', interpolate: 'step-after', point: rows.length < 20 },
    encoding: {
      x: { field: 'latency', type: 'quantitative', title: 'latency (s)', scale: max > 0 ? { type: 'symlog' } : {} },
      y: { field: 'share', type: 'quantitative', title: 'transactions final within x (%)', scale: { domain: [0, 100] } },
      color: { field: 'series', type: 'nominal', title: legend },
    },
  });
}

export const STATE_COLORS = ['#bdbdbd', '#4e79a7', '#edc948', '#f28e2b', '#e15759', '#59a14f'] as const;

/** Charts of a comparison of ledger stacks (comparison.csv and each stack's ledger.csv). */
export async function comparisonCharts(cmp: Table, stacks: RunData[]): Promise<Chart[]> {
  const col = (n: string) => column(cmp, n, 'comparison.csv');
  const si = col('stack');
  const long = (cols: [string, string][]) => cmp.rows.flatMap((r) => cols.map(([c, label]) => ({ stack: r[si]!, metric: label, value: r3(num(r[col(c)])) })));
  const order = cmp.rows.map((r) => r[si]!);
  const grouped = (id: string, title: string, caption: string, rows: Row[], ytitle: string, scale: Spec = {}) =>
    chart(id, title, caption, {
      data: { values: rows },
      mark: { type: 'bar' },
      width: { step: 14 },
      encoding: {
        x: { field: 'stack', type: 'nominal', title: 'ledger stack', sort: order },
        xOffset: { field: 'metric', type: 'nominal' },
        y: { field: 'value', type: 'quantitative', title: ytitle, scale },
        color: { field: 'metric', type: 'nominal', title: null },
      },
    });
  const out: Chart[] = [];
  out.push(await grouped('cmp-throughput', 'Throughput per stack', 'Ledger throughput of each stack: Caliper-style (final transactions over the span from first submission to last finality) and committed transactions per simulated second of the run (comparison.csv).', long([['throughput_tps_caliper', 'Caliper tx/s'], ['committed_tps', 'committed tx/s']]), 'transactions per second (tx/s)'));
  out.push(await grouped('cmp-latency', 'Latency percentiles per stack', 'Submission-to-finality latency percentiles of each stack (the slowest backend of the stack; comparison.csv). Symmetric-log scale.', long([['latency_p50_s', 'p50'], ['latency_p95_s', 'p95'], ['latency_p99_s', 'p99']]), 'latency (s)', { type: 'symlog' }));
  const city: [string, string][] = [
    ['mean_wait_s', 'mean wait (s)'],
    ['p95_wait_s', 'p95 wait (s)'],
    ['abandoned', 'abandoned sessions (count)'],
    ['utilization_pct', 'charger utilisation (%)'],
    ['demand_met_pct', 'demand met (%)'],
    ['auth_delay_s', 'mean authorisation delay (s)'],
  ];
  out.push(
    await chart('cmp-city', 'City figures per stack', 'The city-side figures of every stack on the same city day, side by side: how ledger latency (with the coupling of the scenario) shows in waits, abandonment and charger use (comparison.csv).', {
      data: { values: long(city) },
      facet: { field: 'metric', type: 'nominal', title: null, sort: city.map((c) => c[1]) },
      columns: 3,
      spec: {
        width: 200,
        height: 140,
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'stack', type: 'nominal', title: 'ledger stack', sort: order },
          y: { field: 'value', type: 'quantitative', title: 'value (unit in the panel title)' },
          color: { field: 'stack', type: 'nominal', legend: null, sort: order },
        },
      },
      resolve: { scale: { y: 'independent' } },
    }),
  );
  const rows: Row[] = [];
  for (const s of stacks) if (s.ledger && s.ledger.rows.length) rows.push(...latencyCdf(s.ledger, () => s.summary.ledger.stack));
  if (rows.length) out.push(await latencyChart('cmp-latency-cdf', rows, 'stack', 'Share of each stack\'s final ledger transactions (all its backends) whose latency is at most x (each stack\'s ledger.csv).'));
  return out;
}

/**
 * Sweep charts from aggregate.csv (evsim sweep's long layout: the swept parameters, then `metric,
 * n, mean, sd, ci95_lo, ci95_hi, ci95_half`, one row per group and metric): each headline metric's
 * mean against each swept parameter, with its 95 % confidence band, one line per combination of the
 * other parameters. Headline metrics are SWEEP_LAYOUT.headline where the sweep has them, else
 * every metric that varies between groups.
 */
export const SWEEP_LAYOUT = {
  metric: 'metric',
  mean: 'mean',
  lo: 'ci95_lo',
  hi: 'ci95_hi',
  /** columns after the parameters */
  stats: new Set(['metric', 'n', 'mean', 'sd', 'ci95_lo', 'ci95_hi', 'ci95_half']),
  headline: [
    'sessions.meanWaitSeconds', 'sessions.p95WaitSeconds', 'sessions.abandoned', 'sessions.demandMetPct',
    'sessions.meanTravelToStationSeconds', 'stations.utilizationPct', 'ledger.meanAuthorizationDelaySeconds',
    'ledger.backends.0.latencySeconds.p95', 'hub.meanTimeInSystemSeconds',
  ],
};

interface SweepPoint {
  key: string[];
  mean: number;
  lo: number;
  hi: number;
}

export function sweepColumns(agg: Table): { params: string[]; metrics: string[]; points: Map<string, SweepPoint[]> } {
  const params = agg.header.filter((h) => !SWEEP_LAYOUT.stats.has(h));
  const col = (h: string) => agg.header.indexOf(h);
  const [mi, mean, lo, hi] = [col(SWEEP_LAYOUT.metric), col(SWEEP_LAYOUT.mean), col(SWEEP_LAYOUT.lo), col(SWEEP_LAYOUT.hi)];
  const points = new Map<string, SweepPoint[]>();
  if (mi < 0 || mean < 0) return { params, metrics: [], points };
  for (const r of agg.rows) {
    const m = r[mi]!;
    if (!points.has(m)) points.set(m, []);
    points.get(m)!.push({ key: params.map((p) => r[col(p)] ?? ''), mean: num(r[mean]), lo: num(r[lo]), hi: num(r[hi]) });
  }
  const varies = (m: string) => {
    const v = (points.get(m) ?? []).map((p) => p.mean);
    return v.some((x) => x !== v[0]);
  };
  const headline = SWEEP_LAYOUT.headline.filter((m) => points.has(m));
  const metrics = (headline.length ? headline : [...points.keys()]).filter(varies);
  return { params, metrics, points };
}

export const MAX_SWEEP_CHARTS = 36;

export async function sweepCharts(agg: Table): Promise<{ charts: Chart[]; params: string[]; metrics: string[]; groups: number; dropped: number }> {
  const { params, metrics, points } = sweepColumns(agg);
  const charts: Chart[] = [];
  let dropped = 0;
  for (const m of metrics) {
    for (const p of params) {
      if (charts.length >= MAX_SWEEP_CHARTS) {
        dropped++;
        continue;
      }
      const pi = params.indexOf(p);
      const others = params.filter((q) => q !== p);
      const pts = points.get(m) ?? [];
      const numeric = pts.every((r) => Number.isFinite(num(r.key[pi])));
      const rows = pts.map((r) => ({
        x: numeric ? num(r.key[pi]) : r.key[pi]!,
        mean: r3(r.mean),
        lo: r3(r.lo),
        hi: r3(r.hi),
        group: others.length ? others.map((q) => `${q}=${r.key[params.indexOf(q)]}`).join(', ') : 'all',
      }));
      const x = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: p };
      const color = { field: 'group', type: 'nominal', title: others.length ? others.join(', ') : null };
      charts.push(
        await chart(`sweep-${m}-${p}`.replace(/[^A-Za-z0-9_-]/g, '_'), `${m} against ${p}`, `Mean of ${m} over the replications at each value of ${p} (line), with its 95 % confidence interval (band; aggregate.csv ${SWEEP_LAYOUT.lo} … ${SWEEP_LAYOUT.hi})${others.length ? `, one line per combination of ${others.join(', ')}` : ''}.`, {
          data: { values: rows },
          layer: [
            { mark: { type: 'errorband', opacity: 0.25 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: `${m} (mean, 95 % CI)` }, y2: { field: 'hi' }, color } },
            { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
          ],
        }),
      );
    }
  }
  return { charts, params, metrics, groups: points.values().next().value?.length ?? 0, dropped };
}
