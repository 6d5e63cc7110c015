/**
 * The feature registry of station choice: named per-candidate quantities a learned policy reads
 * from `ChoiceBatch.features` (Float32Array [n × K × nFeatures]). Each feature has a unit and a
 * description and is computed from a read-only candidate view (the batch's exact float64 columns
 * and the read-only station view), so a feature is added by registering it here (or at run time
 * with `registerFeature`) without touching the simulation.
 *
 * Normalisation: none is applied; each value is in the unit stated (chosen so that typical values
 * are of order 1–100). Padding rows (k >= count[i]) are 0. A policy lists the features it wants
 * (`StationChoicePolicy.features`); only those are computed, in that order.
 */
import type { ChoiceBatch } from './choice.js';

/** Read-only view of candidate k of decision i while features are computed. */
export interface CandidateFeatureView {
  readonly now: number;
  readonly ev: number;
  readonly soc: number;
  readonly capacityKWh: number;
  readonly station: number;
  readonly travelTimeS: number;
  readonly lengthM: number;
  readonly socAtArrival: number;
  readonly expectedWaitS: number;
  readonly expectedWaitReservedS: number;
  readonly heading: number;
  readonly expectedChargeS: number;
  readonly ratedKW: number;
  readonly chargers: number;
  readonly freeChargers: number;
  readonly queueLength: number;
  readonly plugged: number;
  /** candidate's rank by travel time (0 = nearest) */
  readonly rank: number;
}

export interface FeatureDef {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  compute(v: CandidateFeatureView): number;
}

const BUILTIN: FeatureDef[] = [
  { name: 'travel_time_min', unit: 'min', description: 'travel time to the station', compute: (v) => v.travelTimeS / 60 },
  { name: 'distance_km', unit: 'km', description: 'road distance to the station', compute: (v) => v.lengthM / 1000 },
  { name: 'expected_wait_min', unit: 'min', description: "station's fluid estimate of the wait for a new arrival", compute: (v) => v.expectedWaitS / 60 },
  {
    name: 'expected_wait_reserved_min',
    unit: 'min',
    description: 'reservation-aware fluid wait estimate at the EV\'s arrival: plugged, queued and heading EVs arriving earlier, less the work done while it drives',
    compute: (v) => v.expectedWaitReservedS / 60,
  },
  { name: 'heading_evs', unit: 'count', description: 'EVs driving to the station after a station choice', compute: (v) => v.heading },
  { name: 'expected_charge_min', unit: 'min', description: 'charging time to the target at the best rated charger', compute: (v) => v.expectedChargeS / 60 },
  {
    name: 'total_time_min',
    unit: 'min',
    description: 'travel + expected wait + expected charging time',
    compute: (v) => (v.travelTimeS + v.expectedWaitS + v.expectedChargeS) / 60,
  },
  { name: 'soc', unit: '1', description: 'state of charge now (0..1)', compute: (v) => v.soc },
  { name: 'soc_at_arrival', unit: '1', description: 'state of charge on arrival at the station (0..1)', compute: (v) => v.socAtArrival },
  { name: 'rated_kw', unit: 'kW', description: 'best charger power this EV can use there', compute: (v) => v.ratedKW },
  { name: 'chargers', unit: 'count', description: 'chargers at the station', compute: (v) => v.chargers },
  { name: 'free_chargers', unit: 'count', description: 'chargers free now', compute: (v) => v.freeChargers },
  { name: 'queue_length', unit: 'count', description: 'EVs queued now', compute: (v) => v.queueLength },
  { name: 'occupancy', unit: '1', description: '(plugged + queued) / chargers', compute: (v) => (v.plugged + v.queueLength) / Math.max(1, v.chargers) },
  { name: 'rank', unit: 'index', description: 'rank among the candidates by travel time (0 = nearest)', compute: (v) => v.rank },
  // appended for the learned station choice (src/ai/choiceModel.ts)
  {
    name: 'hour_of_day',
    unit: 'h',
    description: 'simulated hour of the day (seconds since the run start mod 86400, / 3600; runs start at midnight)',
    compute: (v) => (v.now % 86400) / 3600,
  },
  {
    name: 'load_per_charger',
    unit: '1',
    description: '(plugged + queued + heading EVs) / chargers',
    compute: (v) => (v.plugged + v.queueLength + v.heading) / Math.max(1, v.chargers),
  },
  {
    name: 'total_time_reserved_min',
    unit: 'min',
    description: 'travel + reservation-aware expected wait + expected charging time (the min-total-time-reserved key)',
    compute: (v) => (v.travelTimeS + v.expectedWaitReservedS + v.expectedChargeS) / 60,
  },
];

const registry = new Map<string, FeatureDef>(BUILTIN.map((f) => [f.name, f]));

/** Add a feature (a name not yet registered). */
export function registerFeature(f: FeatureDef): void {
  if (registry.has(f.name)) throw new RangeError(`feature "${f.name}" is already registered`);
  registry.set(f.name, f);
}

export function featureDef(name: string): FeatureDef {
  const f = registry.get(name);
  if (!f) throw new RangeError(`unknown feature "${name}"; registered: ${[...registry.keys()].join(', ')}`);
  return f;
}

/** All registered features, in registration order. */
export function listFeatures(): readonly FeatureDef[] {
  return [...registry.values()];
}

/** A reusable cursor over the rows of a batch (no allocation per row). */
class Cursor implements CandidateFeatureView {
  b!: ChoiceBatch;
  i = 0;
  r = 0;
  get now() { return this.b.now; }
  get ev() { return this.b.ev[this.i]!; }
  get soc() { return this.b.soc[this.i]!; }
  get capacityKWh() { return this.b.capacityKWh[this.i]!; }
  get station() { return this.b.station[this.r]!; }
  get travelTimeS() { return this.b.travelTimeS[this.r]!; }
  get lengthM() { return this.b.lengthM[this.r]!; }
  get socAtArrival() { return this.b.socAtArrival[this.r]!; }
  get expectedWaitS() { return this.b.expectedWaitS[this.r]!; }
  get expectedWaitReservedS() { return this.b.expectedWaitReservedS[this.r]!; }
  get heading() { return this.b.heading[this.r]!; }
  get expectedChargeS() { return this.b.expectedChargeS[this.r]!; }
  get ratedKW() { return this.b.ratedKW[this.r]!; }
  get chargers() { return this.b.chargers[this.r]!; }
  get freeChargers() { return this.b.freeChargers[this.r]!; }
  get queueLength() { return this.b.queueLength[this.r]!; }
  get plugged() { return this.b.plugged[this.r]!; }
  get rank() { return this.r - this.i * this.b.K; }
}

/**
 * Fill out[(i*K + k) * F + f] with feature f of the valid rows of `batch` (padding rows get 0).
 * out.length >= n*K*F where F = defs.length.
 */
export function computeFeatures(batch: ChoiceBatch, defs: readonly FeatureDef[], out: Float32Array): void {
  const F = defs.length;
  if (F === 0) return;
  const { n, K } = batch;
  out.fill(0, 0, n * K * F);
  const cur = new Cursor();
  cur.b = batch;
  for (let i = 0; i < n; i++) {
    cur.i = i;
    for (let k = 0; k < batch.count[i]!; k++) {
      const r = i * K + k;
      cur.r = r;
      for (let f = 0; f < F; f++) out[r * F + f] = defs[f]!.compute(cur);
    }
  }
}
