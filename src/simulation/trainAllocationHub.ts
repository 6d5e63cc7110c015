/**
 * `evsim train allocation CONFIG` with `objective: hub-es`: the DC hub's learned allocation
 * (src/ai/allocationHub.ts), trained by evolution strategies over simulated hub days, since its
 * objective — the mean time in system — is a property of whole days of queueing, not of one
 * allocation that an offline optimum could label.
 *
 * Method (OpenAI-ES, Salimans et al. 2017, with antithetic sampling and centred ranks):
 *   - θ: the MLP's parameters (hidden layers `hidden`, relu; linear output), seeded Glorot init;
 *   - iteration t: `population` noise vectors ε_p ~ N(0, I) from the stream "<seed>/es/<t>";
 *     θ ± σ·ε_p each run the same `seedsPerIteration` training days (common random numbers; the
 *     days rotate through `trainSeeds`); fitness = the day's mean time in system (min) with every
 *     abandonment counted as its wait + `abandonPenaltyMin` (so that a give-up costs more than
 *     an average served EV; measured, it can still pay at the margin: docs/ai.md);
 *   - the 2P fitnesses become centred ranks in [−0.5, 0.5]; gradient estimate
 *     g = Σ_p (rank(θ+σε_p) − rank(θ−σε_p)) · ε_p / (2Pσ); Adam step (learningRate) on θ;
 *   - every `validateEvery` iterations (and at the end) θ is scored on `validationSeeds`; the best
 *     validated θ is the model.
 * Seeds: training and validation seeds must be ≥ 101 (1–100 are evaluation seeds, used by the
 * held-out table of the model card and scripts/eval-hub.ts). Everything is float64 JavaScript
 * and seeded: the same config gives the same weights and sha256 on every machine.
 */
import { antitheticSample, EsAdam } from './es.js';
import { readConfigFile } from '../core/configFile.js';
import { writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { HubAllocationPolicy, hubModelOf, initParams, mlpFromParams, mlpParamCount, type Mlp } from '../ai/allocationHub.js';
import { HUB_FEATURES, N_HUB_FEATURES } from '../ai/allocationFeatures.js';
import { fileHandler, initTf, modelSha256, type RuntimeInfo } from '../ai/runtime.js';
import { allocationPolicyEntry, type AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { UserError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { Simulation } from './simulation.js';
import { buildCity, type City } from './world.js';

const seedRange = z.tuple([z.number().int().min(0), z.number().int().min(0)]);

export const HubTrainConfig = z.strictObject({
  name: z.string().min(1),
  objective: z.literal('hub-es'),
  /** the hub scenario (demand.type hub), relative to the config */
  scenario: z.string().min(1),
  /** --set style overrides of the scenario */
  set: z.array(z.string()).default([]),
  hidden: z.array(z.number().int().min(1).max(64)).max(3).default([8]),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  iterations: z.number().int().min(1).max(1000).default(40),
  /** antithetic pairs per iteration */
  population: z.number().int().min(1).max(256).default(8),
  sigma: z.number().positive().max(10).default(0.1),
  learningRate: z.number().positive().max(10).default(0.05),
  /** inclusive range of training seeds (≥ 101) */
  trainSeeds: seedRange,
  seedsPerIteration: z.number().int().min(1).max(100).default(4),
  /** inclusive range of validation seeds (≥ 101, disjoint from trainSeeds) */
  validationSeeds: seedRange,
  validateEvery: z.number().int().min(1).default(5),
  abandonPenaltyMin: z.number().min(0).default(30),
  /** output folder, relative to the config */
  out: z.string().min(1),
  /** evaluation seeds (inclusive range) for the model card's held-out table */
  heldOutSeeds: seedRange.default([1, 10]),
  /** hand-written policies in the held-out table */
  baselines: z.array(z.string()).default(['fcfs', 'equal-share', 'srpt-energy', 'srpt']),
});
export type HubTrainConfig = z.output<typeof HubTrainConfig>;

export interface HubTrainOutcome {
  dir: string;
  sha256: string;
  /** simulated hub days */
  episodes: number;
  bestValidation: number;
  heldOut: Record<string, number>;
  wallSeconds: number;
  runtime: RuntimeInfo;
}

const abs = (dir: string, p: string) => (isAbsolute(p) ? p : resolve(dir, p));
const range = ([a, b]: readonly [number, number]) => Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);

export function loadHubTrainConfig(file: string): { cfg: HubTrainConfig; dir: string } {
  const cfg = readConfigFile(file, HubTrainConfig);
  for (const k of ['trainSeeds', 'validationSeeds'] as const) {
    if (cfg[k][0] < 101) throw new UserError([`${file}: ${k}: must start at >= 101 (seeds 1–100 are evaluation seeds; got ${cfg[k][0]})`]);
    if (cfg[k][1] < cfg[k][0]) throw new UserError([`${file}: ${k}: must be [first, last] with first <= last (got [${cfg[k].join(', ')}])`]);
  }
  const [a, b] = cfg.trainSeeds;
  const [c, d] = cfg.validationSeeds;
  if (!(b < c || d < a)) throw new UserError([`${file}: validationSeeds: must not overlap trainSeeds (got [${c}, ${d}] and [${a}, ${b}])`]);
  return { cfg, dir: dirname(resolve(file)) };
}

/** One simulated hub day per seed, the scenario and city built once per seed. */
class HubDays {
  private readonly cache = new Map<number, { sc: Scenario; city: City }>();
  episodes = 0;
  constructor(
    private readonly file: string,
    private readonly sets: readonly string[],
    private readonly penaltyS: number,
  ) {}

  private async day(seed: number): Promise<{ sc: Scenario; city: City }> {
    let d = this.cache.get(seed);
    if (!d) {
      const sc = loadScenario(this.file, { overrides: [...this.sets], seed });
      if (sc.demand.type !== 'hub') throw new UserError([`${this.file}: demand.type: the hub trainer needs demand.type hub (got ${sc.demand.type})`]);
      d = { sc, city: await buildCity(sc) };
      this.cache.set(seed, d);
    }
    return d;
  }

  /** Mean time in system (min) with abandonments penalised, of one policy on one seed. */
  async objective(policy: AllocationBatchPolicy, seed: number): Promise<number> {
    const { sc, city } = await this.day(seed);
    const r = new Simulation(sc, city, {}, undefined, { allocation: policy }).run();
    this.episodes++;
    const h = r.summary.hub!;
    return h.arrivals ? (h.meanTimeInSystemSeconds + (this.penaltyS * h.abandoned) / h.arrivals) / 60 : 0;
  }

  /** The plain mean time in system (min) of a policy on a seed (for the model card). */
  async timeInSystem(policy: AllocationBatchPolicy, seed: number): Promise<{ tis: number; abandoned: number }> {
    const { sc, city } = await this.day(seed);
    const r = new Simulation(sc, city, {}, undefined, { allocation: policy }).run();
    return { tis: r.summary.hub!.meanTimeInSystemSeconds / 60, abandoned: r.summary.hub!.abandoned };
  }
}

export async function trainHubAllocation(file: string, log: (l: string) => void, now: () => number, opts: { out?: string } = {}): Promise<HubTrainOutcome> {
  const t0 = now(); // wall-clock ok (model card only)
  const { cfg, dir } = loadHubTrainConfig(file);
  if (opts.out !== undefined) cfg.out = resolve(opts.out);
  const runtime = await initTf('cpu'); // only to write the model files; the MLP runs in JavaScript
  const sizes = [N_HUB_FEATURES, ...cfg.hidden, 1];
  const P = mlpParamCount(sizes);
  const days = new HubDays(abs(dir, cfg.scenario), cfg.set, cfg.abandonPenaltyMin * 60);
  const trainSeeds = range(cfg.trainSeeds);
  const valSeeds = range(cfg.validationSeeds);
  const theta = initParams(sizes, cfg.seed);
  const score = async (th: Float64Array, seeds: readonly number[]) => {
    const pol = new HubAllocationPolicy(mlpFromParams(sizes, th));
    let s = 0;
    for (const seed of seeds) s += await days.objective(pol, seed);
    return s / seeds.length;
  };
  let best = { value: await score(theta, valSeeds), theta: Float64Array.from(theta), iter: 0 };
  log(`hub ES: ${P} parameters, validation objective at init ${best.value.toFixed(3)} min`);
  const curve: { iter: number; train: number; validation?: number }[] = [];
  const adam = new EsAdam(P, cfg.learningRate);
  for (let t = 1; t <= cfg.iterations; t++) {
    const rng = new Rng('es', `${cfg.seed}/es/${t}`);
    const seeds = Array.from({ length: cfg.seedsPerIteration }, (_, k) => trainSeeds[((t - 1) * cfg.seedsPerIteration + k) % trainSeeds.length]!);
    const { eps, fit } = await antitheticSample(theta, rng, cfg.population, cfg.sigma, (c) => score(c, seeds));
    adam.step(theta, t, eps, fit, cfg.sigma);
    const meanFit = fit.reduce((a, c) => a + c, 0) / fit.length;
    const row: { iter: number; train: number; validation?: number } = { iter: t, train: meanFit };
    if (t % cfg.validateEvery === 0 || t === cfg.iterations) {
      const val = await score(theta, valSeeds);
      row.validation = val;
      if (val < best.value) best = { value: val, theta: Float64Array.from(theta), iter: t };
      log(`iteration ${t}: population mean ${meanFit.toFixed(3)} min, validation ${val.toFixed(3)} min (best ${best.value.toFixed(3)} at ${best.iter})`);
    }
    curve.push(row);
  }
  const mlp = mlpFromParams(sizes, best.theta);
  const out = abs(dir, cfg.out);
  const model = hubModelOf(mlp);
  await model.save(fileHandler(out));
  const sha256 = modelSha256(out);
  log(`model: ${out} (sha256 ${sha256})`);
  // held-out table: evaluation seeds, plain time in system
  const heldOut: Record<string, number> = {};
  const heldAb: Record<string, number> = {};
  const evalSeeds = range(cfg.heldOutSeeds);
  for (const name of [...cfg.baselines, 'learned']) {
    let s = 0;
    let a = 0;
    for (const seed of evalSeeds) {
      const pol = name === 'learned' ? new HubAllocationPolicy(mlp) : allocationPolicyEntry(name).create({ incrementKW: 1, energyBound: false });
      const r = await days.timeInSystem(pol, seed);
      s += r.tis;
      a += r.abandoned;
    }
    heldOut[name] = s / evalSeeds.length;
    heldAb[name] = a / evalSeeds.length;
    log(`held-out ${name}: ${heldOut[name]!.toFixed(2)} min, ${heldAb[name]!.toFixed(1)} abandoned`);
  }
  const wallSeconds = now() - t0; // wall-clock ok (model card only)
  writeFileSync(resolve(out, 'model-card.md'), card(cfg, file, { sha256, mlp, best, curve, heldOut, heldAb, episodes: days.episodes, wallSeconds, runtime, evalSeeds }));
  return { dir: out, sha256, episodes: days.episodes, bestValidation: best.value, heldOut, wallSeconds, runtime };
}

function card(
  cfg: HubTrainConfig,
  file: string,
  m: {
    sha256: string;
    mlp: Mlp;
    best: { value: number; iter: number };
    curve: { iter: number; train: number; validation?: number }[];
    heldOut: Record<string, number>;
    heldAb: Record<string, number>;
    episodes: number;
    wallSeconds: number;
    runtime: RuntimeInfo;
    evalSeeds: number[];
  },
): string {
  const f = (x: number) => x.toFixed(3);
  return [
    `# ${cfg.name}: learned DC-hub allocation (evsim \`policy.allocation: learned\`)`,
    '',
    `Generated by \`evsim train allocation ${relative(process.cwd(), resolve(file))}\`; do not edit (rerun to regenerate).`,
    '',
    '## Identity',
    `- sha256 (model.json + "\\n" + weights.bin): \`${m.sha256}\``,
    `- written with TF.js ${m.runtime.tfjsVersion} (${m.runtime.backend}); scored in float64 JavaScript (src/ai/allocationHub.ts)`,
    `- training wall time: ${m.wallSeconds.toFixed(1)} s, ${m.episodes} simulated hub days (varies by machine)`,
    '',
    '## Inputs (one row per plugged session; src/ai/allocationFeatures.ts HUB_FEATURES)',
    HUB_FEATURES.map((x, i) => `${i}. ${x}`).join('\n'),
    '',
    '## Output and use',
    'One linear score per session; weight = exp(max(score − the site\'s highest score, −9)), quantised to 1e-4 of the',
    'largest, then weighted progressive filling under charger limit, vehicle curve at its SoC and site cap',
    '(feasible and work-conserving whatever the scores).',
    '',
    '## Architecture',
    `Dense ${[...cfg.hidden.map((h) => `${h} relu`), '1 linear'].join(' -> ')} (${mlpParamCount(m.mlp.sizes)} parameters); seeded Glorot-uniform init (seed ${cfg.seed}).`,
    '',
    '## Training (evolution strategies over simulated hub days)',
    `- scenario ${cfg.scenario}${cfg.set.length ? ` with ${cfg.set.join(', ')}` : ''} (relative to the config)`,
    `- objective: mean time in system (min) per day, each abandonment counted as its wait + ${cfg.abandonPenaltyMin} min`,
    `- OpenAI-ES, antithetic, centred ranks, Adam (learning rate ${cfg.learningRate}), σ ${cfg.sigma}, ${cfg.population} pairs, ${cfg.iterations} iterations, ${cfg.seedsPerIteration} days per iteration`,
    `- training seeds ${cfg.trainSeeds.join('–')}, validation seeds ${cfg.validationSeeds.join('–')} (every ${cfg.validateEvery} iterations); best validation ${f(m.best.value)} min at iteration ${m.best.iter}`,
    `- curve (iteration: population mean / validation): ${m.curve.map((r) => `${r.iter}: ${r.train.toFixed(2)}${r.validation !== undefined ? ` / ${r.validation.toFixed(2)}` : ''}`).join('; ')}`,
    '',
    `## Held-out evaluation (seeds ${m.evalSeeds[0]}–${m.evalSeeds[m.evalSeeds.length - 1]}, never used in training)`,
    '',
    '| policy | mean time in system, min | abandoned per day |',
    '|---|---|---|',
    ...Object.keys(m.heldOut).map((k) => `| ${k} | ${m.heldOut[k]!.toFixed(2)} | ${m.heldAb[k]!.toFixed(1)} |`),
    '',
    'Paired differences with confidence intervals: `node dist/scripts/eval-hub.js` (docs/ai.md, Learned hub allocation).',
    '',
  ].join('\n');
}
