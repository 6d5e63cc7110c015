/**
 * Collecting a sweep: index.csv (one row per run), aggregate.csv (per group of runs that differ
 * only in their seed: n, mean, sd and the 95 % Student-t CI of every metric) and paired.csv (per
 * reference `factor=level`: the paired differences level − reference over the replications, which
 * share their seeds; src/core/stats.ts meanCi and pairedDiff).
 *
 * Metrics are the numeric leaves of each run's summary.json, flattened to dotted paths
 * (`sessions.meanWaitSeconds`, `ledger.backends.0.latencySeconds.p95`); text and lists of text
 * are left out. Columns and rows come in plan order (metrics in order of first appearance), numbers
 * in JavaScript's shortest round-trip form: the same sweep gives byte-identical files, except the
 * last column of index.csv, wall_s (each run's wall time). In index.csv a summary figure named like a
 * parameter (`fleet.size` swept and reported) is headed `summary.<name>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanCi, pairedDiff, type MeanCi } from '../core/stats.js';
import { flatten } from '../output/compare.js';
import { runDir, runState, type RunRecord } from './execute.js';
import { writeAtomic, type Plan } from './plan.js';
import { cellText } from './spec.js';

const SWEEP_FLATTEN = { arrayKey: 'index', skip: new Set(['schemaVersion', 'seed']) } as const;

/** A summary's numeric leaves as sweep metrics (arrays by index; schemaVersion and seed left out). */
export function flattenMetrics(v: unknown, prefix = '', out: Map<string, number> = new Map()): Map<string, number> {
  flatten(v, prefix, out, SWEEP_FLATTEN);
  return out;
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
const row = (cells: string[]) => cells.map(csvCell).join(',') + '\n';
const num = (x: number) => (Number.isFinite(x) ? String(x) : '');

export interface Collected {
  records: RunRecord[];
  metrics: string[];
  /** per run: metric → value (done runs only) */
  values: (Map<string, number> | null)[];
  done: number;
  failed: number;
  pending: number;
}

export function readResults(dir: string, plan: Plan): Collected {
  const records = plan.runs.map((r) => runState(dir, r));
  const metrics: string[] = [];
  const seen = new Set<string>();
  const values = records.map((rec, i) => {
    if (rec.status !== 'done') return null;
    const s = JSON.parse(readFileSync(join(runDir(dir, plan.runs[i]!.id), 'summary.json'), 'utf8'));
    const m = flattenMetrics(s);
    for (const k of m.keys()) if (!seen.has(k)) (seen.add(k), metrics.push(k));
    return m;
  });
  const count = (s: string) => records.filter((r) => r.status === s).length;
  return { records, metrics, values, done: count('done'), failed: count('failed'), pending: count('pending') };
}

export function indexCsv(plan: Plan, c: Collected): string {
  const params = plan.factors.map((f) => f.name);
  const fixed = new Set(['run', 'id', ...params, 'replication', 'seed', 'status', 'error', 'wall_s']);
  // a summary figure named like a parameter (fleet.size) gets the prefix `summary.`: one header, one meaning
  const metricHeader = c.metrics.map((m) => (fixed.has(m) ? `summary.${m}` : m));
  let out = row(['run', 'id', ...params, 'replication', 'seed', 'status', 'error', ...metricHeader, 'wall_s']);
  plan.runs.forEach((r, i) => {
    const rec = c.records[i]!;
    const v = c.values[i];
    out += row([
      String(r.index), r.id, ...params.map((p) => cellText(r.params[p])), String(r.replication), String(r.seed), rec.status, rec.error ?? '',
      ...c.metrics.map((m) => (v && v.has(m) ? num(v.get(m)!) : '')),
      rec.wallSeconds === null ? '' : rec.wallSeconds.toFixed(3),
    ]);
  });
  return out;
}

const ciCells = (ci: MeanCi) => [String(ci.n), num(ci.mean), num(ci.sd), num(ci.lo), num(ci.hi), num(ci.half)];

/** Groups of runs with equal parameters (all but the seed), in plan order. */
function groups(plan: Plan, keyOf: (params: Record<string, unknown>) => string): Map<string, number[]> {
  const g = new Map<string, number[]>();
  plan.runs.forEach((r, i) => {
    const k = keyOf(r.params);
    const l = g.get(k);
    if (l) l.push(i);
    else g.set(k, [i]);
  });
  return g;
}

export function aggregateCsv(plan: Plan, c: Collected): string {
  const params = plan.factors.map((f) => f.name);
  let out = row([...params, 'metric', 'n', 'mean', 'sd', 'ci95_lo', 'ci95_hi', 'ci95_half']);
  const key = (p: Record<string, unknown>) => JSON.stringify(params.map((k) => cellText(p[k])));
  for (const members of groups(plan, key).values()) {
    const first = plan.runs[members[0]!]!;
    for (const m of c.metrics) {
      const xs = members.map((i) => c.values[i]?.get(m)).filter((x): x is number => x !== undefined);
      if (xs.length === 0) continue;
      out += row([...params.map((p) => cellText(first.params[p])), m, ...ciCells(meanCi(xs))]);
    }
  }
  return out;
}

/**
 * Paired differences against each reference level: for every group of the other parameters and
 * every other level L of the factor, the replications where both L and the reference are done give
 * pairs (same seed); the row holds mean, sd and 95 % CI of L − reference.
 */
export function pairedCsv(plan: Plan, c: Collected): string {
  const params = plan.factors.map((f) => f.name);
  let out = row([...params, 'factor', 'reference', 'metric', 'n', 'mean_diff', 'sd', 'ci95_lo', 'ci95_hi', 'ci95_half']);
  for (const ref of plan.references) {
    // a zipped factor varies together with the rest of the zip: one factor, so its partners are not held fixed
    const refZip = plan.factors.find((f) => f.name === ref.factor)?.source === 'zip';
    const others = plan.factors.filter((f) => f.name !== ref.factor && !(refZip && f.source === 'zip')).map((f) => f.name);
    const key = (p: Record<string, unknown>) => JSON.stringify([others.map((k) => cellText(p[k])), cellText(p[ref.factor])]);
    for (const members of groups(plan, key).values()) {
      const first = plan.runs[members[0]!]!;
      if (cellText(first.params[ref.factor]) === ref.level) continue;
      // the reference runs of the same other parameters, by replication
      const refByRep = new Map<number, number>();
      plan.runs.forEach((r, i) => {
        if (cellText(r.params[ref.factor]) === ref.level && others.every((k) => cellText(r.params[k]) === cellText(first.params[k]))) refByRep.set(r.replication, i);
      });
      for (const m of c.metrics) {
        const a: number[] = [];
        const b: number[] = [];
        for (const i of members) {
          const j = refByRep.get(plan.runs[i]!.replication);
          const x = c.values[i]?.get(m);
          const y = j === undefined ? undefined : c.values[j]?.get(m);
          if (x !== undefined && y !== undefined) (a.push(x), b.push(y));
        }
        if (a.length === 0) continue;
        out += row([...params.map((p) => cellText(first.params[p])), ref.factor, ref.level, m, ...ciCells(pairedDiff(a, b))]);
      }
    }
  }
  return out;
}

/** Write index.csv, aggregate.csv and (with references) paired.csv into the sweep folder. */
export function collectSweep(dir: string, plan: Plan): Collected {
  const c = readResults(dir, plan);
  writeAtomic(join(dir, 'index.csv'), indexCsv(plan, c));
  writeAtomic(join(dir, 'aggregate.csv'), aggregateCsv(plan, c));
  if (plan.references.length) writeAtomic(join(dir, 'paired.csv'), pairedCsv(plan, c));
  return c;
}
