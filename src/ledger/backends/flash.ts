/**
 * `flash`: Flash channels — streaming micropayment channels between an EV and a charging station,
 * as a payments backend (`streaming = true`). Only opening, closing (and optional top-ups) touch
 * the underlying ledger (the "chain": the IOTA Tangle by design, any evsim backend in practice);
 * every per-minute payment is an off-ledger, doubly signed channel state.
 *
 * Model (one channel per charging session, i.e. per (EV, station) pair of a session)
 *   - Opening: the session's first payment opens the channel with ONE on-ledger transaction, a
 *     LedgerTx of kind 'payment' submitted to the chain at that instant, carrying both deposits
 *     (amount = EV deposit + station deposit: the deposit bundle into the 2-of-2 multi-signature
 *     address, Strugar et al. §3: "both parties have to deposit equal amount of IOTA into a
 *     multi-signature address"). The channel is usable when that transaction is final on the chain
 *     (the chain's settlement time); payments submitted before then wait in the channel's FIFO.
 *     The multisig address handshake itself is assumed done during authentication at plug-in
 *     (not timed).
 *   - Deposits: the EV deposits `depositCurrency` (currency units of the tariff) or, when that is
 *     null (default), depositMultiple × expectedSessionCost (default 2 × 10 = 20: the default flat
 *     tariff is 0.3/kWh and a typical session delivers ~30 kWh, so twice a typical session's cost).
 *     The station deposits stationDepositFactor × the EV deposit (default 1: equal deposits, as in
 *     Strugar et al. and Freiberg's Flash; the station's deposit is a bond only, payments flow
 *     EV → station).
 *   - Per-minute payment n: an off-ledger channel state (channelId, n, balances, deposits,
 *     cumulative energy, closing flag; STATE_BYTES, layout below) signed by the EV
 *     (codec.signBytes('ev', ev, state)), sent EV → EV's gateway → station's gateway → station
 *     (network.gatewayS + transferS + gatewayS, request = state + EV signature), verified and
 *     counter-signed by the station (codec.signBytes('station', station, state)), and the station's
 *     signature sent back the same way (reply = channelId + counter + signature). The payment is
 *     final (confirmations 0) when the counter-signature is back at the EV:
 *       RTT = signCost + 3 hops(request) + verifyCost + signCost + 3 hops(reply) + verifyCost
 *     (codec.signCostS / verifyCostS; the gateway-to-gateway hop costs nothing when both agents
 *     share a gateway). States of a channel are strictly sequential: state n+1 is proposed only
 *     once state n is counter-signed (a channel is a FIFO server with a fixed service time RTT).
 *   - Deposit exhaustion (payment > the EV's remaining balance), param onExhausted:
 *     'top-up' (default): the EV submits a top-up transaction to the chain (amount =
 *     max(EV deposit, shortfall)); that payment and every later one wait until it is final, then
 *     the EV's deposit grows by that amount and the payment proceeds. If the top-up fails on the
 *     chain, the waiting payment fails ('top-up failed: <reason>') and the channel goes on.
 *     'fail': the payment fails at once with reason 'deposit exhausted'; the channel goes on (a
 *     later, smaller payment may still fit).
 *   - Closing: the session's closing payment (tx.closing, amount 0) queues behind the session's
 *     other payments; when its turn comes, both parties sign the final state (one more round trip,
 *     a state with the closing flag and unchanged balances: "after each party signs the final
 *     bundle, it is then attached to the main network", Strugar et al. §3), then the EV submits the
 *     settlement transaction to the chain (kind 'payment', amount = total paid to the station,
 *     energyKWh = energy covered by the states). The closing payment settles when that settlement
 *     transaction is final on the chain, with the chain's time and confirmations; if it fails, the
 *     closing payment fails ('channel close failed: <reason>').
 *   - If the chain fails the opening transaction, every payment of the session (closing included)
 *     fails with 'channel open failed: <reason>'. A closing payment of a session without any
 *     earlier payment has no channel to close: it settles final at once (0 confirmations;
 *     counted as emptySessions). Payments of an already closed session fail ('channel closed').
 *   - Chain transactions: LedgerTx objects of this backend with their own dense id numbering
 *     (0, 1, ... per flash instance), submitted at kernel.now through a subContext(ctx, 'chain').
 *     Chain results are acted upon by a kernel event at the chain's settlement time (priority
 *     LEDGER), so a chain that reports early never makes the channel usable early.
 *
 * Channel state layout (STATE_BYTES = 62, little-endian; what both parties sign): version u8 (1),
 * flags u8 (bit 0 = closing), channelId u32, counter u32, sessionId u32, ev u32, station u32,
 * evBalance f64, stationBalance f64, evDeposit f64 (initial + top-ups), stationDeposit f64,
 * energyKWh f64 (cumulative). Request message = state + EV signature (126 B); reply = channelId +
 * counter + station signature (72 B).
 *
 * Metrics (extraMetrics, deterministic): channels (opened), channelsClosed (= closesFinal, kept
 * for comparison), closesSubmitted (close transactions submitted to the chain), closesFinal (close
 * transactions final on the chain), offLedgerPayments
 * (final off-ledger states of non-closing payments), failedPayments, emptySessions,
 * onLedgerTxs (opens + closes + top-ups submitted to the chain), topUps, ledgerTxsSaved
 * (non-closing payments submitted — each would have been one on-ledger tx without channels —
 * minus onLedgerTxs; may be negative for very short sessions), channelStates (stored states),
 * paymentsWaited (payments that waited for an opening or a top-up), meanOffLedgerLatencyS
 * (submission → counter-signature back at the EV, final off-ledger payments, waiting included),
 * meanRoundTripS (the pure state round trip), meanOpenLatencyS (open tx submitted → final on
 * chain), meanCloseLatencyS (closing payment submitted → settlement final), depositsLocked (Σ of
 * all deposits and top-ups, currency units), messages / bytesSent (the channel traffic only: the
 * chain's own traffic — and only the chain's, counted on a scoped view of the network — is in
 * chainMessages / chainBytesSent where the chain reports them), plus
 * every figure of the chain's extraMetrics prefixed 'chain' (chainBlocks, chainServed, ...).
 *
 * Audit: for every stored state, the EV's and the station's signatures over the re-encoded state;
 * balances conserved (evBalance + stationBalance = evDeposit + stationDeposit, relative tolerance
 * 1e-9); counters consecutive from 0; the payer's net position (evBalance − evDeposit) never
 * increases and the station's balance never decreases; deposits change only by final top-ups;
 * each channel's open tx carries the first state's deposits; each close tx matches the channel's
 * last state (closing flag set, amount = stationBalance − stationDeposit, energy, parties); plus
 * the chain's audit, each line prefixed 'chain: '.
 *
 * Assumptions: honest, always-online parties (both sign every valid state promptly); static
 * network (src/ledger/network.ts), no message loss; one channel per session, never reused across
 * sessions; signature verification at run time is charged in simulated time (verifyCostS) but
 * the actual check is done by audit() only.
 *
 * Left out: disputes and penalties (no stale-state broadcast, no revocation / breach remedy à la
 * Poon & Dryja, no timeouts), multi-party Flash trees (Freiberg's binary tree of multisig
 * addresses, its depth limit and bundle sizes: a state here is a compact 62-byte record, not a
 * set of IOTA bundles), IOTA's per-transaction proof of work on the open/close bundles (charged
 * by the chain backend, if it models it), the MQTT transport, channel routing / hubs, fees.
 *
 * Sources: D. Strugar, R. Hussain, M. Mazzara, V. Rivera, J. Y. Lee, R. Mustafin, "On M2M
 * Micropayments: A Case Study of Electric Autonomous Vehicles", IEEE iThings/GreenCom/CPSCom 2018
 * (Flash channels for EV charging on the IOTA Tangle; only opening and closing touch the Tangle);
 * L. Freiberg, "Instant & Feeless Flash Channels", IOTA blog, 2017, and iotaledger/flash.channels.js
 * (deposits into a multisig address, off-Tangle signed transfers, final bundle attached on close);
 * J. Poon & T. Dryja, "The Bitcoin Lightning Network: Scalable Off-Chain Instant Payments", 2016
 * (payment-channel concepts: funding transaction, commitment states, settlement).
 *
 * Defaults (FlashParamsSchema): chain 'tangle' (the IOTA-like Tangle backend), deposit 2 × expected session cost of 10, equal station deposit,
 * onExhausted 'top-up'.
 */
import { z } from 'zod';
import { subContext, type BlockLog, type Ledger, type LedgerContext, type LedgerTx, type Settlement } from '../ledger.js';
import { PRIORITY } from '../../core/priorities.js';
import { ChainRefSchema, createChain } from '../chains.js';
import { SIGNATURE_BYTES } from '../tx.js';
import { growF64, growI32, growU8 } from '../../core/typed.js';

/** Signed channel-state body (layout in the header). */
export const STATE_BYTES = 62;
/** EV → station: state + EV signature */
export const STATE_REQUEST_BYTES = STATE_BYTES + SIGNATURE_BYTES;
/** station → EV: channelId (4) + counter (4) + station signature */
export const STATE_REPLY_BYTES = 8 + SIGNATURE_BYTES;

const STATE_VERSION = 1;
/** relative tolerance of the balance-conservation check */
const CONSERVATION_TOL = 1e-9;

/** Default chain: the IOTA-like Tangle (Strugar et al.). */
const DEFAULT_CHAIN = { backend: 'tangle' } as const;

export const FlashParamsSchema = z.strictObject({
  /** the ledger the channels open and close on: any chain-capable registered backend (name +
   * that backend's parameters) */
  chain: ChainRefSchema.prefault(DEFAULT_CHAIN),
  /** EV deposit per channel, currency units; null = depositMultiple × expectedSessionCost */
  depositCurrency: z.number().positive().nullable().default(null),
  /** expected cost of one session, currency units (default 10 ≈ 30 kWh at the default 0.3/kWh) */
  expectedSessionCost: z.number().positive().default(10),
  /** EV deposit as a multiple of expectedSessionCost (used when depositCurrency is null) */
  depositMultiple: z.number().positive().default(2),
  /** station deposit as a multiple of the EV deposit (1 = equal deposits, Strugar et al.; 0 = none) */
  stationDepositFactor: z.number().min(0).default(1),
  /** a payment larger than the EV's remaining balance: 'top-up' = a new on-ledger deposit of
   * max(EV deposit, shortfall), the payment waits for it; 'fail' = fails with 'deposit exhausted' */
  onExhausted: z.enum(['top-up', 'fail']).default('top-up'),
});

/** Parsed parameters (defaults applied). */
export type FlashParams = z.output<typeof FlashParamsSchema>;
/** Parameters as written in a scenario (every field optional). */
export type FlashParamsInput = z.input<typeof FlashParamsSchema>;

type ChannelStatus = 'opening' | 'open' | 'topping-up' | 'closing' | 'closed' | 'failed';
/** purpose of a chain transaction */
const OPEN = 0;
const TOP_UP = 1;
const CLOSE = 2;

interface Channel {
  readonly index: number;
  readonly sessionId: number;
  readonly ev: number;
  readonly station: number;
  status: ChannelStatus;
  /** a state round trip is in flight */
  busy: boolean;
  /** waiting payments (FIFO from qHead) */
  queue: LedgerTx[];
  qHead: number;
  evDeposit: number;
  stationDeposit: number;
  /** initial deposits (the open tx) */
  readonly evDeposit0: number;
  readonly stationDeposit0: number;
  paid: number;
  energy: number;
  /** next state counter */
  counter: number;
  openTx: LedgerTx;
  openFinalAt: number;
  topUps: LedgerTx[];
  closePayment?: LedgerTx;
  closeTx?: LedgerTx;
  closeStatus?: 'final' | 'failed';
  failReason?: string;
  /** index of the channel's last stored state (-1: none) */
  lastState: number;
}

/** Public, read-only view of a channel (tests, inspection). */
export interface FlashChannelInfo {
  readonly index: number;
  readonly sessionId: number;
  readonly ev: number;
  readonly station: number;
  readonly status: ChannelStatus;
  readonly evDeposit: number;
  readonly stationDeposit: number;
  readonly paid: number;
  readonly openTx: LedgerTx;
  /** when the open tx became final on the chain (NaN until then) */
  readonly openFinalAt: number;
  readonly topUps: readonly LedgerTx[];
  readonly closeTx: LedgerTx | undefined;
  /** indices of the channel's stored states, in order */
  readonly states: number[];
}

/** A stored channel state: getters read the store, setters ALTER it (for audit tests). */
export class FlashStateView {
  constructor(
    private readonly s: FlashLedger,
    readonly index: number,
  ) {}
  get channel(): number {
    return this.s.stChan[this.index]!;
  }
  get counter(): number {
    return this.s.stCounter[this.index]!;
  }
  set counter(v: number) {
    this.s.stCounter[this.index] = v;
  }
  get closing(): boolean {
    return this.s.stFlags[this.index] === 1;
  }
  get evBalance(): number {
    return this.s.stEvBal[this.index]!;
  }
  set evBalance(v: number) {
    this.s.stEvBal[this.index] = v;
  }
  get stationBalance(): number {
    return this.s.stStBal[this.index]!;
  }
  set stationBalance(v: number) {
    this.s.stStBal[this.index] = v;
  }
  get evDeposit(): number {
    return this.s.stEvDep[this.index]!;
  }
  get stationDeposit(): number {
    return this.s.stStDep[this.index]!;
  }
  get energyKWh(): number {
    return this.s.stEnergy[this.index]!;
  }
  /** 64-byte views into the store */
  get evSignature(): Uint8Array {
    return this.s.sigs.subarray(128 * this.index, 128 * this.index + 64);
  }
  get stationSignature(): Uint8Array {
    return this.s.sigs.subarray(128 * this.index + 64, 128 * this.index + 128);
  }
}


export class FlashLedger implements Ledger {
  readonly backend = 'flash';
  readonly streaming = true;
  readonly params: FlashParams;
  /** the ledger under the channels */
  readonly chain: Ledger;

  private readonly ctx: LedgerContext;
  private readonly evDepositBase: number;
  private readonly stateDoneKind: number;
  private readonly chainResultKind: number;

  private readonly channels: Channel[] = [];
  private readonly bySession = new Map<number, number>();

  // chain transactions, by their (dense) id
  private chainTxs: LedgerTx[] = [];
  private chainChan: number[] = [];
  private chainPurpose: number[] = [];
  private chainResult: (Settlement | undefined)[] = [];

  // state store (indexed by state index; public for FlashStateView)
  /** @internal */ stChan: Int32Array = new Int32Array(1024);
  /** @internal */ stCounter: Int32Array = new Int32Array(1024);
  /** @internal */ stFlags: Uint8Array = new Uint8Array(1024);
  /** @internal */ stEvBal: Float64Array = new Float64Array(1024);
  /** @internal */ stStBal: Float64Array = new Float64Array(1024);
  /** @internal */ stEvDep: Float64Array = new Float64Array(1024);
  /** @internal */ stStDep: Float64Array = new Float64Array(1024);
  /** @internal */ stEnergy: Float64Array = new Float64Array(1024);
  /** @internal */ sigs: Buffer = Buffer.alloc(128 * 1024);
  private nStates = 0;
  private readonly stateBuf = new ArrayBuffer(STATE_BYTES);
  private readonly stateView = new DataView(this.stateBuf);
  private readonly stateBytes = new Uint8Array(this.stateBuf);

  // metrics
  private paymentsSubmitted = 0; // non-closing
  private offLedger = 0;
  private failedPayments = 0;
  private emptySessions = 0;
  private onLedgerTxs = 0;
  private topUps = 0;
  private channelsClosed = 0;
  private waited = 0;
  private readonly waitedTxs = new WeakSet<LedgerTx>();
  private sumOffLatency = 0;
  private sumRtt = 0;
  private rtts = 0;
  private sumOpenLatency = 0;
  private opensFinal = 0;
  private sumCloseLatency = 0;
  private closesFinal = 0;
  private closesSubmitted = 0;
  private depositsLocked = 0;
  private messages = 0;
  private bytesSent = 0;

  constructor(ctx: LedgerContext, params: FlashParamsInput = {}) {
    const p = (this.params = FlashParamsSchema.parse(params));
    this.ctx = ctx;
    this.evDepositBase = p.depositCurrency ?? p.depositMultiple * p.expectedSessionCost;
    const k = ctx.scheduler;
    this.stateDoneKind = k.register('flash/state-done', (a) => this.onStateDone(a));
    this.chainResultKind = k.register('flash/chain-result', (a) => this.onChainResult(a));
    this.chain = createChain(
      subContext(ctx, 'chain', (s) => this.onChainSettle(s)),
      p.chain,
    );
  }

  // ---- the city's side ------------------------------------------------------------------------

  submit(tx: LedgerTx): void {
    const now = this.ctx.scheduler.now;
    if (tx.kind !== 'payment') {
      this.ctx.settle({ tx, status: 'failed', at: now, confirmations: 0, reason: `flash carries payments only (got ${tx.kind})` });
      return;
    }
    if (!tx.closing) this.paymentsSubmitted++;
    const ci = this.bySession.get(tx.sessionId);
    if (ci === undefined) {
      if (tx.closing) {
        this.emptySessions++;
        this.ctx.settle({ tx, status: 'final', at: now, confirmations: 0 });
        return;
      }
      const ch = this.open(tx);
      ch.queue.push(tx);
      this.markWaited(tx);
      this.submitChain(OPEN, ch.index, ch.openTx);
      return;
    }
    const ch = this.channels[ci]!;
    if (tx.ev !== ch.ev || tx.station !== ch.station) {
      this.fail(tx, `session ${tx.sessionId} belongs to channel ${ch.index} (ev ${ch.ev}, station ${ch.station})`);
      return;
    }
    if (ch.status === 'failed') {
      this.fail(tx, `channel open failed: ${ch.failReason}`);
      return;
    }
    if (ch.status === 'closing' || ch.status === 'closed' || ch.closePayment !== undefined) {
      this.fail(tx, 'channel closed');
      return;
    }
    if (tx.closing) ch.closePayment = tx;
    if (ch.status !== 'open' && !tx.closing) this.markWaited(tx);
    ch.queue.push(tx);
    this.pump(ch);
  }

  private open(tx: LedgerTx): Channel {
    const evDep = this.evDepositBase;
    const stDep = this.params.stationDepositFactor * evDep;
    const index = this.channels.length;
    const openTx = this.chainTx(tx, evDep + stDep, 0);
    const ch: Channel = {
      index,
      sessionId: tx.sessionId,
      ev: tx.ev,
      station: tx.station,
      status: 'opening',
      busy: false,
      queue: [],
      qHead: 0,
      evDeposit: evDep,
      stationDeposit: stDep,
      evDeposit0: evDep,
      stationDeposit0: stDep,
      paid: 0,
      energy: 0,
      counter: 0,
      openTx,
      openFinalAt: NaN,
      topUps: [],
      lastState: -1,
    };
    this.channels.push(ch);
    this.bySession.set(tx.sessionId, index);
    this.depositsLocked += evDep + stDep;
    return ch;
  }

  /** count a payment that waited for an opening or a top-up (once) */
  private markWaited(tx: LedgerTx): void {
    if (this.waitedTxs.has(tx)) return;
    this.waitedTxs.add(tx);
    this.waited++;
  }

  private fail(tx: LedgerTx, reason: string, at = this.ctx.scheduler.now): void {
    this.failedPayments++;
    this.ctx.settle({ tx, status: 'failed', at, confirmations: 0, reason });
  }

  /** Start the next waiting payment of an idle, open channel (loops over immediate failures). */
  private pump(ch: Channel): void {
    const now = this.ctx.scheduler.now;
    while (!ch.busy && ch.status === 'open' && ch.qHead < ch.queue.length) {
      const tx = ch.queue[ch.qHead]!;
      if (tx.closing) {
        ch.qHead++;
        ch.status = 'closing';
        this.signState(ch, true);
        ch.busy = true;
        this.ctx.scheduler.schedule(now + this.roundTrip(ch), PRIORITY.LEDGER, this.stateDoneKind, ch.index);
        break;
      }
      const balance = ch.evDeposit - ch.paid;
      if (tx.amount > balance) {
        if (this.params.onExhausted === 'fail') {
          ch.qHead++;
          this.fail(tx, 'deposit exhausted');
          continue;
        }
        // top-up: the payment stays at the head of the queue until the deposit is final
        const amount = Math.max(this.evDepositBase, tx.amount - balance);
        ch.status = 'topping-up';
        const t = this.chainTx(tx, amount, 0);
        ch.topUps.push(t);
        this.topUps++;
        this.depositsLocked += amount;
        this.markWaited(tx);
        this.submitChain(TOP_UP, ch.index, t);
        break;
      }
      ch.qHead++;
      ch.paid += tx.amount;
      ch.energy += tx.energyKWh;
      this.signState(ch, false);
      const rtt = this.roundTrip(ch);
      ch.busy = true;
      const at = now + rtt;
      this.offLedger++;
      this.sumOffLatency += at - tx.submittedAt;
      this.ctx.settle({ tx, status: 'final', at, confirmations: 0, bytes: STATE_REQUEST_BYTES });
      this.ctx.scheduler.schedule(at, PRIORITY.LEDGER, this.stateDoneKind, ch.index);
    }
    if (ch.qHead === ch.queue.length && ch.qHead > 0) {
      ch.queue.length = 0;
      ch.qHead = 0;
    }
  }

  /** The counter-signature of the channel's last state is back at the EV. */
  private onStateDone(ci: number): void {
    const ch = this.channels[ci]!;
    ch.busy = false;
    if (ch.status === 'closing' && ch.closeTx === undefined) {
      // the final state is signed by both: attach the settlement to the chain
      const t = this.chainTx(ch.closePayment!, ch.paid, ch.energy);
      ch.closeTx = t;
      this.closesSubmitted++;
      this.submitChain(CLOSE, ci, t);
      return;
    }
    this.pump(ch);
  }

  // ---- the channel's off-ledger states --------------------------------------------------------

  /** Encode the channel's next state into the scratch buffer and store it, signed by both parties. */
  private signState(ch: Channel, closing: boolean): void {
    const i = this.nStates++;
    if (i >= this.stChan.length) this.growStates(i + 1);
    const n = ch.counter++;
    this.stChan[i] = ch.index;
    this.stCounter[i] = n;
    this.stFlags[i] = closing ? 1 : 0;
    this.stEvBal[i] = ch.evDeposit - ch.paid;
    this.stStBal[i] = ch.stationDeposit + ch.paid;
    this.stEvDep[i] = ch.evDeposit;
    this.stStDep[i] = ch.stationDeposit;
    this.stEnergy[i] = ch.energy;
    const body = this.encodeState(i);
    const codec = this.ctx.codec;
    this.sigs.set(codec.signBytes('ev', ch.ev, body), 128 * i);
    this.sigs.set(codec.signBytes('station', ch.station, body), 128 * i + 64);
    ch.lastState = i;
  }

  /** The signed bytes of stored state i (re-encoded from the store; a scratch view). */
  private encodeState(i: number): Uint8Array {
    const v = this.stateView;
    const ch = this.channels[this.stChan[i]!]!;
    v.setUint8(0, STATE_VERSION);
    v.setUint8(1, this.stFlags[i]!);
    v.setUint32(2, this.stChan[i]!, true);
    v.setUint32(6, this.stCounter[i]! >>> 0, true);
    v.setUint32(10, ch.sessionId >>> 0, true);
    v.setUint32(14, ch.ev >>> 0, true);
    v.setUint32(18, ch.station >>> 0, true);
    v.setFloat64(22, this.stEvBal[i]!, true);
    v.setFloat64(30, this.stStBal[i]!, true);
    v.setFloat64(38, this.stEvDep[i]!, true);
    v.setFloat64(46, this.stStDep[i]!, true);
    v.setFloat64(54, this.stEnergy[i]!, true);
    return this.stateBytes;
  }

  /** Simulated round trip of one state (and the network messages it costs). */
  private roundTrip(ch: Channel): number {
    const net = this.ctx.network;
    const codec = this.ctx.codec;
    const gEv = net.gatewayOf(ch.ev);
    const gSt = net.gatewayOf(ch.station);
    const hops = gEv === gSt ? 2 : 3;
    const rtt =
      codec.signCostS +
      net.gatewayS(STATE_REQUEST_BYTES) +
      net.transferS(gEv, gSt, STATE_REQUEST_BYTES) +
      net.gatewayS(STATE_REQUEST_BYTES) +
      codec.verifyCostS +
      codec.signCostS +
      net.gatewayS(STATE_REPLY_BYTES) +
      net.transferS(gSt, gEv, STATE_REPLY_BYTES) +
      net.gatewayS(STATE_REPLY_BYTES) +
      codec.verifyCostS;
    this.messages += 2 * hops;
    this.bytesSent += hops * (STATE_REQUEST_BYTES + STATE_REPLY_BYTES);
    this.sumRtt += rtt;
    this.rtts++;
    return rtt;
  }

  // ---- the chain ------------------------------------------------------------------------------

  private chainTx(from: LedgerTx, amount: number, energyKWh: number): LedgerTx {
    return {
      id: this.chainTxs.length,
      kind: 'payment',
      sessionId: from.sessionId,
      ev: from.ev,
      station: from.station,
      energyKWh,
      amount,
      powerKW: 0,
      soc: NaN,
      submittedAt: this.ctx.scheduler.now,
    };
  }

  private submitChain(purpose: number, ci: number, tx: LedgerTx): void {
    this.chainTxs.push(tx);
    this.chainChan.push(ci);
    this.chainPurpose.push(purpose);
    this.chainResult.push(undefined);
    this.onLedgerTxs++;
    this.chain.submit(tx); // may settle synchronously (none)
  }

  /** The chain reports a settlement (possibly ahead of its time): act on it at s.at. */
  private onChainSettle(s: Settlement): void {
    const id = s.tx.id;
    if (!(id >= 0 && id < this.chainTxs.length) || this.chainResult[id] !== undefined) throw new Error(`flash: unexpected chain settlement of tx ${id}`);
    this.chainResult[id] = s;
    this.ctx.scheduler.schedule(s.at, PRIORITY.LEDGER, this.chainResultKind, id);
  }

  private onChainResult(id: number): void {
    const s = this.chainResult[id]!;
    const ch = this.channels[this.chainChan[id]!]!;
    const now = this.ctx.scheduler.now;
    const purpose = this.chainPurpose[id]!;
    if (purpose === OPEN) {
      if (s.status === 'final') {
        ch.status = 'open';
        ch.openFinalAt = now;
        this.opensFinal++;
        this.sumOpenLatency += now - ch.openTx.submittedAt;
        this.pump(ch);
      } else {
        ch.status = 'failed';
        ch.failReason = s.reason ?? 'failed';
        for (let q = ch.qHead; q < ch.queue.length; q++) this.fail(ch.queue[q]!, `channel open failed: ${ch.failReason}`);
        ch.queue.length = 0;
        ch.qHead = 0;
      }
    } else if (purpose === TOP_UP) {
      ch.status = 'open';
      if (s.status === 'final') {
        ch.evDeposit += s.tx.amount;
      } else {
        const tx = ch.queue[ch.qHead++]!;
        this.depositsLocked -= s.tx.amount;
        this.fail(tx, `top-up failed: ${s.reason ?? 'failed'}`);
      }
      this.pump(ch);
    } else {
      const pay = ch.closePayment!;
      ch.status = 'closed';
      ch.closeStatus = s.status;
      if (s.status === 'final') {
        this.channelsClosed++;
        this.closesFinal++;
        this.sumCloseLatency += now - pay.submittedAt;
        this.ctx.settle({ tx: pay, status: 'final', at: now, confirmations: s.confirmations, ...(s.bytes !== undefined ? { bytes: s.bytes } : {}), ...(s.fee !== undefined ? { fee: s.fee } : {}) });
      } else {
        this.fail(pay, `channel close failed: ${s.reason ?? 'failed'}`);
      }
    }
  }

  // ---- inspection -----------------------------------------------------------------------------

  get channelCount(): number {
    return this.channels.length;
  }

  get stateCount(): number {
    return this.nStates;
  }

  /** Stored state i (setters alter the store: for audit tests). */
  state(i: number): FlashStateView {
    if (!(Number.isInteger(i) && i >= 0 && i < this.nStates)) throw new RangeError(`flash: no state ${i} (${this.nStates} stored)`);
    return new FlashStateView(this, i);
  }

  /** Channel ci (read-only view); O(states) for the state list. */
  channel(ci: number): FlashChannelInfo {
    const ch = this.channels[ci];
    if (ch === undefined) throw new RangeError(`flash: no channel ${ci}`);
    const states: number[] = [];
    for (let i = 0; i < this.nStates; i++) if (this.stChan[i] === ci) states.push(i);
    return {
      index: ch.index,
      sessionId: ch.sessionId,
      ev: ch.ev,
      station: ch.station,
      status: ch.status,
      evDeposit: ch.evDeposit,
      stationDeposit: ch.stationDeposit,
      paid: ch.paid,
      openTx: ch.openTx,
      openFinalAt: ch.openFinalAt,
      topUps: ch.topUps,
      closeTx: ch.closeTx,
      states,
    };
  }

  /** The chain's settlement of chain tx `id` (undefined while pending). */
  chainSettlement(id: number): Settlement | undefined {
    return this.chainResult[id];
  }

  /** The chain transactions submitted so far, in id order. */
  get chainTransactions(): readonly LedgerTx[] {
    return this.chainTxs;
  }

  // ---- audit ----------------------------------------------------------------------------------

  audit(): string[] {
    const problems: string[] = [];
    const codec = this.ctx.codec;
    const C = this.channels.length;
    const last = new Int32Array(C).fill(-1);
    // deposits a channel may have reached at a state: the initial ones plus final top-ups
    const finalTopUps: number[][] = this.channels.map(() => []);
    for (let id = 0; id < this.chainTxs.length; id++) {
      if (this.chainPurpose[id] === TOP_UP && this.chainResult[id]?.status === 'final') finalTopUps[this.chainChan[id]!]!.push(this.chainTxs[id]!.amount);
    }
    const topUpPtr = new Int32Array(C);
    for (let i = 0; i < this.nStates; i++) {
      const ci = this.stChan[i]!;
      const ch = this.channels[ci];
      const n = this.stCounter[i]!;
      const name = ch ? `channel ${ci} (session ${ch.sessionId}) state ${n}` : `state ${i}`;
      if (ch === undefined) {
        problems.push(`${name}: unknown channel ${ci}`);
        continue;
      }
      const body = this.encodeState(i);
      if (!codec.verifyBytes('ev', ch.ev, body, this.sigs.subarray(128 * i, 128 * i + 64))) problems.push(`${name}: bad EV signature`);
      if (!codec.verifyBytes('station', ch.station, body, this.sigs.subarray(128 * i + 64, 128 * i + 128))) problems.push(`${name}: bad station signature`);
      const evB = this.stEvBal[i]!;
      const stB = this.stStBal[i]!;
      const evD = this.stEvDep[i]!;
      const stD = this.stStDep[i]!;
      const total = evD + stD;
      if (!(Math.abs(evB + stB - total) <= CONSERVATION_TOL * Math.max(1, Math.abs(total)))) {
        problems.push(`${name}: balances not conserved (${evB} + ${stB} ≠ deposits ${total})`);
      }
      if (evB < -CONSERVATION_TOL * Math.max(1, total)) problems.push(`${name}: negative EV balance ${evB}`);
      const p = last[ci]!;
      if (p < 0) {
        if (n !== 0) problems.push(`${name}: counter out of sequence (first state must be 0)`);
        if (evD !== ch.evDeposit0 || stD !== ch.stationDeposit0 || ch.openTx.amount !== evD + stD) {
          problems.push(`${name}: deposits do not match the open tx ${ch.openTx.id} (amount ${ch.openTx.amount})`);
        }
      } else {
        if (n !== this.stCounter[p]! + 1) problems.push(`${name}: counter out of sequence (after ${this.stCounter[p]!})`);
        if (this.stFlags[p] === 1) problems.push(`${name}: state after the closing state`);
        if (evB - evD > this.stEvBal[p]! - this.stEvDep[p]! + CONSERVATION_TOL * Math.max(1, total)) problems.push(`${name}: payer balance increased`);
        if (stB < this.stStBal[p]! - CONSERVATION_TOL * Math.max(1, total)) problems.push(`${name}: station balance decreased`);
        if (stD !== this.stStDep[p]!) problems.push(`${name}: station deposit changed`);
        if (evD !== this.stEvDep[p]!) {
          const ups = finalTopUps[ci]!;
          const k = topUpPtr[ci]!;
          if (k < ups.length && evD === this.stEvDep[p]! + ups[k]!) topUpPtr[ci] = k + 1;
          else problems.push(`${name}: EV deposit changed without a final top-up`);
        }
      }
      last[ci] = i;
    }
    for (const ch of this.channels) {
      const t = ch.closeTx;
      if (t === undefined) continue;
      const i = last[ch.index]!;
      const name = `channel ${ch.index} (session ${ch.sessionId})`;
      if (i < 0) {
        problems.push(`${name}: close tx ${t.id} without any state`);
        continue;
      }
      const paid = this.stStBal[i]! - this.stStDep[i]!;
      if (this.stFlags[i] !== 1) problems.push(`${name}: close tx ${t.id} but the last state ${this.stCounter[i]} is not a closing state`);
      if (Math.abs(t.amount - paid) > CONSERVATION_TOL * Math.max(1, Math.abs(paid))) problems.push(`${name}: close tx ${t.id} does not match the last state ${this.stCounter[i]} (amount ${t.amount} ≠ paid ${paid})`);
      if (t.energyKWh !== this.stEnergy[i]) problems.push(`${name}: close tx ${t.id} does not match the last state ${this.stCounter[i]} (energy ${t.energyKWh} ≠ ${this.stEnergy[i]})`);
      if (t.sessionId !== ch.sessionId || t.ev !== ch.ev || t.station !== ch.station) problems.push(`${name}: close tx ${t.id} names other parties`);
    }
    for (const line of this.chain.audit()) problems.push(`chain: ${line}`);
    return problems;
  }

  // ---- metrics --------------------------------------------------------------------------------

  extraMetrics(): Record<string, number> {
    const out: Record<string, number> = {
      channels: this.channels.length,
      channelsClosed: this.channelsClosed,
      closesSubmitted: this.closesSubmitted,
      closesFinal: this.closesFinal,
      offLedgerPayments: this.offLedger,
      failedPayments: this.failedPayments,
      emptySessions: this.emptySessions,
      onLedgerTxs: this.onLedgerTxs,
      topUps: this.topUps,
      ledgerTxsSaved: this.paymentsSubmitted - this.onLedgerTxs,
      channelStates: this.nStates,
      paymentsWaited: this.waited,
      meanOffLedgerLatencyS: this.offLedger > 0 ? this.sumOffLatency / this.offLedger : 0,
      meanRoundTripS: this.rtts > 0 ? this.sumRtt / this.rtts : 0,
      meanOpenLatencyS: this.opensFinal > 0 ? this.sumOpenLatency / this.opensFinal : 0,
      meanCloseLatencyS: this.closesFinal > 0 ? this.sumCloseLatency / this.closesFinal : 0,
      depositsLocked: this.depositsLocked,
      messages: this.messages,
      bytesSent: this.bytesSent,
    };
    const inner = this.chain.extraMetrics();
    for (const key of Object.keys(inner).sort()) out[`chain${key.charAt(0).toUpperCase()}${key.slice(1)}`] = inner[key]!;
    return out;
  }

  /** The underlying chain's blocks (channel opens, top-ups and closes), if it has any. */
  blockLog(): BlockLog | undefined {
    return this.chain.blockLog?.();
  }

  finish(): void {
    this.chain.finish?.();
  }

  private growStates(n: number): void {
    this.stChan = growI32(this.stChan, n);
    this.stCounter = growI32(this.stCounter, n);
    this.stFlags = growU8(this.stFlags, n);
    this.stEvBal = growF64(this.stEvBal, n);
    this.stStBal = growF64(this.stStBal, n);
    this.stEvDep = growF64(this.stEvDep, n);
    this.stStDep = growF64(this.stStDep, n);
    this.stEnergy = growF64(this.stEnergy, n);
    if (128 * n > this.sigs.length) {
      const b = Buffer.alloc(Math.max(128 * n, 2 * this.sigs.length));
      this.sigs.copy(b);
      this.sigs = b;
    }
  }
}

/** The registry's factory: a Flash-channel payments backend over the configured chain. */
export function createFlashLedger(ctx: LedgerContext, params: FlashParamsInput = {}): FlashLedger {
  return new FlashLedger(ctx, params);
}
