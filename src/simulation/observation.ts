/**
 * Observation: what a run records for its outputs, and nothing else. It keeps the events log
 * (events.csv: every EV state transition), the per-minute station samples (stations.csv), the
 * site-power aggregate and its peak, fans notifications out to extra observers, and computes
 * summary.json at the end. It never changes the simulation.
 */
import type { Kernel } from '../core/kernel.js';
import { growF64, growI32, growU8 } from '../core/typed.js';
import { SessionStatus, type Session, type Station } from '../charging/station.js';
import { percentile } from '../ledger/ledger.js';
import type { Scenario } from '../scenario/scenario.js';
import type { City } from './world.js';
import type { HubSummary, LedgerPart, SimObserver, StationSamples, Summary, TransitionLog } from './types.js';

export class Observation {
  readonly log: TransitionLog | null = null;
  readonly samples: StationSamples | null = null;
  private currentPowerKW = 0;
  private powerTime = -1;
  peakKW = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    stationCount: number,
    readonly observers: readonly SimObserver[],
  ) {
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
      const minutes = Math.ceil(sc.duration / 60);
      const n = minutes * stationCount;
      this.samples = { minutes, stations: stationCount, queue: new Int32Array(n), plugged: new Int32Array(n), powerKW: new Float64Array(n) };
    }
  }

  /** An EV changed state (called by the fleet after the transition was checked). */
  transition(ev: number, from: number, to: number, session: number): void {
    const log = this.log;
    const now = this.kernel.now;
    if (log) {
      if (log.n === log.time.length) {
        const n = log.time.length + 1;
        log.time = growF64(log.time, n);
        log.ev = growI32(log.ev, n);
        log.from = growU8(log.from, n);
        log.to = growU8(log.to, n);
        log.session = growI32(log.session, n);
      }
      const i = log.n++;
      log.time[i] = now;
      log.ev[i] = ev;
      log.from[i] = from;
      log.to[i] = to;
      log.session[i] = session;
    }
    for (const o of this.observers) o.transition?.(now, ev, from, to, session);
  }

  /** The site-power aggregate changed by d kW. It is settled only once every event of an instant
   * has run: the previous instant's final value is folded into the peak when time has moved on. */
  powerChanged(d: number): void {
    if (this.kernel.now !== this.powerTime) {
      if (this.currentPowerKW > this.peakKW) this.peakKW = this.currentPowerKW;
      this.powerTime = this.kernel.now;
    }
    this.currentPowerKW += d;
  }

  /** The per-minute sample of station i (after that minute's records and re-allocation). */
  sample(minute: number, i: number, st: Station): void {
    const smp = this.samples;
    if (!smp || minute >= smp.minutes) return;
    const k = minute * smp.stations + i;
    smp.queue[k] = st.queueLength;
    smp.plugged[k] = st.plugged.length;
    smp.powerKW[k] = st.totalKW;
  }

  /** End of run: the last instant's aggregate counts for the peak. */
  finish(): void {
    if (this.currentPowerKW > this.peakKW) this.peakKW = this.currentPowerKW;
  }

  summarize(
    city: City,
    fleet: { size: number; trips: number; stranded: number; noStationReachable: number },
    sessions: readonly Session[],
    stations: readonly Station[],
    policy: Summary['policy'],
    ledger: LedgerPart,
  ): Summary {
    const sc = this.sc;
    const horizon = sc.duration;
    let completed = 0;
    let abandoned = 0;
    let incomplete = 0;
    let requested = 0;
    let delivered = 0;
    let travelSum = 0;
    let travelN = 0;
    const waits: number[] = [];
    let count = 0;
    for (const s of sessions) {
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
    for (const st of stations) {
      chargers += st.chargers;
      busy += st.busyChargerSeconds;
      energy += st.energyKWh;
    }
    const hub = sc.demand.type === 'hub' ? hubSummary(sessions, horizon) : undefined;
    return {
      scenario: sc.name,
      seed: sc.seed,
      simulatedSeconds: horizon,
      events: this.kernel.executed,
      city: city.info,
      fleet,
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
        count: stations.length,
        chargers,
        utilizationPct: chargers > 0 ? (100 * busy) / (chargers * horizon) : 0,
        peakKW: this.peakKW,
        energyKWh: energy,
      },
      policy,
      ledger,
      ...(hub ? { hub } : {}),
    };
  }
}

/** Time in system of a DC hub's arrivals (see HubSummary). */
export function hubSummary(sessions: readonly Session[], horizon: number): HubSummary {
  let tis = 0;
  let tisServed = 0;
  let wait = 0;
  let charge = 0;
  let served = 0;
  let abandoned = 0;
  let atHorizon = 0;
  for (const s of sessions) {
    const left = Number.isNaN(s.unpluggedAt) ? horizon : s.unpluggedAt;
    const t = left - s.arrivedAt;
    tis += t;
    wait += (Number.isNaN(s.pluggedAt) ? left : s.pluggedAt) - s.arrivedAt;
    if (s.status === SessionStatus.completed) {
      served++;
      tisServed += t;
      charge += s.unpluggedAt - s.pluggedAt;
    } else if (s.status === SessionStatus.abandoned) abandoned++;
    else atHorizon++;
  }
  const n = sessions.length;
  return {
    arrivals: n,
    meanTimeInSystemSeconds: n ? tis / n : 0,
    meanTimeInSystemServedSeconds: served ? tisServed / served : 0,
    meanWaitAllSeconds: n ? wait / n : 0,
    meanChargeSeconds: served ? charge / served : 0,
    served,
    abandoned,
    atHorizon,
  };
}
