/**
 * `central`: the control group. A charge-point operator's central management system — today's
 * status quo, the CSMS / "central system" of OCPP 1.6 and 2.0.1 — modelled as ONE server with a
 * FIFO queue in front of one commit path, reached over the network, with optional outage windows.
 *
 * What is modelled
 *   - A request: the submitting agent (the EV, `tx.ev`; it signs the transaction with ctx.codec,
 *     which delays its first send by codec.signCostS) sends the signed transaction (SignedTx.size
 *     bytes) to its gateway node (ctx.network.gatewayS) and from there to the server node
 *     (ctx.network.transferS; nothing when the gateway is the server). The acknowledgement
 *     (ACK_BYTES) travels back the same way. The network is static (no jitter), so the round trip of
 *     an agent is a constant; it is computed analytically, no kernel event per hop.
 *   - The server: a single FIFO server with service rate μ = serviceRateTps. Service times are
 *     exponential (M/M/1 under Poisson submissions) or deterministic 1/μ (M/D/1), drawn from the
 *     stream ctx.rng('service'). The service time is the whole commit path (parse, signature check,
 *     one durable database commit): codec.verifyCostS is deemed part of 1/μ, not added to it.
 *     Committing = appending the signed transaction to the server's append-only, hash-chained log.
 *   - Settlement: final (confirmations 1) when the acknowledgement reaches the submitter; failed
 *     when the client has exhausted maxRetries retries.
 *   - Client retries: every attempt waits requestTimeoutS for an answer. No answer (server down, or
 *     an acknowledgement still on its way) → the attempt has timed out, the client waits
 *     retryIntervalS and resends the same signed transaction (same txid) — unless the
 *     acknowledgement arrives during that pause. A "queue full" rejection
 *     is an immediate negative answer: the client waits retryIntervalS and resends. After the
 *     maxRetries-th retry has also failed, the transaction fails with reason 'timeout' (or
 *     'rejected' when the last answer was a queue-full rejection).
 *   - Outages [fromS, toS): the server neither accepts nor serves. Requests arriving then are lost
 *     (no answer: the client times out). THE OUTAGE RULE: requests already queued when an outage
 *     starts are kept (a durable request queue in front of the database) and served after recovery
 *     in FIFO order; a service in progress is frozen and resumes where it stopped (preemptive
 *     resume; for exponential service this is the same in distribution as a restart). Their clients
 *     may time out meanwhile and resend: the server recognises a resent txid (it holds an index of
 *     queued and committed txids), never queues or logs it twice, and answers a resend of an
 *     already committed transaction with a fresh acknowledgement (an index look-up, no service
 *     time). The client takes the FIRST acknowledgement that reaches it, whichever attempt it
 *     answers; since the network is static, that is always the acknowledgement of the original,
 *     queued attempt. If the client has given up before it arrives, the transaction settles
 *     'failed' ('timeout') at the give-up instant although it IS in the log (counted as
 *     lateCommits: the ambiguous outcome of every timeout-based protocol). Either way there is
 *     exactly one settlement and at most one log entry per transaction.
 *   - Queue capacity: queueCapacity requests may WAIT (the one in service not counted; null =
 *     unbounded). A request that finds the waiting room full is rejected.
 *
 * Analytic shortcuts (per-tx cost): because the queue is FIFO and outages are known in advance,
 * the completion time of a request is fixed when it is admitted (Lindley's recursion
 * C_n = max(a_n, C_{n−1}) + S_n, with outage windows skipped), and so is the instant its
 * acknowledgement reaches the client. Kernel events per transaction: one per attempt that reaches
 * the server ("arrive") and one commit ("commit", which appends the log entry and reports the
 * settlement); the client's resends while its request is queued are accounted analytically (retry
 * counters and network messages) without events, and they cannot change the outcome (see above).
 * Network messages and bytes are counted when their delay is computed, which may be a little
 * before they are sent.
 *
 * Storage: an append-only log of signed transactions kept in flat byte buffers (body, signature,
 * txid, chain hash). Entry i's hash is SHA-256(hash_{i−1} ‖ txid_i) with hash_{−1} = 32 zero bytes;
 * the server's current head hash is kept apart (it is what an auditor would have been given).
 * audit() recomputes every signature (codec.verify) and every link of the chain and names the
 * altered entry: "entry 1234 (tx 987): bad signature", "... hash chain broken", "... duplicate of
 * entry 17", "log head hash does not match the server's published head".
 *
 * Assumptions: one server, no replication or fail-over (an outage stops everything); the network
 * loses nothing (losses appear only as outages); clients never give up before maxRetries and
 * resend the identical signed transaction; service times are independent of the request.
 *
 * Left out: database replication and backups, authentication/authorisation services (TLS client
 * certificates of the stations, OCPP Authorize / id tokens), the OCPP message detail
 * (StartTransaction / MeterValues / StopTransaction, TransactionEvent in 2.0.1, their individual
 * sizes and the WebSocket framing), load balancers and horizontal scaling, back-pressure on the
 * network, roaming (OCPI) hops between operators.
 *
 * Sources: Kleinrock, "Queueing Systems, Vol. 1: Theory", Wiley 1975 — M/M/1 sojourn
 * W = 1/(μ−λ) (§3.2) and the Pollaczek–Khinchine mean value formula for M/G/1 (§5.6), used by the
 * tests (test/ledger/central.test.ts); Lindley, "The theory of queues with a single server", Proc.
 * Cambridge Philos. Soc. 48, 1952 (the recursion); Open Charge Alliance, OCPP 1.6 (2015) and OCPP
 * 2.0.1 (2020) — the charge point ↔ central system (CSMS) architecture: every charging station
 * reports transactions to its operator's one central back end, which keeps the billing record;
 * OCPP 1.6 §4.x requires the charge point to queue transaction messages and retry them
 * (TransactionMessageAttempts / TransactionMessageRetryInterval), which the retry model follows.
 *
 * Defaults (CentralParamsSchema): μ = 2000 tx/s — one relational database commit path: a durable
 * commit (fsync of the write-ahead log, group commit amortising it) plus index updates of a
 * billing row costs a few hundred µs on a server SSD, i.e. a few thousand small transactions per
 * second per commit stream (order of magnitude of published single-node OLTP insert rates; we take
 * the conservative end). Exponential service (the worst case of the common assumptions: its
 * coefficient of variation is 1). Timeout 5 s, retry interval 10 s, 30 retries (~7.5 min of
 * trying: an OCPP charge point keeps transaction messages and retries them for minutes; the
 * TransactionMessageRetryInterval is typically tens of seconds). Unbounded queue. No outages.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';
import type { Ledger, LedgerContext, LedgerTx } from '../ledger.js';
import { PRIORITY } from '../../core/priorities.js';
import type { Rng } from '../../core/random.js';
import type { SignedTx } from '../tx.js';
import { growF64, growI32, growU8 } from '../../core/typed.js';

/** Size of an acknowledgement or rejection: txid (32) + log index (8) + commit time (8) + status and framing (16). */
export const ACK_BYTES = 64;

const OutageSchema = z
  .strictObject({
    /** start of the outage, simulated seconds */
    fromS: z.number().min(0),
    /** end of the outage (exclusive), simulated seconds; > fromS */
    toS: z.number(),
  })
  .refine((o) => o.toS > o.fromS, { message: 'toS must be > fromS', path: ['toS'] });

export const CentralParamsSchema = z.strictObject({
  /** service rate μ of the single commit path, transactions per second (default 2000: one relational
   * database commit stream, a few hundred µs per durable commit) */
  serviceRateTps: z.number().positive().default(2000),
  /** service-time distribution with mean 1/μ: 'exponential' (M/M/1) or 'deterministic' (M/D/1) */
  serviceTime: z.enum(['exponential', 'deterministic']).default('exponential'),
  /** ledger node hosting the server (0..network.nodes−1); requests go agent → gateway → server */
  serverNode: z.number().int().min(0).default(0),
  /** windows [fromS, toS) in simulated seconds during which the server neither accepts nor serves;
   * requests queued at the start of an outage wait and are served after it */
  outages: z.array(OutageSchema).default([]),
  /** how long a client waits for the answer to one attempt, seconds */
  requestTimeoutS: z.number().positive().default(5),
  /** pause between a failed attempt (timeout or rejection) and the resend, seconds */
  retryIntervalS: z.number().min(0).default(10),
  /** resends after the first attempt; when the last one fails too, the tx fails ('timeout') */
  maxRetries: z.number().int().min(0).default(30),
  /** requests that may wait in the queue (the one in service not counted); null = unbounded */
  queueCapacity: z.number().int().min(0).nullable().default(null),
});

/** Parsed parameters (defaults applied). */
export type CentralParams = z.output<typeof CentralParamsSchema>;
/** Parameters as written in a scenario (every field optional). */
export type CentralParamsInput = z.input<typeof CentralParamsSchema>;

/** One entry of the server's log, as views into the log's storage (valid until the next commit:
 * growing the storage moves it). Writing into `body`, `signature`, `txidBytes` or `hash` alters
 * the stored record (for audit tests). */
export interface CentralLogEntry {
  readonly index: number;
  readonly tx: LedgerTx;
  /** hex SHA-256 of the stored body as committed */
  readonly txid: string;
  readonly txidBytes: Uint8Array;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256(previous entry's hash ‖ txid) */
  readonly hash: Uint8Array;
  /** arrival at the server of the admitted attempt, and commit (service completion), simulated s */
  readonly arrivedAt: number;
  readonly committedAt: number;
}

const ZERO_HASH = new Uint8Array(32);

function growBuf(a: Buffer, n: number): Buffer {
  if (n <= a.length) return a;
  const b = Buffer.alloc(Math.max(n, a.length * 2));
  a.copy(b);
  return b;
}

export class CentralLedger implements Ledger {
  readonly backend = 'central';
  readonly params: CentralParams;

  private readonly ctx: LedgerContext;
  private readonly schedule: (time: number, priority: number, kind: number, a?: number, b?: number) => number;
  private readonly arriveKind: number;
  private readonly commitKind: number;
  private readonly mu: number;
  private readonly exponential: boolean;
  private readonly server: number;
  private readonly T: number;
  private readonly R: number;
  private readonly M: number;
  private readonly cap: number; // Infinity = unbounded
  private readonly rngService: Rng;

  // outages, merged and sorted
  private readonly outFrom: Float64Array;
  private readonly outTo: Float64Array;
  private arrPtr = 0; // first window not ended before the latest arrival (arrivals are monotone)
  private svcPtr = 0; // same for the server's work position (monotone)

  // per-tx state, indexed by the local index k (submission order to this backend)
  private count = 0;
  private signed: (SignedTx | undefined)[] = [];
  private sendT: Float64Array = new Float64Array(1024); // send time of the current attempt
  private ackT: Float64Array = new Float64Array(1024); // when the acknowledgement reaches the client (admitted)
  private arrT: Float64Array = new Float64Array(1024); // arrival of the admitted attempt at the server
  private waitT: Float64Array = new Float64Array(1024); // queueing wait of the admitted attempt
  private gw: Int32Array = new Int32Array(1024); // gateway node of the submitter
  private late: Uint8Array = new Uint8Array(1024); // 1: client gave up before the ack arrives

  // server: completion times of the admitted requests not yet completed at the latest arrival
  private compQ: Float64Array = new Float64Array(1024);
  private compHead = 0;
  private compTail = 0;
  private busyUntil = 0; // completion time of the last admitted request
  private workAdmitted = 0; // Σ service times admitted
  // FIFO of admitted local indices awaiting their commit event
  private fifo: Int32Array = new Int32Array(1024);
  private fifoHead = 0;
  private fifoTail = 0;

  // log storage
  private n = 0;
  private bodyBuf: Buffer = Buffer.alloc(1 << 16);
  private bodyOff: Float64Array = new Float64Array(1025); // entry i: [bodyOff[i], bodyOff[i+1])
  private sigBuf: Buffer = Buffer.alloc(1 << 16);
  private sigOff: Float64Array = new Float64Array(1025);
  private txidBuf: Buffer = Buffer.alloc(32 * 1024);
  private hashBuf: Buffer = Buffer.alloc(32 * 1024);
  private commitT: Float64Array = new Float64Array(1024);
  private entryArrT: Float64Array = new Float64Array(1024);
  private entryTx: LedgerTx[] = [];
  private head: Uint8Array = ZERO_HASH; // the server's published head hash
  private readonly chainScratch: Buffer = Buffer.alloc(64); // [previous hash ‖ txid] being hashed

  // metrics
  private served = 0;
  private retries = 0;
  private timeouts = 0;
  private rejected = 0;
  private dropped = 0;
  private duplicates = 0;
  private failed = 0;
  private lateCommits = 0;
  private maxQueue = 0;
  private sumWait = 0;
  private bytesStored = 0;
  private readonly msg0: number;
  private readonly bytes0: number;

  constructor(ctx: LedgerContext, params: CentralParamsInput = {}) {
    const p = (this.params = CentralParamsSchema.parse(params));
    this.ctx = ctx;
    const k = ctx.scheduler;
    this.schedule = k.schedule.bind(k);
    this.arriveKind = k.register('central/arrive', (a, b) => this.onArrive(a, b));
    this.commitKind = k.register('central/commit', (a) => this.onCommit(a));
    this.mu = p.serviceRateTps;
    this.exponential = p.serviceTime === 'exponential';
    if (p.serverNode >= ctx.network.n) throw new RangeError(`central: serverNode ${p.serverNode} is not a node of the network (N = ${ctx.network.n})`);
    this.server = p.serverNode;
    this.T = p.requestTimeoutS;
    this.R = p.retryIntervalS;
    this.M = p.maxRetries;
    this.cap = p.queueCapacity ?? Infinity;
    this.rngService = ctx.rng('service');
    // merge the outage windows
    const ws = p.outages.map((o) => [o.fromS, o.toS] as [number, number]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const merged: [number, number][] = [];
    for (const w of ws) {
      const last = merged[merged.length - 1];
      if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
      else merged.push([w[0], w[1]]);
    }
    this.outFrom = Float64Array.from(merged, (w) => w[0]);
    this.outTo = Float64Array.from(merged, (w) => w[1]);
    this.msg0 = ctx.network.stats.messages;
    this.bytes0 = ctx.network.stats.bytes;
  }

  // ---- client side --------------------------------------------------------------------------

  submit(tx: LedgerTx): void {
    const k = this.count++;
    if (k >= this.sendT.length) this.growTx(k + 1);
    const s = this.ctx.codec.sign(tx);
    this.signed[k] = s;
    this.gw[k] = this.ctx.network.gatewayOf(tx.ev);
    const send = this.ctx.scheduler.now + this.ctx.codec.signCostS;
    this.sendT[k] = send;
    this.schedule(send + this.upDelay(k), PRIORITY.LEDGER, this.arriveKind, k, 0);
  }

  /** agent → gateway → server (counts the messages) */
  private upDelay(k: number): number {
    const net = this.ctx.network;
    const size = this.signed[k]!.size;
    return net.gatewayS(size) + net.transferS(this.gw[k]!, this.server, size);
  }

  /** server → gateway → agent (counts the messages) */
  private downDelay(k: number): number {
    const net = this.ctx.network;
    return net.transferS(this.server, this.gw[k]!, ACK_BYTES) + net.gatewayS(ACK_BYTES);
  }

  /** Attempt `j` of tx k has failed; the client learns it at `tFail` (timeout or rejection). */
  private attemptFailed(k: number, j: number, tFail: number, reason: string): void {
    if (j >= this.M) {
      this.giveUp(k, tFail, reason);
      this.signed[k] = undefined; // never committed: nothing more to do for it
      return;
    }
    this.retries++;
    const send = tFail + this.R;
    this.sendT[k] = send;
    this.schedule(send + this.upDelay(k), PRIORITY.LEDGER, this.arriveKind, k, j + 1);
  }

  private giveUp(k: number, at: number, reason: string): void {
    const s = this.signed[k]!;
    this.failed++;
    // `at` may precede now only when requestTimeoutS is shorter than a one-way trip (degenerate)
    const now = this.ctx.scheduler.now;
    this.ctx.settle({ tx: s.tx, status: 'failed', at: at > now ? at : now, confirmations: 0, reason });
  }

  // ---- server side --------------------------------------------------------------------------

  private isDownNow(t: number): boolean {
    const to = this.outTo;
    let i = this.arrPtr;
    while (i < to.length && to[i]! <= t) i++;
    this.arrPtr = i;
    return i < to.length && this.outFrom[i]! <= t;
  }

  private isDownAt(t: number): boolean {
    for (let i = 0; i < this.outFrom.length; i++) if (this.outFrom[i]! <= t && t < this.outTo[i]!) return true;
    return false;
  }

  /** First instant >= t at which the server is up (t must be >= the previous call's result). */
  private skipOutage(t: number): number {
    const from = this.outFrom;
    const to = this.outTo;
    let i = this.svcPtr;
    while (i < to.length && to[i]! <= t) i++;
    while (i < to.length && from[i]! <= t) t = to[i++]!;
    this.svcPtr = i;
    return t;
  }

  /** Completion of `work` seconds of service started at the up-instant t, skipping outages. */
  private advance(t: number, work: number): number {
    const from = this.outFrom;
    const to = this.outTo;
    let i = this.svcPtr;
    for (;;) {
      const next = i < from.length ? from[i]! : Infinity;
      if (t + work <= next) {
        this.svcPtr = i;
        return t + work;
      }
      work -= next - t;
      t = to[i++]!;
    }
  }

  private onArrive(k: number, j: number): void {
    const now = this.ctx.scheduler.now;
    const send = this.sendT[k]!;
    if (this.isDownNow(now)) {
      this.dropped++;
      this.timeouts++;
      this.attemptFailed(k, j, send + this.T, 'timeout');
      return;
    }
    // requests in the system (waiting + in service) just before this arrival
    const cq = this.compQ;
    let h = this.compHead;
    while (h < this.compTail && cq[h]! <= now) h++;
    this.compHead = h;
    const inSystem = this.compTail - h;
    if (inSystem > this.cap) {
      this.rejected++;
      const answer = now + this.downDelay(k);
      const deadline = send + this.T;
      if (answer > deadline) {
        this.timeouts++;
        this.attemptFailed(k, j, deadline, 'timeout');
      } else {
        this.attemptFailed(k, j, answer, 'rejected');
      }
      return;
    }
    // admit: FIFO, completion time fixed now (Lindley's recursion with outages skipped)
    const S = this.exponential ? this.rngService.exp(1 / this.mu) : 1 / this.mu;
    const start = this.skipOutage(this.busyUntil > now ? this.busyUntil : now);
    const done = this.advance(start, S);
    this.busyUntil = done;
    this.workAdmitted += S;
    if (inSystem > this.maxQueue) this.maxQueue = inSystem; // waiting after admission = inSystem
    this.pushCompletion(done);
    this.arrT[k] = now;
    this.waitT[k] = start - now;
    const ack = done + this.downDelay(k);
    this.ackT[k] = ack;
    this.clientWhileQueued(k, j, send, done, ack);
    this.pushFifo(k);
    this.schedule(done, PRIORITY.LEDGER, this.commitKind, k);
  }

  /**
   * Attempt j of tx k (sent at `send`) was admitted; its ack reaches the client at `ack`. Account
   * for the resends the client makes meanwhile (each after a timeout) and settle a give-up.
   */
  private clientWhileQueued(k: number, j: number, send: number, done: number, ack: number): void {
    const T = this.T;
    const period = T + this.R;
    if (ack <= send + T) return; // the usual case: answered in time
    for (let m = 1; j + m <= this.M; m++) {
      // attempt j+m−1 times out at send + (m−1)·period + T unless the ack is there by then
      if (ack <= send + (m - 1) * period + T) return;
      this.timeouts++;
      // the client resends at send + m·period unless the ack arrived during the pause
      const resend = send + m * period;
      if (ack <= resend) return;
      this.retries++;
      const arrive = resend + this.upDelay(k);
      if (this.isDownAt(arrive)) {
        this.dropped++; // lost in an outage
        continue;
      }
      this.duplicates++; // recognised by its txid: not queued again
      if (done <= arrive) this.downDelay(k); // re-acknowledged from the txid index (after `ack`)
    }
    // the last attempt (maxRetries) — or attempt j itself when j = maxRetries
    const giveUpAt = send + (this.M - j) * period + T;
    if (ack > giveUpAt) {
      this.timeouts++;
      this.late[k] = 1;
      this.lateCommits++;
      this.giveUp(k, giveUpAt, 'timeout');
    }
  }

  private pushCompletion(t: number): void {
    if (this.compTail >= this.compQ.length) {
      // compact, then grow if still full
      const live = this.compTail - this.compHead;
      if (this.compHead > this.compQ.length >> 1) {
        this.compQ.copyWithin(0, this.compHead, this.compTail);
      } else {
        const b = new Float64Array(this.compQ.length * 2);
        b.set(this.compQ.subarray(this.compHead, this.compTail));
        this.compQ = b;
      }
      this.compHead = 0;
      this.compTail = live;
    }
    this.compQ[this.compTail++] = t;
  }

  private pushFifo(k: number): void {
    if (this.fifoTail >= this.fifo.length) {
      const live = this.fifoTail - this.fifoHead;
      if (this.fifoHead > this.fifo.length >> 1) {
        this.fifo.copyWithin(0, this.fifoHead, this.fifoTail);
      } else {
        const b = new Int32Array(this.fifo.length * 2);
        b.set(this.fifo.subarray(this.fifoHead, this.fifoTail));
        this.fifo = b;
      }
      this.fifoHead = 0;
      this.fifoTail = live;
    }
    this.fifo[this.fifoTail++] = k;
  }

  private onCommit(k: number): void {
    const head = this.fifo[this.fifoHead++]!;
    if (head !== k) throw new Error(`central: commit out of FIFO order (tx index ${k}, expected ${head})`);
    const s = this.signed[k]!;
    this.signed[k] = undefined;
    this.served++;
    this.sumWait += this.waitT[k]!;
    this.append(s, this.arrT[k]!, this.ctx.scheduler.now);
    if (!this.late[k]) this.ctx.settle({ tx: s.tx, status: 'final', at: this.ackT[k]!, confirmations: 1 });
  }

  // ---- the log --------------------------------------------------------------------------------

  private append(s: SignedTx, arrivedAt: number, committedAt: number): void {
    const i = this.n++;
    if (i + 1 >= this.bodyOff.length) {
      this.bodyOff = growF64(this.bodyOff, i + 2);
      this.sigOff = growF64(this.sigOff, i + 2);
      this.commitT = growF64(this.commitT, i + 1);
      this.entryArrT = growF64(this.entryArrT, i + 1);
    }
    const b0 = this.bodyOff[i]!;
    const b1 = b0 + s.body.length;
    this.bodyBuf = growBuf(this.bodyBuf, b1);
    this.bodyBuf.set(s.body, b0);
    this.bodyOff[i + 1] = b1;
    const g0 = this.sigOff[i]!;
    const g1 = g0 + s.signature.length;
    this.sigBuf = growBuf(this.sigBuf, g1);
    this.sigBuf.set(s.signature, g0);
    this.sigOff[i + 1] = g1;
    this.txidBuf = growBuf(this.txidBuf, 32 * (i + 1));
    this.hashBuf = growBuf(this.hashBuf, 32 * (i + 1));
    // chain: scratch = previous hash ‖ txid; one-shot SHA-256 (no hasher object per entry)
    const scratch = this.chainScratch;
    scratch.write(s.txid, 32, 32, 'hex');
    const h = hash('sha256', scratch, 'buffer');
    this.txidBuf.set(scratch.subarray(32, 64), 32 * i);
    this.hashBuf.set(h, 32 * i);
    scratch.set(h, 0);
    this.head = h;
    this.commitT[i] = committedAt;
    this.entryArrT[i] = arrivedAt;
    this.entryTx[i] = s.tx;
    this.bytesStored += s.size + 32;
  }

  /** Number of log entries. */
  get logLength(): number {
    return this.n;
  }

  /** Entry i of the log (views into the storage; see CentralLogEntry). */
  entry(i: number): CentralLogEntry {
    if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new RangeError(`central: no log entry ${i} (log length ${this.n})`);
    const txidBytes = this.txidBuf.subarray(32 * i, 32 * (i + 1));
    return {
      index: i,
      tx: this.entryTx[i]!,
      txid: txidBytes.toString('hex'),
      txidBytes,
      body: this.bodyBuf.subarray(this.bodyOff[i]!, this.bodyOff[i + 1]!),
      signature: this.sigBuf.subarray(this.sigOff[i]!, this.sigOff[i + 1]!),
      hash: this.hashBuf.subarray(32 * i, 32 * (i + 1)),
      arrivedAt: this.entryArrT[i]!,
      committedAt: this.commitT[i]!,
    };
  }

  /** The whole log (O(n) objects: for tests and inspection). */
  get entries(): CentralLogEntry[] {
    const out: CentralLogEntry[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.entry(i);
    return out;
  }

  /** The server's current head hash (hash of the last entry; 32 zero bytes when empty). */
  get headHash(): string {
    return Buffer.from(this.head).toString('hex');
  }

  audit(): string[] {
    const problems: string[] = [];
    const codec = this.ctx.codec;
    const scratch = Buffer.alloc(64);
    const txids = this.txidBuf;
    const hashes = this.hashBuf;
    // duplicate txids: index by a 48-bit prefix, confirm on the full 32 bytes (prefix collisions
    // between different txids go to a second index by the full hex txid)
    const byPrefix = new Map<number, number>();
    const byHex = new Map<string, number>();
    for (let i = 0; i < this.n; i++) {
      const tx = this.entryTx[i]!;
      const o = 32 * i;
      const txid = txids.toString('hex', o, o + 32);
      const body = this.bodyBuf.subarray(this.bodyOff[i]!, this.bodyOff[i + 1]!);
      const signature = this.sigBuf.subarray(this.sigOff[i]!, this.sigOff[i + 1]!);
      if (!codec.verify({ tx, body, signature, txid, size: body.length + signature.length + 32 })) {
        problems.push(`entry ${i} (tx ${tx.id}): bad signature`);
      }
      if (i === 0) scratch.fill(0, 0, 32);
      else hashes.copy(scratch, 0, o - 32, o);
      txids.copy(scratch, 32, o, o + 32);
      if (hash('sha256', scratch, 'buffer').compare(hashes, o, o + 32) !== 0) {
        problems.push(`entry ${i} (tx ${tx.id}): hash chain broken`);
      }
      const key = txids.readUIntLE(o, 6);
      const j = byPrefix.get(key);
      if (j === undefined) byPrefix.set(key, i);
      else if (txids.compare(txids, 32 * j, 32 * j + 32, o, o + 32) === 0) problems.push(`entry ${i} (tx ${tx.id}): duplicate of entry ${j}`);
      else {
        const k = byHex.get(txid);
        if (k !== undefined) problems.push(`entry ${i} (tx ${tx.id}): duplicate of entry ${k}`);
        else byHex.set(txid, i);
      }
    }
    const last = this.n === 0 ? ZERO_HASH : hashes.subarray(32 * (this.n - 1), 32 * this.n);
    if (Buffer.compare(last, this.head) !== 0) problems.push(`log head (entry ${this.n - 1}): hash does not match the server's published head`);
    return problems;
  }

  // ---- metrics --------------------------------------------------------------------------------

  /**
   * served: log entries committed; queued: admitted, not yet committed; retries: resends (after a
   * timeout or a rejection); timeouts: attempts that got no answer within requestTimeoutS
   * (including the last one of a give-up); rejected: queue-full rejections; dropped: requests lost
   * in an outage; duplicates: resends that found their tx already held by the server; failed:
   * failed settlements; lateCommits: failed, yet committed after the client gave up;
   * maxQueueLength: most requests waiting (excluding the one in service); meanQueueWaitS: mean
   * wait before service of the committed requests; utilization: busy time / elapsed simulated
   * time; bytesStored(PerNode): Σ (signed tx size + 32-byte chain hash), one copy; messages,
   * bytesSent: this backend's network traffic; outageSeconds: outage time elapsed so far.
   */
  extraMetrics(): Record<string, number> {
    const now = this.ctx.scheduler.now;
    // work still to do at `now` = up-time between now and busyUntil (the server is work-conserving)
    const remaining = this.busyUntil > now ? this.upTime(now, this.busyUntil) : 0;
    const busy = this.workAdmitted - remaining;
    const stats = this.ctx.network.stats;
    return {
      served: this.served,
      queued: this.fifoTail - this.fifoHead,
      retries: this.retries,
      timeouts: this.timeouts,
      rejected: this.rejected,
      dropped: this.dropped,
      duplicates: this.duplicates,
      failed: this.failed,
      lateCommits: this.lateCommits,
      maxQueueLength: this.maxQueue,
      meanQueueWaitS: this.served > 0 ? this.sumWait / this.served : 0,
      utilization: now > 0 ? busy / now : 0,
      logEntries: this.n,
      bytesStored: this.bytesStored,
      bytesStoredPerNode: this.bytesStored,
      messages: stats.messages - this.msg0,
      bytesSent: stats.bytes - this.bytes0,
      outageSeconds: this.upTimeComplement(0, now),
    };
  }

  /** seconds of outage within [a, b] */
  private upTimeComplement(a: number, b: number): number {
    let s = 0;
    for (let i = 0; i < this.outFrom.length; i++) {
      const lo = Math.max(a, this.outFrom[i]!);
      const hi = Math.min(b, this.outTo[i]!);
      if (hi > lo) s += hi - lo;
    }
    return s;
  }

  private upTime(a: number, b: number): number {
    return b - a - this.upTimeComplement(a, b);
  }

  private growTx(n: number): void {
    this.sendT = growF64(this.sendT, n);
    this.ackT = growF64(this.ackT, n);
    this.arrT = growF64(this.arrT, n);
    this.waitT = growF64(this.waitT, n);
    this.gw = growI32(this.gw, n);
    this.late = growU8(this.late, n);
  }
}

/** The registry's factory: a central ledger with the given (parsed or scenario-level) parameters. */
export function createCentralLedger(ctx: LedgerContext, params: CentralParamsInput = {}): CentralLedger {
  return new CentralLedger(ctx, params);
}
