/**
 * Sweep specifications: the YAML file `evsim sweep SPEC` reads, its validation (zod; one line per
 * problem naming the file and the field path, exit 2) and its expansion into a run list.
 *
 * A spec names a base scenario and varies it through the same field paths as `--set`:
 *   set          fixed overrides, applied to every run
 *   grid         lists crossed with each other
 *   zip          lists of one length, varied together (entry i of every list in run i)
 *   sample       `count` points over numeric ranges, uniform random or Latin hypercube, drawn
 *                from the sweep seed (stream "sweep/sample" of src/core/random.ts)
 *   policy       lists of station-choice / allocation policies (crossed like grid)
 *   ledger       a list of ledger stacks; each run runs one stack
 *   replications replications per design point; replication r runs with seed r of the stream
 *                "sweep/replications" of the sweep seed
 * Seeds depend on the replication index only, so every run of replication r has the same seed
 * whatever its other parameters (common random numbers): runs that differ in a ledger, a policy or
 * any other parameter are paired by replication.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { Streams } from '../core/random.js';

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$/;
/** Paths a spec may not vary: seeds come from the sweep seed, stacks from `ledger`. */
const RESERVED: Record<string, string> = {
  seed: 'seeds come from the sweep seed and replications (use seed and replications at the top level of the spec)',
  'ledger.stacks': 'use the top-level ledger list (one stack per run)',
  name: 'runs keep the base scenario name',
};

const Values = z.array(z.unknown()).min(1, 'must be a non-empty list of values');
const Range = z.union([
  z.tuple([z.number(), z.number()]),
  z.strictObject({ min: z.number(), max: z.number(), integer: z.boolean().default(false) }),
]);

export const SweepSpecSchema = z.strictObject({
  base: z.string().min(1),
  description: z.string().optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  replications: z.number().int().min(1).max(100_000).default(1),
  set: z.record(z.string(), z.unknown()).default({}),
  grid: z.record(z.string(), Values).default({}),
  zip: z.record(z.string(), Values).default({}),
  sample: z
    .strictObject({
      method: z.enum(['lhs', 'random']).default('lhs'),
      count: z.number().int().min(1).max(100_000),
      ranges: z.record(z.string(), Range),
    })
    .optional(),
  policy: z
    .strictObject({
      stationChoice: z.array(z.string()).min(1).optional(),
      allocation: z.array(z.string()).min(1).optional(),
    })
    .optional(),
  ledger: z.array(z.string().min(1)).min(1).optional(),
  reference: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
});

export type SweepSpecInput = z.input<typeof SweepSpecSchema>;

/** A varied parameter: its column name (a field path, or `ledger`) and how a run gets its value. */
export interface Factor {
  /** column name in index.csv: the field path (`fleet.size`), or `ledger` */
  name: string;
  /** where it comes from in the spec */
  source: 'grid' | 'zip' | 'sample' | 'policy' | 'ledger';
}

export interface SweepSpec {
  file: string;
  baseFile: string;
  text: string;
  seed: number;
  replications: number;
  set: [string, unknown][];
  grid: [string, unknown[]][];
  zip: [string, unknown[]][];
  sample: { method: 'lhs' | 'random'; count: number; ranges: [string, { min: number; max: number; integer: boolean }][] } | null;
  policy: [string, string[]][];
  ledger: string[] | null;
  factors: Factor[];
  references: { factor: string; level: string }[];
}

/** One run of the expansion, before its scenario is resolved. */
export interface ExpandedRun {
  index: number;
  /** varied parameter → value (same keys and order as spec.factors) */
  params: Record<string, unknown>;
  replication: number;
  seed: number;
  /** `--set` overrides giving this run's scenario from the base file (set, then params, then ledger) */
  overrides: string[];
}

const fmtPath = (p: PropertyKey[]) => (p.length ? p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[') : '(top level)');
const fmtValue = (v: unknown) => {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
function getAt(o: unknown, path: PropertyKey[]): unknown {
  let cur = o;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** The text of a value as it appears in CSV cells and in `reference: factor=level`. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Read and validate a spec file; every problem is one line `FILE: field.path: what (got ...)`. */
export function loadSweepSpec(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError([`${file}: cannot read sweep spec (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0]!.replace(/:\s*$/, '') : (e as Error).message;
    throw new UserError([`${file}: not valid YAML: ${msg}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError([`${file}: (top level): expected a mapping with base, set, grid, zip, sample, policy, ledger, replications, seed, reference (got ${fmtValue(raw)})`]);
  const r = SweepSpecSchema.safeParse(raw);
  if (!r.success) {
    throw new UserError(
      r.error.issues.map((is) => {
        const value = getAt(raw, is.path);
        let what = is.message;
        if (is.code === 'unrecognized_keys') {
          const allowed = is.path.length === 0 ? Object.keys(SweepSpecSchema.shape) : is.path[0] === 'sample' ? ['method', 'count', 'ranges'] : is.path[0] === 'policy' ? ['stationChoice', 'allocation'] : ['min', 'max', 'integer'];
          return `${file}: ${fmtPath([...is.path, ...is.keys])}: unknown field; allowed here: ${allowed.join(', ')}`;
        }
        if (is.code === 'invalid_type' && value === undefined) what = `is required (${is.expected})`;
        return `${file}: ${fmtPath(is.path)}: ${what} (got ${fmtValue(value)})`;
      }),
    );
  }
  const s = r.data;
  const bad: string[] = [];
  const seen = new Map<string, string>();
  const checkPath = (section: string, path: string) => {
    if (!FIELD_PATH.test(path)) bad.push(`${file}: ${section}.${path}: not a field path (use dots and [index], as with --set, e.g. fleet.size)`);
    else if (RESERVED[path]) bad.push(`${file}: ${section}.${path}: may not be varied here; ${RESERVED[path]}`);
    const before = seen.get(path);
    if (before) bad.push(`${file}: ${section}.${path}: also given in ${before}; a field is set in one place only`);
    seen.set(path, section);
  };
  for (const k of Object.keys(s.set)) checkPath('set', k);
  for (const k of Object.keys(s.grid)) checkPath('grid', k);
  const zipEntries = Object.entries(s.zip);
  for (const [k] of zipEntries) checkPath('zip', k);
  if (zipEntries.length > 1) {
    const n0 = zipEntries[0]![1].length;
    for (const [k, v] of zipEntries.slice(1))
      if (v.length !== n0) bad.push(`${file}: zip.${k}: must have as many values as zip.${zipEntries[0]![0]} (${n0}), since zip lists vary together (got ${v.length})`);
  }
  const ranges: [string, { min: number; max: number; integer: boolean }][] = [];
  if (s.sample) {
    for (const [k, v] of Object.entries(s.sample.ranges)) {
      checkPath('sample.ranges', k);
      const rg = Array.isArray(v) ? { min: v[0], max: v[1], integer: false } : v;
      if (!(rg.min <= rg.max)) bad.push(`${file}: sample.ranges.${k}: min must be <= max (got ${rg.min} > ${rg.max})`);
      if (rg.integer && (!Number.isInteger(rg.min) || !Number.isInteger(rg.max))) bad.push(`${file}: sample.ranges.${k}: an integer range needs integer min and max (got ${rg.min}, ${rg.max})`);
      ranges.push([k, rg]);
    }
    if (ranges.length === 0) bad.push(`${file}: sample.ranges: must name at least one field path with its [min, max]`);
  }
  const policy: [string, string[]][] = [];
  for (const k of ['stationChoice', 'allocation'] as const) {
    const v = s.policy?.[k];
    if (v) {
      checkPath('policy', `policy.${k}`);
      policy.push([`policy.${k}`, v]);
    }
  }
  const factors: Factor[] = [
    ...Object.keys(s.grid).map((name) => ({ name, source: 'grid' as const })),
    ...zipEntries.map(([name]) => ({ name, source: 'zip' as const })),
    ...ranges.map(([name]) => ({ name, source: 'sample' as const })),
    ...policy.map(([name]) => ({ name, source: 'policy' as const })),
    ...(s.ledger ? [{ name: 'ledger', source: 'ledger' as const }] : []),
  ];
  const references: { factor: string; level: string }[] = [];
  const refs = s.reference === undefined ? [] : Array.isArray(s.reference) ? s.reference : [s.reference];
  refs.forEach((ref, i) => {
    const where = Array.isArray(s.reference) ? `reference[${i}]` : 'reference';
    const eq = ref.indexOf('=');
    if (eq <= 0) {
      bad.push(`${file}: ${where}: expected factor=level, e.g. ledger=none (got ${fmtValue(ref)})`);
      return;
    }
    const factor = ref.slice(0, eq).trim();
    const level = ref.slice(eq + 1).trim();
    const f = factors.find((x) => x.name === factor);
    if (!f) {
      bad.push(`${file}: ${where}: ${factor} is not a varied parameter; allowed: ${factors.filter((x) => x.source !== 'sample').map((x) => x.name).join(', ') || '(none: vary something in grid, zip, policy or ledger)'} (got ${fmtValue(ref)})`);
      return;
    }
    if (f.source === 'sample') {
      bad.push(`${file}: ${where}: ${factor} is sampled, so it has no levels to compare against; use a grid, zip, policy or ledger parameter`);
      return;
    }
    const levels = levelsOf(f, s.grid, s.zip, policy, s.ledger);
    if (!levels.includes(level)) bad.push(`${file}: ${where}: ${level} is not a level of ${factor}; allowed: ${levels.join(', ')}`);
    else references.push({ factor, level });
  });
  if (bad.length) throw new UserError(bad);
  const baseFile = isAbsolute(s.base) ? s.base : resolve(dirname(resolve(file)), s.base);
  return {
    file,
    baseFile,
    text,
    seed: s.seed,
    replications: s.replications,
    set: Object.entries(s.set),
    grid: Object.entries(s.grid),
    zip: zipEntries,
    sample: s.sample ? { method: s.sample.method, count: s.sample.count, ranges } : null,
    policy,
    ledger: s.ledger ?? null,
    factors,
    references,
  };
}

function levelsOf(f: Factor, grid: Record<string, unknown[]>, zip: Record<string, unknown[]>, policy: [string, string[]][], ledger: string[] | undefined): string[] {
  if (f.source === 'grid') return grid[f.name]!.map(cellText);
  if (f.source === 'zip') return zip[f.name]!.map(cellText);
  if (f.source === 'policy') return policy.find(([k]) => k === f.name)![1];
  return ledger ?? [];
}

/** Seed of replication r: the r-th draw of stream "sweep/replications" of the sweep seed (0 .. 2^32 − 1). */
export function replicationSeeds(sweepSeed: number, count: number): number[] {
  const rng = new Streams(sweepSeed).stream('sweep/replications');
  const out: number[] = [];
  for (let r = 0; r < count; r++) out.push(rng.int(2 ** 32));
  return out;
}

/**
 * `count` points over the ranges: uniform random, or a Latin hypercube (each range cut into
 * `count` equal strata, each stratum used by exactly one point, strata shuffled independently per
 * range, a uniform draw inside the stratum). Integer ranges cover min..max inclusive. Stream
 * "sweep/sample" of the sweep seed.
 */
export function samplePoints(sweepSeed: number, method: 'lhs' | 'random', count: number, ranges: [string, { min: number; max: number; integer: boolean }][]): Record<string, number>[] {
  const rng = new Streams(sweepSeed).stream('sweep/sample');
  const pts: Record<string, number>[] = Array.from({ length: count }, () => ({}));
  for (const [name, rg] of ranges) {
    const perm = Array.from({ length: count }, (_, i) => i);
    if (method === 'lhs') {
      for (let i = count - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
    }
    for (let i = 0; i < count; i++) {
      const u = method === 'lhs' ? (perm[i]! + rng.next()) / count : rng.next();
      pts[i]![name] = rg.integer ? Math.min(rg.max, Math.floor(rg.min + u * (rg.max - rg.min + 1))) : rg.min + u * (rg.max - rg.min);
    }
  }
  return pts;
}

function cross(lists: [string, unknown[]][]): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, vs] of lists) out = out.flatMap((o) => vs.map((v) => ({ ...o, [k]: v })));
  return out;
}

const override = (path: string, v: unknown) => `${path}=${JSON.stringify(v ?? null)}`;

/**
 * The run list: replication (outermost) × sample point × grid × zip × policy × ledger. Replication
 * outermost keeps the runs of one seed (one city) together; run indices follow this order.
 */
export function expandSpec(spec: SweepSpec): ExpandedRun[] {
  const seeds = replicationSeeds(spec.seed, spec.replications);
  const samples: Record<string, unknown>[] = spec.sample ? samplePoints(spec.seed, spec.sample.method, spec.sample.count, spec.sample.ranges) : [{}];
  const grid = cross(spec.grid);
  const zipN = spec.zip.length ? spec.zip[0]![1].length : 1;
  const zips: Record<string, unknown>[] = Array.from({ length: zipN }, (_, i) => Object.fromEntries(spec.zip.map(([k, vs]) => [k, vs[i]])));
  const policies = cross(spec.policy);
  const ledgers: (string | null)[] = spec.ledger ?? [null];
  const runs: ExpandedRun[] = [];
  for (let r = 0; r < spec.replications; r++) {
    for (const sp of samples)
      for (const g of grid)
        for (const zp of zips)
          for (const po of policies)
            for (const le of ledgers) {
              const merged: Record<string, unknown> = { ...g, ...zp, ...sp, ...po };
              const params: Record<string, unknown> = {};
              for (const f of spec.factors) params[f.name] = f.source === 'ledger' ? le : merged[f.name];
              const overrides = [
                ...spec.set.map(([k, v]) => override(k, v)),
                ...spec.factors.filter((f) => f.source !== 'ledger').map((f) => override(f.name, merged[f.name])),
                ...(le === null ? [] : [`ledger.stacks=${JSON.stringify([le])}`]),
              ];
              runs.push({ index: runs.length, params, replication: r, seed: seeds[r]!, overrides });
            }
  }
  return runs;
}
