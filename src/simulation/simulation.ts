/**
 * The simulation: wires the kernel, the city, the fleet, the stations, the policies, the tariff and
 * the ledger together, and runs one scenario to its horizon.
 *
 * Demand modes (scenario `demand.type`):
 * - trips:   every EV follows a day plan (home → work → [other] → home, or home → other → home)
 *            on the road network; before each trip it checks its state of charge, and if it is
 *            below the threshold or the trip would leave less than the reserve, it detours via a
 *            station (calculating → go → waiting → charging) and then drives on.
 * - poisson: EVs arrive directly at one station as a Poisson process with exponentially
 *            distributed energy requests (an M/M/c queue with constant power and a flat curve).
 * - replay:  recorded sessions (arrival, departure, energy, charger) are replayed at one site.
 *
 * All randomness comes from named streams of the scenario seed: "fleet" (models, homes, initial
 * state of charge), "demand" (day plans, arrivals), "city" (activity places, generated stations)
 * and "choice" (the random station-choice policy). Same-time events follow src/core/priorities.ts.
 */
import { makeAllocationPolicy, type AllocationName } from '../charging/allocation.js';
import { makeStationChoice, type StationCandidateView, type StationChoiceName } from '../charging/choice.js';
import { makeDayPlans, type DayPlans } from './demand.js';
import { EvState, STATE_NAMES, transition, type EvStateId } from '../charging/ev.js';
import { chargeTimeS, idealModel, loadEvModels, makeModelPicker, type EvModel } from '../charging/evModels.js';
import { Session, SessionStatus, Station, type StationDef } from '../charging/station.js';
import { loadTariff, type Tariff } from '../charging/tariff.js';
import { LedgerPort, percentile, type LedgerSummary, type Settlement } from '../ledger/ledger.js';
import { Network } from '../ledger/network.js';
import { createBackend } from '../ledger/registry.js';
import { SIGNED_TX_BYTES, TxCodec } from '../ledger/tx.js';
import type { City } from './world.js';
import { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import { Streams } from '../core/random.js';
import { growF64, growI32, growU8 } from '../core/typed.js';
import { resolveScenarioPath, type ResolvedStack, type Scenario } from '../scenario/scenario.js';

/** Where an EV is or is heading: home, an activity place, or a station. */
const LOC_HOME = 0;
const LOC_PLACE = 1;
const LOC_STATION = 2;

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

export interface Summary {
  scenario: string;
  seed: number;
  simulatedSeconds: number;
  events: number;
  city: Record<string, number | string>;
  fleet: { size: number; trips: number; stranded: number; noStationReachable: number };
  sessions: SessionsSummary;
  stations: { count: number; chargers: number; utilizationPct: number; peakKW: number; energyKWh: number };
  policy: { stationChoice: string; allocation: string };
  ledger: {
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
  };
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
  /** canonical signed size of a transaction of this kind (ledger.csv) */
  txBytes: (kind: string) => number;
}

export interface SimOptions {
  /** called between chunks of simulated time (for a progress bar); never influences results */
  onProgress?: (simTime: number, horizon: number, events: number) => void;
  progressChunks?: number;
}

/** Test and instrumentation hooks; none of them may change the simulation. */
export interface SimHooks {
  allocated?(st: Station): void;
  settled?(s: Settlement): void;
}

export class Simulation {
  readonly kernel = new Kernel(4096);
  readonly streams: Streams;
  readonly stations: Station[];
  readonly sessions: Session[] = [];
  readonly records: LedgerPort;
  readonly payments: LedgerPort;
  readonly stack: ResolvedStack;
  private readonly codec: TxCodec;
  private readonly waitForStart: boolean;
  private readonly waitForPayment: boolean;
  /** the payments backend streams: one payment per charge record and a closing one per session */
  private readonly streaming: boolean;
  private failedStarts = 0;
  private failedPayments = 0;
  private startTimeouts = 0;
  private paymentTimeouts = 0;
  private readonly kStartTimeout: number;
  private readonly kPaymentTimeout: number;
  private readonly tariff: Tariff;
  private readonly startEpoch: number;
  private readonly horizon: number;

  // fleet (struct of arrays)
  private nEv = 0;
  private state = new Uint8Array(0);
  private soc = new Float64Array(0);
  private modelOf = new Int32Array(0);
  private models: EvModel[] = [];
  private home = new Int32Array(0);
  private locKind = new Uint8Array(0);
  private locIdx = new Int32Array(0);
  private destKind = new Uint8Array(0);
  private destIdx = new Int32Array(0);
  private legCursor = new Int32Array(0);
  private sessionOf = new Int32Array(0);
  private plans: DayPlans | null = null;
  private directModels: EvModel[] = [];

  private trips = 0;
  private stranded = 0;
  private noStation = 0;

  private readonly kDepart: number;
  private readonly kArriveDest: number;
  private readonly kDecide: number;
  private readonly kArriveStation: number;
  private readonly kDone: number;
  private readonly kDeadline: number;
  private readonly kGiveUp: number;
  private readonly kTick: number;

  private readonly choice;
  private readonly candBuf: StationCandidateView[] = [];
  private candTime = new Float64Array(0);
  private candIdx = new Int32Array(0);

  private samples: StationSamples | null = null;
  private log: TransitionLog | null = null;
  private currentPowerKW = 0;
  private powerTime = -1;
  private peakKW = 0;

  constructor(
    readonly sc: Scenario,
    readonly city: City,
    hooks: SimHooks = {},
    stack?: ResolvedStack,
  ) {
    this.streams = new Streams(sc.seed);
    this.horizon = sc.duration;
    this.startEpoch = Date.parse(sc.start) / 1000;
    this.tariff = loadTariff(
      sc.tariff.type === 'tou' ? { ...sc.tariff, file: resolveScenarioPath(sc, sc.tariff.file) } : sc.tariff,
    );
    const k = this.kernel;
    this.kDepart = k.register('depart', (ev) => this.onDepart(ev));
    this.kArriveDest = k.register('arrive-destination', (ev) => this.onArriveDestination(ev));
    this.kDecide = k.register('decide', (ev) => this.onDecide(ev));
    this.kArriveStation = k.register('arrive-station', (sid) => this.onArriveStation(sid));
    this.kDone = k.register('energy-done', (sid) => this.onEnergyDone(sid));
    this.kDeadline = k.register('deadline-departure', (sid) => this.onDeadline(sid));
    this.kGiveUp = k.register('give-up', (sid) => this.onGiveUp(sid));
    this.kTick = k.register('minute-tick', (minute) => this.onTick(minute));
    this.kStartTimeout = k.register('start-timeout', (sid) => this.onStartTimeout(sid));
    this.kPaymentTimeout = k.register('payment-timeout', (sid) => this.onPaymentTimeout(sid));

    const periodS = sc.site.periodMinutes * 60;
    const capKW = sc.site.capKW ?? Infinity;
    this.stations = city.stations.map(
      (def) =>
        new Station(def, capKW, periodS, makeAllocationPolicy(sc.policy.allocation as AllocationName, { incrementKW: sc.policy.incrementKW, energyBound: false }), {
          scheduleDone: (s, at) => this.kernel.schedule(Math.max(at, this.kernel.now), PRIORITY.DEPARTURE, this.kDone, s.sessionId),
          cancel: (h) => void this.kernel.cancel(h),
          plugged: (s) => this.onPlugged(s),
          record: (s, from, to, e) => this.onRecord(s, from, to, e),
          allocated: hooks.allocated,
          powerChanged: (d) => {
            // the aggregate is settled only once every event of an instant has run: fold the
            // previous instant's final value into the peak when time has moved on
            if (this.kernel.now !== this.powerTime) {
              if (this.currentPowerKW > this.peakKW) this.peakKW = this.currentPowerKW;
              this.powerTime = this.kernel.now;
            }
            this.currentPowerKW += d;
          },
        }),
    );
    const choiceRng = this.streams.stream('choice');
    this.choice = makeStationChoice(sc.policy.stationChoice as StationChoiceName, () => choiceRng.next());
    this.stack = stack ?? sc.stacks[0]!;
    this.waitForStart = sc.ledger.coupling.waitForStart;
    this.waitForPayment = sc.ledger.coupling.waitForPayment;
    const codec = TxCodec.fromConfig(sc.ledger.codec, sc.seed);
    this.codec = codec;
    const onSettled = (st: Settlement) => {
      this.onLedgerSettled(st);
      hooks.settled?.(st);
    };
    const port = (role: string, instance: string, ref: ResolvedStack['records']) =>
      new LedgerPort(this.kernel, {
        role,
        instance,
        streams: this.streams,
        network: new Network(this.stack.network, this.streams.stream(`ledger/${instance}/network`)),
        codec,
        create: (ctx) => createBackend(ref.backend, ctx, ref.params),
        onSettled,
      });
    if (this.stack.shared) {
      this.records = port('records+payments', this.stack.records.backend, this.stack.records);
      this.payments = this.records;
    } else {
      this.records = port('records', `records-${this.stack.records.backend}`, this.stack.records);
      this.payments = port('payments', `payments-${this.stack.payments.backend}`, this.stack.payments);
    }
    this.streaming = this.payments.ledger.streaming === true;
    if (sc.output.eventsLog) {
      const cap = 1024;
      this.log = {
        n: 0,
        time: new Float64Array(cap),
        ev: new Int32Array(cap),
        from: new Uint8Array(cap),
        to: new Uint8Array(cap),
        session: new Int32Array(cap),
      };
    }
    if (sc.output.stationsCsv) {
      const minutes = Math.ceil(this.horizon / 60);
      const n = minutes * this.stations.length;
      this.samples = {
        minutes,
        stations: this.stations.length,
        queue: new Int32Array(n),
        plugged: new Int32Array(n),
        powerKW: new Float64Array(n),
      };
    }
    this.setupDemand();
    this.kernel.schedule(0, PRIORITY.TICK, this.kTick, 0);
  }

  // ---- set-up --------------------------------------------------------------------------------

  private allocFleet(n: number): void {
    this.nEv = n;
    this.state = new Uint8Array(n);
    this.soc = new Float64Array(n);
    this.modelOf = new Int32Array(n);
    this.home = new Int32Array(n);
    this.locKind = new Uint8Array(n);
    this.locIdx = new Int32Array(n);
    this.destKind = new Uint8Array(n);
    this.destIdx = new Int32Array(n);
    this.legCursor = new Int32Array(n);
    this.sessionOf = new Int32Array(n).fill(-1);
  }

  private setupDemand(): void {
    const sc = this.sc;
    const d = sc.demand;
    if (d.type === 'trips') {
      const graph = this.city.graph!;
      this.models = loadEvModels(resolveScenarioPath(sc, sc.fleet.models));
      const pick = makeModelPicker(this.models);
      const fleetRng = this.streams.stream('fleet');
      const n = sc.fleet.size;
      this.allocFleet(n);
      const { min, max } = sc.fleet.initialSoc;
      for (let i = 0; i < n; i++) {
        this.modelOf[i] = pick(fleetRng.next());
        this.home[i] = fleetRng.int(graph.nodeCount);
        this.soc[i] = fleetRng.uniform(min, max);
        this.locKind[i] = LOC_HOME;
      }
      this.plans = makeDayPlans(n, this.city.places.length, d, this.streams.stream('demand'));
      for (let i = 0; i < n; i++) {
        const t = this.plans.firstDepart[i]!;
        if (this.plans.start[i + 1]! > this.plans.start[i]! && t < this.horizon) {
          this.kernel.schedule(t, PRIORITY.TRIP, this.kDepart, i);
        }
      }
    } else if (d.type === 'poisson') {
      const rng = this.streams.stream('demand');
      const station = this.stations[0]!;
      const arrivals: number[] = [];
      const energies: number[] = [];
      const meanGap = 3600 / d.arrivalsPerHour;
      for (let t = rng.exp(meanGap); t < this.horizon; t += rng.exp(meanGap)) {
        arrivals.push(t);
        energies.push(d.energyDistribution === 'fixed' ? d.meanEnergyKWh : rng.exp(d.meanEnergyKWh));
      }
      this.allocFleet(arrivals.length);
      const maxKW = Math.max(...station.def.chargerKW);
      for (let i = 0; i < arrivals.length; i++) {
        const e = energies[i]!;
        this.directModels.push(idealModel(`ideal-${maxKW}kW`, Math.max(e, 1e-9), maxKW));
        const service = (e / maxKW) * 3600;
        this.scheduleDirectArrival(i, arrivals[i]!, e, arrivals[i]! + service * (1 + sc.fleet.deadlineSlack), false);
      }
    } else if (d.type === 'replay') {
      const recs = this.city.replay!;
      this.allocFleet(recs.length);
      const station = this.stations[0]!;
      const chargerIndex = new Map(this.city.replayChargerIds!.map((id, i) => [id, i] as const));
      const wanted = new Int32Array(recs.length);
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!;
        wanted[i] = chargerIndex.get(r.charger)!;
        this.directModels.push(idealModel(`ideal-${d.maxKW}kW`, Math.max(r.energyKWh, 1e-9), d.maxKW));
        if (r.arrival < this.horizon) this.scheduleDirectArrival(i, r.arrival, r.energyKWh, r.departure, true);
      }
      station.preferredCharger = (s) => {
        const c = wanted[s.ev]!;
        return station.occupant[c] === null ? c : station.bestFreeCharger(s.model, s.soc);
      };
    }
  }

  /** EVs of the poisson/replay modes: an ideal battery sized so that the request fills it. */
  private scheduleDirectArrival(ev: number, at: number, energyKWh: number, deadline: number, leaveAtDeadline: boolean): void {
    const model = this.directModels[ev]!;
    const soc0 = energyKWh > 0 ? 0 : 1;
    this.soc[ev] = soc0;
    const s = new Session(this.sessions.length, ev, model, 0, at, energyKWh, 1, soc0, deadline, leaveAtDeadline);
    s.travelS = 0;
    this.sessions.push(s);
    this.sessionOf[ev] = s.sessionId;
    this.kernel.schedule(at, PRIORITY.ARRIVAL, this.kArriveStation, s.sessionId);
  }

  private modelOfEv(ev: number): EvModel {
    return this.directModels.length ? this.directModels[ev]! : this.models[this.modelOf[ev]!]!;
  }

  // ---- state changes -------------------------------------------------------------------------

  private setState(ev: number, to: EvStateId): void {
    const from = transition(this.state, ev, to);
    const log = this.log;
    if (log) {
      if (log.n === log.time.length) this.growLog();
      const i = log.n++;
      log.time[i] = this.kernel.now;
      log.ev[i] = ev;
      log.from[i] = from;
      log.to[i] = to;
      log.session[i] = this.sessionOf[ev]!;
    }
  }

  private growLog(): void {
    const l = this.log!;
    const n = l.time.length + 1;
    l.time = growF64(l.time, n);
    l.ev = growI32(l.ev, n);
    l.from = growU8(l.from, n);
    l.to = growU8(l.to, n);
    l.session = growI32(l.session, n);
  }

  // ---- trips ---------------------------------------------------------------------------------

  private nodeOf(kind: number, idx: number, ev: number): number {
    if (kind === LOC_HOME) return this.home[ev]!;
    if (kind === LOC_PLACE) return this.city.places[idx]!;
    return this.stations[idx]!.def.node;
  }

  /** Travel time (s) and length (m) from the EV's location (kind, idx) to a destination. */
  private travel(ev: number, fromKind: number, fromIdx: number, toKind: number, toIdx: number): [number, number] {
    const c = this.city;
    if (toKind === LOC_PLACE) {
      const n = this.nodeOf(fromKind, fromIdx, ev);
      return [c.placeTo!.time(n, toIdx), c.placeTo!.length(n, toIdx)];
    }
    if (toKind === LOC_STATION) {
      const n = this.nodeOf(fromKind, fromIdx, ev);
      return [c.stationTo!.time(n, toIdx), c.stationTo!.length(n, toIdx)];
    }
    // to home
    const h = this.home[ev]!;
    if (fromKind === LOC_HOME) return [0, 0];
    if (fromKind === LOC_PLACE) return [c.placeFrom!.time(h, fromIdx), c.placeFrom!.length(h, fromIdx)];
    return [c.stationFrom!.time(h, fromIdx), c.stationFrom!.length(h, fromIdx)];
  }

  private socUse(ev: number, lengthM: number): number {
    const m = this.modelOfEv(ev);
    return ((lengthM / 1000) * m.consumptionKWhPerKm) / m.capacityKWh;
  }

  /** Drive from the current location to the current destination. */
  private driveToDestination(ev: number): void {
    this.setState(ev, EvState.driving);
    const [t, len] = this.travel(ev, this.locKind[ev]!, this.locIdx[ev]!, this.destKind[ev]!, this.destIdx[ev]!);
    this.consume(ev, len);
    this.trips++;
    this.kernel.schedule(this.kernel.now + t, PRIORITY.TRIP, this.kArriveDest, ev);
  }

  private consume(ev: number, lengthM: number): void {
    let soc = this.soc[ev]! - this.socUse(ev, lengthM);
    if (soc < 0) {
      soc = 0;
      this.stranded++; // the trip is completed regardless; counted, see README
    }
    this.soc[ev] = soc;
  }

  private onDepart(ev: number): void {
    const plans = this.plans!;
    const leg = plans.start[ev]! + this.legCursor[ev]!;
    const dest = plans.dest[leg]!;
    this.destKind[ev] = dest < 0 ? LOC_HOME : LOC_PLACE;
    this.destIdx[ev] = dest;
    const [, len] = this.travel(ev, this.locKind[ev]!, this.locIdx[ev]!, this.destKind[ev]!, dest);
    const soc = this.soc[ev]!;
    const fl = this.sc.fleet;
    if (soc < fl.chargeThreshold || soc - this.socUse(ev, len) < fl.reserveSoc) {
      this.setState(ev, EvState.calculating);
      if (fl.decisionTime > 0) this.kernel.schedule(this.kernel.now + fl.decisionTime, PRIORITY.TRIP, this.kDecide, ev);
      else this.onDecide(ev);
    } else {
      this.driveToDestination(ev);
    }
  }

  private onArriveDestination(ev: number): void {
    this.setState(ev, EvState.idle);
    this.locKind[ev] = this.destKind[ev]!;
    this.locIdx[ev] = this.destIdx[ev]!;
    const plans = this.plans!;
    const leg = plans.start[ev]! + this.legCursor[ev]!;
    this.legCursor[ev]!++;
    if (leg + 1 < plans.start[ev + 1]!) {
      const t = this.kernel.now + plans.dwell[leg]!;
      if (t < this.horizon) this.kernel.schedule(t, PRIORITY.TRIP, this.kDepart, ev);
    }
  }

  /** calculating: choose a station among the K nearest reachable ones. */
  private onDecide(ev: number): void {
    const now = this.kernel.now;
    const table = this.city.stationTo!;
    const S = this.stations.length;
    const K = Math.min(this.sc.policy.candidates, S);
    const node = this.nodeOf(this.locKind[ev]!, this.locIdx[ev]!, ev);
    const soc = this.soc[ev]!;
    const model = this.modelOfEv(ev);
    if (this.candTime.length < K + 1) {
      this.candTime = new Float64Array(K + 1);
      this.candIdx = new Int32Array(K + 1);
    }
    // K nearest reachable stations by travel time (ties: lower id), one pass over the node's row
    let n = 0;
    const row = table.rowOffset(node);
    const kmPerSoc = model.capacityKWh / model.consumptionKWhPerKm;
    for (let s = 0; s < S; s++) {
      const t = table.timeS[row + s]!;
      if (!(t < Infinity)) continue;
      if (table.lengthM[row + s]! / 1000 > soc * kmPerSoc) continue; // cannot reach it
      if (n === K && t >= this.candTime[K - 1]!) continue;
      let j = n < K ? n++ : K - 1;
      while (j > 0 && this.candTime[j - 1]! > t) {
        this.candTime[j] = this.candTime[j - 1]!;
        this.candIdx[j] = this.candIdx[j - 1]!;
        j--;
      }
      this.candTime[j] = t;
      this.candIdx[j] = s;
    }
    if (n === 0) {
      this.noStation++;
      this.driveToDestination(ev);
      return;
    }
    const cands = this.candBuf;
    cands.length = 0;
    const target = this.sc.fleet.targetSoc;
    for (let i = 0; i < n; i++) {
      const s = this.candIdx[i]!;
      const st = this.stations[s]!;
      const socThere = Math.max(0, soc - this.socUse(ev, table.lengthM[row + s]!));
      const { kw, kind } = st.bestRatedKW(model, socThere);
      if (!(kw > 0)) continue; // no charger here that this EV can use
      cands.push({
        station: s,
        travelTimeS: this.candTime[i]!,
        expectedWaitS: st.expectedWaitS(),
        expectedChargeS: chargeTimeS(model, socThere, target, kw, kind),
      });
    }
    const pick = this.choice.choose({ ev, soc, capacityKWh: model.capacityKWh, now }, cands);
    if (pick < 0) {
      this.noStation++;
      this.driveToDestination(ev);
      return;
    }
    const c = cands[pick]!;
    const deadline = now + c.travelTimeS + c.expectedWaitS + c.expectedChargeS * (1 + this.sc.fleet.deadlineSlack);
    const socThere = Math.max(0, soc - this.socUse(ev, table.lengthM[row + c.station]!));
    const requested = Math.max(0, (target - socThere) * model.capacityKWh);
    const sess = new Session(this.sessions.length, ev, model, c.station, now, requested, target, socThere, deadline, false);
    sess.travelS = c.travelTimeS;
    this.sessions.push(sess);
    this.sessionOf[ev] = sess.sessionId;
    this.setState(ev, EvState.go);
    this.consume(ev, table.lengthM[row + c.station]!);
    this.kernel.schedule(now + c.travelTimeS, PRIORITY.ARRIVAL, this.kArriveStation, sess.sessionId);
  }

  // ---- stations ------------------------------------------------------------------------------

  private onArriveStation(sid: number): void {
    const s = this.sessions[sid]!;
    const ev = s.ev;
    if (this.state[ev] === EvState.idle) this.setState(ev, EvState.go); // direct arrival
    s.soc = this.soc[ev]!;
    if (!this.stations[s.station]!.arrive(s, this.kernel.now)) {
      this.setState(ev, EvState.waiting);
      const maxWait = this.sc.fleet.maxWait;
      if (maxWait > 0) s.giveUpEvent = this.kernel.schedule(this.kernel.now + maxWait, PRIORITY.GIVE_UP, this.kGiveUp, sid);
    }
    if (s.leaveAtDeadline) {
      this.kernel.schedule(Math.max(s.deadline, this.kernel.now), PRIORITY.DEPARTURE, this.kDeadline, sid);
    }
  }

  private onPlugged(s: Session): void {
    this.setState(s.ev, EvState.charging);
    if (s.giveUpEvent >= 0) this.kernel.cancel(s.giveUpEvent);
    s.giveUpEvent = -1;
    if (this.waitForStart) {
      s.authorized = false; // no power until the session-start record is final
      const to = this.sc.ledger.coupling.startTimeout;
      if (to > 0) s.ledgerTimer = this.kernel.schedule(this.kernel.now + to, PRIORITY.GIVE_UP, this.kStartTimeout, s.sessionId);
    }
    this.records.submit('session-start', s.sessionId, s.ev, s.station, 0, 0, 0, s.soc);
  }

  /** The session-start record is not final in time: the EV unplugs without charging and drives on. */
  private onStartTimeout(sid: number): void {
    const s = this.sessions[sid]!;
    s.ledgerTimer = -1;
    if (s.status !== SessionStatus.active || s.authorized) return;
    this.startTimeouts++;
    this.abortUnauthorized(s);
  }

  private abortUnauthorized(s: Session): void {
    this.departStation(s, SessionStatus.abandoned);
  }

  /** The payment is not final in time: the EV leaves anyway (counted). */
  private onPaymentTimeout(sid: number): void {
    const s = this.sessions[sid]!;
    s.ledgerTimer = -1;
    if (s.status !== SessionStatus.active || !s.awaitingPayment) return;
    this.paymentTimeouts++;
    this.leaveStation(s);
  }

  private clearLedgerTimer(s: Session): void {
    if (s.ledgerTimer >= 0) this.kernel.cancel(s.ledgerTimer);
    s.ledgerTimer = -1;
  }

  /** Ledger settlements that the city waits for (coupling); everything else is bookkeeping. */
  private onLedgerSettled(st: Settlement): void {
    const tx = st.tx;
    const s = this.sessions[tx.sessionId];
    if (!s || s.status !== SessionStatus.active) return;
    const now = this.kernel.now;
    if (tx.kind === 'session-start' && this.waitForStart && !s.authorized) {
      const station = this.stations[s.station]!;
      this.clearLedgerTimer(s);
      if (st.status === 'final') {
        s.authorized = true;
        s.authorizedAt = now;
        station.advance(now);
        station.reallocate(now);
      } else {
        this.failedStarts++;
        this.abortUnauthorized(s);
      }
    } else if (tx.kind === 'payment' && this.waitForPayment && s.awaitingPayment && (!this.streaming || tx.closing)) {
      this.clearLedgerTimer(s);
      if (st.status !== 'final') this.failedPayments++;
      this.leaveStation(s);
    }
  }

  /** A charge record of [from, to] (at most one minute): priced by integrating the tariff over
   * the interval at the record's mean power (exact when a block boundary falls inside it). */
  private onRecord(s: Session, from: number, to: number, energyKWh: number): void {
    const kw = (energyKWh * 3600) / (to - from);
    const cost = this.tariff.cost(this.startEpoch + from, to - from, kw);
    s.price += cost;
    this.records.submit('charge', s.sessionId, s.ev, s.station, energyKWh, 0, kw, s.soc);
    if (this.streaming) this.payments.submit('payment', s.sessionId, s.ev, s.station, energyKWh, cost, kw, s.soc);
  }

  private onEnergyDone(sid: number): void {
    const s = this.sessions[sid]!;
    const st = this.stations[s.station]!;
    s.doneEvent = -1;
    if (s.leaveAtDeadline) {
      st.energyReached(s, this.kernel.now);
      st.flushRecord(s, this.kernel.now);
      st.reallocate(this.kernel.now);
    } else {
      this.endSession(s);
    }
  }

  private onDeadline(sid: number): void {
    const s = this.sessions[sid]!;
    if (s.status !== SessionStatus.active) return;
    if (Number.isNaN(s.pluggedAt)) {
      // still queued at its departure time: leaves without charging
      this.stations[s.station]!.leaveQueue(s);
      if (s.giveUpEvent >= 0) this.kernel.cancel(s.giveUpEvent);
      s.status = SessionStatus.abandoned;
      s.unpluggedAt = this.kernel.now;
      this.afterStation(s);
      return;
    }
    this.endSession(s);
  }

  private onGiveUp(sid: number): void {
    const s = this.sessions[sid]!;
    s.giveUpEvent = -1;
    if (s.status !== SessionStatus.active || !Number.isNaN(s.pluggedAt)) return;
    this.stations[s.station]!.leaveQueue(s);
    s.status = SessionStatus.abandoned;
    s.unpluggedAt = this.kernel.now; // left the station
    this.afterStation(s);
  }

  /** Charging is over (energy target or deadline): meter totals and payment go to the ledger; the
   * EV leaves at once, or (waitForPayment) when its payment is final. */
  private endSession(s: Session): void {
    if (s.awaitingPayment) return;
    const st = this.stations[s.station]!;
    const now = this.kernel.now;
    st.energyReached(s, now);
    st.flushRecord(s, now);
    s.chargingEndedAt = now;
    this.records.submit('session-end', s.sessionId, s.ev, s.station, s.deliveredKWh, 0, 0, s.soc);
    if (this.waitForPayment) {
      s.awaitingPayment = true;
      st.reallocate(now); // its power goes to the others while it waits
      const to = this.sc.ledger.coupling.paymentTimeout;
      if (to > 0) s.ledgerTimer = this.kernel.schedule(now + to, PRIORITY.GIVE_UP, this.kPaymentTimeout, s.sessionId);
      this.submitPayment(s);
    } else {
      this.submitPayment(s);
      this.leaveStation(s);
    }
  }

  /** The session's payment: the whole price, or (streaming backends) the closing payment after the
   * per-minute ones. */
  private submitPayment(s: Session): void {
    if (this.streaming) this.payments.submit('payment', s.sessionId, s.ev, s.station, s.deliveredKWh, 0, 0, s.soc, true);
    else this.payments.submit('payment', s.sessionId, s.ev, s.station, s.deliveredKWh, s.price);
  }

  private leaveStation(s: Session): void {
    this.departStation(s, SessionStatus.completed);
  }

  private departStation(s: Session, status: number): void {
    this.stations[s.station]!.unplug(s, this.kernel.now);
    s.status = status;
    this.soc[s.ev] = s.soc;
    this.afterStation(s);
  }

  /** After a session (completed or abandoned): drive on, or leave the system. */
  private afterStation(s: Session): void {
    const ev = s.ev;
    if (this.plans) {
      this.locKind[ev] = LOC_STATION;
      this.locIdx[ev] = s.station;
      this.driveToDestination(ev);
    } else {
      this.setState(ev, EvState.idle);
    }
    this.sessionOf[ev] = -1;
  }

  // ---- the minute tick -----------------------------------------------------------------------

  private onTick(minute: number): void {
    const now = this.kernel.now;
    const period = this.sc.site.periodMinutes;
    const realloc = minute % period === 0;
    const S = this.stations.length;
    const smp = this.samples;
    for (let i = 0; i < S; i++) {
      const st = this.stations[i]!;
      if (st.plugged.length > 0) {
        st.advance(now);
        for (const s of st.plugged) if (!s.energyDone) st.flushRecord(s, now);
        if (realloc) st.reallocate(now);
      }
      if (smp && minute < smp.minutes) {
        const k = minute * S + i;
        smp.queue[k] = st.queueLength;
        smp.plugged[k] = st.plugged.length;
        smp.powerKW[k] = st.totalKW;
      }
    }
    const next = (minute + 1) * 60;
    if (next < this.horizon) this.kernel.schedule(next, PRIORITY.TICK, this.kTick, minute + 1);
  }

  // ---- run -----------------------------------------------------------------------------------

  run(opts: SimOptions = {}): SimResult {
    const chunks = opts.onProgress ? (opts.progressChunks ?? 200) : 1;
    for (let c = 1; c <= chunks; c++) {
      const until = c === chunks ? this.horizon : (this.horizon * c) / chunks;
      this.kernel.run(until);
      opts.onProgress?.(this.kernel.now, this.horizon, this.kernel.executed);
    }
    const now = this.horizon;
    if (this.currentPowerKW > this.peakKW) this.peakKW = this.currentPowerKW;
    for (const p of this.ledgerPorts()) p.ledger.finish?.();
    for (const st of this.stations) st.advance(now);
    for (const s of this.sessions) if (s.status === SessionStatus.active) s.status = SessionStatus.incomplete;
    return {
      summary: this.summarize(),
      sessions: this.sessions,
      stationDefs: this.stations.map((s) => s.def),
      evModelName: (ev) => this.modelOfEv(ev).name,
      samples: this.samples,
      log: this.log,
      ledgerPorts: this.sc.output.ledgerCsv ? this.ledgerPorts() : null,
      txBytes: () => SIGNED_TX_BYTES,
    };
  }

  private summarize(): Summary {
    let completed = 0;
    let abandoned = 0;
    let incomplete = 0;
    let requested = 0;
    let delivered = 0;
    let travelSum = 0;
    let travelN = 0;
    const waits: number[] = [];
    let count = 0;
    for (const s of this.sessions) {
      count++;
      if (s.status === SessionStatus.completed) completed++;
      else if (s.status === SessionStatus.abandoned) abandoned++;
      else incomplete++;
      requested += s.requestedKWh;
      delivered += s.deliveredKWh;
      if (s.travelS > 0) {
        travelSum += s.travelS;
        travelN++;
      }
      if (!Number.isNaN(s.pluggedAt)) waits.push(s.pluggedAt - s.arrivedAt);
    }
    const w = Float64Array.from(waits).sort();
    let wsum = 0;
    for (const x of w) wsum += x;
    let chargers = 0;
    let busy = 0;
    let energy = 0;
    for (const st of this.stations) {
      chargers += st.chargers;
      busy += st.busyChargerSeconds;
      energy += st.energyKWh;
    }
    return {
      scenario: this.sc.name,
      seed: this.sc.seed,
      simulatedSeconds: this.horizon,
      events: this.kernel.executed,
      city: this.city.info,
      fleet: { size: this.nEv, trips: this.trips, stranded: this.stranded, noStationReachable: this.noStation },
      sessions: {
        count,
        completed,
        abandoned,
        incomplete,
        meanWaitSeconds: w.length ? wsum / w.length : 0,
        p95WaitSeconds: percentile(w, 95),
        meanTravelToStationSeconds: travelN ? travelSum / travelN : 0,
        energyRequestedKWh: requested,
        energyDeliveredKWh: delivered,
        demandMetPct: requested > 0 ? (100 * delivered) / requested : 100,
      },
      stations: {
        count: this.stations.length,
        chargers,
        utilizationPct: chargers > 0 ? (100 * busy) / (chargers * this.horizon) : 0,
        peakKW: this.peakKW,
        energyKWh: energy,
      },
      policy: { stationChoice: this.sc.policy.stationChoice, allocation: this.sc.policy.allocation },
      ledger: this.ledgerSummary(),
    };
  }

  private ledgerSummary(): Summary['ledger'] {
    const ports = this.ledgerPorts();
    const audit: string[] = [];
    for (const p of ports) for (const line of p.ledger.audit()) audit.push(`${p.role} (${p.ledger.backend}): ${line}`);
    let authSum = 0;
    let authN = 0;
    let holdSum = 0;
    let holdN = 0;
    for (const s of this.sessions) {
      if (!Number.isNaN(s.authorizedAt) && !Number.isNaN(s.pluggedAt)) {
        authSum += s.authorizedAt - s.pluggedAt;
        authN++;
      }
      if (!Number.isNaN(s.chargingEndedAt) && !Number.isNaN(s.unpluggedAt)) {
        holdSum += s.unpluggedAt - s.chargingEndedAt;
        holdN++;
      }
    }
    return {
      stack: this.stack.name,
      coupling: { ...this.sc.ledger.coupling },
      meanAuthorizationDelaySeconds: authN ? authSum / authN : 0,
      meanPaymentHoldSeconds: holdN ? holdSum / holdN : 0,
      failedStarts: this.failedStarts,
      startTimeouts: this.startTimeouts,
      failedPayments: this.failedPayments,
      paymentTimeouts: this.paymentTimeouts,
      auditProblems: audit.length,
      audit: audit.slice(0, 20),
      backends: ports.map((p) => p.summary(this.horizon)),
    };
  }

  /** Wall-clock compute of the ledger backends (timing.json only). */
  ledgerWallClock(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.ledgerPorts()) {
      out[p.role] = {
        backend: p.ledger.backend,
        wallSeconds: p.wallMs / 1000,
        microsecondsPerTx: p.submitted ? (p.wallMs * 1000) / p.submitted : 0,
      };
    }
    out.codec = this.codec.wallClockStats();
    return out;
  }

  /** The ledger ports of this run (one when records and payments share a backend). */
  ledgerPorts(): LedgerPort[] {
    return this.stack.shared ? [this.records] : [this.records, this.payments];
  }

  stateName(ev: number): string {
    return STATE_NAMES[this.state[ev]!]!;
  }
}
