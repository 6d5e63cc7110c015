/**
 * The day-ahead load forecaster of the forecast tariff (docs/tariffs.md): a TF.js MLP that, issued
 * at the start of a day (hour index h0, a fixed UTC hour, default 08:00 UTC = local midnight PST),
 * forecasts the grid load of the 24 hours h0 … h0+23 from the 168 hours before h0.
 *
 * Features (F = 177, one row per day; all already normalised, nothing is folded):
 *   0–167   lagged loads mw[h0−168 … h0−1] / μ − 1, μ = their mean (so for target hour h0+i the
 *           lags t−24 … t−168 of that hour are all inside; nothing at or after h0 is used)
 *   168–174 day of week of the target day (one-hot, Monday first, of the UTC date of h0)
 *   175–176 day of year of h0: sin, cos (2π · doy / 365.25)
 * Output: 24 values y_i = mw[h0+i] / μ − 1 (linear); the forecast is μ · (1 + y_i).
 *
 * Architecture: Dense hidden layers (ReLU) → Dense 24 (linear), layer names explicit, Glorot-
 * uniform kernels seeded from the config's seed (seed + layer index), zero biases; loss mean
 * squared error, Adam; our own Fisher–Yates shuffle per epoch from the stream `${seed}/shuffle`
 * (`shuffle: false` in fit), so the same config on the same backend gives the same weights, bit for
 * bit (tested with the tiny CI config).
 *
 * Data split: training days are those whose h0 lies in the config's train years (the first day
 * needs 168 h of history, so training starts 2015-07-09), test days those in the test year (2019:
 * 2019-01-01 … 2019-06-30, the last full day of the file). MAPE is reported for the model and for
 * the two seasonal-naive forecasts (same hour one week earlier, one day earlier) on the test days.
 */
import { readConfigFile } from '../core/configFile.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve, join } from 'node:path';
import { z } from 'zod';
import { mape, readGridLoad, seasonalNaive, type DayForecaster, type GridLoad } from '../charging/gridLoad.js';
import { UserError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { chainLayers, fileHandler, forwardRows, initTf, loadModel, modelSha256, seededMlp, tf, tfl, type RuntimeInfo, type TfBackendName } from './runtime.js';

export const LAGS = 168;
export const HORIZON = 24;
export const F_LOAD = LAGS + 7 + 2;

export const FEATURE_NAMES: readonly string[] = [
  ...Array.from({ length: LAGS }, (_, i) => `load_lag_${LAGS - i}h_over_mean_minus_1`),
  'dow_mon', 'dow_tue', 'dow_wed', 'dow_thu', 'dow_fri', 'dow_sat', 'dow_sun',
  'doy_sin', 'doy_cos',
];

/** What model.json carries in userDefinedMetadata.loadForecast. */
export interface LoadForecastMeta {
  kind: 'load-forecast-day-ahead';
  lags: number;
  horizon: number;
  dayStartUtcHour: number;
  trainYears: [number, number];
  testYear: number;
}

export const TrainLoadForecastConfig = z.strictObject({
  /** model folder to write (relative to the config file) */
  output: z.string().min(1),
  /** the grid load CSV (relative to the config file) */
  data: z.string().min(1),
  backend: z.enum(['wasm', 'cpu', 'tensorflow']).default('wasm'),
  seed: z.number().int().min(0).default(1),
  /** UTC hour at which a day starts and its forecast is issued (8 = local midnight PST) */
  dayStartUtcHour: z.number().int().min(0).max(23).default(8),
  /** inclusive [first, last] calendar years (UTC) of the training days */
  trainYears: z.tuple([z.number().int(), z.number().int()]),
  testYear: z.number().int(),
  /** use only the first n test days (CI configs); absent: all */
  testDays: z.number().int().min(1).optional(),
  /** use only the last n training days (CI configs); absent: all */
  trainDays: z.number().int().min(1).optional(),
  model: z.strictObject({ hidden: z.array(z.number().int().min(1).max(1024)).min(1).default([64]) }).prefault({}),
  train: z
    .strictObject({
      epochs: z.number().int().min(1).max(10000).default(200),
      batchSize: z.number().int().min(1).default(32),
      learningRate: z.number().positive().default(0.001),
    })
    .prefault({}),
});
export type TrainLoadForecastConfig = z.output<typeof TrainLoadForecastConfig>;

/** Hour indices h0 of the day starts (at dayStartUtcHour) whose UTC year is in [y0, y1], with 168 h
 * of history and 24 h of data after. */
export function dayStarts(g: GridLoad, dayStartUtcHour: number, y0: number, y1: number): number[] {
  const out: number[] = [];
  for (let h0 = LAGS; h0 + HORIZON <= g.mw.length; h0++) {
    const d = new Date((g.startEpoch + h0 * 3600) * 1000);
    if (d.getUTCHours() !== dayStartUtcHour) continue;
    const y = d.getUTCFullYear();
    if (y >= y0 && y <= y1) out.push(h0);
  }
  return out;
}

/** The feature row of the day issued at h0 into x[off …], and μ (the mean of the 168 lags). */
export function featureRow(g: GridLoad, h0: number, x: Float32Array, off = 0): number {
  if (h0 < LAGS) throw new RangeError(`load forecast: hour ${h0} has fewer than ${LAGS} hours of history`);
  let mu = 0;
  for (let i = 0; i < LAGS; i++) mu += g.mw[h0 - LAGS + i]!;
  mu /= LAGS;
  for (let i = 0; i < LAGS; i++) x[off + i] = g.mw[h0 - LAGS + i]! / mu - 1;
  const d = new Date((g.startEpoch + h0 * 3600) * 1000);
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  for (let k = 0; k < 7; k++) x[off + LAGS + k] = k === dow ? 1 : 0;
  const doy = (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000;
  x[off + LAGS + 7] = Math.sin((2 * Math.PI * doy) / 365.25);
  x[off + LAGS + 8] = Math.cos((2 * Math.PI * doy) / 365.25);
  return mu;
}

function buildModel(hidden: readonly number[], seed: number): tfl.LayersModel {
  return seededMlp({ name: 'load_forecast', inputs: F_LOAD, hidden, output: { name: 'load_ratio', units: HORIZON }, seed });
}

/** The TF.js forecaster: one forward pass per day. */
export class ModelForecaster implements DayForecaster {
  readonly name = 'model';
  calls = 0;
  private readonly chain: tfl.layers.Layer[] | null;
  private readonly x = new Float32Array(F_LOAD);
  constructor(
    private readonly model: tfl.LayersModel,
    private readonly g: GridLoad,
  ) {
    this.chain = chainLayers(model);
  }
  forecastDay(h0: number): Float64Array {
    const mu = featureRow(this.g, h0, this.x);
    const y = forwardRows(this.model, this.chain, this.x, 1, F_LOAD);
    this.calls++;
    const out = new Float64Array(HORIZON);
    for (let i = 0; i < HORIZON; i++) out[i] = mu * (1 + y[i]!);
    return out;
  }
}

/** Forecast every day of `days` with one batched predict (training and evaluation). */
function predictDays(model: tfl.LayersModel, g: GridLoad, days: readonly number[]): Float64Array[] {
  const x = new Float32Array(days.length * F_LOAD);
  const mus = days.map((h0, r) => featureRow(g, h0, x, r * F_LOAD));
  const y = forwardRows(model, chainLayers(model), x, days.length, F_LOAD);
  return days.map((_, r) => {
    const o = new Float64Array(HORIZON);
    for (let i = 0; i < HORIZON; i++) o[i] = mus[r]! * (1 + y[r * HORIZON + i]!);
    return o;
  });
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const o = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let k = 0;
  for (const p of parts) {
    o.set(p, k);
    k += p.length;
  }
  return o;
}

export interface LoadForecastReport {
  dir: string;
  sha256: string;
  runtime: RuntimeInfo;
  trainDays: number;
  testDays: number;
  firstTrainDay: string;
  lastTrainDay: string;
  firstTestDay: string;
  lastTestDay: string;
  mapeModel: number;
  mapeNaive168: number;
  mapeNaive24: number;
  trainLoss: number;
  wallSeconds: number;
}

export function readTrainLoadForecastConfig(configPath: string): TrainLoadForecastConfig {
  const c = readConfigFile(configPath, TrainLoadForecastConfig);
  if (c.trainYears[0] > c.trainYears[1]) throw new UserError([`${configPath}: trainYears: first year must not be after the last (got ${c.trainYears.join(', ')})`]);
  if (c.testYear <= c.trainYears[1]) throw new UserError([`${configPath}: testYear: must be after the training years (got ${c.testYear}, training ends ${c.trainYears[1]})`]);
  return c;
}

const iso = (g: GridLoad, h: number) => new Date((g.startEpoch + h * 3600) * 1000).toISOString().slice(0, 13) + 'Z';

/**
 * Train the forecaster from a config file and write the model folder (model.json, weights.bin,
 * model-card.md). Same config, same backend → same sha256.
 */
export async function trainLoadForecast(configPath: string, opts: { log?: (s: string) => void; output?: string; wallNow?: () => number } = {}): Promise<LoadForecastReport> {
  const log = opts.log ?? (() => {});
  const now = opts.wallNow ?? (() => performance.now()); // wall-clock ok: the model card's training time only
  const t0 = now();
  const cfg = readTrainLoadForecastConfig(configPath);
  const baseDir = dirname(resolve(configPath));
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const runtime = await initTf(cfg.backend);
  if (runtime.backend !== cfg.backend) throw new UserError([`${configPath}: backend: "${cfg.backend}" could not be initialised (${runtime.fallbacks.join('; ')}); allowed: wasm | cpu`]);
  const g = readGridLoad(rel(cfg.data), cfg.data);
  let train = dayStarts(g, cfg.dayStartUtcHour, cfg.trainYears[0], cfg.trainYears[1]);
  let test = dayStarts(g, cfg.dayStartUtcHour, cfg.testYear, cfg.testYear);
  if (cfg.trainDays !== undefined) train = train.slice(-cfg.trainDays);
  if (cfg.testDays !== undefined) test = test.slice(0, cfg.testDays);
  if (train.length < 7) throw new UserError([`${configPath}: trainYears: only ${train.length} training days in ${cfg.data}; need at least 7`]);
  if (test.length < 1) throw new UserError([`${configPath}: testYear: no test day of ${cfg.testYear} in ${cfg.data}`]);
  log(`${train.length} training days (${iso(g, train[0]!)} … ${iso(g, train[train.length - 1]!)}), ${test.length} test days`);

  const n = train.length;
  const xs = new Float32Array(n * F_LOAD);
  const ys = new Float32Array(n * HORIZON);
  train.forEach((h0, r) => {
    const mu = featureRow(g, h0, xs, r * F_LOAD);
    for (let i = 0; i < HORIZON; i++) ys[r * HORIZON + i] = g.mw[h0 + i]! / mu - 1;
  });
  const model = buildModel(cfg.model.hidden, cfg.seed);
  model.compile({ optimizer: tf.train.adam(cfg.train.learningRate), loss: 'meanSquaredError' });
  const rng = new Rng('shuffle', `${cfg.seed}/shuffle`);
  const perm = Array.from({ length: n }, (_, i) => i);
  const bx = new Float32Array(n * F_LOAD);
  const by = new Float32Array(n * HORIZON);
  let lastLoss = NaN;
  for (let e = 0; e < cfg.train.epochs; e++) {
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    perm.forEach((p, i) => {
      bx.set(xs.subarray(p * F_LOAD, (p + 1) * F_LOAD), i * F_LOAD);
      by.set(ys.subarray(p * HORIZON, (p + 1) * HORIZON), i * HORIZON);
    });
    const tx = tf.tensor2d(bx, [n, F_LOAD]);
    const ty = tf.tensor2d(by, [n, HORIZON]);
    const h = await model.fit(tx, ty, { epochs: 1, batchSize: cfg.train.batchSize, shuffle: false, verbose: 0 });
    tx.dispose();
    ty.dispose();
    lastLoss = Number(h.history.loss?.[0] ?? NaN);
    if ((e + 1) % 50 === 0 || e === cfg.train.epochs - 1) log(`epoch ${e + 1}/${cfg.train.epochs}: train MSE ${lastLoss.toExponential(3)} (ratio²)`);
  }

  const actual = concat(test.map((h0) => g.mw.slice(h0, h0 + HORIZON)));
  const pred = concat(predictDays(model, g, test));
  const n168 = concat(test.map((h0) => seasonalNaive(g, h0, 168)));
  const n24 = concat(test.map((h0) => seasonalNaive(g, h0, 24)));
  const meta: LoadForecastMeta = { kind: 'load-forecast-day-ahead', lags: LAGS, horizon: HORIZON, dayStartUtcHour: cfg.dayStartUtcHour, trainYears: [...cfg.trainYears], testYear: cfg.testYear };
  model.setUserDefinedMetadata({ loadForecast: { ...meta } });
  const dir = opts.output ?? rel(cfg.output);
  mkdirSync(dir, { recursive: true });
  await model.save(fileHandler(dir));
  const sha256 = modelSha256(dir);
  const report: LoadForecastReport = {
    dir,
    sha256,
    runtime,
    trainDays: n,
    testDays: test.length,
    firstTrainDay: iso(g, train[0]!),
    lastTrainDay: iso(g, train[n - 1]!),
    firstTestDay: iso(g, test[0]!),
    lastTestDay: iso(g, test[test.length - 1]!),
    mapeModel: mape(pred, actual),
    mapeNaive168: mape(n168, actual),
    mapeNaive24: mape(n24, actual),
    trainLoss: lastLoss,
    wallSeconds: (now() - t0) / 1000,
  };
  writeFileSync(join(dir, 'model-card.md'), modelCard(cfg, configPath, report));
  log(`test MAPE: model ${report.mapeModel.toFixed(2)} %, seasonal naive (168 h) ${report.mapeNaive168.toFixed(2)} %, (24 h) ${report.mapeNaive24.toFixed(2)} %`);
  return report;
}

function modelCard(cfg: TrainLoadForecastConfig, configPath: string, r: LoadForecastReport): string {
  const p = (x: number) => `${x.toFixed(2)} %`;
  return `# Model card: ${basename(r.dir)} (day-ahead grid load forecaster)

Written by \`trainLoadForecast\` (src/ai/loadForecast.ts) from \`${basename(configPath)}\`; retrain with
\`npm run build && node bin/evsim.js train load-forecast ${configPath}\`.

- **sha256** (model.json + "\\n" + weights.bin): \`${r.sha256}\`
- **runtime**: TF.js ${r.runtime.tfjsVersion}, backend ${r.runtime.backend}${r.runtime.simd ? ' (SIMD)' : ''}, Node ${process.version}
- **wall time** of training: ${r.wallSeconds.toFixed(1)} s (not part of the model files)

## What it predicts

Issued at the start of a day (${String(cfg.dayStartUtcHour).padStart(2, '0')}:00 UTC), the CAISO system load (MW) of each of the next
${HORIZON} hours, from the ${LAGS} hours before the issue time. Output i is y_i = load(h0 + i) / μ − 1, μ = the mean
of the ${LAGS} input hours; the forecast is μ · (1 + y_i).

## Inputs (${F_LOAD}, all normalised in the features; nothing folded)

| # | feature |
|---|---|
| 0–${LAGS - 1} | load(h0 − ${LAGS} … h0 − 1) / μ − 1 (for target hour t = h0 + i: the lags t − 24 … t − 168 are inside) |
| ${LAGS}–${LAGS + 6} | day of week of the issue date (UTC), one-hot, Monday first |
| ${LAGS + 7}, ${LAGS + 8} | day of year: sin, cos (2π · doy / 365.25) |

## Architecture and hyperparameters

Dense ${cfg.model.hidden.join(' → ')} (ReLU) → ${HORIZON} (linear); Glorot-uniform kernels seeded from ${cfg.seed} (+ layer index),
zero biases; loss mean squared error; Adam, learning rate ${cfg.train.learningRate}; ${cfg.train.epochs} epochs, batch ${cfg.train.batchSize},
seeded shuffle per epoch (stream \`${cfg.seed}/shuffle\`). Final training MSE: ${r.trainLoss.toExponential(3)} (in ratio units²).

## Data

\`${cfg.data}\` (CAISO hourly demand, cleaned column; CC BY 4.0, Ruggles & Farnham 2019,
doi:10.5281/zenodo.3517197; data/grid/PROVENANCE.md). Training days: ${r.trainDays} (issue times
${r.firstTrainDay} … ${r.lastTrainDay}; train years ${cfg.trainYears[0]}–${cfg.trainYears[1]}${cfg.trainDays ? `, the last ${cfg.trainDays} days only` : ''}).
Test days: ${r.testDays} (${r.firstTestDay} … ${r.lastTestDay}; test year ${cfg.testYear}${cfg.testDays ? `, the first ${cfg.testDays} days only` : ''}), never seen in training.

## Held-out metrics (test days, ${r.testDays * HORIZON} hourly forecasts, MAPE)

| forecast | MAPE |
|---|---|
| this model | ${p(r.mapeModel)} |
| seasonal naive: same hour one week earlier (t − 168 h) | ${p(r.mapeNaive168)} |
| seasonal naive: same hour one day earlier (t − 24 h) | ${p(r.mapeNaive24)} |
`;
}

// ---- in the simulation ---------------------------------------------------------------------------

export interface LoadForecastParts {
  forecaster: DayForecaster;
  ai: { backend: TfBackendName; tfjsVersion: string; simd: boolean; models: Record<string, { path: string; sha256: string }> };
}

/** Problem with a model's metadata for use as the forecaster, or null. */
export function loadForecastModelProblem(model: tfl.LayersModel, dayStartUtcHour: number): string | null {
  const meta = (model.getUserDefinedMetadata() as { loadForecast?: LoadForecastMeta } | undefined)?.loadForecast;
  if (!meta || meta.kind !== 'load-forecast-day-ahead') return 'is not a load forecaster (model.json has no userDefinedMetadata.loadForecast of kind load-forecast-day-ahead)';
  if (meta.lags !== LAGS || meta.horizon !== HORIZON) return `has lags ${meta.lags} and horizon ${meta.horizon}; this evsim reads lags ${LAGS}, horizon ${HORIZON}`;
  const inShape = model.inputs[0]?.shape;
  const outShape = model.outputs[0]?.shape;
  if (!inShape || inShape[1] !== F_LOAD || !outShape || outShape[1] !== HORIZON) return `has input ${JSON.stringify(inShape)} and output ${JSON.stringify(outShape)}; expected [null, ${F_LOAD}] and [null, ${HORIZON}]`;
  if (meta.dayStartUtcHour !== dayStartUtcHour) return `was trained for days starting at ${meta.dayStartUtcHour}:00 UTC, the scenario's tariff.dayStartUtcHour is ${dayStartUtcHour}`;
  return null;
}

/** Load the forecaster named by a scenario's forecast tariff (tariff.model, relative to the scenario). */
export async function loadForecastParts(
  sc: { file: string; policy: { tfBackend: 'auto' | TfBackendName } },
  modelPath: string,
  grid: GridLoad,
  dayStartUtcHour: number,
): Promise<LoadForecastParts> {
  const dir = isAbsolute(modelPath) ? modelPath : resolve(dirname(sc.file), modelPath);
  const info = await initTf(sc.policy.tfBackend);
  let model: tfl.LayersModel;
  try {
    model = await loadModel(dir);
  } catch (e) {
    throw new UserError([`${sc.file}: tariff.model: ${(e as Error).message.split('\n')[0]}`]);
  }
  const problem = loadForecastModelProblem(model, dayStartUtcHour);
  if (problem) throw new UserError([`${sc.file}: tariff.model: ${dir} ${problem}`]);
  return {
    forecaster: new ModelForecaster(model, grid),
    ai: { backend: info.backend, tfjsVersion: info.tfjsVersion, simd: info.simd, models: { loadForecast: { path: modelPath, sha256: modelSha256(dir) } } },
  };
}
