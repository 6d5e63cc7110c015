/**
 * Charging station (one site): chargers (EVSE) with a rating in kW and a kind (AC/DC), an optional
 * site power cap, and one FIFO queue.
 *
 * Charging physics (stated assumptions):
 * - Between two re-allocations an EV is granted a constant power p (the allocation policy's rate).
 *   It draws min(p, vehicle limit at its current state of charge); the state of charge then
 *   follows the piecewise-linear charging curve exactly (`socAfter`, integrated per curve segment),
 *   so delivered power never exceeds the grant, the charger rating, the vehicle curve or the site
 *   cap (grants sum to at most the cap), and delivered energy is exactly Δsoc × capacity.
 * - Re-allocation happens on every plug-in and departure and at every allocation period boundary
 *   (site.periodMinutes, default 1 min), where the vehicle limit is re-read from the curve. It goes
 *   through a SiteAllocator (allocationBatch.ts): one policy call for this station, or at a tick
 *   one call for all re-allocating stations (prepareAllocation, then applyAllocation per station).
 * - Queue discipline: strict FIFO. When a charger frees, the head of the queue takes the free
 *   charger that gives it the most power (ties: lowest charger index); an EV that cannot use any
 *   free charger (a DC-only free charger for an AC-only EV) keeps the head and blocks the queue.
 */
import type { PluggedSessionView, SiteNetworkView, SiteView } from './allocation.js';
import type { SiteConstraintModel, SiteNetwork } from './siteNetwork.js';
import type { AllocatableSite } from './allocationBatch.js';
import { chargeTimeS, socAfter, vehicleLimitKW, type ChargerKind, type EvModel } from './evModels.js';

export type { ChargerKind };

export const SessionStatus = { active: 0, completed: 1, abandoned: 2, incomplete: 3 } as const;
export const SESSION_STATUS_NAMES = ['active', 'completed', 'abandoned', 'incomplete'] as const;

export class Session implements PluggedSessionView {
  charger = -1;
  kind: ChargerKind = 'AC';
  arrivedAt = NaN;
  pluggedAt = NaN;
  unpluggedAt = NaN;
  travelS = NaN;
  deliveredKWh = 0;
  socStart = NaN;
  soc: number;
  price = 0;
  status: number = SessionStatus.active;
  /** current grant (kW) and when the state of charge was last brought up to date */
  powerKW = 0;
  lastUpdate = NaN;
  /** per-minute record bookkeeping */
  recordFrom = NaN;
  energyAtRecord = 0;
  /** kernel handles */
  doneEvent = -1;
  giveUpEvent = -1;
  /** energy target reached (replayed sessions stay plugged until their deadline) */
  energyDone = false;
  /** ledger coupling: charging allowed (false until the session-start record is final when the
   * scenario waits for it), and the EV waits for its payment before leaving */
  authorized = true;
  authorizedAt = NaN;
  chargingEndedAt = NaN;
  awaitingPayment = false;
  /** kernel handle of the start/payment timeout while the EV waits for the ledger */
  ledgerTimer = -1;
  maxKW = 0;
  /** rating (kW) of the charger it is plugged into (the taper-aware policies, allocationDc.ts) */
  ratedKW = 0;

  constructor(
    readonly sessionId: number,
    readonly ev: number,
    readonly model: EvModel,
    readonly station: number,
    readonly decidedAt: number,
    readonly requestedKWh: number,
    readonly targetSoc: number,
    socAtDecision: number,
    public deadline: number,
    /** leave at the deadline (replayed sessions) rather than when the energy target is reached */
    readonly leaveAtDeadline: boolean,
  ) {
    this.soc = socAtDecision;
  }

  get remainingKWh(): number {
    return Math.max(0, (this.targetSoc - this.soc) * this.model.capacityKWh);
  }
}

/** Power an EV at state of charge soc can draw from a charger of this rating and kind. */
export function chargerLimitKW(ratedKW: number, kind: ChargerKind, model: EvModel, soc: number): number {
  if (kind === 'DC' && model.dcMaxKW <= 0) return 0;
  return Math.min(ratedKW, vehicleLimitKW(model, soc, kind));
}

export interface StationDef {
  id: number;
  name: string;
  node: number;
  lat: number;
  lon: number;
  /** where it came from: osm:node/123, list, generated, single */
  origin: string;
  chargerKW: number[];
  chargerKind: ChargerKind[];
}

/** Callbacks into the simulation. */
export interface StationHooks {
  /** schedule (or reschedule) the energy-done event for a session; returns the handle */
  scheduleDone(s: Session, at: number): number;
  cancel(handle: number): void;
  plugged(s: Session): void;
  /** a per-minute charge record: energy (kWh) over [from, to] */
  record(s: Session, from: number, to: number, energyKWh: number): void;
  powerChanged(deltaKW: number): void;
  /** called after every re-allocation (tests check the power limits here) */
  allocated?(st: Station): void;
}

/** A station's electrical network: the constraint set, which model checks it, and the EVSE each
 * charger is (charger index → EVSE index of the network). */
export interface StationNetwork {
  readonly net: SiteNetwork;
  readonly model: SiteConstraintModel;
  readonly evseOfCharger: Int32Array;
}

export class Station implements SiteView, AllocatableSite {
  readonly chargers: number;
  readonly occupant: (Session | null)[];
  readonly queue: Session[] = [];
  private queueHead = 0;
  readonly plugged: Session[] = [];
  now = 0;
  totalKW = 0;
  peakKW = 0;
  /** aggregate last reported to the simulation through hooks.powerChanged */
  private reportedKW = 0;
  /** ∫ occupied chargers dt (charger-seconds) and energy delivered */
  busyChargerSeconds = 0;
  energyKWh = 0;
  private lastBusyUpdate = 0;

  readonly networkView: SiteNetworkView | null;
  /** SiteView: the network as allocation policies see it */
  get network(): SiteNetworkView | null {
    return this.networkView;
  }
  private readonly ampsW: Float64Array;
  private readonly ampsOut: Float64Array;

  constructor(
    readonly def: StationDef,
    readonly capKW: number,
    readonly periodS: number,
    private readonly allocator: { allocateOne(site: Station, now: number): void },
    private readonly hooks: StationHooks,
    readonly electrical: StationNetwork | null = null,
  ) {
    this.chargers = def.chargerKW.length;
    this.occupant = new Array(this.chargers).fill(null);
    const nN = electrical ? electrical.net.n : 0;
    this.ampsW = new Float64Array(nN);
    this.ampsOut = new Float64Array(nN);
    this.networkView = electrical
      ? {
          net: electrical.net,
          model: electrical.model,
          evse: (i) => electrical.evseOfCharger[this.plugged[i]!.charger]!,
          maxFeasibleKW: (i, rates, up) => this.maxFeasibleKW(i, rates, up),
        }
      : null;
  }

  /** kW → A at the network's voltage, per EVSE, for the plugged sessions' rates (row order). */
  private toAmps(rates: ArrayLike<number>, offset: number, skip: number): Float64Array {
    const nw = this.electrical!;
    const a = this.ampsW.fill(0);
    const k = 1000 / nw.net.voltageV;
    for (let q = 0; q < this.plugged.length; q++) {
      if (q === skip) continue;
      a[nw.evseOfCharger[this.plugged[q]!.charger]!]! += Math.max(0, rates[offset + q]! || 0) * k;
    }
    return a;
  }

  private maxFeasibleKW(i: number, rates: ArrayLike<number>, upKW: number): number {
    const nw = this.electrical!;
    const a = this.toAmps(rates, 0, i);
    const e = nw.evseOfCharger[this.plugged[i]!.charger]!;
    return (nw.net.maxRateA(e, a, (upKW * 1000) / nw.net.voltageV, nw.model) * nw.net.voltageV) / 1000;
  }

  get queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  queued(i: number): Session {
    return this.queue[this.queueHead + i]!;
  }

  freeChargers(): number {
    let n = 0;
    for (let c = 0; c < this.chargers; c++) if (this.occupant[c] === null) n++;
    return n;
  }

  /** Power an EV could get from charger c at state of charge soc, ignoring other EVs. */
  chargerLimitKW(c: number, model: EvModel, soc: number): number {
    return chargerLimitKW(this.def.chargerKW[c]!, this.def.chargerKind[c]!, model, soc);
  }

  /** Best free charger for this EV or -1. */
  bestFreeCharger(model: EvModel, soc: number): number {
    let best = -1;
    let bestKW = 0;
    for (let c = 0; c < this.chargers; c++) {
      if (this.occupant[c] !== null) continue;
      const kw = this.chargerLimitKW(c, model, soc);
      if (kw > bestKW) {
        best = c;
        bestKW = kw;
      }
    }
    return best;
  }

  /** Rated power the EV could reach here (best charger, free or not) — for estimates. */
  bestRatedKW(model: EvModel, soc: number): { kw: number; kind: ChargerKind } {
    let bestKW = 0;
    let kind: ChargerKind = 'AC';
    for (let c = 0; c < this.chargers; c++) {
      const kw = this.chargerLimitKW(c, model, soc);
      if (kw > bestKW) {
        bestKW = kw;
        kind = this.def.chargerKind[c]!;
      }
    }
    return { kw: bestKW, kind };
  }

  // ---- reservations: EVs that chose this station and are driving to it ------------------------

  private resSession: number[] = [];
  private resEta: number[] = [];
  private resWorkS: number[] = [];
  private resIndex = new Map<number, number>();

  /** EVs heading here (a station choice was made for them and they have not arrived yet). */
  get heading(): number {
    return this.resSession.length;
  }

  /** Session `sessionId` is driving here, arriving at `eta`, needing `chargeS` of charging at the
   * best charger it can use (the decision's estimate). */
  reserve(sessionId: number, eta: number, chargeS: number): void {
    this.resIndex.set(sessionId, this.resSession.length);
    this.resSession.push(sessionId);
    this.resEta.push(eta);
    this.resWorkS.push(chargeS);
  }

  /** The reserving session arrived (or gave up on the way); no-op for an unknown session. */
  release(sessionId: number): void {
    const i = this.resIndex.get(sessionId);
    if (i === undefined) return;
    const last = this.resSession.length - 1;
    if (i !== last) {
      this.resSession[i] = this.resSession[last]!;
      this.resEta[i] = this.resEta[last]!;
      this.resWorkS[i] = this.resWorkS[last]!;
      this.resIndex.set(this.resSession[i]!, i);
    }
    this.resSession.pop();
    this.resEta.pop();
    this.resWorkS.pop();
    this.resIndex.delete(sessionId);
  }

  /**
   * Reservation-aware expected wait for an EV arriving at `arrivalAt` (a fluid estimate): the EVs
   * plugged (still charging), queued, and heading here with an earlier arrival form the work ahead
   * W (their remaining charging times); if fewer of them than chargers, 0; otherwise
   * max(0, W / chargers − (arrivalAt − now)): the chargers work off W while the EV drives.
   */
  expectedWaitAtS(arrivalAt: number, now: number): number {
    // every plugged EV holds a charger (also one whose energy is done but has not left yet)
    let ahead = this.queueLength + this.plugged.length;
    for (let i = 0; i < this.resEta.length; i++) if (this.resEta[i]! <= arrivalAt) ahead++;
    if (ahead < this.chargers) return 0;
    let work = this.workAheadS();
    for (let i = 0; i < this.resEta.length; i++) if (this.resEta[i]! <= arrivalAt) work += this.resWorkS[i]!;
    return Math.max(0, work / this.chargers - Math.max(0, arrivalAt - now));
  }

  /**
   * Expected wait for a new arrival (a fluid estimate, documented in the README): 0 if a charger is
   * free and nobody queues; otherwise the remaining charging time of everyone plugged and queued,
   * shared over the chargers.
   */
  expectedWaitS(): number {
    if (this.queueLength === 0 && this.plugged.length < this.chargers) return 0;
    return this.workAheadS() / this.chargers;
  }

  /** Remaining charging time (s) of every EV plugged (still charging, at its granted power) and
   * queued (at the best charger it could use): the work the chargers have ahead of them. */
  workAheadS(): number {
    let work = 0;
    for (const s of this.plugged) {
      if (s.energyDone) continue;
      work += s.powerKW > 0 ? chargeTimeS(s.model, s.soc, s.targetSoc, s.powerKW, s.kind) : 0;
    }
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const s = this.queue[i]!;
      const { kw, kind } = this.bestRatedKW(s.model, s.soc);
      if (kw > 0) work += chargeTimeS(s.model, s.soc, s.targetSoc, kw, kind);
    }
    return work;
  }

  // ---- time integration ----------------------------------------------------------------------

  /** Bring every plugged session's state of charge and the station counters up to `now`. */
  advance(now: number): void {
    if (now > this.lastBusyUpdate) {
      this.busyChargerSeconds += this.plugged.length * (now - this.lastBusyUpdate);
      this.lastBusyUpdate = now;
    }
    this.now = now;
    for (const s of this.plugged) this.advanceSession(s, now);
  }

  private advanceSession(s: Session, now: number): void {
    const dt = now - s.lastUpdate;
    if (dt <= 0) return;
    if (s.powerKW > 0 && !s.energyDone) {
      let soc = socAfter(s.model, s.soc, dt, s.powerKW, s.kind);
      if (soc > s.targetSoc) soc = s.targetSoc;
      const e = (soc - s.soc) * s.model.capacityKWh;
      if (e > 0) {
        s.deliveredKWh += e;
        this.energyKWh += e;
        s.soc = soc;
      }
    }
    s.lastUpdate = now;
  }

  // ---- arrivals, plug-in, departure ----------------------------------------------------------

  /** An EV arrives. Returns true if it plugged in at once, false if it joined the queue. */
  arrive(s: Session, now: number): boolean {
    s.arrivedAt = now;
    if (this.queueLength === 0) {
      const c = this.preferredCharger(s);
      if (c >= 0) {
        this.advance(now);
        this.plug(s, c, now);
        this.reallocate(now);
        return true;
      }
    }
    this.queue.push(s);
    return false;
  }

  /** Replayed sessions name their recorded charger; others take the best free one. */
  preferredCharger: (s: Session) => number = (s) => this.bestFreeCharger(s.model, s.soc);

  /** Remove a waiting session from the queue (it gave up). */
  leaveQueue(s: Session): void {
    const i = this.queue.indexOf(s, this.queueHead);
    if (i < 0) throw new Error(`session ${s.sessionId} is not queued at station ${this.def.id}`);
    this.queue.splice(i, 1);
  }

  private plug(s: Session, c: number, now: number): void {
    this.occupant[c] = s;
    s.charger = c;
    s.kind = this.def.chargerKind[c]!;
    s.ratedKW = this.def.chargerKW[c]!;
    s.pluggedAt = now;
    s.lastUpdate = now;
    s.recordFrom = now;
    s.energyAtRecord = 0;
    s.socStart = s.soc;
    this.plugged.push(s);
    this.hooks.plugged(s);
  }

  /** Unplug a session (energy done or deadline); the queue head may take the charger. */
  unplug(s: Session, now: number): void {
    this.advance(now);
    this.flushRecord(s, now);
    const idx = this.plugged.indexOf(s);
    if (idx < 0) throw new Error(`session ${s.sessionId} is not plugged at station ${this.def.id}`);
    this.plugged.splice(idx, 1);
    this.occupant[s.charger] = null;
    s.unpluggedAt = now;
    if (s.doneEvent >= 0) this.hooks.cancel(s.doneEvent);
    s.doneEvent = -1;
    this.setPower(s, 0);
    // serve the queue head(s) in FIFO order
    while (this.queueLength > 0) {
      const head = this.queue[this.queueHead]!;
      const c = this.preferredCharger(head);
      if (c < 0) break;
      this.queueHead++;
      this.plug(head, c, now);
    }
    if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.reallocate(now);
  }

  /** Mark a session's energy target as reached (it stays plugged if it leaves at its deadline). */
  energyReached(s: Session, now: number): void {
    this.advance(now);
    if (s.doneEvent >= 0) this.hooks.cancel(s.doneEvent);
    s.energyDone = true;
    s.doneEvent = -1;
  }

  // ---- power allocation ----------------------------------------------------------------------

  /** Intermediate totals during a re-allocation are not observable: peaks and the aggregate are
   * updated once the whole allocation is in place (see reallocate). */
  private setPower(s: Session, kw: number): void {
    if (kw !== s.powerKW) {
      this.totalKW += kw - s.powerKW;
      s.powerKW = kw;
    }
  }

  /** Re-run the allocation policy over the plugged sessions (call after advance()). A tick
   * re-allocates many stations in one policy call through `SiteAllocator.allocate` instead. */
  reallocate(now: number): void {
    this.now = now;
    if (this.plugged.length === 0) {
      if (this.reportedKW !== 0) this.hooks.powerChanged(-this.reportedKW);
      this.totalKW = 0;
      this.reportedKW = 0;
      return;
    }
    this.allocator.allocateOne(this, now);
  }

  /** Before an allocation: each plugged session's physical limit now (0 when done or not yet
   * authorised). Returns the number of plugged sessions. */
  prepareAllocation(now: number): number {
    this.now = now;
    for (const s of this.plugged) {
      s.maxKW = s.energyDone || !s.authorized ? 0 : this.chargerLimitKW(s.charger, s.model, s.soc);
    }
    return this.plugged.length;
  }

  /** Apply the policy's rates rates[offset + i] for plugged[i], reschedule energy-done events and
   * report the new aggregate. */
  applyAllocation(rates: Float64Array, offset: number, now: number, enforce = true): void {
    const n = this.plugged.length;
    const nw = this.electrical;
    if (nw && enforce) {
      // whatever the policy asked for, what reaches the EVSEs is feasible: project the currents
      // onto the network's constraint set and allowed rates (SiteNetwork.project)
      for (let i = 0; i < n; i++) {
        const s = this.plugged[i]!;
        const kw = rates[offset + i]!;
        rates[offset + i] = !(kw > 0) || s.energyDone ? 0 : Math.min(kw, s.maxKW);
      }
      const want = this.toAmps(rates, offset, -1);
      const got = nw.net.project(want, nw.model, this.ampsOut);
      const k = nw.net.voltageV / 1000;
      for (let i = 0; i < n; i++) {
        const e = nw.evseOfCharger[this.plugged[i]!.charger]!;
        // one session per EVSE: its rate is the projected current of its EVSE
        rates[offset + i] = Math.min(rates[offset + i]!, got[e]! * k);
      }
    }
    for (let i = 0; i < n; i++) {
      const s = this.plugged[i]!;
      let kw = rates[offset + i]!;
      if (!(kw > 0) || s.energyDone) kw = 0;
      if (kw > s.maxKW) kw = s.maxKW; // the policy may never exceed the physical limit
      const changed = kw !== s.powerKW;
      this.setPower(s, kw);
      if (s.energyDone) continue;
      if (changed || s.doneEvent < 0) {
        if (s.doneEvent >= 0) this.hooks.cancel(s.doneEvent);
        s.doneEvent = -1;
        if (kw > 0) {
          const t = chargeTimeS(s.model, s.soc, s.targetSoc, kw, s.kind);
          if (Number.isFinite(t)) s.doneEvent = this.hooks.scheduleDone(s, now + t);
        }
      }
    }
    // recompute the total exactly (no drift from many small deltas) and report the net change
    let total = 0;
    for (const s of this.plugged) total += s.powerKW;
    this.totalKW = total;
    if (total > this.peakKW) this.peakKW = total;
    if (total !== this.reportedKW) this.hooks.powerChanged(total - this.reportedKW);
    this.reportedKW = total;
    this.hooks.allocated?.(this);
  }

  /** Emit the charge record of [recordFrom, now] for a plugged session and start a new one. */
  flushRecord(s: Session, now: number): void {
    const e = s.deliveredKWh - s.energyAtRecord;
    if (now > s.recordFrom && e > 0) this.hooks.record(s, s.recordFrom, now, e);
    s.recordFrom = now;
    s.energyAtRecord = s.deliveredKWh;
  }
}
