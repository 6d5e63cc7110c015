/**
 * The DC hub's learned allocation (`policy.allocation: learned` with a model whose metadata says
 * kind "allocation-hub", e.g. models/allocation-dc-hub): a small MLP scores every plugged session
 * from the hub features (src/ai/allocationFeatures.ts HUB_FEATURES); the weights are
 * w_i = exp(max(s_i − max_site s, −9)), quantised per site like the Caltech model's
 * (quantiseWeights, 1e-4 of the largest), and the rates follow by the same weighted progressive
 * filling (src/charging/fill.ts) under the charger limit, the vehicle's curve at its SoC (both in
 * the session's limit) and the site cap (and network) — feasible and work-conserving whatever
 * the model outputs. Scores far apart approach a strict priority order (SRPT-like); close scores
 * share power.
 *
 * Inference: the model is a TF.js LayersModel (model.json + weights.bin, Dense relu layers and a
 * linear output); its weights are read once into float64 arrays and the forward pass runs in plain
 * JavaScript, one site at a time. That is the same arithmetic the trainer (evolution strategies
 * over simulated hub days, src/simulation/trainAllocationHub.ts) optimises, bit-identical on every
 * backend (no float32 kernel differences), and costs well under a microsecond per session — a TF.js
 * predict call costs tens of microseconds however few rows it has, and a hub re-allocates a few
 * sessions at a time. test/ai/allocationHub.test.ts checks the forward pass against TF.js predict.
 */
import type { AllocationBatch, AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { WeightedFillPolicy } from '../charging/fill.js';
import { Rng } from '../core/random.js';
import { HubFeatureScratch, hubSiteFeatures, HUB_FEATURES, N_HUB_FEATURES } from './allocationFeatures.js';
import { tf, tfl } from './runtime.js';

/** model.json userDefinedMetadata.evsim of a hub model. */
export interface HubModelMeta {
  kind: 'allocation-hub';
  features: string[];
  output: string;
}

/** An MLP as plain arrays: layer k maps sizes[k] → sizes[k + 1]; relu between, linear output. */
export interface Mlp {
  sizes: number[];
  /** per layer: weights [in × out] row-major (in-major, as TF.js kernels), then biases [out] */
  w: Float64Array[];
  b: Float64Array[];
}

/** Number of parameters of an MLP with these layer sizes. */
export function mlpParamCount(sizes: readonly number[]): number {
  let n = 0;
  for (let k = 0; k + 1 < sizes.length; k++) n += sizes[k]! * sizes[k + 1]! + sizes[k + 1]!;
  return n;
}

/** The MLP of a flat parameter vector (layer by layer: kernel, then bias). */
export function mlpFromParams(sizes: readonly number[], theta: ArrayLike<number>): Mlp {
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  let p = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    const a = sizes[k]!;
    const c = sizes[k + 1]!;
    w.push(Float64Array.from({ length: a * c }, (_, i) => theta[p + i]!));
    p += a * c;
    b.push(Float64Array.from({ length: c }, (_, i) => theta[p + i]!));
    p += c;
  }
  return { sizes: [...sizes], w, b };
}

/** Seeded Glorot-uniform kernels, zero biases (flat parameter vector). */
export function initParams(sizes: readonly number[], seed: number): Float64Array {
  const rng = new Rng('hub-init', `${seed}/hub-init`);
  const theta = new Float64Array(mlpParamCount(sizes));
  let p = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    const a = sizes[k]!;
    const c = sizes[k + 1]!;
    const lim = Math.sqrt(6 / (a + c));
    for (let i = 0; i < a * c; i++) theta[p++] = rng.uniform(-lim, lim);
    p += c;
  }
  return theta;
}

/** Forward pass of one row (x[x0 .. x0 + in)) → the scalar output. */
export class MlpRunner {
  private h: Float64Array[];
  constructor(readonly mlp: Mlp) {
    this.h = mlp.sizes.map((s) => new Float64Array(s));
  }
  run(x: ArrayLike<number>, x0: number): number {
    const { sizes, w, b } = this.mlp;
    let cur = this.h[0]!;
    for (let i = 0; i < sizes[0]!; i++) cur[i] = x[x0 + i]!;
    for (let k = 0; k + 1 < sizes.length; k++) {
      const a = sizes[k]!;
      const c = sizes[k + 1]!;
      const nxt = this.h[k + 1]!;
      const W = w[k]!;
      const B = b[k]!;
      const last = k + 2 === sizes.length;
      for (let q = 0; q < c; q++) {
        let s = B[q]!;
        for (let i = 0; i < a; i++) s += cur[i]! * W[i * c + q]!;
        nxt[q] = last || s > 0 ? s : 0;
      }
      cur = nxt;
    }
    return cur[0]!;
  }
}

/** Largest score gap kept: weights span e^-9 ≈ 1.2e-4 .. 1 before quantisation. */
export const HUB_SCORE_SPAN = 9;

export class HubAllocationPolicy implements AllocationBatchPolicy {
  readonly name = 'learned';
  /** a weighted fill: the allocator skips sites where nothing binds (allocationBatch.ts) */
  readonly skipsUnconstrained = true;
  private x = new Float64Array(16 * N_HUB_FEATURES);
  private score = new Float64Array(16);
  private readonly scratch = new HubFeatureScratch();
  private readonly runner: MlpRunner;
  private readonly fill: WeightedFillPolicy;
  /** sessions scored (for the per-decision cost) */
  rows = 0;

  constructor(mlp: Mlp) {
    if (mlp.sizes[0] !== N_HUB_FEATURES || mlp.sizes[mlp.sizes.length - 1] !== 1) throw new RangeError(`hub allocation: MLP must map ${N_HUB_FEATURES} features to 1 score (got ${mlp.sizes.join('-')})`);
    this.runner = new MlpRunner(mlp);
    this.fill = new WeightedFillPolicy('learned', (b, j, w) => this.weights(b, j, w));
  }

  private weights(b: AllocationBatch, j: number, w: Float64Array): void {
    const o = b.offset[j]!;
    const n = b.offset[j + 1]! - o;
    const F = N_HUB_FEATURES;
    if (this.x.length < n * F) {
      this.x = new Float64Array(n * F * 2);
      this.score = new Float64Array(n * 2);
    }
    hubSiteFeatures(b, j, this.x, 0, this.scratch);
    let mx = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!(b.remainingKWh[o + i]! > 1e-9) || !(b.maxKW[o + i]! > 0)) {
        this.score[i] = -Infinity;
        continue;
      }
      const s = this.runner.run(this.x, i * F);
      this.score[i] = Number.isFinite(s) ? s : -Infinity;
      if (this.score[i]! > mx) mx = this.score[i]!;
    }
    this.rows += n;
    for (let i = 0; i < n; i++) {
      const d = this.score[i]! - mx;
      w[i] = this.score[i] === -Infinity ? 0 : Math.exp(d > -HUB_SCORE_SPAN ? d : -HUB_SCORE_SPAN);
    }
    // quantise (1e-4 of the largest weight, at least one quantum), as the Caltech model's weights
    for (let i = 0; i < n; i++) w[i] = w[i]! > 0 ? Math.max(1, Math.round(1e4 * w[i]!)) / 1e4 : 0;
  }

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    this.fill.allocateBatch(b, out);
  }
}

// ---- TF.js model <-> MLP ------------------------------------------------------------------------

/** A TF.js model holding the MLP (Dense relu layers hub_dense_<k>, linear hub_out), with metadata. */
export function hubModelOf(mlp: Mlp): tfl.LayersModel {
  const m = tfl.sequential({ name: 'allocation_hub' });
  const L = mlp.sizes.length - 1;
  for (let k = 0; k < L; k++) {
    const last = k === L - 1;
    m.add(
      tfl.layers.dense({
        units: mlp.sizes[k + 1]!,
        activation: last ? 'linear' : 'relu',
        name: last ? 'hub_out' : `hub_dense_${k}`,
        ...(k === 0 ? { inputShape: [mlp.sizes[0]!] } : {}),
      }),
    );
  }
  for (let k = 0; k < L; k++) {
    const layer = m.layers[k]!;
    layer.setWeights([tf.tensor2d(Float32Array.from(mlp.w[k]!), [mlp.sizes[k]!, mlp.sizes[k + 1]!]), tf.tensor1d(Float32Array.from(mlp.b[k]!))]);
  }
  const meta: HubModelMeta = { kind: 'allocation-hub', features: [...HUB_FEATURES], output: 'score; weight = exp(max(score - site max, -9)), then weighted progressive filling' };
  m.setUserDefinedMetadata({ evsim: meta });
  return m;
}

/** The MLP of a loaded hub model (float32 weights widened to float64). */
export function mlpOfModel(model: tfl.LayersModel): Mlp {
  const sizes: number[] = [];
  const w: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (const layer of model.layers) {
    const [k, bias] = layer.getWeights();
    if (!k || !bias || k.shape.length !== 2) throw new Error(`hub model: layer ${layer.name} is not a dense layer`);
    if (sizes.length === 0) sizes.push(k.shape[0]!);
    sizes.push(k.shape[1]!);
    w.push(Float64Array.from(k.dataSync()));
    b.push(Float64Array.from(bias.dataSync()));
  }
  return { sizes, w, b };
}

/** Whether a loaded model is a hub model (metadata kind "allocation-hub" and the hub features). */
export function isHubModel(model: tfl.LayersModel): boolean {
  const meta = (model.getUserDefinedMetadata() as { evsim?: HubModelMeta } | undefined)?.evsim;
  return meta?.kind === 'allocation-hub';
}

/** Check a hub model's metadata and shape; returns a problem or null. */
export function hubModelProblem(model: tfl.LayersModel): string | null {
  const meta = (model.getUserDefinedMetadata() as { evsim?: HubModelMeta } | undefined)?.evsim;
  if (!meta || JSON.stringify(meta.features) !== JSON.stringify(HUB_FEATURES)) return `model.json's userDefinedMetadata.evsim must name the hub features ${HUB_FEATURES.join(', ')}`;
  const inShape = model.inputs[0]?.shape;
  if (inShape?.[1] !== N_HUB_FEATURES) return `the model's input must be [batch, ${N_HUB_FEATURES}] (got ${JSON.stringify(inShape)})`;
  if (model.outputs[0]?.shape?.[1] !== 1) return `the model's output must be [batch, 1]`;
  if (model.layers.some((l, i) => (l.getConfig() as { activation?: string }).activation !== (i === model.layers.length - 1 ? 'linear' : 'relu')))
    return 'the hub model must be Dense relu layers and a linear output';
  return null;
}
