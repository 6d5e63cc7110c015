/**
 * The charging protocol: what is submitted to which ledger role when, and what the city waits for.
 *
 *   plug-in          → records: session-start. With ledger.coupling.waitForStart the EV gets no
 *                      power until that record is final; if it fails, or is not final within
 *                      startTimeout (0 = no limit), the EV unplugs without charging (abandoned).
 *   each charge record (at most one minute, priced by integrating the tariff)
 *                    → records: charge; streaming payment backends also get payments: payment.
 *   charging over    → records: session-end, then payments: payment (the whole price, or the
 *                      closing payment of a streaming backend). Without waitForPayment the EV
 *                      leaves at once; with it, it stays plugged at 0 kW (its power goes to the
 *                      others) until the payment is final, failed (counted) or paymentTimeout
 *                      has passed (counted); then it leaves.
 *   calculating      → records: reservation; each station → records: station-status (only when
 *                      the calculating phase uses the ledger: calculating.ts, through
 *                      submitRecord; their settlements go to ProtocolContext.infoSettled).
 * Settlements arrive at PRIORITY.LEDGER. Timeouts are events at PRIORITY.GIVE_UP.
 *
 * `ProtocolFactory` is the injection point (SimulationParts.protocol); `ledgerProtocol` is the
 * default, built from the scenario's stack and coupling.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { Streams } from '../core/random.js';
import { SessionStatus, type Session, type Station } from '../charging/station.js';
import { loadTariff, type Tariff } from '../charging/tariff.js';
import { LedgerPort, type LedgerTx, type Settlement } from '../ledger/ledger.js';
import { Network } from '../ledger/network.js';
import { createBackend } from '../ledger/registry.js';
import { TxCodec, type TxKind } from '../ledger/tx.js';
import { resolveScenarioPath, type ResolvedStack, type Scenario } from '../scenario/scenario.js';
import type { LedgerPart, SimObserver } from './types.js';

/** What a protocol may use of the run. */
export interface ProtocolContext {
  readonly sc: Scenario;
  readonly kernel: Kernel;
  readonly streams: Streams;
  readonly stack: ResolvedStack;
  readonly stations: readonly Station[];
  readonly sessions: readonly Session[];
  readonly observers: readonly SimObserver[];
  /** the EV unplugs and leaves the station with this final status */
  depart(s: Session, status: number): void;
  /** settlements of the calculating phase's records (reservation, station-status) */
  infoSettled?(st: Settlement): void;
  /** the run's tariff (src/simulation/tariffRun.ts); absent: loaded from sc.tariff (flat or tou) */
  readonly tariff?: Tariff;
}

export interface ChargingProtocol {
  /** a session plugged in (the station has assigned its charger) */
  plugged(s: Session): void;
  /** a charge record: energyKWh delivered over [from, to] */
  record(s: Session, from: number, to: number, energyKWh: number): void;
  /** charging is over (energy target or deadline): decide when the EV leaves */
  chargingEnded(s: Session): void;
  /** the calculating phase's records (reservation, station-status) to the records role; a
   * protocol without it cannot run policy.information ledger or policy.waitForReservation */
  submitRecord?(kind: TxKind, sessionId: number, ev: number, station: number, payload: readonly number[]): LedgerTx;
  /** end of run (before the summary) */
  finish(): void;
  /** the ledger part of summary.json */
  summary(horizon: number): LedgerPart;
  /** the ledger ports (ledger.csv, timing.json) */
  ports(): LedgerPort[];
  /** wall-clock compute of the ledgers (timing.json only) */
  wallClock(): Record<string, unknown>;
}

export type ProtocolFactory = (ctx: ProtocolContext) => ChargingProtocol;

/** The default protocol: the scenario's ledger stack and coupling. */
export const ledgerProtocol: ProtocolFactory = (ctx) => new LedgerProtocol(ctx);

export class LedgerProtocol implements ChargingProtocol {
  readonly records: LedgerPort;
  readonly payments: LedgerPort;
  private readonly codec: TxCodec;
  private readonly tariff: Tariff;
  private readonly startEpoch: number;
  private readonly waitForStart: boolean;
  private readonly waitForPayment: boolean;
  /** the payments backend streams: one payment per charge record and a closing one per session */
  private readonly streaming: boolean;
  private readonly kStartTimeout: number;
  private readonly kPaymentTimeout: number;
  private failedStarts = 0;
  private failedPayments = 0;
  private startTimeouts = 0;
  private paymentTimeouts = 0;

  constructor(private readonly ctx: ProtocolContext) {
    const { sc, kernel, stack } = ctx;
    this.startEpoch = Date.parse(sc.start) / 1000;
    this.tariff = ctx.tariff ?? loadTariff(sc.tariff.type === 'tou' ? { ...sc.tariff, file: resolveScenarioPath(sc, sc.tariff.file) } : sc.tariff);
    this.kStartTimeout = kernel.register('start-timeout', (sid) => this.onStartTimeout(sid));
    this.kPaymentTimeout = kernel.register('payment-timeout', (sid) => this.onPaymentTimeout(sid));
    this.waitForStart = sc.ledger.coupling.waitForStart;
    this.waitForPayment = sc.ledger.coupling.waitForPayment;
    const codec = TxCodec.fromConfig(sc.ledger.codec, sc.seed);
    this.codec = codec;
    const onSettled = (st: Settlement) => {
      this.onLedgerSettled(st);
      for (const o of ctx.observers) o.settled?.(st);
    };
    const port = (role: string, instance: string, ref: ResolvedStack['records']) =>
      new LedgerPort(kernel, {
        role,
        instance,
        streams: ctx.streams,
        network: new Network(stack.network, ctx.streams.stream(`ledger/${instance}/network`)),
        codec,
        create: (c) => createBackend(ref.backend, c, ref.params),
        onSettled,
      });
    if (stack.shared) {
      this.records = port('records+payments', stack.records.backend, stack.records);
      this.payments = this.records;
    } else {
      this.records = port('records', `records-${stack.records.backend}`, stack.records);
      this.payments = port('payments', `payments-${stack.payments.backend}`, stack.payments);
    }
    this.streaming = this.payments.ledger.streaming === true;
  }

  plugged(s: Session): void {
    if (this.waitForStart) {
      s.authorized = false; // no power until the session-start record is final
      const to = this.ctx.sc.ledger.coupling.startTimeout;
      if (to > 0) s.ledgerTimer = this.ctx.kernel.schedule(this.ctx.kernel.now + to, PRIORITY.GIVE_UP, this.kStartTimeout, s.sessionId);
    }
    this.records.submit('session-start', s.sessionId, s.ev, s.station, 0, 0, 0, s.soc);
  }

  submitRecord(kind: TxKind, sessionId: number, ev: number, station: number, payload: readonly number[]): LedgerTx {
    return this.records.submitPayload(kind, sessionId, ev, station, payload);
  }

  /** A charge record of [from, to] (at most one minute): priced by integrating the tariff over
   * the interval at the record's mean power (exact when a block boundary falls inside it). */
  record(s: Session, from: number, to: number, energyKWh: number): void {
    const kw = (energyKWh * 3600) / (to - from);
    const cost = this.tariff.cost(this.startEpoch + from, to - from, kw);
    s.price += cost;
    this.records.submit('charge', s.sessionId, s.ev, s.station, energyKWh, 0, kw, s.soc);
    if (this.streaming) this.payments.submit('payment', s.sessionId, s.ev, s.station, energyKWh, cost, kw, s.soc);
  }

  /** Meter totals and payment go to the ledger; the EV leaves at once, or (waitForPayment) when
   * its payment is final. */
  chargingEnded(s: Session): void {
    if (s.awaitingPayment) return;
    const st = this.ctx.stations[s.station]!;
    const now = this.ctx.kernel.now;
    st.energyReached(s, now);
    st.flushRecord(s, now);
    s.chargingEndedAt = now;
    this.records.submit('session-end', s.sessionId, s.ev, s.station, s.deliveredKWh, 0, 0, s.soc);
    if (this.waitForPayment) {
      s.awaitingPayment = true;
      st.reallocate(now); // its power goes to the others while it waits
      const to = this.ctx.sc.ledger.coupling.paymentTimeout;
      if (to > 0) s.ledgerTimer = this.ctx.kernel.schedule(now + to, PRIORITY.GIVE_UP, this.kPaymentTimeout, s.sessionId);
      this.submitPayment(s);
    } else {
      this.submitPayment(s);
      this.ctx.depart(s, SessionStatus.completed);
    }
  }

  /** The whole price, or (streaming backends) the closing payment after the per-minute ones. */
  private submitPayment(s: Session): void {
    if (this.streaming) this.payments.submit('payment', s.sessionId, s.ev, s.station, s.deliveredKWh, 0, 0, s.soc, true);
    else this.payments.submit('payment', s.sessionId, s.ev, s.station, s.deliveredKWh, s.price);
  }

  /** The session-start record is not final in time: the EV unplugs without charging and drives on. */
  private onStartTimeout(sid: number): void {
    const s = this.ctx.sessions[sid]!;
    s.ledgerTimer = -1;
    if (s.status !== SessionStatus.active || s.authorized) return;
    this.startTimeouts++;
    this.ctx.depart(s, SessionStatus.abandoned);
  }

  /** The payment is not final in time: the EV leaves anyway (counted). */
  private onPaymentTimeout(sid: number): void {
    const s = this.ctx.sessions[sid]!;
    s.ledgerTimer = -1;
    if (s.status !== SessionStatus.active || !s.awaitingPayment) return;
    this.paymentTimeouts++;
    this.ctx.depart(s, SessionStatus.completed);
  }

  private clearLedgerTimer(s: Session): void {
    if (s.ledgerTimer >= 0) this.ctx.kernel.cancel(s.ledgerTimer);
    s.ledgerTimer = -1;
  }

  /** Ledger settlements that the city waits for (coupling); everything else is bookkeeping. */
  private onLedgerSettled(st: Settlement): void {
    const tx = st.tx;
    if (tx.kind === 'reservation' || tx.kind === 'station-status') {
      this.ctx.infoSettled?.(st);
      return;
    }
    const s = this.ctx.sessions[tx.sessionId];
    if (!s || s.status !== SessionStatus.active) return;
    const now = this.ctx.kernel.now;
    if (tx.kind === 'session-start' && this.waitForStart && !s.authorized) {
      const station = this.ctx.stations[s.station]!;
      this.clearLedgerTimer(s);
      if (st.status === 'final') {
        s.authorized = true;
        s.authorizedAt = now;
        station.advance(now);
        station.reallocate(now);
      } else {
        this.failedStarts++;
        this.ctx.depart(s, SessionStatus.abandoned);
      }
    } else if (tx.kind === 'payment' && this.waitForPayment && s.awaitingPayment && (!this.streaming || tx.closing)) {
      this.clearLedgerTimer(s);
      if (st.status !== 'final') this.failedPayments++;
      this.ctx.depart(s, SessionStatus.completed);
    }
  }

  finish(): void {
    for (const p of this.ports()) p.ledger.finish?.();
  }

  ports(): LedgerPort[] {
    return this.ctx.stack.shared ? [this.records] : [this.records, this.payments];
  }

  summary(horizon: number): LedgerPart {
    const ports = this.ports();
    const audit: string[] = [];
    for (const p of ports) for (const line of p.ledger.audit()) audit.push(`${p.role} (${p.ledger.backend}): ${line}`);
    let authSum = 0;
    let authN = 0;
    let holdSum = 0;
    let holdN = 0;
    for (const s of this.ctx.sessions) {
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
      stack: this.ctx.stack.name,
      coupling: { ...this.ctx.sc.ledger.coupling },
      meanAuthorizationDelaySeconds: authN ? authSum / authN : 0,
      meanPaymentHoldSeconds: holdN ? holdSum / holdN : 0,
      failedStarts: this.failedStarts,
      startTimeouts: this.startTimeouts,
      failedPayments: this.failedPayments,
      paymentTimeouts: this.paymentTimeouts,
      auditProblems: audit.length,
      audit: audit.slice(0, 20),
      backends: ports.map((p) => p.summary(horizon)),
    };
  }

  wallClock(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of this.ports()) {
      out[p.role] = {
        backend: p.ledger.backend,
        wallSeconds: p.wallMs / 1000,
        microsecondsPerTx: p.submitted ? (p.wallMs * 1000) / p.submitted : 0,
      };
    }
    out.codec = this.codec.wallClockStats();
    return out;
  }
}
