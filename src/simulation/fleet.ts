/**
 * The fleet and its trips: each EV's state, state of charge, model, home, location and day-plan
 * cursor (struct of arrays), and the trip logic that decides *whether* an EV detours to charge:
 * before each leg it checks its state of charge, and if that is below fleet.chargeThreshold or
 * the leg would leave less than fleet.reserveSoc it enters `calculating` and hands the EV to the
 * decisions (decisions.ts); otherwise it drives on. Energy use is length × consumption; an EV that
 * runs empty finishes its trip and is counted as stranded.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import { EvState, STATE_NAMES, transition, type EvStateId } from '../charging/ev.js';
import type { EvModel } from '../charging/evModels.js';
import type { Session, Station } from '../charging/station.js';
import type { Scenario } from '../scenario/scenario.js';
import type { DayPlans } from './demand.js';
import type { Observation } from './observation.js';
import type { City } from './world.js';

/** Where an EV is or is heading: home, an activity place, or a station. */
export const LOC_HOME = 0;
export const LOC_PLACE = 1;
export const LOC_STATION = 2;

export class Fleet {
  size = 0;
  state = new Uint8Array(0);
  soc = new Float64Array(0);
  modelOf = new Int32Array(0);
  models: EvModel[] = [];
  /** per-EV models of the direct-arrival demand modes (poisson, replay) */
  directModels: EvModel[] = [];
  home = new Int32Array(0);
  locKind = new Uint8Array(0);
  locIdx = new Int32Array(0);
  destKind = new Uint8Array(0);
  destIdx = new Int32Array(0);
  legCursor = new Int32Array(0);
  sessionOf = new Int32Array(0);
  plans: DayPlans | null = null;

  trips = 0;
  stranded = 0;

  readonly kDepart: number;
  private readonly kArriveDest: number;
  /** fleet.priceResponse: prices of the run's tariff at simulated time (src/simulation/tariffRun.ts) */
  prices: {
    priceAt(t: number): number;
    minPriceWithin(t: number, lookaheadS: number): number;
    deferrals: number;
    /** every price-response decision (for the decision efficiency, src/simulation/tariffRun.ts) */
    decided?(t: number, lookaheadS: number, needKWh: number, minSavings: number, deferred: boolean): void;
  } | null = null;
  /** set by the composition: an EV entered `calculating` and needs a station */
  needsStation: (ev: number) => void = () => {
    throw new Error('fleet: no decision maker attached');
  };

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    private readonly city: City,
    private readonly stations: readonly Station[],
    private readonly obs: Observation,
  ) {
    this.kDepart = kernel.register('depart', (ev) => this.onDepart(ev));
    this.kArriveDest = kernel.register('arrive-destination', (ev) => this.onArriveDestination(ev));
  }

  alloc(n: number): void {
    this.size = n;
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

  model(ev: number): EvModel {
    return this.directModels.length ? this.directModels[ev]! : this.models[this.modelOf[ev]!]!;
  }

  setState(ev: number, to: EvStateId): void {
    const from = transition(this.state, ev, to);
    this.obs.transition(ev, from, to, this.sessionOf[ev]!);
  }

  stateName(ev: number): string {
    return STATE_NAMES[this.state[ev]!]!;
  }

  /** Road node of a location (kind, idx) of EV ev. */
  nodeOf(kind: number, idx: number, ev: number): number {
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

  socUse(ev: number, lengthM: number): number {
    const m = this.model(ev);
    return ((lengthM / 1000) * m.consumptionKWhPerKm) / m.capacityKWh;
  }

  /** Drive from the current location to the current destination. */
  driveToDestination(ev: number): void {
    this.setState(ev, EvState.driving);
    const [t, len] = this.travel(ev, this.locKind[ev]!, this.locIdx[ev]!, this.destKind[ev]!, this.destIdx[ev]!);
    this.consume(ev, len);
    this.trips++;
    this.kernel.schedule(this.kernel.now + t, PRIORITY.TRIP, this.kArriveDest, ev);
  }

  consume(ev: number, lengthM: number): void {
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
    const after = soc - this.socUse(ev, len);
    if (soc < fl.chargeThreshold || after < fl.reserveSoc) {
      if (after >= fl.reserveSoc && this.defers(ev, soc, after)) {
        this.driveToDestination(ev);
        return;
      }
      this.setState(ev, EvState.calculating);
      this.needsStation(ev);
    } else {
      this.driveToDestination(ev);
    }
  }

  /**
   * fleet.priceResponse (docs/tariffs.md): an EV that wants to charge but need not — the leg keeps
   * it at or above max(priceResponse.minSoc, fleet.reserveSoc) — drives on instead when a published
   * price within the look-ahead is lower than now by enough that charging its need (targetSoc − soc)
   * then saves at least minSavings. It decides again at its next departure; an EV that must charge
   * (the leg would leave it below that floor) always does. Assumptions: the EV knows the published
   * prices (not future ones), values only the energy price (no time or detour cost), and expects
   * to be able to charge later.
   */
  defers(ev: number, soc: number, after: number): boolean {
    const pr = this.sc.fleet.priceResponse;
    const prices = this.prices;
    if (!pr || !prices) return false;
    if (after < Math.max(pr.minSoc, this.sc.fleet.reserveSoc)) return false;
    const now = this.kernel.now;
    const need = Math.max(0, this.sc.fleet.targetSoc - soc) * this.model(ev).capacityKWh;
    const saving = (prices.priceAt(now) - prices.minPriceWithin(now, pr.lookahead)) * need;
    const defer = saving >= pr.minSavings && saving > 0;
    prices.decided?.(now, pr.lookahead, need, pr.minSavings, defer);
    if (!defer) return false;
    prices.deferrals++;
    return true;
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
      if (t < this.sc.duration) this.kernel.schedule(t, PRIORITY.TRIP, this.kDepart, ev);
    } else if (this.sc.demand.type === 'trips' && this.sc.demand.repeatDaily) {
      // demand.repeatDaily: home again, the same plan starts at the next day's first departure
      this.legCursor[ev] = 0;
      const t = (Math.floor(this.kernel.now / 86400) + 1) * 86400 + plans.firstDepart[ev]!;
      if (t < this.sc.duration) this.kernel.schedule(t, PRIORITY.TRIP, this.kDepart, ev);
    }
  }

  /** After a session (completed or abandoned): drive on, or (direct arrivals) leave the system. */
  afterStation(s: Session): void {
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
}
