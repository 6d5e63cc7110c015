/**
 * The ledger contract. Every charge record and every payment of the simulation goes through a
 * `Ledger`: the simulation submits a transaction, and the backend reports its settlement (final at
 * time t, or failed with a reason) back as a kernel event through `LedgerContext.settle`.
 * Backends live in a typed registry (no class-name strings, no reflection).
 *
 * This file ships the contract, the metrics every backend reports (computed here, identically for
 * all backends, from submit and settlement times) and the `none` backend, which accepts every
 * transaction and settles it at the instant it was submitted: the ideal ledger, the zero point of
 * any comparison.
 */
import type { EventHandle, Handler, Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import { growF64, growU8 } from '../core/typed.js';
import { OPTIONAL_TX_KINDS, signedTxBytes } from './tx.js';
import type { Rng, Streams } from '../core/random.js';
import type { Network } from './network.js';
import type { TxCodec } from './tx.js';

import { TX_KINDS, type TxKind } from './tx.js';
/** transaction kinds: registered in ./tx.ts (TX_KIND_DEFS), with their encoded sizes */
export { TX_KINDS, type TxKind };

export interface LedgerTx {
  /** dense integer id, in submission order */
  readonly id: number;
  readonly kind: TxKind;
  readonly sessionId: number;
  /** payer / reporter (EV id for records and payments) and payee (station id) */
  readonly ev: number;
  readonly station: number;
  /** energy covered by the record (kWh); 0 for session-start */
  readonly energyKWh: number;
  /** amount paid (currency units of the tariff); 0 except for payments */
  readonly amount: number;
  /** charge records: mean power over the record's interval (kW) and state of charge at its end */
  readonly powerKW: number;
  readonly soc: number;
  /** simulated submission time (s) */
  readonly submittedAt: number;
  /** streaming payment backends only: the session's last payment (see Ledger.streaming) */
  readonly closing?: boolean;
  /** kinds with their own layout (reservation, station-status): their numeric fields, in the
   * order of the layout (src/ledger/tx.ts) */
  readonly payload?: readonly number[];
}

export type SettlementStatus = 'final' | 'failed';

/** One block (or milestone) of a chain backend. */
export interface BlockRecord {
  /** height (pow, qbft) or milestone index (tangle) */
  readonly height: number;
  /** simulated time it was found / committed / issued (s) */
  readonly time: number;
  /** miner, proposer or coordinator node (-1 when none) */
  readonly producer: number;
  /** transactions it carries (tangle: vertices it newly confirmed) */
  readonly txCount: number;
  /** encoded size (bytes) */
  readonly bytes: number;
  /** on the final main chain (false: stale / orphaned) */
  readonly canonical: boolean;
}

export interface BlockLog {
  /** the backend that produced the blocks (a channel backend's chain names its chain here) */
  readonly backend: string;
  readonly unit: 'block' | 'milestone';
  /** in production order */
  readonly rows: readonly BlockRecord[];
}

export interface Settlement {
  readonly tx: LedgerTx;
  readonly status: SettlementStatus;
  readonly at: number;
  readonly confirmations: number;
  readonly reason?: string;
  /** encoded size of the transaction as this backend carried it (bytes): a Tangle vertex, a
   * billing tx with its meter readings, a channel state... Omitted: the kind's signed size. */
  readonly bytes?: number;
  /** fee paid for this transaction, in the tariff's currency units (omitted: 0) */
  readonly fee?: number;
}

/**
 * What a backend sees of the kernel: the clock (read-only), scheduling and cancelling events of
 * kinds it registered. It cannot run or stop the kernel nor set the clock. Same semantics as the
 * kernel's methods of the same names (ordering by (time, priority, sequence)).
 */
export interface Scheduler {
  /** current simulated time (s), read-only */
  readonly now: number;
  /** schedule an event of a registered kind at absolute time `time` (>= now) */
  schedule(time: number, priority: number, kind: number, a?: number, b?: number): EventHandle;
  /** cancel a pending event; false if it already ran or was cancelled */
  cancel(handle: EventHandle): boolean;
  /** register a handler for an event kind; returns the kind id to schedule with */
  register(name: string, handler: Handler): number;
}

/**
 * The narrow scheduler of a kernel, built once per port. `wrap` (optional) wraps every registered
 * handler (the port uses it to time the backend's events for timing.json). The kernel is held in a
 * private field: the object has no run/stop method and `now` has no setter (assigning throws in
 * strict mode); it is frozen.
 */
export function schedulerOf(kernel: Kernel, wrap?: (h: Handler) => Handler): Scheduler {
  return Object.freeze(new KernelScheduler(kernel, wrap));
}

class KernelScheduler implements Scheduler {
  readonly #k: Kernel;
  readonly #wrap: ((h: Handler) => Handler) | undefined;
  constructor(k: Kernel, wrap: ((h: Handler) => Handler) | undefined) {
    this.#k = k;
    this.#wrap = wrap;
  }
  get now(): number {
    return this.#k.now;
  }
  schedule(time: number, priority: number, kind: number, a = 0, b = 0): EventHandle {
    return this.#k.schedule(time, priority, kind, a, b);
  }
  cancel(handle: EventHandle): boolean {
    return this.#k.cancel(handle);
  }
  register(name: string, handler: Handler): number {
    return this.#k.register(name, this.#wrap ? this.#wrap(handler) : handler);
  }
}

/** What a backend is given: the clock, its own random streams, the network, the codec, and where
 * to report settlements. */
export interface LedgerContext {
  readonly scheduler: Scheduler;
  /** a named random stream of this backend instance (`ledger/<instance>/<name>`) */
  rng(name: string): Rng;
  readonly network: Network;
  readonly codec: TxCodec;
  /** report a settlement; the simulation turns it into a kernel event at `s.at` (priority LEDGER) */
  settle(s: Settlement): void;
}

export interface Ledger {
  readonly backend: string;
  /** accept a transaction at the current simulated time */
  submit(tx: LedgerTx): void;
  /** backend-specific, deterministic figures beyond the common ones (blocks, forks, ...) */
  extraMetrics(): Record<string, number>;
  /** integrity audit: a list of problems, empty when everything checks out */
  audit(): string[];
  /** optional end-of-run hook, called at the horizon */
  finish?(): void;
  /** optional: the blocks (or milestones) this backend produced, for blocks.csv. Channel backends
   * return their underlying chain's. */
  blockLog?(): BlockLog | undefined;
  /** optional: the encoded size of a transaction of this kind as this backend carries it, for
   * transactions it has not settled (and so not reported a size for); default: the signed size */
  defaultTxBytes?(kind: TxKind): number;
  /** a payment-channel backend that wants one payment per charge record (amount = that minute's
   * cost) plus a closing payment (amount 0, closing = true) at the end of each session */
  readonly streaming?: boolean;
}

/** The `none` ledger: accepts everything and settles at the submission instant, 0 confirmations. */
export class NoneLedger implements Ledger {
  readonly backend = 'none';
  constructor(private readonly ctx: LedgerContext) {}
  submit(tx: LedgerTx): void {
    this.ctx.settle({ tx, status: 'final', at: this.ctx.scheduler.now, confirmations: 0 });
  }
  extraMetrics(): Record<string, number> {
    return {};
  }
  audit(): string[] {
    return [];
  }
}

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LedgerSummary {
  backend: string;
  /** which records this backend carries: records, payments, or both */
  role: string;
  submitted: number;
  confirmed: number;
  failed: number;
  pending: number;
  successRatePct: number;
  /** Hyperledger Caliper's definition: (successes + failures) / (last finish − first submit) */
  throughputTps: number;
  /** committed valid transactions per simulated second of the run */
  committedTps: number;
  latencySeconds: LatencyStats;
  /** submitted per kind, in TX_KINDS order; an optional kind (reservation, station-status) only
   * once submitted */
  byKind: Record<TxKind, number>;
  extra: Record<string, number>;
}

/** Nearest-rank percentile of a sorted array (0 for an empty one). */
export function percentile(sorted: Float64Array | number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

/** Options of a port: the backend factory and what its context is built from. */
export interface PortOptions {
  role: string;
  instance: string;
  streams: Streams;
  network: Network;
  codec: TxCodec;
  create: (ctx: LedgerContext) => Ledger;
  onSettled: (s: Settlement) => void;
}

/** index of each kind in TX_KINDS (the port's compact kind code) */
const KIND_INDEX = new Map<TxKind, number>(TX_KINDS.map((k, i) => [k, i]));

/** One row of ledger.csv (a reused object: read it inside the callback). */
export interface LedgerRow {
  id: number;
  kind: TxKind;
  sessionId: number;
  ev: number;
  station: number;
  energyKWh: number;
  amount: number;
  /** currency units; 0 when the backend charges none */
  fee: number;
  submittedAt: number;
  /** settlement time (final or failed, see status); NaN while pending */
  settledAt: number;
  status: 'pending' | 'final' | 'failed';
  /** failure reason ('' unless failed) */
  reason: string;
  /** encoded size as carried by the backend */
  bytes: number;
}

/**
 * Wraps a backend: numbers transactions, records submit/settle times in typed arrays, schedules
 * settlements as kernel events, and computes the common metrics identically for every backend.
 */
export class LedgerPort {
  readonly ledger: Ledger;
  readonly role: string;
  private nextId = 0;
  private submitT: Float64Array = new Float64Array(1024);
  private settleT: Float64Array = new Float64Array(1024);
  private status: Uint8Array = new Uint8Array(1024); // 0 pending, 1 final, 2 failed
  private kindOf: Uint8Array = new Uint8Array(1024);
  // per-tx fields for ledger.csv (struct of arrays)
  private sess: Float64Array = new Float64Array(1024);
  private evOf: Float64Array = new Float64Array(1024);
  private stationOf: Float64Array = new Float64Array(1024);
  private energy: Float64Array = new Float64Array(1024);
  private amount: Float64Array = new Float64Array(1024);
  private fee: Float64Array = new Float64Array(1024);
  private bytes: Float64Array = new Float64Array(1024).fill(NaN);
  /** index + 1 into `reasons` (0: none) */
  private reasonOf: Float64Array = new Float64Array(1024);
  private readonly reasons: string[] = [];
  private readonly reasonIndex = new Map<string, number>();
  private readonly byKind = Object.fromEntries(TX_KINDS.map((k) => [k, 0])) as Record<TxKind, number>;
  private confirmed = 0;
  private failed = 0;
  private readonly settleKind: number;
  private inFlight: (Settlement | undefined)[] = [];
  private readonly onSettled: (s: Settlement) => void;

  constructor(
    private readonly kernel: Kernel,
    opts: PortOptions,
  ) {
    this.role = opts.role;
    this.onSettled = opts.onSettled;
    this.settleKind = kernel.register(`ledger-settle/${opts.instance}`, (id) => this.deliver(id));
    // The backend sees a narrow scheduler whose registered handlers are timed (wall clock,
    // reported in timing.json only, never in results).
    const timed = (fn: Handler): Handler => (a, b) => {
      const t = performance.now(); // wall-clock ok: compute-cost measurement for timing.json
      try {
        fn(a, b);
      } finally {
        this.wallMs += performance.now() - t; // wall-clock ok
      }
    };
    const ctx: LedgerContext = {
      scheduler: schedulerOf(kernel, timed),
      rng: (name) => opts.streams.stream(`ledger/${opts.instance}/${name}`),
      network: opts.network,
      codec: opts.codec,
      settle: (s) => {
        const id = s.tx.id;
        if (this.status[id] !== 0 || this.inFlight[id]) throw new Error(`ledger ${opts.instance}: tx ${id} settled twice`);
        if (!(s.at >= kernel.now)) throw new Error(`ledger ${opts.instance}: tx ${id} settled in the past (${s.at} < ${kernel.now})`);
        this.inFlight[id] = s;
        kernel.schedule(s.at, PRIORITY.LEDGER, this.settleKind, id);
      },
    };
    this.ledger = opts.create(ctx);
  }

  submit(kind: TxKind, sessionId: number, ev: number, station: number, energyKWh: number, amount: number, powerKW = 0, soc = NaN, closing = false): LedgerTx {
    const id = this.nextId++;
    const tx: LedgerTx = closing
      ? { id, kind, sessionId, ev, station, energyKWh, amount, powerKW, soc, submittedAt: this.kernel.now, closing: true }
      : { id, kind, sessionId, ev, station, energyKWh, amount, powerKW, soc, submittedAt: this.kernel.now };
    return this.enter(tx);
  }

  /** Submit a transaction of a kind with its own layout: ids, and its kind-specific fields
   * (`payload`, see src/ledger/tx.ts); energy, amount and power are 0 in ledger.csv. */
  submitPayload(kind: TxKind, sessionId: number, ev: number, station: number, payload: readonly number[]): LedgerTx {
    const id = this.nextId++;
    return this.enter({ id, kind, sessionId, ev, station, energyKWh: 0, amount: 0, powerKW: 0, soc: NaN, submittedAt: this.kernel.now, payload });
  }

  /** Record a new transaction in the port's columns and hand it to the backend. */
  private enter(tx: LedgerTx): LedgerTx {
    const id = tx.id;
    if (id >= this.submitT.length) this.grow();
    this.submitT[id] = this.kernel.now;
    const ki = KIND_INDEX.get(tx.kind);
    if (ki === undefined) throw new RangeError(`ledger ${this.role}: unknown tx kind ${String(tx.kind)}`);
    this.kindOf[id] = ki;
    this.sess[id] = tx.sessionId;
    this.evOf[id] = tx.ev;
    this.stationOf[id] = tx.station;
    this.energy[id] = tx.energyKWh;
    this.amount[id] = tx.amount;
    this.byKind[tx.kind]++;
    const t = performance.now(); // wall-clock ok: compute-cost measurement for timing.json
    this.ledger.submit(tx);
    this.wallMs += performance.now() - t; // wall-clock ok
    return tx;
  }

  /** Wall-clock milliseconds spent in this backend (submit and its own events): timing.json only. */
  wallMs = 0;

  private deliver(id: number): void {
    const s = this.inFlight[id]!;
    this.inFlight[id] = undefined;
    this.settleT[id] = s.at;
    if (s.bytes !== undefined) this.bytes[id] = s.bytes;
    if (s.fee !== undefined) this.fee[id] = s.fee;
    if (s.status === 'failed' && s.reason !== undefined) {
      let r = this.reasonIndex.get(s.reason);
      if (r === undefined) {
        r = this.reasons.push(s.reason);
        this.reasonIndex.set(s.reason, r);
      }
      this.reasonOf[id] = r;
    }
    if (s.status === 'final') {
      this.status[id] = 1;
      this.confirmed++;
    } else {
      this.status[id] = 2;
      this.failed++;
    }
    this.onSettled(s);
  }

  private grow(): void {
    const n = this.submitT.length + 1;
    this.submitT = growF64(this.submitT, n);
    this.settleT = growF64(this.settleT, n);
    this.status = growU8(this.status, n);
    this.kindOf = growU8(this.kindOf, n);
    this.sess = growF64(this.sess, n);
    this.evOf = growF64(this.evOf, n);
    this.stationOf = growF64(this.stationOf, n);
    this.energy = growF64(this.energy, n);
    this.amount = growF64(this.amount, n);
    this.fee = growF64(this.fee, n);
    const old = this.bytes.length;
    this.bytes = growF64(this.bytes, n);
    this.bytes.fill(NaN, old);
    this.reasonOf = growF64(this.reasonOf, n);
  }

  get submitted(): number {
    return this.nextId;
  }

  /** Per-transaction rows for ledger.csv, in id order (`row` is reused between calls). */
  forEachTx(fn: (row: Readonly<LedgerRow>) => void): void {
    const row: LedgerRow = { id: 0, kind: 'payment', sessionId: 0, ev: 0, station: 0, energyKWh: 0, amount: 0, fee: 0, submittedAt: 0, settledAt: NaN, status: 'pending', reason: '', bytes: 0 };
    for (let i = 0; i < this.nextId; i++) {
      const st = this.status[i]!;
      const kind = TX_KINDS[this.kindOf[i]!]!;
      const b = this.bytes[i]!;
      const r = this.reasonOf[i]!;
      row.id = i;
      row.kind = kind;
      row.sessionId = this.sess[i]!;
      row.ev = this.evOf[i]!;
      row.station = this.stationOf[i]!;
      row.energyKWh = this.energy[i]!;
      row.amount = this.amount[i]!;
      row.fee = this.fee[i]!;
      row.submittedAt = this.submitT[i]!;
      row.settledAt = st === 0 ? NaN : this.settleT[i]!;
      row.status = st === 0 ? 'pending' : st === 1 ? 'final' : 'failed';
      row.reason = r > 0 ? (this.reasons[r - 1] ?? '') : '';
      row.bytes = Number.isNaN(b) ? (this.ledger.defaultTxBytes?.(kind) ?? signedTxBytes(kind)) : b;
      fn(row);
    }
  }

  summary(simulatedSeconds: number): LedgerSummary {
    const n = this.nextId;
    const lat = new Float64Array(this.confirmed);
    let k = 0;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      if (this.submitT[i]! < first) first = this.submitT[i]!;
      if (this.status[i] !== 0 && this.settleT[i]! > last) last = this.settleT[i]!;
      if (this.status[i] === 1) lat[k++] = this.settleT[i]! - this.submitT[i]!;
    }
    lat.sort();
    const span = last - first;
    const done = this.confirmed + this.failed;
    return {
      backend: this.ledger.backend,
      role: this.role,
      submitted: n,
      confirmed: this.confirmed,
      failed: this.failed,
      pending: n - done,
      successRatePct: n > 0 ? (100 * this.confirmed) / n : 100,
      // With an instant ledger every settlement can fall at one instant; then the rate is
      // undefined and reported as 0 rather than Infinity.
      throughputTps: span > 0 ? done / span : 0,
      committedTps: simulatedSeconds > 0 ? this.confirmed / simulatedSeconds : 0,
      latencySeconds: {
        p50: percentile(lat, 50),
        p95: percentile(lat, 95),
        p99: percentile(lat, 99),
        max: lat.length ? lat[lat.length - 1]! : 0,
      },
      // optional kinds (reservation, station-status) only once submitted
      byKind: Object.fromEntries(Object.entries(this.byKind).filter(([k, v]) => v > 0 || !OPTIONAL_TX_KINDS.has(k as TxKind))) as Record<TxKind, number>,
      extra: this.ledger.extraMetrics(),
    };
  }
}

/**
 * A context for a ledger that another backend runs inside itself (the chain under a payment-channel
 * backend): same scheduler and codec; the same network through a scoped view (its own message
 * counters, so the inner ledger's `messages` are its own; the shared totals still count them); its
 * own random streams (`<name>/...`) and its own settlement callback, so the outer backend sees the
 * inner settlements (channel open/close final) and decides what to report to the city.
 */
export function subContext(ctx: LedgerContext, name: string, settle: (s: Settlement) => void): LedgerContext {
  return { scheduler: ctx.scheduler, rng: (n) => ctx.rng(`${name}/${n}`), network: ctx.network.scoped(), codec: ctx.codec, settle };
}
