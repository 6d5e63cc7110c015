/**
 * `evsim train station-choice CONFIG` with `method: es`: the learned station choice trained for
 * the SYSTEM objective by evolution strategies over simulated days, instead of regressing each
 * EV's own wait (src/ai/trainChoice.ts). The regression model is selfish: every EV takes its own
 * lowest travel + predicted wait + charge, and on congested days the waits it causes for others
 * are what loses (docs/evaluation.md, "Room for station choice").
 *
 * Model: the same TF.js Dense chain as the regression model (model.json + weights.bin), started
 * from a regression model's weights (`init: <folder>`; or `init: { features, weights }`, a fresh
 * linear score head, one Dense unit), so the policy `learned` loads it and runs it
 * through the same inference path (src/ai/choiceModel.ts, DenseKernels) with the same rule
 * argmin(travel + output + chargeWeight × charge). Its metadata says `kind: station-choice-score`:
 * the output is a learned score term in minutes, no longer a predicted wait.
 *
 * Method (OpenAI-ES, Salimans et al. 2017, the structure of src/simulation/trainAllocationHub.ts):
 *   - θ: all weights of the chain, the first layer's kernel row of feature f scaled by that
 *     feature's standard deviation s_f (over the candidate rows of the first training day under
 *     the initial model), so that one σ perturbs every input alike: W_raw[f,u] = θ[f,u] / s_f;
 *   - iteration t: `population` noise vectors ε_p ~ N(0, I) from the stream "<seed>/es/<t>";
 *     θ ± σ·ε_p each run the same training days (common random numbers): `perIteration` days of
 *     each episode set, rotating through its seeds in order;
 *   - fitness of a day = mean (travel to station + wait until plug-in or give-up) per session,
 *     in minutes, + `abandonPenaltyMin` × abandoned sessions / sessions (each abandonment costs
 *     that many minutes on top of its wait); lower is better;
 *   - the 2P fitnesses become centred ranks; g = Σ_p (rank(θ+σε_p) − rank(θ−σε_p)) ε_p / (2Pσ);
 *     one Adam step (learningRate) on θ;
 *   - every `validateEvery` iterations (and at the end) θ is scored on all validation days; the
 *     best validated θ (the initial one included) is the model.
 * Seeds ≥ 101 only (the schema), and a scenario on the held-out city is refused. Inference is the
 * TF.js backend of the config (float32); with the same backend and config the weights and sha256
 * are the same on every run (the test checks this on a tiny config).
 */
import { antitheticSample, EsAdam } from './es.js';
import { readConfigFile } from '../core/configFile.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ChoiceBatch, StationChoicePolicy } from '../charging/choice.js';
import { SessionStatus } from '../charging/station.js';
import { UserError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { LearnedChoice, readChoiceMeta, type ChoiceModelMeta } from '../ai/choiceModel.js';
import { FIRST_TRAINING_SEED, HELD_OUT_CITY_FILES, seedHint } from '../ai/trainChoice.js';
import { chainLayers, fileHandler, initTf, loadModel, modelSha256, tf, tfl, type RuntimeInfo } from '../ai/runtime.js';
import { featureDef } from '../charging/features.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { EPISODE_OVERRIDES } from './episodes.js';
import { createSimulation, type SimResult } from './simulation.js';
import { buildCity, type City } from './world.js';

const Episodes = z.strictObject({
  scenario: z.string().min(1),
  /** inclusive seed range [first, last] */
  seeds: z.tuple([z.number().int().min(FIRST_TRAINING_SEED), z.number().int().min(FIRST_TRAINING_SEED)]),
  set: z.array(z.string()).default([]),
  /** training days of this set per ES iteration (rotating through its seeds); validation: unused */
  perIteration: z.number().int().min(1).max(100).default(1),
});

export const EsChoiceConfig = z.strictObject({
  method: z.literal('es'),
  /** model folder to write (relative to the config file) */
  output: z.string().min(1),
  /** where θ starts: a regression model folder (relative to the config file), all its weights
   * trained; or a linear score head over `features` (one Dense unit, no hidden layer) whose
   * initial weights are `weights` (feature → weight, others 0) */
  init: z.union([
    z.string().min(1),
    z.strictObject({
      features: z.array(z.string().min(1)).min(1),
      weights: z.record(z.string(), z.number()).default({}),
      /** weight of expected_charge_min in the policy's score (outside the model) */
      chargeWeight: z.number().min(0).default(1),
    }),
  ]),
  backend: z.enum(['wasm', 'cpu']).default('wasm'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  episodes: z.array(Episodes).min(1),
  validation: z.array(Episodes).min(1),
  abandonPenaltyMin: z.number().min(0).default(30),
  es: z
    .strictObject({
      iterations: z.number().int().min(1).max(1000).default(30),
      /** antithetic pairs per iteration */
      population: z.number().int().min(1).max(256).default(8),
      sigma: z.number().positive().max(10).default(0.05),
      learningRate: z.number().positive().max(10).default(0.01),
      validateEvery: z.number().int().min(1).default(5),
    })
    .prefault({}),
});
export type EsChoiceConfig = z.output<typeof EsChoiceConfig>;

export interface EsChoiceReport {
  dir: string;
  sha256: string;
  runtime: RuntimeInfo;
  parameters: number;
  /** simulated days */
  days: number;
  initValidation: number;
  bestValidation: number;
  bestIteration: number;
  curve: { iter: number; train: number; validation?: number }[];
  wallSeconds: number;
  /** mean wall seconds per simulated day (with the city cached) */
  secondsPerDay: number;
}

const abs = (dir: string, p: string) => (isAbsolute(p) ? p : resolve(dir, p));

/** The `method` a station-choice training config names ("regression" when absent). */
export function choiceTrainingMethod(file: string): string {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError([`${file}: cannot read the training config: ${(e as Error).message.split('\n')[0]}`]);
  }
  const m = (raw as { method?: unknown } | null)?.method;
  if (m === undefined) return 'regression';
  if (m !== 'es' && m !== 'regression') throw new UserError([`${file}: method: ${JSON.stringify(m)}; allowed: regression (the default: a wait predictor) | es (evolution strategies on the system objective)`]);
  return m;
}

export function readEsChoiceConfig(file: string): EsChoiceConfig {
  const cfg = readConfigFile(file, EsChoiceConfig, 'the training config', seedHint);
  const dir = dirname(resolve(file));
  for (const [field, list] of [['episodes', cfg.episodes], ['validation', cfg.validation]] as const) {
    list.forEach((e, i) => {
      if (e.seeds[1] < e.seeds[0]) throw new UserError([`${file}: ${field}[${i}].seeds: must be [first, last] with first <= last (got [${e.seeds.join(', ')}])`]);
      const sc = abs(dir, e.scenario);
      let text: string;
      try {
        text = readFileSync(sc, 'utf8');
      } catch {
        throw new UserError([`${file}: ${field}[${i}].scenario: cannot read ${sc}`]);
      }
      for (const held of HELD_OUT_CITY_FILES) if (e.set.some((x) => x.includes(held))) throw new UserError([`${file}: ${field}[${i}].set: names the held-out city ${held}; it is never trained on`]);
      for (const held of HELD_OUT_CITY_FILES) if (text.includes(held)) throw new UserError([`${file}: ${field}[${i}].scenario: uses the held-out city ${held}; allowed: scenarios of other cities (it is never trained on)`]);
    });
  }
  return cfg;
}

/** Fitness parts of one run: mean travel + wait (min) per session, abandoned, sessions. */
export function systemObjective(r: SimResult, abandonPenaltyMin: number): { travelWaitMin: number; abandoned: number; sessions: number; fitness: number } {
  const horizon = r.summary.simulatedSeconds;
  let tw = 0;
  let n = 0;
  let ab = 0;
  for (const s of r.sessions) {
    if (Number.isNaN(s.arrivedAt)) continue;
    const until = !Number.isNaN(s.pluggedAt) ? s.pluggedAt : s.status === SessionStatus.abandoned ? s.unpluggedAt : horizon;
    tw += (s.travelS > 0 ? s.travelS : 0) + (until - s.arrivedAt);
    if (s.status === SessionStatus.abandoned) ab++;
    n++;
  }
  const travelWaitMin = n ? tw / n / 60 : 0;
  return { travelWaitMin, abandoned: ab, sessions: n, fitness: n ? travelWaitMin + (abandonPenaltyMin * ab) / n : 0 };
}

interface Day {
  label: string;
  sc: Scenario;
  city: City;
}

/** Scenario and city of each (episode set, seed), built once. */
class Days {
  private readonly cache = new Map<string, Day>();
  runs = 0;
  runSeconds = 0;
  constructor(
    private readonly dir: string,
    private readonly now: () => number,
  ) {}
  list(eps: readonly z.output<typeof Episodes>[]): { ep: z.output<typeof Episodes>; seed: number }[] {
    const out: { ep: z.output<typeof Episodes>; seed: number }[] = [];
    for (const ep of eps) for (let s = ep.seeds[0]; s <= ep.seeds[1]; s++) out.push({ ep, seed: s });
    return out;
  }
  async day(ep: z.output<typeof Episodes>, seed: number): Promise<Day> {
    const file = abs(this.dir, ep.scenario);
    const key = `${file}|${ep.set.join('|')}|${seed}`;
    let d = this.cache.get(key);
    if (!d) {
      const sc = loadScenario(file, { overrides: [...EPISODE_OVERRIDES, ...ep.set, `seed=${seed}`] });
      d = { label: `${basename(file)}#${seed}`, sc, city: await buildCity(sc) };
      this.cache.set(key, d);
    }
    return d;
  }
  async run(ep: z.output<typeof Episodes>, seed: number, policy: StationChoicePolicy): Promise<SimResult> {
    const { sc, city } = await this.day(ep, seed);
    const t = this.now(); // wall-clock ok (timing figure of the model card only)
    const r = createSimulation(sc, city, { stationChoice: policy }).run();
    this.runSeconds += this.now() - t; // wall-clock ok
    this.runs++;
    return r;
  }
}

/** Records the per-feature sums of every candidate row of the batches it sees, then defers. */
class FeatureMoments implements StationChoicePolicy {
  readonly name: string;
  readonly features: readonly string[];
  n = 0;
  readonly sum: Float64Array;
  readonly sq: Float64Array;
  constructor(private readonly inner: LearnedChoice) {
    this.name = inner.name;
    this.features = inner.features;
    this.sum = new Float64Array(inner.features.length);
    this.sq = new Float64Array(inner.features.length);
  }
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    const F = b.nFeatures;
    for (let i = 0; i < b.n; i++) {
      for (let k = 0; k < b.count[i]!; k++) {
        const r = i * b.K + k;
        for (let f = 0; f < F; f++) {
          const v = b.features[r * F + f]!;
          this.sum[f]! += v;
          this.sq[f]! += v * v;
        }
        this.n++;
      }
    }
    this.inner.decideBatch(b, out);
  }
  std(): Float64Array {
    const s = new Float64Array(this.sum.length);
    for (let f = 0; f < s.length; f++) {
      const m = this.n ? this.sum[f]! / this.n : 0;
      const v = this.n ? this.sq[f]! / this.n - m * m : 0;
      s[f] = v > 1e-12 ? Math.sqrt(v) : 1;
    }
    return s;
  }
}

/** The chain's weights as one float64 vector (layer order, kernel then bias) and back. */
class ParamMap {
  readonly shapes: number[][] = [];
  readonly size: number;
  /** scale of each parameter: θ = raw × scale (first kernel: the feature's std) */
  readonly scale: Float64Array;
  constructor(
    private readonly chain: tfl.layers.Layer[],
    featureStd: Float64Array,
  ) {
    let n = 0;
    for (const l of chain) for (const w of l.getWeights()) {
      this.shapes.push(w.shape as number[]);
      n += w.size;
    }
    this.size = n;
    this.scale = new Float64Array(n).fill(1);
    const k0 = this.shapes[0]!;
    if (k0.length !== 2 || k0[0] !== featureStd.length) throw new Error('station-choice ES: the first layer must be a Dense kernel over the features');
    for (let f = 0; f < k0[0]!; f++) for (let u = 0; u < k0[1]!; u++) this.scale[f * k0[1]! + u] = featureStd[f]!;
  }
  read(): Float64Array {
    const th = new Float64Array(this.size);
    let o = 0;
    for (const l of this.chain) for (const w of l.getWeights()) {
      const d = w.dataSync();
      for (let i = 0; i < d.length; i++) th[o + i] = d[i]! * this.scale[o + i]!;
      o += d.length;
    }
    return th;
  }
  write(th: Float64Array): void {
    let o = 0;
    let s = 0;
    for (const l of this.chain) {
      const ws = l.getWeights().map(() => {
        const shape = this.shapes[s++]!;
        const n = shape.reduce((a, c) => a * c, 1);
        const d = new Float32Array(n);
        for (let i = 0; i < n; i++) d[i] = th[o + i]! / this.scale[o + i]!;
        o += n;
        return tf.tensor(d, shape, 'float32');
      });
      l.setWeights(ws);
      for (const t of ws) t.dispose();
    }
  }
}

/** The model θ starts from: a regression model folder, or a fresh linear score head. */
async function initialModel(cfg: EsChoiceConfig, dir: string, configPath: string): Promise<{ model: tfl.LayersModel; meta: ChoiceModelMeta; from: string }> {
  if (typeof cfg.init === 'string') {
    const initDir = abs(dir, cfg.init);
    const meta = readChoiceMeta(initDir);
    return { model: await loadModel(initDir), meta, from: `the model \`${basename(initDir)}\` (sha256 \`${modelSha256(initDir)}\`)` };
  }
  const { features, weights, chargeWeight } = cfg.init;
  for (const f of features) {
    try {
      featureDef(f);
    } catch (e) {
      throw new UserError([`${configPath}: init.features: ${(e as Error).message}`]);
    }
  }
  for (const k of Object.keys(weights)) if (!features.includes(k)) throw new UserError([`${configPath}: init.weights.${k}: not one of init.features (${features.join(', ')})`]);
  const m = tfl.sequential({ name: 'station_choice_score' });
  m.add(tfl.layers.dense({ name: 'score_min', units: 1, inputShape: [features.length], activation: 'linear', kernelInitializer: 'zeros', biasInitializer: 'zeros' }));
  const k = tf.tensor2d(Float32Array.from(features.map((f) => weights[f] ?? 0)), [features.length, 1]);
  const b = tf.zeros([1]);
  m.getLayer('score_min').setWeights([k, b]);
  k.dispose();
  b.dispose();
  const init = Object.entries(weights).map(([f, w]) => `${w} × ${f}`).join(' + ') || '0';
  return { model: m, meta: { kind: 'station-choice-score', features: [...features], chargeWeight, abandonPenaltyMin: cfg.abandonPenaltyMin }, from: `a linear score head (Dense 1, linear) initialised to ${init}` };
}

/** Train by ES from the config; writes model.json, weights.bin and model-card.md. */
export async function trainStationChoiceEs(
  configPath: string,
  opts: { log?: (s: string) => void; output?: string; now?: () => number } = {},
): Promise<EsChoiceReport> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => performance.now() / 1000); // wall-clock ok: model card and log only
  const t0 = now(); // wall-clock ok
  const cfg = readEsChoiceConfig(configPath);
  const dir = dirname(resolve(configPath));
  const runtime = await initTf(cfg.backend);
  if (runtime.backend !== cfg.backend) throw new UserError([`${configPath}: backend: "${cfg.backend}" could not be initialised (${runtime.fallbacks.join('; ')}); allowed: wasm | cpu`]);
  const { model, meta: initMeta, from } = await initialModel(cfg, dir, configPath);
  const chain = chainLayers(model);
  if (!chain) throw new UserError([`${configPath}: init: the initial model is not a chain of Dense layers`]);
  const meta: ChoiceModelMeta = { ...initMeta, kind: 'station-choice-score', abandonPenaltyMin: cfg.abandonPenaltyMin };
  const days = new Days(dir, now);
  const trainDays = days.list(cfg.episodes);
  const valDays = days.list(cfg.validation);

  // feature scales: the candidate rows of the first training day under the initial model
  const moments = new FeatureMoments(new LearnedChoice(model, meta, 'es-init', runtime));
  await days.run(trainDays[0]!.ep, trainDays[0]!.seed, moments);
  const pm = new ParamMap(chain, moments.std());
  const P = pm.size;
  const theta = pm.read();

  const score = async (th: Float64Array, list: readonly { ep: z.output<typeof Episodes>; seed: number }[]) => {
    pm.write(th);
    const pol = new LearnedChoice(model, meta, 'es', runtime);
    let s = 0;
    for (const d of list) s += systemObjective(await days.run(d.ep, d.seed, pol), cfg.abandonPenaltyMin).fitness;
    return s / list.length;
  };
  const initValidation = await score(theta, valDays);
  let best = { value: initValidation, theta: Float64Array.from(theta), iter: 0 };
  log(`station-choice ES: ${P} parameters from ${from}, ${trainDays.length} training / ${valDays.length} validation days; validation objective at init ${initValidation.toFixed(3)} min`);
  const { iterations, population, sigma, learningRate, validateEvery } = cfg.es;
  // the days of iteration t: perIteration days of each training set, rotating through its seeds
  const setDays = cfg.episodes.map((ep) => days.list([ep]));
  const daysOf = (t: number) => setDays.flatMap((l, j) => Array.from({ length: cfg.episodes[j]!.perIteration }, (_, k) => l[((t - 1) * cfg.episodes[j]!.perIteration + k) % l.length]!));
  const curve: EsChoiceReport['curve'] = [];
  const adam = new EsAdam(P, learningRate);
  for (let t = 1; t <= iterations; t++) {
    const rng = new Rng('es', `${cfg.seed}/es/${t}`);
    const list = daysOf(t);
    const { eps, fit } = await antitheticSample(theta, rng, population, sigma, (c) => score(c, list));
    adam.step(theta, t, eps, fit, sigma);
    const meanFit = fit.reduce((a, c) => a + c, 0) / fit.length;
    const row: EsChoiceReport['curve'][number] = { iter: t, train: meanFit };
    if (t % validateEvery === 0 || t === iterations) {
      const val = await score(theta, valDays);
      row.validation = val;
      if (val < best.value) best = { value: val, theta: Float64Array.from(theta), iter: t };
      log(`iteration ${t}/${iterations}: population mean ${meanFit.toFixed(3)} min, validation ${val.toFixed(3)} min (best ${best.value.toFixed(3)} at ${best.iter}); ${days.runs} days, ${(now() - t0).toFixed(0)} s`); // wall-clock ok
    }
    curve.push(row);
  }
  pm.write(best.theta);
  model.setUserDefinedMetadata({ stationChoice: { ...meta } });
  const out = opts.output ?? abs(dir, cfg.output);
  mkdirSync(out, { recursive: true });
  await model.save(fileHandler(out));
  const sha256 = modelSha256(out);
  const wallSeconds = now() - t0; // wall-clock ok: model card only
  const report: EsChoiceReport = {
    dir: out,
    sha256,
    runtime,
    parameters: P,
    days: days.runs,
    initValidation,
    bestValidation: best.value,
    bestIteration: best.iter,
    curve,
    wallSeconds,
    secondsPerDay: days.runs ? days.runSeconds / days.runs : 0,
  };
  writeFileSync(join(out, 'model-card.md'), esCard(cfg, configPath, report, from, meta));
  log(`model: ${out} (sha256 ${sha256})`);
  return report;
}

function esCard(cfg: EsChoiceConfig, configPath: string, r: EsChoiceReport, from: string, meta: ChoiceModelMeta): string {
  const ep = (l: readonly z.output<typeof Episodes>[]) => l.map((x) => `- ${x.scenario}, seeds ${x.seeds[0]}–${x.seeds[1]}${x.set.length ? `, --set ${x.set.join(' ')}` : ''}`).join('\n');
  const e = cfg.es;
  return `# Model card: ${basename(r.dir)} (learned station choice, system objective)

Written by \`trainStationChoiceEs\` (src/simulation/trainChoiceEs.ts) from \`${basename(configPath)}\`; retrain with
\`npm run build && node bin/evsim.js train station-choice ${configPath}\`.

- **sha256** (model.json + "\\n" + weights.bin): \`${r.sha256}\`
- **runtime**: TF.js ${r.runtime.tfjsVersion}, backend ${r.runtime.backend}${r.runtime.simd ? ' (SIMD)' : ''}, Node ${process.version}
- **wall time** of training: ${r.wallSeconds.toFixed(1)} s, ${r.days} simulated days, ${r.secondsPerDay.toFixed(3)} s per day (not part of the model files; varies by machine and load)

## What it computes

\`kind: station-choice-score\`: for one candidate station of a deciding EV, a score term in minutes.
The policy \`learned\` picks argmin(travel_time_min + output + ${meta.chargeWeight} × expected_charge_min), the
same rule and inference path as the regression model; ties within 1e-4 min go to the
min-total-time-reserved order, then lower station id. The output is NOT a predicted wait: it is
whatever term made the simulated days' system objective lowest.

## Inputs (raw units)

${meta.features.map((f, i) => `${i}. ${f}`).join('\n')}

## Architecture

Dense chain started from ${from}; ${r.parameters} parameters, all trained.

## Training (evolution strategies over simulated days)

- objective per day: mean (travel to station + wait until plug-in or give-up) per session, min, + ${cfg.abandonPenaltyMin} min × abandoned / sessions
- OpenAI-ES, antithetic pairs, centred ranks, Adam (learning rate ${e.learningRate}), σ ${e.sigma} (first-layer kernel scaled by each feature's std), ${e.population} pairs, ${e.iterations} iterations; per iteration ${cfg.episodes.map((x) => `${x.perIteration} day(s) of ${basename(x.scenario)}`).join(' + ')} (common random numbers), stream \`${cfg.seed}/es/<iteration>\`
- validation every ${e.validateEvery} iterations on all validation days; objective at init ${r.initValidation.toFixed(3)} min, best ${r.bestValidation.toFixed(3)} min at iteration ${r.bestIteration} (this model)
- curve (iteration: population mean / validation): ${r.curve.map((c) => `${c.iter}: ${c.train.toFixed(2)}${c.validation !== undefined ? ` / ${c.validation.toFixed(2)}` : ''}`).join('; ')}

Training days:
${ep(cfg.episodes)}

Validation days:
${ep(cfg.validation)}

Evaluation seeds (1–100) and the held-out city (${HELD_OUT_CITY_FILES.join(', ')}) are never used.
Held-out figures: \`evsim evaluate\` (docs/evaluation.md).

Licence of the training data: the maps are © OpenStreetMap contributors (ODbL 1.0).
`;
}
