/**
 * The simulation: composes one run of a scenario from its parts and runs it to its horizon. It
 * decides nothing itself; where a session's life is decided:
 *
 *   demandModels.ts  who comes to charge, when, with what (scenario demand.type)
 *   fleet.ts         EV states, trips, and whether an EV detours to charge
 *   decisions.ts     which station (batched station choice, PRIORITY.DECIDE)
 *   sites.ts         arrival, queue, plug-in, departure, the minute tick and batched allocation
 *   protocol.ts      what goes to which ledger role when, and what the city waits for
 *   observation.ts   what is recorded for the outputs (events log, samples, summary)
 *   roaming.ts       only with a `roaming` block: AAA authorisation before the protocol's plug-in,
 *                    invoices and settlement between utilities, mode none's candidate sets
 *
 * All randomness comes from named streams of the scenario seed: "fleet" (models, homes, initial
 * state of charge), "demand" (day plans, arrivals), "city" (activity places, generated stations)
 * and "choice" (the random station-choice policy). Same-time events follow src/core/priorities.ts.
 *
 * `createSimulation(scenario, city, parts?)` is the programmatic entry point; parts not given are
 * resolved from the scenario's names through the registries (src/charging/choice.ts,
 * src/charging/allocationBatch.ts, demandModels.ts).
 */
import { allocationPolicyEntry, type AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { PeakControlledAllocation, loadPeakForecastModel } from '../charging/peakControl.js';
import { choicePolicyEntry, type StationChoicePolicy } from '../charging/choice.js';
import { SessionStatus, type Session, type Station } from '../charging/station.js';
import { Kernel } from '../core/kernel.js';
import { ExchangeAllocation } from '../optimum/exchange.js';
import { loadedHighs } from '../optimum/optimum.js';
import { UserError } from '../core/errors.js';
import type { AiSummary } from '../ai/allocation.js';
import { Streams } from '../core/random.js';
import type { LedgerPort } from '../ledger/ledger.js';
import { resolveScenarioPath, type ResolvedStack, type Scenario } from '../scenario/scenario.js';
import { Calculating } from './calculating.js';
import { Decisions } from './decisions.js';
import { DEMAND_MODELS } from './demandModels.js';
import { Fleet } from './fleet.js';
import { MobileChargers } from './mobile.js';
import { Observation } from './observation.js';
import { ledgerProtocol, type ChargingProtocol } from './protocol.js';
import { Roaming } from './roaming.js';
import { Sites } from './sites.js';
import { TariffRun } from './tariffRun.js';
import type { SimHooks, SimOptions, SimResult, SimulationParts } from './types.js';
import type { City } from './world.js';

export type {
  LedgerPart,
  SessionsSummary,
  SimHooks,
  SimObserver,
  SimOptions,
  SimResult,
  SimulationParts,
  StationSamples,
  Summary,
  TransitionLog,
} from './types.js';

export class Simulation {
  readonly kernel = new Kernel(4096);
  readonly streams: Streams;
  readonly stations: Station[];
  readonly sessions: Session[] = [];
  readonly stack: ResolvedStack;
  readonly fleet: Fleet;
  readonly decisions: Decisions;
  readonly calculating: Calculating;
  readonly sites: Sites;
  readonly protocol: ChargingProtocol;
  readonly observation: Observation;
  /** mobile chargers (scenario block `mobile`; null without it) */
  readonly mobile: MobileChargers | null;
  readonly tariffRun: TariffRun;
  readonly stationChoice: StationChoicePolicy;
  readonly allocation: AllocationBatchPolicy;
  /** roaming between utilities: only with a scenario `roaming` block */
  readonly roaming: Roaming | null = null;
  private readonly ai: AiSummary | undefined;
  private readonly horizon: number;

  /**
   * @param hooks observers of the run (kept for the older call form; see createSimulation)
   * @param stack the ledger stack (default: the scenario's first)
   */
  constructor(
    readonly sc: Scenario,
    readonly city: City,
    hooks: SimHooks = {},
    stack?: ResolvedStack,
    parts: SimulationParts = {},
  ) {
    this.streams = new Streams(sc.seed);
    this.horizon = sc.duration;
    const k = this.kernel;
    const observers = [hooks, ...(parts.observers ?? [])];
    // roaming: the EVs' arrivals at destinations expire visiting profiles
    if (sc.roaming) observers.push({ transition: (_t, ev, _from, to) => this.roaming?.transition(ev, to) });
    this.observation = new Observation(k, sc, city.stations.length, observers);
    if (!parts.allocation && sc.policy.allocation === 'learned')
      throw new UserError([`${sc.file}: policy.allocation: "learned" needs its model loaded first (loadLearnedParts in src/ai/allocation.ts, then createSimulation(sc, city, parts))`]);
    // site.peakModel: the learned forecast of later arrivals in the peak target (src/charging/peakControl.ts)
    const peakModel = sc.site.peakModel === undefined ? null : loadPeakForecastModel(resolveScenarioPath(sc, sc.site.peakModel), `${sc.file}: site.peakModel`);
    const peakForecast = peakModel ? { model: peakModel, startEpochS: Date.parse(sc.start) / 1000 } : undefined;
    const peakLevelFactor = sc.site.peakLevelFactor ?? peakModel?.levelFactor ?? 1;
    let allocation: AllocationBatchPolicy =
      parts.allocation ??
      allocationPolicyEntry(sc.policy.allocation).create({ incrementKW: sc.policy.incrementKW, energyBound: false, peakFloorKW: sc.site.peakFloorKW ?? 0, peakLevelFactor, ...(peakForecast ? { peakForecast } : {}) });
    // site.exchange: the exchange step after the policy (inside a peak target, so the target binds it)
    if (sc.site.exchange === 'lp') {
      const h = loadedHighs();
      if (!h) throw new UserError([`${sc.file}: site.exchange: "lp" needs the HiGHS solver loaded first (await highs() from src/optimum/optimum.ts, then createSimulation)`]);
      allocation = new ExchangeAllocation(allocation, h);
    }
    // site.peakControl: the Optimal-Available site target around whatever policy allocates
    this.allocation =
      sc.site.peakControl === 'optimal-available' && !(allocation instanceof PeakControlledAllocation)
        ? new PeakControlledAllocation(allocation.name, allocation, { floorKW: sc.site.peakFloorKW ?? 0, levelFactor: peakLevelFactor, ...(peakForecast ? { forecast: peakForecast } : {}) })
        : allocation;
    this.ai = parts.ai;
    // the fleet needs the stations (their road nodes) and the sites need the fleet: the station
    // list is shared and filled by Sites
    const stations: Station[] = [];
    this.fleet = new Fleet(k, sc, city, stations, this.observation);
    this.sites = new Sites(k, sc, city, this.sessions, this.fleet, this.observation, this.allocation);
    stations.push(...this.sites.stations);
    this.stations = this.sites.stations;
    const choiceRng = this.streams.stream('choice');
    if (!parts.stationChoice && sc.policy.stationChoice === 'learned') {
      throw new Error('policy.stationChoice "learned" needs its model loaded first: pass parts from loadLearnedChoice(sc) (src/ai/choiceModel.ts) to createSimulation');
    }
    this.stationChoice = parts.stationChoice ?? choicePolicyEntry(sc.policy.stationChoice).create({ uniform: () => choiceRng.next() });
    this.calculating = new Calculating(k, sc, this.stations);
    this.decisions = new Decisions(
      k, sc, city, this.stations, this.sessions, this.fleet, this.observation, this.stationChoice,
      (s, at) => this.sites.arriveAt(s, at),
      this.calculating,
    );
    // mobile chargers: an EV that requests a van is handled there, the others go the station way
    const mobile = (this.mobile = sc.mobile ? new MobileChargers(k, sc, city, this.fleet, this.streams) : null);
    this.fleet.needsStation = mobile ? (ev) => void (mobile.request(ev) || this.decisions.request(ev)) : (ev) => this.decisions.request(ev);
    // the tariff (forecast tariffs publish day by day) and the fleet's price response
    this.tariffRun = new TariffRun(sc, k, parts.loadForecaster);
    if (sc.fleet.priceResponse) this.fleet.prices = this.tariffRun;
    this.stack = parts.stack ?? stack ?? sc.stacks[0]!;
    this.protocol = (parts.protocol ?? ledgerProtocol)({
      sc,
      kernel: k,
      streams: this.streams,
      stack: this.stack,
      stations: this.stations,
      sessions: this.sessions,
      observers,
      depart: (s, status) => this.sites.depart(s, status),
      infoSettled: (st) => this.calculating.settled(st),
      tariff: this.tariffRun.tariff,
    });
    // ---- roaming between utilities (src/simulation/roaming.ts): around the ledger protocol
    if (sc.roaming) {
      const roaming = new Roaming(k, sc, city, this.stations, this.sessions, this.fleet, this.streams, (s, status) => this.sites.depart(s, status));
      this.roaming = roaming;
      this.protocol = roaming.wrap(this.protocol);
      this.decisions.candidateMask = (ev) => roaming.candidateMask(ev);
      this.decisions.restricted = (ev, ex, near) => roaming.restricted(ev, ex, near);
    }
    this.sites.protocol = this.protocol;
    const submitRecord = this.protocol.submitRecord?.bind(this.protocol);
    if (submitRecord) this.calculating.submit = submitRecord;
    DEMAND_MODELS[sc.demand.type].setup({
      sc,
      city,
      kernel: k,
      streams: this.streams,
      fleet: this.fleet,
      stations: this.stations,
      sessions: this.sessions,
      arriveAt: (s, at) => this.sites.arriveAt(s, at),
    });
    this.roaming?.start();
    this.sites.start();
  }

  run(opts: SimOptions = {}): SimResult {
    const chunks = opts.onProgress ? (opts.progressChunks ?? 200) : 1;
    for (let c = 1; c <= chunks; c++) {
      const until = c === chunks ? this.horizon : (this.horizon * c) / chunks;
      this.kernel.run(until);
      opts.onProgress?.(this.kernel.now, this.horizon, this.kernel.executed);
    }
    return this.finishRun();
  }

  /**
   * The same run, giving the event loop a turn (a macrotask) between chunks of simulated time, so
   * that signal handlers and timers of the process can run while a long simulation proceeds
   * (the CLI's Ctrl-C). Chunking never changes results: the kernel runs the same events in the
   * same order whatever the chunk boundaries (tested).
   */
  async runAsync(opts: SimOptions = {}): Promise<SimResult> {
    const chunks = opts.progressChunks ?? 200;
    for (let c = 1; c <= chunks; c++) {
      const until = c === chunks ? this.horizon : (this.horizon * c) / chunks;
      this.kernel.run(until);
      opts.onProgress?.(this.kernel.now, this.horizon, this.kernel.executed);
      if (c < chunks) await new Promise<void>((r) => setImmediate(r));
    }
    return this.finishRun();
  }

  private finishRun(): SimResult {
    const now = this.horizon;
    this.observation.finish();
    this.protocol.finish();
    for (const st of this.stations) st.advance(now);
    for (const s of this.sessions) if (s.status === SessionStatus.active) s.status = SessionStatus.incomplete;
    const f = this.fleet;
    const summary = this.observation.summarize(
      this.city,
      { size: f.size, trips: f.trips, stranded: f.stranded, noStationReachable: this.decisions.noStation },
      this.sessions,
      this.stations,
      {
        stationChoice: this.stationChoice.name,
        allocation: this.allocation.name,
        ...(this.stationChoice.summary ? { stationChoiceInfo: this.stationChoice.summary() } : {}),
      },
      this.protocol.summary(this.horizon),
    );
    const calc = this.calculating.summary();
    if (calc) summary.calculating = calc;
    if (this.ai) summary.ai = this.ai;
    if (this.mobile) summary.mobile = this.mobile.summary(now);
    if (this.roaming) summary.roaming = this.roaming.summary(this.horizon);
    const tariff = this.tariffRun.summary(this.sessions);
    if (tariff) {
      summary.tariff = tariff;
      if (this.tariffRun.audit.length) {
        summary.ledger.audit.push(...this.tariffRun.audit);
        summary.ledger.auditProblems += this.tariffRun.audit.length;
      }
    }
    return {
      summary,
      sessions: this.sessions,
      stationDefs: this.stations.map((s) => s.def),
      evModelName: (ev) => f.model(ev).name,
      samples: this.observation.samples,
      log: this.observation.log,
      ledgerPorts: this.sc.output.ledgerCsv ? this.ledgerPorts() : null,
    };
  }

  /** Wall-clock compute of the ledger backends (timing.json only). */
  ledgerWallClock(): Record<string, unknown> {
    return this.protocol.wallClock();
  }

  /** The ledger ports of this run (one when records and payments share a backend). */
  ledgerPorts(): LedgerPort[] {
    return this.protocol.ports();
  }

  /** The records port (the first ledger port). */
  get records(): LedgerPort {
    return this.protocol.ports()[0]!;
  }

  /** The payments port (the records port when they share a backend). */
  get payments(): LedgerPort {
    const p = this.protocol.ports();
    return p[p.length - 1]!;
  }

  stateName(ev: number): string {
    return this.fleet.stateName(ev);
  }
}

/**
 * A run of `scenario` on `city` with optional injected parts (policies, protocol, observers,
 * stack). Parts not given come from the scenario's names through the registries, so
 * `createSimulation(sc, city)` is the run `evsim run` makes.
 */
export function createSimulation(scenario: Scenario, city: City, parts: SimulationParts = {}): Simulation {
  return new Simulation(scenario, city, {}, undefined, parts);
}
