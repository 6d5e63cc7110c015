/**
 * `evsim compare BASE CAND`: compares two results folders metric by metric, for regression gates
 * in CI.
 *
 * A side is one of
 *  - a run folder (summary.json; timing.json holds its wall-clock figures),
 *  - a comparison folder (one run folder per ledger stack, manifest.json kind "comparison"): metric
 *    names are prefixed with the stack, `qbft/sessions.meanWaitSeconds`,
 *  - a sweep folder (index.csv, one row per run): `<run id>/<column>` for every numeric column but
 *    the wall time, which is a wall-clock sample,
 *  - a folder of repeated runs (sub-folders that are each a run or a comparison of the same
 *    scenario, e.g. from interleaved timing runs): the deterministic metrics must agree across the
 *    repetitions (otherwise they are reported as incomparable) and the wall-clock figures become
 *    samples.
 * A summary's numeric leaves are named by their dotted path; arrays of objects that carry a `role`
 * (ledger.backends) are keyed by it: `ledger.backends.records.latencySeconds.p95`.
 *
 * Rules (first match wins; the default, without --metrics, is one rule `**`: equal, exact; in a
 * pattern `*` is one name segment, `**` anything, and a leading `**` then a slash an optional
 * stack or run-id prefix):
 *  - deterministic metrics: `direction` lower | higher (which is better) | equal (any change beyond
 *    the tolerance counts as a regression: a deterministic result that moves unasked is one), with an
 *    absolute (`abs`) and relative (`rel`, a fraction of |base|) tolerance: a difference within
 *    max(abs, rel·|base|) is "same";
 *  - wall-clock metrics (`kind: wall`, names `timing.…`): compared only from repeated samples
 *    (≥ minSamples per side, default 5) the way airspeed velocity does: a regression when the ratio
 *    of medians is at least `factor` (default 1.1) the wrong way AND a two-sided Mann–Whitney U test
 *    rejects equality at `alpha` (default 0.05); an improvement the same way round.
 * Outcome: regressed > incomparable/missing > ok; exit codes in src/cli/main.ts (4 and 5).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { mannWhitneyU, median } from '../core/stats.js';
import { parseCsvRows } from '../core/csv.js';
import { issueLines } from '../scenario/scenario.js';

export type SideKind = 'run' | 'comparison' | 'sweep' | 'repeated';

export interface Side {
  dir: string;
  kind: SideKind;
  /** deterministic metrics by name */
  metrics: Map<string, number>;
  /** wall-clock samples by name */
  wall: Map<string, number[]>;
  /** deterministic metrics whose repetitions disagree (a repeated side) */
  unstable: Set<string>;
}

const ruleSchema = z
  .object({
    match: z.string().min(1),
    kind: z.enum(['sim', 'wall']).default('sim'),
    direction: z.enum(['lower', 'higher', 'equal']).default('equal'),
    abs: z.number().nonnegative().default(0),
    rel: z.number().nonnegative().default(0),
    factor: z.number().gt(1).default(1.1),
    alpha: z.number().gt(0).lt(1).default(0.05),
    minSamples: z.number().int().min(2).default(5),
  })
  .strict();
const specSchema = z
  .object({
    metrics: z.array(ruleSchema).default([]),
    ignore: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type Rule = z.infer<typeof ruleSchema> & { re: RegExp };
export interface CompareSpec {
  rules: Rule[];
  ignore: RegExp[];
}

/** `*` matches within one name segment (no `/` or `.`), `**` anything, `**` then `/` any stack or run-id prefix (or none). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*' && glob[i + 2] === '/') {
      re += '(?:.*/)?';
      i += 2;
    } else if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/.]*';
    else re += c.replace(/[\\^$+?.()|[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function compile(spec: z.infer<typeof specSchema>): CompareSpec {
  return {
    rules: spec.metrics.map((r) => ({ ...r, re: globToRegExp(r.match) })),
    ignore: spec.ignore.map(globToRegExp),
  };
}

export const DEFAULT_SPEC: CompareSpec = compile(specSchema.parse({ metrics: [{ match: '**' }] }));

export function loadCompareSpec(file: string): CompareSpec {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError([code === 'ENOENT' ? `${file}: metrics file not found` : `${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`]);
  }
  const r = specSchema.safeParse(raw ?? {});
  if (!r.success) throw new UserError(issueLines(file, raw ?? {}, r.error.issues, specSchema));
  return compile(r.data);
}

export interface FlattenOptions {
  /** how an array element is named: by its `role` when it has one (compare), or by index (sweeps) */
  arrayKey?: 'role' | 'index';
  /** object keys left out at any depth */
  skip?: ReadonlySet<string>;
}

/** Numeric leaves of a JSON value by dotted path (by default arrays of objects with a `role` keyed by it). */
export function flatten(v: unknown, prefix: string, out: Map<string, number>, opts: FlattenOptions = {}): void {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) out.set(prefix, v);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const role = opts.arrayKey !== 'index' && x && typeof x === 'object' ? (x as { role?: unknown }).role : undefined;
      const key = typeof role === 'string' ? role : String(i);
      flatten(x, prefix ? `${prefix}.${key}` : key, out, opts);
    });
    return;
  }
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!opts.skip?.has(k)) flatten(x, prefix ? `${prefix}.${k}` : k, out, opts);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError([`${file}: not readable as JSON (${(e as Error).message.split('\n')[0]})`]);
  }
}

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
}

function isRun(dir: string): boolean {
  return existsSync(join(dir, 'summary.json'));
}

function isComparison(dir: string): boolean {
  if (isRun(dir) || !existsSync(join(dir, 'manifest.json'))) return false;
  const m = readJson(join(dir, 'manifest.json')) as { kind?: unknown };
  return m.kind === 'comparison';
}

/** Metrics of one run or comparison folder (one repetition). */
function readOne(dir: string): { metrics: Map<string, number>; wall: Map<string, number> } {
  const metrics = new Map<string, number>();
  const wall = new Map<string, number>();
  const addRun = (d: string, prefix: string) => {
    const m = new Map<string, number>();
    flatten(readJson(join(d, 'summary.json')), '', m);
    for (const [k, v] of m) metrics.set(`${prefix}${k}`, v);
    if (existsSync(join(d, 'timing.json'))) {
      const t = new Map<string, number>();
      flatten(readJson(join(d, 'timing.json')), 'timing', t);
      for (const [k, v] of t) wall.set(`${prefix}${k}`, v);
    }
  };
  if (isRun(dir)) addRun(dir, '');
  else for (const s of subdirs(dir)) if (isRun(join(dir, s))) addRun(join(dir, s), `${s}/`);
  return { metrics, wall };
}


function readSweep(dir: string): Side {
  const rows = parseCsvRows(readFileSync(join(dir, 'index.csv'), 'utf8'));
  const head = rows[0] ?? [];
  const idCol = head.indexOf('id');
  if (idCol < 0) throw new UserError([`${join(dir, 'index.csv')}: no id column; expected the index of an evsim sweep`]);
  const metrics = new Map<string, number>();
  const wall = new Map<string, number[]>();
  for (const r of rows.slice(1)) {
    const id = r[idCol];
    if (!id) continue;
    head.forEach((h, j) => {
      if (j === idCol) return;
      const v = Number(r[j]);
      if (r[j] === undefined || r[j] === '' || !Number.isFinite(v)) return;
      if (/wall/i.test(h)) {
        const k = `timing.${h}`;
        wall.set(k, [...(wall.get(k) ?? []), v]);
      } else metrics.set(`${id}/${h}`, v);
    });
  }
  return { dir, kind: 'sweep', metrics, wall, unstable: new Set() };
}

export function loadSide(dir: string): Side {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError([`${dir}: not a folder`]);
  if (existsSync(join(dir, 'index.csv'))) return readSweep(dir);
  if (isRun(dir) || isComparison(dir)) {
    const one = readOne(dir);
    const wall = new Map<string, number[]>();
    for (const [k, v] of one.wall) wall.set(k, [v]);
    return { dir, kind: isRun(dir) ? 'run' : 'comparison', metrics: one.metrics, wall, unstable: new Set() };
  }
  const reps = subdirs(dir).filter((s) => isRun(join(dir, s)) || isComparison(join(dir, s)));
  if (!reps.length) throw new UserError([`${dir}: not an evsim results folder (no summary.json, comparison manifest, sweep index.csv, or sub-folders of runs)`]);
  const metrics = new Map<string, number>();
  const wall = new Map<string, number[]>();
  const unstable = new Set<string>();
  reps.forEach((s, i) => {
    const one = readOne(join(dir, s));
    for (const [k, v] of one.metrics) {
      if (i === 0) metrics.set(k, v);
      else if (metrics.get(k) !== v) unstable.add(k);
    }
    for (const [k, v] of one.wall) wall.set(k, [...(wall.get(k) ?? []), v]);
  });
  return { dir, kind: 'repeated', metrics, wall, unstable };
}

export type Status = 'same' | 'improved' | 'regressed' | 'missing' | 'incomparable';

export interface Row {
  metric: string;
  kind: 'sim' | 'wall';
  base: number;
  cand: number;
  /** cand − base (sim) or median(cand) / median(base) (wall) */
  change: number;
  status: Status;
  note: string;
}

export interface Comparison {
  rows: Row[];
  counts: Record<Status, number>;
}

function ruleFor(spec: CompareSpec, name: string): Rule | null {
  for (const r of spec.rules) if (r.re.test(name)) return r;
  return null;
}

export function compareSides(base: Side, cand: Side, spec: CompareSpec): Comparison {
  const rows: Row[] = [];
  const ignored = (n: string) => spec.ignore.some((re) => re.test(n));
  const simNames = [...new Set([...base.metrics.keys(), ...cand.metrics.keys()])].sort();
  for (const name of simNames) {
    if (ignored(name)) continue;
    const rule = ruleFor(spec, name);
    if (!rule || rule.kind !== 'sim') continue;
    const b = base.metrics.get(name);
    const c = cand.metrics.get(name);
    if (b === undefined || c === undefined) {
      rows.push({ metric: name, kind: 'sim', base: b ?? NaN, cand: c ?? NaN, change: NaN, status: 'missing', note: b === undefined ? 'only in CAND' : 'only in BASE' });
      continue;
    }
    if (base.unstable.has(name) || cand.unstable.has(name)) {
      rows.push({ metric: name, kind: 'sim', base: b, cand: c, change: c - b, status: 'incomparable', note: 'differs between repetitions of one side' });
      continue;
    }
    const d = c - b;
    const tol = Math.max(rule.abs, rule.rel * Math.abs(b));
    let status: Status = 'same';
    if (Math.abs(d) > tol) {
      if (rule.direction === 'equal') status = 'regressed';
      else status = (rule.direction === 'lower') === d < 0 ? 'improved' : 'regressed';
    }
    rows.push({ metric: name, kind: 'sim', base: b, cand: c, change: d, status, note: rule.direction === 'equal' && status === 'regressed' ? 'changed (must be equal)' : '' });
  }
  const wallNames = [...new Set([...base.wall.keys(), ...cand.wall.keys()])].sort();
  for (const name of wallNames) {
    if (ignored(name)) continue;
    const rule = ruleFor(spec, name);
    if (!rule || rule.kind !== 'wall') continue;
    const bs = base.wall.get(name) ?? [];
    const cs = cand.wall.get(name) ?? [];
    if (!bs.length || !cs.length) {
      rows.push({ metric: name, kind: 'wall', base: median(bs), cand: median(cs), change: NaN, status: 'missing', note: bs.length ? 'only in BASE' : 'only in CAND' });
      continue;
    }
    const mb = median(bs);
    const mc = median(cs);
    const ratio = mc / mb;
    if (bs.length < rule.minSamples || cs.length < rule.minSamples) {
      rows.push({ metric: name, kind: 'wall', base: mb, cand: mc, change: ratio, status: 'incomparable', note: `needs ≥ ${rule.minSamples} samples per side (have ${bs.length} and ${cs.length})` });
      continue;
    }
    const { p } = mannWhitneyU(bs, cs);
    const worse = rule.direction === 'higher' ? mb / mc : ratio;
    let status: Status = 'same';
    if (p < rule.alpha && worse >= rule.factor) status = 'regressed';
    else if (p < rule.alpha && 1 / worse >= rule.factor) status = 'improved';
    rows.push({ metric: name, kind: 'wall', base: mb, cand: mc, change: ratio, status, note: `medians of ${bs.length}/${cs.length}, Mann–Whitney p=${p.toPrecision(3)}` });
  }
  const counts: Record<Status, number> = { same: 0, improved: 0, regressed: 0, missing: 0, incomparable: 0 };
  for (const r of rows) counts[r.status]++;
  return { rows, counts };
}

function num(x: number): string {
  if (Number.isNaN(x)) return '–';
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(4) : x.toPrecision(6);
}

/** A table of every row that is not "same" (all rows with `all`), then the counts. */
export function comparisonTable(c: Comparison, base: Side, cand: Side, all = false): string {
  const shown = c.rows.filter((r) => all || r.status !== 'same');
  const lines = [`BASE ${base.dir} (${base.kind})`, `CAND ${cand.dir} (${cand.kind})`, ''];
  if (shown.length) {
    lines.push('| metric | base | cand | change | status | note |', '|---|---|---|---|---|---|');
    for (const r of shown) {
      const change = r.kind === 'wall' ? (Number.isNaN(r.change) ? '–' : `×${r.change.toFixed(3)}`) : num(r.change);
      lines.push(`| ${r.metric} | ${num(r.base)} | ${num(r.cand)} | ${change} | ${r.status} | ${r.note} |`);
    }
    lines.push('');
  }
  const k = c.counts;
  lines.push(`${c.rows.length} metrics: ${k.same} same, ${k.improved} improved, ${k.regressed} regressed, ${k.missing} missing, ${k.incomparable} incomparable`);
  return lines.join('\n');
}

export function comparisonCsv(c: Comparison): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['metric,kind,base,cand,change,status,note'];
  for (const r of c.rows) lines.push([r.metric, r.kind, String(r.base), String(r.cand), String(r.change), r.status, r.note].map(q).join(','));
  return `${lines.join('\n')}\n`;
}
