/**
 * Behaviour cloning of an allocation schedule (normally the offline optimum, solved by the
 * simulation layer's trainer, src/simulation/trainAllocation.ts): walk the schedule period by
 * period, compute every active session's features (src/ai/allocationFeatures.ts) along that
 * schedule's own trajectory (remaining energy under the schedule), label each row, and fit an MLP.
 *
 * Labels (`label`):
 *   - 'future-rate': the session's mean rate over the rest of its stay under the schedule,
 *     Σ_{t' ≥ t} x_{j,t'} · Δ / (maxKW_j · hours left), clipped to [0, 1] (a smooth target: which
 *     sessions the schedule serves and how fast, not the LP's arbitrary choice among equal vertices);
 *   - 'rate': the schedule's rate in this period / maxKW_j.
 * Only rows with energy left under the schedule are samples; the others still count in no
 * aggregate (as in the simulation, where a finished session is inactive).
 *
 * Reproducibility: seeded Glorot initialisers, explicit layer names, a seeded shuffle of our own
 * (Alea, src/core/random.ts) and fit() with shuffle off; on one backend the weights are
 * bit-identical from run to run.
 */
import { Rng } from '../core/random.js';
import { ALLOCATION_FEATURES, FeatureScratch, N_ALLOCATION_FEATURES, siteFeatures } from './allocationFeatures.js';
import type { AllocationModelMeta } from './allocation.js';
import { tf, tfl } from './runtime.js';

export interface CloneSession {
  arrivalS: number;
  departureS: number;
  energyKWh: number;
  maxKW: number;
  /** phase index (0: 30°, 1: −90°, 2: 150°, −1: none) */
  phase: number;
}

export type CloneLabel = 'future-rate' | 'rate';

export interface Dataset {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

/** Periods [a, e) of a session, as the offline optimum uses them (src/optimum/optimum.ts). */
function periodsOf(s: CloneSession, periodS: number): [number, number] {
  const a = Math.ceil(s.arrivalS / periodS - 1e-9);
  const b = Math.floor(s.departureS / periodS + 1e-9);
  return [a, Math.max(a, b)];
}

/**
 * Samples of one schedule: `schedule` lists (session, period, kW) entries as the optimum returns
 * them. `siteKW` as in the features (the transformer kW).
 */
export function cloneDataset(
  sessions: readonly CloneSession[],
  schedule: { session: ArrayLike<number>; period: ArrayLike<number>; kW: ArrayLike<number> },
  opts: { periodS: number; siteKW: number; startEpochS: number; label: CloneLabel },
): Dataset {
  const P = opts.periodS;
  const h = P / 3600;
  const rate = new Map<number, number>(); // key j * 1e6 + t
  for (let k = 0; k < schedule.kW.length; k++) rate.set(schedule.session[k]! * 1e6 + schedule.period[k]!, schedule.kW[k]!);
  const per = sessions.map((s) => periodsOf(s, P));
  // energy the schedule still delivers from period t on, per session (filled as we go)
  const future = new Float64Array(sessions.length);
  for (let k = 0; k < schedule.kW.length; k++) future[schedule.session[k]!]! += schedule.kW[k]! * h;
  const remaining = Float64Array.from(sessions, (s) => s.energyKWh);
  const order = sessions.map((_, j) => j).filter((j) => per[j]![1] > per[j]![0]).sort((a, b) => per[a]![0] - per[b]![0] || a - b);
  if (order.length === 0) return { x: new Float32Array(0), y: new Float32Array(0), n: 0 };
  const t0 = per[order[0]!]![0];
  const t1 = Math.max(...order.map((j) => per[j]![1]));
  const xs: Float32Array[] = [];
  const ys: number[] = [];
  const scratch = new FeatureScratch();
  let active: number[] = [];
  let next = 0;
  const F = N_ALLOCATION_FEATURES;
  let buf = new Float32Array(64 * F);
  const dl: number[] = [];
  const rem: number[] = [];
  const mk: number[] = [];
  const ph: number[] = [];
  for (let t = t0; t < t1; t++) {
    while (next < order.length && per[order[next]!]![0] <= t) active.push(order[next++]!);
    active = active.filter((j) => per[j]![1] > t);
    if (active.length === 0) continue;
    const n = active.length;
    dl.length = rem.length = mk.length = ph.length = 0;
    for (const j of active) {
      const s = sessions[j]!;
      dl.push(s.departureS);
      rem.push(Math.max(0, remaining[j]!));
      mk.push(s.maxKW);
      ph.push(s.phase);
    }
    if (buf.length < n * F) buf = new Float32Array(n * F * 2);
    siteFeatures({ now: t * P, startEpochS: opts.startEpochS, periodS: P, siteKW: opts.siteKW, n, r0: 0, deadline: dl, remainingKWh: rem, maxKW: mk, phase: ph }, buf, 0, scratch);
    active.forEach((j, i) => {
      const s = sessions[j]!;
      const kw = rate.get(j * 1e6 + t) ?? 0;
      if (rem[i]! > 1e-6 && s.maxKW > 0) {
        let label: number;
        if (opts.label === 'rate') label = kw / s.maxKW;
        else {
          const hoursLeft = (per[j]![1] - t) * h;
          label = hoursLeft > 0 ? future[j]! / (s.maxKW * hoursLeft) : 0;
        }
        xs.push(buf.slice(i * F, (i + 1) * F));
        ys.push(Math.min(1, Math.max(0, label)));
      }
      remaining[j] = remaining[j]! - kw * h;
      future[j] = future[j]! - kw * h;
    });
  }
  const x = new Float32Array(xs.length * F);
  xs.forEach((r, i) => x.set(r, i * F));
  return { x, y: Float32Array.from(ys), n: ys.length };
}

export function concatDatasets(ds: readonly Dataset[]): Dataset {
  const n = ds.reduce((a, d) => a + d.n, 0);
  const x = new Float32Array(n * N_ALLOCATION_FEATURES);
  const y = new Float32Array(n);
  let o = 0;
  for (const d of ds) {
    x.set(d.x, o * N_ALLOCATION_FEATURES);
    y.set(d.y, o);
    o += d.n;
  }
  return { x, y, n };
}

export interface FitOptions {
  hidden: readonly number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export const ALLOCATION_META: AllocationModelMeta = {
  kind: 'allocation',
  features: [...ALLOCATION_FEATURES],
  output: 'sigmoid: the fraction of its maximum power the session should draw; weight = output x maxKW',
};

/** The MLP: dense layers alloc_dense_<i> (relu), then alloc_out (sigmoid), seeded Glorot. */
export function buildAllocationModel(hidden: readonly number[], seed: number): tfl.LayersModel {
  const m = tfl.sequential({ name: 'evsim_allocation' });
  hidden.forEach((units, i) =>
    m.add(
      tfl.layers.dense({
        name: `alloc_dense_${i}`,
        units,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [N_ALLOCATION_FEATURES] } : {}),
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
        biasInitializer: 'zeros',
      }),
    ),
  );
  m.add(
    tfl.layers.dense({
      name: 'alloc_out',
      units: 1,
      activation: 'sigmoid',
      ...(hidden.length === 0 ? { inputShape: [N_ALLOCATION_FEATURES] } : {}),
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + hidden.length }),
      biasInitializer: 'zeros',
    }),
  );
  m.setUserDefinedMetadata({ evsim: ALLOCATION_META });
  return m;
}

/** Fit on `train` (mean squared error, Adam); returns the model and the loss per epoch. */
export async function fitAllocationModel(train: Dataset, o: FitOptions): Promise<{ model: tfl.LayersModel; losses: number[] }> {
  const model = buildAllocationModel(o.hidden, o.seed);
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanSquaredError' });
  const F = N_ALLOCATION_FEATURES;
  const rng = new Rng('train-shuffle', `${o.seed}/train-shuffle`);
  const idx = Int32Array.from({ length: train.n }, (_, i) => i);
  const xb = new Float32Array(train.n * F);
  const yb = new Float32Array(train.n);
  const losses: number[] = [];
  for (let e = 0; e < o.epochs; e++) {
    for (let i = train.n - 1; i > 0; i--) {
      const k = rng.int(i + 1);
      const t = idx[i]!;
      idx[i] = idx[k]!;
      idx[k] = t;
    }
    for (let i = 0; i < train.n; i++) {
      const s = idx[i]!;
      xb.set(train.x.subarray(s * F, (s + 1) * F), i * F);
      yb[i] = train.y[s]!;
    }
    const xt = tf.tensor2d(xb, [train.n, F]);
    const yt = tf.tensor2d(yb, [train.n, 1]);
    const h = await model.fit(xt, yt, { epochs: 1, batchSize: o.batchSize, shuffle: false, verbose: 0 });
    xt.dispose();
    yt.dispose();
    losses.push(Number(h.history.loss?.[0] ?? NaN));
  }
  return { model, losses };
}

/** Mean squared error of the model on a dataset (one predict call). */
export function datasetMse(model: tfl.LayersModel, d: Dataset): number {
  if (d.n === 0) return NaN;
  const p = tf.tidy(() => (model.predict(tf.tensor2d(d.x, [d.n, N_ALLOCATION_FEATURES])) as tf.Tensor).dataSync() as Float32Array);
  let s = 0;
  for (let i = 0; i < d.n; i++) s += (p[i]! - d.y[i]!) ** 2;
  return s / d.n;
}
