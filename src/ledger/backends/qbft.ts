/**
 * `qbft`: Quorum / Hyperledger Besu with QBFT (the Istanbul BFT family) — the permissioned chain of
 * Inglese et al., which stores a charge record on Quorum every minute. A discrete-event model of the
 * protocol on the simulation clock, with real blocks (hash-linked headers, Merkle roots over the
 * txids, commit seals signed by the validators).
 *
 * What is modelled
 *   - Validators: nodes 0..N−1 of ctx.network (N = `validators`, default all network nodes); the
 *     other network nodes are non-validating members (gateways only). f = ⌊(N−1)/3⌋ crash faults
 *     are tolerated; quorum = ⌈2N/3⌉ (Besu/GoQuorum; equal to Moniz's ⌈(N+f+1)/2⌉ for N = 3f+1).
 *   - Transactions: the submitting EV (`tx.ev`) signs (ctx.codec, delaying its send by
 *     codec.signCostS) and sends the signed tx to its gateway node (network.gatewayOf(ev),
 *     network.gatewayS), which gossips it to every node (network.broadcast). A proposer includes a
 *     tx once the tx has reached it. Pool order is submission order (FIFO), at most maxTxPerBlock
 *     per block; the excess waits for the next block.
 *   - Block slots ("block period" semantics as in Besu/GoQuorum): the proposer of a height starts
 *     building when it has the parent block AND blockPeriodS has passed since the parent's
 *     timestamp (block timer = parent.timestamp + blockperiod). The period is therefore the MINIMUM
 *     time between blocks: when consensus takes less than the period (the normal case), blocks
 *     come exactly every blockPeriodS; when it takes longer, the next block follows as soon as the
 *     proposer has committed the parent. (The issue words it as "every blockPeriodS after the
 *     previous block's commit"; the clients measure it from the parent's timestamp, i.e. its
 *     proposal, so fault-free blocks are exactly P apart rather than P + 3 message delays, and the
 *     mean latency is P/2 + 3 delays as the issue expects.) Empty blocks are produced when there is
 *     nothing to include (the default of both clients). Timestamps are kept at full precision
 *     (Ethereum headers carry whole seconds).
 *   - Proposer rotation (documented rule): proposer(h, r) = (h + r) mod N — round-robin by height
 *     plus round (`proposerPolicy: 'height-round'`, the rule of the issue and of Moniz's IBFT). Besu's
 *     round-robin policy is offered as `'after-last-proposer'`: proposer(h, r) =
 *     (proposer of block h−1 + 1 + r) mod N (genesis counts as proposed by N−1).
 *   - Normal case (round r of height h, proposer p, proposal at T): p sends PRE-PREPARE (header +
 *     the block's signed txs; for r > 0 plus the quorum of ROUND-CHANGE messages justifying it) to
 *     every validator; a validator receiving it validates the block (txs × codec.verifyCostS when
 *     `validateTxs`) and sends PREPARE to all (the proposer's own PREPARE goes out at T, which times
 *     exactly like Besu's rule of counting the proposal in place of the proposer's PREPARE); with a
 *     quorum of PREPAREs (its own included) it sends COMMIT carrying its commit seal; with a quorum
 *     of COMMITs it commits the block: immediate finality, no forks. All arrivals within a round are
 *     computed analytically from the network's per-link delays (network.transferS, one call per
 *     message actually sent, which also counts messages and bytes): the prepare-quorum time at j is
 *     the quorum-th smallest of (PREPARE send time at i + delay i→j) over the validators i that
 *     prepared, likewise for COMMIT. One block costs O(N²) arithmetic and one kernel event, plus one
 *     settlement event per tx. Validators that did not commit by themselves (down, or late) import
 *     the block from the first committer (one block transfer); non-validator gateway nodes likewise.
 *   - Finality: a tx is final (confirmations 1) when the node its submitter is connected to (its
 *     gateway, or the fail-over node, below) has the committed block (commit for a validator, block
 *     import for a non-validator member).
 *   - Faults: crash-stop windows { validator, fromS, toS? } (toS absent = never recovers). A down
 *     validator sends and receives nothing; messages to it are lost; it loses its in-memory round
 *     state and its tx pool. A validator takes part in a round only if it is up from the proposal
 *     instant until its last action of the round (PREPARE, COMMIT, commit). On recovery it imports
 *     the missed blocks (instantaneous sync) and restarts the current height at round 0, like a
 *     restarted Besu node; its tx pool is refilled by the peers' re-announcements (instantaneous).
 *     Clients fail over (`gatewayFailoverS`, default 5 s — a typical RPC client request timeout):
 *     a tx whose gateway validator is down when it arrives is resent to the next node (gateway+1,
 *     +2, … mod network nodes), one timeout per dead node tried, and the client then watches that
 *     node; a client whose node is down when the block is decided fails over likewise (timeouts
 *     counted from the decision). With gatewayFailoverS = null the tx waits for its gateway to
 *     recover, and stays pending if it never does.
 *   - Round changes (exact QBFT rules, message by message, on a small local event queue that runs
 *     only while a height is in trouble): every validator runs a round timer. Round 0's timer starts
 *     when the block period has expired (max(parent import, parent.timestamp + blockPeriodS); Besu
 *     issue #2095), round r's timer lasts timeout(r) = requestTimeoutS·2^r (capped by
 *     maxRequestTimeoutS when set, GoQuorum's option). On expiry the validator moves to round r+1 and
 *     broadcasts ROUND-CHANGE(r+1). A validator that has ROUND-CHANGEs for rounds above its own from
 *     f+1 validators moves to the (f+1)-th highest of those rounds and broadcasts ROUND-CHANGE for it;
 *     one that has a quorum of ROUND-CHANGE(r) moves to r; the proposer of r, once it has a quorum
 *     of ROUND-CHANGE(r), proposes. A validator receiving a proposal for a round above its own moves
 *     to that round. If a failed round got a block PREPARED somewhere (a prepared certificate), the
 *     next proposal re-proposes the same transactions (QBFT's locking), so a height never decides
 *     two different blocks. Consequently: a crashed proposer costs one timeout (a round change to
 *     the next proposer); two crashed proposers in a row cost timeout(0)+timeout(1) = 3·requestTimeoutS
 *     (the doubling); with more than f validators down no quorum exists, rounds keep doubling, txs
 *     stay pending; after recovery the chain resumes at the live validators' next round change
 *     (the recovered ones are pulled up by the f+1 rule), which after a long outage can take as long
 *     as the last, doubled timeout — the well-known slow recovery of IBFT networks (besu-docs #611).
 *
 * Block structure: header = (version, height, round, parent hash, Merkle root over the txids
 * (src/ledger/tx.ts merkleRoot, txids as 32-byte digests), timestamp (f64 s), proposer, tx count),
 * encoded little-endian in HEADER_ENCODED_BYTES bytes; block hash = SHA-256(header). Commit seals =
 * ctx.codec.signBytes('node', validator, blockHash); the block stores the quorum of seals its first
 * committer collected (the first `quorum` COMMITs to reach it). audit() recomputes every header hash
 * and parent link, every Merkle root, tx count and tx signature (codec.verify), checks the proposer
 * against the rotation rule, the block period between timestamps, the tx limit, that no tx is in two
 * blocks and that every block has at least `quorum` valid seals from distinct validators; each
 * problem names its block ("block 17: merkle root mismatch", "tx 5 (block 3): bad signature").
 * bytesStoredPerNode counts messageBytes.header + seals + signed txs per block (an Ethereum header
 * with QBFT extraData is ~600 B plus 65 B per seal; our seals are 64-byte codec signatures).
 *
 * Assumptions: crash faults only (no Byzantine validators: no equivocation, invalid blocks or
 * forged messages); the network loses no message between live nodes and has no jitter (static
 * per-link delays), i.e. it is synchronous enough that a round completes well within its timeout —
 * a validator's timer expiring while it is busy committing a round is not modelled; no congestion
 * (network.ts); validation cost = txs × codec.verifyCostS (signature checks; EVM execution of the
 * record-keeping contract call is not charged); the locked block is known to the next proposer
 * (in QBFT it travels in the ROUND-CHANGE messages' prepared certificates).
 *
 * Left out: Byzantine behaviour, validator set changes (votes), gas / block gas limit (the tx count
 * limit stands in for it), Besu's emptyblockperiodseconds, the exact justification payloads of
 * round-change proposals (sized as quorum × ROUND-CHANGE (+ quorum × PREPARE when locked)), block
 * sync time and tx-pool re-announcement traffic after a recovery, ordering of the pool by gas price
 * and nonce, private transactions (Tessera), smart contracts (EVM execution).
 *
 * Defaults (QbftParamsSchema): all network nodes validate; blockPeriodS = 5 (GoQuorum's default
 * istanbul.blockperiod; Besu's examples use 2–5 s; the benchmark sets 1 s); requestTimeoutS = 10
 * (GoQuorum istanbul.requesttimeout 10 000 ms; Besu requesttimeoutseconds, typically 2 × period or
 * more); no timeout cap; maxTxPerBlock = 10 000; PREPARE/COMMIT/ROUND-CHANGE ≈ 200 B (RLP message
 * with round identifier, digest, 65-byte signature, framing); header 600 B; no crashes.
 *
 * Performance: fault-free heights never touch the round-change queue: one kernel event per block,
 * 3·N² network.transferS calls, one header hash, one Merkle root, `quorum` seal signatures (the
 * dominant cost: codec.signBytes, ~1 µs each in 'modeled' mode, ~40 µs in 'real' Ed25519 mode).
 * bench/ledger-qbft.ts: a day at P = 1 s with 7 validators and 2 tx/s runs in ~3 s of CPU.
 *
 * Sources: H. Moniz, "The Istanbul BFT Consensus Algorithm", arXiv:2002.03613 (2020) — the
 * PRE-PREPARE/PREPARE/COMMIT/ROUND-CHANGE algorithm, quorums, the f+1 round-change rule, timer
 * doubling; R. Saltini & D. Hyland-Wood, "IBFT 2.0: A Safe and Live Variation of the IBFT Blockchain
 * Consensus Protocol for Eventually Synchronous Networks", arXiv:1909.10194 (2019) — quorum ⌈2N/3⌉,
 * locking and round-change justification; the Enterprise Ethereum Alliance QBFT specification (and
 * its formal Dafny version, ConsenSys qbft-formal-spec-and-verification) and the Hyperledger Besu /
 * GoQuorum QBFT documentation
 * (blockperiodseconds, requesttimeoutseconds, round-robin proposer selection, commit seals in the
 * header extraData); Besu issue #2095 (round-0 timer after the block period), besu-docs #611 (more
 * than 1/3 of validators down: no blocks, doubling round timeouts), GoQuorum maxRequestTimeoutSeconds
 * (quorum PR #1624); Inglese et al. (shared/papers/002) — Quorum + QBFT, a charge record per minute.
 */
import { z } from 'zod';
import type { BlockLog, BlockRecord, Ledger, LedgerContext, LedgerTx } from '../ledger.js';
import { PRIORITY } from '../../core/priorities.js';
import { merkleRoot, sha256, SIGNATURE_BYTES, type SignedTx } from '../tx.js';

// ---- parameters ---------------------------------------------------------------------------------

const CrashSchema = z
  .strictObject({
    /** validator index 0..N−1 */
    validator: z.number().int().min(0),
    /** crash instant, simulated seconds */
    fromS: z.number().min(0),
    /** recovery instant (exclusive end of the window), simulated seconds; absent = never recovers */
    toS: z.number().optional(),
  })
  .refine((c) => c.toS === undefined || c.toS > c.fromS, { message: 'toS must be > fromS', path: ['toS'] });

export const QbftParamsSchema = z.strictObject({
  /** number of validators N (nodes 0..N−1 of the ledger network); absent = every network node */
  validators: z.number().int().min(1).optional(),
  /** block period, seconds: the minimum time between block timestamps (default 5, GoQuorum's
   * default `blockperiodseconds`; the micro-benchmark uses 1) */
  blockPeriodS: z.number().positive().default(5),
  /** at most this many transactions per block; the excess waits for the next block */
  maxTxPerBlock: z.number().int().min(1).default(10_000),
  /** round-change timeout of round 0, seconds; round r waits requestTimeoutS·2^r */
  requestTimeoutS: z.number().positive().default(10),
  /** cap on the doubled round timeout, seconds (GoQuorum maxRequestTimeoutSeconds); absent = no cap */
  maxRequestTimeoutS: z.number().positive().optional(),
  /** proposer rotation: 'height-round' = (height + round) mod N; 'after-last-proposer' (Besu) =
   * (proposer of the parent block + 1 + round) mod N */
  proposerPolicy: z.enum(['height-round', 'after-last-proposer']).default('height-round'),
  /** crash-stop windows [fromS, toS) of validators */
  crashed: z.array(CrashSchema).default([]),
  /** message sizes, bytes. PRE-PREPARE = header + the block's signed txs (+ quorum × roundChange as
   * justification in rounds > 0) */
  messageBytes: z
    .strictObject({
      /** block header with QBFT extraData (vanity, validator list, round), without seals */
      header: z.number().int().min(0).default(600),
      prepare: z.number().int().min(0).default(200),
      /** COMMIT carries the commit seal */
      commit: z.number().int().min(0).default(200),
      roundChange: z.number().int().min(0).default(200),
    })
    .prefault({}),
  /** client fail-over, seconds: a client whose gateway validator is down resends to the next node
   * (gateway + 1, + 2, … mod network nodes) after this request timeout per dead node tried, and
   * watches that node for finality; null = no fail-over (the tx waits for its gateway to recover) */
  gatewayFailoverS: z.number().min(0).nullable().default(5),
  /** validators check every tx signature of a proposal before PREPARE (txs × codec.verifyCostS) */
  validateTxs: z.boolean().default(true),
});

/** Parsed parameters (defaults applied). */
export type QbftParams = z.output<typeof QbftParamsSchema>;
/** Parameters as written in a scenario (every field optional). */
export type QbftParamsInput = z.input<typeof QbftParamsSchema>;

/** Crash faults tolerated by N validators: ⌊(N−1)/3⌋. */
export function qbftF(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Quorum of N validators: ⌈2N/3⌉. */
export function qbftQuorum(n: number): number {
  return Math.ceil((2 * n) / 3);
}

// ---- blocks -------------------------------------------------------------------------------------

export interface QbftHeader {
  height: number;
  round: number;
  /** hex SHA-256 of the parent header (64 zeros for block 1) */
  parentHash: string;
  /** hex Merkle root over the block's txids */
  merkleRoot: string;
  /** proposal instant, simulated seconds */
  timestamp: number;
  proposer: number;
  txCount: number;
}

export interface QbftBlock {
  header: QbftHeader;
  /** hex SHA-256 of encodeQbftHeader(header) */
  hash: string;
  txs: SignedTx[];
  /** the validators whose commit seals the block carries (the first `quorum` COMMITs to reach the
   * first committer, in arrival order) */
  sealers: number[];
  /** their seals, concatenated: seal k = codec.signBytes('node', sealers[k], blockHash) =
   * seals.subarray(k·SIGNATURE_BYTES, (k+1)·SIGNATURE_BYTES) (one buffer per block: compact) */
  seals: Uint8Array;
  /** simulated time of the first commit */
  committedAt: number;
}

export const HEADER_ENCODED_BYTES = 89;
const ZERO_HASH = '0'.repeat(64);

/** Canonical header encoding (little-endian): u8 version 1, u32 height, u32 round, 32 B parent hash,
 * 32 B Merkle root, f64 timestamp, u32 proposer, u32 tx count. */
export function encodeQbftHeader(h: QbftHeader): Buffer {
  const b = Buffer.alloc(HEADER_ENCODED_BYTES);
  b.writeUInt8(1, 0);
  b.writeUInt32LE(h.height >>> 0, 1);
  b.writeUInt32LE(h.round >>> 0, 5);
  // hex fields: 64 hex digits → 32 bytes (writing stops at the first non-hex digit)
  b.write(h.parentHash, 9, 32, 'hex');
  b.write(h.merkleRoot, 41, 32, 'hex');
  b.writeDoubleLE(h.timestamp, 73);
  b.writeUInt32LE(h.proposer >>> 0, 81);
  b.writeUInt32LE(h.txCount >>> 0, 85);
  return b;
}

// ---- internals ----------------------------------------------------------------------------------

interface PendingTx {
  readonly s: SignedTx;
  /** gateway node */
  readonly g: number;
  /** instant the gateway has it (after signing and the access link) */
  readonly tg: number;
  /** gossip delays from the gateway to every node (shared, cached per gateway and size) */
  readonly d: Float64Array;
  done: boolean;
}

// round-change event types (local queue)
const E_ENTER0 = 0;
const E_TIMER = 1;
const E_RC = 2;
const E_CRASH = 3;
const E_RECOVER = 4;
const E_PROPOSE = 5;
const E_PARRIVE = 6;

interface REvent {
  t: number;
  seq: number;
  type: number;
  /** receiving / acting validator */
  j: number;
  /** sender (RC) or timer generation (TIMER) */
  s: number;
  /** round */
  r: number;
}

/** Binary min-heap on (t, seq): deterministic order, ties by insertion. */
class EventHeap {
  private readonly a: REvent[] = [];
  private seq = 0;
  get size(): number {
    return this.a.length;
  }
  push(t: number, type: number, j: number, s = 0, r = 0): void {
    const e: REvent = { t, seq: this.seq++, type, j, s, r };
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, e)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }
  peek(): REvent | undefined {
    return this.a[0];
  }
  pop(): REvent {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r]!, a[l]!) ? r : l;
        if (less(last, a[c]!)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function less(x: REvent, y: REvent): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

/** Round-change state of the current height (exists only while a height needs round changes). */
interface Resolver {
  readonly heap: EventHeap;
  readonly alive: Uint8Array;
  /** entered the current height (has the parent block) */
  readonly entered: Uint8Array;
  readonly round: Int32Array;
  readonly expiry: Float64Array;
  readonly gen: Int32Array;
  /** rc[j·N + s] = highest ROUND-CHANGE round j has from s (−1: none) */
  readonly rc: Int32Array;
  /** epoch of this resolver (stale kernel wake-ups are ignored) */
  readonly epoch: number;
  wakeAt: number;
}

interface Proposal {
  T: number;
  r: number;
  p: number;
}

const LOOKAHEAD_S = 3600;

export class QbftLedger implements Ledger {
  readonly backend = 'qbft';
  readonly params: QbftParams;
  /** validators N, tolerated faults f, quorum */
  readonly n: number;
  readonly f: number;
  readonly quorum: number;

  private readonly nodes: number;
  private readonly P: number;
  /** crash windows per validator: [from0, to0, from1, to1, ...], sorted, merged */
  private readonly win: Float64Array[];
  private readonly hasWin: boolean;
  private readonly kPropose: number;
  private readonly kWake: number;

  // chain
  private readonly chain: QbftBlock[] = [];
  /** encoded size of each block (header + txs + commit seals), by height − 1 */
  private readonly blockSizes: number[] = [];
  /** per validator: hashes of the blocks it committed or imported, by height − 1 */
  private readonly chains: string[][];
  private height = 1;
  private parentTs = 0;
  private parentHash = ZERO_HASH;
  private lastProposer: number;
  /** instant each validator has the parent block (enters the current height); Infinity = never */
  private readonly H: Float64Array;

  // pool
  private pool: PendingTx[] = [];
  private readonly stuck: PendingTx[] = [];
  private readonly delayCache = new Map<number, Float64Array>();
  private locked: PendingTx[] | null = null;

  // current height's proposals
  private next: Proposal | null = null;
  private nextGen = 0;
  private readonly proposed = new Set<number>();
  private rs: Resolver | null = null;
  private epoch = 0;

  // metrics
  private blocksEmpty = 0;
  private roundsDone = 0;
  private txIncluded = 0;
  private storedBytes = 0;
  private unsettled = 0;
  private readonly msg0: number;
  private readonly bytes0: number;

  // scratch (N or N×N)
  private readonly a: Float64Array;
  private readonly sP: Float64Array;
  private readonly qP: Float64Array;
  private readonly sC: Float64Array;
  private readonly cT: Float64Array;
  private readonly deadline: Float64Array;
  private readonly eligible: Uint8Array;
  private readonly mP: Float64Array;
  private readonly mC: Float64Array;
  private readonly scratch: Float64Array;
  private readonly learn: Float64Array;

  constructor(
    private readonly ctx: LedgerContext,
    params: QbftParamsInput = {},
  ) {
    const p = (this.params = QbftParamsSchema.parse(params));
    const net = ctx.network;
    this.nodes = net.n;
    const n = (this.n = p.validators ?? net.n);
    if (n > net.n) throw new RangeError(`qbft: ${n} validators but the network has only ${net.n} nodes`);
    this.f = qbftF(n);
    this.quorum = qbftQuorum(n);
    this.P = p.blockPeriodS;
    this.lastProposer = n - 1;

    const lists: number[][][] = Array.from({ length: n }, () => []);
    for (const c of p.crashed) {
      if (c.validator >= n) throw new RangeError(`qbft: crashed validator ${c.validator} is not a validator (N = ${n})`);
      lists[c.validator]!.push([c.fromS, c.toS ?? Infinity]);
    }
    this.win = lists.map((l) => {
      l.sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
      const merged: number[] = [];
      for (const [from, to] of l) {
        const k = merged.length;
        if (k > 0 && from! <= merged[k - 1]!) merged[k - 1] = Math.max(merged[k - 1]!, to!);
        else merged.push(from!, to!);
      }
      return Float64Array.from(merged);
    });
    this.hasWin = p.crashed.length > 0;

    this.chains = Array.from({ length: n }, () => []);
    this.H = new Float64Array(n);
    for (let i = 0; i < n; i++) this.H[i] = this.up(i, 0) ? 0 : this.recoveryAfter(i, 0);

    this.a = new Float64Array(n);
    this.sP = new Float64Array(n);
    this.qP = new Float64Array(n);
    this.sC = new Float64Array(n);
    this.cT = new Float64Array(n);
    this.deadline = new Float64Array(n);
    this.eligible = new Uint8Array(n);
    this.mP = new Float64Array(n * n);
    this.mC = new Float64Array(n * n);
    this.scratch = new Float64Array(n);
    this.learn = new Float64Array(net.n);

    this.msg0 = net.stats.messages;
    this.bytes0 = net.stats.bytes;
    this.kPropose = ctx.scheduler.register('qbft-propose', (gen) => this.onPropose(gen));
    this.kWake = ctx.scheduler.register('qbft-round-change', (epoch) => {
      if (this.rs !== null && this.rs.epoch === epoch) {
        this.rs.wakeAt = Infinity;
        this.runResolver();
      }
    });
    this.startHeight(ctx.scheduler.now);
  }

  // ---- public inspection ------------------------------------------------------------------------

  /** The stored chain (block k has height k + 1). Mutable on purpose: tests alter it to exercise audit(). */
  get blocks(): QbftBlock[] {
    return this.chain;
  }

  /** Hashes of the blocks validator i committed or imported, by height − 1. */
  committedChain(i: number): readonly string[] {
    return this.chains[i]!;
  }

  /** Proposer of (height, round) under the configured rotation rule, given the parent's proposer. */
  proposerOf(height: number, round: number, parentProposer: number): number {
    return this.params.proposerPolicy === 'height-round' ? (height + round) % this.n : (parentProposer + 1 + round) % this.n;
  }

  /** Round timeout of round r, seconds. */
  timeout(r: number): number {
    const t = this.params.requestTimeoutS * 2 ** r;
    const cap = this.params.maxRequestTimeoutS;
    return cap !== undefined && t > cap ? cap : t;
  }

  // ---- submission ---------------------------------------------------------------------------------

  submit(tx: LedgerTx): void {
    const { codec, network: net } = this.ctx;
    const s = codec.sign(tx);
    const g0 = net.gatewayOf(tx.ev);
    const t0 = this.ctx.scheduler.now + codec.signCostS + net.gatewayS(s.size);
    let g = g0;
    let tg = t0;
    if (g0 < this.n && !this.up(g0, t0)) {
      // the gateway validator is down: fail over to the next nodes (gatewayFailoverS per dead node
      // tried), or (no failover) wait for it to recover
      const fo = this.params.gatewayFailoverS;
      tg = Infinity;
      if (fo !== null) {
        for (let i = 1; i < this.nodes; i++) {
          const k = (g0 + i) % this.nodes;
          const t = t0 + i * fo;
          net.gatewayS(s.size); // the resent request
          if (k >= this.n || this.up(k, t)) {
            g = k;
            tg = t;
            break;
          }
        }
      }
      if (tg === Infinity) tg = this.recoveryAfter(g0, t0);
    }
    if (tg === Infinity) {
      this.stuck.push({ s, g, tg, d: this.scratch, done: false });
      return;
    }
    const bc = net.broadcast(g, s.size);
    const key = s.size * this.nodes + g;
    let d = this.delayCache.get(key);
    if (d === undefined) {
      d = Float64Array.from(bc);
      this.delayCache.set(key, d);
    }
    this.pool.push({ s, g, tg, d, done: false });
  }

  // ---- crash windows ------------------------------------------------------------------------------

  /** Validator i is up at t. */
  private up(i: number, t: number): boolean {
    if (!this.hasWin) return true;
    const w = this.win[i]!;
    for (let k = 0; k < w.length; k += 2) if (w[k]! <= t && t < w[k + 1]!) return false;
    return true;
  }

  /** Validator i is up throughout [t0, t1]. */
  private upOver(i: number, t0: number, t1: number): boolean {
    if (!this.hasWin) return true;
    const w = this.win[i]!;
    for (let k = 0; k < w.length; k += 2) if (w[k]! <= t1 && w[k + 1]! > t0) return false;
    return true;
  }

  /** First instant >= t at which validator i is up (Infinity if never). */
  private recoveryAfter(i: number, t: number): number {
    const w = this.win[i]!;
    let x = t;
    for (let k = 0; k < w.length; k += 2) if (w[k]! <= x && x < w[k + 1]!) x = w[k + 1]!;
    return x;
  }

  // ---- heights and proposals ----------------------------------------------------------------------

  private proposer(r: number): number {
    return this.proposerOf(this.height, r, this.lastProposer);
  }

  /** Start the current height: fast path (round 0 proposal) when possible, else round changes. */
  private startHeight(now: number): void {
    this.proposed.clear();
    this.rs = null;
    this.epoch++;
    const p0 = this.proposer(0);
    const slot = this.parentTs + this.P;
    const T0 = Math.max(this.H[p0]!, slot);
    let eMin = Infinity;
    for (let i = 0; i < this.n; i++) {
      const h = this.H[i]!;
      if (h !== Infinity) eMin = Math.min(eMin, Math.max(h, slot) + this.timeout(0));
    }
    if (T0 !== Infinity && T0 < eMin && this.up(p0, T0)) {
      this.schedule({ T: Math.max(T0, now), r: 0, p: p0 });
    } else {
      this.initResolver(now);
      this.runResolver();
    }
  }

  private schedule(pr: Proposal): void {
    this.next = pr;
    this.ctx.scheduler.schedule(pr.T, PRIORITY.LEDGER, this.kPropose, ++this.nextGen);
  }

  private onPropose(gen: number): void {
    if (gen !== this.nextGen || this.next === null) return;
    const { T, r, p } = this.next;
    this.next = null;
    this.proposed.add(r);
    const n = this.n;
    // who may act on this proposal, and until when it must reach them
    const rs = this.rs;
    if (rs === null) {
      const slot = this.parentTs + this.P;
      for (let j = 0; j < n; j++) {
        const h = this.H[j]!;
        this.eligible[j] = h !== Infinity ? 1 : 0;
        this.deadline[j] = Math.max(h, slot) + this.timeout(0);
      }
    } else {
      for (let j = 0; j < n; j++) {
        // alive, in the height (or importing the parent: the proposal is buffered), round <= r
        const ok = rs.alive[j] === 1 && (rs.entered[j] === 1 || this.H[j]! !== Infinity) && rs.round[j]! <= r;
        this.eligible[j] = ok ? 1 : 0;
        this.deadline[j] = rs.round[j]! < r ? Infinity : rs.expiry[j]!;
      }
    }
    this.eligible[p] = 1;
    this.deadline[p] = Infinity;

    const txs = this.locked ?? this.build(T, p);
    let txBytes = 0;
    for (const e of txs) txBytes += e.s.size;
    const mb = this.params.messageBytes;
    const ppBytes = mb.header + txBytes + (r > 0 ? this.quorum * mb.roundChange : 0) + (r > 0 && this.locked !== null ? this.quorum * mb.prepare : 0);
    const ok = this.evalRound(T, p, txs.length, ppBytes);
    if (ok) {
      this.commit(T, r, p, txs, mb.header + txBytes);
      return;
    }
    // failed round: lock if prepared anywhere, then round changes
    for (let j = 0; j < n; j++) if (this.qP[j]! !== Infinity) this.locked = txs;
    if (this.rs === null) this.initResolver(T);
    const R = this.rs!;
    for (let j = 0; j < n; j++) if (j !== p && this.sP[j]! !== Infinity) R.heap.push(this.a[j]!, E_PARRIVE, j, 0, r);
    this.runResolver();
  }

  /** Pending txs the proposer p has at T, in submission order, at most maxTxPerBlock. */
  private build(T: number, p: number): PendingTx[] {
    const out: PendingTx[] = [];
    const max = this.params.maxTxPerBlock;
    for (const e of this.pool) {
      if (out.length >= max) break;
      if (e.tg + e.d[p]! <= T) out.push(e);
    }
    return out;
  }

  /**
   * The analytic round: PRE-PREPARE from p at T, PREPARE, COMMIT. Fills a (proposal processed),
   * sP (PREPARE sent), qP (prepare quorum), sC (COMMIT sent), cT (committed), Infinity where the
   * step does not happen. True when at least one validator commits.
   */
  private evalRound(T: number, p: number, nTx: number, ppBytes: number): boolean {
    const n = this.n;
    const q = this.quorum;
    const net = this.ctx.network;
    const mb = this.params.messageBytes;
    const v = this.params.validateTxs ? nTx * this.ctx.codec.verifyCostS : 0;
    const { a, sP, qP, sC, cT, mP, mC, H } = this;
    // PRE-PREPARE
    for (let j = 0; j < n; j++) {
      if (j === p) a[j] = T;
      else a[j] = Math.max(T + net.transferS(p, j, ppBytes), H[j]!);
    }
    // PREPARE senders
    for (let j = 0; j < n; j++) {
      const s = j === p ? T : a[j]! + v;
      const ok = this.eligible[j] === 1 && a[j]! < this.deadline[j]! && this.up(j, a[j]!) && this.upOver(j, T, s);
      sP[j] = ok ? s : Infinity;
    }
    let any = false;
    for (let i = 0; i < n; i++) {
      const s = sP[i]!;
      const row = i * n;
      if (s === Infinity) {
        for (let k = 0; k < n; k++) mP[row + k] = Infinity;
        continue;
      }
      for (let k = 0; k < n; k++) mP[row + k] = k === i ? s : s + net.transferS(i, k, mb.prepare);
    }
    for (let k = 0; k < n; k++) {
      qP[k] = sP[k] === Infinity ? Infinity : this.kth(mP, k, q);
      const s = qP[k] === Infinity ? Infinity : Math.max(qP[k]!, sP[k]!);
      sC[k] = s !== Infinity && this.upOver(k, T, s) ? s : Infinity;
    }
    for (let i = 0; i < n; i++) {
      const s = sC[i]!;
      const row = i * n;
      if (s === Infinity) {
        for (let k = 0; k < n; k++) mC[row + k] = Infinity;
        continue;
      }
      for (let k = 0; k < n; k++) mC[row + k] = k === i ? s : s + net.transferS(i, k, mb.commit);
    }
    for (let k = 0; k < n; k++) {
      let c = sP[k] === Infinity ? Infinity : this.kth(mC, k, q);
      if (c !== Infinity) c = Math.max(c, sP[k]!);
      if (c !== Infinity && !this.upOver(k, T, c)) c = Infinity;
      cT[k] = c;
      if (c !== Infinity) any = true;
    }
    return any;
  }

  /** k-th smallest of column `col` of the N×N matrix m (Infinity if fewer than k finite values). */
  private kth(m: Float64Array, col: number, k: number): number {
    const n = this.n;
    const s = this.scratch;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const x = m[i * n + col]!;
      if (x !== Infinity) s[c++] = x;
    }
    if (c < k) return Infinity;
    if (c > 24) return s.subarray(0, c).sort()[k - 1]!;
    // insertion sort of the first c values (N is small)
    for (let i = 1; i < c; i++) {
      const x = s[i]!;
      let j = i - 1;
      while (j >= 0 && s[j]! > x) {
        s[j + 1] = s[j]!;
        j--;
      }
      s[j + 1] = x;
    }
    return s[k - 1]!;
  }

  /** The round decided: build and store the block, let everyone learn it, settle, next height. */
  private commit(T: number, r: number, p: number, txs: PendingTx[], blockBytes: number): void {
    const n = this.n;
    const q = this.quorum;
    const { codec, network: net } = this.ctx;
    const { cT, mC } = this;
    // first committer (ties: lowest id)
    let c0 = -1;
    for (let j = 0; j < n; j++) if (cT[j]! !== Infinity && (c0 < 0 || cT[j]! < cT[c0]!)) c0 = j;

    const signed = txs.map((e) => e.s);
    const header: QbftHeader = {
      height: this.height,
      round: r,
      parentHash: this.parentHash,
      merkleRoot: signed.length === 0 ? ZERO_HASH : merkleRoot(signed.map((s) => Buffer.from(s.txid, 'hex'))).toString('hex'),
      timestamp: T,
      proposer: p,
      txCount: signed.length,
    };
    const hashBytes = sha256(encodeQbftHeader(header));
    const hash = hashBytes.toString('hex');
    // the seals c0 collected: the first q COMMITs to reach it (ties: lowest validator id)
    const order: number[] = [];
    for (let i = 0; i < n; i++) if (mC[i * n + c0]! !== Infinity) order.push(i);
    order.sort((x, y) => mC[x * n + c0]! - mC[y * n + c0]! || x - y);
    const sealers = order.slice(0, q);
    const seals = new Uint8Array(q * SIGNATURE_BYTES);
    for (let k = 0; k < q; k++) seals.set(codec.signBytes('node', sealers[k]!, hashBytes), k * SIGNATURE_BYTES);
    const sealBytes = seals.length;
    const block: QbftBlock = { header, hash, txs: signed, sealers, seals, committedAt: cT[c0]! };
    this.chain.push(block);

    // who has the block when: committers at their commit, the others import it from the fastest
    // committer (one block transfer each), down ones when they recover
    const learn = this.learn;
    for (let k = 0; k < this.nodes; k++) {
      if (k < n && cT[k]! !== Infinity) {
        learn[k] = cT[k]!;
        continue;
      }
      let best = -1;
      let bt = Infinity;
      for (let j = 0; j < n; j++) {
        if (cT[j]! === Infinity) continue;
        const t = cT[j]! + net.latencyS(j, k);
        if (t < bt) {
          bt = t;
          best = j;
        }
      }
      let t = cT[best]! + net.transferS(best, k, blockBytes + sealBytes);
      if (k < n && !this.up(k, t)) t = this.recoveryAfter(k, t);
      learn[k] = t;
    }
    for (let k = 0; k < n; k++) {
      this.H[k] = learn[k]!;
      if (learn[k]! !== Infinity) this.chains[k]!.push(hash);
    }
    // settle
    const tDec = cT[c0]!;
    for (const e of txs) {
      e.done = true;
      const at = this.observe(e.g, tDec);
      if (at === Infinity) this.unsettled++;
      else this.ctx.settle({ tx: e.s.tx, status: 'final', at, confirmations: 1 });
    }
    if (txs.length > 0) this.pool = this.pool.filter((e) => !e.done);
    else this.blocksEmpty++;
    this.locked = null;
    this.txIncluded += txs.length;
    this.roundsDone += r;
    this.storedBytes += blockBytes + sealBytes;
    this.blockSizes.push(blockBytes + sealBytes);

    this.height++;
    this.parentTs = T;
    this.parentHash = hash;
    this.lastProposer = p;
    this.startHeight(T);
  }

  /** When the client connected to node g sees the block decided at tDec final: when g has it; if g
   * is a validator that is down at tDec, the client fails over to the next live node (gatewayFailoverS
   * per node tried, counted from tDec) unless waiting for g's recovery is quicker. */
  private observe(g: number, tDec: number): number {
    const learn = this.learn;
    const fo = this.params.gatewayFailoverS;
    if (g >= this.n || fo === null || this.up(g, tDec)) return learn[g]!;
    let best = learn[g]!;
    for (let i = 1; i < this.nodes; i++) {
      const k = (g + i) % this.nodes;
      if (k >= this.n || this.up(k, tDec)) {
        best = Math.min(best, Math.max(learn[k]!, tDec) + i * fo);
        break;
      }
    }
    return best;
  }

  // ---- round changes (local event queue) ----------------------------------------------------------

  private initResolver(now: number): void {
    const n = this.n;
    const heap = new EventHeap();
    const rs: Resolver = {
      heap,
      alive: new Uint8Array(n),
      entered: new Uint8Array(n),
      round: new Int32Array(n).fill(-1),
      expiry: new Float64Array(n).fill(Infinity),
      gen: new Int32Array(n),
      rc: new Int32Array(n * n).fill(-1),
      epoch: this.epoch,
      wakeAt: Infinity,
    };
    let t0 = now;
    for (let i = 0; i < n; i++) if (this.H[i]! < t0) t0 = this.H[i]!;
    for (let i = 0; i < n; i++) {
      rs.alive[i] = this.up(i, t0) ? 1 : 0;
      if (this.H[i]! !== Infinity) heap.push(this.H[i]!, E_ENTER0, i);
      const w = this.win[i]!;
      for (let k = 0; k < w.length; k += 2) {
        if (w[k]! > t0) heap.push(w[k]!, E_CRASH, i);
        if (w[k + 1]! > t0 && w[k + 1]! !== Infinity) heap.push(w[k + 1]!, E_RECOVER, i);
      }
    }
    this.rs = rs;
  }

  /** Process round-change events in time order until a proposal is due (then schedule it) or the
   * queue is empty; events further than LOOKAHEAD_S ahead wait for a kernel wake-up. */
  private runResolver(): void {
    const rs = this.rs!;
    const now = this.ctx.scheduler.now;
    const heap = rs.heap;
    while (heap.size > 0) {
      const e = heap.peek()!;
      if (e.t > now + LOOKAHEAD_S) {
        if (rs.wakeAt !== e.t) {
          rs.wakeAt = e.t;
          this.ctx.scheduler.schedule(e.t, PRIORITY.LEDGER, this.kWake, rs.epoch);
        }
        return;
      }
      heap.pop();
      const pr = this.handle(rs, e);
      if (pr !== null) {
        this.schedule({ T: Math.max(pr.T, now), r: pr.r, p: pr.p });
        return;
      }
    }
  }

  /** j enters round r; its timer runs from `from` for timeout(r). */
  private enterRound(rs: Resolver, j: number, r: number, from: number): void {
    rs.round[j] = r;
    rs.expiry[j] = from + this.timeout(r);
    rs.gen[j]!++;
    rs.heap.push(rs.expiry[j]!, E_TIMER, j, rs.gen[j]!, r);
  }

  private broadcastRc(rs: Resolver, j: number, r: number, t: number): void {
    const n = this.n;
    const net = this.ctx.network;
    const bytes = this.params.messageBytes.roundChange;
    rs.rc[j * n + j] = r;
    for (let k = 0; k < n; k++) {
      if (k === j) continue;
      const at = t + net.transferS(j, k, bytes);
      rs.heap.push(at, E_RC, k, j, r);
    }
  }

  /** Height entry / restart at round 0 (with the round-0 timer after the block period). */
  private enter0(rs: Resolver, j: number, t: number): Proposal | null {
    const slot = this.parentTs + this.P;
    rs.entered[j] = 1;
    rs.rc.fill(-1, j * this.n, (j + 1) * this.n);
    this.enterRound(rs, j, 0, Math.max(t, slot));
    if (j === this.proposer(0) && !this.proposed.has(0)) rs.heap.push(Math.max(t, slot), E_PROPOSE, j, 0, 0);
    return null;
  }

  private handle(rs: Resolver, e: REvent): Proposal | null {
    const j = e.j;
    const t = e.t;
    switch (e.type) {
      case E_ENTER0:
        if (rs.alive[j] === 1 && rs.entered[j] === 0) return this.enter0(rs, j, t);
        return null;
      case E_CRASH:
        rs.alive[j] = 0;
        rs.entered[j] = 0;
        rs.round[j] = -1;
        rs.gen[j]!++;
        rs.expiry[j] = Infinity;
        rs.rc.fill(-1, j * this.n, (j + 1) * this.n);
        return null;
      case E_RECOVER:
        rs.alive[j] = 1;
        if (this.H[j]! <= t) return this.enter0(rs, j, t);
        return null;
      case E_PROPOSE:
        if (rs.alive[j] === 1 && rs.round[j] === e.r && !this.proposed.has(e.r)) return { T: t, r: e.r, p: j };
        return null;
      case E_PARRIVE:
        if (rs.alive[j] === 1 && rs.entered[j] === 1 && rs.round[j]! < e.r) this.enterRound(rs, j, e.r, t);
        return null;
      case E_TIMER: {
        if (rs.alive[j] !== 1 || rs.gen[j] !== e.s) return null;
        const r = rs.round[j]! + 1;
        this.enterRound(rs, j, r, t);
        this.broadcastRc(rs, j, r, t);
        return this.rules(rs, j, t);
      }
      case E_RC: {
        if (rs.alive[j] !== 1) return null;
        if (rs.entered[j] === 0) {
          // buffered until j has the parent block
          if (this.H[j]! !== Infinity && this.H[j]! > t) rs.heap.push(this.H[j]!, E_RC, j, e.s, e.r);
          return null;
        }
        const k = j * this.n + e.s;
        if (e.r > rs.rc[k]!) rs.rc[k] = e.r;
        return this.rules(rs, j, t);
      }
    }
    return null;
  }

  /** The f+1 rule, the quorum rule, and the proposer's proposal, at validator j after a change. */
  private rules(rs: Resolver, j: number, t: number): Proposal | null {
    const n = this.n;
    const row = j * n;
    // f+1 ROUND-CHANGEs for rounds above mine: move to the (f+1)-th highest of those rounds
    let higher = 0;
    for (let s = 0; s < n; s++) if (rs.rc[row + s]! > rs.round[j]!) higher++;
    if (higher >= this.f + 1) {
      const rounds: number[] = [];
      for (let s = 0; s < n; s++) if (rs.rc[row + s]! > rs.round[j]!) rounds.push(rs.rc[row + s]!);
      rounds.sort((x, y) => y - x);
      const target = rounds[this.f]!;
      this.enterRound(rs, j, target, t);
      this.broadcastRc(rs, j, target, t);
    }
    // quorum of ROUND-CHANGE(r) for r >= my round: move to the highest such r; propose if mine
    let best = -1;
    for (let s = 0; s < n; s++) {
      const r = rs.rc[row + s]!;
      if (r < rs.round[j]! || r <= best || r < 0) continue;
      let c = 0;
      for (let u = 0; u < n; u++) if (rs.rc[row + u] === r) c++;
      if (c >= this.quorum) best = r;
    }
    if (best < 0) return null;
    if (best > rs.round[j]!) this.enterRound(rs, j, best, t);
    if (best > 0 && j === this.proposer(best) && !this.proposed.has(best)) return { T: Math.max(t, this.parentTs + this.P), r: best, p: j };
    return null;
  }

  // ---- metrics and audit --------------------------------------------------------------------------

  extraMetrics(): Record<string, number> {
    const blocks = this.chain.length;
    const net = this.ctx.network;
    let current = 0;
    if (this.rs !== null) for (let i = 0; i < this.n; i++) if (this.rs.alive[i] === 1) current = Math.max(current, this.rs.round[i]!);
    const first = blocks > 0 ? this.chain[0]!.header.timestamp : 0;
    const last = blocks > 0 ? this.chain[blocks - 1]!.header.timestamp : 0;
    let pending = this.stuck.length;
    for (const e of this.pool) if (!e.done) pending++;
    const crashed = new Set(this.params.crashed.map((c) => c.validator)).size;
    return {
      validators: this.n,
      faultTolerance: this.f,
      quorum: this.quorum,
      blocks,
      emptyBlocks: this.blocksEmpty,
      rounds: this.roundsDone + current,
      meanTxPerBlock: blocks > 0 ? this.txIncluded / blocks : 0,
      meanBlockFill: blocks > 0 ? this.txIncluded / (blocks * this.params.maxTxPerBlock) : 0,
      meanBlockIntervalS: blocks > 1 ? (last - first) / (blocks - 1) : 0,
      bytesStoredPerNode: this.storedBytes,
      messages: net.stats.messages - this.msg0,
      bytesSent: net.stats.bytes - this.bytes0,
      crashedValidators: crashed,
      pendingTxs: pending + this.unsettled,
    };
  }

  /** Every committed block (BFT: no forks, all canonical); time = first commit, producer = proposer. */
  blockLog(): BlockLog {
    const rows: BlockRecord[] = this.chain.map((b, i) => ({
      height: b.header.height,
      time: b.committedAt,
      producer: b.header.proposer,
      txCount: b.txs.length,
      bytes: this.blockSizes[i] ?? 0,
      canonical: true,
    }));
    return { backend: 'qbft', unit: 'block', rows };
  }

  audit(): string[] {
    const out: string[] = [];
    const codec = this.ctx.codec;
    const n = this.n;
    const seen = new Map<string, number>();
    let prevHash = ZERO_HASH;
    let prevTs = 0;
    let prevProposer = n - 1;
    for (let k = 0; k < this.chain.length; k++) {
      const b = this.chain[k]!;
      const h = b.header;
      const name = `block ${k + 1}`;
      if (h.height !== k + 1) out.push(`${name}: height ${h.height} out of sequence`);
      if (h.parentHash !== prevHash) out.push(`${name}: parent hash does not match block ${k}`);
      const hashBytes = sha256(encodeQbftHeader(h));
      if (hashBytes.toString('hex') !== b.hash) out.push(`${name}: header hash mismatch`);
      if (k > 0 && h.timestamp < prevTs + this.P - 1e-9) out.push(`${name}: timestamp less than the block period after block ${k}`);
      if (h.proposer !== this.proposerOf(h.height, h.round, prevProposer)) out.push(`${name}: proposer ${h.proposer} is not the proposer of height ${h.height} round ${h.round}`);
      if (b.txs.length !== h.txCount) out.push(`${name}: ${b.txs.length} txs but the header says ${h.txCount}`);
      if (b.txs.length > this.params.maxTxPerBlock) out.push(`${name}: ${b.txs.length} txs exceed maxTxPerBlock ${this.params.maxTxPerBlock}`);
      const leaves: Buffer[] = [];
      for (const s of b.txs) {
        if (!codec.verify(s)) out.push(`tx ${s.tx.id} (${name}): bad signature`);
        const other = seen.get(s.txid);
        if (other !== undefined) out.push(`tx ${s.tx.id} (${name}): already in block ${other}`);
        else seen.set(s.txid, k + 1);
        leaves.push(Buffer.from(s.txid, 'hex'));
      }
      if (merkleRoot(leaves).toString('hex') !== h.merkleRoot) out.push(`${name}: merkle root mismatch`);
      // commit seals: over the stored block hash (a mismatching header is reported above)
      const signedHash = Buffer.from(b.hash, 'hex');
      const good = new Set<number>();
      if (b.seals.length !== b.sealers.length * SIGNATURE_BYTES) out.push(`${name}: ${b.seals.length} bytes of seals for ${b.sealers.length} sealers`);
      for (let k = 0; k < b.sealers.length; k++) {
        const v = b.sealers[k]!;
        const sig = b.seals.subarray(k * SIGNATURE_BYTES, (k + 1) * SIGNATURE_BYTES);
        if (Number.isInteger(v) && v >= 0 && v < n && !good.has(v) && codec.verifyBytes('node', v, signedHash, sig)) good.add(v);
      }
      if (good.size < this.quorum) out.push(`${name}: only ${good.size} valid commit seals from distinct validators (quorum ${this.quorum})`);
      prevHash = b.hash;
      prevTs = h.timestamp;
      prevProposer = h.proposer;
    }
    return out;
  }
}

export function createQbftLedger(ctx: LedgerContext, params: QbftParamsInput = {}): QbftLedger {
  return new QbftLedger(ctx, params);
}
