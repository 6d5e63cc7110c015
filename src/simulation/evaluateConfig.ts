/**
 * The evaluation config of `evsim evaluate [CONFIG]` (YAML or JSON, validated with zod): seeds,
 * the policies per kind (hand-written ones from the registries plus `learned` with its model
 * folder), and the cases (a scenario file with `--set`-style overrides, its kind, metrics, offline
 * optimum and targets). Bad input is a UserError, one line per problem naming the file, the field
 * path and what is allowed. See docs/evaluation.md.
 *
 * Seed guard: evaluation seeds are 1–100 (the station-choice trainer refuses them, its seeds start
 * at 101), and a learned policy's `training` configs are read: a seed that one of them lists as a
 * training or validation seed, a held-out-city case whose scenario a training config trains on, or
 * a replay case that starts before the allocation model's `trainUntil` is refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { listRegistries } from './registries.js';

/** The last evaluation seed; training and validation seeds start at 101 (src/ai/trainChoice.ts). */
export const MAX_EVALUATION_SEED = 100;

export type Direction = 'lower' | 'higher';

export interface MetricDef {
  label: string;
  unit: string;
  /** which way is better */
  direction: Direction;
  description: string;
}

/** Metrics a case can name; computed from a run in src/simulation/evaluate.ts (metricValues). */
export const METRICS = {
  travel_wait_min: {
    label: 'travel + wait',
    unit: 'min',
    direction: 'lower',
    description:
      'mean over sessions whose EV reached its station of travel to the station + (plug-in − arrival); for an EV that gave up, (leaving − arrival); for one still queued at the horizon, (horizon − arrival)',
  },
  travel_min: {
    label: 'travel',
    unit: 'min',
    direction: 'lower',
    description: 'the travel part of travel_wait_min: mean over the same sessions of the travel time to the station',
  },
  wait_min: {
    label: 'wait',
    unit: 'min',
    direction: 'lower',
    description: 'the wait part of travel_wait_min: mean over the same sessions of (plug-in, give-up or horizon) − arrival',
  },
  abandoned: { label: 'abandoned', unit: 'sessions', direction: 'lower', description: 'sessions whose EV gave up in the queue (maxWait)' },
  demand_met_pct: { label: 'demand met', unit: '%', direction: 'higher', description: 'energy delivered / energy requested over all sessions' },
  energy_kwh: { label: 'energy delivered', unit: 'kWh', direction: 'higher', description: 'energy delivered over all sessions' },
  time_in_system_min: {
    label: 'time in system',
    unit: 'min',
    direction: 'lower',
    description: 'mean over sessions that reached the station of (unplug or give-up, or the horizon) − arrival',
  },
  peak_kw: { label: 'peak power', unit: 'kW', direction: 'lower', description: 'highest total station power over the run (summary stations.peakKW)' },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export type CaseKind = 'choice' | 'allocation';
const KINDS = ['choice', 'allocation'] as const;
const DEFAULT_METRICS: Record<CaseKind, MetricName[]> = {
  choice: ['travel_wait_min', 'abandoned', 'demand_met_pct'],
  allocation: ['energy_kwh', 'demand_met_pct'],
};

const seedInt = z.number().int().min(0).max(2 ** 32 - 1);
const SeedsSchema = z.union([z.array(seedInt).min(1), z.string().regex(/^\s*\d+\s*-\s*\d+\s*$/, 'a range "FIRST-LAST", e.g. "1-10", or a list of integers')]);

const TargetSchema = z
  .strictObject({
    metric: z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]),
    policy: z.string().default('learned'),
    /** paired mean difference vs the reference, in % of the reference's mean, at most this */
    maxRelativePct: z.number().optional(),
    /** and the paired 95 % CI excludes zero */
    significant: z.boolean().default(false),
    /** not significantly worse than this policy (paired 95 % CI) */
    notWorseThan: z.string().optional(),
    /** the mean is at least / at most this % of the offline optimum */
    minPctOfOptimum: z.number().optional(),
    maxPctOfOptimum: z.number().optional(),
  })
  .refine((t) => [t.maxRelativePct, t.notWorseThan, t.minPctOfOptimum, t.maxPctOfOptimum].filter((x) => x !== undefined).length === 1, {
    message: 'name exactly one of maxRelativePct, notWorseThan, minPctOfOptimum, maxPctOfOptimum',
  });

const CaseSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._()+,-]*$/, 'letters, digits, spaces and . _ ( ) + , - (starting with a letter or digit)'),
  kind: z.enum(KINDS),
  scenario: z.string().min(1),
  set: z.array(z.string()).default([]),
  description: z.string().optional(),
  /** a city no model saw in training (checked against the training configs) */
  heldOutCity: z.boolean().default(false),
  /** the uncongested check of station choice */
  uncongested: z.boolean().default(false),
  metrics: z.array(z.enum(METRIC_NAMES as [MetricName, ...MetricName[]])).min(1).optional(),
  /** hand-written policies of this case (default: the kind's list) */
  policies: z.array(z.string()).min(1).optional(),
  learned: z.boolean().default(true),
  /** this case's learned model instead of the kind's (e.g. the DC hub's own allocation model) */
  model: z.strictObject({ model: z.string().min(1), training: z.array(z.string()).default([]) }).optional(),
  optimum: z
    .strictObject({ goal: z.enum(['energy', 'peak']), share: z.number().min(0).max(1).default(1) })
    .nullable()
    .default(null),
  targets: z.array(TargetSchema).default([]),
  /** choice cases: lower bounds on travel + wait from the requests of one policy's runs
   * (src/optimum/choiceBound.ts); absent: none */
  bound: z.strictObject({ policy: z.string().min(1), slotS: z.number().int().min(10).max(3600).default(300) }).optional(),
});

const PolicyKindSchema = z.strictObject({
  hand: z.array(z.string()).min(1),
  learned: z.strictObject({ model: z.string().min(1), training: z.array(z.string()).default([]) }).nullable().default(null),
});

export const EvalConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  seeds: SeedsSchema,
  tfBackend: z.enum(['wasm', 'cpu', 'tensorflow', 'auto']).default('wasm'),
  policies: z.strictObject({ choice: PolicyKindSchema.optional(), allocation: PolicyKindSchema.optional() }),
  cases: z.array(CaseSchema).min(1),
});

export type TargetSpec = z.output<typeof TargetSchema>;

export interface EvalCase {
  index: number;
  name: string;
  kind: CaseKind;
  /** absolute path of the scenario file */
  scenario: string;
  /** the scenario as written in the config (relative to it) */
  scenarioRel: string;
  set: string[];
  description: string | undefined;
  heldOutCity: boolean;
  uncongested: boolean;
  metrics: MetricName[];
  /** hand-written policies, in table order */
  hand: string[];
  /** the station-choice bound: on the runs of this policy, LP slots of slotS seconds */
  bound?: { policy: string; slotS: number } | undefined;
  /** absolute model folder of `learned`, or null when the case has no learned policy */
  learnedModel: string | null;
  optimum: { goal: 'energy' | 'peak'; share: number } | null;
  targets: TargetSpec[];
  /** replay demand: the seed does not change the run, so it runs once (n = 1) */
  replay: boolean;
}

export interface EvalConfig {
  file: string;
  dir: string;
  sha256: string;
  name: string;
  description: string | undefined;
  seeds: number[];
  tfBackend: 'wasm' | 'cpu' | 'tensorflow' | 'auto';
  /** model folders (absolute) per kind */
  models: Partial<Record<CaseKind, string>>;
  cases: EvalCase[];
}

function fmtPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(top level)';
}

/** The field names the schema allows at `path` (for "unknown field" messages). */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let t: z.core.$ZodType | undefined = EvalConfigSchema;
  const inner = (x: z.core.$ZodType): z.core.$ZodType => {
    const d = x._zod.def as { type: string; innerType?: z.core.$ZodType };
    return ['optional', 'nullable', 'default'].includes(d.type) && d.innerType ? inner(d.innerType) : x;
  };
  for (const k of path) {
    if (!t) return [];
    const d = inner(t)._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    t = typeof k === 'number' ? d.element : d.shape?.[String(k)];
  }
  const d = t ? (inner(t)._zod.def as { shape?: Record<string, unknown> }) : undefined;
  return d?.shape ? Object.keys(d.shape) : [];
}

function issueLine(file: string, is: z.core.$ZodIssue): string[] {
  const path = fmtPath(is.path);
  switch (is.code) {
    case 'unrecognized_keys':
      return is.keys.map((k) => `${file}: ${fmtPath([...is.path, k])}: unknown field; allowed here: ${allowedKeys(is.path).join(', ')}`);
    case 'invalid_value':
      return [`${file}: ${path}: allowed: ${is.values.map(String).join(' | ')}`];
    case 'invalid_type':
      return [`${file}: ${path}: ${is.message.includes('received undefined') ? `is required (${is.expected})` : `expected ${is.expected === 'int' ? 'an integer' : is.expected}`}`];
    case 'too_small':
      return [`${file}: ${path}: must be >= ${String(is.minimum)}${is.origin === 'array' ? ' items' : ''}`];
    case 'too_big':
      return [`${file}: ${path}: must be <= ${String(is.maximum)}${is.origin === 'array' ? ' items' : ''}`];
    case 'invalid_union':
      return [`${file}: ${path}: expected a range "FIRST-LAST" (e.g. "1-10") or a list of integers`];
    default:
      return [`${file}: ${path}: ${is.message}`];
  }
}

function parseSeeds(v: number[] | string, where: string): number[] {
  if (Array.isArray(v)) return v;
  const [a, b] = v.split('-').map((x) => Number(x.trim())) as [number, number];
  if (!(a <= b)) throw new UserError([`${where}: seeds: a range "FIRST-LAST" needs FIRST <= LAST (got ${JSON.stringify(v)})`]);
  if (b - a >= 10_000) throw new UserError([`${where}: seeds: at most 10000 seeds (got ${JSON.stringify(v)})`]);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

const abs = (dir: string, p: string) => (isAbsolute(p) ? p : resolve(dir, p));

/** Seeds and scenario files a training config lists (station choice: episodes/validation; allocation: trainUntil). */
interface TrainingFacts {
  file: string;
  seedRanges: { field: string; scenario: string; first: number; last: number }[];
  trainUntil: string | null;
  sessions: string | null;
}

function readTraining(file: string, where: string): TrainingFacts {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError([`${where}: cannot read the training config ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]})`]);
  }
  const o = (raw ?? {}) as Record<string, unknown>;
  const dir = dirname(file);
  const seedRanges: TrainingFacts['seedRanges'] = [];
  // the hub trainer's form: trainSeeds / validationSeeds [first, last] on its one scenario
  for (const field of ['trainSeeds', 'validationSeeds']) {
    const r = o[field];
    if (Array.isArray(r) && r.length === 2 && typeof o.scenario === 'string') seedRanges.push({ field, scenario: abs(dir, o.scenario), first: Number(r[0]), last: Number(r[1]) });
  }
  for (const field of ['episodes', 'validation']) {
    const list = o[field];
    if (!Array.isArray(list)) continue;
    list.forEach((e, i) => {
      const ep = e as { scenario?: unknown; seeds?: unknown };
      if (Array.isArray(ep.seeds) && ep.seeds.length === 2 && typeof ep.scenario === 'string') {
        seedRanges.push({ field: `${field}[${i}]`, scenario: abs(dir, ep.scenario), first: Number(ep.seeds[0]), last: Number(ep.seeds[1]) });
      }
    });
  }
  return {
    file,
    seedRanges,
    trainUntil: typeof o.trainUntil === 'string' ? o.trainUntil : null,
    sessions: typeof o.sessions === 'string' ? abs(dir, o.sessions) : null,
  };
}

/** The case's scenario with its overrides and a seed (and optionally more overrides). */
export function caseScenario(c: EvalCase, seed: number, extra: readonly string[] = []): Scenario {
  return loadScenario(c.scenario, { overrides: [...c.set, ...extra], seed });
}

/** Read and validate an evaluation config; checks every case's scenario, policies and seeds. */
export function loadEvalConfig(file: string): EvalConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError([`${file}: cannot read evaluation config (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`]);
  }
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UserError([`${file}: not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`]);
  }
  return evalConfigFrom(raw, file, dirname(resolve(file)), createHash('sha256').update(text).digest('hex'));
}

/**
 * Validate a config given as an object (`where` names it in messages; paths are relative to
 * `dir`; `sha256` identifies it in manifest.json). loadEvalConfig reads a file into this.
 */
export function evalConfigFrom(raw: unknown, where: string, dir: string, sha256: string): EvalConfig {
  const file = where;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError([`${file}: (top level): expected a mapping of fields`]);
  const parsed = EvalConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(parsed.error.issues.flatMap((is) => issueLine(file, is)));
  const cfg = parsed.data;
  const seeds = parseSeeds(cfg.seeds, file);
  const problems: string[] = [];
  const bad = seeds.filter((s) => s < 1 || s > MAX_EVALUATION_SEED);
  if (bad.length) problems.push(`${file}: seeds: ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', …' : ''} not an evaluation seed; allowed: 1–${MAX_EVALUATION_SEED} (training and validation seeds start at ${MAX_EVALUATION_SEED + 1})`);
  if (new Set(seeds).size !== seeds.length) problems.push(`${file}: seeds: each seed at most once (paired differences match runs by seed)`);
  const registries = listRegistries();
  const known: Record<CaseKind, string[]> = {
    choice: registries.stationChoice.map((e) => e.name).filter((n) => n !== 'learned'),
    allocation: registries.allocation.map((e) => e.name).filter((n) => n !== 'learned'),
  };
  const models: Partial<Record<CaseKind, string>> = {};
  const training: Partial<Record<CaseKind, TrainingFacts[]>> = {};
  for (const kind of KINDS) {
    const pk = cfg.policies[kind];
    if (!pk) continue;
    pk.hand.forEach((p, i) => {
      if (!known[kind].includes(p)) problems.push(`${file}: policies.${kind}.hand[${i}]: unknown policy ${JSON.stringify(p)}; allowed: ${known[kind].join(', ')}`);
    });
    if (pk.learned) {
      models[kind] = abs(dir, pk.learned.model);
      training[kind] = pk.learned.training.map((t, i) => readTraining(abs(dir, t), `${file}: policies.${kind}.learned.training[${i}]`));
    }
  }
  for (const kind of KINDS) {
    for (const t of training[kind] ?? []) {
      for (const r of t.seedRanges) {
        const hit = seeds.filter((s) => s >= 1 && s <= MAX_EVALUATION_SEED && s >= r.first && s <= r.last); // others are refused above
        if (hit.length) problems.push(`${file}: seeds: ${hit.join(', ')} ${hit.length > 1 ? 'are training seeds' : 'is a training seed'} of the ${kind} model (${t.file} ${r.field}: ${r.first}–${r.last}); evaluate on other seeds`);
      }
    }
  }
  const cases: EvalCase[] = [];
  const names = new Set<string>();
  cfg.cases.forEach((c, i) => {
    const at = `${file}: cases[${i}]`;
    if (names.has(c.name)) problems.push(`${at}.name: ${JSON.stringify(c.name)} is used by an earlier case; names must be unique`);
    names.add(c.name);
    const pk = cfg.policies[c.kind];
    if (!pk) {
      problems.push(`${at}.kind: no policies.${c.kind} section in the config for a ${c.kind} case`);
      return;
    }
    const hand = c.policies ?? pk.hand;
    (c.policies ?? []).forEach((p, j) => {
      if (!known[c.kind].includes(p)) problems.push(`${at}.policies[${j}]: unknown policy ${JSON.stringify(p)}; allowed: ${known[c.kind].join(', ')}`);
    });
    const scenario = abs(dir, c.scenario);
    let sc: Scenario | null = null;
    try {
      sc = loadScenario(scenario, { overrides: c.set, seed: seeds[0] });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(...e.lines.map((l) => `${at} (${c.name}): ${l}`));
    }
    const metrics = c.metrics ?? DEFAULT_METRICS[c.kind];
    const learnedModel = c.learned ? (c.model ? abs(dir, c.model.model) : (models[c.kind] ?? null)) : null;
    const caseTraining = c.model ? c.model.training.map((t, j) => readTraining(abs(dir, t), `${at}.model.training[${j}]`)) : (training[c.kind] ?? []);
    if (c.model) {
      for (const t of caseTraining) {
        for (const r of t.seedRanges) {
          const hit = seeds.filter((s) => s >= r.first && s <= r.last);
          if (hit.length) problems.push(`${at}.model: seeds ${hit.join(', ')} are training seeds of ${c.model.model} (${t.file} ${r.field}: ${r.first}–${r.last}); evaluate on other seeds`);
        }
      }
    }
    const policies = [...hand, ...(learnedModel ? ['learned'] : [])];
    c.targets.forEach((t, j) => {
      if (!policies.includes(t.policy)) problems.push(`${at}.targets[${j}].policy: ${JSON.stringify(t.policy)} is not a policy of this case; allowed: ${policies.join(', ')}`);
      if (!metrics.includes(t.metric)) problems.push(`${at}.targets[${j}].metric: ${t.metric} is not a metric of this case; allowed: ${metrics.join(', ')}`);
      if (t.notWorseThan !== undefined && !policies.includes(t.notWorseThan))
        problems.push(`${at}.targets[${j}].notWorseThan: ${JSON.stringify(t.notWorseThan)} is not a policy of this case; allowed: ${policies.join(', ')}`);
      if ((t.minPctOfOptimum !== undefined || t.maxPctOfOptimum !== undefined) && optimumKey(t.metric, c.optimum?.goal ?? null) === null)
        problems.push(`${at}.targets[${j}]: % of the optimum needs optimum.goal energy (metric energy_kwh) or peak (energy_kwh, peak_kw)`);
    });
    if (c.bound) {
      if (c.kind !== 'choice') problems.push(`${at}.bound: only choice cases have a bound (this case is ${c.kind})`);
      else if (!policies.includes(c.bound.policy)) problems.push(`${at}.bound.policy: ${JSON.stringify(c.bound.policy)} is not a policy of this case; allowed: ${policies.join(', ')}`);
    }
    if (sc) {
      const replay = sc.demand.type === 'replay';
      if (c.optimum && !replay) problems.push(`${at}.optimum: the offline optimum needs a replay scenario (demand.type replay; got ${sc.demand.type})`);
      if (c.heldOutCity) {
        for (const t of [...(training.choice ?? []), ...(training.allocation ?? [])]) {
          const r = t.seedRanges.find((x) => x.scenario === scenario);
          if (r) problems.push(`${at}.heldOutCity: ${c.scenario} is trained on in ${t.file} (${r.field}); a held-out city must not be`);
        }
      }
      if (replay && learnedModel && c.kind === 'allocation') {
        for (const t of caseTraining) {
          if (t.trainUntil && Date.parse(sc.start) < Date.parse(t.trainUntil))
            problems.push(`${at}.scenario: starts ${sc.start}, before the allocation model's training cut ${t.trainUntil} (${t.file} trainUntil); evaluate on sessions arriving after it`);
        }
      }
      cases.push({
        index: i,
        name: c.name,
        kind: c.kind,
        scenario,
        scenarioRel: c.scenario,
        set: c.set,
        description: c.description,
        heldOutCity: c.heldOutCity,
        uncongested: c.uncongested,
        metrics,
        hand,
        learnedModel,
        optimum: c.optimum,
        targets: c.targets,
        replay,
        ...(c.bound ? { bound: c.bound } : {}),
      });
    }
  });
  if (problems.length) throw new UserError(problems);
  return {
    file,
    dir,
    sha256,
    name: cfg.name,
    description: cfg.description,
    seeds,
    tfBackend: cfg.tfBackend,
    models,
    cases,
  };
}

/** Which field of the optimum report a metric is measured against (null: none). */
export function optimumKey(metric: MetricName, goal: 'energy' | 'peak' | null): 'energyKWh' | 'peakKW' | null {
  if (goal === null) return null;
  if (metric === 'energy_kwh') return 'energyKWh';
  if (metric === 'peak_kw' && goal === 'peak') return 'peakKW';
  return null;
}
