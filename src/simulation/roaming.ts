/**
 * Roaming between utilities (paper 003; docs/roaming.md), composed into a run when the scenario has
 * a `roaming` block. The domain is in src/roaming/ (areas, CIN router, AAA nodes and VCPD, CRP
 * contracts, accounts, audit); this file connects it to the run:
 *
 *   - every station belongs to the utility whose service area holds it, every EV to the utility of
 *     its home node (its CIN carries that utility's prefix);
 *   - plug-in: the station sends the EV's CIN to its R-GW/R, which routes it by prefix. Domestic,
 *     or a visitor whose profile is in the visited AAA's VCPD: authorised locally. A first visit:
 *     the request goes to the home AAA, which sends the profile to the visited AAA (stored in its
 *     VCPD). Clearing house: every roaming request goes through the hub to the home AAA and back.
 *     The EV gets no power until the answer is back (like ledger.coupling.waitForStart); then the
 *     ledger protocol's plug-in runs (session-start record …). Answers arrive at PRIORITY.LEDGER.
 *     The price of the visited utility for the home utility's customers is locked at that instant
 *     (CRP contract, load-dependent on the visited utility's charger occupancy).
 *   - charging over: a domestic session goes on the EV's bill; a roaming one is invoiced by the
 *     visited utility to the home one (the EV's bill gets the home utility's roaming price).
 *     consortium: a roaming-invoice transaction on the consortium chain (a LedgerPort of its own,
 *     `roaming.chain`), and once it is final the home utility's roaming-settlement transaction;
 *     the invoice is settled when that is final. clearing-house: the invoice goes to the hub
 *     (message), which pays the visited utility `settlementDelay` later, less its fee.
 *   - mode none: an EV may choose only its home utility's stations (candidate set restricted in the
 *     choice batch); a decision in which a nearer station of another utility was left out counts as
 *     a refusal. An EV at a foreign station anyway is refused at plug-in (abandoned).
 *   - a visiting profile is deleted when the EV arrives at a destination in another area
 *     (`expireOnLeave`; the home AAA tells the visited one: one profile-delete message) or
 *     `profileTtl` after it was stored.
 * Deterministic: no random draws; events are kernel events at documented priorities.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { Streams } from '../core/random.js';
import { EvState } from '../charging/ev.js';
import { SessionStatus, type Session, type Station } from '../charging/station.js';
import { LedgerPort, type LedgerSummary, type LedgerTx, type Settlement } from '../ledger/ledger.js';
import { Network } from '../ledger/network.js';
import { createBackend } from '../ledger/registry.js';
import { TxCodec, type TxKind } from '../ledger/tx.js';
import { AaaNode, CinRouter, CrpDatabase, ENTITIES, RoamingNetwork, formatCin, type MessageKind, type RoamingMode } from '../roaming/aaa.js';
import { RoamingAccounts, auditRoaming, type UtilityFigures } from '../roaming/accounts.js';
import { utilityAt, type AreaDef } from '../roaming/areas.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Fleet } from './fleet.js';
import type { ChargingProtocol } from './protocol.js';
import type { City } from './world.js';

/** How a session was authorised. */
export const AUTH = { none: 0, domestic: 1, firstVisit: 2, cached: 3, hub: 4, refused: 5 } as const;

interface LatencyFigures {
  count: number;
  meanSeconds: number;
  p95Seconds: number;
}

export interface RoamingSummary {
  mode: RoamingMode;
  chain?: string;
  utilities: (UtilityFigures & { refusals: number; authorizations: { domestic: number; firstVisit: number; cached: number; hub: number } })[];
  totals: {
    DCR: number;
    RCR: number;
    TCR: number;
    TCC: number;
    revenue: number;
    consumerSurplus: number;
    hubFees: number;
    domesticSessions: number;
    roamingSessions: number;
    roamingKWh: number;
  };
  authorization: { domestic: LatencyFigures; firstVisit: LatencyFigures; cached: LatencyFigures; hub: LatencyFigures; endedBeforeAuthorization: number };
  refusals: { decisions: number; noHomeStation: number; meanExtraTravelSeconds: number; atStation: number };
  profiles: { stored: number; expiredTtl: number; deletedOnLeave: number; peakCached: number };
  settlement: { invoices: number; settled: number; pending: number; failed: number; meanSeconds: number; p95Seconds: number; meanDueSeconds: number };
  messages: { total: number; bytes: number; byEntity: Record<string, { messages: number; bytes: number }>; byKind: Record<string, number> };
  chainLedger?: LedgerSummary;
  auditProblems: number;
  audit: string[];
}

function stats(xs: number[]): LatencyFigures {
  const a = Float64Array.from(xs).sort();
  let s = 0;
  for (const x of a) s += x;
  const n = a.length;
  return { count: n, meanSeconds: n ? s / n : 0, p95Seconds: n ? a[Math.min(n, Math.max(1, Math.ceil(0.95 * n))) - 1]! : 0 };
}

export class Roaming {
  readonly mode: RoamingMode;
  readonly areas: AreaDef[];
  readonly stationUtility: Int32Array;
  homeUtility: Int32Array = new Int32Array(0);
  readonly aaa: AaaNode[];
  readonly crp: CrpDatabase;
  readonly net: RoamingNetwork;
  readonly router: CinRouter;
  accounts: RoamingAccounts;
  readonly chain: LedgerPort | null = null;
  private readonly prefixes: string[];
  private readonly roamingPrice: number[];
  private readonly domesticPrice: number[];
  /** per-station mask of each utility (mode none) */
  private readonly masks: Uint8Array[];
  private nodeUtility: Int8Array;
  /** per session: how it was authorised, the latency, the locked contract price, the pending answer */
  private authKind: number[] = [];
  private authLatency: number[] = [];
  private price: number[] = [];
  private pending = new Map<number, number>();
  private billed = new Set<number>();
  /** chain tx id → invoice (invoices) and → invoice (settlements) */
  private invoiceTx = new Map<number, number>();
  private settleTx = new Map<number, number>();
  private chainInvoiceRec = new Map<number, LedgerTx>();
  private chainSettleRec = new Map<number, LedgerTx>();
  private due: number[] = [];
  private chainFailed = 0;
  private refusals = 0;
  private refusalsByUtility: number[];
  private noHomeStation = 0;
  private extraTravel = 0;
  private refusedAtStation = 0;
  private endedBeforeAuth = 0;
  private readonly kAuth: number;
  private readonly kRefuse: number;
  private readonly kHubInvoice: number;
  private readonly kHubPay: number;
  private readonly kHubPaid: number;
  inner!: ChargingProtocol;

  constructor(
    private readonly kernel: Kernel,
    private readonly sc: Scenario,
    private readonly city: City,
    private readonly stations: readonly Station[],
    private readonly sessions: readonly Session[],
    private readonly fleet: Fleet,
    streams: Streams,
    private readonly depart: (s: Session, status: number) => void,
  ) {
    const r = sc.roaming!;
    this.mode = r.mode;
    const us = r.utilities;
    this.areas = us.map((u) => u.area as AreaDef);
    this.prefixes = us.map((u) => u.cinPrefix);
    this.domesticPrice = us.map((u) => u.pricePerKWh);
    this.roamingPrice = us.map((u) => u.roamingPricePerKWh ?? u.pricePerKWh);
    this.router = new CinRouter(this.prefixes);
    this.stationUtility = Int32Array.from(stations.map((st) => utilityAt(this.areas, st.def.lon, st.def.lat)));
    this.masks = us.map((_, u) => Uint8Array.from(this.stationUtility, (x) => (x === u ? 1 : 0)));
    this.nodeUtility = new Int8Array(city.graph?.nodeCount ?? 0).fill(-1);
    this.aaa = us.map((_, u) => new AaaNode(u, r.profileTtl));
    this.crp = new CrpDatabase(us, r.contracts);
    this.net = new RoamingNetwork(r.network, this.areas, r.mode === 'clearing-house' ? (r.clearingHouse.site ?? null) : null);
    this.accounts = new RoamingAccounts(us.map((u) => u.id), this.domesticPrice, this.roamingPrice, r.willingnessToPay, r.mode === 'clearing-house' ? r.clearingHouse.feePct : 0, 0);
    this.refusalsByUtility = us.map(() => 0);
    this.kAuth = kernel.register('roaming-auth', (sid) => this.onAuthorized(sid));
    this.kRefuse = kernel.register('roaming-refuse', (sid) => {
      const s = this.sessions[sid]!;
      if (s.status === SessionStatus.active) this.depart(s, SessionStatus.abandoned);
    });
    this.kHubInvoice = kernel.register('roaming-hub-invoice', (i) => this.onHubInvoice(i));
    this.kHubPay = kernel.register('roaming-hub-pay', (i) => this.onHubPay(i));
    this.kHubPaid = kernel.register('roaming-hub-paid', (i) => this.onHubPaid(i));
    if (r.mode === 'consortium') {
      const backend = r.chain.backend;
      const instance = `roaming-${backend}`;
      this.chain = new LedgerPort(kernel, {
        role: 'roaming',
        instance,
        streams,
        network: new Network({ ...sc.ledger.network, nodes: r.chain.nodes }, streams.stream(`ledger/${instance}/network`)),
        codec: TxCodec.fromConfig(sc.ledger.codec, sc.seed),
        create: (c) => createBackend(backend, c, r.chain.params),
        onSettled: (st) => this.onChainSettled(st),
      });
    }
  }

  /** After the demand model placed the fleet: every EV's home utility. */
  start(): void {
    const n = this.fleet.size;
    this.homeUtility = new Int32Array(n);
    for (let ev = 0; ev < n; ev++) this.homeUtility[ev] = this.router.route(this.cin(ev, this.utilityOfNode(this.fleet.home[ev]!)));
    const r = this.sc.roaming!;
    this.accounts = new RoamingAccounts(r.utilities.map((u) => u.id), this.domesticPrice, this.roamingPrice, r.willingnessToPay, r.mode === 'clearing-house' ? r.clearingHouse.feePct : 0, n);
  }

  /** The EV's CIN (its home utility's prefix and its number). */
  cin(ev: number, home = this.homeUtility[ev]!): string {
    return formatCin(this.prefixes[home]!, ev);
  }

  utilityOfNode(node: number): number {
    let u = this.nodeUtility[node]!;
    if (u < 0) {
      const g = this.city.graph!;
      u = utilityAt(this.areas, g.lon[node]!, g.lat[node]!);
      this.nodeUtility[node] = u;
    }
    return u;
  }

  // ---- station choice (mode none) ----------------------------------------------------------------

  candidateMask(ev: number): Uint8Array | undefined {
    return this.mode === 'none' ? this.masks[this.homeUtility[ev]!] : undefined;
  }

  restricted(ev: number, excludedS: number, nearestS: number): void {
    if (!(excludedS < nearestS)) return; // the nearest station was a home one anyway
    this.refusals++;
    this.refusalsByUtility[this.homeUtility[ev]!]!++;
    if (nearestS === Infinity) this.noHomeStation++;
    else this.extraTravel += nearestS - excludedS;
  }

  // ---- the EV's position: expiry of visiting profiles ---------------------------------------------

  /** observer: an EV reached a destination (state idle) */
  transition(ev: number, to: number): void {
    if (to !== EvState.idle || !this.sc.roaming!.expireOnLeave || this.homeUtility.length <= ev) return;
    const f = this.fleet;
    this.seenIn(ev, this.utilityOfNode(f.nodeOf(f.destKind[ev]!, f.destIdx[ev]!, ev)));
  }

  /** The EV is in area u: visiting profiles of it elsewhere are deleted (home AAA → visited AAA). */
  private seenIn(ev: number, u: number): void {
    const h = this.homeUtility[ev]!;
    for (let v = 0; v < this.aaa.length; v++) if (v !== u && v !== h && this.aaa[v]!.forget(ev)) this.net.hop('aaa', h, v, 'profile-delete');
  }

  // ---- the charging protocol around the ledger one ---------------------------------------------

  wrap(inner: ChargingProtocol): ChargingProtocol {
    this.inner = inner;
    const self = this;
    const p: ChargingProtocol = {
      plugged: (s) => self.plugged(s),
      record: (s, from, to, e) => {
        if (self.pending.has(s.sessionId) && e === 0) return; // not authorised yet: nothing flows
        inner.record(s, from, to, e);
      },
      chargingEnded: (s) => self.chargingEnded(s),
      finish: () => {
        inner.finish();
        self.chain?.ledger.finish?.();
      },
      summary: (h) => inner.summary(h),
      ports: () => inner.ports(),
      wallClock: () => inner.wallClock(),
    };
    if (inner.submitRecord) p.submitRecord = (kind: TxKind, sid: number, ev: number, st: number, payload: readonly number[]) => inner.submitRecord!(kind, sid, ev, st, payload);
    return p;
  }

  private set(arr: number[], sid: number, v: number): void {
    while (arr.length <= sid) arr.push(NaN);
    arr[sid] = v;
  }

  private plugged(s: Session): void {
    const v = this.stationUtility[s.station]!;
    const cin = this.cin(s.ev);
    const net = this.net;
    const h = this.router.route(cin); // the R-GW/R resolves the CIN's prefix
    if (this.sc.roaming!.expireOnLeave) this.seenIn(s.ev, v);
    let lat = net.access('station', 'auth-request');
    let kind: number;
    if (v === h) {
      kind = AUTH.domestic;
      lat += net.hop('gateway', v, v, 'auth-request') + net.hop('aaa', v, v, 'auth-answer');
    } else if (this.mode === 'none') {
      // refused: no power; it unplugs at once (an event, not inside the station's plug-in)
      this.set(this.authKind, s.sessionId, AUTH.refused);
      this.refusedAtStation++;
      this.refusalsByUtility[h]!++;
      s.authorized = false;
      this.kernel.schedule(this.kernel.now, PRIORITY.LEDGER, this.kRefuse, s.sessionId);
      return;
    } else if (this.mode === 'clearing-house') {
      kind = AUTH.hub;
      const hub = net.hub;
      lat += net.hop('gateway', v, hub, 'auth-request') + net.hop('hub', hub, h, 'auth-request') + net.hop('aaa', h, hub, 'auth-answer') + net.hop('hub', hub, v, 'auth-answer');
    } else if (this.aaa[v]!.cached(s.ev, this.kernel.now)) {
      kind = AUTH.cached;
      lat += net.hop('gateway', v, v, 'auth-request') + net.hop('aaa', v, v, 'auth-answer');
    } else {
      kind = AUTH.firstVisit;
      lat += net.hop('gateway', v, h, 'auth-request') + net.hop('aaa', h, v, 'profile') + net.hop('aaa', v, v, 'auth-answer');
    }
    lat += net.access('gateway', 'auth-answer');
    this.set(this.authKind, s.sessionId, kind);
    this.set(this.authLatency, s.sessionId, lat);
    s.authorized = false;
    this.pending.set(s.sessionId, this.kernel.schedule(this.kernel.now + lat, PRIORITY.LEDGER, this.kAuth, s.sessionId));
  }

  /** Occupancy of the visited utility's chargers (plugged / chargers), 0..1. */
  private occupancy(v: number): number {
    let plugged = 0;
    let chargers = 0;
    for (let i = 0; i < this.stations.length; i++)
      if (this.stationUtility[i] === v) {
        plugged += this.stations[i]!.plugged.length;
        chargers += this.stations[i]!.chargers;
      }
    return chargers ? Math.min(1, plugged / chargers) : 0;
  }

  private onAuthorized(sid: number): void {
    const s = this.sessions[sid]!;
    this.pending.delete(sid);
    if (s.status !== SessionStatus.active) return;
    const now = this.kernel.now;
    const v = this.stationUtility[s.station]!;
    const h = this.homeUtility[s.ev]!;
    const kind = this.authKind[sid]!;
    if (kind === AUTH.firstVisit) this.aaa[v]!.store(s.ev, now);
    this.set(this.price, sid, v === h ? this.domesticPrice[v]! : this.crp.priceOf(v, h, this.occupancy(v)));
    const st = this.stations[s.station]!;
    st.advance(now);
    s.authorized = true;
    s.authorizedAt = now;
    this.inner.plugged(s);
    st.reallocate(now);
  }

  private chargingEnded(s: Session): void {
    const sid = s.sessionId;
    const h0 = this.pending.get(sid);
    if (h0 !== undefined) {
      // its time ran out before the answer came back: leaves without charging
      this.kernel.cancel(h0);
      this.pending.delete(sid);
      this.endedBeforeAuth++;
      this.depart(s, SessionStatus.abandoned);
      return;
    }
    this.inner.chargingEnded(s);
    if (this.billed.has(sid) || !(s.deliveredKWh > 0)) return;
    this.billed.add(sid);
    const v = this.stationUtility[s.station]!;
    const h = this.homeUtility[s.ev]!;
    if (v === h) {
      this.accounts.domestic(s.ev, h, s.deliveredKWh);
      return;
    }
    const now = this.kernel.now;
    const i = this.accounts.roaming(sid, s.ev, s.station, v, h, s.deliveredKWh, this.price[sid]!, now);
    const inv = this.accounts.invoices[i]!;
    this.due.push(NaN);
    if (this.chain) {
      const tx = this.chain.submitPayload('roaming-invoice', sid, v, s.station, [h, inv.energyKWh, inv.amount]);
      inv.txId = tx.id;
      this.invoiceTx.set(tx.id, i);
      this.chainInvoiceRec.set(i, tx);
    } else {
      const d = this.net.hop('aaa', v, this.net.hub, 'invoice');
      this.due[i] = d + this.sc.roaming!.clearingHouse.settlementDelay;
      this.kernel.schedule(now + d, PRIORITY.LEDGER, this.kHubInvoice, i);
    }
  }

  // ---- settlement ------------------------------------------------------------------------------

  private onChainSettled(st: Settlement): void {
    const tx = st.tx;
    if (tx.kind === 'roaming-invoice') {
      const i = this.invoiceTx.get(tx.id)!;
      if (st.status !== 'final') {
        this.chainFailed++;
        return;
      }
      const inv = this.accounts.invoices[i]!;
      const pay = this.chain!.submitPayload('roaming-settlement', inv.session, inv.home, inv.visited, [tx.id, inv.amount]);
      this.settleTx.set(pay.id, i);
      this.chainSettleRec.set(i, pay);
    } else if (tx.kind === 'roaming-settlement') {
      const i = this.settleTx.get(tx.id)!;
      if (st.status !== 'final') {
        this.chainFailed++;
        return;
      }
      this.accounts.settle(i, tx.payload![1]!, this.kernel.now);
    }
  }

  /** the hub received invoice i: it pays settlementDelay later */
  private onHubInvoice(i: number): void {
    this.kernel.schedule(this.kernel.now + this.sc.roaming!.clearingHouse.settlementDelay, PRIORITY.LEDGER, this.kHubPay, i);
  }

  /** the hub settles invoice i: a debit notice to the home utility, the payment to the visited one */
  private onHubPay(i: number): void {
    const inv = this.accounts.invoices[i]!;
    const hub = this.net.hub;
    this.net.hop('hub', hub, inv.home, 'settlement-notice');
    this.kernel.schedule(this.kernel.now + this.net.hop('hub', hub, inv.visited, 'settlement-notice'), PRIORITY.LEDGER, this.kHubPaid, i);
  }

  private onHubPaid(i: number): void {
    const inv = this.accounts.invoices[i]!;
    this.accounts.settle(i, inv.amount, this.kernel.now);
  }

  // ---- summary -----------------------------------------------------------------------------------

  /** The ended roaming sessions with energy (what the audit expects invoiced). */
  private expectedInvoices(): Map<number, [number, number, number]> {
    const m = new Map<number, [number, number, number]>();
    for (const s of this.sessions) {
      if (Number.isNaN(s.chargingEndedAt) || !(s.deliveredKWh > 0)) continue;
      const v = this.stationUtility[s.station]!;
      const h = this.homeUtility[s.ev]!;
      if (v !== h) m.set(s.sessionId, [s.deliveredKWh, v, h]);
    }
    return m;
  }

  private domesticCharges(): number {
    let a = 0;
    for (const s of this.sessions) {
      if (Number.isNaN(s.chargingEndedAt) || !(s.deliveredKWh > 0)) continue;
      const v = this.stationUtility[s.station]!;
      if (v === this.homeUtility[s.ev]!) a += s.deliveredKWh * this.domesticPrice[v]!;
    }
    return a;
  }

  audit(): { problems: number; lines: string[] } {
    const dup = this.accounts.duplicateInvoices;
    const rec = (tx: LedgerTx | undefined) => tx?.payload;
    const a = auditRoaming(this.accounts, this.roamingPrice, {
      roamingSessions: this.expectedInvoices(),
      domesticCharges: this.domesticCharges(),
      ...(this.chain
        ? {
            chainInvoice: (i: number) => {
              const p = rec(this.chainInvoiceRec.get(i));
              return p ? ([p[0]!, p[1]!, p[2]!] as const) : undefined;
            },
            chainSettlement: (i: number) => rec(this.chainSettleRec.get(i))?.[1],
          }
        : {}),
    });
    if (dup > 0) a.lines.unshift(`roaming: ${dup} duplicate invoice(s)`);
    return a;
  }

  summary(horizon: number): RoamingSummary {
    const n = this.aaa.length;
    const customers = new Array<number>(n).fill(0);
    for (const u of this.homeUtility) customers[u]!++;
    const stationsOf = new Array<number>(n).fill(0);
    for (const u of this.stationUtility) stationsOf[u]!++;
    const figs = this.accounts.figures(customers, stationsOf);
    const lat: Record<number, number[]> = { 1: [], 2: [], 3: [], 4: [] };
    const byU = figs.map(() => ({ domestic: 0, firstVisit: 0, cached: 0, hub: 0 }));
    for (const s of this.sessions) {
      const k = this.authKind[s.sessionId];
      if (k === undefined || Number.isNaN(k) || k === AUTH.refused || Number.isNaN(s.authorizedAt)) continue;
      lat[k]!.push(this.authLatency[s.sessionId]!);
      const b = byU[this.stationUtility[s.station]!]!;
      if (k === AUTH.domestic) b.domestic++;
      else if (k === AUTH.firstVisit) b.firstVisit++;
      else if (k === AUTH.cached) b.cached++;
      else b.hub++;
    }
    const settled: number[] = [];
    let dueSum = 0;
    let dueN = 0;
    this.accounts.invoices.forEach((inv, i) => {
      if (!Number.isNaN(inv.settledAt)) settled.push(inv.settledAt - inv.issuedAt);
      const d = this.due[i]!;
      if (!Number.isNaN(d)) {
        dueSum += d;
        dueN++;
      }
    });
    const st = stats(settled);
    const sum = (f: (x: UtilityFigures) => number) => figs.reduce((a, x) => a + f(x), 0);
    const audit = this.audit();
    const byEntity: Record<string, { messages: number; bytes: number }> = {};
    for (const e of ENTITIES) byEntity[e] = { messages: this.net.sent[e], bytes: this.net.bytes[e] };
    let total = 0;
    let bytes = 0;
    for (const e of ENTITIES) {
      total += this.net.sent[e];
      bytes += this.net.bytes[e];
    }
    const chainSummary = this.chain?.summary(horizon);
    if (chainSummary) {
      byEntity.chain = { messages: chainSummary.extra.messages ?? 0, bytes: chainSummary.extra.bytesSent ?? 0 };
      total += byEntity.chain.messages;
      bytes += byEntity.chain.bytes;
    }
    const inv = this.accounts.invoices.length;
    return {
      mode: this.mode,
      ...(this.chain ? { chain: this.chain.ledger.backend } : {}),
      utilities: figs.map((f, u) => ({ ...f, refusals: this.refusalsByUtility[u]!, authorizations: byU[u]! })),
      totals: {
        DCR: sum((x) => x.DCR),
        RCR: sum((x) => x.RCR),
        TCR: sum((x) => x.TCR),
        TCC: sum((x) => x.TCC),
        revenue: sum((x) => x.revenue),
        consumerSurplus: sum((x) => x.consumerSurplus),
        hubFees: this.accounts.accruedFees(),
        domesticSessions: sum((x) => x.domesticSessions),
        roamingSessions: inv,
        roamingKWh: sum((x) => x.roamingKWh),
      },
      authorization: {
        domestic: stats(lat[AUTH.domestic]!),
        firstVisit: stats(lat[AUTH.firstVisit]!),
        cached: stats(lat[AUTH.cached]!),
        hub: stats(lat[AUTH.hub]!),
        endedBeforeAuthorization: this.endedBeforeAuth,
      },
      refusals: {
        decisions: this.refusals,
        noHomeStation: this.noHomeStation,
        meanExtraTravelSeconds: this.refusals - this.noHomeStation > 0 ? this.extraTravel / (this.refusals - this.noHomeStation) : 0,
        atStation: this.refusedAtStation,
      },
      profiles: {
        stored: this.aaa.reduce((a, x) => a + x.stored, 0),
        expiredTtl: this.aaa.reduce((a, x) => a + x.expiredTtl, 0),
        deletedOnLeave: this.aaa.reduce((a, x) => a + x.deletedOnLeave, 0),
        peakCached: this.aaa.reduce((a, x) => a + x.peak, 0),
      },
      settlement: {
        invoices: inv,
        settled: st.count,
        pending: inv - st.count - this.chainFailed,
        failed: this.chainFailed,
        meanSeconds: st.meanSeconds,
        p95Seconds: st.p95Seconds,
        meanDueSeconds: dueN ? dueSum / dueN : st.meanSeconds,
      },
      messages: { total, bytes, byEntity, byKind: { ...this.net.byKind } as Record<MessageKind, number> },
      ...(chainSummary ? { chainLedger: chainSummary } : {}),
      auditProblems: audit.problems,
      audit: audit.lines.slice(0, 20),
    };
  }
}

