/**
 * Training the learned station-choice policy: a learned wait predictor.
 *
 * 1. Data. Every training episode (scenario file × seed × overrides of the config) is simulated
 *    with an exploring behaviour policy: for each deciding EV, uniform among the `explore.topK`
 *    best candidates by the min-total-time-reserved key (travel + reservation-aware wait + charge),
 *    drawn from a stream seeded `${episodeSeed}/explore` (never Math.random). For each decision the
 *    chosen candidate's feature vector (the config's `features`) is logged with its realised
 *    outcome: minutes from arrival until plug-in, or, when the EV gave up in the queue, its wait
 *    plus `abandonPenaltyMin`. Sessions whose EV had not arrived, or was still queued, at the
 *    horizon are left out.
 * 2. Fit. An MLP (Dense-ReLU hidden layers, seeded Glorot initialisers, explicit layer names)
 *    regresses the outcome on the standardised features (mean squared error, Adam, our own seeded
 *    shuffle per epoch, `shuffle: false` in fit). The standardisation is then folded into the first
 *    layer, so the saved model reads raw feature values.
 * 3. Quality. On the validation episodes (other seeds, never the evaluation seeds 1–100 nor the
 *    held-out city) the mean absolute error of the prediction is compared with predicting the
 *    station's fluid estimate (expected_wait_min), the reservation-aware estimate and the training
 *    mean.
 * The policy then chooses argmin(travel + predicted outcome + chargeWeight × charge) (choiceModel.ts).
 *
 * Simulations come from `runEpisode` (src/simulation/episodes.ts), passed in by the caller: this
 * layer (ai, 2) may not import the simulation (3).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readConfigFile } from '../core/configFile.js';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ChoiceBatch, StationChoicePolicy } from '../charging/choice.js';
import { featureDef } from '../charging/features.js';
import { SessionStatus } from '../charging/station.js';
import { UserError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { LearnedChoice, type ChoiceModelMeta } from './choiceModel.js';
import { fileHandler, initTf, modelSha256, seededMlp, tf, tfl, type RuntimeInfo } from './runtime.js';

/** Evaluation seeds are 1..100: training and validation seeds must be above. */
export const FIRST_TRAINING_SEED = 101;
/** Map files of held-out cities: never trained on. */
export const HELD_OUT_CITY_FILES = ['helsinki-centre-2019.osm.pbf'];

const Episodes = z.strictObject({
  scenario: z.string().min(1),
  /** inclusive seed range [first, last] */
  seeds: z.tuple([z.number().int().min(FIRST_TRAINING_SEED), z.number().int().min(FIRST_TRAINING_SEED)]),
  set: z.array(z.string()).default([]),
});

export const TrainChoiceConfig = z.strictObject({
  /** regression (this file); `es` configs go to src/simulation/trainChoiceEs.ts (the CLI dispatches) */
  method: z.literal('regression').optional(),
  /** model folder to write (relative to the config file) */
  output: z.string().min(1),
  backend: z.enum(['wasm', 'cpu', 'tensorflow']).default('wasm'),
  seed: z.number().int().min(0).default(1),
  episodes: z.array(Episodes).min(1),
  validation: z.array(Episodes).min(1),
  features: z.array(z.string().min(1)).min(1),
  explore: z
    .strictObject({
      topK: z.number().int().min(1).max(100).default(3),
      /** on-policy rounds after the first: behaviour = the model of the previous round, with
       * probability `epsilon` per decision the exploring choice instead; data are pooled */
      rounds: z.number().int().min(1).max(10).default(1),
      epsilon: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
  abandonPenaltyMin: z.number().min(0).default(30),
  chargeWeight: z.number().min(0).default(1),
  model: z.strictObject({ hidden: z.array(z.number().int().min(1).max(1024)).min(1).default([32, 32]) }).prefault({}),
  train: z
    .strictObject({
      epochs: z.number().int().min(1).max(10000).default(40),
      batchSize: z.number().int().min(1).default(128),
      learningRate: z.number().positive().default(0.001),
    })
    .prefault({}),
});
export type TrainChoiceConfig = z.output<typeof TrainChoiceConfig>;

/** What training needs of a finished run: its sessions. */
export interface EpisodeSession {
  readonly ev: number;
  readonly decidedAt: number;
  readonly station: number;
  readonly arrivedAt: number;
  readonly pluggedAt: number;
  readonly unpluggedAt: number;
  readonly status: number;
}
export type RunEpisode = (file: string, seed: number, set: readonly string[], policy: StationChoicePolicy) => Promise<{ sessions: readonly EpisodeSession[] }>;

/** Logged decisions: features [n × F], outcome (min), and the two fluid estimates (min). */
export interface ChoiceData {
  F: number;
  n: number;
  x: Float32Array;
  y: Float64Array;
  fluid: Float64Array;
  reserved: Float64Array;
  abandoned: Uint8Array;
}

/** Behaviour policy: uniform among the topK best by the min-total-time-reserved key; logs rows. */
export class ExploringChoice implements StationChoicePolicy {
  readonly name = 'explore-reserved';
  readonly log: { ev: number; at: number; station: number; x: Float32Array; fluid: number; reserved: number }[] = [];
  private readonly idx: number[] = [];
  private innerOut = new Int32Array(16);
  constructor(
    readonly features: readonly string[],
    private readonly topK: number,
    private readonly rng: Rng,
    /** when given: its choice, except with probability epsilon per decision (one draw each) */
    private readonly inner: StationChoicePolicy | null = null,
    private readonly epsilon = 1,
  ) {}
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    const F = b.nFeatures;
    if (this.inner) {
      if (this.innerOut.length < b.n) this.innerOut = new Int32Array(b.n * 2);
      this.inner.decideBatch(b, this.innerOut);
    }
    for (let i = 0; i < b.n; i++) {
      const base = i * b.K;
      const cnt = b.count[i]!;
      const idx = this.idx;
      idx.length = 0;
      for (let k = 0; k < cnt; k++) idx.push(k);
      const key = (k: number) => b.travelTimeS[base + k]! + b.expectedWaitReservedS[base + k]! + b.expectedChargeS[base + k]!;
      idx.sort((p, q) => key(p) - key(q) || b.station[base + p]! - b.station[base + q]!);
      const m = Math.min(this.topK, cnt);
      const explore = !this.inner || this.rng.next() < this.epsilon;
      const k = explore ? idx[Math.floor(this.rng.next() * m)]! : this.innerOut[i]!;
      if (k < 0) {
        out[i] = -1;
        continue;
      }
      out[i] = k;
      const r = base + k;
      this.log.push({
        ev: b.ev[i]!,
        at: b.now,
        station: b.station[r]!,
        x: b.features.slice(r * F, r * F + F),
        fluid: b.expectedWaitS[r]! / 60,
        reserved: b.expectedWaitReservedS[r]! / 60,
      });
    }
  }
}

function resolveFrom(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Simulate the episodes with the exploring policy and log (features, outcome) per decision. */
export async function collectChoiceData(
  list: readonly z.output<typeof Episodes>[],
  cfg: TrainChoiceConfig,
  baseDir: string,
  runEpisode: RunEpisode,
  /** the behaviour of the on-policy rounds (null: the exploring choice alone) */
  inner: StationChoicePolicy | null = null,
): Promise<ChoiceData> {
  const rows: { x: Float32Array; y: number; fluid: number; reserved: number; ab: boolean }[] = [];
  for (const ep of list) {
    const file = resolveFrom(baseDir, ep.scenario);
    const text = readFileSync(file, 'utf8');
    for (const held of HELD_OUT_CITY_FILES) {
      if (text.includes(held)) throw new UserError([`${file}: scenario: uses the held-out city ${held}; allowed: scenarios of other cities (it is never trained on)`]);
    }
    for (let seed = ep.seeds[0]; seed <= ep.seeds[1]; seed++) {
      const pol = new ExploringChoice(cfg.features, cfg.explore.topK, new Rng('explore', `${seed}/explore`), inner, cfg.explore.epsilon);
      const { sessions } = await runEpisode(file, seed, ep.set, pol);
      const byKey = new Map<string, EpisodeSession>();
      for (const s of sessions) byKey.set(`${s.ev}@${s.decidedAt}`, s);
      for (const d of pol.log) {
        const s = byKey.get(`${d.ev}@${d.at}`);
        if (!s || s.station !== d.station || Number.isNaN(s.arrivedAt)) continue;
        let y: number;
        let ab = false;
        if (!Number.isNaN(s.pluggedAt)) y = (s.pluggedAt - s.arrivedAt) / 60;
        else if (s.status === SessionStatus.abandoned) {
          y = (s.unpluggedAt - s.arrivedAt) / 60 + cfg.abandonPenaltyMin;
          ab = true;
        } else continue; // still queued at the horizon
        rows.push({ x: d.x, y, fluid: d.fluid, reserved: d.reserved, ab });
      }
    }
  }
  const F = cfg.features.length;
  const n = rows.length;
  const data: ChoiceData = { F, n, x: new Float32Array(n * F), y: new Float64Array(n), fluid: new Float64Array(n), reserved: new Float64Array(n), abandoned: new Uint8Array(n) };
  rows.forEach((r, i) => {
    data.x.set(r.x, i * F);
    data.y[i] = r.y;
    data.fluid[i] = r.fluid;
    data.reserved[i] = r.reserved;
    data.abandoned[i] = r.ab ? 1 : 0;
  });
  return data;
}

function buildModel(F: number, hidden: readonly number[], seed: number): tfl.LayersModel {
  return seededMlp({ name: 'station_choice_wait', inputs: F, hidden, output: { name: 'wait_min', units: 1 }, seed });
}

function mae(a: ArrayLike<number>, b: ArrayLike<number>, mask?: (i: number) => boolean): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask(i)) continue;
    s += Math.abs(a[i]! - b[i]!);
    n++;
  }
  return n ? s / n : NaN;
}

export interface TrainChoiceReport {
  dir: string;
  sha256: string;
  runtime: RuntimeInfo;
  trainRows: number;
  validationRows: number;
  /** validation mean absolute errors (min) */
  maeModel: number;
  maeFluid: number;
  maeReserved: number;
  maeMean: number;
  /** the same on the sessions that plugged in (no penalty in the target) */
  maeModelPlugged: number;
  maeFluidPlugged: number;
  trainLoss: number;
  wallSeconds: number;
}

/** The hint on a seeds field's error: which seeds training may use. */
export const seedHint = (path: readonly PropertyKey[]) => (path.includes('seeds') ? ` (training and validation seeds start at ${FIRST_TRAINING_SEED}; 1–100 are evaluation seeds)` : '');

export function readTrainChoiceConfig(configPath: string): TrainChoiceConfig {
  const data = readConfigFile(configPath, TrainChoiceConfig, 'the training config', seedHint);
  for (const f of data.features) {
    try {
      featureDef(f);
    } catch (e) {
      throw new UserError([`${configPath}: features: ${(e as Error).message}`]);
    }
  }
  return data;
}

/** Fit the MLP on the standardised features (fresh seeded initialisation), then fold the
 * standardisation into the first layer so that the model reads raw feature values. */
async function fitModel(train: ChoiceData, cfg: TrainChoiceConfig, log: (s: string) => void): Promise<{ model: tfl.LayersModel; mean: Float64Array; std: Float64Array; lastLoss: number }> {
  const F = train.F;
  // standardisation (float64, fixed order)
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (let i = 0; i < train.n; i++) for (let f = 0; f < F; f++) mean[f]! += train.x[i * F + f]!;
  for (let f = 0; f < F; f++) mean[f]! /= train.n;
  for (let i = 0; i < train.n; i++) for (let f = 0; f < F; f++) std[f]! += (train.x[i * F + f]! - mean[f]!) ** 2;
  for (let f = 0; f < F; f++) std[f] = Math.sqrt(std[f]! / train.n) || 1;
  const xs = new Float32Array(train.n * F);
  for (let i = 0; i < train.n; i++) for (let f = 0; f < F; f++) xs[i * F + f] = (train.x[i * F + f]! - mean[f]!) / std[f]!;

  const model = buildModel(F, cfg.model.hidden, cfg.seed);
  model.compile({ optimizer: tf.train.adam(cfg.train.learningRate), loss: 'meanSquaredError' });
  const rng = new Rng('shuffle', `${cfg.seed}/shuffle`);
  const perm = Array.from({ length: train.n }, (_, i) => i);
  const bx = new Float32Array(train.n * F);
  const by = new Float32Array(train.n);
  let lastLoss = NaN;
  for (let e = 0; e < cfg.train.epochs; e++) {
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    perm.forEach((p, i) => {
      bx.set(xs.subarray(p * F, p * F + F), i * F);
      by[i] = train.y[p]!;
    });
    const tx = tf.tensor2d(bx, [train.n, F]);
    const ty = tf.tensor2d(by, [train.n, 1]);
    const h = await model.fit(tx, ty, { epochs: 1, batchSize: cfg.train.batchSize, shuffle: false, verbose: 0 });
    tx.dispose();
    ty.dispose();
    lastLoss = Number(h.history.loss?.[0] ?? NaN);
    if ((e + 1) % 10 === 0 || e === cfg.train.epochs - 1) log(`epoch ${e + 1}/${cfg.train.epochs}: train MSE ${lastLoss.toFixed(2)} min²`);
  }
  // fold the standardisation into the first layer: W' = W / std, b' = b − Σ W mean / std
  const first = model.getLayer('hidden_1');
  const [W, b] = first.getWeights() as [tf.Tensor, tf.Tensor];
  const w = W.dataSync();
  const bias = Float32Array.from(b.dataSync());
  const units = cfg.model.hidden[0]!;
  const w2 = new Float32Array(w.length);
  for (let f = 0; f < F; f++) {
    for (let u = 0; u < units; u++) {
      const v = w[f * units + u]! / std[f]!;
      w2[f * units + u] = v;
      bias[u] = bias[u]! - v * mean[f]!;
    }
  }
  first.setWeights([tf.tensor2d(w2, [F, units]), tf.tensor1d(bias)]);
  return { model, mean, std, lastLoss };
}

function concatData(a: ChoiceData, b: ChoiceData): ChoiceData {
  const cat64 = (x: Float64Array, y: Float64Array) => {
    const o = new Float64Array(x.length + y.length);
    o.set(x);
    o.set(y, x.length);
    return o;
  };
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const ab = new Uint8Array(a.n + b.n);
  ab.set(a.abandoned);
  ab.set(b.abandoned, a.n);
  return { F: a.F, n: a.n + b.n, x, y: cat64(a.y, b.y), fluid: cat64(a.fluid, b.fluid), reserved: cat64(a.reserved, b.reserved), abandoned: ab };
}

/**
 * Train the station-choice wait predictor from a config file and write the model folder
 * (model.json, weights.bin, model-card.md). Same config, same backend → same sha256.
 */
export async function trainStationChoice(
  configPath: string,
  runEpisode: RunEpisode,
  opts: { log?: (s: string) => void; /** model folder instead of the config's output */ output?: string } = {},
): Promise<TrainChoiceReport> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now(); // wall-clock ok: the model card's training time only
  const cfg = readTrainChoiceConfig(configPath);
  const baseDir = dirname(resolve(configPath));
  const runtime = await initTf(cfg.backend);
  if (runtime.backend !== cfg.backend) throw new UserError([`${configPath}: backend: "${cfg.backend}" could not be initialised (${runtime.fallbacks.join('; ')}); allowed: wasm | cpu`]);
  log(`collecting training data (${cfg.episodes.length} episode sets)`);
  let train = await collectChoiceData(cfg.episodes, cfg, baseDir, runEpisode);
  log(`${train.n} training rows; collecting validation data`);
  const val = await collectChoiceData(cfg.validation, cfg, baseDir, runEpisode);
  if (train.n < 10) throw new UserError([`${configPath}: episodes: only ${train.n} logged decisions; need at least 10 (more seeds or a larger fleet)`]);
  const meta: ChoiceModelMeta = { kind: 'station-choice-wait', features: [...cfg.features], chargeWeight: cfg.chargeWeight, abandonPenaltyMin: cfg.abandonPenaltyMin };
  let fit = await fitModel(train, cfg, log);
  for (let round = 2; round <= cfg.explore.rounds; round++) {
    log(`round ${round}: collecting with the round-${round - 1} model (epsilon ${cfg.explore.epsilon})`);
    const more = await collectChoiceData(cfg.episodes, cfg, baseDir, runEpisode, new LearnedChoice(fit.model, meta, `round-${round - 1}`, runtime));
    train = concatData(train, more);
    log(`${train.n} training rows pooled`);
    fit = await fitModel(train, cfg, log);
  }
  const { model, mean, std, lastLoss } = fit;
  const F = train.F;

  // validation
  const vx = tf.tensor2d(val.x, [val.n, F]);
  const vy = model.predict(vx) as tf.Tensor;
  const pred = Float64Array.from(vy.dataSync());
  vx.dispose();
  vy.dispose();
  let ym = 0;
  for (let i = 0; i < train.n; i++) ym += train.y[i]!;
  ym /= train.n;
  const plugged = (i: number) => val.abandoned[i] === 0;
  const report: Omit<TrainChoiceReport, 'dir' | 'sha256' | 'wallSeconds'> = {
    runtime,
    trainRows: train.n,
    validationRows: val.n,
    maeModel: mae(pred, val.y),
    maeFluid: mae(val.fluid, val.y),
    maeReserved: mae(val.reserved, val.y),
    maeMean: mae(new Float64Array(val.n).fill(ym), val.y),
    maeModelPlugged: mae(pred, val.y, plugged),
    maeFluidPlugged: mae(val.fluid, val.y, plugged),
    trainLoss: lastLoss,
  };

  model.setUserDefinedMetadata({ stationChoice: { ...meta } });
  const dir = opts.output ?? resolveFrom(baseDir, cfg.output);
  mkdirSync(dir, { recursive: true });
  await model.save(fileHandler(dir));
  const sha256 = modelSha256(dir);
  const wallSeconds = (performance.now() - t0) / 1000; // wall-clock ok: model card only
  const full: TrainChoiceReport = { ...report, dir, sha256, wallSeconds };
  writeFileSync(join(dir, 'model-card.md'), modelCard(cfg, configPath, full, mean, std));
  return full;
}

function modelCard(cfg: TrainChoiceConfig, configPath: string, r: TrainChoiceReport, mean: Float64Array, std: Float64Array): string {
  const f2 = (x: number) => x.toFixed(2);
  const ep = (l: readonly z.output<typeof Episodes>[]) => l.map((e) => `- ${e.scenario}, seeds ${e.seeds[0]}–${e.seeds[1]}${e.set.length ? `, --set ${e.set.join(' ')}` : ''}`).join('\n');
  return `# Model card: ${basename(r.dir)} (learned station choice)

Written by \`trainStationChoice\` (src/ai/trainChoice.ts) from \`${basename(configPath)}\`; retrain with
\`npm run build && node dist/scripts/train-choice.js ${configPath}\`.

- **sha256** (model.json + "\\n" + weights.bin): \`${r.sha256}\`
- **runtime**: TF.js ${r.runtime.tfjsVersion}, backend ${r.runtime.backend}${r.runtime.simd ? ' (SIMD)' : ''}, Node ${process.version}
- **wall time** of training (data collection included): ${r.wallSeconds.toFixed(1)} s (not part of the model files)

## What it predicts

For one candidate station of a deciding EV, the outcome in minutes: the wait from arrival until
plug-in, or, for an EV that gave up in the queue, its wait + ${cfg.abandonPenaltyMin} min (abandonment
penalty). The policy \`learned\` picks argmin(travel_time_min + prediction + ${cfg.chargeWeight} × expected_charge_min);
scores within 1e-4 min of the best are tied and go to the min-total-time-reserved order, then lower station id.

## Inputs (raw units; the standardisation is folded into the first layer)

| # | feature | training mean | training std |
|---|---|---|---|
${cfg.features.map((f, i) => `| ${i} | ${f} (${featureDef(f).unit}) | ${mean[i]!.toFixed(3)} | ${std[i]!.toFixed(3)} |`).join('\n')}

## Architecture and hyperparameters

Dense ${cfg.model.hidden.join(' → ')} (ReLU) → 1 (linear); Glorot-uniform initialisers seeded from ${cfg.seed};
loss mean squared error; Adam, learning rate ${cfg.train.learningRate}; ${cfg.train.epochs} epochs, batch ${cfg.train.batchSize},
seeded shuffle per epoch (stream \`${cfg.seed}/shuffle\`). Final training MSE: ${f2(r.trainLoss)} min².

## Data and method

Behaviour policy: uniform among the ${cfg.explore.topK} best candidates by the min-total-time-reserved key,
stream \`<episode seed>/explore\`${cfg.explore.rounds > 1 ? `; then ${cfg.explore.rounds - 1} on-policy round(s): the previous round's model decides, the exploring choice with probability ${cfg.explore.epsilon} per decision, and the data are pooled` : ''}. One row per decision (the chosen candidate). Sessions still
queued or driving at the horizon are left out. Evaluation seeds (1–100) and the held-out city
(${HELD_OUT_CITY_FILES.join(', ')}) are never used.

Training episodes (${r.trainRows} rows):
${ep(cfg.episodes)}

Validation episodes (${r.validationRows} rows):
${ep(cfg.validation)}

## Held-out metrics (validation episodes, mean absolute error, minutes)

| predictor | all rows | rows that plugged in |
|---|---|---|
| this model | ${f2(r.maeModel)} | ${f2(r.maeModelPlugged)} |
| station's fluid estimate (expected_wait_min) | ${f2(r.maeFluid)} | ${f2(r.maeFluidPlugged)} |
| reservation-aware estimate | ${f2(r.maeReserved)} | – |
| training mean | ${f2(r.maeMean)} | – |

Licence of the training data: the maps are © OpenStreetMap contributors (ODbL 1.0).
`;
}
