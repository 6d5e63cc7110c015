/**
 * Building a station-choice batch: the candidate set of each deciding EV (the K stations nearest
 * by travel time that it can reach with its energy and that have a charger it can use) and the
 * per-candidate columns and features, from read-only views of the stations and of one row of the
 * travel-time table. The simulation (src/simulation/decisions.ts) and the testing view
 * (src/charging/testing.ts) build batches with this same code.
 */
import { growF64, growI32 } from '../core/typed.js';
import type { ChoiceBatch } from './choice.js';
import { chargeTimeS, type EvModel } from './evModels.js';
import { computeFeatures, featureDef, type FeatureDef } from './features.js';
import type { ChargerKind } from './station.js';

/** What candidate search and the features may read of a station. */
export interface StationReadView {
  readonly chargers: number;
  readonly queueLength: number;
  readonly plugged: { readonly length: number };
  freeChargers(): number;
  expectedWaitS(): number;
  /** reservation-aware estimate for an EV arriving at `arrivalAt` (see Station.expectedWaitAtS) */
  expectedWaitAtS(arrivalAt: number, now: number): number;
  /** EVs driving here after a station choice */
  readonly heading: number;
  bestRatedKW(model: EvModel, soc: number): { kw: number; kind: ChargerKind };
}

/** Travel times (s) and road lengths (m) from the EV's position to every station s at
 * timeS[offset + s], lengthM[offset + s] (Infinity: unreachable). */
export interface TravelRowView {
  readonly timeS: ArrayLike<number>;
  readonly lengthM: ArrayLike<number>;
  readonly offset: number;
}

/** The deciding EV. */
export interface DeciderView {
  readonly ev: number;
  readonly soc: number;
  readonly model: EvModel;
  readonly targetSoc: number;
}

const f64 = growF64;
const i32 = growI32;

/** Reusable builder; `begin` starts a batch, `add` one decision, `finish` returns the batch view. */
export class ChoiceBatchBuilder implements ChoiceBatch {
  now = 0;
  n = 0;
  K = 1;
  ev: Int32Array = new Int32Array(16);
  soc: Float64Array = new Float64Array(16);
  capacityKWh: Float64Array = new Float64Array(16);
  count: Int32Array = new Int32Array(16);
  station: Int32Array = new Int32Array(16);
  travelTimeS: Float64Array = new Float64Array(16);
  lengthM: Float64Array = new Float64Array(16);
  socAtArrival: Float64Array = new Float64Array(16);
  expectedWaitS: Float64Array = new Float64Array(16);
  expectedWaitReservedS: Float64Array = new Float64Array(16);
  heading: Int32Array = new Int32Array(16);
  expectedChargeS: Float64Array = new Float64Array(16);
  ratedKW: Float64Array = new Float64Array(16);
  chargers: Int32Array = new Int32Array(16);
  freeChargers: Int32Array = new Int32Array(16);
  queueLength: Int32Array = new Int32Array(16);
  plugged: Int32Array = new Int32Array(16);
  featureNames: readonly string[] = [];
  nFeatures = 0;
  features: Float32Array = new Float32Array(0);
  private defs: readonly FeatureDef[] = [];
  /** set by `add` when it is given `allowed`: travel time of the nearest reachable station left out */
  excludedNearestS = Infinity;
  private candTime: Float64Array = new Float64Array(0);
  private candIdx: Int32Array = new Int32Array(0);

  /** Start a batch of decisions at `now` with at most K candidates each and these features. */
  begin(now: number, K: number, featureNames: readonly string[] = []): void {
    this.now = now;
    this.n = 0;
    this.K = Math.max(1, K);
    if (featureNames !== this.featureNames) {
      this.featureNames = featureNames;
      this.defs = featureNames.map(featureDef);
      this.nFeatures = featureNames.length;
    }
  }

  private reserve(n: number): void {
    this.ev = i32(this.ev, n);
    this.soc = f64(this.soc, n);
    this.capacityKWh = f64(this.capacityKWh, n);
    this.count = i32(this.count, n);
    const r = n * this.K;
    this.station = i32(this.station, r);
    this.travelTimeS = f64(this.travelTimeS, r);
    this.lengthM = f64(this.lengthM, r);
    this.socAtArrival = f64(this.socAtArrival, r);
    this.expectedWaitS = f64(this.expectedWaitS, r);
    this.expectedWaitReservedS = f64(this.expectedWaitReservedS, r);
    this.heading = i32(this.heading, r);
    this.expectedChargeS = f64(this.expectedChargeS, r);
    this.ratedKW = f64(this.ratedKW, r);
    this.chargers = i32(this.chargers, r);
    this.freeChargers = i32(this.freeChargers, r);
    this.queueLength = i32(this.queueLength, r);
    this.plugged = i32(this.plugged, r);
  }

  /**
   * Add one decision: its candidates are the K stations nearest by travel time (ties: lower id)
   * whose road length the EV can cover with its state of charge, less those where no charger
   * suits it. Returns the decision's index in the batch, or -1 (not added) when it has no
   * candidate.
   *
   * `allowed` (optional, one byte per station): only stations with allowed[s] ≠ 0 are candidates
   * (roaming mode none: the EV's home utility's stations, src/simulation/roaming.ts); the travel
   * time of the nearest reachable station left out is then `excludedNearestS` (Infinity: none).
   */
  add(d: DeciderView, row: TravelRowView, stations: readonly StationReadView[], allowed?: Uint8Array): number {
    const K = this.K;
    const S = stations.length;
    if (this.candTime.length < K + 1) {
      this.candTime = new Float64Array(K + 1);
      this.candIdx = new Int32Array(K + 1);
    }
    const { candTime, candIdx } = this;
    const { model, soc } = d;
    const kmPerSoc = model.capacityKWh / model.consumptionKWhPerKm;
    let m = 0;
    let excluded = Infinity;
    for (let s = 0; s < S; s++) {
      const t = row.timeS[row.offset + s]!;
      if (!(t < Infinity)) continue;
      if (row.lengthM[row.offset + s]! / 1000 > soc * kmPerSoc) continue; // cannot reach it
      if (allowed !== undefined && allowed[s] === 0) {
        if (t < excluded) excluded = t;
        continue;
      }
      if (m === K && t >= candTime[K - 1]!) continue;
      let j = m < K ? m++ : K - 1;
      while (j > 0 && candTime[j - 1]! > t) {
        candTime[j] = candTime[j - 1]!;
        candIdx[j] = candIdx[j - 1]!;
        j--;
      }
      candTime[j] = t;
      candIdx[j] = s;
    }
    this.excludedNearestS = excluded;
    if (m === 0) return -1;
    const i = this.n;
    this.reserve(i + 1);
    const base = i * K;
    let c = 0;
    for (let q = 0; q < m; q++) {
      const s = candIdx[q]!;
      const st = stations[s]!;
      const len = row.lengthM[row.offset + s]!;
      const socThere = Math.max(0, soc - ((len / 1000) * model.consumptionKWhPerKm) / model.capacityKWh);
      const { kw, kind } = st.bestRatedKW(model, socThere);
      if (!(kw > 0)) continue; // no charger here that this EV can use
      const r = base + c++;
      this.station[r] = s;
      this.travelTimeS[r] = candTime[q]!;
      this.lengthM[r] = len;
      this.socAtArrival[r] = socThere;
      this.expectedWaitS[r] = st.expectedWaitS();
      this.expectedWaitReservedS[r] = st.expectedWaitAtS(this.now + candTime[q]!, this.now);
      this.heading[r] = st.heading;
      this.expectedChargeS[r] = chargeTimeS(model, socThere, d.targetSoc, kw, kind);
      this.ratedKW[r] = kw;
      this.chargers[r] = st.chargers;
      this.freeChargers[r] = st.freeChargers();
      this.queueLength[r] = st.queueLength;
      this.plugged[r] = st.plugged.length;
    }
    if (c === 0) return -1;
    for (let r = base + c; r < base + K; r++) {
      this.station[r] = -1;
      this.travelTimeS[r] = this.lengthM[r] = this.socAtArrival[r] = 0;
      this.expectedWaitS[r] = this.expectedChargeS[r] = this.ratedKW[r] = this.expectedWaitReservedS[r] = 0;
      this.chargers[r] = this.freeChargers[r] = this.queueLength[r] = this.plugged[r] = this.heading[r] = 0;
    }
    this.ev[i] = d.ev;
    this.soc[i] = soc;
    this.capacityKWh[i] = model.capacityKWh;
    this.count[i] = c;
    this.n = i + 1;
    return i;
  }

  /** Compute the requested features; the builder is then the read-only batch. */
  finish(): ChoiceBatch {
    const need = this.n * this.K * this.nFeatures;
    if (this.features.length < need) this.features = new Float32Array(Math.max(need, this.features.length * 2));
    computeFeatures(this, this.defs, this.features);
    return this;
  }
}
