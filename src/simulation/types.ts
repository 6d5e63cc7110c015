/**
 * The simulation's public shapes: what a run returns (summary, samples, log), the options of a
 * run, the observers that may watch one, and the parts that may be injected into one. Decides
 * nothing; the modules that fill these are named beside each shape.
 */
import type { AllocationBatchPolicy } from '../charging/allocationBatch.js';
import type { AiSummary } from '../ai/allocation.js';
import type { ChoiceBatch, StationChoicePolicy } from '../charging/choice.js';
import type { Session, Station, StationDef } from '../charging/station.js';
import type { LedgerPort, LedgerSummary, Settlement } from '../ledger/ledger.js';
import type { ResolvedStack } from '../scenario/scenario.js';
import type { CalculatingSummary } from './calculating.js';
import type { MobileSummary } from './mobile.js';
import type { ProtocolFactory } from './protocol.js';
import type { RoamingSummary } from './roaming.js';
import type { TariffSummary } from './tariffRun.js';
import type { DayForecaster } from '../charging/gridLoad.js';

export interface SessionsSummary {
  count: number;
  completed: number;
  abandoned: number;
  incomplete: number;
  meanWaitSeconds: number;
  p95WaitSeconds: number;
  meanTravelToStationSeconds: number;
  energyRequestedKWh: number;
  energyDeliveredKWh: number;
  demandMetPct: number;
}

/** DC-hub runs only (demand.type hub): time in system = leaving − arrival. An EV that gave up
 * counts with the time it waited; one still at the hub at the horizon with (horizon − arrival). */
export interface HubSummary {
  arrivals: number;
  /** mean over every arrival (served, abandoned, still there at the horizon) */
  meanTimeInSystemSeconds: number;
  /** mean over the EVs that reached their target and left */
  meanTimeInSystemServedSeconds: number;
  /** mean wait (arrival → plug-in, or → giving up / horizon) over every arrival */
  meanWaitAllSeconds: number;
  /** mean charging time (plug-in → leaving) of the served EVs */
  meanChargeSeconds: number;
  served: number;
  abandoned: number;
  atHorizon: number;
}

/** summary.json (filled by observation.ts; the ledger part by the charging protocol). */
export interface Summary {
  scenario: string;
  seed: number;
  simulatedSeconds: number;
  events: number;
  city: Record<string, number | string>;
  fleet: { size: number; trips: number; stranded: number; noStationReachable: number };
  sessions: SessionsSummary;
  stations: { count: number; chargers: number; utilizationPct: number; peakKW: number; energyKWh: number };
  /** stationChoiceInfo: what a policy with `summary()` reports (the learned one: model sha256,
   * backend, decisions, ties, fragile decisions) */
  policy: { stationChoice: string; allocation: string; stationChoiceInfo?: Record<string, number | string> };
  ledger: LedgerPart;
  /** learned policies only: TF.js backend and version, and each model's path and sha256 */
  ai?: AiSummary;
  /** only when the calculating phase uses the ledger (policy.information ledger or
   * policy.waitForReservation; src/simulation/calculating.ts) */
  calculating?: CalculatingSummary;
  /** demand.type hub only */
  hub?: HubSummary;
  /** scenario block `mobile` only: mobile chargers and their lightweight chain (src/simulation/mobile.ts) */
  mobile?: MobileSummary;
  /** only with a scenario `roaming` block (src/simulation/roaming.ts, docs/roaming.md) */
  roaming?: RoamingSummary;
  /** tariff.type forecast or fleet.priceResponse only (src/simulation/tariffRun.ts) */
  tariff?: TariffSummary;
}

export interface LedgerPart {
  stack: string;
  coupling: { waitForStart: boolean; waitForPayment: boolean; startTimeout: number; paymentTimeout: number };
  /** mean time from plug-in until charging was authorised (session-start final; 0 when not coupled) */
  meanAuthorizationDelaySeconds: number;
  /** mean time from energy done until the payment was final and the EV left (0 when not coupled) */
  meanPaymentHoldSeconds: number;
  /** sessions ended because their session-start record failed or was not final in time;
   * payments that failed or were not final in time (the EV left anyway) */
  failedStarts: number;
  startTimeouts: number;
  failedPayments: number;
  paymentTimeouts: number;
  auditProblems: number;
  audit: string[];
  backends: LedgerSummary[];
}

/** Per-station per-minute samples (stations.csv), kept in typed arrays. */
export interface StationSamples {
  minutes: number;
  stations: number;
  queue: Int32Array; // [minute * stations + s]
  plugged: Int32Array;
  powerKW: Float64Array;
}

/** Optional transition log (events.csv). */
export interface TransitionLog {
  n: number;
  time: Float64Array;
  ev: Int32Array;
  from: Uint8Array;
  to: Uint8Array;
  session: Int32Array;
}

export interface SimResult {
  summary: Summary;
  sessions: readonly Session[];
  stationDefs: readonly StationDef[];
  evModelName: (ev: number) => string;
  samples: StationSamples | null;
  log: TransitionLog | null;
  ledgerPorts: LedgerPort[] | null;
}

export interface SimOptions {
  /** called between chunks of simulated time (for a progress bar); never influences results */
  onProgress?: (simTime: number, horizon: number, events: number) => void;
  progressChunks?: number;
}

/**
 * Watches a run; none of these may change the simulation (they receive read-only views and are
 * called after the fact). Every member is optional.
 */
export interface SimObserver {
  /** an EV changed state (the events log records the same) */
  transition?(time: number, ev: number, from: number, to: number, session: number): void;
  /** a station's allocation is in place (power limits can be checked here) */
  allocated?(st: Station): void;
  /** a ledger transaction settled */
  settled?(s: Settlement): void;
  /** a batch of station choices was decided: picks[i] for batch decision i */
  decided?(batch: ChoiceBatch, picks: Int32Array): void;
}

/** Test and instrumentation hooks (the observer interface under its older name). */
export type SimHooks = SimObserver;

/**
 * Parts of a run that may be injected programmatically (createSimulation). Each defaults to the
 * one the scenario names through the registries.
 */
export interface SimulationParts {
  stationChoice?: StationChoicePolicy;
  allocation?: AllocationBatchPolicy;
  /** what summary.json records of learned parts (src/ai/allocation.ts loadLearnedParts) */
  ai?: AiSummary;
  protocol?: ProtocolFactory;
  observers?: SimObserver[];
  /** the ledger stack to run (default: the scenario's first) */
  stack?: ResolvedStack;
  /** tariff.type forecast with source model: the TF.js load forecaster (src/ai/loadForecast.ts
   * loadForecastParts); its hash goes to `ai` */
  loadForecaster?: DayForecaster;
}
