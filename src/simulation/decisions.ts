/**
 * Decisions: *which* station an EV in `calculating` charges at, decided in batches.
 *
 * An EV that enters `calculating` at time t is queued with its decision time
 * t + fleet.decisionTime. All EVs whose decision falls on one instant are decided together by one
 * event at PRIORITY.DECIDE (after every trip event of that instant, before the minute tick), in
 * one call of the station-choice policy, in the order they entered `calculating` (the order in
 * which per-EV decisions were taken before batching; with a constant decisionTime that is also
 * the order of their decision times). For each EV the candidate set is built from read-only views
 * (src/charging/choiceBatch.ts): the K = policy.candidates stations nearest by travel time that
 * it can reach and that have a charger it can use. An EV without candidates, or for which the
 * policy returns -1, drives on to its destination (counted as noStationReachable); otherwise a
 * session is opened at the chosen station with its planned departure
 *   deadline = now + travel + expected wait + expected charging time × (1 + fleet.deadlineSlack)
 * and the EV drives there (state go).
 *
 * What the batch reads of the stations, and whether the EV goes at once or first waits for its
 * reservation on the records ledger, is the calculating phase's (calculating.ts,
 * policy.information and policy.waitForReservation); by default the live stations, at once.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import { growF64, growI32 } from '../core/typed.js';
import { ChoiceBatchBuilder, type TravelRowView } from '../charging/choiceBatch.js';
import type { StationChoicePolicy } from '../charging/choice.js';
import { EvState } from '../charging/ev.js';
import { Session, type Station } from '../charging/station.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Fleet } from './fleet.js';
import type { Calculating } from './calculating.js';
import type { Observation } from './observation.js';
import type { City } from './world.js';

export class Decisions {
  /** EVs waiting for a decision (FIFO, ascending decision time) */
  private pendingEv: Int32Array = new Int32Array(64);
  private pendingAt: Float64Array = new Float64Array(64);
  private head = 0;
  private tail = 0;
  /** decision time of the last scheduled batch event (-1: none) */
  private scheduledAt = -1;
  private readonly kDecide: number;
  private readonly builder = new ChoiceBatchBuilder();
  private batchIndex: Int32Array = new Int32Array(64);
  private picks: Int32Array = new Int32Array(64);
  private readonly row = { timeS: new Float32Array(0) as ArrayLike<number>, lengthM: new Float32Array(0) as ArrayLike<number>, offset: 0 } satisfies TravelRowView;
  noStation = 0;
  batches = 0;
  /** roaming (src/simulation/roaming.ts): the stations an EV may choose (undefined: all), and what
   * the restriction left out (travel time of the nearest excluded station, of the nearest
   * candidate; Infinity: none) */
  candidateMask?: (ev: number) => Uint8Array | undefined;
  restricted?: (ev: number, excludedNearestS: number, nearestCandidateS: number) => void;

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    private readonly city: City,
    private readonly stations: readonly Station[],
    private readonly sessions: Session[],
    private readonly fleet: Fleet,
    private readonly obs: Observation,
    readonly policy: StationChoicePolicy,
    /** schedules the EV's arrival at the station of a new session */
    private readonly arriveAt: (s: Session, at: number) => void,
    /** what the batch reads and whether the EV waits for its reservation (calculating.ts) */
    private readonly calc: Calculating,
  ) {
    this.kDecide = kernel.register('decide-batch', () => this.onDecideBatch());
    calc.go = (s, lengthM, chargeS) => this.goLater(s, lengthM, chargeS);
  }

  /** EV ev entered `calculating` now. */
  request(ev: number): void {
    this.calc.entered(ev);
    const at = this.kernel.now + Math.max(0, this.sc.fleet.decisionTime);
    if (this.tail === this.pendingEv.length) this.compact();
    this.pendingEv[this.tail] = ev;
    this.pendingAt[this.tail] = at;
    this.tail++;
    if (at !== this.scheduledAt) {
      this.kernel.schedule(at, PRIORITY.DECIDE, this.kDecide);
      this.scheduledAt = at;
    }
  }

  private compact(): void {
    const n = this.tail - this.head;
    if (this.head > 0 && n * 2 <= this.pendingEv.length) {
      this.pendingEv.copyWithin(0, this.head, this.tail);
      this.pendingAt.copyWithin(0, this.head, this.tail);
    } else {
      const ev = growI32(new Int32Array(0), this.pendingEv.length * 2);
      const at = growF64(new Float64Array(0), this.pendingEv.length * 2);
      ev.set(this.pendingEv.subarray(this.head, this.tail));
      at.set(this.pendingAt.subarray(this.head, this.tail));
      this.pendingEv = ev;
      this.pendingAt = at;
    }
    this.head = 0;
    this.tail = n;
  }

  private onDecideBatch(): void {
    const now = this.kernel.now;
    const start = this.head;
    let end = start;
    while (end < this.tail && this.pendingAt[end]! <= now) end++;
    this.head = end;
    if (this.scheduledAt <= now) this.scheduledAt = -1;
    if (end === start) return;
    const m = end - start;
    const fleet = this.fleet;
    const table = this.city.stationTo!;
    const b = this.builder;
    const K = Math.min(this.sc.policy.candidates, this.stations.length);
    b.begin(now, K, this.policy.features ?? []);
    this.row.timeS = table.timeS;
    this.row.lengthM = table.lengthM;
    if (this.batchIndex.length < m) this.batchIndex = new Int32Array(m * 2);
    const target = this.sc.fleet.targetSoc;
    const views = this.calc.views;
    for (let q = 0; q < m; q++) {
      const ev = this.pendingEv[start + q]!;
      this.row.offset = table.rowOffset(fleet.nodeOf(fleet.locKind[ev]!, fleet.locIdx[ev]!, ev));
      const mask = this.candidateMask?.(ev);
      this.batchIndex[q] = b.add({ ev, soc: fleet.soc[ev]!, model: fleet.model(ev), targetSoc: target }, this.row, views, mask);
      if (mask !== undefined) this.restricted?.(ev, b.excludedNearestS, this.batchIndex[q]! < 0 ? Infinity : b.travelTimeS[this.batchIndex[q]! * b.K]!);
    }
    const batch = b.finish();
    if (this.picks.length < batch.n) this.picks = new Int32Array(batch.n * 2);
    const picks = this.picks;
    if (batch.n > 0) {
      picks.fill(-1, 0, batch.n);
      this.policy.decideBatch(batch, picks);
      this.batches++;
      for (const o of this.obs.observers) o.decided?.(batch, picks.subarray(0, batch.n));
    }
    for (let q = 0; q < m; q++) {
      const ev = this.pendingEv[start + q]!;
      const i = this.batchIndex[q]!;
      const k = i < 0 ? -1 : picks[i]!;
      if (k < 0) {
        this.noStation++;
        this.calc.left(ev);
        fleet.driveToDestination(ev);
        continue;
      }
      if (!(k < batch.count[i]!) || (k | 0) !== k) {
        throw new Error(`station choice "${this.policy.name}" chose candidate ${k} of decision ${i}, which has ${batch.count[i]} (allowed: -1 or 0..${batch.count[i]! - 1})`);
      }
      this.open(ev, now, batch, i * batch.K + k);
    }
  }

  /** Open a session at the station of candidate row r and drive there. */
  private open(ev: number, now: number, b: ReturnType<ChoiceBatchBuilder['finish']>, r: number): void {
    const fleet = this.fleet;
    const model = fleet.model(ev);
    const target = this.sc.fleet.targetSoc;
    const station = b.station[r]!;
    const travel = b.travelTimeS[r]!;
    const deadline = now + travel + b.expectedWaitS[r]! + b.expectedChargeS[r]! * (1 + this.sc.fleet.deadlineSlack);
    const socThere = b.socAtArrival[r]!;
    const requested = Math.max(0, (target - socThere) * model.capacityKWh);
    const sess = new Session(this.sessions.length, ev, model, station, now, requested, target, socThere, deadline, false);
    sess.travelS = travel;
    this.sessions.push(sess);
    this.stations[station]!.reserve(sess.sessionId, now + travel, b.expectedChargeS[r]!);
    fleet.sessionOf[ev] = sess.sessionId;
    if (!this.calc.decided(sess, b.lengthM[r]!, b.expectedChargeS[r]!)) return; // waits in calculating
    this.calc.left(ev);
    fleet.setState(ev, EvState.go);
    fleet.consume(ev, b.lengthM[r]!);
    this.arriveAt(sess, now + travel);
  }

  /** A session whose EV waited in `calculating` for its reservation goes now: its deadline moves
   * by the wait, its reservation at the station gets the new arrival time. */
  private goLater(s: Session, lengthM: number, chargeS: number): void {
    const now = this.kernel.now;
    const fleet = this.fleet;
    s.deadline += now - s.decidedAt;
    const st = this.stations[s.station]!;
    st.release(s.sessionId);
    st.reserve(s.sessionId, now + s.travelS, chargeS);
    this.calc.left(s.ev);
    fleet.setState(s.ev, EvState.go);
    fleet.consume(s.ev, lengthM);
    this.arriveAt(s, now + s.travelS);
  }
}
