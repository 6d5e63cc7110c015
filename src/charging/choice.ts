/**
 * Station-choice policies, batched. A policy decides, in one call, for every EV that decides at
 * one simulated instant: it receives a read-only `ChoiceBatch` (all deciding EVs, their candidate
 * stations and optional features as typed arrays) and writes the chosen candidate per EV into an
 * Int32Array. It never sees the simulation, so learned policies (a model call per batch) and the
 * hand-written ones below share one interface, and every policy can be unit-tested without a city
 * (src/charging/testing.ts).
 *
 * Layout of a batch of n decisions with at most K candidates each (row stride K):
 *   decision i:   ev[i], soc[i], capacityKWh[i], count[i] (valid candidates, 0..K)
 *   candidate k of decision i (k < count[i]) is row r = i*K + k of the per-candidate columns
 *                 station[r], travelTimeS[r], expectedWaitS[r], expectedChargeS[r], ... (exact
 *                 float64 values; padding rows hold station -1 and 0)
 *   features:     Float32Array [n × K × nFeatures], value of feature f of row r at r*nFeatures + f,
 *                 in the order of featureNames (the policy's `features`, see src/charging/features.ts)
 * Candidates are ordered by ascending travel time (ties: lower station id).
 *
 * Shipped policies (they read the exact float64 columns, not the float32 features):
 * - nearest:         minimum travel time.
 * - min-total-time:  minimum travel + expected wait + expected charging time.
 * - min-total-time-reserved: the same with the reservation-aware wait: EVs already heading to a
 *                    station and arriving before this one count as queued, and the chargers work
 *                    off their queue while this EV drives (Station.expectedWaitAtS).
 * - random:          uniform among the candidates: one draw per decision with count > 0, in batch
 *                    order, from the seeded stream "choice".
 * Ties are broken by the lower station id, so choices never depend on iteration order.
 */

/** Read-only batch of station-choice decisions taken at one instant (see the header for layout). */
export interface ChoiceBatch {
  /** simulated seconds */
  readonly now: number;
  /** number of decisions */
  readonly n: number;
  /** row stride: the most candidates a decision may have */
  readonly K: number;
  readonly ev: Int32Array;
  readonly soc: Float64Array;
  readonly capacityKWh: Float64Array;
  readonly count: Int32Array;
  readonly station: Int32Array;
  readonly travelTimeS: Float64Array;
  readonly lengthM: Float64Array;
  readonly socAtArrival: Float64Array;
  readonly expectedWaitS: Float64Array;
  /** reservation-aware wait estimate at this EV's arrival (Station.expectedWaitAtS) */
  readonly expectedWaitReservedS: Float64Array;
  /** EVs heading to the station after a station choice */
  readonly heading: Int32Array;
  readonly expectedChargeS: Float64Array;
  readonly ratedKW: Float64Array;
  readonly chargers: Int32Array;
  readonly freeChargers: Int32Array;
  readonly queueLength: Int32Array;
  readonly plugged: Int32Array;
  readonly featureNames: readonly string[];
  readonly nFeatures: number;
  readonly features: Float32Array;
}

export interface StationChoicePolicy {
  readonly name: string;
  /** names of the features (src/charging/features.ts) this policy reads; none when absent */
  readonly features?: readonly string[];
  /** out[i] = index k in [0, count[i]) of the chosen candidate of decision i, or -1 for none.
   * out.length >= batch.n. Synchronous; may keep internal state. */
  decideBatch(batch: ChoiceBatch, out: Int32Array): void;
  /** optional figures for summary.json `policy.stationChoiceInfo` (read once, at the end of a run) */
  summary?(): Record<string, number | string>;
}

/** argmin over the candidates of decision i of key(row), ties by lower station id. */
function argminRow(b: ChoiceBatch, i: number, key: (r: number) => number): number {
  const base = i * b.K;
  let best = -1;
  let bestKey = Infinity;
  for (let k = 0; k < b.count[i]!; k++) {
    const r = base + k;
    const v = key(r);
    if (v < bestKey || (v === bestKey && best >= 0 && b.station[r]! < b.station[base + best]!)) {
      best = k;
      bestKey = v;
    }
  }
  return best;
}

export class NearestChoice implements StationChoicePolicy {
  readonly name = 'nearest';
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    const t = b.travelTimeS;
    for (let i = 0; i < b.n; i++) out[i] = argminRow(b, i, (r) => t[r]!);
  }
}

export class MinTotalTimeChoice implements StationChoicePolicy {
  readonly name = 'min-total-time';
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    const { travelTimeS: t, expectedWaitS: w, expectedChargeS: c } = b;
    for (let i = 0; i < b.n; i++) out[i] = argminRow(b, i, (r) => t[r]! + w[r]! + c[r]!);
  }
}

export class ReservedMinTotalTimeChoice implements StationChoicePolicy {
  readonly name = 'min-total-time-reserved';
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    const { travelTimeS: t, expectedWaitReservedS: w, expectedChargeS: c } = b;
    for (let i = 0; i < b.n; i++) out[i] = argminRow(b, i, (r) => t[r]! + w[r]! + c[r]!);
  }
}

export class RandomChoice implements StationChoicePolicy {
  readonly name = 'random';
  /** @param uniform a seeded uniform [0, 1) source (the "choice" stream in a simulation) */
  constructor(private readonly uniform: () => number) {}
  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    for (let i = 0; i < b.n; i++) {
      const c = b.count[i]!;
      out[i] = c > 0 ? Math.floor(this.uniform() * c) : -1;
    }
  }
}

/** What a choice-policy factory may use. */
export interface ChoiceContext {
  /** seeded uniform [0, 1) draws (the simulation's "choice" stream) */
  uniform: () => number;
}

export interface ChoicePolicyEntry {
  readonly name: string;
  readonly description: string;
  create(ctx: ChoiceContext): StationChoicePolicy;
}

/** The registry of station-choice policies; scenario `policy.stationChoice` is one of its names. */
export const CHOICE_POLICIES = [
  { name: 'nearest', description: 'minimum travel time to the station', create: () => new NearestChoice() },
  {
    name: 'min-total-time',
    description: 'minimum travel + expected wait + expected charging time',
    create: () => new MinTotalTimeChoice(),
  },
  {
    name: 'min-total-time-reserved',
    description: 'minimum travel + reservation-aware expected wait (counts EVs already heading there) + expected charging time',
    create: () => new ReservedMinTotalTimeChoice(),
  },
  {
    name: 'random',
    description: 'uniform among the candidates (seeded stream "choice")',
    create: (ctx: ChoiceContext) => new RandomChoice(ctx.uniform),
  },
] as const satisfies readonly ChoicePolicyEntry[];

export type StationChoiceName = (typeof CHOICE_POLICIES)[number]['name'];
export const CHOICE_POLICY_NAMES = CHOICE_POLICIES.map((e) => e.name) as [StationChoiceName, ...StationChoiceName[]];

export function choicePolicyEntry(name: string): ChoicePolicyEntry {
  const e = CHOICE_POLICIES.find((x) => x.name === name);
  if (!e) throw new RangeError(`station choice: unknown policy "${name}"; allowed: ${CHOICE_POLICY_NAMES.join(' | ')}`);
  return e;
}

/** The policy registered under `name` (same object kinds as a scenario file's name resolves to). */
export function makeStationChoice(name: string, uniform: () => number): StationChoicePolicy {
  return choicePolicyEntry(name).create({ uniform });
}
