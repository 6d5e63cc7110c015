/**
 * The testing view (after ACN-Sim's TestingInterface): build the inputs of station-choice and
 * allocation policies from plain objects and call any policy without a simulator. Candidate sets
 * and features are built by the same code the simulation uses (choiceBatch.ts, features.ts), so a
 * policy that passes here sees exactly the same kind of batch in a run.
 *
 *   const picks = decideStations(new NearestChoice(), {
 *     stations: [{ chargerKW: [22, 22] }, { chargerKW: [50], chargerKind: ['DC'], queue: 2 }],
 *     evs: [{ soc: 0.2, travelTimeS: [600, 300] }],
 *   }); // → [1]: station ids (or -1) per EV, in input order
 *
 *   const rates = allocateSites(policy, { sites: [{ capKW: 30, sessions: [{ maxKW: 22, ... }] }] });
 */
import type { AllocationBatch, AllocationBatchPolicy } from './allocationBatch.js';
import type { PluggedSessionView, SiteNetworkView } from './allocation.js';
import type { SiteConstraintModel, SiteNetwork } from './siteNetwork.js';
import type { ChoiceBatch, StationChoicePolicy } from './choice.js';
import { ChoiceBatchBuilder, type StationReadView } from './choiceBatch.js';
import { idealModel, type EvModel } from './evModels.js';
import { chargerLimitKW, type ChargerKind } from './station.js';

export interface PlainStation {
  /** rating of each charger (kW) */
  chargerKW: number[];
  /** kind of each charger (default all AC) */
  chargerKind?: ChargerKind[];
  /** EVs queued now (default 0) */
  queue?: number;
  /** EVs plugged now (default 0; at most the number of chargers) */
  plugged?: number;
  /** the station's expected wait for a new arrival (s); default 0 when a charger is free and
   * nobody queues, else 3600 × (queue + 1) / chargers */
  expectedWaitS?: number;
  /** EVs heading here after a station choice (default 0) */
  heading?: number;
  /** the reservation-aware wait estimate (s) for any arrival time (default: expectedWaitS) */
  expectedWaitReservedS?: number;
}

export interface PlainEv {
  /** EV id (default: its index) */
  ev?: number;
  soc: number;
  /** default: an ideal 60 kWh battery, 50 kW AC/DC, 0.18 kWh/km */
  model?: EvModel;
  /** travel time (s) from the EV to every station (Infinity: unreachable) */
  travelTimeS: number[];
  /** road length (m) to every station (default 10 m per second of travel) */
  lengthM?: number[];
}

export interface ChoiceInput {
  now?: number;
  /** candidates per EV (default 10, at most the number of stations) */
  K?: number;
  /** target state of charge (default 0.8) */
  targetSoc?: number;
  stations: PlainStation[];
  evs: PlainEv[];
  /** feature names to compute (default: the policy's, or none) */
  features?: readonly string[];
}

const DEFAULT_MODEL = idealModel('test-60kWh', 60, 50);

class PlainStationView implements StationReadView {
  readonly chargers: number;
  readonly queueLength: number;
  readonly plugged: { length: number };
  readonly heading: number;
  private readonly wait: number;
  constructor(private readonly p: PlainStation) {
    this.chargers = p.chargerKW.length;
    this.queueLength = p.queue ?? 0;
    this.plugged = { length: Math.min(p.plugged ?? 0, this.chargers) };
    const busy = this.queueLength > 0 || this.plugged.length >= this.chargers;
    this.wait = p.expectedWaitS ?? (busy ? (3600 * (this.queueLength + 1)) / Math.max(1, this.chargers) : 0);
    this.heading = p.heading ?? 0;
  }
  expectedWaitAtS(_arrivalAt: number, _now: number): number {
    return this.p.expectedWaitReservedS ?? this.wait;
  }
  freeChargers(): number {
    return this.chargers - this.plugged.length;
  }
  expectedWaitS(): number {
    return this.wait;
  }
  bestRatedKW(model: EvModel, soc: number): { kw: number; kind: ChargerKind } {
    let kw = 0;
    let kind: ChargerKind = 'AC';
    for (let c = 0; c < this.chargers; c++) {
      const k = this.p.chargerKind?.[c] ?? 'AC';
      const x = chargerLimitKW(this.p.chargerKW[c]!, k, model, soc);
      if (x > kw) {
        kw = x;
        kind = k;
      }
    }
    return { kw, kind };
  }
}

/** The batch a policy would receive for these EVs, and each EV's decision index (-1: none). */
export function choiceBatchFrom(input: ChoiceInput, features: readonly string[] = input.features ?? []): { batch: ChoiceBatch; index: number[] } {
  const views = input.stations.map((s) => new PlainStationView(s));
  const b = new ChoiceBatchBuilder();
  b.begin(input.now ?? 0, Math.min(input.K ?? 10, views.length), features);
  const index = input.evs.map((e, i) => {
    if (e.travelTimeS.length !== views.length) throw new RangeError(`ev ${i}: travelTimeS needs one entry per station (${views.length})`);
    const row = { timeS: e.travelTimeS, lengthM: e.lengthM ?? e.travelTimeS.map((t) => t * 10), offset: 0 };
    return b.add({ ev: e.ev ?? i, soc: e.soc, model: e.model ?? DEFAULT_MODEL, targetSoc: input.targetSoc ?? 0.8 }, row, views);
  });
  return { batch: b.finish(), index };
}

/** Call the policy once on the batch of these EVs: the chosen station id per EV (-1: none). */
export function decideStations(policy: StationChoicePolicy, input: ChoiceInput): number[] {
  const { batch, index } = choiceBatchFrom(input, input.features ?? policy.features ?? []);
  const out = new Int32Array(batch.n).fill(-1);
  if (batch.n > 0) policy.decideBatch(batch, out);
  return index.map((i) => {
    if (i < 0) return -1;
    const k = out[i]!;
    if (k < 0) return -1;
    if (k >= batch.count[i]!) throw new RangeError(`policy ${policy.name}: candidate ${k} of decision ${i} out of range (${batch.count[i]})`);
    return batch.station[i * batch.K + k]!;
  });
}

export interface PlainSession {
  sessionId: number;
  pluggedAt: number;
  deadline: number;
  remainingKWh: number;
  maxKW: number;
}

export interface PlainSite {
  /** station id (default: its index) */
  id?: number;
  /** default Infinity (no cap) */
  capKW?: number;
  /** default 60 s */
  periodS?: number;
  sessions: PlainSession[];
  /** an electrical network: the constraint set, its model, and the EVSE index of each session */
  network?: { net: SiteNetwork; model: SiteConstraintModel; evse: number[] };
}

/** A SiteNetworkView over sessions that sit at EVSEs `evse` (row order). */
export function networkView(net: SiteNetwork, model: SiteConstraintModel, evse: readonly number[]): SiteNetworkView {
  const amps = new Float64Array(net.n);
  const k = 1000 / net.voltageV;
  return {
    net,
    model,
    evse: (i) => evse[i]!,
    maxFeasibleKW(i, rates, upKW) {
      amps.fill(0);
      for (let q = 0; q < evse.length; q++) if (q !== i) amps[evse[q]!]! += Math.max(0, rates[q]! || 0) * k;
      return net.maxRateA(evse[i]!, amps, upKW * k, model) / k;
    },
  };
}

/** An AllocationBatch over plain sites (sites in the order given). */
export function allocationBatchFrom(input: { now?: number; sites: PlainSite[] }): AllocationBatch {
  const m = input.sites.length;
  const offset = new Int32Array(m + 1);
  for (let j = 0; j < m; j++) offset[j + 1] = offset[j]! + input.sites[j]!.sessions.length;
  const n = offset[m]!;
  const all: PlainSession[] = input.sites.flatMap((s) => s.sessions.map((x) => ({ ...x })));
  const views: PluggedSessionView[][] = input.sites.map((_, j) => all.slice(offset[j]!, offset[j + 1]!));
  return {
    now: input.now ?? 0,
    nSites: m,
    site: Int32Array.from(input.sites, (s, j) => s.id ?? j),
    capKW: Float64Array.from(input.sites, (s) => s.capKW ?? Infinity),
    periodS: Float64Array.from(input.sites, (s) => s.periodS ?? 60),
    offset,
    nSessions: n,
    sessionId: Int32Array.from(all, (s) => s.sessionId),
    pluggedAt: Float64Array.from(all, (s) => s.pluggedAt),
    deadline: Float64Array.from(all, (s) => s.deadline),
    remainingKWh: Float64Array.from(all, (s) => s.remainingKWh),
    maxKW: Float64Array.from(all, (s) => s.maxKW),
    sessions: (j) => views[j]!,
    network: (j) => {
      const nw = input.sites[j]!.network;
      return nw ? networkView(nw.net, nw.model, nw.evse) : null;
    },
  };
}

/** Call the policy once for all these sites: rates (kW) per site, per session, in input order. */
export function allocateSites(policy: AllocationBatchPolicy, input: { now?: number; sites: PlainSite[] }): number[][] {
  const b = allocationBatchFrom(input);
  const out = new Float64Array(b.nSessions);
  policy.allocateBatch(b, out);
  return input.sites.map((_, j) => Array.from(out.subarray(b.offset[j]!, b.offset[j + 1]!)));
}
