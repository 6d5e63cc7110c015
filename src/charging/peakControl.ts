/**
 * Peak control for a demand-charge tariff (a $/kW charge on the billing period's peak site power):
 * a site-level power target that any allocation policy then fills, the online rule "Optimal
 * Available" of Yao, Demers & Shenker ("A scheduling model for reduced CPU energy", FOCS 1995),
 * extended to per-session rate limits.
 *
 * At every allocation instant the site's target is
 *
 *     T = min(site cap, max(floorKW, peak so far, q · L(now)))
 *
 * where L(now) is the least CONSTANT site power that can still finish every plugged session's
 * remaining energy by its departure, given each session's own power limit, and assuming nobody
 * else arrives (what "Optimal Available" means: optimal for the jobs available now).
 *
 * L(now), exactly. Session i (remaining e_i kWh, limit r_i kW, τ_i h to its departure; e_i is first
 * cut to r_i·τ_i, what it can still take at all). Whatever the schedule, by t hours from now
 * session i must already have received at least m_i(t) = max(0, e_i − r_i·max(0, τ_i − t)) (after t
 * it can take at most r_i·(τ_i − t)). A constant power P finishes everything iff
 *
 *     M(t) = Σ_i m_i(t) ≤ P · t     for every t > 0.
 *
 * (Necessity is the line above. Sufficiency: the transportation problem "sessions → instants",
 * session i at most r_i per hour on [0, τ_i], the site at most P per hour, has by max-flow/min-cut
 * the condition Σ_i max(0, e_i − r_i·|[0, τ_i] \ S|) ≤ P·|S| over every time set S; with all
 * windows starting now the worst S of a given length t is [0, t].) With r_i = ∞ this is YDS's
 * critical-interval speed max_D Σ_{τ_i ≤ D} e_i / D for jobs released together. M is piecewise
 * linear with kinks at τ_i and at the latest start times s_i = τ_i − e_i / r_i, so on each piece
 * M(t)/t is monotone and its maximum lies at a kink: L = max over t ∈ {τ_i} ∪ {s_i > 0} of M(t)/t,
 * O(n²) for n plugged sessions.
 *
 * q ≥ 1 (`levelFactor`, default 1) is qOA (Bansal, Kimbrel & Pruhs, "Speed scaling to manage
 * energy and temperature", JACM 2007): OA alone lets every plugged EV reach zero laxity together
 * at the end of its stay, so a late arrival then forces a new peak; running a little faster keeps
 * slack. Measured on the Caltech month, q is sensitive (docs/optimum.md, "Demand charges and peak control").
 *
 * Why "max(peak so far, …)": the demand charge is paid on the billing period's peak, so power up
 * to the peak already reached costs nothing more; using it finishes energy early and leaves room
 * for later arrivals. `floorKW` is an optional level known in advance (e.g. the peak the site
 * expects to reach anyway; 0 = none).
 *
 * Assumptions, stated: departures are known (replayed sessions: recorded departure = deadline);
 * later arrivals are not anticipated (online); the peak is the largest instantaneous site power
 * (what the simulation reports as stations.peakKW; a tariff metering 15-minute means can only read
 * less); the peak memory spans the whole run, so a run should be one billing period (a monthly
 * replay). Within the target the inner policy decides who charges (LLF for `peak-aware`); LLF is
 * not guaranteed to realise L exactly under rate limits, but L is recomputed at every allocation,
 * so a shortfall raises the next target rather than losing energy.
 */
import type { AllocationBatch, AllocationBatchPolicy } from './allocationBatch.js';
import type { PluggedSessionView, SiteNetworkView } from './allocation.js';

/** Scratch for optimalAvailableKW (grown as needed). */
export class LevelScratch {
  e = new Float64Array(16);
  r = new Float64Array(16);
  tau = new Float64Array(16);
  grow(n: number): void {
    if (this.e.length < n) {
      this.e = new Float64Array(n * 2);
      this.r = new Float64Array(n * 2);
      this.tau = new Float64Array(n * 2);
    }
  }
}

/**
 * L(now) of the module comment for rows r0 .. r0 + n − 1 (kW). Sessions with no energy left or
 * no power limit count for nothing; a session already past its departure counts with one
 * allocation period left (`minHours`).
 */
export function optimalAvailableKW(
  now: number,
  n: number,
  r0: number,
  deadline: ArrayLike<number>,
  remainingKWh: ArrayLike<number>,
  maxKW: ArrayLike<number>,
  minHours: number,
  scratch: LevelScratch,
): number {
  scratch.grow(n);
  const { e, r, tau } = scratch;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const rem = remainingKWh[r0 + i]!;
    const mk = maxKW[r0 + i]!;
    if (!(rem > 1e-9) || !(mk > 0)) continue;
    const h = Math.max((deadline[r0 + i]! - now) / 3600, minHours);
    tau[k] = h;
    r[k] = mk;
    e[k] = Math.min(rem, mk * h);
    k++;
  }
  let level = 0;
  const at = (t: number): number => {
    let m = 0;
    for (let i = 0; i < k; i++) {
      const v = e[i]! - r[i]! * Math.max(0, tau[i]! - t);
      if (v > 0) m += v;
    }
    return m / t;
  };
  for (let i = 0; i < k; i++) {
    const a = at(tau[i]!);
    if (a > level) level = a;
    const s = tau[i]! - e[i]! / r[i]!;
    if (s > 1e-12) {
      const b = at(s);
      if (b > level) level = b;
    }
  }
  return level;
}

/**
 * The rows of a batch with each site's cap replaced by its target (everything else delegated):
 * the inner policy sees an ordinary batch with a lower aggregate cap.
 */
class TargetBatch implements AllocationBatch {
  base!: AllocationBatch;
  capKW = new Float64Array(8);
  get now() { return this.base.now; }
  get nSites() { return this.base.nSites; }
  get site() { return this.base.site; }
  get periodS() { return this.base.periodS; }
  get offset() { return this.base.offset; }
  get nSessions() { return this.base.nSessions; }
  get sessionId() { return this.base.sessionId; }
  get pluggedAt() { return this.base.pluggedAt; }
  get deadline() { return this.base.deadline; }
  get remainingKWh() { return this.base.remainingKWh; }
  get maxKW() { return this.base.maxKW; }
  sessions(j: number): readonly PluggedSessionView[] {
    return this.base.sessions(j);
  }
  network(j: number): SiteNetworkView | null {
    return this.base.network(j);
  }
}

export interface PeakControlOptions {
  /** a site power the target never goes below (kW; 0 = none) */
  floorKW?: number;
  /** q: the target uses q · L(now) ("qOA", Bansal, Kimbrel & Pruhs, JACM 2007: running a little
   * faster than OA keeps slack for later arrivals); default 1 */
  levelFactor?: number;
}

/**
 * Wraps an allocation policy with the Optimal-Available site target (module comment). Keeps, per
 * station id, the largest site power it has allocated (the peak so far); deterministic.
 */
export class PeakControlledAllocation implements AllocationBatchPolicy {
  readonly ignoresLimits?: boolean;
  private readonly batch = new TargetBatch();
  private readonly scratch = new LevelScratch();
  private readonly peak: number[] = [];
  private readonly floorKW: number;
  private readonly levelFactor: number;
  /** the target of the last allocation of each station id (kW), for tests and inspection */
  readonly lastTargetKW: number[] = [];

  constructor(
    readonly name: string,
    private readonly inner: AllocationBatchPolicy,
    opts: PeakControlOptions = {},
  ) {
    this.floorKW = Math.max(0, opts.floorKW ?? 0);
    this.levelFactor = opts.levelFactor ?? 1;
    if (inner.ignoresLimits) this.ignoresLimits = true;
  }

  /** the peak so far of station id `site` (kW) */
  peakKW(site: number): number {
    return this.peak[site] ?? 0;
  }

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    const tb = this.batch;
    tb.base = b;
    if (tb.capKW.length < b.nSites) tb.capKW = new Float64Array(b.nSites * 2);
    for (let j = 0; j < b.nSites; j++) {
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      const id = b.site[j]!;
      const level = optimalAvailableKW(b.now, n, o, b.deadline, b.remainingKWh, b.maxKW, b.periodS[j]! / 3600, this.scratch);
      const target = Math.max(this.floorKW, this.peak[id] ?? 0, this.levelFactor * level);
      const cap = b.capKW[j]! > 0 ? b.capKW[j]! : 0;
      tb.capKW[j] = Math.min(cap, target);
      this.lastTargetKW[id] = tb.capKW[j]!;
    }
    this.inner.allocateBatch(tb, out);
    for (let j = 0; j < b.nSites; j++) {
      const o = b.offset[j]!;
      const e = b.offset[j + 1]!;
      let sum = 0;
      for (let r = o; r < e; r++) sum += Math.min(out[r]!, b.maxKW[r]!);
      const id = b.site[j]!;
      if (sum > (this.peak[id] ?? 0)) this.peak[id] = sum;
    }
  }
}
