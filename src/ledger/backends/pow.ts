/**
 * `pow`: a blockchain with real data structures (SHA-256 header chain, Merkle roots, signed
 * transactions) driven on the simulation clock, in two variants:
 *
 *   'nakamoto'  proof-of-work Nakamoto consensus (Bitcoin-like): a race between miners, forks,
 *               most-work chain selection, k-confirmation finality.
 *   'billing'   the billing chain of Jeong et al.: no PoW race, one scheduled block every T by the
 *               node with the longest transaction history, miner signatures, EV ↔ station mutual
 *               authentication before a session, both meters' readings in every energy record.
 *
 * ── What is modelled (nakamoto) ─────────────────────────────────────────────────────────────────
 *   - Block discovery is a Poisson process of rate 1/T over the whole network (constant total hash
 *     power, constant difficulty: no retargeting): the kernel holds ONE pending "mine" event; at
 *     it, the finder is drawn by hash share and the next discovery is drawn Exp(T) later (both from
 *     the one stream ctx.rng('mining'), miner first). Poisson splitting makes each miner's own
 *     discoveries Poisson with rate share/T, i.e. the same as racing independent miners.
 *   - The finder builds on its current best tip: the block with the most cumulative work among the
 *     blocks that have arrived at it (constant difficulty ⇒ work = height); among equal work the
 *     first-seen block wins, then the lower block index (discovery order). Every node follows the
 *     same rule, so a node's tip at time t is the argmax of (height, −arrival time, −index) over
 *     the blocks that reached it by t. That argmax is order-independent, which is what lets node
 *     views be computed lazily (below) instead of one event per node per block.
 *   - Transactions: the submitter (the EV, tx.ev, the signer of every kind) signs (codec.signCostS)
 *     and sends the signed tx (154 bytes) to its gateway node (network.gatewayS), which floods it
 *     over the overlay (network.broadcast); every node verifies it once on receipt (codec.
 *     verifyCostS) before it enters that node's mempool. Arrival of tx i at node j =
 *     gatewayArrival_i + broadcastDelay(gateway→j) + verifyCostS (computed, not evented).
 *     Block validation later re-uses those verified signatures (as Bitcoin Core's signature cache
 *     does), so blocks are not delayed by re-verification.
 *   - Block template: the miner includes txs that (a) have arrived at it by the cutoff and (b) are
 *     not in its own chain (the chain of the tip it builds on), ordered by the mempool policy
 *     ('fee': highest fee per byte first, ties by submission order; 'fifo': earliest arrival at
 *     the miner first, ties by submission order), greedily while the block stays within
 *     maxBlockBytes (a tx that does not fit is skipped, later smaller ones may still go in). The
 *     cutoff is the block time ('continuous' templates, the default: miners refresh their
 *     template continuously) or the instant the miner adopted its current tip ('per-block': the
 *     template is frozen when mining on a new tip starts). See "k-confirmation latency" below.
 *   - Block: header (80 bytes, Bitcoin layout, little-endian): version u32 | prevHash 32 | merkleRoot
 *     32 (src/ledger/tx.ts merkleRoot over the 32-byte txids, in block order) | time u32 (simulated
 *     seconds, floor) | bits u32 | nonce u32. Block hash = SHA-256(SHA-256(header)), stored and
 *     compared in the byte order it is computed in (no display reversal). Block bytes =
 *     headerBytes + compactSize(count) + Σ tx sizes. With realNonce.enabled the nonce is actually
 *     searched until the hash has `difficultyBits` leading zero bits (bits = the compact encoding
 *     of that target) — a measure of compute cost only: the wall time goes to wallClock(), never
 *     to simulated time or metrics; otherwise nonce = 0 and bits = 0x207fffff (regtest minimum).
 *   - Propagation: the block is flooded from the miner (network.broadcast(miner, blockBytes)); the
 *     arrival at node j is max(time + delay_j, arrival of the parent at j) — a node cannot connect a
 *     block before its parent (orphan blocks wait for their parent).
 *   - Chain selection and reorgs: each node switches to the most-work chain when a block arrives
 *     (the argmax above). Transactions of blocks that leave a chain return to that chain's
 *     "mempool": the pool of unconfirmed txs is kept relative to the global most-work chain (the
 *     first-found block of the greatest height), and a miner on another branch adds back the
 *     global branch's txs and removes its own branch's txs above the fork point, so a tx of an
 *     orphaned block is mined again.
 *   - Finality: a tx is final when its block has k confirmations (the including block counts as
 *     the first, Bitcoin's convention) on the chain of the submitter's gateway node
 *     (gatewayOf(tx.ev)); it settles then with confirmations = k and `at` = the arrival at the
 *     gateway of the block that gave the k-th confirmation. A reorg deeper than k after settlement
 *     cannot be undone in the city: it is counted (finalityViolations).
 *   - Stale blocks: blocks not on the final main chain (the most-work chain at the end of the run).
 *     staleRate = stale / all blocks (Gervais et al.'s definition); forkRate = stale / main-chain
 *     blocks. forks = heights ≤ the main-chain height at which two or more blocks were found;
 *     forkRate = forks / main-chain blocks: the per-block fork probability of Decker &
 *     Wattenhofer, ≈ 1 − exp(−τ/T) for a propagation delay τ when many miners hold small equal
 *     shares (a competing block appears while the block propagates). stalePerMainBlock = stale /
 *     main-chain blocks is instead ≈ the expected NUMBER of competing blocks, ≈ τ/T·(N−1)/N.
 *
 * k-confirmation latency. With continuous templates and negligible propagation, a tx submitted at
 * a random instant waits Exp(T) for the next block (memorylessness: the residual time of a Poisson
 * process is Exp(T), not T/2 — the inspection paradox), then k−1 further blocks: mean k·T,
 * distribution Gamma(k, T). With 'per-block' templates the next block was already being mined
 * without the tx, so it waits one block more: mean (k+1)·T. Both are tested.
 *
 * Event counts: one kernel event per block discovery, plus one "finality check" event per
 * (block, gateway node that has unsettled txs) at the block's arrival there. Node views are lazy:
 * per node a cursor into the block list and its current tip; a query at time t folds in the blocks
 * that arrived by t. Per-block arrival arrays (N floats) are dropped once every node has the block.
 *
 * ── What is modelled (billing, Jeong et al.) ────────────────────────────────────────────────────
 *   - One block every T exactly (at t0 + s·T for serial s = 1, 2, ...), built by the scheduled
 *     miner on the previous block (no race, no forks). If the previous block has not reached the
 *     miner by then, the block waits for it (lateBlocks; outside the intended regime τ ≪ T).
 *   - Miner rule ("the node with the highest transaction history", Jeong et al. §II-C, §III-B):
 *     history(j) = the number of transactions recorded on the chain (blocks 1..s−1) that node j
 *     relayed as the submitter's gateway. The miner of block s is the node with the largest history
 *     (ties: lowest id) if that history is ≥ L (minHistory); if no node has reached L, the fallback
 *     is round-robin: node (s − 1) mod N (fallbackBlocks). Relayed, not mined, transactions count,
 *     so the rule does not simply feed itself; it still concentrates mining on the busiest gateway.
 *   - Block: header (80 bytes): version u32 (2) | prevHash 32 | merkleRoot 32 | time u32 |
 *     serial u32 | minerId u32, then the miner's 64-byte signature over the header
 *     (ctx.codec.signBytes('node', miner, header)). Block bytes = headerBytes + 64 +
 *     compactSize(count) + Σ (tx size + 16 bytes of meter readings for energy records).
 *   - Mutual authentication before a session ('session-start'): the EV signs a challenge, sends it
 *     to the station through the network (EV → its gateway → the station's gateway → station:
 *     gatewayS + transferS + gatewayS), the station verifies it, signs its answer, sends it back the
 *     same way, the EV verifies it: 2 signatures + 2 verifications (codec costs, and performed for
 *     real) + the round trip. Only then is the session-start record sent to the ledger.
 *   - Dual metering: every 'charge' and 'session-end' record carries both meters' readings, each
 *     = true energy × (1 + N(0, meterErrorSd)) (two draws from ctx.rng('meters')); they go into the
 *     block next to the signed tx (Merkle leaf = SHA-256(txid ‖ evReading f64 ‖ stationReading f64)).
 *     A relative difference |e_ev − e_st| / ((e_ev + e_st)/2) > disputeTolerance is a dispute:
 *     counted; with disputeAction 'flag' (default) the record still finalises, with 'reject' it
 *     settles 'failed' (reason 'meter dispute') at submission and never reaches the chain.
 *   - Finality: k confirmations (default 1 for billing: there are no forks to wait out) as seen by
 *     the submitter's gateway, exactly as for nakamoto.
 *
 * Metrics (extraMetrics, all deterministic): blocks (found, genesis excluded), mainChainBlocks,
 * staleBlocks, staleRate, stalePerMainBlock, forks, forkRate, reorgs (switches of the most-work
 * chain to another branch) and maxReorgDepth, meanBlockFill (bytes / maxBlockBytes over main-chain
 * blocks), meanBlockIntervalS (main chain), meanTxPerBlock, txOnChain, mempoolAtEnd,
 * bytesStoredPerNode (main-chain headers + bodies: what every full node stores), messages and
 * bytesSent (ctx.network.stats since this ledger was made: tx gossip, block floods,
 * authentication), feesPaid (currency units, main-chain txs), finalityViolations, oversizeTxs;
 * billing adds disputes, meteredRecords, disputeRate, authentications, authFailures,
 * meanAuthDelayS, lateBlocks, fallbackBlocks, distinctMiners. Wall-clock cost of the optional
 * nonce search: wallClock() only.
 *
 * Fees: LedgerTx carries no fee, so each tx gets a fee rate (currency units per byte) drawn
 * Exp(fees.meanPerByte) from ctx.rng('fees') (or fixed), times its size; default 1e-6/byte, i.e.
 * ~0.00015 per 154-byte tx — only the ORDER matters to the model (mempool 'fee'), feesPaid is
 * reported for completeness.
 *
 * Assumptions: constant hash power and difficulty; honest miners (no selfish mining, no double
 * spends); static network (src/ledger/network.ts); unlimited mempools; txs are independent (no
 * ancestor packages); a node is a gateway, a miner and a full node at once.
 *
 * Left out: difficulty retargeting, coinbase transactions and block rewards, compact-block / inv
 * relay detail and duplicate suppression, mempool expiry and replace-by-fee, per-hop validation
 * delays, network partitions and eclipse attacks, SPV clients, the "global reputation" database
 * of Jeong et al. beyond the transaction count, and their smart-contract transaction addresses.
 *
 * Sources: S. Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008 (longest chain,
 * Poisson block discovery, Merkle trees, k confirmations); C. Decker & R. Wattenhofer,
 * "Information propagation in the Bitcoin network", IEEE P2P 2013 (fork rate ≈ 1 − exp(−τ/T) for
 * propagation delay τ); A. Gervais et al., "On the security and performance of proof of work
 * blockchains", ACM CCS 2016 (stale rate, block size/interval trade-offs); S. Jeong et al.,
 * "Blockchain based Billing System for Electric Vehicle and Charging Station", ICUFN 2018 (the
 * billing chain: mutual authentication, SHA-256, both meters' readings, miner = node with the
 * longest history ≥ L, a block every T).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { PRIORITY } from '../../core/priorities.js';
import type { Rng } from '../../core/random.js';
import type { BlockLog, BlockRecord, Ledger, LedgerContext, LedgerTx } from '../ledger.js';
import { growF64, growI32, growU8 } from '../../core/typed.js';
import { SIGNATURE_BYTES, merkleRoot, sha256, type SignedTx } from '../tx.js';

// ---- parameters ---------------------------------------------------------------------------------

export const PowParamsSchema = z
  .strictObject({
    /** 'nakamoto' = proof-of-work race with forks; 'billing' = Jeong et al.'s scheduled billing chain */
    variant: z.enum(['nakamoto', 'billing']).default('nakamoto'),
    /** T, seconds: mean block interval (nakamoto, Poisson) or the exact block period (billing) */
    blockIntervalS: z.number().positive().default(600),
    /** hash-power shares by node id ('equal' = 1/N each for all N nodes of the network); a list
     * must sum to 1 and have at most N entries (missing nodes get share 0). Nakamoto only. */
    miners: z
      .union([z.literal('equal'), z.array(z.number().min(0)).min(1)])
      .default('equal')
      .refine((m) => m === 'equal' || Math.abs(m.reduce((a, b) => a + b, 0) - 1) <= 1e-9, { message: 'miner shares must sum to 1' }),
    /** maximum block size in bytes, header included (Bitcoin's legacy limit: 1,000,000) */
    maxBlockBytes: z.number().int().min(81).default(1_000_000),
    /** bytes counted for a block header on the wire and on disk (the hashed header is the 80-byte Bitcoin layout) */
    headerBytes: z.number().int().min(80).default(80),
    /** template order: 'fee' = highest fee per byte first; 'fifo' = earliest arrival at the miner first (ties: submission order) */
    mempool: z.enum(['fifo', 'fee']).default('fee'),
    /** 'continuous' = the template includes every tx that reached the miner by the block time;
     * 'per-block' = the template is frozen when the miner adopts a new tip (adds one block of latency) */
    template: z.enum(['continuous', 'per-block']).default('continuous'),
    /** fee per byte of each tx, in currency units per byte: drawn Exp(meanPerByte) per tx from ctx.rng('fees'), or fixed = meanPerByte */
    fees: z
      .strictObject({
        dist: z.enum(['exponential', 'fixed']).default('exponential'),
        meanPerByte: z.number().min(0).default(1e-6),
      })
      .prefault({}),
    /** k: confirmations (including block = 1) before a tx is final at its gateway; default 6 (nakamoto) or 1 (billing) */
    confirmations: z.number().int().min(1).optional(),
    /** optional real nonce search at low difficulty, to measure the hashing cost (wall clock, wallClock() only) */
    realNonce: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** required leading zero bits of the block hash (expected 2^bits double-SHA-256 per block) */
        difficultyBits: z.number().int().min(0).max(32).default(12),
      })
      .prefault({}),
    /** billing variant (Jeong et al.) */
    billing: z
      .strictObject({
        /** L: minimum transaction history (relayed on-chain txs) to be eligible as miner */
        minHistory: z.number().int().min(0).default(10),
        /** relative standard deviation of each meter (EV, station): reading = energy × (1 + N(0, sd)) */
        meterErrorSd: z.number().min(0).default(0.002),
        /** relative difference of the two readings above which a record is disputed */
        disputeTolerance: z.number().min(0).default(0.01),
        /** 'flag' = count the dispute, the record still finalises; 'reject' = the record fails */
        disputeAction: z.enum(['flag', 'reject']).default('flag'),
        /** size of each mutual-authentication message (challenge 32 + signature 64 + public key 32) */
        authMessageBytes: z.number().int().min(0).default(128),
      })
      .prefault({}),
  });

export type PowParams = z.output<typeof PowParamsSchema>;
export type PowParamsInput = z.input<typeof PowParamsSchema>;

// ---- the stored chain ---------------------------------------------------------------------------

/** One stored block. Fields are mutable on purpose: tests alter them to exercise audit(). */
export interface PowBlock {
  /** position in the store = discovery order (0 = genesis) */
  readonly index: number;
  readonly height: number;
  /** store index of the parent (-1 for genesis) */
  readonly parent: number;
  /** finder / scheduled miner (-1 for genesis) */
  readonly miner: number;
  /** simulated time the block was found / made */
  readonly time: number;
  /** 80-byte header */
  header: Uint8Array;
  /** SHA-256(SHA-256(header)) as computed when the block was made */
  hash: Uint8Array;
  txs: SignedTx[];
  /** billing: [evReading, stationReading] per tx (NaN, NaN for records without meters); null for nakamoto */
  readings: Float64Array | null;
  /** billing: the miner's signature over the header; null for nakamoto */
  signature: Uint8Array | null;
  /** block size in bytes (header + signature + body) */
  readonly bytes: number;
}

const HEADER_CORE_BYTES = 80;
const REGTEST_BITS = 0x207fffff;
const METER_BYTES = 16;

function compactSize(n: number): number {
  return n < 253 ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Bitcoin compact encoding of the target 2^(256−d) − 1 (leading d zero bits). */
export function compactBits(d: number): number {
  const target = (1n << BigInt(256 - d)) - 1n;
  let size = Math.ceil(target.toString(2).length / 8);
  let mant = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  if (mant & 0x800000) {
    mant >>>= 8;
    size++;
  }
  return ((size << 24) | mant) >>> 0;
}

function sha256d(b: Uint8Array): Buffer {
  return sha256(sha256(b));
}

function hasLeadingZeroBits(h: Uint8Array, d: number): boolean {
  const full = d >> 3;
  for (let i = 0; i < full; i++) if (h[i] !== 0) return false;
  const rem = d & 7;
  return rem === 0 || h[full]! >> (8 - rem) === 0;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const shortHex = (b: Uint8Array) => hex(b).slice(0, 16);

function writeHeader(version: number, prev: Uint8Array, merkle: Uint8Array, time: number, f5: number, f6: number): Uint8Array {
  const h = new Uint8Array(HEADER_CORE_BYTES);
  const v = new DataView(h.buffer);
  v.setUint32(0, version >>> 0, true);
  h.set(prev, 4);
  h.set(merkle, 36);
  v.setUint32(68, Math.min(0xffffffff, Math.max(0, Math.floor(time))) >>> 0, true);
  v.setUint32(72, f5 >>> 0, true);
  v.setUint32(76, f6 >>> 0, true);
  return h;
}

const LEAF_SCRATCH = new Uint8Array(32 + METER_BYTES);
const LEAF_VIEW = new DataView(LEAF_SCRATCH.buffer);

/** Billing Merkle leaf of an energy record: SHA-256(txid ‖ evReading f64le ‖ stationReading f64le). */
function meterLeaf(txid: Uint8Array, evR: number, stR: number): Buffer {
  LEAF_SCRATCH.set(txid, 0);
  LEAF_VIEW.setFloat64(32, evR, true);
  LEAF_VIEW.setFloat64(40, stR, true);
  return sha256(LEAF_SCRATCH);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

// ---- the ledger ---------------------------------------------------------------------------------

export class PowLedger implements Ledger {
  readonly backend = 'pow';
  readonly variant: 'nakamoto' | 'billing';
  readonly params: PowParams;
  /** k */
  readonly confirmations: number;

  private readonly ctx: LedgerContext;
  private readonly n: number;
  private readonly T: number;
  private readonly t0: number;
  private readonly billing: boolean;
  private readonly rngMining: Rng;
  private readonly rngFees: Rng;
  private readonly rngMeters: Rng;
  private readonly cumShare: Float64Array;
  private readonly kMine: number;
  private readonly kFinal: number;
  private readonly kSlot: number;
  private readonly net0: { messages: number; bytes: number };
  private readonly bits: number;

  // blocks (store index = discovery order)
  private readonly store: PowBlock[] = [];
  private bHeight: Int32Array = new Int32Array(1024);
  private bParent: Int32Array = new Int32Array(1024);
  private bTime: Float64Array = new Float64Array(1024);
  private bRelMax: Float64Array = new Float64Array(1024);
  private readonly bArrivals: (Float64Array | null)[] = [];
  private readonly bTxIdx: Int32Array[] = [];
  private readonly bByGw: (Map<number, number[]> | null)[] = [];
  private released = 1; // blocks < released: every node has them folded in, arrival arrays dropped
  private best = 0;
  private reorgs = 0;
  private maxReorgDepth = 0;

  // node views
  private readonly vTip: Int32Array;
  private readonly vArr: Float64Array;
  private readonly vCursor: Int32Array;
  // per gateway: unsettled txs, highest finalised block
  private readonly pending: Int32Array;
  private readonly fBlock: Int32Array;
  private readonly fHeight: Int32Array;
  private finalityViolations = 0;

  // transactions (internal index = submission order)
  private nTx = 0;
  private tGw: Int32Array = new Int32Array(1024);
  private tGwTime: Float64Array = new Float64Array(1024);
  private tFee: Float64Array = new Float64Array(1024);
  private tState: Uint8Array = new Uint8Array(1024); // 0 pending, 1 final, 2 failed
  private tMeters: Float64Array = new Float64Array(2048);
  private readonly tDelay: Float64Array[] = [];
  private readonly tStx: (SignedTx | null)[] = [];
  private readonly tLeaf: (Uint8Array | null)[] = [];
  private readonly idIndex = new Map<number, number>();
  private readonly delayCache = new Map<number, Float64Array>();
  /** unconfirmed txs relative to the global most-work chain */
  private readonly pool = new Set<number>();

  // billing
  private readonly history: Int32Array;
  private lateBlocks = 0;
  private fallbackBlocks = 0;
  private disputes = 0;
  private meteredRecords = 0;
  private authCount = 0;
  private authDelaySum = 0;
  private authFailures = 0;
  private oversize = 0;

  // wall clock (never in metrics)
  private nonceSeconds = 0;
  private nonceHashes = 0;

  constructor(ctx: LedgerContext, params: PowParamsInput = {}) {
    const p = (this.params = PowParamsSchema.parse(params));
    this.ctx = ctx;
    this.variant = p.variant;
    this.billing = p.variant === 'billing';
    this.confirmations = p.confirmations ?? (this.billing ? 1 : 6);
    const n = (this.n = ctx.network.n);
    this.T = p.blockIntervalS;
    this.t0 = ctx.scheduler.now;
    this.rngMining = ctx.rng('mining');
    this.rngFees = ctx.rng('fees');
    this.rngMeters = ctx.rng('meters');
    this.bits = p.realNonce.enabled ? compactBits(p.realNonce.difficultyBits) : REGTEST_BITS;

    // hash shares
    this.cumShare = new Float64Array(n);
    if (p.miners === 'equal') {
      for (let i = 0; i < n; i++) this.cumShare[i] = (i + 1) / n;
    } else {
      if (p.miners.length > n) throw new RangeError(`pow: ${p.miners.length} miner shares for a network of ${n} nodes`);
      let c = 0;
      for (let i = 0; i < n; i++) {
        c += p.miners[i] ?? 0;
        this.cumShare[i] = c;
      }
    }
    // guard against rounding: the last node with a positive share takes everything above its predecessor
    let last = n - 1;
    while (last > 0 && this.cumShare[last]! === this.cumShare[last - 1]!) last--;
    for (let i = last; i < n; i++) this.cumShare[i] = Infinity;

    this.vTip = new Int32Array(n);
    this.vArr = new Float64Array(n).fill(this.t0);
    this.vCursor = new Int32Array(n).fill(1);
    this.pending = new Int32Array(n);
    this.fBlock = new Int32Array(n);
    this.fHeight = new Int32Array(n);
    this.history = new Int32Array(n);
    this.net0 = { messages: ctx.network.stats.messages, bytes: ctx.network.stats.bytes };

    // genesis
    const gh = writeHeader(this.billing ? 2 : 1, new Uint8Array(32), new Uint8Array(32), this.t0, this.billing ? 0 : this.bits, 0);
    this.store.push({ index: 0, height: 0, parent: -1, miner: -1, time: this.t0, header: gh, hash: sha256d(gh), txs: [], readings: null, signature: null, bytes: p.headerBytes });
    this.bHeight[0] = 0;
    this.bParent[0] = -1;
    this.bTime[0] = this.t0;
    this.bRelMax[0] = this.t0;
    this.bArrivals.push(null);
    this.bTxIdx.push(new Int32Array(0));
    this.bByGw.push(null);

    const k = ctx.scheduler;
    this.kMine = k.register('pow-mine', () => this.onMine());
    this.kFinal = k.register('pow-final', (g, b) => this.onFinalityCheck(g, b));
    this.kSlot = k.register('pow-slot', (s) => this.onSlot(s));
    if (this.billing) {
      k.schedule(this.t0 + this.T, PRIORITY.LEDGER, this.kSlot, 1);
    } else {
      k.schedule(this.t0 + this.rngMining.exp(this.T), PRIORITY.LEDGER, this.kMine);
    }
  }

  // ---- public API -------------------------------------------------------------------------------

  /** The stored blocks in discovery order (index 0 = genesis), stale ones included. */
  get blocks(): readonly PowBlock[] {
    return this.store;
  }

  /** The current main chain (most work; first found among equals), genesis first. */
  mainChain(): PowBlock[] {
    const out: PowBlock[] = [];
    for (let b = this.best; b >= 0; b = this.bParent[b]!) out.push(this.store[b]!);
    return out.reverse();
  }

  /** Fee (currency units) of a submitted tx, by LedgerTx.id; NaN if unknown. */
  feeOf(txId: number): number {
    const i = this.idIndex.get(txId);
    return i === undefined ? NaN : this.tFee[i]!;
  }

  /** Meter readings [ev, station] of a billing record, by LedgerTx.id (NaN when not metered). */
  readingsOf(txId: number): [number, number] {
    const i = this.idIndex.get(txId);
    return i === undefined ? [NaN, NaN] : [this.tMeters[2 * i]!, this.tMeters[2 * i + 1]!];
  }

  /** Wall-clock cost of the real nonce search (information only; never part of results). */
  wallClock(): { nonceSearchSeconds: number; nonceHashes: number; hashesPerSecond: number } {
    return {
      nonceSearchSeconds: this.nonceSeconds,
      nonceHashes: this.nonceHashes,
      hashesPerSecond: this.nonceSeconds > 0 ? this.nonceHashes / this.nonceSeconds : 0,
    };
  }

  submit(tx: LedgerTx): void {
    const ctx = this.ctx;
    const net = ctx.network;
    const now = ctx.scheduler.now;
    const i = this.nTx++;
    if (i >= this.tGw.length) this.growTx();
    this.idIndex.set(tx.id, i);
    const g = net.gatewayOf(tx.ev);
    this.tGw[i] = g;
    this.tMeters[2 * i] = NaN;
    this.tMeters[2 * i + 1] = NaN;
    const f = this.params.fees;
    // fee drawn for every tx (same stream consumption whatever happens next)
    const feeRate = f.dist === 'fixed' ? f.meanPerByte : this.rngFees.exp(f.meanPerByte);

    let start = now;
    if (this.billing) {
      if (tx.kind === 'session-start') {
        const r = this.authenticate(tx);
        start += r.delay;
        if (!r.ok) return this.fail(i, tx, now, 'mutual authentication failed');
      } else if (tx.kind === 'charge' || tx.kind === 'session-end') {
        const b = this.params.billing;
        const e = tx.energyKWh;
        const evR = e * (1 + this.rngMeters.normal(0, b.meterErrorSd));
        const stR = e * (1 + this.rngMeters.normal(0, b.meterErrorSd));
        this.tMeters[2 * i] = evR;
        this.tMeters[2 * i + 1] = stR;
        this.meteredRecords++;
        const mean = (evR + stR) / 2;
        const rel = mean !== 0 ? Math.abs(evR - stR) / Math.abs(mean) : 0;
        if (rel > b.disputeTolerance) {
          this.disputes++;
          if (b.disputeAction === 'reject') return this.fail(i, tx, now, 'meter dispute');
        }
      }
    }
    const stx = ctx.codec.sign(tx);
    const size = this.txBytes(i, stx);
    if (this.params.headerBytes + (this.billing ? SIGNATURE_BYTES : 0) + compactSize(1) + size > this.params.maxBlockBytes) {
      this.oversize++;
      return this.fail(i, tx, now, 'transaction larger than a block');
    }
    this.tStx[i] = stx;
    const txidBytes = Buffer.from(stx.txid, 'hex');
    this.tLeaf[i] = Number.isNaN(this.tMeters[2 * i]!) ? txidBytes : meterLeaf(txidBytes, this.tMeters[2 * i]!, this.tMeters[2 * i + 1]!);
    this.tFee[i] = feeRate * size;
    // EV signs, sends to its gateway, the gateway floods it; every node verifies on receipt
    this.tGwTime[i] = start + ctx.codec.signCostS + net.gatewayS(stx.size);
    const raw = net.broadcast(g, stx.size);
    const key = stx.size * this.n + g;
    let d = this.delayCache.get(key);
    if (d === undefined) {
      d = new Float64Array(this.n);
      const v = ctx.codec.verifyCostS;
      for (let j = 0; j < this.n; j++) d[j] = raw[j]! + v;
      this.delayCache.set(key, d);
    }
    this.tDelay[i] = d;
    this.tState[i] = 0;
    this.pending[g] = this.pending[g]! + 1;
    this.pool.add(i);
  }

  /** Every block found (genesis excluded), in discovery order; canonical = on the best chain at the end. */
  blockLog(): BlockLog {
    const onMain = new Uint8Array(this.store.length);
    for (let b = this.best; b > 0; b = this.bParent[b]!) onMain[b] = 1;
    const rows: BlockRecord[] = [];
    for (let b = 1; b < this.store.length; b++) {
      const blk = this.store[b]!;
      rows.push({ height: blk.height, time: blk.time, producer: blk.miner, txCount: blk.txs.length, bytes: blk.bytes, canonical: onMain[b] === 1 });
    }
    return { backend: 'pow', unit: 'block', rows };
  }

  extraMetrics(): Record<string, number> {
    const blocks = this.store.length - 1;
    const main = this.bHeight[this.best]!;
    const stale = blocks - main;
    let bytes = 0;
    let fill = 0;
    let txs = 0;
    let fees = 0;
    for (let b = this.best; b > 0; b = this.bParent[b]!) {
      const blk = this.store[b]!;
      bytes += blk.bytes;
      fill += blk.bytes / this.params.maxBlockBytes;
      const idx = this.bTxIdx[b]!;
      txs += idx.length;
      for (let x = 0; x < idx.length; x++) fees += this.tFee[idx[x]!]!;
    }
    // heights (1..main) at which more than one block was found: forks
    const perHeight = new Uint8Array(main + 1);
    let forks = 0;
    for (let b = 1; b < this.store.length; b++) {
      const h = this.bHeight[b]!;
      if (h <= main && (perHeight[h] = perHeight[h]! + 1) === 2) forks++;
    }
    const m: Record<string, number> = {
      blocks,
      mainChainBlocks: main,
      staleBlocks: stale,
      staleRate: blocks > 0 ? stale / blocks : 0,
      stalePerMainBlock: main > 0 ? stale / main : 0,
      forks,
      forkRate: main > 0 ? forks / main : 0,
      reorgs: this.reorgs,
      maxReorgDepth: this.maxReorgDepth,
      meanBlockFill: main > 0 ? fill / main : 0,
      meanBlockIntervalS: main > 0 ? (this.bTime[this.best]! - this.t0) / main : 0,
      meanTxPerBlock: main > 0 ? txs / main : 0,
      txOnChain: txs,
      mempoolAtEnd: this.pool.size,
      bytesStoredPerNode: bytes,
      messages: this.ctx.network.stats.messages - this.net0.messages,
      bytesSent: this.ctx.network.stats.bytes - this.net0.bytes,
      feesPaid: fees,
      finalityViolations: this.finalityViolations,
      oversizeTxs: this.oversize,
    };
    if (this.billing) {
      let miners = 0;
      const seen = new Uint8Array(this.n);
      for (let b = 1; b < this.store.length; b++) {
        const mm = this.store[b]!.miner;
        if (!seen[mm]) {
          seen[mm] = 1;
          miners++;
        }
      }
      m.disputes = this.disputes;
      m.meteredRecords = this.meteredRecords;
      m.disputeRate = this.meteredRecords > 0 ? this.disputes / this.meteredRecords : 0;
      m.authentications = this.authCount;
      m.authFailures = this.authFailures;
      m.meanAuthDelayS = this.authCount > 0 ? this.authDelaySum / this.authCount : 0;
      m.lateBlocks = this.lateBlocks;
      m.fallbackBlocks = this.fallbackBlocks;
      m.distinctMiners = miners;
    }
    return m;
  }

  audit(): string[] {
    const out: string[] = [];
    const codec = this.ctx.codec;
    const onMain = new Uint8Array(this.store.length);
    for (let b = this.best; b >= 0; b = this.bParent[b]!) onMain[b] = 1;
    const recomputed: Buffer[] = [];
    const hist = new Int32Array(this.n);
    const mainTxids = new Map<string, number>();
    const checkPow = this.params.realNonce.enabled && !this.billing;
    for (const blk of this.store) {
      const h = sha256d(blk.header);
      recomputed[blk.index] = h;
      const name = `block ${blk.height} (${shortHex(blk.hash)}${onMain[blk.index] ? '' : ', stale'})`;
      if (blk.header.length !== HEADER_CORE_BYTES) out.push(`${name}: header is ${blk.header.length} bytes, expected ${HEADER_CORE_BYTES}`);
      if (!bytesEq(h, blk.hash)) out.push(`${name}: header hash mismatch (stored ${shortHex(blk.hash)}, recomputed ${shortHex(h)})`);
      if (blk.index === 0) continue;
      const hv = new DataView(blk.header.buffer, blk.header.byteOffset, blk.header.byteLength);
      const parent = this.store[blk.parent]!;
      if (!bytesEq(blk.header.subarray(4, 36), recomputed[blk.parent]!)) {
        out.push(`${name}: previous-hash link broken (header names ${shortHex(blk.header.subarray(4, 36))}, block ${parent.height} hashes to ${shortHex(recomputed[blk.parent]!)})`);
      }
      if (checkPow && !hasLeadingZeroBits(h, this.params.realNonce.difficultyBits)) out.push(`${name}: proof of work does not meet the target`);
      // transactions
      const leaves: Uint8Array[] = [];
      const seen = new Set<string>();
      let body = compactSize(blk.txs.length);
      for (let x = 0; x < blk.txs.length; x++) {
        const s = blk.txs[x]!;
        const tname = `tx ${s.tx.id} (${name})`;
        if (!codec.verify(s)) out.push(`${tname}: bad signature or body/record mismatch`);
        if (seen.has(s.txid)) out.push(`${tname}: duplicate txid in block`);
        seen.add(s.txid);
        if (onMain[blk.index]) {
          const prev = mainTxids.get(s.txid);
          if (prev !== undefined) out.push(`${tname}: already on the main chain in block ${prev}`);
          mainTxids.set(s.txid, blk.height);
        }
        const idb = Buffer.from(s.txid, 'hex');
        const r = blk.readings;
        if (r !== null && !Number.isNaN(r[2 * x]!)) {
          leaves.push(meterLeaf(idb, r[2 * x]!, r[2 * x + 1]!));
          body += METER_BYTES;
        } else {
          leaves.push(idb);
        }
        body += s.size;
      }
      if (!bytesEq(merkleRoot(leaves), blk.header.subarray(36, 68))) out.push(`${name}: merkle root mismatch`);
      const size = this.params.headerBytes + (this.billing ? SIGNATURE_BYTES : 0) + body;
      if (size > this.params.maxBlockBytes) out.push(`${name}: ${size} bytes exceeds maxBlockBytes ${this.params.maxBlockBytes}`);
      if (this.billing) {
        if (blk.signature === null || !codec.verifyBytes('node', blk.miner, blk.header, blk.signature)) out.push(`${name}: bad miner signature (miner ${blk.miner})`);
        if (hv.getUint32(72, true) !== blk.height) out.push(`${name}: serial number ${hv.getUint32(72, true)} != height ${blk.height}`);
        if (hv.getUint32(76, true) !== blk.miner) out.push(`${name}: header miner id ${hv.getUint32(76, true)} != miner ${blk.miner}`);
        const expect = this.billingMinerFrom(hist, blk.height);
        if (expect !== blk.miner) out.push(`${name}: miner ${blk.miner} violates the longest-history rule (expected ${expect})`);
        for (const s of blk.txs) {
          const g = this.ctx.network.gatewayOf(s.tx.ev);
          hist[g] = hist[g]! + 1;
        }
      }
    }
    return out;
  }

  finish(): void {
    // nothing to flush: blocks and settlements are produced by kernel events
  }

  // ---- transactions -----------------------------------------------------------------------------

  private txBytes(i: number, stx: SignedTx): number {
    return stx.size + (Number.isNaN(this.tMeters[2 * i]!) ? 0 : METER_BYTES);
  }

  private fail(i: number, tx: LedgerTx, at: number, reason: string): void {
    this.tState[i] = 2;
    this.tStx[i] = null;
    this.tLeaf[i] = null;
    this.ctx.settle({ tx, status: 'failed', at, confirmations: 0, reason });
  }

  /** Billing: EV ↔ station mutual authentication (2 signatures, 2 verifications, one round trip). */
  private authenticate(tx: LedgerTx): { ok: boolean; delay: number } {
    const { codec, network: net } = this.ctx;
    const bytes = this.params.billing.authMessageBytes;
    const gE = net.gatewayOf(tx.ev);
    const gS = net.gatewayOf(tx.station);
    const challenge = createHash('sha256').update(`evsim/auth/${tx.sessionId}/${tx.ev}/${tx.station}/${tx.submittedAt}`).digest();
    const answer = createHash('sha256').update(challenge).update('station').digest();
    const sigE = codec.signBytes('ev', tx.ev, challenge);
    const there = net.gatewayS(bytes) + net.transferS(gE, gS, bytes) + net.gatewayS(bytes);
    const okS = codec.verifyBytes('ev', tx.ev, challenge, sigE);
    const sigS = codec.signBytes('station', tx.station, answer);
    const back = net.gatewayS(bytes) + net.transferS(gS, gE, bytes) + net.gatewayS(bytes);
    const okE = codec.verifyBytes('station', tx.station, answer, sigS);
    const delay = 2 * codec.signCostS + 2 * codec.verifyCostS + there + back;
    this.authCount++;
    this.authDelaySum += delay;
    if (!(okS && okE)) this.authFailures++;
    return { ok: okS && okE, delay };
  }

  // ---- node views -------------------------------------------------------------------------------

  /** Node j's tip at time t (t ≥ every earlier query); sets vArr[j] = when j received it. */
  private view(j: number, t: number): number {
    let tip = this.vTip[j]!;
    let arr = this.vArr[j]!;
    let c = this.vCursor[j]!;
    let contiguous = true;
    const nb = this.store.length;
    const H = this.bHeight;
    for (let i = c; i < nb; i++) {
      const a = this.bArrivals[i]![j]!;
      if (a <= t) {
        const h = H[i]!;
        const th = H[tip]!;
        if (h > th || (h === th && (a < arr || (a === arr && i < tip)))) {
          tip = i;
          arr = a;
        }
        if (contiguous) c = i + 1;
      } else {
        contiguous = false;
      }
    }
    this.vTip[j] = tip;
    this.vArr[j] = arr;
    this.vCursor[j] = c;
    return tip;
  }

  /** Drop arrival arrays of blocks every node has received by t (folding them into lagging views). */
  private release(t: number): void {
    const nb = this.store.length;
    const H = this.bHeight;
    while (this.released < nb && this.bRelMax[this.released]! <= t) {
      const r = this.released;
      const arr = this.bArrivals[r]!;
      const h = H[r]!;
      for (let j = 0; j < this.n; j++) {
        if (this.vCursor[j] !== r) continue;
        const tip = this.vTip[j]!;
        const a = arr[j]!;
        const th = H[tip]!;
        if (h > th || (h === th && (a < this.vArr[j]! || (a === this.vArr[j]! && r < tip)))) {
          this.vTip[j] = r;
          this.vArr[j] = a;
        }
        this.vCursor[j] = r + 1;
      }
      this.bArrivals[r] = null;
      this.released++;
    }
  }

  private lca(a: number, b: number): number {
    const H = this.bHeight;
    const P = this.bParent;
    while (H[a]! > H[b]!) a = P[a]!;
    while (H[b]! > H[a]!) b = P[b]!;
    while (a !== b) {
      a = P[a]!;
      b = P[b]!;
    }
    return a;
  }

  // ---- mining -----------------------------------------------------------------------------------

  private drawMiner(): number {
    const u = this.rngMining.next();
    const c = this.cumShare;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (u < c[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private onMine(): void {
    const now = this.ctx.scheduler.now;
    this.release(now);
    const m = this.drawMiner();
    const tip = this.view(m, now);
    const cutoff = this.params.template === 'continuous' ? now : this.vArr[m]!;
    this.makeBlock(m, tip, now, cutoff);
    this.ctx.scheduler.schedule(now + this.rngMining.exp(this.T), PRIORITY.LEDGER, this.kMine);
  }

  /** Billing: the miner of block `serial` from the histories of blocks 1..serial−1. */
  private billingMinerFrom(hist: Int32Array, serial: number): number {
    let bestJ = 0;
    for (let j = 1; j < this.n; j++) if (hist[j]! > hist[bestJ]!) bestJ = j;
    if (hist[bestJ]! >= this.params.billing.minHistory) return bestJ;
    return (serial - 1) % this.n;
  }

  private onSlot(serial: number): void {
    const now = this.ctx.scheduler.now;
    this.release(now);
    const m = this.billingMinerFrom(this.history, serial);
    const prev = this.store.length - 1;
    const pa = this.bArrivals[prev];
    const have = pa ? pa[m]! : -Infinity;
    if (have > now) {
      // the scheduled miner does not have the previous block yet: wait for it
      this.lateBlocks++;
      this.ctx.scheduler.schedule(have, PRIORITY.LEDGER, this.kSlot, serial);
      return;
    }
    if (this.history[m]! < this.params.billing.minHistory) this.fallbackBlocks++;
    const idx = this.makeBlock(m, prev, now, now);
    for (const i of this.bTxIdx[idx]!) {
      const g = this.tGw[i]!;
      this.history[g] = this.history[g]! + 1;
    }
    this.ctx.scheduler.schedule(Math.max(now, this.t0 + (serial + 1) * this.T), PRIORITY.LEDGER, this.kSlot, serial + 1);
  }

  /** Transactions for a block of miner m on `parent`, arrived at m by `cutoff`, in template order. */
  private selectTxs(m: number, parent: number, cutoff: number, budget: number): number[] {
    const P = this.bParent;
    const fork = parent === this.best ? parent : this.lca(parent, this.best);
    // txs in the parent's branch above the fork are in the miner's chain but not in the global one;
    // txs in the global branch above the fork are not in the miner's chain
    let excluded: Set<number> | null = null;
    for (let b = parent; b !== fork; b = P[b]!) {
      excluded ??= new Set();
      for (const i of this.bTxIdx[b]!) excluded.add(i);
    }
    const cand: number[] = [];
    const arrivedAt = (i: number) => this.tGwTime[i]! + this.tDelay[i]![m]!;
    for (const i of this.pool) if (arrivedAt(i) <= cutoff && !(excluded !== null && excluded.has(i))) cand.push(i);
    for (let b = this.best; b !== fork; b = P[b]!) {
      for (const i of this.bTxIdx[b]!) if (arrivedAt(i) <= cutoff && !(excluded !== null && excluded.has(i))) cand.push(i);
    }
    if (cand.length === 0) return cand;
    if (this.params.mempool === 'fee') {
      const fee = this.tFee;
      cand.sort((a, b) => fee[b]! - fee[a]! || a - b);
    } else {
      cand.sort((a, b) => arrivedAt(a) - arrivedAt(b) || a - b);
    }
    const out: number[] = [];
    let used = 0;
    let minSize = Infinity;
    for (const i of cand) {
      const s = this.txBytes(i, this.tStx[i]!);
      if (s < minSize) minSize = s;
      if (used + s + compactSize(out.length + 1) <= budget) {
        out.push(i);
        used += s;
      } else if (budget - used - compactSize(out.length + 1) < minSize) {
        break;
      }
    }
    return out;
  }

  private makeBlock(m: number, parent: number, t: number, cutoff: number): number {
    const p = this.params;
    const fixed = p.headerBytes + (this.billing ? SIGNATURE_BYTES : 0);
    const sel = this.selectTxs(m, parent, cutoff, p.maxBlockBytes - fixed);
    const idx = this.store.length;
    if (idx >= this.bHeight.length) this.growBlocks();
    const height = this.bHeight[parent]! + 1;
    const txs: SignedTx[] = new Array(sel.length);
    const leaves: Uint8Array[] = new Array(sel.length);
    let readings: Float64Array | null = null;
    let bytes = fixed + compactSize(sel.length);
    for (let x = 0; x < sel.length; x++) {
      const i = sel[x]!;
      txs[x] = this.tStx[i]!;
      leaves[x] = this.tLeaf[i]!;
      bytes += this.txBytes(i, txs[x]!);
    }
    if (this.billing) {
      readings = new Float64Array(2 * sel.length);
      for (let x = 0; x < sel.length; x++) {
        readings[2 * x] = this.tMeters[2 * sel[x]!]!;
        readings[2 * x + 1] = this.tMeters[2 * sel[x]! + 1]!;
      }
    }
    const root = merkleRoot(leaves);
    const prevHash = this.store[parent]!.hash;
    let header: Uint8Array;
    let hash: Buffer;
    let signature: Uint8Array | null = null;
    if (this.billing) {
      header = writeHeader(2, prevHash, root, t, height, m);
      hash = sha256d(header);
      signature = this.ctx.codec.signBytes('node', m, header);
    } else {
      header = writeHeader(1, prevHash, root, t, this.bits, 0);
      if (p.realNonce.enabled) {
        const d = p.realNonce.difficultyBits;
        const v = new DataView(header.buffer);
        const t0 = performance.now(); // wall-clock ok: reported only through wallClock()
        let nonce = 0;
        for (;;) {
          v.setUint32(76, nonce >>> 0, true);
          hash = sha256d(header);
          this.nonceHashes++;
          if (hasLeadingZeroBits(hash, d) || nonce === 0xffffffff) break;
          nonce++;
        }
        this.nonceSeconds += (performance.now() - t0) / 1000; // wall-clock ok
      } else {
        hash = sha256d(header);
      }
    }
    this.store.push({ index: idx, height, parent, miner: m, time: t, header, hash, txs, readings, signature, bytes });
    this.bHeight[idx] = height;
    this.bParent[idx] = parent;
    this.bTime[idx] = t;
    const txIdx = Int32Array.from(sel);
    this.bTxIdx.push(txIdx);
    let byGw: Map<number, number[]> | null = null;
    if (sel.length > 0) {
      byGw = new Map();
      for (const i of sel) {
        const g = this.tGw[i]!;
        let l = byGw.get(g);
        if (l === undefined) byGw.set(g, (l = []));
        l.push(i);
      }
    }
    this.bByGw.push(byGw);

    // propagation: flood from the miner; a node connects a block only after its parent
    const delays = this.ctx.network.broadcast(m, bytes);
    const arr = new Float64Array(this.n);
    const pa = this.bArrivals[parent];
    let max = t;
    for (let j = 0; j < this.n; j++) {
      let a = t + delays[j]!;
      if (pa && pa[j]! > a) a = pa[j]!;
      arr[j] = a;
      if (a > max) max = a;
    }
    this.bArrivals.push(arr);
    this.bRelMax[idx] = max;

    // global most-work chain (pool bookkeeping)
    if (height > this.bHeight[this.best]!) this.switchBest(idx);

    // finality checks at gateways that have unsettled txs
    for (let g = 0; g < this.n; g++) {
      if (this.pending[g]! > 0) this.ctx.scheduler.schedule(arr[g]!, PRIORITY.LEDGER, this.kFinal, g, idx);
    }
    return idx;
  }

  private switchBest(nb: number): void {
    const old = this.best;
    const P = this.bParent;
    if (P[nb] === old) {
      this.markBest(nb, 1);
    } else {
      const fork = this.lca(old, nb);
      for (let b = old; b !== fork; b = P[b]!) this.markBest(b, 0);
      for (let b = nb; b !== fork; b = P[b]!) this.markBest(b, 1);
      this.reorgs++;
      const depth = this.bHeight[old]! - this.bHeight[fork]!;
      if (depth > this.maxReorgDepth) this.maxReorgDepth = depth;
    }
    this.best = nb;
  }

  private markBest(b: number, on: 0 | 1): void {
    for (const i of this.bTxIdx[b]!) {
      if (on) this.pool.delete(i);
      else this.pool.add(i);
    }
  }

  // ---- finality ---------------------------------------------------------------------------------

  private onFinalityCheck(g: number, _block: number): void {
    if (this.pending[g] === 0) return;
    const now = this.ctx.scheduler.now;
    const tip = this.view(g, now);
    const H = this.bHeight;
    const P = this.bParent;
    const k = this.confirmations;
    const hF = H[tip]! - k + 1;
    if (hF <= this.fHeight[g]!) return;
    let b = tip;
    while (H[b]! > hF) b = P[b]!;
    const top = b;
    const path: number[] = [];
    while (H[b]! > this.fHeight[g]!) {
      path.push(b);
      b = P[b]!;
    }
    if (b !== this.fBlock[g]) {
      // a block this gateway had already treated as final left its chain (reorg deeper than k)
      this.finalityViolations++;
      let o = this.fBlock[g]!;
      while (b !== o) {
        path.push(b);
        b = P[b]!;
        o = P[o]!;
      }
    }
    for (let x = path.length - 1; x >= 0; x--) {
      const byGw = this.bByGw[path[x]!];
      const l = byGw ? byGw.get(g) : undefined;
      if (l === undefined) continue;
      for (const i of l) {
        if (this.tState[i] !== 0) continue;
        this.tState[i] = 1;
        this.pending[g] = this.pending[g]! - 1;
        this.ctx.settle({ tx: this.tStx[i]!.tx, status: 'final', at: now, confirmations: k, bytes: this.txBytes(i, this.tStx[i]!), fee: this.tFee[i]! });
      }
    }
    this.fBlock[g] = top;
    this.fHeight[g] = hF;
  }

  // ---- growth -----------------------------------------------------------------------------------

  private growBlocks(): void {
    const n = this.bHeight.length * 2;
    this.bHeight = growI32(this.bHeight, n);
    this.bParent = growI32(this.bParent, n);
    this.bTime = growF64(this.bTime, n);
    this.bRelMax = growF64(this.bRelMax, n);
  }

  private growTx(): void {
    const n = this.tGw.length * 2;
    this.tGw = growI32(this.tGw, n);
    this.tGwTime = growF64(this.tGwTime, n);
    this.tFee = growF64(this.tFee, n);
    this.tMeters = growF64(this.tMeters, 2 * n);
    this.tState = growU8(this.tState, n);
  }
}

export function createPowLedger(ctx: LedgerContext, params: PowParamsInput = {}): PowLedger {
  return new PowLedger(ctx, params);
}
