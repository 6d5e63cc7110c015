/**
 * A ledger-only load generator (Caliper-style workloads without a city): transactions submitted to
 * a stack's ports at a chosen arrival process and kind mix, so a backend's throughput and latency
 * can be measured under controlled load and compared with theory.
 *
 * Arrival processes (simulated seconds, from `startS` to the horizon, at most `maxTx` in all):
 *   poisson   { ratePerS }                   exponential gaps of mean 1/rate (stream `load/arrivals`)
 *   constant  { ratePerS }                   t_i = startS + i / rate (no drift: computed from i)
 *   bursts    { size, periodS, jitterS = 0 } `size` txs at startS + k·periodS, each delayed by
 *                                             U[0, jitterS) (stream `load/arrivals`)
 *   trace     { file, column = 'submitted_s' } the submit times of a CSV file (one per row,
 *                                             sorted here; the file is read by the simulation layer)
 * Each arrival is one transaction; its kind is drawn from `kinds` (weights, stream `load/kinds`).
 * Parties: session s (one per `sessionLength` consecutive transactions) has EV `s mod agents` and
 * station `s mod stations`; energy and amount are the configured constants. Payments go to the
 * payments port, everything else to the records port (as in the city). When the payments backend is
 * streaming (payment channels), each session's last payment is followed by its closing payment
 * (amount 0), as the city does at the end of a session.
 * Same-time order: submissions run at priority TRIP (after ledger settlements of that instant).
 */
import { z } from 'zod';
import { PRIORITY } from '../core/priorities.js';
import type { Kernel } from '../core/kernel.js';
import type { Streams } from '../core/random.js';
import type { LedgerPort } from './ledger.js';
import { OPTIONAL_TX_KINDS, TX_KINDS, type TxKind } from './tx.js';

const LOAD_KINDS = TX_KINDS.filter((k) => !OPTIONAL_TX_KINDS.has(k)) as [TxKind, ...TxKind[]];

const rate = () => z.number().positive().max(1e6);

export const ArrivalSchema = z.discriminatedUnion('process', [
  z.strictObject({ process: z.literal('poisson'), ratePerS: rate() }),
  z.strictObject({ process: z.literal('constant'), ratePerS: rate() }),
  z.strictObject({
    process: z.literal('bursts'),
    size: z.number().int().min(1).max(1e6),
    periodS: z.number().positive(),
    jitterS: z.number().min(0).default(0),
  }),
  z.strictObject({
    process: z.literal('trace'),
    /** CSV file of submit times (seconds), relative to the scenario file */
    file: z.string().min(1),
    /** the column holding the times (header row required) */
    column: z.string().min(1).default('submitted_s'),
  }),
]);
export type Arrival = z.output<typeof ArrivalSchema>;

/** The `demand` section of a `demand.type: load` scenario, less its `type`. */
export const LoadParamsShape = {
  arrival: ArrivalSchema,
  /** kind mix: weights (>= 0, not all 0) of the transaction kinds submitted (the city's four
   * charging kinds; the calculating phase's kinds carry payloads the generator does not make) */
  kinds: z.partialRecord(z.enum(LOAD_KINDS), z.number().min(0)).default({ payment: 1 }),
  /** submissions start at this simulated time (s) */
  startS: z.number().min(0).default(0),
  /** at most this many transactions (null: until the horizon) */
  maxTx: z.number().int().min(1).nullable().default(null),
  /** number of distinct EVs and stations the transactions name */
  agents: z.number().int().min(1).max(2 ** 31).default(1000),
  stations: z.number().int().min(1).max(2 ** 31).default(100),
  /** consecutive transactions per session (channel backends: payments per channel) */
  sessionLength: z.number().int().min(1).default(1),
  /** energy (kWh) and amount (currency units) of every transaction */
  energyKWh: z.number().min(0).default(0.5),
  amount: z.number().min(0).default(0.15),
};
export const LoadParamsSchema = z.strictObject(LoadParamsShape).refine((p) => Object.values(p.kinds).some((w) => (w ?? 0) > 0), {
  message: 'at least one kind must have a weight > 0',
  path: ['kinds'],
});
export type LoadParams = z.output<typeof LoadParamsSchema>;

/** Parse a trace CSV (header row, one time per row in `column`); `where` names the file in errors. */
export function parseTrace(text: string, column: string, where: string): Float64Array {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = header.indexOf(column);
  if (col < 0) throw new TraceError(`${where}: no column "${column}" in the header (columns: ${header.join(', ') || 'none'})`);
  const out = new Float64Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const cell = (lines[i] ?? '').split(',')[col]?.trim() ?? '';
    const v = Number(cell);
    if (cell === '' || !Number.isFinite(v) || v < 0) throw new TraceError(`${where}: line ${i + 1}: ${column} must be a number of seconds >= 0 (got ${JSON.stringify(cell)})`);
    out[i - 1] = v;
  }
  return out.sort();
}

/** A bad trace file (the caller turns it into a UserError). */
export class TraceError extends Error {}

export interface LoadTarget {
  records: LedgerPort;
  payments: LedgerPort;
}

/**
 * Drives the ports with the configured load from the kernel's current time until `horizon`:
 * registers one event kind and keeps one submission pending at a time (bursts: one per burst
 * member). Returns a counter of what was submitted.
 */
export class LoadGenerator {
  submitted = 0;
  readonly byKind: Record<TxKind, number> = Object.fromEntries(LOAD_KINDS.map((k) => [k, 0])) as Record<TxKind, number>;
  private readonly kindNames: TxKind[];
  private readonly kindCum: Float64Array;
  private readonly kSubmit: number;
  private readonly streaming: boolean;

  constructor(
    private readonly kernel: Kernel,
    streams: Streams,
    private readonly target: LoadTarget,
    private readonly p: LoadParams,
    private readonly horizon: number,
    /** trace arrivals: the (sorted) submit times */
    private readonly trace: Float64Array | null = null,
  ) {
    const arrivals = streams.stream('load/arrivals');
    const kinds = streams.stream('load/kinds');
    this.kindNames = TX_KINDS.filter((k) => (p.kinds[k] ?? 0) > 0);
    this.kindCum = new Float64Array(this.kindNames.length);
    let acc = 0;
    this.kindNames.forEach((k, i) => {
      acc += p.kinds[k] ?? 0;
      this.kindCum[i] = acc;
    });
    this.streaming = target.payments.ledger.streaming === true;
    const a = p.arrival;
    const pickKind = (): TxKind => {
      if (this.kindNames.length === 1) return this.kindNames[0]!;
      const u = kinds.next() * acc;
      for (let i = 0; i < this.kindCum.length; i++) if (u < this.kindCum[i]!) return this.kindNames[i]!;
      return this.kindNames[this.kindNames.length - 1]!;
    };
    this.kSubmit = kernel.register('load/submit', (i) => {
      this.submitOne(pickKind());
      this.next(i + 1);
    });
    // the next arrival after arrival i (i = -1: the first)
    this.nextTime = (i: number): number => {
      switch (a.process) {
        case 'poisson':
          return (i < 0 ? p.startS : kernel.now) + arrivals.exp(1 / a.ratePerS);
        case 'constant':
          return p.startS + (i + 1) / a.ratePerS;
        case 'trace':
          return this.trace?.[i + 1] ?? Infinity;
        case 'bursts':
          return Infinity; // scheduled per burst (below)
      }
    };
    if (a.process === 'bursts') {
      const kBurst = kernel.register('load/burst', (k) => {
        const t0 = kernel.now;
        for (let j = 0; j < a.size; j++) {
          const t = t0 + (a.jitterS > 0 ? arrivals.uniform(0, a.jitterS) : 0);
          if (t <= horizon) kernel.schedule(t, PRIORITY.TRIP, this.kBurstMember);
        }
        const nt = p.startS + (k + 1) * a.periodS;
        if (nt <= horizon) kernel.schedule(nt, PRIORITY.TRIP, kBurst, k + 1);
      });
      this.kBurstMember = kernel.register('load/burst-member', () => {
        if (this.p.maxTx === null || this.submitted < this.p.maxTx) this.submitOne(pickKind());
      });
      if (p.startS <= horizon) kernel.schedule(Math.max(kernel.now, p.startS), PRIORITY.TRIP, kBurst, 0);
    } else {
      this.next(0, -1);
    }
  }

  private readonly nextTime: (i: number) => number;
  private kBurstMember = 0;

  /** schedule arrival `i` (its time from arrival i − 1) */
  private next(i: number, prev = i - 1): void {
    if (this.p.maxTx !== null && i >= this.p.maxTx) return;
    const t = this.nextTime(prev);
    if (t <= this.horizon) this.kernel.schedule(Math.max(t, this.kernel.now), PRIORITY.TRIP, this.kSubmit, i);
  }

  private submitOne(kind: TxKind): void {
    const p = this.p;
    const n = this.submitted++;
    this.byKind[kind]++;
    const session = Math.floor(n / p.sessionLength);
    const ev = session % p.agents;
    const station = session % p.stations;
    const amount = kind === 'payment' ? p.amount : 0;
    const energy = kind === 'session-start' ? 0 : p.energyKWh;
    const port = kind === 'payment' ? this.target.payments : this.target.records;
    port.submit(kind, session, ev, station, energy, amount, kind === 'charge' ? 60 * energy : 0, kind === 'charge' ? 0.5 : NaN);
    if (this.streaming && kind === 'payment' && (n + 1) % p.sessionLength === 0) {
      this.target.payments.submit('payment', session, ev, station, 0, 0, 0, NaN, true);
    }
  }
}
