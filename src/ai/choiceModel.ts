/**
 * The learned station-choice policy (`policy.stationChoice: learned`).
 *
 * A TF.js model (a wait predictor, trained by src/ai/trainChoice.ts; or, metadata kind
 * `station-choice-score`, a score term trained for the system objective by
 * src/simulation/trainChoiceEs.ts) maps the feature vector of one
 * candidate (the features named in the model's metadata, from src/charging/features.ts, in that
 * order, raw units: the input normalisation is folded into the first layer) to the predicted
 * outcome in minutes: the wait from arrival until plug-in, or, for an EV that gives up, its wait
 * plus the abandonment penalty of training. The policy scores every candidate
 *
 *   score = travel_time_min + predicted_outcome_min + chargeWeight × expected_charge_min
 *
 * (float64; the model's float32 output is the only inexact term) and chooses the lowest score.
 * At most ONE forward pass per batch over all n deciding EVs × K candidate rows (padding rows
 * included and ignored); none when no EV of the batch has more than one candidate. The pass runs
 * in plain JS reproducing the backend's float32 arithmetic bit for bit (runtime.ts JsDense, used
 * only when a probe at load matches the kernels exactly), else as one fused TF.js kernel call per
 * Dense layer (DenseKernels), else through the layer chain (forwardRows). The outputs, and so the
 * decisions, are the same on each path.
 *
 * Tie rule (so that ~1e-7 differences between TF.js backends cannot flip a decision silently):
 * every candidate whose score is within EPSILON_MIN (1e-4 min) of the best counts as tied, and
 * the tie goes to the min-total-time-reserved order (exact float64 travel + reservation-aware
 * wait + charge), then to the lower station id. A decision is *fragile* when some candidate's
 * gap to the best score lies within [EPSILON_MIN − 1e-6, EPSILON_MIN + 1e-6]: only such a
 * decision could change under a perturbation of the scores of 1e-6 min or less. Decisions, tied
 * decisions and fragile decisions are counted and reported in summary.json
 * `policy.stationChoiceInfo`, with the model's sha256 and the backend.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { ChoiceBatch, StationChoicePolicy } from '../charging/choice.js';
import { featureDef } from '../charging/features.js';
import { UserError } from '../core/errors.js';
import { chainLayers, DenseKernels, forwardRows, JsDense, initTf, loadModel, modelSha256, runtimeInfo, type RuntimeInfo, type TfBackendName, type tfl } from './runtime.js';

/** scores within this many minutes of the best are tied */
export const EPSILON_MIN = 1e-4;

/**
 * The most candidate rows a batch may have for the plain-JS pass (JsDense); larger batches go to
 * the TF.js kernels, which are SIMD and cost little per row once called (both give the same bits,
 * so the choice changes no output). Measured on the 2-core AMD machine, shipped model (11 → 32 →
 * 1): JS about 0.39 µs per row (one EV, 10 rows: 3.9 µs); the kernels about 6.5 µs per call plus
 * 0.03 µs per row when warm (256 EVs: 0.46 µs per decision), more when a simulation calls them
 * rarely (2 EVs: 6.4–13.9 µs per decision with this limit at 16 rows). The break-even is near 20
 * rows warm; 32 leaves batches of up to three EVs in JS.
 */
export const JS_MAX_ROWS = 32;

/** half-width of the band around EPSILON_MIN in which a decision counts as fragile */
export const FRAGILE_BAND_MIN = 1e-6;

/** What a station-choice model's model.json carries in `userDefinedMetadata.stationChoice`. */
export interface ChoiceModelMeta {
  /** station-choice-wait: the output is a predicted wait (src/ai/trainChoice.ts, regression);
   * station-choice-score: a learned score term in minutes for the system objective
   * (src/simulation/trainChoiceEs.ts, evolution strategies). The policy's rule is the same. */
  kind: 'station-choice-wait' | 'station-choice-score';
  /** feature names, in input order */
  features: string[];
  /** weight of expected_charge_min in the score */
  chargeWeight: number;
  /** minutes added to the wait of an abandoned session in the training targets */
  abandonPenaltyMin: number;
}

export interface ChoiceStats {
  decisions: number;
  batches: number;
  tied: number;
  fragile: number;
}

export class LearnedChoice implements StationChoicePolicy {
  readonly name = 'learned';
  readonly features: readonly string[];
  readonly stats: ChoiceStats = { decisions: 0, batches: 0, tied: 0, fragile: 0 };
  private scores = new Float64Array(16);
  private readonly chain: tfl.layers.Layer[] | null;
  private readonly fast: DenseKernels | null;
  /** the same pass in plain JS, bit-identical to the kernels (runtime.ts JsDense), when the probe matched */
  private readonly js: JsDense | null;

  constructor(
    private readonly model: tfl.LayersModel,
    readonly meta: ChoiceModelMeta,
    readonly sha256: string,
    readonly runtime: RuntimeInfo | null,
  ) {
    this.features = meta.features;
    this.chain = chainLayers(model);
    this.fast = DenseKernels.from(this.chain);
    this.js = JsDense.from(this.fast);
  }

  /** How a batch's forward pass runs: 'js' (JsDense, the backend's arithmetic reproduced in plain
   * JS), 'kernels' (DenseKernels), or 'layers' (forwardRows' layer chain or predict). */
  get inference(): 'js' | 'kernels' | 'layers' {
    return this.js ? 'js' : this.fast ? 'kernels' : 'layers';
  }

  /**
   * Run the forward pass `calls` times on zero inputs (one EV's 10 candidate rows; every tenth
   * call 64 rows) and discard the outputs. A TF.js model's first calls are slow: kernel set-up,
   * then V8 running TF.js's JavaScript unoptimised until it has been called often enough. Measured
   * on the 2-core machine (loaded), one EV per call: the first Monaco day's calls had a median of
   * ~200 µs, a second day in the same process ~50 µs. Monaco's day has only ~130 decisions, so
   * without this its inference cost per decision is mostly the cold start. Called once when the
   * model is loaded (loadChoicePolicy), so that cost is part of loading, as with inference
   * servers' model warm-up (~60 ms). It changes nothing a decision reads: no weights, no
   * statistics, every tensor disposed. With the plain-JS pass (JsDense) the cost being moved is
   * V8's: the pass's loop runs interpreted, then baseline-compiled, until TurboFan optimises it
   * after some hundreds of calls.
   */
  warmUp(calls = 2000): void {
    const F = this.features.length;
    const x = new Float32Array(64 * F);
    // as predictRows calls it: one EV's group of 10 rows, all or 7 of them valid (a call shape
    // the warm-up did not use would make V8 drop the optimised code on the day's first calls)
    const count = new Int32Array(1);
    for (let c = 0; c < calls; c++) {
      const rows = c % 10 === 9 ? 64 : 10;
      count[0] = c % 3 === 2 ? 7 : 10;
      if (this.js && rows <= JS_MAX_ROWS) this.js.run(x, rows, F, 10, count);
      else forwardRows(this.model, this.chain, x, rows, F, this.fast);
    }
  }

  /** Predicted outcome (min) of every row of the batch, one forward pass: JsDense when the batch
   * has at most JS_MAX_ROWS valid rows, all of finite features, else forwardRows (one input tensor made from the batch's
   * feature buffer, one pass, one readback); the same bits either way. */
  predictRows(b: ChoiceBatch): Float32Array {
    if (this.js) {
      let valid = 0;
      for (let i = 0; i < b.n; i++) valid += b.count[i]!;
      const y = valid <= JS_MAX_ROWS ? this.js.run(b.features, b.n * b.K, b.nFeatures, b.K, b.count) : null;
      if (y) return y;
    }
    return forwardRows(this.model, this.chain, b.features, b.n * b.K, b.nFeatures, this.fast);
  }

  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    if (b.n === 0) return;
    if (b.nFeatures !== this.features.length) throw new Error(`learned station choice: batch has ${b.nFeatures} features, model needs ${this.features.length}`);
    this.stats.batches++;
    // a batch in which no EV has a choice (at most one candidate each) needs no model call
    let anyChoice = false;
    for (let i = 0; i < b.n && !anyChoice; i++) anyChoice = b.count[i]! > 1;
    if (!anyChoice) {
      for (let i = 0; i < b.n; i++) {
        out[i] = b.count[i]! > 0 ? 0 : -1;
        if (b.count[i]! > 0) this.stats.decisions++;
      }
      return;
    }
    const pred = this.predictRows(b);
    const K = b.K;
    if (this.scores.length < K) this.scores = new Float64Array(K);
    const sc = this.scores;
    const cw = this.meta.chargeWeight;
    const { travelTimeS: t, expectedWaitReservedS: wr, expectedChargeS: c, station } = b;
    for (let i = 0; i < b.n; i++) {
      const cnt = b.count[i]!;
      const base = i * K;
      if (cnt <= 0) {
        out[i] = -1;
        continue;
      }
      let best = Infinity;
      for (let k = 0; k < cnt; k++) {
        const r = base + k;
        const v = t[r]! / 60 + pred[r]! + (cw * c[r]!) / 60;
        sc[k] = v;
        if (v < best) best = v;
      }
      let pick = -1;
      let pickKey = Infinity;
      let tied = 0;
      let fragile = false;
      for (let k = 0; k < cnt; k++) {
        const gap = sc[k]! - best;
        if (Math.abs(gap - EPSILON_MIN) <= FRAGILE_BAND_MIN) fragile = true;
        if (gap > EPSILON_MIN) continue;
        tied++;
        const r = base + k;
        const key = t[r]! + wr[r]! + c[r]!;
        if (pick < 0 || key < pickKey || (key === pickKey && station[r]! < station[base + pick]!)) {
          pick = k;
          pickKey = key;
        }
      }
      out[i] = pick;
      this.stats.decisions++;
      if (tied > 1) this.stats.tied++;
      if (fragile) this.stats.fragile++;
    }
  }

  summary(): Record<string, number | string> {
    return {
      modelSha256: this.sha256,
      // only for the ES-trained kind, so that summaries with a regression model stay as they were
      ...(this.meta.kind === 'station-choice-score' ? { modelKind: this.meta.kind } : {}),
      backend: this.runtime?.backend ?? 'unknown',
      tfjsVersion: this.runtime?.tfjsVersion ?? 'unknown',
      epsilonMin: EPSILON_MIN,
      decisions: this.stats.decisions,
      batches: this.stats.batches,
      tiedDecisions: this.stats.tied,
      fragileDecisions: this.stats.fragile,
    };
  }
}

/** Read and check the station-choice metadata of a model folder (user errors name the file). */
export function readChoiceMeta(dir: string): ChoiceModelMeta {
  const file = join(dir, 'model.json');
  let json: { userDefinedMetadata?: { stationChoice?: Partial<ChoiceModelMeta> } };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError([`${file}: cannot read the model: ${(e as Error).message.split('\n')[0]}`]);
  }
  const m = json.userDefinedMetadata?.stationChoice;
  if (!m || (m.kind !== 'station-choice-wait' && m.kind !== 'station-choice-score') || !Array.isArray(m.features) || m.features.length === 0 || typeof m.chargeWeight !== 'number') {
    throw new UserError([`${file}: userDefinedMetadata.stationChoice: expected { kind: "station-choice-wait" | "station-choice-score", features: [names], chargeWeight: number } (a model from evsim train station-choice)`]);
  }
  for (const f of m.features) {
    try {
      featureDef(String(f));
    } catch (e) {
      throw new UserError([`${file}: userDefinedMetadata.stationChoice.features: ${(e as Error).message}`]);
    }
  }
  return { kind: m.kind, features: m.features.map(String), chargeWeight: m.chargeWeight, abandonPenaltyMin: Number(m.abandonPenaltyMin ?? 0) };
}

/** Load the learned policy from a model folder (TF.js must be initialised: initTf). */
export async function loadChoicePolicy(dir: string, runtime: RuntimeInfo | null = runtimeInfo()): Promise<LearnedChoice> {
  const meta = readChoiceMeta(dir);
  const model = await loadModel(dir);
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 2 || shape[1] !== meta.features.length) {
    throw new UserError([`${join(dir, 'model.json')}: model input is ${JSON.stringify(shape)}; expected [null, ${meta.features.length}] (one value per listed feature)`]);
  }
  const policy = new LearnedChoice(model, meta, modelSha256(dir), runtime);
  policy.warmUp();
  return policy;
}

/** The part of a scenario loadLearnedChoice reads (structural: src/ai may not import src/scenario). */
export interface LearnedChoiceScenario {
  baseDir: string;
  file: string;
  policy: { stationChoice: string; models: { stationChoice?: string | undefined }; tfBackend: 'auto' | TfBackendName };
}

/**
 * Parts for createSimulation: `{ stationChoice }` with the learned policy when the scenario's
 * policy.stationChoice is "learned" (model folder relative to the scenario file), else `{}`.
 */
export async function loadLearnedChoice(sc: LearnedChoiceScenario): Promise<{ stationChoice?: StationChoicePolicy }> {
  if (sc.policy.stationChoice !== 'learned') return {};
  const rel = sc.policy.models.stationChoice;
  if (!rel) throw new UserError([`${sc.file}: policy.models.stationChoice: is required when policy.stationChoice is "learned"`]);
  const dir = isAbsolute(rel) ? rel : resolve(sc.baseDir, rel);
  const info = await initTf(sc.policy.tfBackend);
  return { stationChoice: await loadChoicePolicy(dir, info) };
}
