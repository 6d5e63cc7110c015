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
import type { Kernel } from '../sim/kernel.js';
import { PRIORITY } from '../sim/priorities.js';
import type { Streams } from '../sim/random.js';

export type TxKind = 'session-start' | 'charge' | 'session-end' | 'payment';
export const TX_KINDS: readonly TxKind[] = ['session-start', 'charge', 'session-end', 'payment'];

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
}

export type SettlementStatus = 'final' | 'failed';

export interface Settlement {
  readonly tx: LedgerTx;
  readonly status: SettlementStatus;
  readonly at: number;
  readonly confirmations: number;
  readonly reason?: string;
}

/** What a backend is given: the clock, its own random stream(s), and where to report settlements. */
export interface LedgerContext {
  readonly kernel: Kernel;
  readonly streams: Streams;
  /** report a settlement; the simulation turns it into a kernel event at `s.at` (priority LEDGER) */
  settle(s: Settlement): void;
}

export interface Ledger {
  readonly backend: string;
  /** accept a transaction at the current simulated time */
  submit(tx: LedgerTx): void;
  /** backend-specific figures beyond the common ones (blocks, forks, ...) */
  extraMetrics(): Record<string, number>;
  /** integrity audit: a list of problems, empty when everything checks out */
  audit(): string[];
}

export type LedgerBackendName = 'none';

/** The `none` ledger: accepts everything and settles at the submission instant, 0 confirmations. */
class NoneLedger implements Ledger {
  readonly backend = 'none';
  constructor(private readonly ctx: LedgerContext) {}
  submit(tx: LedgerTx): void {
    this.ctx.settle({ tx, status: 'final', at: this.ctx.kernel.now, confirmations: 0 });
  }
  extraMetrics(): Record<string, number> {
    return {};
  }
  audit(): string[] {
    return [];
  }
}

export const LEDGERS: Record<LedgerBackendName, (ctx: LedgerContext) => Ledger> = {
  none: (ctx) => new NoneLedger(ctx),
};

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LedgerSummary {
  backend: string;
  submitted: number;
  confirmed: number;
  failed: number;
  /** confirmed transactions / (last settlement − first submission), per simulated second */
  throughputTps: number;
  latencySeconds: LatencyStats;
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

/**
 * Wraps a backend: numbers transactions, records submit/settle times in typed arrays, schedules
 * settlements as kernel events, and computes the common metrics.
 */
export class LedgerPort {
  readonly ledger: Ledger;
  private nextId = 0;
  private submitT = new Float64Array(1024);
  private settleT = new Float64Array(1024);
  private status = new Int8Array(1024); // 0 pending, 1 final, 2 failed
  private readonly byKind: Record<TxKind, number> = { 'session-start': 0, charge: 0, 'session-end': 0, payment: 0 };
  private confirmed = 0;
  private failed = 0;
  private readonly settleKind: number;
  private readonly inFlight = new Map<number, Settlement>();

  constructor(
    private readonly kernel: Kernel,
    streams: Streams,
    backend: LedgerBackendName,
    private readonly onSettled: (s: Settlement) => void = () => undefined,
  ) {
    this.settleKind = kernel.register('ledger-settle', (id) => this.deliver(id));
    const ctx: LedgerContext = {
      kernel,
      streams,
      settle: (s) => {
        this.inFlight.set(s.tx.id, s);
        kernel.schedule(s.at, PRIORITY.LEDGER, this.settleKind, s.tx.id);
      },
    };
    this.ledger = LEDGERS[backend](ctx);
  }

  submit(kind: TxKind, sessionId: number, ev: number, station: number, energyKWh: number, amount: number, powerKW = 0, soc = NaN): LedgerTx {
    const id = this.nextId++;
    if (id >= this.submitT.length) this.grow();
    const tx: LedgerTx = { id, kind, sessionId, ev, station, energyKWh, amount, powerKW, soc, submittedAt: this.kernel.now };
    this.submitT[id] = this.kernel.now;
    this.byKind[kind]++;
    this.ledger.submit(tx);
    return tx;
  }

  private deliver(id: number): void {
    const s = this.inFlight.get(id)!;
    this.inFlight.delete(id);
    this.settleT[id] = s.at;
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
    const n = this.submitT.length * 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.submitT = f(this.submitT);
    this.settleT = f(this.settleT);
    const s = new Int8Array(n);
    s.set(this.status);
    this.status = s;
  }

  get submitted(): number {
    return this.nextId;
  }

  summary(): LedgerSummary {
    const n = this.nextId;
    const lat = new Float64Array(this.confirmed);
    let k = 0;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < n; i++) {
      if (this.submitT[i]! < first) first = this.submitT[i]!;
      if (this.status[i] === 1) {
        lat[k++] = this.settleT[i]! - this.submitT[i]!;
        if (this.settleT[i]! > last) last = this.settleT[i]!;
      }
    }
    lat.sort();
    const span = last - first;
    return {
      backend: this.ledger.backend,
      submitted: n,
      confirmed: this.confirmed,
      failed: this.failed,
      // With an instant ledger every settlement can fall at one instant; then the rate is undefined
      // and reported as 0 rather than Infinity.
      throughputTps: span > 0 ? this.confirmed / span : 0,
      latencySeconds: {
        p50: percentile(lat, 50),
        p95: percentile(lat, 95),
        p99: percentile(lat, 99),
        max: lat.length ? lat[lat.length - 1]! : 0,
      },
      byKind: { ...this.byKind },
      extra: this.ledger.extraMetrics(),
    };
  }
}
