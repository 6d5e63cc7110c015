/**
 * Pooled paired figures of a tariff sweep (sweeps/tariff-forecast*.yaml, docs/tariffs.md): from the
 * sweep folder's index.csv, for each forecast tariff against the TOU run of the same replication
 * and the same `start` (when varied), the mean and 95 % CI of the paired difference of the tariff
 * metrics, pooled over all pairs; and the outcome-level ratio
 *   (P_tou − P_model) / (P_tou − P_actual),   P = EV energy in the system's peak hours (kWh),
 * with the means over the pairs (reported, not the primary decision efficiency; see docs).
 *   npm run build && node dist/scripts/tariff-sweep-stats.js results/sweeps/tariff-forecast-days
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvRows } from '../src/core/csv.js';
import { mean, meanCi, pairedDiff } from '../src/core/stats.js';

const METRICS = [
  'tariff.peakHourEnergyKWh', 'tariff.peakHourSharePct', 'tariff.evKWAtSystemPeak', 'tariff.evPeakHourKW', 'tariff.revenue',
  'tariff.pricePerKWhCharged', 'sessions.energyDeliveredKWh', 'sessions.demandMetPct', 'sessions.abandoned', 'tariff.deferrals',
];
const LEVEL_METRICS = ['tariff.forecastMapePct', 'tariff.peakHourHitRate', 'tariff.decisionEfficiencyPct', 'tariff.decisions'];

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node dist/scripts/tariff-sweep-stats.js SWEEP_FOLDER\n');
  process.exit(2);
}
const rows = parseCsvRows(readFileSync(join(dir, 'index.csv'), 'utf8'));
const head = rows[0]!;
const col = (n: string) => head.indexOf(n);
const data = rows.slice(1).filter((r) => r[col('status')] === 'done');
const variant = (r: string[]) => {
  const t = JSON.parse(r[col('tariff')]!) as { type: string; source?: string };
  return t.type === 'tou' ? 'tou' : `forecast-${t.source}`;
};
const key = (r: string[]) => `${r[col('replication')]}|${col('start') >= 0 ? r[col('start')] : ''}`;
const by = new Map<string, Map<string, string[]>>();
for (const r of data) {
  const v = variant(r);
  if (!by.has(v)) by.set(v, new Map());
  by.get(v)!.set(key(r), r);
}
const tou = by.get('tou')!;
const f3 = (x: number) => x.toFixed(3);
console.log(`| tariff − tou | metric | pairs | mean diff | 95 % CI |\n|---|---|---|---|---|`);
for (const v of ['forecast-model', 'forecast-actual']) {
  const m = by.get(v);
  if (!m) continue;
  for (const metric of METRICS) {
    const a: number[] = [];
    const b: number[] = [];
    for (const [k, r] of m) {
      const t = tou.get(k);
      if (!t) continue;
      a.push(Number(r[col(metric)]));
      b.push(Number(t[col(metric)]));
    }
    const d = pairedDiff(a, b);
    console.log(`| ${v} | ${metric} | ${a.length} | ${f3(d.mean)} | [${f3(d.lo)}, ${f3(d.hi)}] |`);
  }
}
console.log(`\n| tariff | metric | runs | mean | 95 % CI |\n|---|---|---|---|---|`);
for (const [v, m] of by) {
  for (const metric of [...METRICS, ...LEVEL_METRICS]) {
    if (col(metric) < 0) continue;
    const xs = [...m.values()].filter((r) => (r[col(metric)] ?? '') !== '').map((r) => Number(r[col(metric)]));
    if (!xs.length) continue;
    const c = meanCi(xs);
    console.log(`| ${v} | ${metric} | ${xs.length} | ${f3(c.mean)} | [${f3(c.lo)}, ${f3(c.hi)}] |`);
  }
}
const P = (v: string) => mean([...by.get(v)!.values()].map((r) => Number(r[col('tariff.peakHourEnergyKWh')])));
if (by.has('forecast-model') && by.has('forecast-actual')) {
  const pt = P('tou');
  const pm = P('forecast-model');
  const pa = P('forecast-actual');
  console.log(`\noutcome ratio (P_tou − P_model) / (P_tou − P_actual) = (${f3(pt)} − ${f3(pm)}) / (${f3(pt)} − ${f3(pa)}) = ${f3((pt - pm) / (pt - pa))}`);
}
