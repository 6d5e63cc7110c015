/**
 * `tangle`: an IOTA-Tangle-like DAG ledger on the simulation clock (the ledger of Strugar et al.,
 * shared/papers/000: EVs publish their final machine-to-machine transaction on the IOTA Tangle,
 * approving two unapproved transactions with a proof of work, protected by the Coordinator).
 *
 * Model
 *   - Vertices: the genesis (vertex 0), one vertex per city transaction (its attachment; a
 *     re-attachment is another vertex carrying the same signed transaction), coordinator milestones
 *     and injected double-spend twins. Each vertex approves k parents (default 2: IOTA's trunk and
 *     branch), stored in one Int32Array (k per vertex); approvers are kept as linked lists in typed
 *     arrays (childHead / childNext over the edge index v·k + j) so that random walks go forward.
 *   - Timeline of a city tx submitted at s by EV e: the EV signs (codec.signCostS) and sends it to
 *     its gateway node (network.gatewayS); at t = s + sign + gateway the gateway selects tips on its
 *     view of the DAG and the tx's parents are fixed ("issued", the attachment instant of Popov's
 *     model); it does the proof of work (powS) and gossips the tx (network.broadcast, counted); every
 *     node sees it at t + powS + visibilityDelayS. Issuers' views: a vertex and its approvals enter
 *     the (common) view at its visibility instant, so an issuer at t sees the DAG as it was
 *     h = powS + visibilityDelayS before, for other issuers' transactions. This is Popov's delay h
 *     (time between choosing tips and being visible to others).
 *   - visibilityDelayS: a parameter; absent = the mean, over ordered node pairs, of the gossip delay
 *     of one tx over ctx.network's overlay (computed once from network.broadcast; its message counts
 *     are taken back out of network.stats). One common delay for all nodes: per-node views are
 *     left out (so all issuers share one view, which is what Popov's and Kusmierz's models assume).
 *   - Proof of work: powS = 2^difficultyBits / deviceHashRate (expected hashes / hash rate), drawn
 *     exponential with that mean (a nonce search is a geometric trial; 'fixed' = the mean). IOTA's
 *     minimum weight magnitude MWM = 14 means 14 trailing zero TRITS, 3^14 ≈ 4.78·10^6 expected
 *     Curl-P hashes ≈ 2^22.19, so the default is difficultyBits = 22 (14·log2 3 = 22.19 rounded);
 *     deviceHashRate default 2^22 ≈ 4.2 MH/s, i.e. ≈ 1 s per tx, the order of IOTA's reported
 *     MWM-14 PoW on a desktop CPU (IoT microcontrollers take tens of seconds: raise the rate's
 *     denominator accordingly). Optional realPow: {enabled, bits}: a real SHA-256 nonce search
 *     (sha256(bundleHash ‖ nonce u32 LE) with `bits` leading zero bits) — wall clock only, reported
 *     by wallClockStats(), never in simulated time or metrics; audit() then checks every nonce.
 *   - Tip selection (the issuer's view at t):
 *       'uniform': k distinct tips uniformly among the visible, valid tips (Popov's URTS).
 *       'mcmc': k independent weighted random walks (IOTA's MCMC, Popov §4.1): from x to an approver
 *       y with probability ∝ exp(−α(H_x − H_y)) (H = cumulative weight, computed in the view);
 *       a walk ends at a vertex without visible valid approvers. Start site ('start'):
 *       'band' (default) — drawn uniformly among the valid vertices whose cumulative weight now lies
 *       in [startWeight, startWeight·(1 + startBand)): a depth window behind the tips measured in
 *       weight. Under minute-synchronised bursts every layer crossing the window contributes sites,
 *       so their future cones cover each new layer (the 'weight' ring of 16 covered only part of it:
 *       13.6 % of a grid-100k-like day confirmed, vs 99.0 % with 'band', bench/ledger-tangle.ts);
 *       the window stays shallow (≈ startWeight·startBand sites under Poisson load), so lazy txs,
 *       whose parents are older than the window, are still left behind.
 *       'weight' — one of the `startSites` vertices that most recently reached cumulative weight
 *       `startWeight` (default 100; choose ≳ 20·λh), i.e. a site whose weight lies just above a window's lower edge,
 *       at a bounded depth below the tips (Kusmierz et al. 2019 start their walks at such a depth);
 *       'milestone' — the latest visible milestone (IRI's reference milestone). α default 0.001
 *       (IRI's default --alpha). Walks are capped at maxSteps (counted in walkTruncated).
 *   - Cumulative weight (own weight 1 + number of visible direct/indirect approvers) is maintained
 *     incrementally and capped at C = max(confirmationWeight, 2·startWeight): when a vertex becomes
 *     visible, its past cone is walked (visited-epoch stamp), adding 1 to every ancestor, and the
 *     walk stops at ancestors already at C. This is exact for min(H, C): every approver of x also
 *     approves x's parents, so H(parent) > H(x), and once x reached C all its ancestors have.
 *     Work per tx is bounded by the "light" frontier (weights below C), not by the DAG size. Walks
 *     started from a milestone cross the region above C, where weights are flattened to C (uniform
 *     choice there) — a documented approximation of 'milestone' start only.
 *   - Confirmation: 'milestone' (default, IOTA mainnet with the Coordinator): the coordinator node
 *     (coordinatorNode) issues a milestone every milestoneIntervalS (default 60 s); it approves the
 *     previous milestone (trunk) and k−1 tips it selects like any issuer, does the PoW and signs
 *     its bundle hash (codec.signBytes('node', coordinatorNode, ...)). Every not-yet-confirmed vertex
 *     in its past cone is confirmed (walk back from the milestone over unconfirmed vertices only —
 *     bounded by what was attached since the last milestones); settlement at the milestone's
 *     visibility instant (confirmations 1). 'cumulative-weight': a vertex is final when its
 *     cumulative weight reaches confirmationWeight w (default 10; settlement at that visibility
 *     instant, confirmations = w). Milestones are issued only in milestone mode or with
 *     mcmc.start = 'milestone'.
 *   - Double spends (doubleSpend.fraction): after a city tx E is issued, with that probability an
 *     attacker issues (delayS later, default 0) a twin: E's body with another payee (same EV, same
 *     amount, same session), signed by the EV — the same spend. Vertices carry a taint (the set of
 *     unresolved conflict members in their past cone, propagated at creation; interned sets). An
 *     issuer whose selected tips' combined past cone holds both members detects the conflict (IRI's
 *     consistency check): the lighter member (cumulative weight; tie: the later, the twin) loses;
 *     a conflict is also resolved when one member (or a vertex above it) is confirmed first, and a
 *     milestone resolves every conflict in its cone in favour of what it approves. The loser and its
 *     future cone become invalid: never confirmed, pruned from tip selection; the loser, if a city
 *     tx, fails with reason 'double spend'; honest city txs caught in that cone are re-attached
 *     (new vertex, fresh tips and PoW; counted). Never are both members confirmed (audit checks).
 *   - Lazy tips (lazyTips.fraction): each city tx is lazy with that probability: it approves k
 *     vertices uniformly chosen among those issued between 2·ageS and ageS ago (default ageS = 60 s)
 *     instead of tips. Under MCMC such txs are rarely reached by walks and are left behind.
 *   - Data: txid = SHA-256 of the canonical body (ctx.codec.sign); bundle hash =
 *     SHA-256(txid ‖ parents' bundle hashes), so the DAG is hash-linked like a Merkle DAG; bodies,
 *     signatures, txids and bundle hashes are stored in flat typed arrays (the `dag` getter exposes
 *     them). audit() recomputes every txid, signature, bundle hash and hash link, checks that each
 *     parent was visible when its approver was issued, milestone signatures, indices and trunk
 *     chain, PoW nonces (realPow), that confirmed vertices have confirmed parents and are valid, and
 *     that no conflict has both members confirmed; one line per problem naming the tx / milestone.
 *
 * Assumptions and what is left out: one common view (delay h) for all issuers; no per-node
 * storage limits or snapshots/pruning; the coordinator is honest and always on; conflicts only as
 * injected twins of recent txs, or one attack (params.attack: a parasite chain or a splitting
 * attack by an attacker issuing a share q of the total rate; honest issuers never approve both of
 * its members and re-select; with the coordinator the first milestone approving a member decides,
 * without it the conflict is decided when one member's exact cumulative weight, counted from the
 * visible vertices whose past cone holds it, leads by decisionMarginWeight; meanwhile nothing above
 * either member is final under cumulative-weight confirmation, though P's reaching weight w is
 * reported as the merchant's acceptance); conflict status is known
 * to all issuers once detected; IOTA's Curl-P/ternary encoding, bundles of several txs, value
 * ledger balances, promotion/re-attachment of merely slow txs (left behind txs stay pending),
 * below-max-depth checks, network congestion and receivers' verification CPU cost are left out.
 * Weights added by vertices invalidated afterwards stay counted in their ancestors.
 *
 * Sources: S. Popov, "The Tangle", white paper v1.4.3 (2018): URTS, the stationary mean number of
 * tips L0 ≈ 2λh for k = 2 (λ arrival rate, h delay; k·λh/(k−1) in general), MCMC with
 * P(x→y) ∝ exp(−α(H_x − H_y)), lazy tips; B. Kusmierz, P. Staupe, A. Gal, "Extracting Tangle
 * properties in continuous time via large-scale simulations" (2017) and B. Kusmierz, W. Sanders,
 * A. Penzkofer, A. Capossele, A. Gal, "Properties of the Tangle for uniform random and random walk
 * tip selection", IEEE Blockchain 2019 (tip counts ≈ 2λh under URTS, more tips at large α); IOTA
 * Foundation documentation of the Coordinator / milestones and MWM 14 (IRI: --alpha 0.001,
 * milestone-based confirmation); D. Strugar, R. Hussain, M. Mazzara, V. Rivera, "M2M Billing for
 * Electric Autonomous Vehicles" (shared/papers/000).
 *
 * Metrics: meanTips / maxTips / finalTips are time averages / extremes of the DAG tip count (valid
 * vertices no issued vertex approves; orphaned tips included, so under MCMC they grow slowly with
 * time), meanVisibleTips the view's; leftBehind = valid city-tx vertices still unconfirmed
 * leftBehindAfterS after their issue, orphanedTips those among them never approved.
 *
 * Performance: per tx O(k) tip-set updates, one bounded walk per parent (MCMC), one bounded
 * cone walk for cumulative weights (≈ 2·startWeight ancestor updates), two SHA-256 (txid, bundle)
 * plus the codec's signature; typed arrays throughout. bench/ledger-tangle.ts: 1,000,000 txs at
 * 50 tx/s with MCMC tip selection and milestones: 13.7 s wall on one core (≈ 73,000 txs per wall
 * second), 160 MB heap.
 */
import { z } from 'zod';
import { performance } from 'node:perf_hooks';
import type { BlockLog, BlockRecord, Ledger, LedgerContext, LedgerTx } from '../ledger.js';
import { PRIORITY } from '../../core/priorities.js';
import type { Rng } from '../../core/random.js';
import { sha256, SIGNATURE_BYTES, SIGNED_TX_BYTES, TX_BODY_BYTES } from '../tx.js';

// ---- parameters ---------------------------------------------------------------------------------

export const TangleParamsSchema = z.strictObject({
  /** parents approved by every vertex (IOTA: 2, trunk and branch) */
  k: z.number().int().min(1).max(8).default(2),
  /** tip selection: 'uniform' random among visible tips, or 'mcmc' weighted random walks */
  tipSelection: z.enum(['uniform', 'mcmc']).default('mcmc'),
  mcmc: z
    .strictObject({
      /** α of P(x→y) ∝ exp(−α(H_x − H_y)); IRI's default 0.001 */
      alpha: z.number().min(0).default(0.001),
      /** start site: 'weight' = a vertex that recently reached startWeight; 'milestone' = latest visible milestone */
      start: z.enum(['band', 'weight', 'milestone']).default('band'),
      /** 'band' start: a site is drawn uniformly among the valid vertices whose cumulative weight lies
       * in [startWeight, startWeight·(1 + startBand)) now (a depth window behind the tips, measured in
       * weight, so it holds under bursts: every layer crossing the window contributes sites) */
      startBand: z.number().gt(0).max(1).default(0.25),
      /** cumulative weight of the start site ('weight' start); deeper starts leave fewer tips behind
       * but cost more (weights are maintained up to 2·startWeight). Measured (α = 0.001, milestones):
       * λh ≈ 5: 0.1 % of txs left behind at 100 (1.2 % at 20); λh ≈ 54: 1.2 % at 100, 0.5 % at 600 */
      startWeight: z.number().int().min(1).default(100),
      /** how many of the most recent vertices to reach startWeight are kept as start sites (a walk
       * starts at one drawn uniformly). 16 keeps walks shallow (lazy txs are left behind, as MCMC
       * intends) but fails under bursty load: minute-synchronised bursts of ~1,000 records
       * (grid-100k) left 81 % unconfirmed with 16 and 0.07 % with 4,096; 4,096 start sites, however,
       * reach so deep that lazy txs get approved too */
      startSites: z.number().int().min(1).default(16),
      /** 'milestone' start: walk from the visible milestone this many milestones before the latest
       * (IRI's depth); 0 = the latest, whose future cone is too young to cover the tips */
      startMilestoneDepth: z.number().int().min(0).default(2),
      /** upper bound on the steps of one walk */
      maxSteps: z.number().int().min(1).default(100_000),
    })
    .prefault({}),
  /** delay (s) after the PoW until every issuer sees a vertex; null = mean gossip delay of ctx.network */
  visibilityDelayS: z.number().min(0).nullable().default(null),
  pow: z
    .strictObject({
      /** expected hashes = 2^difficultyBits; IOTA MWM 14 trits ≈ 3^14 ≈ 2^22.19 → 22 */
      difficultyBits: z.number().min(0).max(64).default(22),
      /** hashes per second of the issuing device (default 2^22: ≈ 1 s per tx at 22 bits) */
      deviceHashRate: z.number().positive().default(4_194_304),
      /** 'exponential' (a nonce search: random, mean 2^bits/rate) or 'fixed' (always the mean) */
      dist: z.enum(['fixed', 'exponential']).default('exponential'),
    })
    .prefault({}),
  /** real SHA-256 nonce search at a low difficulty (wall clock only; audit checks the nonces) */
  realPow: z
    .strictObject({ enabled: z.boolean().default(false), bits: z.number().int().min(0).max(24).default(8) })
    .prefault({}),
  /** 'milestone' (Coordinator) or 'cumulative-weight' (final at weight confirmationWeight) */
  confirmation: z.enum(['milestone', 'cumulative-weight']).default('milestone'),
  /** cumulative weight (own weight 1 included) at which a tx is final in 'cumulative-weight' mode */
  confirmationWeight: z.number().int().min(1).default(10),
  /** seconds between milestones */
  milestoneIntervalS: z.number().positive().default(60),
  /** network node of the coordinator */
  coordinatorNode: z.number().int().min(0).default(0),
  /** fault: a twin spending the same as a city tx is issued for this fraction of city txs, delayS later */
  doubleSpend: z.strictObject({ fraction: z.number().min(0).max(1).default(0), delayS: z.number().min(0).default(0) }).prefault({}),
  /** fault: this fraction of city txs approve txs issued between 2·ageS and ageS ago instead of tips */
  lazyTips: z.strictObject({ fraction: z.number().min(0).max(1).default(0), ageS: z.number().positive().default(60) }).prefault({}),
  /** fault: an attacker issuing a share `share` of the total rate double-spends one payment P (the
   * honest transaction) at `atS`. 'parasite': the conflicting P' starts a hidden sub-tangle the
   * attacker grows privately and releases `releaseAfterS` later; 'splitting': P and P' are both
   * published and the attacker adds its vertices to the lighter branch to keep them balanced */
  attack: z
    .strictObject({
      type: z.enum(['none', 'parasite', 'splitting']).default('none'),
      /** attacker's share q of the total issuing rate: rate = q/(1−q) · the honest rate of the 300 s before atS */
      share: z.number().min(0).max(0.95).default(0.3),
      /** time of the attack (s, simulated; the honest rate is measured over the 300 s before) */
      atS: z.number().min(0).default(600),
      /** parasite: the hidden sub-tangle is published this long after P */
      releaseAfterS: z.number().min(0).default(120),
      /** the attacker stops issuing this long after atS */
      durationS: z.number().positive().default(1800),
      /** without the coordinator: the conflict is decided when one member's exact cumulative weight
       * leads the other's by this much (the parasite: from its release on) */
      decisionMarginWeight: z.number().int().min(1).default(20),
      /** the attacker's EV (signs P and P') and network node */
      ev: z.number().int().min(0).default(0),
      node: z.number().int().min(0).default(1),
    })
    .prefault({}),
  /** a vertex still unconfirmed this long (s) after its issue at the end of the run counts as left behind */
  leftBehindAfterS: z.number().positive().default(300),
});

export type TangleParams = z.output<typeof TangleParamsSchema>;
export type TangleParamsInput = z.input<typeof TangleParamsSchema>;

/** vertex kinds */
export const V_GENESIS = 0;
export const V_TX = 1;
export const V_MILESTONE = 2;
export const V_TWIN = 3;
/** the attacker's vertices: P, P' and its sub-tangle */
export const V_ATTACK = 4;
/** attack txs' LedgerTx ids: ATTACK_ID_BASE + i (P = 0, P' = 1, then the attacker's vertices) */
export const ATTACK_ID_BASE = 0xc0000000;

/** twins' LedgerTx ids: TWIN_ID_BASE + conflict index */
export const TWIN_ID_BASE = 0x80000000;
const HASH = 32;
const MS_BODY_BYTES = 20;
const MS_MAGIC = Buffer.from('EVSIM-MS', 'latin1');
const GENESIS_TXID = sha256(Buffer.from('evsim/tangle/genesis', 'utf8'));

/** Milestone body: 'EVSIM-MS' ‖ index u32 LE ‖ timestamp f64 LE (20 bytes); its txid is SHA-256 of it. */
export function milestoneBody(index: number, timestamp: number): Buffer {
  const b = Buffer.alloc(MS_BODY_BYTES);
  MS_MAGIC.copy(b, 0);
  b.writeUInt32LE(index, 8);
  b.writeDoubleLE(timestamp, 12);
  return b;
}

/** The stored DAG (typed arrays, vertex-indexed; `count` vertices). Mutable on purpose: tests alter it to exercise audit(). */
export interface TangleDag {
  count: number;
  k: number;
  kind: Uint8Array;
  parents: Int32Array;
  issuedAt: Float64Array;
  visibleAt: Float64Array;
  /** 58-byte bodies (txs and twins) */
  bodies: Uint8Array;
  /** 64-byte EV signatures (txs, twins) */
  sigs: Uint8Array;
  txids: Uint8Array;
  bundles: Uint8Array;
  nonces: Uint32Array;
  /** LedgerTx id (txs, twins) or milestone index */
  recId: Float64Array;
  confirmed: Uint8Array;
  invalid: Uint8Array;
  lazy: Uint8Array;
  /** capped cumulative weight */
  cw: Int32Array;
  /** milestone vertices in order, and their coordinator signatures */
  milestones: number[];
  milestoneSigs: Uint8Array[];
}

export interface TangleConflict {
  /** vertex of the original city tx and of the twin */
  original: number;
  twin: number;
  /** 0 unresolved, 1 original won, 2 twin won */
  state: number;
}

// ---- the ledger ---------------------------------------------------------------------------------

export class TangleLedger implements Ledger {
  readonly backend = 'tangle';
  readonly params: TangleParams;
  readonly k: number;
  /** the common visibility delay (s) after the PoW */
  readonly visibilityDelayS: number;
  /** cap of the maintained cumulative weights */
  readonly weightCap: number;

  private cap = 1024;
  private n = 0;
  private kind = new Uint8Array(this.cap);
  private parents: Int32Array;
  private childNext: Int32Array;
  private childHead = new Int32Array(this.cap).fill(-1);
  private issuedAt = new Float64Array(this.cap);
  private visibleAt = new Float64Array(this.cap);
  private firstApproval = new Float64Array(this.cap).fill(NaN);
  private confirmedAt = new Float64Array(this.cap).fill(NaN);
  private vis = new Uint8Array(this.cap);
  private inv = new Uint8Array(this.cap);
  private conf = new Uint8Array(this.cap);
  private lazy = new Uint8Array(this.cap);
  private cw = new Int32Array(this.cap);
  private stamp = new Int32Array(this.cap);
  private taint = new Int32Array(this.cap);
  private conflictOf = new Int32Array(this.cap).fill(-1);
  private recId = new Float64Array(this.cap);
  private bodies = new Uint8Array(this.cap * TX_BODY_BYTES);
  private sigs = new Uint8Array(this.cap * SIGNATURE_BYTES);
  private txids = new Uint8Array(this.cap * HASH);
  private bundles = new Uint8Array(this.cap * HASH);
  private nonces = new Uint32Array(this.cap);
  private txOf: (LedgerTx | undefined)[] = [];
  // tip sets (indexed arrays with swap-remove): actual DAG tips (valid, unapproved by any issued
  // vertex) and the view's visible valid tips (uniform selection)
  private tipArr = new Int32Array(this.cap);
  private tipPos = new Int32Array(this.cap).fill(-1);
  private tipN = 0;
  private vtipArr = new Int32Array(this.cap);
  private vtipPos = new Int32Array(this.cap).fill(-1);
  private vtipN = 0;
  // tip statistics (time integrals)
  private tipT0 = NaN;
  private tipLastT = 0;
  private tipIntegral = 0;
  private vtipLastT = 0;
  private vtipIntegral = 0;
  private maxTips = 0;
  // settlement of city txs (by LedgerTx id)
  private settled = new Uint8Array(1024);
  // pending city txs between submit and issue (issue events carry the slot)
  private pend: (LedgerTx | undefined)[] = [];
  private pendFree: number[] = [];
  // MCMC
  private startRing: Int32Array;
  private ringN = 0;
  private ringPos = 0;
  // 'band' start: the vertices with startWeight <= cw < bandTop (indexed set, swap-remove)
  private bandArr = new Int32Array(1024);
  private bandPos = new Int32Array(this.cap).fill(-1);
  private bandN = 0;
  private readonly bandTop: number;
  private candV = new Int32Array(64);
  private candW = new Float64Array(64);
  private readonly sel: Int32Array;
  private epoch = 0;
  private stack = new Int32Array(1024);
  // milestones
  private msV: number[] = [];
  private msSigs: Uint8Array[] = [];
  private msVisible = -1;
  // conflicts
  private cOrig: number[] = [];
  private cTwin: number[] = [];
  private cState: number[] = [];
  private taintSets: number[][] = [[]];
  private taintIds = new Map<string, number>();
  // attack (params.attack): conflict index, the members' exact cumulative weights, the attacker's tips
  private atkC = -1;
  private atkP = -1;
  private atkQ = -1;
  private atkW = [0, 0];
  private atkTips: number[][] = [[], []];
  private atkRate = 0;
  private atkHonestRate = 0;
  private atkIssued = 0;
  private atkReleased = false;
  /** parasite vertices not yet visible; the release is complete when the last one is */
  private readonly atkHidden = new Set<number>();
  private atkAcceptedAt = NaN;
  private atkDecidedAt = NaN;
  private atkDecidedBy = 0; // 1 weight margin (no coordinator), 2 milestone
  private atkReselections = 0;
  private readonly kAttack: number;
  // scratch
  private readonly bundleBuf: Buffer;
  private readonly powBuf = Buffer.alloc(HASH + 4);
  // counters
  private cityIssued = 0;
  private reattachments = 0;
  private twins = 0;
  private dsDetectedInCone = 0;
  private dsResolvedByConfirmation = 0;
  private dsOriginalLost = 0;
  private invalidated = 0;
  private lazyIssued = 0;
  private walkSteps = 0;
  private walks = 0;
  private walkTruncated = 0;
  private cwVisits = 0;
  private storedBytes = 0;
  private invariantViolations = 0;
  private powSum = 0;
  private powWallS = 0;
  private powHashes = 0;

  private readonly ctx: LedgerContext;
  private readonly rngTips: Rng;
  private readonly rngPow: Rng;
  private readonly rngFault: Rng;
  private rngAttack: Rng | undefined;
  private readonly msg0: number;
  private readonly bytes0: number;
  private readonly kIssue: number;
  private readonly kVisible: number;
  private readonly kTwin: number;
  private readonly kMilestone: number;
  private readonly powMeanS: number;
  private readonly txBytes: number;
  /** vertices confirmed so far (milestone cones and cumulative weight) */
  private nConfirmed = 0;
  /** one row per milestone for blocks.csv */
  private readonly msRows: BlockRecord[] = [];
  private readonly msBytes: number;
  private readonly milestonesOn: boolean;
  private readonly cwMode: boolean;

  constructor(ctx: LedgerContext, params: TangleParamsInput = {}) {
    this.ctx = ctx;
    const p = TangleParamsSchema.parse(params);
    this.params = p;
    const k = (this.k = p.k);
    this.parents = new Int32Array(this.cap * k).fill(-1);
    this.childNext = new Int32Array(this.cap * k).fill(-1);
    this.sel = new Int32Array(k);
    this.bundleBuf = Buffer.alloc(HASH * (1 + k));
    this.cwMode = p.confirmation === 'cumulative-weight';
    this.milestonesOn = p.confirmation === 'milestone' || (p.tipSelection === 'mcmc' && p.mcmc.start === 'milestone');
    this.weightCap = Math.max(p.confirmationWeight, 2 * p.mcmc.startWeight);
    this.bandTop = Math.max(p.mcmc.startWeight + 1, Math.ceil(p.mcmc.startWeight * (1 + p.mcmc.startBand)));
    this.powMeanS = 2 ** p.pow.difficultyBits / p.pow.deviceHashRate;
    // stored / gossiped sizes: signed tx + parent hashes + bundle hash + nonce + attachment timestamp
    this.txBytes = SIGNED_TX_BYTES + k * HASH + HASH + 8 + 8;
    this.msBytes = MS_BODY_BYTES + SIGNATURE_BYTES + k * HASH + HASH + 8 + 8;
    if (p.coordinatorNode >= ctx.network.n) throw new RangeError(`tangle: coordinatorNode ${p.coordinatorNode} is not a network node (0..${ctx.network.n - 1})`);
    this.visibilityDelayS = p.visibilityDelayS ?? this.meanGossipDelay();
    this.rngTips = ctx.rng('tips');
    this.startRing = new Int32Array(p.mcmc.startSites);
    this.rngPow = ctx.rng('pow');
    this.rngFault = ctx.rng('faults');
    this.msg0 = ctx.network.stats.messages;
    this.bytes0 = ctx.network.stats.bytes;
    this.kIssue = ctx.scheduler.register('tangle-issue', (slot) => this.onIssue(slot));
    this.kVisible = ctx.scheduler.register('tangle-visible', (v) => this.onVisible(v));
    this.kTwin = ctx.scheduler.register('tangle-twin', (v) => this.onTwin(v));
    this.kMilestone = ctx.scheduler.register('tangle-milestone', () => this.onMilestone());
    this.kAttack = ctx.scheduler.register('tangle-attack', (what) => this.onAttack(what));
    if (p.attack.type !== 'none') {
      if (p.attack.node >= ctx.network.n) throw new RangeError(`tangle: attack.node ${p.attack.node} is not a network node (0..${ctx.network.n - 1})`);
      this.rngAttack = ctx.rng('attack');
      ctx.scheduler.schedule(Math.max(ctx.scheduler.now, p.attack.atS), PRIORITY.LEDGER, this.kAttack, 0);
    }
    this.makeGenesis();
    if (this.milestonesOn) ctx.scheduler.schedule(ctx.scheduler.now + p.milestoneIntervalS, PRIORITY.LEDGER, this.kMilestone);
  }

  /** Mean over ordered node pairs of the overlay gossip delay of one tx (not counted). */
  private meanGossipDelay(): number {
    const net = this.ctx.network;
    if (net.n < 2) return 0;
    let sum = 0;
    net.uncounted(() => {
      for (let i = 0; i < net.n; i++) {
        const d = net.broadcast(i, this.txBytes);
        for (let j = 0; j < net.n; j++) if (j !== i) sum += d[j]!;
      }
    });
    return sum / (net.n * (net.n - 1));
  }

  // ---- storage ----------------------------------------------------------------------------------

  private grow(): void {
    const c = this.cap * 2;
    const k = this.k;
    const g = <T extends Uint8Array | Int32Array | Float64Array | Uint32Array>(a: T, size: number, fill?: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      if (fill !== undefined) b.fill(fill);
      b.set(a);
      return b;
    };
    this.kind = g(this.kind, c);
    this.parents = g(this.parents, c * k, -1);
    this.childNext = g(this.childNext, c * k, -1);
    this.childHead = g(this.childHead, c, -1);
    this.issuedAt = g(this.issuedAt, c);
    this.visibleAt = g(this.visibleAt, c);
    this.firstApproval = g(this.firstApproval, c, NaN);
    this.confirmedAt = g(this.confirmedAt, c, NaN);
    this.vis = g(this.vis, c);
    this.inv = g(this.inv, c);
    this.conf = g(this.conf, c);
    this.lazy = g(this.lazy, c);
    this.cw = g(this.cw, c);
    this.stamp = g(this.stamp, c);
    this.taint = g(this.taint, c);
    this.conflictOf = g(this.conflictOf, c, -1);
    this.recId = g(this.recId, c);
    this.bodies = g(this.bodies, c * TX_BODY_BYTES);
    this.sigs = g(this.sigs, c * SIGNATURE_BYTES);
    this.txids = g(this.txids, c * HASH);
    this.bundles = g(this.bundles, c * HASH);
    this.nonces = g(this.nonces, c);
    this.tipArr = g(this.tipArr, c);
    this.tipPos = g(this.tipPos, c, -1);
    this.vtipArr = g(this.vtipArr, c);
    this.vtipPos = g(this.vtipPos, c, -1);
    this.bandPos = g(this.bandPos, c, -1);
    this.cap = c;
  }

  private makeGenesis(): void {
    const v = this.n++;
    this.kind[v] = V_GENESIS;
    this.issuedAt[v] = this.visibleAt[v] = this.ctx.scheduler.now;
    this.vis[v] = 1;
    this.conf[v] = 1;
    this.confirmedAt[v] = this.ctx.scheduler.now;
    this.cw[v] = 1;
    this.txids.set(GENESIS_TXID, 0);
    this.bundles.set(sha256(GENESIS_TXID), 0);
    this.vtipAdd(v);
    this.msV.push(v); // the genesis is milestone 0's trunk
    this.msVisible = 0;
    this.msSigs.push(new Uint8Array(0));
  }

  // tip sets
  private tipTick(): void {
    const now = this.ctx.scheduler.now;
    if (this.tipT0 !== this.tipT0) {
      this.tipT0 = now;
      this.tipLastT = now;
      this.vtipLastT = now;
    }
    this.tipIntegral += this.tipN * (now - this.tipLastT);
    this.tipLastT = now;
  }
  private vtipTick(): void {
    const now = this.ctx.scheduler.now;
    if (this.tipT0 !== this.tipT0) return;
    this.vtipIntegral += this.vtipN * (now - this.vtipLastT);
    this.vtipLastT = now;
  }
  private tipAdd(v: number): void {
    this.tipTick();
    this.tipPos[v] = this.tipN;
    this.tipArr[this.tipN++] = v;
    if (this.tipN > this.maxTips) this.maxTips = this.tipN;
  }
  private tipRemove(v: number): void {
    const i = this.tipPos[v]!;
    if (i < 0) return;
    this.tipTick();
    const last = this.tipArr[--this.tipN]!;
    this.tipArr[i] = last;
    this.tipPos[last] = i;
    this.tipPos[v] = -1;
  }
  private vtipAdd(v: number): void {
    this.vtipTick();
    this.vtipPos[v] = this.vtipN;
    this.vtipArr[this.vtipN++] = v;
  }
  private vtipRemove(v: number): void {
    const i = this.vtipPos[v]!;
    if (i < 0) return;
    this.vtipTick();
    const last = this.vtipArr[--this.vtipN]!;
    this.vtipArr[i] = last;
    this.vtipPos[last] = i;
    this.vtipPos[v] = -1;
  }

  private bandAdd(v: number): void {
    if (this.bandN === this.bandArr.length) {
      const b = new Int32Array(2 * this.bandN);
      b.set(this.bandArr);
      this.bandArr = b;
    }
    this.bandPos[v] = this.bandN;
    this.bandArr[this.bandN++] = v;
  }
  private bandRemove(v: number): void {
    const i = this.bandPos[v]!;
    if (i < 0) return;
    const last = this.bandArr[--this.bandN]!;
    this.bandArr[i] = last;
    this.bandPos[last] = i;
    this.bandPos[v] = -1;
  }

  // ---- submission and issue ---------------------------------------------------------------------

  submit(tx: LedgerTx): void {
    const net = this.ctx.network;
    const at = this.ctx.scheduler.now + this.ctx.codec.signCostS + net.gatewayS(SIGNED_TX_BYTES);
    this.cityIssued++;
    this.schedulePend(tx, at);
  }

  private schedulePend(tx: LedgerTx, at: number): void {
    const slot = this.pendFree.length > 0 ? this.pendFree.pop()! : this.pend.length;
    this.pend[slot] = tx;
    this.ctx.scheduler.schedule(at, PRIORITY.LEDGER, this.kIssue, slot);
  }

  private onIssue(slot: number): void {
    const tx = this.pend[slot]!;
    this.pend[slot] = undefined;
    this.pendFree.push(slot);
    if (this.isSettled(tx.id)) return; // settled meanwhile (a re-attachment race)
    const wantLazy = this.params.lazyTips.fraction > 0 && this.rngFault.next() < this.params.lazyTips.fraction;
    const isLazy = this.selectFor(V_TX, wantLazy);
    const s = this.ctx.codec.sign(tx);
    const v = this.createVertex(V_TX, this.ctx.network.gatewayOf(tx.ev), s.body, s.signature, s.txid, tx.id);
    this.txOf[v] = tx;
    if (isLazy) {
      this.lazy[v] = 1;
      this.lazyIssued++;
    }
    if (this.params.doubleSpend.fraction > 0 && this.rngFault.next() < this.params.doubleSpend.fraction) {
      this.ctx.scheduler.schedule(this.ctx.scheduler.now + this.params.doubleSpend.delayS, PRIORITY.LEDGER, this.kTwin, v);
    }
  }

  /** The attacker's twin of city vertex e: E's body with another payee, same spend. */
  private onTwin(e: number): void {
    const orig = this.txOf[e];
    if (orig === undefined || this.inv[e] === 1 || this.conflictOf[e]! >= 0) return;
    const c = this.cOrig.length;
    const twinTx: LedgerTx = { ...orig, id: TWIN_ID_BASE + c, station: orig.station + 1, submittedAt: this.ctx.scheduler.now, closing: undefined };
    this.cOrig.push(e);
    this.cTwin.push(-1);
    this.cState.push(0);
    this.conflictOf[e] = c;
    this.twins++;
    // E's existing future cone now holds an unresolved conflict member
    this.addTaintToCone(e, 2 * c);
    this.selectFor(V_TWIN, false);
    const s = this.ctx.codec.sign(twinTx);
    const net = this.ctx.network;
    const x = this.createVertex(V_TWIN, net.gatewayOf(orig.ev + 1), s.body, s.signature, s.txid, twinTx.id, c);
    this.cTwin[c] = x;
    if (this.conf[e] === 1) {
      // the original is already final: the twin loses at once
      this.dsResolvedByConfirmation++;
      this.resolve(c, 1, false);
    } else {
      const set = this.taintSets[this.taint[x]!]!;
      if (set.includes(2 * c)) {
        // the twin's own past cone holds the original: detected at once; the lighter (the twin) loses
        this.dsDetectedInCone++;
        this.resolve(c, this.cw[e]! >= this.cw[x]! ? 1 : 2, true);
      }
    }
  }

  private onMilestone(): void {
    const now = this.ctx.scheduler.now;
    this.ctx.scheduler.schedule(now + this.params.milestoneIntervalS, PRIORITY.LEDGER, this.kMilestone);
    this.selectFor(V_MILESTONE, false);
    const index = this.msV.length;
    const v = this.createVertex(V_MILESTONE, this.params.coordinatorNode, undefined, undefined, undefined, index);
    this.msV.push(v);
    this.msSigs.push(this.ctx.codec.signBytes('node', this.params.coordinatorNode, this.bundles.subarray(v * HASH, v * HASH + HASH)));
    // the coordinator's decision: conflicts in its cone resolved in favour of what it approves
    for (const code of this.taintSets[this.taint[v]!]!) {
      const c = code >> 1;
      if (this.cState[c] === 0) {
        if (c === this.atkC) {
          // the coordinator decides the attack in favour of the member it approves
          this.atkDecidedBy = 2;
          this.decideAttack((code & 1) === 0 ? 1 : 2);
          continue;
        }
        this.dsResolvedByConfirmation++;
        this.resolve(c, (code & 1) === 0 ? 1 : 2, false);
      }
    }
    const before = this.nConfirmed;
    if (!this.cwMode) this.confirmCone(v, this.visibleAt[v]!);
    const newly = this.nConfirmed - before;
    this.msRows.push({ height: index, time: now, producer: this.params.coordinatorNode, txCount: newly, bytes: this.msBytes + newly * this.txBytes, canonical: true });
  }

  /** The attack: 0 = start (P and P'), 1 = an attacker vertex. */
  private onAttack(what: number): void {
    const a = this.params.attack;
    const now = this.ctx.scheduler.now;
    const rng = this.rngAttack!;
    if (what === 0) {
      // the honest (city) issuing rate of the 300 s before; the attacker's rate makes its share q
      const from = Math.max(this.issuedAt[0]!, now - 300);
      let honest = 0;
      for (let v = this.firstIssuedAtOrAfter(from); v < this.n; v++) if (this.kind[v] === V_TX) honest++;
      this.atkHonestRate = now > from ? honest / (now - from) : 0;
      this.atkRate = (a.share / (1 - a.share)) * this.atkHonestRate;
      // P (the honest payment to the merchant) attaches like any issuer's; P' approves the same parents
      this.selectFor(V_ATTACK, false);
      const hidden = a.type === 'parasite' ? now + a.releaseAfterS : -1;
      const pv = this.attackVertex(0, -1, -1);
      const c = this.cOrig.length;
      this.cOrig.push(pv);
      this.cTwin.push(-1);
      this.cState.push(0);
      this.conflictOf[pv] = c;
      this.taint[pv] = this.internSet([...this.taintSets[this.taint[pv]!]!, 2 * c].sort((x, y) => x - y)); // P's own code, with any from its parents
      this.atkC = c;
      this.atkP = pv;
      const qv = this.attackVertex(1, c, hidden);
      this.cTwin[c] = qv;
      this.atkQ = qv;
      this.atkTips = [[pv], [qv]];
      if (a.type !== 'parasite') this.atkReleased = true;
      if (this.atkRate > 0) this.ctx.scheduler.schedule(now + rng.exp(1 / this.atkRate), PRIORITY.LEDGER, this.kAttack, 1);
      return;
    }
    if (this.cState[this.atkC] !== 0) return; // decided: the attacker stops
    if (now > a.atS + a.durationS) return;
    this.ctx.scheduler.schedule(now + rng.exp(1 / this.atkRate), PRIORITY.LEDGER, this.kAttack, 1);
    // the branch to extend: the parasite's (1); splitting: the lighter one (tie: P')
    const b = a.type === 'parasite' ? 1 : this.atkW[0]! < this.atkW[1]! ? 0 : 1;
    const tips = this.atkTips[b]!;
    for (let j = 0; j < this.k; j++) this.sel[j] = tips[rng.int(tips.length)]!;
    const hidden = a.type === 'parasite' && now < a.atS + a.releaseAfterS ? a.atS + a.releaseAfterS : -1;
    const v = this.attackVertex(2 + this.atkIssued, -1, hidden);
    this.atkIssued++;
    for (let j = 0; j < this.k; j++) {
      const i = tips.indexOf(this.sel[j]!);
      if (i >= 0) tips.splice(i, 1);
    }
    tips.push(v);
  }

  /** An attacker vertex approving this.sel: tx ATTACK_ID_BASE + i signed by the attacker's EV (i 0 and 1: P and P', the same spend). */
  private attackVertex(i: number, conflict: number, hiddenUntil: number): number {
    const a = this.params.attack;
    const tx: LedgerTx = {
      id: ATTACK_ID_BASE + i,
      kind: 'payment',
      sessionId: i < 2 ? ATTACK_ID_BASE : ATTACK_ID_BASE + i,
      ev: a.ev,
      station: i === 1 ? 1 : 0,
      energyKWh: 0,
      amount: i < 2 ? 100 : 0,
      powerKW: 0,
      soc: Number.NaN,
      submittedAt: this.ctx.scheduler.now,
    };
    const s = this.ctx.codec.sign(tx);
    const v = this.createVertex(V_ATTACK, a.node, s.body, s.signature, s.txid, tx.id, conflict, hiddenUntil);
    if (hiddenUntil >= 0) this.atkHidden.add(v);
    return v;
  }

  /** No coordinator: the attack conflict is decided once one member's exact weight leads by the margin. */
  private checkAttackDecision(): void {
    const c = this.atkC;
    if (c < 0 || this.cState[c] !== 0 || !this.atkReleased || this.milestonesOn) return;
    const d = this.atkW[0]! - this.atkW[1]!;
    if (Math.abs(d) < this.params.attack.decisionMarginWeight) return;
    this.atkDecidedBy = 1;
    this.decideAttack(d > 0 ? 1 : 2);
  }

  private decideAttack(winner: 1 | 2): void {
    this.atkDecidedAt = this.ctx.scheduler.now;
    this.resolve(this.atkC, winner, false);
    if (this.cwMode) this.confirmWinnerCone(winner === 1 ? this.atkP : this.atkQ);
  }

  /** cumulative-weight mode: confirm the winner's future cone where the weight reached w (deferred while the conflict was open). */
  private confirmWinnerCone(root: number): void {
    const k = this.k;
    const w = this.params.confirmationWeight;
    const ep = ++this.epoch;
    const cone: number[] = [root];
    this.stamp[root] = ep;
    for (let qi = 0; qi < cone.length; qi++) {
      for (let e = this.childHead[cone[qi]!]!; e >= 0; e = this.childNext[e]!) {
        const ch = (e / k) | 0;
        if (this.stamp[ch] !== ep) {
          this.stamp[ch] = ep;
          cone.push(ch);
        }
      }
    }
    cone.sort((x, y) => x - y); // parents before approvers
    const now = this.ctx.scheduler.now;
    for (const u of cone) {
      if (this.conf[u] === 1 || this.inv[u] === 1 || this.cw[u]! < w) continue;
      if (this.taintSets[this.taint[u]!]!.some((code) => this.cState[code >> 1] === 0)) continue;
      let ok = true;
      for (let j = 0; j < k; j++) if (this.conf[this.parents[u * k + j]!] === 0) ok = false;
      if (ok) this.confirm(u, now, w);
    }
  }

  /** cumulative-weight mode with an attack: confirm u's unconfirmed valid ancestors first (their weight exceeds u's; some were deferred while the attack was open). */
  private confirmAncestors(u: number, w: number): void {
    const k = this.k;
    const todo: number[] = [];
    const stack = [u];
    const ep = ++this.epoch;
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (let j = 0; j < k; j++) {
        const p = this.parents[x * k + j]!;
        if (p >= 0 && this.conf[p] === 0 && this.inv[p] === 0 && this.stamp[p] !== ep) {
          this.stamp[p] = ep;
          todo.push(p);
          stack.push(p);
        }
      }
    }
    todo.sort((a, b) => a - b);
    const now = this.ctx.scheduler.now;
    for (const p of todo) this.confirm(p, now, w);
  }

  /** Fills this.sel with the parents of the next vertex; returns true when the lazy rule was used. */
  private selectFor(kindV: number, wantLazy: boolean): boolean {
    const k = this.k;
    const sel = this.sel;
    let lazy = false;
    for (let attempt = 0; ; attempt++) {
      lazy = wantLazy && attempt === 0 && this.selectLazy();
      if (!lazy) {
        this.selectTips();
        if (kindV === V_MILESTONE) sel[0] = this.msV[this.msV.length - 1]!;
      }
      if (this.consistent()) break;
      if (attempt >= 8) {
        for (let j = 0; j < k; j++) if (this.inv[sel[j]!] === 1) sel[j] = 0;
        if (this.atkC >= 0 && this.cState[this.atkC] === 0) for (let j = 1; j < k; j++) sel[j] = sel[0]!; // one branch only
        break;
      }
    }
    return lazy;
  }

  /** Detects conflicts in the combined past cone of this.sel (resolving them); false when a selected parent is (now) invalid. */
  private consistent(): boolean {
    const sel = this.sel;
    let tainted = false;
    let straddle = false;
    for (let j = 0; j < this.k; j++) if (this.taint[sel[j]!] !== 0) tainted = true;
    if (tainted) {
      const codes = this.unionCodes(-1);
      for (let i = 1; i < codes.length; i++) {
        if (codes[i] === codes[i - 1]! + 1 && (codes[i]! & 1) === 1) {
          const c = codes[i]! >> 1;
          if (this.cState[c] !== 0) continue;
          if (c === this.atkC) {
            // both branches of the attack: an honest issuer does not approve an inconsistent pair; it re-selects
            this.atkReselections++;
            straddle = true;
            continue;
          }
          this.dsDetectedInCone++;
          const e = this.cOrig[c]!;
          const x = this.cTwin[c]!;
          this.resolve(c, this.cw[e]! >= this.cw[x]! ? 1 : 2, true);
        }
      }
    }
    for (let j = 0; j < this.k; j++) if (this.inv[sel[j]!] === 1) return false;
    return !straddle;
  }

  private selectTips(): void {
    const k = this.k;
    const sel = this.sel;
    const rng = this.rngTips;
    if (this.params.tipSelection === 'uniform') {
      const m = this.vtipN;
      if (m === 0) {
        sel.fill(0);
        return;
      }
      for (let j = 0; j < k; j++) {
        let t: number;
        let tries = 0;
        do {
          t = this.vtipArr[rng.int(m)]!;
          let dup = false;
          for (let i = 0; i < j; i++) if (sel[i] === t) dup = true;
          if (!dup || m < k) break;
        } while (++tries < 64);
        sel[j] = t;
      }
      return;
    }
    for (let j = 0; j < k; j++) sel[j] = this.walk(this.startSite());
  }

  private startSite(): number {
    const start = this.params.mcmc.start;
    if (start === 'milestone') return this.msV[Math.max(0, this.msVisible - this.params.mcmc.startMilestoneDepth)]!;
    if (start === 'band' && this.bandN > 0) {
      for (let tries = 0; tries < 16; tries++) {
        const v = this.bandArr[this.rngTips.int(this.bandN)]!;
        if (this.inv[v] === 0) return v;
      }
    }
    const n = this.ringN;
    for (let tries = 0; tries < n; tries++) {
      const v = this.startRing[this.rngTips.int(n)]!;
      if (this.inv[v] === 0) return v;
    }
    return 0;
  }

  /** Weighted random walk towards the tips of the view: P(x→y) ∝ exp(−α(H_x − H_y)). */
  private walk(start: number): number {
    const alpha = this.params.mcmc.alpha;
    const maxSteps = this.params.mcmc.maxSteps;
    const k = this.k;
    const rng = this.rngTips;
    const childHead = this.childHead;
    const childNext = this.childNext;
    const vis = this.vis;
    const inv = this.inv;
    const cw = this.cw;
    let x = start;
    let steps = 0;
    this.walks++;
    for (;;) {
      let m = 0;
      let hmax = 0;
      for (let e = childHead[x]!; e >= 0; e = childNext[e]!) {
        const c = (e / k) | 0;
        if (vis[c] === 1 && inv[c] === 0) {
          if (m === this.candV.length) {
            const nv = new Int32Array(2 * m);
            nv.set(this.candV);
            this.candV = nv;
            this.candW = new Float64Array(2 * m);
          }
          this.candV[m++] = c;
          if (cw[c]! > hmax) hmax = cw[c]!;
        }
      }
      if (m === 0) break;
      if (steps >= maxSteps) {
        this.walkTruncated++;
        break;
      }
      steps++;
      if (m === 1) {
        x = this.candV[0]!;
        continue;
      }
      if (alpha === 0) {
        x = this.candV[rng.int(m)]!;
        continue;
      }
      let sum = 0;
      for (let i = 0; i < m; i++) {
        const w = Math.exp(alpha * (cw[this.candV[i]!]! - hmax));
        this.candW[i] = w;
        sum += w;
      }
      let r = rng.next() * sum;
      let i = 0;
      for (; i < m - 1; i++) {
        r -= this.candW[i]!;
        if (r < 0) break;
      }
      x = this.candV[i]!;
    }
    this.walkSteps += steps;
    return x;
  }

  /** Lazy parents: vertices issued between 2·ageS and ageS ago (visible, valid); false when none. */
  private selectLazy(): boolean {
    const now = this.ctx.scheduler.now;
    const age = this.params.lazyTips.ageS;
    const lo = this.firstIssuedAtOrAfter(now - 2 * age);
    const hi = this.firstIssuedAtOrAfter(now - age);
    if (hi <= lo) return false;
    for (let j = 0; j < this.k; j++) {
      let v = -1;
      for (let tries = 0; tries < 16; tries++) {
        const c = lo + this.rngFault.int(hi - lo);
        if (this.vis[c] === 1 && this.inv[c] === 0) {
          v = c;
          break;
        }
      }
      if (v < 0) return false;
      this.sel[j] = v;
    }
    return true;
  }

  /** First vertex index with issuedAt >= t (issuedAt is non-decreasing in the index). */
  private firstIssuedAtOrAfter(t: number): number {
    let lo = 1;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.issuedAt[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Creates a vertex approving this.sel (hashes, edges, tips, taint, PoW, visibility event). */
  private createVertex(kindV: number, node: number, body: Uint8Array | undefined, sig: Uint8Array | undefined, txidHex: string | undefined, rec: number, conflict = -1, hiddenUntil = -1): number {
    if (this.n === this.cap) this.grow();
    const v = this.n++;
    const k = this.k;
    const now = this.ctx.scheduler.now;
    const sel = this.sel;
    this.kind[v] = kindV;
    this.recId[v] = rec;
    this.issuedAt[v] = now;
    // hashes
    if (kindV === V_MILESTONE) {
      this.txids.set(sha256(milestoneBody(rec, now)), v * HASH);
    } else {
      this.bodies.set(body!, v * TX_BODY_BYTES);
      this.sigs.set(sig!, v * SIGNATURE_BYTES);
      Buffer.from(this.txids.buffer, this.txids.byteOffset + v * HASH, HASH).write(txidHex!, 'hex');
    }
    const bb = this.bundleBuf;
    bb.set(this.txids.subarray(v * HASH, v * HASH + HASH), 0);
    for (let j = 0; j < k; j++) {
      const p = sel[j]!;
      this.parents[v * k + j] = p;
      bb.set(this.bundles.subarray(p * HASH, p * HASH + HASH), HASH * (1 + j));
    }
    this.bundles.set(sha256(bb), v * HASH);
    if (this.params.realPow.enabled) this.nonces[v] = this.realPow(v);
    // edges (distinct parents only), first approvals, DAG tips
    this.tipAdd(v);
    for (let j = 0; j < k; j++) {
      const p = sel[j]!;
      let dup = false;
      for (let i = 0; i < j; i++) if (sel[i] === p) dup = true;
      if (dup) continue;
      const e = v * k + j;
      this.childNext[e] = this.childHead[p]!;
      this.childHead[p] = e;
      if (this.firstApproval[p] !== this.firstApproval[p]) this.firstApproval[p] = now;
      this.tipRemove(p);
    }
    // taint: unresolved conflict members in the past cone
    this.conflictOf[v] = conflict;
    this.taint[v] = this.internTaint(conflict >= 0 ? 2 * conflict + 1 : -1);
    // PoW and gossip
    const pm = this.powMeanS;
    const pow = this.params.pow.dist === 'fixed' ? pm : this.rngPow.exp(pm);
    this.powSum += pow;
    const bytes = kindV === V_MILESTONE ? this.msBytes : this.txBytes;
    this.ctx.network.broadcast(node, bytes);
    this.storedBytes += bytes;
    // a hidden (parasite) vertex is gossiped at its release
    const t = Math.max(now + pow, hiddenUntil) + this.visibilityDelayS;
    this.visibleAt[v] = t;
    this.ctx.scheduler.schedule(t, PRIORITY.LEDGER, this.kVisible, v);
    return v;
  }

  private realPow(v: number): number {
    const bits = this.params.realPow.bits;
    const buf = this.powBuf;
    buf.set(this.bundles.subarray(v * HASH, v * HASH + HASH), 0);
    const t0 = performance.now(); // wall-clock ok: reported only through wallClockStats()
    let nonce = 0;
    for (;; nonce++) {
      buf.writeUInt32LE(nonce >>> 0, HASH);
      this.powHashes++;
      if (leadingZeroBits(sha256(buf)) >= bits) break;
    }
    this.powWallS += (performance.now() - t0) / 1000; // wall-clock ok
    return nonce >>> 0;
  }

  // ---- visibility, cumulative weight, confirmation ------------------------------------------------

  private onVisible(v: number): void {
    if (this.inv[v] === 1) return;
    this.vis[v] = 1;
    if (this.kind[v] === V_MILESTONE) this.msVisible = Math.max(this.msVisible, this.recId[v]!);
    const k = this.k;
    for (let j = 0; j < k; j++) this.vtipRemove(this.parents[v * k + j]!);
    this.vtipAdd(v);
    if (this.atkHidden.delete(v) && this.atkHidden.size === 0) this.atkReleased = true;
    if (this.atkC >= 0 && this.cState[this.atkC] === 0 && this.taint[v] !== 0) {
      const set = this.taintSets[this.taint[v]!]!;
      if (set.includes(2 * this.atkC)) this.atkW[0]!++;
      if (set.includes(2 * this.atkC + 1)) this.atkW[1]!++;
    }
    // cumulative weights: +1 on the past cone below the cap
    const cap = this.weightCap;
    const w = this.params.confirmationWeight;
    const W0 = this.params.mcmc.startWeight;
    const cw = this.cw;
    const stamp = this.stamp;
    const parents = this.parents;
    const ep = ++this.epoch;
    // own weight 1 (an attacker's vertex may have gained weight from its own approvers that became
    // visible first; honest vertices are approved only once visible, so they are at 0 here)
    const own = ++cw[v]!;
    stamp[v] = ep;
    if (own === w || own === W0 || own === 1) this.weightReached(v, own, w, W0);
    if (own === this.bandTop) this.bandRemove(v);
    let sp = 0;
    let stack = this.stack;
    for (let j = 0; j < k; j++) {
      const p = parents[v * k + j]!;
      if (stamp[p] !== ep && cw[p]! < cap) {
        stamp[p] = ep;
        stack[sp++] = p;
      }
    }
    while (sp > 0) {
      const u = stack[--sp]!;
      const nw = ++cw[u]!;
      this.cwVisits++;
      if (nw === w || nw === W0) this.weightReached(u, nw, w, W0);
      if (nw === this.bandTop) this.bandRemove(u);
      if (nw >= cap) continue;
      if (sp + k > stack.length) {
        const ns = new Int32Array(stack.length * 2);
        ns.set(stack);
        stack = this.stack = ns;
      }
      for (let j = 0; j < k; j++) {
        const p = parents[u * k + j]!;
        if (stamp[p] !== ep && cw[p]! < cap) {
          stamp[p] = ep;
          stack[sp++] = p;
        }
      }
    }
    this.checkAttackDecision();
  }

  private weightReached(u: number, nw: number, w: number, W0: number): void {
    if (this.inv[u] === 1) return;
    if (nw === W0) {
      if (nw < this.bandTop) this.bandAdd(u);
      this.startRing[this.ringPos] = u;
      this.ringPos = (this.ringPos + 1) % this.startRing.length;
      if (this.ringN < this.startRing.length) this.ringN++;
    }
    if (nw === w && this.cwMode && u === this.atkP && this.atkAcceptedAt !== this.atkAcceptedAt) this.atkAcceptedAt = this.ctx.scheduler.now;
    if (nw === w && this.cwMode && this.conf[u] === 0) {
      // no coordinator: a vertex above an open attack conflict is not final until the conflict is decided
      if (this.atkC >= 0 && this.cState[this.atkC] === 0 && this.taintSets[this.taint[u]!]!.some((code) => code >> 1 === this.atkC)) return;
      for (const code of this.taintSets[this.taint[u]!]!) {
        const c = code >> 1;
        if (this.cState[c] === 0) {
          this.dsResolvedByConfirmation++;
          this.resolve(c, (code & 1) === 0 ? 1 : 2, false);
        }
      }
      if (this.atkC >= 0) this.confirmAncestors(u, w);
      this.confirm(u, this.ctx.scheduler.now, w);
    }
  }

  private confirm(u: number, at: number, confirmations: number): void {
    if (this.inv[u] === 1) {
      this.invariantViolations++;
      return;
    }
    this.conf[u] = 1;
    this.confirmedAt[u] = at;
    this.nConfirmed++;
    if (u === this.atkP && !this.cwMode) this.atkAcceptedAt = at; // the merchant accepts P at its milestone
    const tx = this.txOf[u];
    if (tx !== undefined && this.kind[u] === V_TX && !this.isSettled(tx.id)) {
      this.markSettled(tx.id);
      this.ctx.settle({ tx, status: 'final', at, confirmations, bytes: this.txBytes });
    }
  }

  /** Milestone confirmation: walk back from m over not-yet-confirmed vertices. */
  private confirmCone(m: number, at: number): void {
    const k = this.k;
    let stack = this.stack;
    let sp = 0;
    stack[sp++] = m;
    this.conf[m] = 1;
    this.confirmedAt[m] = at;
    while (sp > 0) {
      const u = stack[--sp]!;
      if (u !== m) this.confirm(u, at, 1);
      if (sp + k > stack.length) {
        const ns = new Int32Array(stack.length * 2);
        ns.set(stack);
        stack = this.stack = ns;
      }
      for (let j = 0; j < k; j++) {
        const p = this.parents[u * k + j]!;
        if (p >= 0 && this.conf[p] === 0) {
          this.conf[p] = 1; // marked on push (no double visits)
          stack[sp++] = p;
        }
      }
    }
  }

  // ---- conflicts ----------------------------------------------------------------------------------

  /** Sorted union of the unresolved conflict codes of this.sel's taints (plus `own` when >= 0). */
  private unionCodes(own: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.k; j++) {
      const t = this.taint[this.sel[j]!]!;
      if (t === 0) continue;
      for (const code of this.taintSets[t]!) if (this.cState[code >> 1] === 0 && !out.includes(code)) out.push(code);
    }
    if (own >= 0 && !out.includes(own)) out.push(own);
    return out.sort((a, b) => a - b);
  }

  private internTaint(own: number): number {
    let any = own >= 0;
    for (let j = 0; j < this.k && !any; j++) if (this.taint[this.sel[j]!] !== 0) any = true;
    if (!any) return 0;
    return this.internSet(this.unionCodes(own));
  }

  private internSet(codes: number[]): number {
    if (codes.length === 0) return 0;
    const key = codes.join(',');
    let id = this.taintIds.get(key);
    if (id === undefined) {
      id = this.taintSets.length;
      this.taintSets.push(codes);
      this.taintIds.set(key, id);
    }
    return id;
  }

  /** Adds conflict code `code` to the taint of v's future cone (v included). */
  private addTaintToCone(v: number, code: number): void {
    const k = this.k;
    const ep = ++this.epoch;
    const queue = [v];
    this.stamp[v] = ep;
    for (let qi = 0; qi < queue.length; qi++) {
      const u = queue[qi]!;
      const cur = this.taintSets[this.taint[u]!]!.filter((c) => this.cState[c >> 1] === 0);
      if (!cur.includes(code)) cur.push(code);
      this.taint[u] = this.internSet(cur.sort((a, b) => a - b));
      for (let e = this.childHead[u]!; e >= 0; e = this.childNext[e]!) {
        const c = (e / k) | 0;
        if (this.stamp[c] !== ep) {
          this.stamp[c] = ep;
          queue.push(c);
        }
      }
    }
  }

  /** Resolves conflict c (winner 1 = original, 2 = twin): the loser and its future cone become invalid. */
  private resolve(c: number, winner: 1 | 2, _inCone: boolean): void {
    if (this.cState[c] !== 0) return;
    this.cState[c] = winner;
    const loser = winner === 1 ? this.cTwin[c]! : this.cOrig[c]!;
    if (loser < 0) return;
    const now = this.ctx.scheduler.now;
    const k = this.k;
    const queue = [loser];
    this.inv[loser] = 1;
    for (let qi = 0; qi < queue.length; qi++) {
      const u = queue[qi]!;
      this.invalidated++;
      if (this.conf[u] === 1) this.invariantViolations++;
      this.tipRemove(u);
      this.vtipRemove(u);
      this.bandRemove(u);
      const tx = this.txOf[u];
      if (this.kind[u] === V_MILESTONE) this.invariantViolations++;
      if (tx !== undefined && this.kind[u] === V_TX && !this.isSettled(tx.id)) {
        if (u === loser) {
          this.dsOriginalLost++;
          this.markSettled(tx.id);
          this.ctx.settle({ tx, status: 'failed', at: now, confirmations: 0, reason: 'double spend', bytes: this.txBytes });
        } else {
          this.reattachments++;
          this.schedulePend(tx, now);
        }
      }
      for (let e = this.childHead[u]!; e >= 0; e = this.childNext[e]!) {
        const ch = (e / k) | 0;
        if (this.inv[ch] === 0) {
          this.inv[ch] = 1;
          queue.push(ch);
        }
      }
    }
    // valid parents left without a valid approver are tips again
    for (const u of queue) {
      for (let j = 0; j < k; j++) {
        const p = this.parents[u * k + j]!;
        if (p < 0 || this.inv[p] === 1) continue;
        let valid = false;
        let validVisible = false;
        for (let e = this.childHead[p]!; e >= 0; e = this.childNext[e]!) {
          const ch = (e / k) | 0;
          if (this.inv[ch] === 0) {
            valid = true;
            if (this.vis[ch] === 1) validVisible = true;
          }
        }
        if (!valid && this.tipPos[p]! < 0) this.tipAdd(p);
        if (!validVisible && this.vis[p] === 1 && this.vtipPos[p]! < 0) this.vtipAdd(p);
      }
    }
  }

  private isSettled(id: number): boolean {
    return id < this.settled.length && this.settled[id] === 1;
  }
  private markSettled(id: number): void {
    if (id >= this.settled.length) {
      const s = new Uint8Array(Math.max(id + 1, this.settled.length * 2));
      s.set(this.settled);
      this.settled = s;
    }
    this.settled[id] = 1;
  }

  // ---- views for tests ----------------------------------------------------------------------------

  /** The stored DAG (live typed arrays; `count` vertices). Mutable on purpose: tests alter it to exercise audit(). */
  get dag(): TangleDag {
    return {
      count: this.n,
      k: this.k,
      kind: this.kind,
      parents: this.parents,
      issuedAt: this.issuedAt,
      visibleAt: this.visibleAt,
      bodies: this.bodies,
      sigs: this.sigs,
      txids: this.txids,
      bundles: this.bundles,
      nonces: this.nonces,
      recId: this.recId,
      confirmed: this.conf,
      invalid: this.inv,
      lazy: this.lazy,
      cw: this.cw,
      milestones: this.msV,
      milestoneSigs: this.msSigs,
    };
  }

  /** Double-spend conflicts (original and twin vertices, resolution state). */
  get conflicts(): TangleConflict[] {
    return this.cOrig.map((o, c) => ({ original: o, twin: this.cTwin[c]!, state: this.cState[c]! }));
  }

  /** Current number of DAG tips (valid vertices not approved by any issued vertex). */
  get tipCount(): number {
    return this.tipN;
  }

  /** Current number of tips in the issuers' view. */
  get visibleTipCount(): number {
    return this.vtipN;
  }

  /** Vertex ids of a city tx's attachments (original first). */
  verticesOf(txId: number): number[] {
    const out: number[] = [];
    for (let v = 1; v < this.n; v++) if (this.kind[v] === V_TX && this.recId[v] === txId) out.push(v);
    return out;
  }

  /** Wall-clock figures of the optional real PoW (never simulation results). */
  wallClockStats(): { powHashes: number; powSeconds: number } {
    return { powHashes: this.powHashes, powSeconds: this.powWallS };
  }

  // ---- metrics and audit --------------------------------------------------------------------------

  extraMetrics(): Record<string, number> {
    const now = this.ctx.scheduler.now;
    const net = this.ctx.network;
    this.tipTick();
    this.vtipTick();
    const span = this.tipT0 === this.tipT0 ? now - this.tipT0 : 0;
    let approved = 0;
    let approvalSum = 0;
    let leftBehind = 0;
    let orphanedTips = 0;
    let lazyLeft = 0;
    let lazyApproved = 0;
    let unconfirmed = 0;
    const old = now - this.params.leftBehindAfterS;
    for (let v = 1; v < this.n; v++) {
      const kv = this.kind[v]!;
      if (kv === V_MILESTONE) continue;
      const fa = this.firstApproval[v]!;
      if (fa === fa && kv === V_TX) {
        approved++;
        approvalSum += fa - this.issuedAt[v]!;
      }
      if (this.inv[v] === 1 || kv !== V_TX) continue;
      if (this.conf[v] === 0) {
        unconfirmed++;
        if (this.issuedAt[v]! <= old) {
          leftBehind++;
          if (this.lazy[v] === 1) lazyLeft++;
          if (this.tipPos[v]! >= 0) orphanedTips++;
        }
      }
      if (this.lazy[v] === 1 && fa === fa) lazyApproved++;
    }
    return {
      transactions: this.cityIssued,
      vertices: this.n,
      reattachments: this.reattachments,
      milestones: this.msV.length - 1,
      meanTips: span > 0 ? this.tipIntegral / span : this.tipN,
      maxTips: this.maxTips,
      finalTips: this.tipN,
      meanVisibleTips: span > 0 ? this.vtipIntegral / span : this.vtipN,
      meanTimeToFirstApprovalS: approved > 0 ? approvalSum / approved : 0,
      unconfirmedTxVertices: unconfirmed,
      leftBehind,
      orphanedTips,
      lazyTips: this.lazyIssued,
      lazyApproved,
      lazyLeftBehind: lazyLeft,
      doubleSpendsIssued: this.twins,
      doubleSpendsDetected: this.dsDetectedInCone + this.dsResolvedByConfirmation,
      doubleSpendsDetectedInCone: this.dsDetectedInCone,
      doubleSpendsOriginalFailed: this.dsOriginalLost,
      invalidatedVertices: this.invalidated,
      visibilityDelayS: this.visibilityDelayS,
      powMeanS: this.n > 1 ? this.powSum / (this.n - 1) : 0,
      meanWalkSteps: this.walks > 0 ? this.walkSteps / this.walks : 0,
      walkTruncated: this.walkTruncated,
      startBandSites: this.bandN,
      meanWeightUpdatesPerVertex: this.n > 1 ? this.cwVisits / (this.n - 1) : 0,
      bytesStoredPerNode: this.storedBytes,
      messages: net.stats.messages - this.msg0,
      bytesSent: net.stats.bytes - this.bytes0,
      invariantViolations: this.invariantViolations,
      ...this.attackMetrics(),
    };
  }

  /** The attack's outcome (only with params.attack.type other than 'none'). attackOrphaned: 1 when the honest P lost. */
  private attackMetrics(): Record<string, number> {
    if (this.params.attack.type === 'none' || this.atkC < 0) return {};
    const st = this.cState[this.atkC]!;
    const at = this.params.attack.atS;
    return {
      attackShare: this.params.attack.share,
      attackHonestRatePerS: this.atkHonestRate,
      attackRatePerS: this.atkRate,
      attackVertices: this.atkIssued + 2,
      attackDecided: st === 0 ? 0 : 1,
      attackOrphaned: st === 2 ? 1 : 0,
      attackDecidedAfterS: st === 0 ? -1 : this.atkDecidedAt - at,
      attackDecidedByMilestone: this.atkDecidedBy === 2 ? 1 : 0,
      attackHonestAcceptedAfterS: this.atkAcceptedAt === this.atkAcceptedAt ? this.atkAcceptedAt - at : -1,
      attackHonestWeight: this.atkW[0]!,
      attackParasiteWeight: this.atkW[1]!,
      attackReselections: this.atkReselections,
    };
  }

  /** Every transaction travels as a vertex of txBytes (pending ones included). */
  defaultTxBytes(): number {
    return this.txBytes;
  }

  /** One row per milestone: txCount = vertices it newly confirmed, bytes = milestone + those vertices. */
  blockLog(): BlockLog {
    return { backend: 'tangle', unit: 'milestone', rows: this.msRows };
  }

  audit(): string[] {
    const out: string[] = [];
    const codec = this.ctx.codec;
    const k = this.k;
    const n = this.n;
    const bb = Buffer.alloc(HASH * (1 + k));
    const txidsB = Buffer.from(this.txids.buffer, this.txids.byteOffset, this.txids.byteLength);
    const bundlesB = Buffer.from(this.bundles.buffer, this.bundles.byteOffset, this.bundles.byteLength);
    const name = (v: number): string => {
      const kv = this.kind[v];
      if (kv === V_MILESTONE) return `milestone ${this.recId[v]} (vertex ${v})`;
      if (kv === V_TWIN) return `twin tx ${this.recId[v]} (vertex ${v})`;
      if (kv === V_ATTACK) return `attack tx ${this.recId[v]} (vertex ${v})`;
      if (kv === V_GENESIS) return `genesis (vertex ${v})`;
      return `tx ${this.recId[v]} (vertex ${v})`;
    };
    const msIndex = new Map<number, number>();
    this.msV.forEach((v, i) => msIndex.set(v, i));
    if (!txidsB.subarray(0, HASH).equals(GENESIS_TXID)) out.push(`genesis (vertex 0): txid mismatch`);
    if (!bundlesB.subarray(0, HASH).equals(sha256(GENESIS_TXID))) out.push(`genesis (vertex 0): bundle hash mismatch`);
    for (let v = 1; v < n; v++) {
      const kv = this.kind[v]!;
      const nm = name(v);
      const txid = txidsB.subarray(v * HASH, v * HASH + HASH);
      if (kv === V_TX || kv === V_TWIN || kv === V_ATTACK) {
        const body = this.bodies.subarray(v * TX_BODY_BYTES, (v + 1) * TX_BODY_BYTES);
        const sig = this.sigs.subarray(v * SIGNATURE_BYTES, (v + 1) * SIGNATURE_BYTES);
        if (!sha256(body).equals(txid)) out.push(`${nm}: txid mismatch`);
        let tx: LedgerTx | undefined;
        try {
          tx = codec.decode(body);
        } catch {
          out.push(`${nm}: undecodable body`);
        }
        if (tx !== undefined) {
          if (tx.id !== this.recId[v]) out.push(`${nm}: body carries tx id ${tx.id}`);
          if (!codec.verifyBytes('ev', tx.ev, body, sig)) out.push(`${nm}: bad signature`);
        }
      } else if (kv === V_MILESTONE) {
        const idx = msIndex.get(v);
        if (idx === undefined || idx !== this.recId[v]) out.push(`${nm}: not in the milestone sequence`);
        if (!sha256(milestoneBody(this.recId[v]!, this.issuedAt[v]!)).equals(txid)) out.push(`${nm}: txid mismatch`);
        const prev = idx !== undefined ? this.msV[idx - 1] : undefined;
        if (prev === undefined || this.parents[v * k] !== prev) out.push(`${nm}: trunk is not the previous milestone`);
        const s = idx !== undefined ? this.msSigs[idx] : undefined;
        if (s === undefined || !codec.verifyBytes('node', this.params.coordinatorNode, bundlesB.subarray(v * HASH, v * HASH + HASH), s)) {
          out.push(`${nm}: bad coordinator signature`);
        }
      } else {
        out.push(`vertex ${v}: unknown kind ${kv}`);
      }
      // hash links
      txid.copy(bb, 0);
      let parentsOk = true;
      for (let j = 0; j < k; j++) {
        const p = this.parents[v * k + j]!;
        if (!(Number.isInteger(p) && p >= 0 && p < v)) {
          out.push(`${nm}: parent ${p} is not an earlier vertex`);
          parentsOk = false;
          continue;
        }
        bundlesB.copy(bb, HASH * (1 + j), p * HASH, p * HASH + HASH);
        // (a milestone's trunk is the coordinator's own previous milestone: known to it at once)
        // (nor are the attacker's own vertices: it approves its hidden sub-tangle before the release)
        if (!(kv === V_MILESTONE && j === 0) && !(kv === V_ATTACK && this.kind[p] === V_ATTACK) && this.visibleAt[p]! > this.issuedAt[v]! + 1e-9) out.push(`${nm}: approves vertex ${p}, not yet visible at its issue`);
        if (this.conf[v] === 1 && this.conf[p] === 0) out.push(`${nm}: confirmed, but its parent vertex ${p} is not`);
      }
      if (parentsOk && !sha256(bb).equals(bundlesB.subarray(v * HASH, v * HASH + HASH))) out.push(`${nm}: bundle hash mismatch (broken hash link)`);
      if (this.params.realPow.enabled) {
        const pb = Buffer.alloc(HASH + 4);
        bundlesB.copy(pb, 0, v * HASH, v * HASH + HASH);
        pb.writeUInt32LE(this.nonces[v]!, HASH);
        if (leadingZeroBits(sha256(pb)) < this.params.realPow.bits) out.push(`${nm}: invalid proof of work`);
      }
      if (this.conf[v] === 1 && this.inv[v] === 1) out.push(`${nm}: confirmed but invalid`);
    }
    if (this.atkC >= 0) {
      const st = this.cState[this.atkC]!;
      if (st !== 0) {
        const loser = st === 1 ? this.atkQ : this.atkP;
        const winner = st === 1 ? this.atkP : this.atkQ;
        if (this.inv[loser] !== 1) out.push(`attack conflict ${this.atkC}: the loser ${name(loser)} is not invalid`);
        if (this.inv[winner] === 1) out.push(`attack conflict ${this.atkC}: the winner ${name(winner)} is invalid`);
      }
    }
    for (let c = 0; c < this.cOrig.length; c++) {
      const e = this.cOrig[c]!;
      const x = this.cTwin[c]!;
      if (x < 0) continue;
      if (this.conf[e] === 1 && this.conf[x] === 1) out.push(`conflict ${c} (${name(e)} / ${name(x)}): both confirmed`);
      const a = this.bodies.subarray(e * TX_BODY_BYTES, (e + 1) * TX_BODY_BYTES);
      const b = this.bodies.subarray(x * TX_BODY_BYTES, (x + 1) * TX_BODY_BYTES);
      try {
        const ta = codec.decode(a);
        const tb = codec.decode(b);
        if (ta.ev !== tb.ev || ta.amount !== tb.amount || ta.sessionId !== tb.sessionId) out.push(`conflict ${c} (${name(e)} / ${name(x)}): not the same spend`);
      } catch {
        /* reported above */
      }
    }
    return out;
  }
}

function leadingZeroBits(h: Uint8Array): number {
  let z = 0;
  for (let i = 0; i < h.length; i++) {
    const b = h[i]!;
    if (b === 0) {
      z += 8;
      continue;
    }
    return z + Math.clz32(b) - 24;
  }
  return z;
}

export function createTangleLedger(ctx: LedgerContext, params: TangleParamsInput = {}): TangleLedger {
  return new TangleLedger(ctx, params);
}
