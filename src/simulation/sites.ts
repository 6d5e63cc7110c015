/**
 * Sites: the stations' side of a session's life, and the minute tick.
 *
 * - arrival:    the EV plugs in at once (free charger, no queue) or queues (FIFO, state waiting);
 *               a queued EV gives up after fleet.maxWait (0 = never). Replayed sessions also get a
 *               departure event at their recorded departure.
 * - plug-in:    state charging; the charging protocol (protocol.ts) is told.
 * - energy done or deadline: the protocol decides when the EV leaves; replayed sessions stay
 *               plugged at 0 kW until their departure time.
 * - departure:  the EV unplugs, the queue head takes the charger, and the fleet drives on.
 * - the minute tick (PRIORITY.TICK): every station with plugged EVs is brought up to date and
 *               emits its charge records; at every allocation period boundary all those stations
 *               are re-allocated in ONE call of the allocation policy (SiteAllocator, stations in
 *               ascending id); then stations.csv is sampled.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { SiteAllocator } from '../charging/allocationBatch.js';
import { EvState } from '../charging/ev.js';
import { SessionStatus, Station, type Session } from '../charging/station.js';
import type { Scenario } from '../scenario/scenario.js';
import { scenarioSiteNetwork } from '../scenario/site.js';
import type { Fleet } from './fleet.js';
import type { Observation } from './observation.js';
import type { ChargingProtocol } from './protocol.js';
import type { City } from './world.js';

export class Sites {
  readonly stations: Station[];
  readonly allocator: SiteAllocator;
  /** set by the composition once the protocol exists */
  protocol!: ChargingProtocol;
  private readonly kArriveStation: number;
  private readonly kDone: number;
  private readonly kDeadline: number;
  private readonly kGiveUp: number;
  private readonly kTick: number;
  private readonly due: Station[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    city: City,
    private readonly sessions: Session[],
    private readonly fleet: Fleet,
    private readonly obs: Observation,
    allocation: AllocationBatchPolicy,
  ) {
    const k = kernel;
    this.kArriveStation = k.register('arrive-station', (sid) => this.onArriveStation(sid));
    this.kDone = k.register('energy-done', (sid) => this.onEnergyDone(sid));
    this.kDeadline = k.register('deadline-departure', (sid) => this.onDeadline(sid));
    this.kGiveUp = k.register('give-up', (sid) => this.onGiveUp(sid));
    this.kTick = k.register('minute-tick', (minute) => this.onTick(minute));
    this.allocator = new SiteAllocator(allocation);
    const periodS = sc.site.periodMinutes * 60;
    const capKW = sc.site.capKW ?? Infinity;
    const observers = obs.observers.filter((o) => o.allocated);
    // the site's electrical network (single-site scenarios): chargers mapped to EVSEs by the
    // replayed sessions' charger ids, or by position
    const network = sc.site.network ? scenarioSiteNetwork(sc, city.replayChargerIds ?? city.stations[0]!.chargerKW.length) : null;
    this.stations = city.stations.map(
      (def, si) =>
        new Station(def, capKW, periodS, this.allocator, {
          scheduleDone: (s, at) => kernel.schedule(Math.max(at, kernel.now), PRIORITY.DEPARTURE, this.kDone, s.sessionId),
          cancel: (h) => void kernel.cancel(h),
          plugged: (s) => this.onPlugged(s),
          record: (s, from, to, e) => this.protocol.record(s, from, to, e),
          allocated: observers.length ? (st) => observers.forEach((o) => o.allocated!(st)) : undefined,
          powerChanged: (d) => obs.powerChanged(d),
        }, si === 0 ? network : null),
    );
  }

  /** Start the minute tick. */
  start(): void {
    this.kernel.schedule(0, PRIORITY.TICK, this.kTick, 0);
  }

  /** The EV of session s reaches its station at `at`. */
  arriveAt(s: Session, at: number): void {
    this.kernel.schedule(at, PRIORITY.ARRIVAL, this.kArriveStation, s.sessionId);
  }

  private onArriveStation(sid: number): void {
    const s = this.sessions[sid]!;
    const ev = s.ev;
    const fleet = this.fleet;
    if (fleet.state[ev] === EvState.idle) fleet.setState(ev, EvState.go); // direct arrival
    s.soc = fleet.soc[ev]!;
    const now = this.kernel.now;
    this.stations[s.station]!.release(sid);
    if (!this.stations[s.station]!.arrive(s, now)) {
      fleet.setState(ev, EvState.waiting);
      const maxWait = this.sc.fleet.maxWait;
      if (maxWait > 0) s.giveUpEvent = this.kernel.schedule(now + maxWait, PRIORITY.GIVE_UP, this.kGiveUp, sid);
    }
    if (s.leaveAtDeadline) this.kernel.schedule(Math.max(s.deadline, now), PRIORITY.DEPARTURE, this.kDeadline, sid);
  }

  private onPlugged(s: Session): void {
    this.fleet.setState(s.ev, EvState.charging);
    if (s.giveUpEvent >= 0) this.kernel.cancel(s.giveUpEvent);
    s.giveUpEvent = -1;
    this.protocol.plugged(s);
  }

  private onEnergyDone(sid: number): void {
    const s = this.sessions[sid]!;
    const st = this.stations[s.station]!;
    const now = this.kernel.now;
    s.doneEvent = -1;
    if (s.leaveAtDeadline) {
      st.energyReached(s, now);
      st.flushRecord(s, now);
      st.reallocate(now);
    } else {
      this.protocol.chargingEnded(s);
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
      this.fleet.afterStation(s);
      return;
    }
    this.protocol.chargingEnded(s);
  }

  private onGiveUp(sid: number): void {
    const s = this.sessions[sid]!;
    s.giveUpEvent = -1;
    if (s.status !== SessionStatus.active || !Number.isNaN(s.pluggedAt)) return;
    this.stations[s.station]!.leaveQueue(s);
    s.status = SessionStatus.abandoned;
    s.unpluggedAt = this.kernel.now; // left the station
    this.fleet.afterStation(s);
  }

  /** The EV unplugs and leaves with this status; the fleet takes over. */
  depart(s: Session, status: number): void {
    this.stations[s.station]!.unplug(s, this.kernel.now);
    s.status = status;
    this.fleet.soc[s.ev] = s.soc;
    this.fleet.afterStation(s);
  }

  private onTick(minute: number): void {
    const now = this.kernel.now;
    const realloc = minute % this.sc.site.periodMinutes === 0;
    const S = this.stations.length;
    const due = this.due;
    due.length = 0;
    for (let i = 0; i < S; i++) {
      const st = this.stations[i]!;
      if (st.plugged.length === 0) continue;
      st.advance(now);
      for (const s of st.plugged) if (!s.energyDone) st.flushRecord(s, now);
      if (realloc) due.push(st);
    }
    if (due.length) this.allocator.allocate(due, now);
    for (let i = 0; i < S; i++) this.obs.sample(minute, i, this.stations[i]!);
    const next = (minute + 1) * 60;
    if (next < this.sc.duration) this.kernel.schedule(next, PRIORITY.TICK, this.kTick, minute + 1);
  }
}
