/**
 * The calculating phase on the ledger: what a vehicle knows when it chooses a station, and the
 * reservation it submits before it goes (issue 8 §2).
 *
 *   policy.information: live    the choice batch reads the live station objects (as before).
 *   policy.information: ledger  it reads `LedgerStationView`s (src/charging/ledgerView.ts): each
 *                               station's latest *final* station-status record and the *final*
 *                               reservations of other EVs. Every statusInterval (events at
 *                               PRIORITY.TICK, from t = statusInterval on) each station whose
 *                               queue length, plugged EVs or free chargers changed since its
 *                               last record submits a `station-status` record to the records
 *                               ledger (with its work ahead: the remaining charging time of the
 *                               EVs plugged and queued, at their state of charge of their last
 *                               update). Until a first status of a station is final it is seen
 *                               empty.
 *
 * Reservations are submitted when the vehicles coordinate through the ledger: under `ledger`
 * information, or with policy.waitForReservation. After the station choice (PRIORITY.DECIDE) the
 * EV submits a `reservation` (session, EV, station, expected arrival = decision time + travel,
 * expected charging time) to the records ledger. Without waitForReservation it goes at once;
 * with it, it stays in `calculating` until the reservation settles (PRIORITY.LEDGER: final, or
 * failed — counted — it goes either way) or reservationTimeout has passed (PRIORITY.GIVE_UP;
 * counted as a timeout), then goes: its session's deadline moves by the time it waited and its
 * arrival is that time + travel. Under `live` information without waitForReservation nothing of
 * this runs and the city is exactly as before.
 *
 * Recorded: reservations submitted / final / failed / timed out, status records, the time each
 * EV spent in `calculating` (from entering it to going or driving on; mean and p95) and how often
 * the chosen station as seen differed from the station as it was (ledger information).
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { StationReadView } from '../charging/choiceBatch.js';
import { LedgerStationView } from '../charging/ledgerView.js';
import type { Session, Station } from '../charging/station.js';
import { percentile, type LedgerTx, type Settlement } from '../ledger/ledger.js';
import type { TxKind } from '../ledger/tx.js';
import type { Scenario } from '../scenario/scenario.js';

/** What the calculating phase submits through (the records role of the charging protocol). */
export type RecordSubmitter = (kind: TxKind, sessionId: number, ev: number, station: number, payload: readonly number[]) => LedgerTx;

/** summary.json `calculating` (present when the calculating phase uses the ledger). */
export interface CalculatingSummary {
  information: 'live' | 'ledger';
  waitForReservation: boolean;
  reservationTimeout: number;
  statusInterval: number;
  reservationsSubmitted: number;
  reservationsFinal: number;
  reservationsFailed: number;
  /** EVs that went because their reservation was not final within reservationTimeout */
  reservationTimeouts: number;
  /** EVs still waiting for their reservation at the horizon */
  reservationsWaiting: number;
  statusRecordsSubmitted: number;
  statusRecordsFinal: number;
  /** calculating episodes that ended (went to a station or drove on) */
  decisions: number;
  meanCalculatingSeconds: number;
  p95CalculatingSeconds: number;
  maxCalculatingSeconds: number;
  /** ledger information: percentage of station choices for which the chosen station as seen
   * (queue length, plugged EVs) differed from the station as it was (0 under live information) */
  staleChoicesPct: number;
}

interface Held {
  readonly session: Session;
  readonly lengthM: number;
  readonly chargeS: number;
  timer: number;
}

export class Calculating {
  /** the calculating phase submits reservations (ledger information or waitForReservation) */
  readonly enabled: boolean;
  readonly views: readonly StationReadView[];
  private readonly ledgerViews: LedgerStationView[] | null;
  private readonly wait: boolean;
  private enteredAt: Float64Array = new Float64Array(0);
  private readonly durations: number[] = [];
  private readonly held = new Map<number, Held>();
  private readonly kTimeout: number;
  private readonly kStatus: number;
  private lastQ: Int32Array;
  private lastP: Int32Array;
  private lastF: Int32Array;
  private submitted = 0;
  private final = 0;
  private failed = 0;
  private timeouts = 0;
  private statusSubmitted = 0;
  private statusFinal = 0;
  private stale = 0;
  /** set by the composition: the records role of the protocol */
  submit: RecordSubmitter | null = null;
  /** set by the composition: the held EV goes (open its trip to the station at `now`) */
  go: (s: Session, lengthM: number, chargeS: number) => void = () => {
    throw new Error('calculating: no go handler attached');
  };

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    private readonly stations: readonly Station[],
  ) {
    const p = sc.policy;
    this.wait = p.waitForReservation;
    this.enabled = p.information === 'ledger' || p.waitForReservation;
    this.ledgerViews = p.information === 'ledger' ? stations.map((st) => new LedgerStationView(st)) : null;
    this.views = this.ledgerViews ?? stations;
    this.kTimeout = kernel.register('reservation-timeout', (sid) => this.onTimeout(sid));
    this.kStatus = kernel.register('station-status', () => this.onStatus());
    const S = stations.length;
    this.lastQ = new Int32Array(S);
    this.lastP = new Int32Array(S);
    this.lastF = Int32Array.from(stations, (st) => st.chargers);
    if (this.ledgerViews) kernel.schedule(p.statusInterval, PRIORITY.TICK, this.kStatus);
  }

  /** EV ev entered `calculating` now. */
  entered(ev: number): void {
    if (!this.enabled) return;
    if (ev >= this.enteredAt.length) {
      const a = new Float64Array(Math.max(ev + 1, this.enteredAt.length * 2, 64));
      a.set(this.enteredAt);
      this.enteredAt = a;
    }
    this.enteredAt[ev] = this.kernel.now;
  }

  /** EV ev leaves `calculating` now (goes to a station or drives on). */
  left(ev: number): void {
    if (!this.enabled) return;
    this.durations.push(this.kernel.now - this.enteredAt[ev]!);
  }

  /**
   * A station choice opened session s (travel lengthM, expected charging chargeS). Submits the
   * reservation; returns true when the EV goes now, false when it waits for the reservation.
   */
  decided(s: Session, lengthM: number, chargeS: number): boolean {
    if (!this.enabled) return true;
    if (this.submit === null) throw new Error('calculating: the charging protocol does not carry reservations (ChargingProtocol.submitRecord)');
    const now = this.kernel.now;
    if (this.ledgerViews) {
      const v = this.ledgerViews[s.station]!;
      const live = this.stations[s.station]!;
      if (v.queueLength !== live.queueLength || v.plugged.length !== live.plugged.length) this.stale++;
    }
    this.submitted++;
    if (this.wait) {
      // held before submitting: a settlement, however soon, finds it
      const to = this.sc.policy.reservationTimeout;
      const timer = to > 0 ? this.kernel.schedule(now + to, PRIORITY.GIVE_UP, this.kTimeout, s.sessionId) : -1;
      this.held.set(s.sessionId, { session: s, lengthM, chargeS, timer });
    }
    this.submit('reservation', s.sessionId, s.ev, s.station, [now + s.travelS, chargeS]);
    return !this.wait;
  }

  /** A reservation or station-status record settled on the records ledger. */
  settled(st: Settlement): void {
    const tx = st.tx;
    if (tx.kind === 'station-status') {
      if (st.status !== 'final') return;
      this.statusFinal++;
      const p = tx.payload!;
      this.ledgerViews?.[tx.station]?.applyStatus({ at: tx.submittedAt, queueLength: p[0]!, plugged: p[1]!, freeChargers: p[2]!, workAheadS: p[3]! });
      return;
    }
    if (tx.kind !== 'reservation') return;
    if (st.status === 'final') {
      this.final++;
      const p = tx.payload!;
      this.ledgerViews?.[tx.station]?.addReservation(p[0]!, p[1]!);
    } else this.failed++;
    const h = this.held.get(tx.sessionId);
    if (h === undefined) return;
    if (h.timer >= 0) this.kernel.cancel(h.timer);
    this.release(h);
  }

  private onTimeout(sid: number): void {
    const h = this.held.get(sid);
    if (h === undefined) return;
    h.timer = -1;
    this.timeouts++;
    this.release(h);
  }

  private release(h: Held): void {
    this.held.delete(h.session.sessionId);
    this.go(h.session, h.lengthM, h.chargeS);
  }

  /** Every statusInterval: a station-status record from each station whose state changed. */
  private onStatus(): void {
    const now = this.kernel.now;
    for (let j = 0; j < this.stations.length; j++) {
      const st = this.stations[j]!;
      const q = st.queueLength;
      const p = st.plugged.length;
      const f = st.freeChargers();
      if (q === this.lastQ[j] && p === this.lastP[j] && f === this.lastF[j]) continue;
      this.lastQ[j] = q;
      this.lastP[j] = p;
      this.lastF[j] = f;
      this.statusSubmitted++;
      this.submit!('station-status', 0, j, j, [q, p, f, st.workAheadS()]);
    }
    const next = now + this.sc.policy.statusInterval;
    if (next <= this.sc.duration) this.kernel.schedule(next, PRIORITY.TICK, this.kStatus);
  }

  summary(): CalculatingSummary | undefined {
    if (!this.enabled) return undefined;
    const d = Float64Array.from(this.durations).sort();
    let sum = 0;
    for (const x of d) sum += x;
    const p = this.sc.policy;
    return {
      information: p.information,
      waitForReservation: p.waitForReservation,
      reservationTimeout: p.reservationTimeout,
      statusInterval: p.statusInterval,
      reservationsSubmitted: this.submitted,
      reservationsFinal: this.final,
      reservationsFailed: this.failed,
      reservationTimeouts: this.timeouts,
      reservationsWaiting: this.held.size,
      statusRecordsSubmitted: this.statusSubmitted,
      statusRecordsFinal: this.statusFinal,
      decisions: d.length,
      meanCalculatingSeconds: d.length ? sum / d.length : 0,
      p95CalculatingSeconds: percentile(d, 95),
      maxCalculatingSeconds: d.length ? d[d.length - 1]! : 0,
      staleChoicesPct: this.submitted ? (100 * this.stale) / this.submitted : 0,
    };
  }
}
