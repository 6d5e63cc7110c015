/**
 * `lightning`: Lightning-like payment channels through one hub (Inglese et al., shared/papers/002:
 * EVs and charging stations each open ONE channel with a hub; the station issues an invoice, the EV
 * pays it through the hub, which charges a fee), as a payments backend. Channel opening, top-ups and
 * closing are on-chain transactions on an underlying chain run inside this backend
 * (`subContext(ctx, 'chain', …)`: 'pow' by default, or 'qbft', 'central', 'none').
 *
 * ── Model ───────────────────────────────────────────────────────────────────────────────────────
 *   - Units: channel balances and amounts are integers in millisatoshi (msat), kept as safe
 *     integers (capacities are bounded so that every balance stays < 2^53). A payment of tx.amount
 *     currency units (the tariff's currency) is Math.round(tx.amount · msatPerCurrencyUnit) msat —
 *     a FIXED exchange rate (default 2,000,000 msat per unit, i.e. 1 BTC = 50,000 units); no FX
 *     volatility.
 *   - Channels: EV e ↔ hub (funded by the EV: evChannelUnits, default 100 currency units =
 *     2·10^8 msat = 200,000 sat) and hub ↔ station s (funded by the hub: stationChannelUnits,
 *     default 1000 units, the station's inbound liquidity). Per channel: capacity, the funder's
 *     balance ("local": the EV's, or the hub's on a station channel), the other side's ("remote")
 *     and the msat locked in in-flight HTLCs; local + remote + locked = capacity at all times.
 *     Payments only ever flow EV → hub → station, so the usable direction of each channel is the
 *     funder's. With balanceModel 'uniform' the funder's balance at opening is drawn uniformly from
 *     the integers 0..capacity (ctx.rng('balances')), the rest being on the other side — the
 *     "unknown liquidity" prior of Pickhardt & Richter, used to study reliability; default 'funded'
 *     (everything on the funder's side, as after a real single-funded open).
 *   - Opening, lazily: an EV's channel on its first payment, a station's channel on the first
 *     payment it is to receive. open_channel / accept_channel / funding_created / funding_signed
 *     (two round trips between the agent and the hub, BOLT #2, message sizes below; they start when
 *     the hub is up) precede the funding transaction, which is submitted to the underlying chain;
 *     the channel is usable one channel_ready leg after the chain settles the funding tx as final.
 *     fundingConfirmations (default 3, LND's default minimum depth) is passed to the 'pow' chain as
 *     its k unless chain.params.confirmations is given; for the other chains "final" is the chain's
 *     own settlement. A payment waits until BOTH its channels are usable (the first payment of an
 *     agent therefore takes at least the chain's finality); a failed funding tx fails the payments
 *     waiting on it ('channel funding failed') and the channel can be opened again later.
 *   - Payment (hops: hop 0 = EV → hub, hop 1 = hub → station). Once both channels are usable (t0)
 *     the station issues an invoice (BOLT #11: amount in msat, payment hash = SHA-256(preimage), the
 *     32-byte preimage = SHA-256(station secret ‖ payment number), the station secret derived from
 *     (codec seed, station id); expiry invoiceExpiryS) and sends it to the EV (station → its
 *     gateway → the EV's gateway → EV). On receipt the EV checks the hub (down: fails at once,
 *     'hub unavailable') and its own balance against amount + hub fee (short: fails at once,
 *     'insufficient liquidity at hop 0'), locks amount + fee in an HTLC and adds it to the hub:
 *     update_add_htlc+commitment_signed →, revoke_and_ack+commitment_signed ←, revoke_and_ack →
 *     (1.5 round trips: the hub forwards only an irrevocably committed HTLC). The hub checks its
 *     balance on the station channel (short: it fails the HTLC back with update_fail_htlc;
 *     'insufficient liquidity at hop 1'), locks `amount` and adds the HTLC to the station the same
 *     way. The station checks the invoice expiry ('invoice expired') and reveals the preimage
 *     (update_fulfill_htlc → hub); the hub settles both HTLCs (the station's side gains `amount`,
 *     the hub gains amount + fee on the EV channel, so it earns `fee`) and passes the preimage on.
 *     The payment is final when the EV has the preimage: confirmations 0 (off-chain). The trailing
 *     commitment_signed / revoke_and_ack messages that remove the HTLC are sent (counted) but are
 *     not on the critical path. A failed HTLC restores the locked balances when the failure reaches
 *     the EV (for an expired invoice both hops are released then: a simplification).
 *   - Every one-way message between an agent and the hub costs network.gatewayS (access link) +
 *     network.transferS(gateway node, hubNode) and is counted by the network; messages sent
 *     together (update_add_htlc with commitment_signed) travel as one message.
 *     Sizes (BOLT #2, type field included): update_add_htlc 1452 (1366-byte onion), commitment_signed
 *     164 (one HTLC signature), revoke_and_ack 99, update_fulfill_htlc 74, update_fail_htlc 336
 *     (256-byte padded onion error + HMAC and lengths), open_channel 319, accept_channel 270,
 *     funding_created 132, funding_signed 98, channel_ready 67; invoice 300 bytes (bech32 string).
 *   - Routing fee (BOLT #7): fee = fee_base_msat + ⌊amount_to_forward · fee_proportional_millionths
 *     / 1,000,000⌋, integer arithmetic (routingFeeMsat: exact, BigInt; routingFeeMsatSafe: the
 *     same in safe-integer arithmetic, falling back to BigInt when a product would exceed 2^53).
 *     Defaults are LND's: base 1000 msat, 1 ppm.
 *   - Hub outages (hubOutages: [{fromS, toS}), merged): a payment whose EV would send its HTLC
 *     during an outage fails at once ('hub unavailable': the EV's peer is offline — we fail rather
 *     than wait, as LND does with no route). An HTLC already in flight when the hub goes down waits
 *     for the end of the outage (the hub's steps are postponed to toS: reconnection and message
 *     retransmission, BOLT #2). Channel-opening handshakes start after the outage.
 *   - Rebalancing ('topup', default): when the funder's balance falls below topupThreshold × its
 *     funding (or a payment fails for lack of it), the funder (EV, or the hub for a station channel)
 *     splices in funding − balance msat: one on-chain tx; the channel stays usable meanwhile with
 *     its old balances (splicing) and the new funds count once the chain settles the splice as
 *     final; one top-up per channel at a time. Payments in between fail (no waiting). The
 *     counterparty's side is left where it is (a station's receipts stay in its channel: no
 *     splice-out), so a channel's capacity grows by every top-up. 'none': a drained channel stays
 *     drained.
 *   - Closing: at finish() (the horizon) every usable channel is closed cooperatively: a closing tx
 *     is submitted to the chain (counted in onChainTxs; it does not confirm inside the run).
 *   - Streaming (param `streaming`, default true → `streaming = true`): the city sends one payment
 *     per charge record (each is one HTLC payment as above) and a closing payment (tx.closing,
 *     amount 0) per session, which settles 'final' (0 confirmations) at once when every earlier
 *     payment of its session has settled, else at the instant the last of them settles (final or
 *     failed: the closing payment does not carry the session's outcome). Any other 0-msat payment
 *     settles final at once without an HTLC; a negative / non-finite amount fails
 *     ('invalid amount'); non-payment records (if this backend is used for records) settle final at
 *     once (counted in nonPayments).
 *
 * Metrics (extraMetrics): payments (HTLC payments attempted), succeeded, failed, failedLiquidity
 * (hop 0 + hop 1, also separately failedLiquidityHop0/1), failedHubOutage, failedFunding,
 * failedExpired, failedInvalid, zeroAmount, closings, nonPayments, volumeMsat, feesMsat,
 * channelsOpened (funding final), channelsClosed, topups (splices final), onChainTxs (funding +
 * top-ups + closings submitted), onChainFailed, onChainBytes (onChainTxs × one chain tx as the
 * chain carries it: its defaultTxBytes, e.g. a Tangle vertex, else the signed-tx size, 154 bytes), meanHops (over succeeded payments: always 2 through the single hub),
 * messages / bytesSent (ctx.network deltas since this ledger was made, the chain's own traffic
 * included), chainBlocks, chainMessages and chainBytesSent (the underlying chain's own figures, counted on a
 * scoped view of the network, when it reports them).
 * audit(): every succeeded HTLC's preimage must hash to its payment hash; every fee must equal the
 * BOLT #7 formula; every channel must satisfy local + remote + locked = capacity, with each part
 * equal to its recomputation from the payment log (initial balance + splices − succeeded outgoing
 * HTLCs − in-flight ones); no negative balance; the hub's gains on EV channels minus its payments on
 * station channels must equal feesMsat; then the underlying chain's audit, lines prefixed 'chain: '.
 *
 * Assumptions: honest parties (no channel breaches, so no penalty transactions or watchtowers); a
 * single hub with unlimited processing capacity (no HTLC slot limit — BOLT #2's 483 — no dust
 * limits, no channel reserve, no on-chain fees deducted from capacities, no CLTV deltas); static
 * network delays (src/ledger/network.ts); the station issues the invoice when the EV is ready to pay.
 *
 * Left out: a general channel graph with cheapest / most-reliable path finding (only the hub route
 * exists; the Pickhardt–Richter probability is tested on it), multi-path payments, AMP/keysend,
 * splice negotiation messages and cooperative-close negotiation timing, force closes and HTLC
 * timeouts on chain, anchor outputs and fee bumping, gossip (channel_announcement / updates),
 * onion encryption itself (only its size is charged), channel reserves and dust.
 *
 * Sources: J. Poon & T. Dryja, "The Bitcoin Lightning Network: Scalable Off-Chain Instant
 * Payments", 2016 (channels, HTLCs, hub-and-spoke payments); BOLT #2 (channel establishment,
 * update_add/fulfill/fail_htlc, commitment_signed / revoke_and_ack, message layouts), BOLT #4
 * (onion packet 1366 bytes, failure messages padded to 256 bytes), BOLT #7 (fee = fee_base_msat +
 * amount_to_forward · fee_proportional_millionths / 1000000, integer division), BOLT #11 (invoices,
 * default expiry 3600 s); A. Inglese et al. (shared/papers/002: channels with a hub, invoice per
 * charge, hub fee); R. Pickhardt & S. Richter, "Optimally reliable & cheap payment flows on the
 * Lightning Network", 2021: with capacity c and a balance uniform on 0..c, a payment of a over one
 * channel succeeds with probability (c + 1 − a)/(c + 1); over independent channels, the product.
 *
 * Performance: per succeeded payment three kernel events (EV send, hub forward, hub fulfil), two
 * SHA-256 (preimage, payment hash) and ~26 network message counts; state in typed arrays.
 * bench/ledger-lightning.ts (1,000,000 payments, 1000 EVs, 50 stations, chain 'none'): ~345,000
 * payments per wall second, 2.9 s, audit of the million HTLCs 1.3 s (reference container, Node 20).
 */
import { z } from 'zod';
import { PRIORITY } from '../../core/priorities.js';
import type { Rng } from '../../core/random.js';
import { subContext, type BlockLog, type Ledger, type LedgerContext, type LedgerTx, type Settlement } from '../ledger.js';
import { SIGNED_TX_BYTES, sha256 } from '../tx.js';
import { growF64, growI32, growU8 } from '../../core/typed.js';
import { ChainRefSchema, chainBackend, createChain } from '../chains.js';

// ---- parameters ---------------------------------------------------------------------------------

const OutageSchema = z
  .strictObject({
    /** start of the outage, simulated seconds */
    fromS: z.number().min(0),
    /** end of the outage (exclusive), simulated seconds; > fromS */
    toS: z.number(),
  })
  .refine((o) => o.toS > o.fromS, { message: 'toS must be > fromS', path: ['toS'] });

export const LightningParamsSchema = z
  .strictObject({
    /** ledger network node hosting the hub; agents reach it through their gateway nodes */
    hubNode: z.number().int().min(0).default(0),
    /** fixed exchange rate: msat per currency unit of the tariff (default 2,000,000: 1 BTC = 50,000 units) */
    msatPerCurrencyUnit: z.number().int().positive().default(2_000_000),
    /** capacity of an EV ↔ hub channel, funded by the EV, currency units (default 100) */
    evChannelUnits: z.number().positive().default(100),
    /** capacity of a hub ↔ station channel, funded by the hub (the station's inbound liquidity), currency units (default 1000) */
    stationChannelUnits: z.number().positive().default(1000),
    /** the hub's fee_base_msat (BOLT #7; LND default 1000) */
    feeBaseMsat: z.number().int().min(0).default(1000),
    /** the hub's fee_proportional_millionths (BOLT #7; LND default 1) */
    feeProportionalMillionths: z.number().int().min(0).default(1),
    /** invoice expiry, seconds (BOLT #11 default 3600) */
    invoiceExpiryS: z.number().positive().default(3600),
    /** the chain carrying funding, top-up and closing transactions, run inside this backend: any
     * chain-capable registered backend (name + that backend's parameters) */
    chain: ChainRefSchema.prefault({ backend: 'pow' }),
    /** confirmations before a channel is usable: the chain's `confirmations` (pow: k) unless chain.params.confirmations is set (LND default 3) */
    fundingConfirmations: z.number().int().min(1).default(3),
    /** 'topup' = splice in when the funder's balance falls below topupThreshold × funding; 'none' = never */
    rebalance: z.enum(['none', 'topup']).default('topup'),
    /** fraction of the funding below which a top-up starts */
    topupThreshold: z.number().min(0).max(1).default(0.2),
    /** funder's balance at opening: 'funded' = the whole capacity; 'uniform' = uniform on 0..capacity (Pickhardt & Richter's prior) */
    balanceModel: z.enum(['funded', 'uniform']).default('funded'),
    /** windows [fromS, toS) during which the hub is down */
    hubOutages: z.array(OutageSchema).default([]),
    /** one HTLC payment per charge record plus a closing payment per session (Ledger.streaming) */
    streaming: z.boolean().default(true),
  })
  .refine((p) => Math.max(p.evChannelUnits, p.stationChannelUnits) * p.msatPerCurrencyUnit * 4 <= Number.MAX_SAFE_INTEGER, {
    message: 'channel capacities in msat must stay well below 2^53 (headroom for top-ups)',
  });

/** Parsed parameters (defaults applied). */
export type LightningParams = z.output<typeof LightningParamsSchema>;
/** Parameters as written in a scenario (every field optional). */
export type LightningParamsInput = z.input<typeof LightningParamsSchema>;

// ---- fees ---------------------------------------------------------------------------------------

const MILLION = 1_000_000n;

/** BOLT #7 routing fee, exact: fee_base_msat + ⌊amount_to_forward · fee_proportional_millionths / 10^6⌋. */
export function routingFeeMsat(amountToForward: bigint | number, feeBaseMsat: bigint | number, feeProportionalMillionths: bigint | number): bigint {
  const a = BigInt(amountToForward);
  const b = BigInt(feeBaseMsat);
  const p = BigInt(feeProportionalMillionths);
  if (a < 0n || b < 0n || p < 0n) throw new RangeError('routingFeeMsat: negative argument');
  return b + (a * p) / MILLION; // BigInt division truncates = floor for non-negative values
}

/** The same fee for safe-integer arguments, as a number: exact (integer arithmetic only; BigInt
 * fallback when amount × ppm exceeds 2^53); throws if the fee itself is not a safe integer. */
export function routingFeeMsatSafe(amountToForward: number, feeBaseMsat: number, feeProportionalMillionths: number): number {
  const prod = amountToForward * feeProportionalMillionths;
  if (prod <= Number.MAX_SAFE_INTEGER) {
    const r = prod % 1_000_000; // exact: prod is an integer < 2^53
    const fee = feeBaseMsat + (prod - r) / 1_000_000; // exact: prod − r is a multiple of 10^6
    if (fee <= Number.MAX_SAFE_INTEGER) return fee;
  }
  const f = routingFeeMsat(amountToForward, feeBaseMsat, feeProportionalMillionths);
  if (f > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`routing fee ${f} msat exceeds 2^53`);
  return Number(f);
}

// ---- message sizes (BOLT #2 / #4 / #11), bytes --------------------------------------------------

const UPDATE_ADD_HTLC = 1452;
const COMMITMENT_SIGNED = 164;
const REVOKE_AND_ACK = 99;
const UPDATE_FULFILL_HTLC = 74;
const UPDATE_FAIL_HTLC = 336;
const OPEN_CHANNEL = 319;
const ACCEPT_CHANNEL = 270;
const FUNDING_CREATED = 132;
const FUNDING_SIGNED = 98;
const CHANNEL_READY = 67;
const INVOICE_BYTES = 300;

// ---- state codes --------------------------------------------------------------------------------

const CH_NONE = 0;
const CH_OPENING = 1;
const CH_OPEN = 2;
const CH_CLOSING = 3;

const P_WAITING = 0;
const P_SENT = 1; // hop 0 locked
const P_FORWARDED = 2; // hops 0 and 1 locked
const P_SUCCEEDED = 3;
const P_FAILED = 4;

const REASONS = [
  '',
  'insufficient liquidity at hop 0',
  'insufficient liquidity at hop 1',
  'hub unavailable',
  'invoice expired',
  'channel funding failed',
  'invalid amount',
] as const;
const R_LIQ0 = 1;
const R_LIQ1 = 2;
const R_HUB = 3;
const R_EXPIRED = 4;
const R_FUNDING = 5;
const R_INVALID = 6;

const ON_FUND = 0;
const ON_SPLICE = 1;
const ON_CLOSE = 2;

export type ChannelSide = 'ev' | 'station';

/** A channel's state, for tests and reports (a copy). */
export interface ChannelInfo {
  readonly index: number;
  readonly side: ChannelSide;
  readonly agent: number;
  readonly state: 'none' | 'opening' | 'open' | 'closing';
  readonly capacityMsat: number;
  /** the funder's balance (EV on an EV channel, hub on a station channel) */
  readonly localMsat: number;
  readonly remoteMsat: number;
  readonly lockedMsat: number;
  /** when the funding tx was submitted / settled final / the channel became usable (NaN if not yet) */
  readonly fundingSubmittedAt: number;
  readonly fundingFinalAt: number;
  readonly readyAt: number;
  readonly topups: readonly { readonly amountMsat: number; readonly submittedAt: number; readonly finalAt: number }[];
}

/** One HTLC payment's record; preimage / paymentHash are views into the backend's storage and the
 * amount/fee setters write into it (tests tamper with them to exercise audit()). */
export interface HtlcRecord {
  readonly index: number;
  readonly txId: number;
  readonly evChannel: number;
  readonly stationChannel: number;
  amountMsat: number;
  feeMsat: number;
  readonly status: 'waiting' | 'in-flight' | 'succeeded' | 'failed';
  readonly preimage: Uint8Array;
  readonly paymentHash: Uint8Array;
}

interface SessionTrack {
  open: number;
  lastAt: number;
  closing: LedgerTx | null;
}

// ---- the ledger ---------------------------------------------------------------------------------

export class LightningLedger implements Ledger {
  readonly backend = 'lightning';
  readonly streaming: boolean;
  readonly params: LightningParams;
  /** the underlying chain (funding, top-ups, closings) */
  readonly chain: Ledger;

  private readonly ctx: LedgerContext;
  private readonly hub: number;
  private readonly rate: number;
  private readonly evFund: number;
  private readonly stFund: number;
  private readonly feeBase: number;
  private readonly feePpm: number;
  private readonly outages: Float64Array; // merged [from, to) pairs
  private readonly rngBalances: Rng;
  private readonly net0: { messages: number; bytes: number };
  private readonly kSend: number;
  private readonly kFwd: number;
  private readonly kFulfil: number;
  private readonly kFail: number;
  private readonly kChain: number;
  private readonly kReady: number;
  private readonly kFundSubmit: number;

  // channels
  private nCh = 0;
  private chSide: Uint8Array = new Uint8Array(64); // 0 EV, 1 station
  private chAgent: Int32Array = new Int32Array(64);
  private chState: Uint8Array = new Uint8Array(64);
  private chFund0: Float64Array = new Float64Array(64); // funder's target (capacity at opening)
  private chInit: Float64Array = new Float64Array(64); // funder's balance at opening
  private chCap: Float64Array = new Float64Array(64);
  private chLocal: Float64Array = new Float64Array(64);
  private chRemote: Float64Array = new Float64Array(64);
  private chLocked: Float64Array = new Float64Array(64);
  private chSpliced: Float64Array = new Float64Array(64);
  private chTopup: Float64Array = new Float64Array(64); // pending splice amount (0: none)
  private chFundSubAt: Float64Array = new Float64Array(64);
  private chFundFinalAt: Float64Array = new Float64Array(64);
  private chReadyAt: Float64Array = new Float64Array(64);
  private chWait: (number[] | null)[] = [];
  private chTopups: { amountMsat: number; submittedAt: number; finalAt: number }[][] = [];
  private chGw: Int32Array = new Int32Array(64);
  private readonly evCh = new Map<number, number>();
  private readonly stCh = new Map<number, number>();
  private readonly stSecret: Buffer[] = [];

  // HTLC payments
  private nP = 0;
  private pTx: (LedgerTx | undefined)[] = [];
  private pTxId: Int32Array = new Int32Array(1024);
  private pEv: Int32Array = new Int32Array(1024);
  private pSt: Int32Array = new Int32Array(1024);
  private pAmt: Float64Array = new Float64Array(1024);
  private pFee: Float64Array = new Float64Array(1024);
  private pState: Uint8Array = new Uint8Array(1024);
  private pInvAt: Float64Array = new Float64Array(1024);
  private pPre: Uint8Array = new Uint8Array(32 * 1024);
  private pHash: Uint8Array = new Uint8Array(32 * 1024);
  private readonly preScratch = new Uint8Array(40);
  private readonly preView = new DataView(this.preScratch.buffer);

  // on-chain transactions
  private nOn = 0;
  private onCh: number[] = [];
  private onKind: number[] = [];
  private onAmt: number[] = [];
  private onFailed = 0;

  private readonly sessions = new Map<number, SessionTrack>();

  // counters
  private succeeded = 0;
  private failedBy = new Array<number>(REASONS.length).fill(0);
  private zeroAmount = 0;
  private closings = 0;
  private nonPayments = 0;
  private volumeMsat = 0;
  private feesMsat = 0;
  private hopsSum = 0;
  private channelsOpened = 0;
  private channelsClosed = 0;
  private topups = 0;

  constructor(ctx: LedgerContext, input: LightningParamsInput = {}) {
    const p = LightningParamsSchema.parse(input);
    this.params = p;
    this.ctx = ctx;
    this.streaming = p.streaming;
    if (p.hubNode >= ctx.network.n) throw new RangeError(`lightning: hubNode ${p.hubNode} is not a network node (0..${ctx.network.n - 1})`);
    this.hub = p.hubNode;
    this.rate = p.msatPerCurrencyUnit;
    this.evFund = Math.round(p.evChannelUnits * p.msatPerCurrencyUnit);
    this.stFund = Math.round(p.stationChannelUnits * p.msatPerCurrencyUnit);
    this.feeBase = p.feeBaseMsat;
    this.feePpm = p.feeProportionalMillionths;
    const w = p.hubOutages.map((o) => [o.fromS, o.toS] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: number[] = [];
    for (const [f, t] of w) {
      const k = merged.length;
      if (k > 0 && f <= merged[k - 1]!) merged[k - 1] = Math.max(merged[k - 1]!, t);
      else merged.push(f, t);
    }
    this.outages = Float64Array.from(merged);
    this.rngBalances = ctx.rng('balances');
    this.net0 = { ...ctx.network.stats };
    const k = ctx.scheduler;
    this.kSend = k.register('lightning-send', (pi) => this.onSend(pi));
    this.kFwd = k.register('lightning-forward', (pi) => this.onForward(pi));
    this.kFulfil = k.register('lightning-fulfil', (pi) => this.onFulfil(pi));
    this.kFail = k.register('lightning-fail', (pi, code) => this.onFail(pi, code));
    this.kChain = k.register('lightning-chain', (id, ok) => this.onChainSettled(id, ok === 1));
    this.kReady = k.register('lightning-ready', (c) => this.onReady(c));
    this.kFundSubmit = k.register('lightning-funding', (c) => this.submitOnChain(c, ON_FUND, this.chCap[c]!));

    const chainCtx = subContext(ctx, 'chain', (s: Settlement) => {
      ctx.scheduler.schedule(s.at, PRIORITY.LEDGER, this.kChain, s.tx.id, s.status === 'final' ? 1 : 0);
    });
    const c = p.chain;
    // a chain with a funding-depth parameter (pow's k) gets fundingConfirmations unless set
    const withDepth = chainBackend(c.backend).capabilities.confirmationsParam === true && c.params.confirmations === undefined;
    this.chain = createChain(chainCtx, withDepth ? { backend: c.backend, params: { ...c.params, confirmations: p.fundingConfirmations } } : c);
  }

  // ---- submission -------------------------------------------------------------------------------

  submit(tx: LedgerTx): void {
    const now = this.ctx.scheduler.now;
    if (tx.kind !== 'payment') {
      this.nonPayments++;
      this.ctx.settle({ tx, status: 'final', at: now, confirmations: 0 });
      return;
    }
    if (tx.closing === true) {
      this.closings++;
      const s = this.sessions.get(tx.sessionId);
      if (s === undefined || s.open === 0) {
        this.sessions.delete(tx.sessionId);
        this.ctx.settle({ tx, status: 'final', at: Math.max(now, s ? s.lastAt : now), confirmations: 0 });
      } else {
        s.closing = tx;
      }
      return;
    }
    const msat = Math.round(tx.amount * this.rate);
    if (!Number.isFinite(msat) || msat < 0 || msat > Number.MAX_SAFE_INTEGER) {
      this.failedBy[R_INVALID] = this.failedBy[R_INVALID]! + 1;
      this.ctx.settle({ tx, status: 'failed', at: now, confirmations: 0, reason: REASONS[R_INVALID] });
      return;
    }
    if (msat === 0) {
      this.zeroAmount++;
      this.ctx.settle({ tx, status: 'final', at: now, confirmations: 0 });
      return;
    }
    if (this.streaming) {
      let s = this.sessions.get(tx.sessionId);
      if (s === undefined) this.sessions.set(tx.sessionId, (s = { open: 0, lastAt: now, closing: null }));
      s.open++;
    }
    const pi = this.nP++;
    if (pi >= this.pAmt.length) this.growPayments();
    const ce = this.channel(0, tx.ev);
    const cs = this.channel(1, tx.station);
    this.pTx[pi] = tx;
    this.pTxId[pi] = tx.id;
    this.pEv[pi] = ce;
    this.pSt[pi] = cs;
    this.pAmt[pi] = msat;
    this.pFee[pi] = routingFeeMsatSafe(msat, this.feeBase, this.feePpm);
    this.pState[pi] = P_WAITING;
    const oe = this.chState[ce] === CH_OPEN;
    const os = this.chState[cs] === CH_OPEN;
    if (oe && os) {
      this.launch(pi, now);
      return;
    }
    if (!oe) this.waitOn(ce, pi);
    if (!os) this.waitOn(cs, pi);
  }

  private waitOn(c: number, pi: number): void {
    let l = this.chWait[c];
    if (l === null || l === undefined) this.chWait[c] = l = [];
    l.push(pi);
    if (this.chState[c] === CH_NONE) this.open(c);
  }

  /** The channel of (side, agent), created (not yet opened) on first use. */
  private channel(side: 0 | 1, agent: number): number {
    const m = side === 0 ? this.evCh : this.stCh;
    let c = m.get(agent);
    if (c !== undefined) return c;
    c = this.nCh++;
    if (c >= this.chCap.length) this.growChannels();
    m.set(agent, c);
    this.chSide[c] = side;
    this.chAgent[c] = agent;
    this.chGw[c] = this.ctx.network.gatewayOf(agent);
    this.chState[c] = CH_NONE;
    this.chFundSubAt[c] = NaN;
    this.chFundFinalAt[c] = NaN;
    this.chReadyAt[c] = NaN;
    this.chWait[c] = null;
    this.chTopups[c] = [];
    if (side === 1) {
      this.stSecret[c] = sha256(Buffer.from(`evsim/lightning/${this.ctx.codec.seed}/station/${agent}`, 'utf8'));
    }
    return c;
  }

  // ---- network legs -----------------------------------------------------------------------------

  /** One message between channel c's agent and the hub (either way): access link + gateway ↔ hub. */
  private leg(c: number, bytes: number): number {
    const net = this.ctx.network;
    return net.gatewayS(bytes) + net.transferS(this.chGw[c]!, this.hub, bytes);
  }

  /** End of the hub outage containing t, or -1 when the hub is up at t. */
  private downUntil(t: number): number {
    const o = this.outages;
    for (let i = 0; i < o.length; i += 2) {
      if (t < o[i]!) return -1;
      if (t < o[i + 1]!) return o[i + 1]!;
    }
    return -1;
  }

  /** t, or the end of the outage containing it. */
  private hubUpAt(t: number): number {
    const u = this.downUntil(t);
    return u < 0 ? t : u;
  }

  // ---- channel lifecycle ------------------------------------------------------------------------

  private open(c: number): void {
    this.chState[c] = CH_OPENING;
    const start = this.hubUpAt(this.ctx.scheduler.now);
    // open_channel →, accept_channel ←, funding_created →, funding_signed ←
    const d = this.leg(c, OPEN_CHANNEL) + this.leg(c, ACCEPT_CHANNEL) + this.leg(c, FUNDING_CREATED) + this.leg(c, FUNDING_SIGNED);
    const cap = this.chSide[c] === 0 ? this.evFund : this.stFund;
    this.chCap[c] = cap;
    this.chFund0[c] = cap;
    this.ctx.scheduler.schedule(start + d, PRIORITY.LEDGER, this.kFundSubmit, c);
  }

  private submitOnChain(c: number, kind: number, amountMsat: number): void {
    const now = this.ctx.scheduler.now;
    const id = this.nOn++;
    this.onCh.push(c);
    this.onKind.push(kind);
    this.onAmt.push(amountMsat);
    if (kind === ON_FUND) this.chFundSubAt[c] = now;
    // the funder signs: the EV for its channel; the hub (agent id = hubNode, so its gateway is the hub's node) for station channels
    const funder = this.chSide[c] === 0 ? this.chAgent[c]! : this.hub;
    const tx: LedgerTx = {
      id,
      kind: 'payment',
      sessionId: c,
      ev: funder,
      station: this.chSide[c] === 0 ? this.hub : this.chAgent[c]!,
      energyKWh: 0,
      amount: amountMsat / this.rate,
      powerKW: 0,
      soc: NaN,
      submittedAt: now,
    };
    this.chain.submit(tx);
  }

  private onChainSettled(id: number, ok: boolean): void {
    const c = this.onCh[id]!;
    const kind = this.onKind[id]!;
    const now = this.ctx.scheduler.now;
    if (!ok) this.onFailed++;
    if (kind === ON_FUND) {
      if (!ok) {
        this.chState[c] = CH_NONE;
        const l = this.chWait[c];
        this.chWait[c] = null;
        if (l) for (const pi of l) if (this.pState[pi] === P_WAITING) this.failNow(pi, R_FUNDING, now);
        return;
      }
      this.chFundFinalAt[c] = now;
      this.channelsOpened++;
      const cap = this.chCap[c]!;
      const local = this.params.balanceModel === 'uniform' ? this.rngBalances.int(cap + 1) : cap;
      this.chInit[c] = local;
      this.chLocal[c] = local;
      this.chRemote[c] = cap - local;
      this.chLocked[c] = 0;
      // channel_ready both ways (sent at once): usable one leg later
      const d = Math.max(this.leg(c, CHANNEL_READY), this.leg(c, CHANNEL_READY));
      this.ctx.scheduler.schedule(now + d, PRIORITY.LEDGER, this.kReady, c);
    } else if (kind === ON_SPLICE) {
      const amt = this.onAmt[id]!;
      const rec = this.chTopups[c]!.find((r) => r.amountMsat === amt && Number.isNaN(r.finalAt));
      this.chTopup[c] = 0;
      if (!ok) return;
      this.topups++;
      if (rec) rec.finalAt = now;
      this.chLocal[c] = this.chLocal[c]! + amt;
      this.chCap[c] = this.chCap[c]! + amt;
      this.chSpliced[c] = this.chSpliced[c]! + amt;
      this.maybeTopup(c, false);
    }
    // closings: nothing more to do
  }

  private onReady(c: number): void {
    const now = this.ctx.scheduler.now;
    this.chState[c] = CH_OPEN;
    this.chReadyAt[c] = now;
    const l = this.chWait[c];
    this.chWait[c] = null;
    if (!l) return;
    for (const pi of l) {
      if (this.pState[pi] !== P_WAITING) continue;
      if (this.chState[this.pEv[pi]!] === CH_OPEN && this.chState[this.pSt[pi]!] === CH_OPEN) this.launch(pi, now);
    }
  }

  private maybeTopup(c: number, force: boolean): void {
    if (this.params.rebalance !== 'topup' || this.chState[c] !== CH_OPEN || this.chTopup[c] !== 0) return;
    const local = this.chLocal[c]!;
    const target = this.chFund0[c]!;
    if (!force && local >= this.params.topupThreshold * target) return;
    const amt = target - local;
    if (amt <= 0) return;
    this.chTopup[c] = amt;
    this.chTopups[c]!.push({ amountMsat: amt, submittedAt: this.ctx.scheduler.now, finalAt: NaN });
    this.submitOnChain(c, ON_SPLICE, amt);
  }

  // ---- payments ---------------------------------------------------------------------------------

  /** Both channels usable at t0: the station issues the invoice and sends it to the EV. */
  private launch(pi: number, t0: number): void {
    const cs = this.pSt[pi]!;
    const ce = this.pEv[pi]!;
    const net = this.ctx.network;
    // invoice: preimage = SHA-256(station secret ‖ payment number), hash = SHA-256(preimage)
    this.preScratch.set(this.stSecret[cs]!, 0);
    this.preView.setFloat64(32, pi, true);
    const pre = sha256(this.preScratch);
    this.pPre.set(pre, 32 * pi);
    this.pHash.set(sha256(pre), 32 * pi);
    this.pInvAt[pi] = t0;
    const d = net.gatewayS(INVOICE_BYTES) + net.transferS(this.chGw[cs]!, this.chGw[ce]!, INVOICE_BYTES) + net.gatewayS(INVOICE_BYTES);
    this.ctx.scheduler.schedule(t0 + d, PRIORITY.LEDGER, this.kSend, pi);
  }

  /** The EV has the invoice: check the hub and its balance, lock, add the HTLC to the hub. */
  private onSend(pi: number): void {
    const now = this.ctx.scheduler.now;
    if (this.downUntil(now) >= 0) return this.failNow(pi, R_HUB, now);
    const ce = this.pEv[pi]!;
    const need = this.pAmt[pi]! + this.pFee[pi]!;
    if (this.chLocal[ce]! < need) {
      this.failNow(pi, R_LIQ0, now);
      this.maybeTopup(ce, true);
      return;
    }
    this.chLocal[ce] = this.chLocal[ce]! - need;
    this.chLocked[ce] = this.chLocked[ce]! + need;
    this.pState[pi] = P_SENT;
    this.maybeTopup(ce, false);
    const d = this.leg(ce, UPDATE_ADD_HTLC + COMMITMENT_SIGNED) + this.leg(ce, REVOKE_AND_ACK + COMMITMENT_SIGNED) + this.leg(ce, REVOKE_AND_ACK);
    this.ctx.scheduler.schedule(this.hubUpAt(now + d), PRIORITY.LEDGER, this.kFwd, pi);
  }

  /** The hub holds the EV's HTLC: check its balance towards the station, lock, forward. */
  private onForward(pi: number): void {
    const now = this.ctx.scheduler.now;
    const ce = this.pEv[pi]!;
    const cs = this.pSt[pi]!;
    const amt = this.pAmt[pi]!;
    if (this.chLocal[cs]! < amt) {
      this.maybeTopup(cs, true);
      this.failBack(pi, R_LIQ1, now, ce);
      return;
    }
    this.chLocal[cs] = this.chLocal[cs]! - amt;
    this.chLocked[cs] = this.chLocked[cs]! + amt;
    this.pState[pi] = P_FORWARDED;
    this.maybeTopup(cs, false);
    const t3 = now + this.leg(cs, UPDATE_ADD_HTLC + COMMITMENT_SIGNED) + this.leg(cs, REVOKE_AND_ACK + COMMITMENT_SIGNED) + this.leg(cs, REVOKE_AND_ACK);
    if (t3 > this.pInvAt[pi]! + this.params.invoiceExpiryS) {
      // the station refuses an HTLC for an expired invoice: fail back station → hub → EV
      const t4 = this.hubUpAt(t3 + this.leg(cs, UPDATE_FAIL_HTLC + COMMITMENT_SIGNED));
      this.leg(cs, REVOKE_AND_ACK + COMMITMENT_SIGNED);
      this.leg(cs, REVOKE_AND_ACK);
      this.ctx.scheduler.schedule(t4 + this.failLeg(ce), PRIORITY.LEDGER, this.kFail, pi, R_EXPIRED);
      return;
    }
    // the station reveals the preimage
    const t4 = t3 + this.leg(cs, UPDATE_FULFILL_HTLC + COMMITMENT_SIGNED);
    this.ctx.scheduler.schedule(this.hubUpAt(t4), PRIORITY.LEDGER, this.kFulfil, pi);
  }

  /** update_fail_htlc hub → EV (+ the trailing commitment dance, counted); returns the critical-path delay. */
  private failLeg(ce: number): number {
    const d = this.leg(ce, UPDATE_FAIL_HTLC + COMMITMENT_SIGNED);
    this.leg(ce, REVOKE_AND_ACK + COMMITMENT_SIGNED);
    this.leg(ce, REVOKE_AND_ACK);
    return d;
  }

  private failBack(pi: number, code: number, now: number, ce: number): void {
    this.ctx.scheduler.schedule(now + this.failLeg(ce), PRIORITY.LEDGER, this.kFail, pi, code);
  }

  /** The failure has reached the EV: release the locked HTLC amounts, report. */
  private onFail(pi: number, code: number): void {
    const ce = this.pEv[pi]!;
    const need = this.pAmt[pi]! + this.pFee[pi]!;
    this.chLocked[ce] = this.chLocked[ce]! - need;
    this.chLocal[ce] = this.chLocal[ce]! + need;
    if (this.pState[pi] === P_FORWARDED) {
      const cs = this.pSt[pi]!;
      this.chLocked[cs] = this.chLocked[cs]! - this.pAmt[pi]!;
      this.chLocal[cs] = this.chLocal[cs]! + this.pAmt[pi]!;
    }
    this.failNow(pi, code, this.ctx.scheduler.now);
  }

  /** The hub has the preimage: settle both HTLCs, pass the preimage on to the EV. */
  private onFulfil(pi: number): void {
    const now = this.ctx.scheduler.now;
    const ce = this.pEv[pi]!;
    const cs = this.pSt[pi]!;
    const amt = this.pAmt[pi]!;
    const fee = this.pFee[pi]!;
    this.chLocked[cs] = this.chLocked[cs]! - amt;
    this.chRemote[cs] = this.chRemote[cs]! + amt;
    this.chLocked[ce] = this.chLocked[ce]! - (amt + fee);
    this.chRemote[ce] = this.chRemote[ce]! + (amt + fee);
    // trailing commitment dance on the station channel (counted, off the critical path)
    this.leg(cs, REVOKE_AND_ACK + COMMITMENT_SIGNED);
    this.leg(cs, REVOKE_AND_ACK);
    const t5 = now + this.leg(ce, UPDATE_FULFILL_HTLC + COMMITMENT_SIGNED);
    this.leg(ce, REVOKE_AND_ACK + COMMITMENT_SIGNED);
    this.leg(ce, REVOKE_AND_ACK);
    this.pState[pi] = P_SUCCEEDED;
    this.succeeded++;
    this.volumeMsat += amt;
    this.feesMsat += fee;
    this.hopsSum += 2;
    const tx = this.pTx[pi]!;
    this.pTx[pi] = undefined;
    this.ctx.settle({ tx, status: 'final', at: t5, confirmations: 0, bytes: UPDATE_ADD_HTLC, fee: fee / this.rate });
    this.sessionSettled(tx, t5);
  }

  private failNow(pi: number, code: number, at: number): void {
    this.pState[pi] = P_FAILED;
    this.failedBy[code] = this.failedBy[code]! + 1;
    const tx = this.pTx[pi]!;
    this.pTx[pi] = undefined;
    this.ctx.settle({ tx, status: 'failed', at, confirmations: 0, reason: REASONS[code] });
    this.sessionSettled(tx, at);
  }

  private sessionSettled(tx: LedgerTx, at: number): void {
    if (!this.streaming) return;
    const s = this.sessions.get(tx.sessionId);
    if (s === undefined) return;
    s.open--;
    if (at > s.lastAt) s.lastAt = at;
    if (s.open === 0 && s.closing !== null) {
      this.sessions.delete(tx.sessionId);
      this.ctx.settle({ tx: s.closing, status: 'final', at: Math.max(s.lastAt, this.ctx.scheduler.now), confirmations: 0 });
    }
  }

  // ---- end of run, metrics, audit ---------------------------------------------------------------

  /** The underlying chain's blocks (channel opens, top-ups and closes), if it has any. */
  blockLog(): BlockLog | undefined {
    return this.chain.blockLog?.();
  }

  finish(): void {
    for (let c = 0; c < this.nCh; c++) {
      if (this.chState[c] !== CH_OPEN) continue;
      this.chState[c] = CH_CLOSING;
      this.channelsClosed++;
      this.submitOnChain(c, ON_CLOSE, this.chCap[c]!);
    }
    this.chain.finish?.();
  }

  extraMetrics(): Record<string, number> {
    const f = this.failedBy;
    const failed = f.reduce((a, b) => a + b, 0) - f[R_INVALID]!;
    const chain = this.chain.extraMetrics();
    const stats = this.ctx.network.stats;
    return {
      payments: this.nP,
      succeeded: this.succeeded,
      failed,
      failedLiquidity: f[R_LIQ0]! + f[R_LIQ1]!,
      failedLiquidityHop0: f[R_LIQ0]!,
      failedLiquidityHop1: f[R_LIQ1]!,
      failedHubOutage: f[R_HUB]!,
      failedFunding: f[R_FUNDING]!,
      failedExpired: f[R_EXPIRED]!,
      failedInvalid: f[R_INVALID]!,
      zeroAmount: this.zeroAmount,
      closings: this.closings,
      nonPayments: this.nonPayments,
      volumeMsat: this.volumeMsat,
      feesMsat: this.feesMsat,
      channels: this.nCh,
      channelsOpened: this.channelsOpened,
      channelsClosed: this.channelsClosed,
      topups: this.topups,
      onChainTxs: this.nOn,
      onChainFailed: this.onFailed,
      onChainBytes: this.nOn * (this.chain.defaultTxBytes?.('payment') ?? SIGNED_TX_BYTES),
      meanHops: this.succeeded > 0 ? this.hopsSum / this.succeeded : 0,
      messages: stats.messages - this.net0.messages,
      bytesSent: stats.bytes - this.net0.bytes,
      chainBlocks: chain.blocks ?? 0,
      chainMessages: chain.messages ?? 0,
      chainBytesSent: chain.bytesSent ?? 0,
    };
  }

  audit(): string[] {
    const out: string[] = [];
    const n = this.nCh;
    const outgoing = new Float64Array(n); // succeeded, funder → other side
    const inflight = new Float64Array(n);
    let fees = 0;
    for (let pi = 0; pi < this.nP; pi++) {
      const st = this.pState[pi]!;
      const name = `payment ${pi} (tx ${this.pTxId[pi]})`;
      const amt = this.pAmt[pi]!;
      const fee = this.pFee[pi]!;
      if (!(Number.isSafeInteger(amt) && amt > 0)) out.push(`${name}: amount ${amt} msat is not a positive integer`);
      if (fee !== routingFeeMsatSafe(Math.max(0, Math.round(amt)), this.feeBase, this.feePpm)) {
        out.push(`${name}: fee ${fee} msat != fee_base_msat + amount × fee_proportional_millionths / 10^6 (BOLT #7)`);
      }
      const ce = this.pEv[pi]!;
      const cs = this.pSt[pi]!;
      if (st === P_SUCCEEDED) {
        const pre = this.pPre.subarray(32 * pi, 32 * pi + 32);
        const h = this.pHash.subarray(32 * pi, 32 * pi + 32);
        if (!sha256(pre).equals(h)) out.push(`${name}: settled HTLC's preimage does not hash to its payment hash`);
        outgoing[ce] = outgoing[ce]! + (amt + fee);
        outgoing[cs] = outgoing[cs]! + amt;
        fees += fee;
      } else if (st === P_SENT) {
        inflight[ce] = inflight[ce]! + (amt + fee);
      } else if (st === P_FORWARDED) {
        inflight[ce] = inflight[ce]! + (amt + fee);
        inflight[cs] = inflight[cs]! + amt;
      }
    }
    let hubOnEv = 0;
    let hubOnSt = 0;
    for (let c = 0; c < n; c++) {
      if (this.chState[c] === CH_NONE || Number.isNaN(this.chFundFinalAt[c]!)) continue; // never funded
      const name = `channel ${c} (${this.chSide[c] === 0 ? 'ev' : 'station'} ${this.chAgent[c]} ↔ hub)`;
      const local = this.chLocal[c]!;
      const remote = this.chRemote[c]!;
      const locked = this.chLocked[c]!;
      const cap = this.chCap[c]!;
      if (local < 0 || remote < 0 || locked < 0) out.push(`${name}: negative balance (local ${local}, remote ${remote}, locked ${locked})`);
      if (local + remote + locked !== cap) out.push(`${name}: balances ${local} + ${remote} + ${locked} msat != capacity ${cap}`);
      const expLocal = this.chInit[c]! + this.chSpliced[c]! - outgoing[c]! - inflight[c]!;
      const expRemote = this.chFund0[c]! - this.chInit[c]! + outgoing[c]!;
      if (local !== expLocal) out.push(`${name}: funder balance ${local} msat != ${expLocal} recomputed from the payment log`);
      if (remote !== expRemote) out.push(`${name}: counterparty balance ${remote} msat != ${expRemote} recomputed from the payment log`);
      if (locked !== inflight[c]) out.push(`${name}: locked ${locked} msat != ${inflight[c]} in in-flight HTLCs`);
      if (this.chSide[c] === 0) hubOnEv += outgoing[c]!;
      else hubOnSt += outgoing[c]!;
    }
    if (hubOnEv - hubOnSt !== this.feesMsat || fees !== this.feesMsat) {
      out.push(`hub: received ${hubOnEv} − paid ${hubOnSt} msat != fees ${this.feesMsat} msat`);
    }
    for (const line of this.chain.audit()) out.push(`chain: ${line}`);
    return out;
  }

  // ---- inspection (tests, reports) --------------------------------------------------------------

  /** The channel of an EV or station, or undefined if it has none. */
  channelInfo(side: ChannelSide, agent: number): ChannelInfo | undefined {
    const c = (side === 'ev' ? this.evCh : this.stCh).get(agent);
    if (c === undefined) return undefined;
    return {
      index: c,
      side,
      agent,
      state: (['none', 'opening', 'open', 'closing'] as const)[this.chState[c]!]!,
      capacityMsat: this.chCap[c]!,
      localMsat: this.chLocal[c]!,
      remoteMsat: this.chRemote[c]!,
      lockedMsat: this.chLocked[c]!,
      fundingSubmittedAt: this.chFundSubAt[c]!,
      fundingFinalAt: this.chFundFinalAt[c]!,
      readyAt: this.chReadyAt[c]!,
      topups: this.chTopups[c]!.map((r) => ({ ...r })),
    };
  }

  /** Number of HTLC payments recorded. */
  get htlcCount(): number {
    return this.nP;
  }

  /** The record of HTLC payment `i` (submission order of non-zero payments). */
  htlc(i: number): HtlcRecord {
    if (!(Number.isInteger(i) && i >= 0 && i < this.nP)) throw new RangeError(`htlc ${i} out of range`);
    const self = this;
    const st = this.pState[i]!;
    return {
      index: i,
      txId: this.pTxId[i]!,
      evChannel: this.pEv[i]!,
      stationChannel: this.pSt[i]!,
      get amountMsat() {
        return self.pAmt[i]!;
      },
      set amountMsat(v: number) {
        self.pAmt[i] = v;
      },
      get feeMsat() {
        return self.pFee[i]!;
      },
      set feeMsat(v: number) {
        self.pFee[i] = v;
      },
      status: st === P_WAITING ? 'waiting' : st === P_SUCCEEDED ? 'succeeded' : st === P_FAILED ? 'failed' : 'in-flight',
      preimage: this.pPre.subarray(32 * i, 32 * i + 32),
      paymentHash: this.pHash.subarray(32 * i, 32 * i + 32),
    };
  }

  // ---- growth -----------------------------------------------------------------------------------

  private growChannels(): void {
    const n = this.chCap.length * 2;
    this.chSide = growU8(this.chSide, n);
    this.chAgent = growI32(this.chAgent, n);
    this.chState = growU8(this.chState, n);
    this.chFund0 = growF64(this.chFund0, n);
    this.chInit = growF64(this.chInit, n);
    this.chCap = growF64(this.chCap, n);
    this.chLocal = growF64(this.chLocal, n);
    this.chRemote = growF64(this.chRemote, n);
    this.chLocked = growF64(this.chLocked, n);
    this.chSpliced = growF64(this.chSpliced, n);
    this.chTopup = growF64(this.chTopup, n);
    this.chFundSubAt = growF64(this.chFundSubAt, n);
    this.chFundFinalAt = growF64(this.chFundFinalAt, n);
    this.chReadyAt = growF64(this.chReadyAt, n);
    this.chGw = growI32(this.chGw, n);
  }

  private growPayments(): void {
    const n = this.pAmt.length * 2;
    this.pTxId = growI32(this.pTxId, n);
    this.pEv = growI32(this.pEv, n);
    this.pSt = growI32(this.pSt, n);
    this.pAmt = growF64(this.pAmt, n);
    this.pFee = growF64(this.pFee, n);
    this.pState = growU8(this.pState, n);
    this.pInvAt = growF64(this.pInvAt, n);
    this.pPre = growU8(this.pPre, 32 * n);
    this.pHash = growU8(this.pHash, 32 * n);
  }
}

export function createLightningLedger(ctx: LedgerContext, params: LightningParamsInput = {}): LightningLedger {
  return new LightningLedger(ctx, params);
}
