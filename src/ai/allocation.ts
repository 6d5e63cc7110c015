/**
 * The learned allocation policy (`policy.allocation: learned`): a TF.js model maps each plugged
 * session's features (src/ai/allocationFeatures.ts) to one positive weight, and the rates follow
 * by weighted progressive filling (src/charging/fill.ts) under the site's cap and network — so
 * every allocation is feasible and work-conserving whatever the model outputs.
 *
 * Per allocation batch: the features of ALL rows of the batch (every site re-allocating at that
 * instant) go to ONE `predict` call. The model's output y_i ∈ (0, 1) (a sigmoid) is read as the
 * fraction of its maximum power session i should draw; its weight is w_i = y_i · maxKW_i.
 *
 * Determinism: backends differ in the last bits of a float32 result (~1e-7 relative). The
 * weights are therefore quantised per site before the fill: q_i = max(1, round(1e4 · w_i / w_max))
 * / 1e4, with w_max the site's largest weight (a session with no energy left gets 0). Two
 * backends give the same allocation unless some w_i / w_max lies within ~1e-7 of a rounding
 * boundary (k + 0.5) · 1e-4; the same model on the same backend is bit-identical.
 *
 * Charging (layer 1) cannot import ai (layer 2), so `learned` is not in the charging registry:
 * `loadLearnedParts` (below) resolves it for the CLI and for programmatic runs, and returns the
 * policy to hand to createSimulation as `parts.allocation`.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AllocationBatch, AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { makeAllocationPolicy } from '../charging/allocation.js';
import { needWeights, WeightedFillPolicy } from '../charging/fill.js';
import { UserError } from '../core/errors.js';
import { ALLOCATION_FEATURES, FeatureScratch, N_ALLOCATION_FEATURES, phaseIndex, siteFeatures } from './allocationFeatures.js';
import { HubAllocationPolicy, hubModelProblem, isHubModel, mlpOfModel } from './allocationHub.js';
import { initTf, loadModel, modelSha256, tf, type TfBackendName, type tfl } from './runtime.js';

/** Quantisation step of the weights, relative to the site's largest weight. */
export const WEIGHT_QUANTUM = 1e-4;

/** Quantise w[0..n) in place (see the module comment). */
export function quantiseWeights(w: Float64Array, n: number): void {
  let mx = 0;
  for (let i = 0; i < n; i++) if (w[i]! > mx) mx = w[i]!;
  if (!(mx > 0) || mx === Infinity) {
    for (let i = 0; i < n; i++) w[i] = 0;
    return;
  }
  const k = 1 / WEIGHT_QUANTUM;
  for (let i = 0; i < n; i++) w[i] = w[i]! > 0 ? Math.max(1, Math.round((k * w[i]!) / mx)) / k : 0;
}

export interface LearnedAllocationOptions {
  /** the scenario start, UTC epoch seconds (hour-of-day features) */
  startEpochS: number;
  /** transformer kW of the site network (site kW when the cap is infinite), or null */
  transformerKW: number | null;
  /** the residual gate (below); default: the model's metadata, else the model alone */
  gate?: AllocationGate;
}

/**
 * Residual gate: the fill weights are the blend
 *     w_i = α · m_i / Σ m + (1 − α) · b_i / Σ b
 * of the model's weights m_i = y_i · maxKW_i and a hand-written base b_i: on a site without a
 * network the rates of llf (greedy by least laxity under the cap; the fill with exactly these
 * weights reproduces llf's allocation), on a network site the need-proportional weights. α = 1 is
 * the model alone, α = 0 the base alone. `evsim train allocation` fits α per site kind on the
 * TRAINING days by simulation (the α of a grid with the most simulated energy over the training
 * caps), so the learned policy is never worse than its base on the training distribution.
 */
export interface AllocationGate {
  /** α on sites without a network (single aggregate cap) */
  cap: number;
  /** α on sites with a network */
  network: number;
}

/** The metadata evsim writes into model.json (userDefinedMetadata.evsim). */
export interface AllocationModelMeta {
  kind: 'allocation';
  features: string[];
  output: string;
  /** the residual gate fitted in training (absent: α = 1, the model alone) */
  gate?: AllocationGate;
}

/** The gate stored in a model's metadata, or the model alone. */
export function modelGate(model: tfl.LayersModel): AllocationGate {
  const g = (model.getUserDefinedMetadata() as { evsim?: AllocationModelMeta } | undefined)?.evsim?.gate;
  return g && Number.isFinite(g.cap) && Number.isFinite(g.network) ? { cap: g.cap, network: g.network } : { cap: 1, network: 1 };
}

export class LearnedAllocationPolicy implements AllocationBatchPolicy {
  readonly name = 'learned';
  /** a weighted fill: where nothing binds every session gets its limit whatever the model says,
   * so the allocator skips the predict for those sites (allocationBatch.ts skipsUnconstrained) */
  readonly skipsUnconstrained = true;
  private x = new Float32Array(16 * N_ALLOCATION_FEATURES);
  private wAll = new Float64Array(16);
  private phase = new Int32Array(16);
  private readonly scratch = new FeatureScratch();
  private readonly fill: WeightedFillPolicy;
  /** predict calls made (one per non-empty batch) */
  predictCalls = 0;

  readonly gate: AllocationGate;
  private readonly llf = makeAllocationPolicy('llf', { energyBound: false });
  private base = new Float64Array(16);
  private readonly view = { now: 0, capKW: 0, periodS: 1, network: null };

  constructor(
    /** the loaded model (read-only use: e.g. the same model under another gate) */
    readonly model: tfl.LayersModel,
    private readonly opts: LearnedAllocationOptions,
  ) {
    this.gate = opts.gate ?? modelGate(model);
    this.fill = new WeightedFillPolicy('learned', (b, j, w) => {
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      const nv = b.network(j);
      const alpha = nv ? this.gate.network : this.gate.cap;
      if (alpha >= 1) for (let i = 0; i < n; i++) w[i] = this.wAll[o + i]!;
      else this.blend(b, j, n, o, alpha, nv !== null, w);
      quantiseWeights(w, n);
    });
  }

  /** The gate's blend of the model's weights with the base (see AllocationGate). */
  private blend(b: AllocationBatch, j: number, n: number, o: number, alpha: number, network: boolean, w: Float64Array): void {
    if (this.base.length < n) this.base = new Float64Array(n * 2);
    const base = this.base;
    if (network) needWeights(b, j, base);
    else {
      const v = this.view;
      v.now = b.now;
      v.capKW = b.capKW[j]!;
      v.periodS = b.periodS[j]!;
      this.llf.allocate(v, b.sessions(j), base);
      for (let i = 0; i < n; i++) if (!(b.remainingKWh[o + i]! > 1e-9)) base[i] = 0;
    }
    let sm = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      sm += this.wAll[o + i]!;
      sb += base[i]!;
    }
    const a = sb > 0 ? alpha : 1;
    for (let i = 0; i < n; i++) w[i] = (sm > 0 ? (a * this.wAll[o + i]!) / sm : 0) + (sb > 0 ? ((1 - a) * base[i]!) / sb : 0);
  }

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    const N = b.nSessions;
    if (N === 0) return;
    const F = N_ALLOCATION_FEATURES;
    if (this.x.length < N * F) this.x = new Float32Array(N * F * 2);
    if (this.wAll.length < N) {
      this.wAll = new Float64Array(N * 2);
      this.phase = new Int32Array(N * 2);
    }
    for (let j = 0; j < b.nSites; j++) {
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      const nv = b.network(j);
      for (let i = 0; i < n; i++) {
        if (nv) {
          const e = nv.evse(i);
          this.phase[o + i] = phaseIndex(nv.net.cos[e]!, nv.net.sin[e]!);
        } else this.phase[o + i] = -1;
      }
      const cap = b.capKW[j]!;
      siteFeatures(
        {
          now: b.now,
          startEpochS: this.opts.startEpochS,
          periodS: b.periodS[j]!,
          siteKW: cap > 0 && cap < Infinity ? cap : (this.opts.transformerKW ?? Infinity),
          n,
          r0: o,
          deadline: b.deadline,
          remainingKWh: b.remainingKWh,
          maxKW: b.maxKW,
          phase: this.phase,
        },
        this.x,
        o,
        this.scratch,
      );
    }
    const y = predictRows(this.model, this.x, N);
    this.predictCalls++;
    for (let r = 0; r < N; r++) this.wAll[r] = b.remainingKWh[r]! > 1e-9 ? y[r]! * b.maxKW[r]! : 0;
    this.fill.allocateBatch(b, out);
  }
}

/** One predict call over the first n rows of x (n × F, row-major); returns n outputs. */
export function predictRows(model: tfl.LayersModel, x: Float32Array, n: number): Float32Array {
  const F = N_ALLOCATION_FEATURES;
  return tf.tidy(() => {
    const t = tf.tensor2d(x.subarray(0, n * F), [n, F]);
    const p = model.predict(t) as tf.Tensor;
    return p.dataSync() as Float32Array;
  }).slice(0, n);
}

// ---- loading for a scenario ------------------------------------------------------------------

/** What loadLearnedParts reads of a scenario (structural: ai cannot import scenario, a peer). */
export interface LearnedScenario {
  file: string;
  start: string;
  site: { capKW: number | null; network: { transformerKW: number } | null };
  policy: { allocation: string; models?: { allocation?: string | undefined } | undefined; tfBackend?: 'auto' | TfBackendName | undefined };
}

/** summary.json's `ai` block. */
export interface AiSummary {
  backend: TfBackendName;
  tfjsVersion: string;
  simd: boolean;
  models: Record<string, { path: string; sha256: string }>;
}

export interface LearnedParts {
  allocation?: LearnedAllocationPolicy | HubAllocationPolicy;
  ai?: AiSummary;
}

/** Absolute path of policy.models.allocation (relative to the scenario file), or null. */
export function allocationModelDir(sc: LearnedScenario): string | null {
  const p = sc.policy.models?.allocation;
  if (p === undefined) return null;
  return isAbsolute(p) ? p : resolve(dirname(sc.file), p);
}

/**
 * Load the learned parts a scenario names (none unless policy.allocation is `learned`). Problems
 * are one-line user errors naming the scenario file and the field.
 */
export async function loadLearnedParts(sc: LearnedScenario): Promise<LearnedParts> {
  if (sc.policy.allocation !== 'learned') return {};
  const where = sc.file;
  const dir = allocationModelDir(sc);
  if (dir === null) throw new UserError([`${where}: policy.models.allocation: is required for policy.allocation "learned" (a model folder with model.json and weights.bin, relative to the scenario)`]);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError([`${where}: policy.models.allocation: ${dir} is not a folder (expected model.json and weights.bin, e.g. models/allocation-caltech)`]);
  for (const f of ['model.json', 'weights.bin'])
    if (!existsSync(resolve(dir, f))) throw new UserError([`${where}: policy.models.allocation: ${dir} has no ${f} (expected model.json and weights.bin from evsim train allocation)`]);
  const info = await initTf(sc.policy.tfBackend ?? 'auto');
  let model: tfl.LayersModel;
  try {
    model = await loadModel(dir);
  } catch (e) {
    const msg = e instanceof UserError ? e.lines[0]! : (e as Error).message.split('\n')[0]!;
    throw new UserError([`${where}: policy.models.allocation: cannot load the model in ${dir}: ${msg}`]);
  }
  const ai = (): AiSummary => ({ backend: info.backend, tfjsVersion: info.tfjsVersion, simd: info.simd, models: { allocation: { path: sc.policy.models!.allocation!, sha256: modelSha256(dir) } } });
  // the DC hub's own model (src/ai/allocationHub.ts): another feature set, scored in JavaScript
  if (isHubModel(model)) {
    const problem = hubModelProblem(model);
    if (problem) throw new UserError([`${where}: policy.models.allocation: ${dir}: ${problem}`]);
    return { allocation: new HubAllocationPolicy(mlpOfModel(model)), ai: ai() };
  }
  checkAllocationModel(model, `${where}: policy.models.allocation: ${dir}`);
  const startEpochS = Date.parse(sc.start) / 1000;
  const policy = new LearnedAllocationPolicy(model, { startEpochS, transformerKW: sc.site.network?.transformerKW ?? null });
  return {
    allocation: policy,
    ai: { backend: info.backend, tfjsVersion: info.tfjsVersion, simd: info.simd, models: { allocation: { path: sc.policy.models!.allocation!, sha256: modelSha256(dir) } } },
  };
}

/** The model must take the feature vector and give one output per row, and say so in its metadata. */
export function checkAllocationModel(model: tfl.LayersModel, where: string): void {
  const inShape = model.inputs[0]?.shape;
  const outShape = model.outputs[0]?.shape;
  if (model.inputs.length !== 1 || inShape?.length !== 2 || inShape[1] !== N_ALLOCATION_FEATURES)
    throw new UserError([`${where}: the model's input must be [batch, ${N_ALLOCATION_FEATURES}] (the allocation features; got ${JSON.stringify(inShape)})`]);
  if (model.outputs.length !== 1 || outShape?.length !== 2 || outShape[1] !== 1)
    throw new UserError([`${where}: the model's output must be [batch, 1] (one weight per session; got ${JSON.stringify(outShape)})`]);
  const meta = (model.getUserDefinedMetadata() as { evsim?: AllocationModelMeta } | undefined)?.evsim;
  if (!meta || meta.kind !== 'allocation' || JSON.stringify(meta.features) !== JSON.stringify(ALLOCATION_FEATURES))
    throw new UserError([`${where}: model.json's userDefinedMetadata.evsim must name kind "allocation" and the features ${ALLOCATION_FEATURES.join(', ')} (retrain with evsim train allocation)`]);
}
