/**
 * `evsim evaluate [CONFIG]`: every policy of every case over the held-out seeds, with common random
 * numbers (run i of every policy has seed i, so city day, fleet and demand are the same and only
 * the policy differs), then per case × policy × metric: mean, sd and the 95 % Student-t CI over
 * the seeds, the paired difference against the reference (the hand-written policy with the best
 * mean of the case's primary metric, its first metric) with its CI over the per-seed differences,
 * the offline optimum (LP, the code of `evsim optimum`) and the targets. Replay cases do not depend
 * on the seed: they run once (n = 1, no CI). Files: evaluation.csv, evaluation.md, runs.csv (see
 * evaluationCsv, evaluationMd, runsCsv); the CLI (src/cli/evaluate.ts) writes them atomically.
 * Deterministic: no wall clock here; the same config gives byte-identical tables.
 */
import { excludesZero, meanCi, pairedDiff, type MeanCi } from '../core/stats.js';
import { SessionStatus } from '../charging/station.js';
import type { StationChoicePolicy } from '../charging/choice.js';
import type { AllocationBatchPolicy } from '../charging/allocationBatch.js';
import type { AiSummary } from '../ai/allocation.js';
import type { Scenario } from '../scenario/scenario.js';
import { EPISODE_OVERRIDES } from './episodes.js';
import { caseScenario, METRICS, optimumKey, type EvalCase, type EvalConfig, type MetricName, type TargetSpec } from './evaluateConfig.js';
import { scenarioOptimum, type OptimumReport } from './optimumRun.js';
import type { ChoiceBound } from '../optimum/choiceBound.js';
import { highs } from '../optimum/optimum.js';
import { ChoiceRequestLog, runChoiceBound } from './choiceBound.js';
import { createSimulation, type SimResult } from './simulation.js';
import { buildCity } from './world.js';

/** The metric values of one run. */
export function metricValues(r: SimResult): Record<MetricName, number> {
  const horizon = r.summary.simulatedSeconds;
  let tw = 0;
  let tr = 0;
  let tis = 0;
  let n = 0;
  for (const s of r.sessions) {
    if (Number.isNaN(s.arrivedAt)) continue;
    const until = !Number.isNaN(s.pluggedAt) ? s.pluggedAt : s.status === SessionStatus.abandoned ? s.unpluggedAt : horizon;
    const travel = s.travelS > 0 ? s.travelS : 0;
    tw += travel + (until - s.arrivedAt);
    tr += travel;
    tis += (Number.isNaN(s.unpluggedAt) ? horizon : s.unpluggedAt) - s.arrivedAt;
    n++;
  }
  return {
    travel_wait_min: n ? tw / n / 60 : 0,
    travel_min: n ? tr / n / 60 : 0,
    wait_min: n ? (tw - tr) / n / 60 : 0,
    abandoned: r.summary.sessions.abandoned,
    demand_met_pct: r.summary.sessions.demandMetPct,
    energy_kwh: r.summary.sessions.energyDeliveredKWh,
    time_in_system_min: n ? tis / n / 60 : 0,
    peak_kw: r.summary.stations.peakKW,
  };
}

export interface RunRow {
  case: string;
  policy: string;
  seed: number;
  values: Record<MetricName, number>;
}

/** Per policy, per metric: the values in seed order. */
export type CaseRuns = Record<string, Partial<Record<MetricName, number[]>>>;

export interface TargetResult {
  spec: TargetSpec;
  /** human text of the target, e.g. "≤ −15 % vs reference, CI excl. 0" */
  text: string;
  met: boolean;
  /** what was measured, e.g. "−1.2 %" */
  measured: string;
}

export interface MetricRow {
  policy: string;
  metric: MetricName;
  stats: MeanCi;
  /** paired difference policy − reference (null for the reference itself) */
  diff: MeanCi | null;
  /** 100 × diff.mean / |reference mean| (NaN when the reference mean is 0) */
  relPct: number;
  optimum: number | null;
  pctOfOptimum: number | null;
  targets: TargetResult[];
}

/** The station-choice bound of a case (over the runs of `policy`, one value per seed). */
export interface CaseBound {
  policy: string;
  slotS: number;
  /** mean of the nearest candidate's travel time (min) */
  travelFloor: MeanCi;
  /** LP bound on the mean travel + wait (min) */
  lp: MeanCi;
  /** mean share of the requests the LP leaves uncharged */
  dropShare: number;
  requests: MeanCi;
}

export interface CaseSummary {
  case: EvalCase;
  seeds: number[];
  policies: string[];
  reference: string;
  rows: MetricRow[];
  optimum: OptimumReport | null;
  bound?: CaseBound;
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d).replace(/^-(?=.*[1-9])/, '−').replace(/^-/, '') : '–');
const signed = (x: number, d = 2) => {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x).toFixed(d);
  return /[1-9]/.test(a) ? `${x > 0 ? '+' : '−'}${a}` : a; // no sign on what rounds to zero
};

/** The reference: the hand-written policy with the best mean of the primary metric (first listed wins a tie). */
export function pickReference(c: Pick<EvalCase, 'hand' | 'metrics'>, runs: CaseRuns): string {
  const m = c.metrics[0]!;
  const dir = METRICS[m].direction;
  let best = c.hand[0]!;
  let bestMean = meanCi(runs[best]![m]!).mean;
  for (const p of c.hand.slice(1)) {
    const v = meanCi(runs[p]![m]!).mean;
    if (dir === 'lower' ? v < bestMean : v > bestMean) {
      best = p;
      bestMean = v;
    }
  }
  return best;
}

function evalTarget(t: TargetSpec, c: Pick<EvalCase, 'metrics'>, runs: CaseRuns, reference: string, row: Omit<MetricRow, 'targets'>): TargetResult {
  const dir = METRICS[t.metric].direction;
  if (t.maxRelativePct !== undefined) {
    const sig = t.significant ? ', paired 95 % CI excludes 0' : '';
    const text = `Δ vs ${reference} ≤ ${signed(t.maxRelativePct, 1)} % of its mean${sig}`;
    const d = row.diff;
    if (!d) return { spec: t, text, met: false, measured: `${t.policy} is the reference` };
    const met = row.relPct <= t.maxRelativePct && (!t.significant || excludesZero(d));
    return { spec: t, text, met, measured: `Δ ${signed(d.mean)}${d.n > 1 ? ` [${f(d.lo)}, ${f(d.hi)}]` : ''} (${signed(row.relPct, 1)} %)` };
  }
  if (t.notWorseThan !== undefined) {
    const other = runs[t.notWorseThan]![t.metric]!;
    const d = pairedDiff(runs[t.policy]![t.metric]!, other);
    // not significantly worse: the CI of the difference does not lie entirely on the worse side
    // (n = 1: the difference itself is not on the worse side)
    const worse = d.n > 1 ? (dir === 'lower' ? d.lo > 0 : d.hi < 0) : dir === 'lower' ? d.mean > 0 : d.mean < 0;
    return { spec: t, text: `not worse than ${t.notWorseThan} (paired 95 % CI)`, met: !worse, measured: `Δ ${signed(d.mean)}${d.n > 1 ? ` [${f(d.lo)}, ${f(d.hi)}]` : ''}` };
  }
  const pct = row.pctOfOptimum;
  if (t.minPctOfOptimum !== undefined) {
    return { spec: t, text: `≥ ${t.minPctOfOptimum} % of optimum`, met: pct !== null && pct >= t.minPctOfOptimum, measured: pct === null ? '–' : `${f(pct)} %` };
  }
  const max = t.maxPctOfOptimum!;
  return { spec: t, text: `≤ ${max} % of optimum`, met: pct !== null && pct <= max, measured: pct === null ? '–' : `${f(pct)} %` };
}

/** Statistics of one case from its runs (pure: used on synthetic runs by the tests). */
export function summariseCase(c: EvalCase, seeds: number[], runs: CaseRuns, optimum: OptimumReport | null): CaseSummary {
  const policies = [...c.hand, ...(c.learnedModel ? ['learned'] : [])];
  const reference = pickReference(c, runs);
  const rows: MetricRow[] = [];
  for (const p of policies) {
    for (const m of c.metrics) {
      const xs = runs[p]![m]!;
      const stats = meanCi(xs);
      const ref = runs[reference]![m]!;
      const diff = p === reference ? null : pairedDiff(xs, ref);
      const refMean = meanCi(ref).mean;
      const relPct = diff && refMean !== 0 ? (100 * diff.mean) / Math.abs(refMean) : NaN;
      const key = optimumKey(m, c.optimum?.goal ?? null);
      const opt = optimum && key ? (optimum[key] ?? null) : null;
      const pctOfOptimum = opt !== null && opt > 0 ? (100 * stats.mean) / opt : null;
      const base = { policy: p, metric: m, stats, diff, relPct, optimum: opt, pctOfOptimum };
      const targets = c.targets.filter((t) => t.policy === p && t.metric === m).map((t) => evalTarget(t, c, runs, reference, base));
      rows.push({ ...base, targets });
    }
  }
  return { case: c, seeds, policies, reference, rows, optimum };
}

export interface EvaluationHooks {
  /** before each run: label, index (1-based) and total */
  onRun?: (label: string, i: number, n: number) => void;
  /** before each run and optimum: throws to stop (Ctrl-C) */
  check?: () => void | Promise<void>;
}

export interface EvaluationResult {
  config: EvalConfig;
  cases: CaseSummary[];
  runs: RunRow[];
  /** TF.js runtime, when a learned policy ran */
  ai: Omit<AiSummary, 'models'> | null;
  /** sha256 per model folder used (kind → hash) */
  models: Record<string, { path: string; sha256: string }>;
}

/** The seeds a case runs: all of them, or the first one for a replay (the seed does not change it). */
export const caseSeeds = (c: EvalCase, seeds: number[]): number[] => (c.replay ? seeds.slice(0, 1) : seeds);

async function learnedParts(c: EvalCase, sc: Scenario): Promise<{ stationChoice?: StationChoicePolicy; allocation?: AllocationBatchPolicy; ai?: AiSummary }> {
  if (c.kind === 'choice') {
    const { loadLearnedChoice } = await import('../ai/choiceModel.js');
    return loadLearnedChoice(sc);
  }
  const { loadLearnedParts } = await import('../ai/allocation.js');
  return loadLearnedParts(sc);
}

/** Run the whole evaluation. */
export async function runEvaluation(cfg: EvalConfig, hooks: EvaluationHooks = {}): Promise<EvaluationResult> {
  const total = cfg.cases.reduce((a, c) => a + caseSeeds(c, cfg.seeds).length * (c.hand.length + (c.learnedModel ? 1 : 0)), 0);
  let k = 0;
  const all: RunRow[] = [];
  const summaries: CaseSummary[] = [];
  const models: EvaluationResult['models'] = {};
  let ai: EvaluationResult['ai'] = null;
  for (const c of cfg.cases) {
    const seeds = caseSeeds(c, cfg.seeds);
    const policies = [...c.hand, ...(c.learnedModel ? ['learned'] : [])];
    const runs: CaseRuns = Object.fromEntries(policies.map((p) => [p, Object.fromEntries(c.metrics.map((m) => [m, [] as number[]]))]));
    const bounds: ChoiceBound[] = [];
    const field = c.kind === 'choice' ? 'stationChoice' : 'allocation';
    for (const seed of seeds) {
      // one city per seed (it depends on the seed, never on the policy), shared by the policies
      let city: Awaited<ReturnType<typeof buildCity>> | null = null;
      for (const p of policies) {
        await hooks.check?.();
        hooks.onRun?.(`${c.name}: ${p}, seed ${seed}`, ++k, total);
        const extra = [...EPISODE_OVERRIDES, `policy.${field}=${p}`];
        if (p === 'learned') extra.push(`policy.models.${field}=${JSON.stringify(c.learnedModel)}`, `policy.tfBackend=${cfg.tfBackend}`);
        const sc = caseScenario(c, seed, extra);
        city ??= await buildCity(sc);
        if (sc.site.exchange === 'lp') await highs(); // the exchange step's solver (site.exchange)
        const parts = p === 'learned' ? await learnedParts(c, sc) : {};
        if (p === 'learned') {
          const { modelSha256, runtimeInfo } = await import('../ai/runtime.js');
          const key = c.learnedModel === cfg.models[c.kind] ? c.kind : `${c.kind} (${c.name})`;
          models[key] ??= { path: c.learnedModel!, sha256: modelSha256(c.learnedModel!) };
          const info = runtimeInfo();
          if (info) ai = { backend: info.backend, tfjsVersion: info.tfjsVersion, simd: info.simd };
        }
        const log = c.bound?.policy === p ? new ChoiceRequestLog() : null;
        const r = createSimulation(sc, city, log ? { ...parts, observers: [log] } : parts).run();
        if (log) {
          await hooks.check?.();
          hooks.onRun?.(`${c.name}: bound on ${p}'s requests, seed ${seed}`, k, total);
          bounds.push(await runChoiceBound(log, r.sessions, r.summary.simulatedSeconds, sc.fleet.maxWait, c.bound!.slotS));
        }
        const values = metricValues(r);
        all.push({ case: c.name, policy: p, seed, values });
        for (const m of c.metrics) runs[p]![m]!.push(values[m]);
      }
    }
    let optimum: OptimumReport | null = null;
    if (c.optimum) {
      await hooks.check?.();
      hooks.onRun?.(`${c.name}: offline optimum (${c.optimum.goal})`, k, total);
      optimum = await scenarioOptimum(caseScenario(c, seeds[0]!), c.optimum.goal, c.optimum.share);
    }
    const cs = summariseCase(c, seeds, runs, optimum);
    if (c.bound) {
      cs.bound = {
        policy: c.bound.policy,
        slotS: c.bound.slotS,
        travelFloor: meanCi(bounds.map((b) => b.travelFloorMin)),
        lp: meanCi(bounds.map((b) => b.lpBoundMin)),
        dropShare: bounds.reduce((a, b) => a + b.lpDropShare, 0) / Math.max(1, bounds.length),
        requests: meanCi(bounds.map((b) => b.requests)),
      };
    }
    summaries.push(cs);
  }
  return { config: cfg, cases: summaries, runs: all, ai, models };
}

// ---------------------------------------------------------------------------------------- tables

/** Deterministic CSV number: up to 6 decimals, no trailing zeros; empty for NaN / null. */
function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '';
  const s = x.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_HEADER = [
  'case',
  'kind',
  'policy',
  'metric',
  'unit',
  'better',
  'n',
  'mean',
  'sd',
  'ci_lo',
  'ci_hi',
  'reference',
  'diff_mean',
  'diff_ci_lo',
  'diff_ci_hi',
  'diff_rel_pct',
  'optimum',
  'pct_of_optimum',
  'target',
  'measured',
  'met',
];

/** evaluation.csv: one row per case × policy × metric. */
export function evaluationCsv(r: EvaluationResult): string {
  const lines = [CSV_HEADER.join(',')];
  for (const cs of r.cases) {
    for (const row of cs.rows) {
      const d = row.diff;
      const cells = [
        cs.case.name,
        cs.case.kind,
        row.policy,
        row.metric,
        METRICS[row.metric].unit,
        METRICS[row.metric].direction,
        String(row.stats.n),
        num(row.stats.mean),
        num(row.stats.sd),
        num(row.stats.lo),
        num(row.stats.hi),
        cs.reference,
        num(d?.mean),
        num(d?.lo),
        num(d?.hi),
        num(row.relPct),
        num(row.optimum),
        num(row.pctOfOptimum),
        row.targets.map((t) => t.text).join('; '),
        row.targets.map((t) => t.measured).join('; '),
        row.targets.length ? (row.targets.every((t) => t.met) ? 'yes' : 'no') : '',
      ];
      lines.push(cells.map(csvCell).join(','));
    }
    const b = cs.bound;
    if (b) {
      for (const [policy, st] of [[`bound-travel-floor (${b.policy})`, b.travelFloor], [`bound-lp (${b.policy})`, b.lp]] as const) {
        const cells = [cs.case.name, cs.case.kind, policy, 'travel_wait_min', METRICS.travel_wait_min.unit, METRICS.travel_wait_min.direction, String(st.n), num(st.mean), num(st.sd), num(st.lo), num(st.hi), cs.reference];
        while (cells.length < CSV_HEADER.length) cells.push('');
        lines.push(cells.map(csvCell).join(','));
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** runs.csv: every run's raw metric values, full precision (case, policy, seed, metric, value). */
export function runsCsv(r: EvaluationResult): string {
  const lines = ['case,policy,seed,metric,value'];
  const metricsOf = new Map(r.cases.map((c) => [c.case.name, c.case.metrics] as const));
  for (const run of r.runs) for (const m of metricsOf.get(run.case)!) lines.push([csvCell(run.case), run.policy, String(run.seed), m, String(run.values[m])].join(','));
  return lines.join('\n') + '\n';
}

function meanCell(s: MeanCi, d = 2): string {
  return s.n > 1 ? `${f(s.mean, d)} [${f(s.lo, d)}, ${f(s.hi, d)}]` : f(s.mean, d);
}

function diffCell(row: MetricRow, d = 2): string {
  if (!row.diff) return 'reference';
  const rel = Number.isFinite(row.relPct) ? ` (${signed(row.relPct, 1)} %)` : '';
  return row.diff.n > 1 ? `${signed(row.diff.mean, d)} [${f(row.diff.lo, d)}, ${f(row.diff.hi, d)}]${rel}` : `${signed(row.diff.mean, d)}${rel}`;
}

function caseLabel(c: EvalCase): string {
  const tags = [c.heldOutCity ? 'held-out city' : '', c.uncongested ? 'uncongested' : '', c.replay ? 'replay, n = 1' : ''].filter(Boolean);
  return tags.length ? `${c.name} (${tags.join(', ')})` : c.name;
}

/** evaluation.md: an overview, then per case the means, the paired differences and the targets. */
export function evaluationMd(r: EvaluationResult): string {
  const cfg = r.config;
  const L: string[] = [];
  const seedText = cfg.seeds.length > 1 && cfg.seeds.every((s, i) => i === 0 || s === cfg.seeds[i - 1]! + 1) ? `${cfg.seeds[0]}–${cfg.seeds[cfg.seeds.length - 1]}` : cfg.seeds.join(', ');
  L.push(`# Evaluation: ${cfg.name}`, '');
  if (cfg.description) L.push(cfg.description, '');
  L.push(
    `Seeds ${seedText} (${cfg.seeds.length}); common random numbers (every policy runs the same seeds). Means with 95 % Student-t CIs over the seeds; ` +
      `Δ = policy − reference, paired per seed, with the t-interval of the per-seed differences. Reference = the hand-written policy with the best mean of the case's first metric. ` +
      `Replay cases do not depend on the seed and run once (n = 1, no CI).${r.ai ? ` TF.js ${r.ai.tfjsVersion}, backend ${r.ai.backend}.` : ''}`,
    '',
  );
  // overview
  L.push('| case | reference | primary metric | reference | learned | Δ learned − reference [95 % CI] | % of optimum (learned) | targets met |', '|---|---|---|---|---|---|---|---|');
  for (const cs of r.cases) {
    const m = cs.case.metrics[0]!;
    const ref = cs.rows.find((x) => x.policy === cs.reference && x.metric === m)!;
    const lr = cs.rows.find((x) => x.policy === 'learned' && x.metric === m);
    const pctRow = cs.rows.find((x) => x.policy === 'learned' && x.pctOfOptimum !== null);
    const ts = cs.rows.flatMap((x) => x.targets);
    const metCount = ts.filter((t) => t.met).length;
    L.push(
      `| ${caseLabel(cs.case)} | ${cs.reference} | ${METRICS[m].label} (${METRICS[m].unit}) | ${meanCell(ref.stats)} | ${lr ? meanCell(lr.stats) : '–'} | ${lr ? diffCell(lr) : '–'} | ${pctRow ? `${f(pctRow.pctOfOptimum!, 1)} %` : '–'} | ${ts.length ? `${metCount} of ${ts.length}` : '–'} |`,
    );
  }
  L.push('');
  for (const cs of r.cases) {
    const c = cs.case;
    L.push(`## ${caseLabel(c)}`, '');
    L.push(`${c.kind === 'choice' ? 'Station choice' : 'Allocation'}: \`${c.scenarioRel}\`${c.set.length ? ` with ${c.set.map((s) => `\`--set ${s}\``).join(' ')}` : ''}; n = ${cs.seeds.length}${c.replay ? ` (replay: seed ${cs.seeds[0]} only; the seed does not change it)` : ''}.${c.description ? ` ${c.description}` : ''}`, '');
    if (cs.optimum) {
      const o = cs.optimum;
      L.push(
        `Offline optimum (${c.optimum!.goal}, ${o.limit}): ${f(o.energyKWh, 1)} kWh of ${f(o.requestedKWh, 1)} kWh requested${o.upperKWh > o.energyKWh + 1e-9 ? ` (upper bound ${f(o.upperKWh, 1)} kWh)` : ''}${o.peakKW !== undefined ? `; least peak delivering ${f(100 * (o.share ?? 1), 1)} % of it: ${f(o.peakKW, 2)} kW` : ''}.`,
        '',
      );
    }
    if (cs.bound) {
      const b = cs.bound;
      const m = METRICS.travel_wait_min;
      const pct = cs.policies
        .map((p) => cs.rows.find((x) => x.policy === p && x.metric === 'travel_wait_min'))
        .filter((x) => x !== undefined)
        .map((x) => `${x.policy} ${f((100 * x.stats.mean) / b.lp.mean, 0)} %`);
      const ref = cs.rows.find((x) => x.policy === cs.reference && x.metric === 'travel_wait_min');
      L.push(
        `Lower bounds on ${m.label} (${m.unit}), on the requests of ${b.policy}'s runs (${f(b.requests.mean, 0)} per day; src/optimum/choiceBound.ts): ` +
          `travel floor (nearest candidate, no wait) ${meanCell(b.travelFloor)}; time-indexed LP (${b.slotS} s slots, capacity per station) ${meanCell(b.lp)}, ` +
          `leaving ${f(100 * b.dropShare, 1)} % of the requests uncharged.${pct.length ? ` Mean as % of the LP bound: ${pct.join(', ')}.` : ''}` +
          `${ref ? ` A 15 % cut from the reference reaches ${f(0.85 * ref.stats.mean)} min: ${0.85 * ref.stats.mean >= b.lp.mean ? 'above the bound (not ruled out)' : '**below the bound: unreachable**'}.` : ''}`,
        '',
      );
    }
    const hasOpt = cs.rows.some((x) => x.pctOfOptimum !== null);
    L.push(`| policy | ${c.metrics.map((m) => `${METRICS[m].label} (${METRICS[m].unit})`).join(' | ')}${hasOpt ? ' | % of optimum' : ''} |`, `|---|${c.metrics.map(() => '---|').join('')}${hasOpt ? '---|' : ''}`);
    for (const p of cs.policies) {
      const rows = c.metrics.map((m) => cs.rows.find((x) => x.policy === p && x.metric === m)!);
      const pct = rows.filter((x) => x.pctOfOptimum !== null).map((x) => `${f(x.pctOfOptimum!, 1)} %`);
      L.push(`| ${p}${p === cs.reference ? ' (reference)' : ''} | ${rows.map((x) => meanCell(x.stats)).join(' | ')}${hasOpt ? ` | ${pct.join(', ') || '–'}` : ''} |`);
    }
    L.push('');
    L.push(`| Δ vs ${cs.reference}${cs.seeds.length > 1 ? ' (paired per seed)' : ''} | ${c.metrics.map((m) => `${METRICS[m].label}`).join(' | ')} |`, `|---|${c.metrics.map(() => '---|').join('')}`);
    for (const p of cs.policies) {
      if (p === cs.reference) continue;
      L.push(`| ${p} | ${c.metrics.map((m) => diffCell(cs.rows.find((x) => x.policy === p && x.metric === m)!)).join(' | ')} |`);
    }
    L.push('');
    const ts = cs.rows.flatMap((x) => x.targets.map((t) => ({ t, row: x })));
    if (ts.length) {
      for (const { t, row } of ts) L.push(`- target: ${row.policy}, ${METRICS[row.metric].label}: ${t.text} — measured ${t.measured}: **${t.met ? 'met' : 'not met'}**`);
      L.push('');
    }
  }
  return L.join('\n');
}
