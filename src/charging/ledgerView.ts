/**
 * What a vehicle knows under `policy.information: ledger`: stations as last made final on the
 * records ledger. A `LedgerStationView` implements the same read-only `StationReadView` that
 * candidate search and every feature and choice policy read (src/charging/choiceBatch.ts), so
 * every policy (the learned one too) runs on either information source unchanged.
 *
 * A view holds the station's latest *final* `station-status` record (queue length, plugged EVs,
 * free chargers, work ahead and the time the record describes) and the *final* reservations of
 * EVs heading there. Until a first status is final the station is seen empty (nobody queued or
 * plugged, every charger free). The charger list (ratings, kinds) is static and read from the
 * station itself.
 *
 * Approximations (stated): the recorded figures are used as if they were current (no
 * extrapolation over the record's age); a final reservation counts as heading there while its
 * expected arrival is later than the time of the latest final status (an EV that arrived before
 * that status is in its queue or plugged counts); reservations are never withdrawn on the ledger
 * (an EV that gives up on the way stays counted until a later status covers its arrival time).
 */
import type { EvModel } from './evModels.js';
import type { StationReadView } from './choiceBatch.js';
import type { ChargerKind } from './station.js';

/** The static part of a station the view reads from the station itself. */
export interface StationStatic {
  readonly chargers: number;
  bestRatedKW(model: EvModel, soc: number): { kw: number; kind: ChargerKind };
}

/** One station-status record. */
export interface StationStatus {
  /** the time the record describes (simulated seconds) */
  readonly at: number;
  readonly queueLength: number;
  readonly plugged: number;
  readonly freeChargers: number;
  /** remaining charging time of the EVs plugged and queued (s) */
  readonly workAheadS: number;
}

export class LedgerStationView implements StationReadView {
  /** time of the status in use (-Infinity: none final yet) */
  statusAt = -Infinity;
  queueLength = 0;
  private pluggedN = 0;
  private free: number;
  private work = 0;
  /** final reservations not yet covered by a status: expected arrival and charging time */
  private resEta: number[] = [];
  private resWorkS: number[] = [];
  readonly plugged = { length: 0 };

  constructor(private readonly station: StationStatic) {
    this.free = station.chargers;
  }

  get chargers(): number {
    return this.station.chargers;
  }

  /** A station-status record became final; an older one than the status in use is ignored. */
  applyStatus(s: StationStatus): void {
    if (!(s.at >= this.statusAt)) return;
    this.statusAt = s.at;
    this.queueLength = s.queueLength;
    this.pluggedN = s.plugged;
    this.plugged.length = s.plugged;
    this.free = s.freeChargers;
    this.work = s.workAheadS;
    // reservations whose arrival the status already covers are in its queue / plugged figures
    let j = 0;
    for (let i = 0; i < this.resEta.length; i++) {
      if (this.resEta[i]! > s.at) {
        this.resEta[j] = this.resEta[i]!;
        this.resWorkS[j] = this.resWorkS[i]!;
        j++;
      }
    }
    this.resEta.length = j;
    this.resWorkS.length = j;
  }

  /** A reservation became final: an EV expects to arrive at `eta` needing `chargeS` of charging. */
  addReservation(eta: number, chargeS: number): void {
    if (!(eta > this.statusAt)) return;
    this.resEta.push(eta);
    this.resWorkS.push(chargeS);
  }

  freeChargers(): number {
    return this.free;
  }

  get heading(): number {
    return this.resEta.length;
  }

  /** The station's fluid estimate (Station.expectedWaitS) on the recorded figures. */
  expectedWaitS(): number {
    if (this.queueLength === 0 && this.pluggedN < this.chargers) return 0;
    return this.work / this.chargers;
  }

  /** The reservation-aware estimate (Station.expectedWaitAtS) on the recorded figures and the
   * final reservations. */
  expectedWaitAtS(arrivalAt: number, now: number): number {
    let ahead = this.queueLength + this.pluggedN;
    for (let i = 0; i < this.resEta.length; i++) if (this.resEta[i]! <= arrivalAt) ahead++;
    if (ahead < this.chargers) return 0;
    let work = this.work;
    for (let i = 0; i < this.resEta.length; i++) if (this.resEta[i]! <= arrivalAt) work += this.resWorkS[i]!;
    return Math.max(0, work / this.chargers - Math.max(0, arrivalAt - now));
  }

  bestRatedKW(model: EvModel, soc: number): { kw: number; kind: ChargerKind } {
    return this.station.bestRatedKW(model, soc);
  }
}
