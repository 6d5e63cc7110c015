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
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import type { AllocationBatch, AllocationBatchPolicy } from './allocationBatch.js';
import type { PluggedSessionView, SiteNetworkView } from './allocation.js';

/** the power limit of a forecast job (kW): large and finite (so r·0 stays 0) */
const UNLIMITED_KW = 1e9;

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
  extra?: { n: number; kWh: ArrayLike<number>; hours: ArrayLike<number> },
): number {
  const nx = extra ? extra.n : 0;
  scratch.grow(n + nx);
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
  // forecast arrivals (PeakForecast): energy due by a deadline, no power limit of their own
  for (let i = 0; i < nx; i++) {
    const x = extra!.kWh[i]!;
    if (!(x > 1e-9)) continue;
    tau[k] = Math.max(extra!.hours[i]!, minHours);
    r[k] = UNLIMITED_KW;
    e[k] = x;
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

/** One day type of a peak forecast: per local time-of-day slot, the mean energy (kWh per day) of the
 * sessions arriving in it and their energy-weighted mean departure (hours after local midnight). */
export interface PeakForecastProfile {
  kWh: number[];
  departureH: number[];
}

/** models/allocation-peak-<name>/model.json (written by `evsim train allocation` with `objective: peak-forecast`, src/simulation/trainAllocationPeak.ts) */
export interface PeakForecastModel {
  format: 'evsim-peak-forecast';
  version: 1;
  name: string;
  slotMinutes: number;
  /** local time = UTC + utcOffsetHours (fixed; no daylight saving) */
  utcOffsetHours: number;
  weekday: PeakForecastProfile;
  weekend: PeakForecastProfile;
  /** β: the forecast energy counts β times */
  beta: number;
  /** w (kWh): today's arrivals so far scale the rest of the day's forecast by (A + w) / (Â + w) */
  adaptKWh: number;
  /** q of qOA fitted with it */
  levelFactor: number;
}

/**
 * The learned part of peak control: the energy still to ARRIVE today, by local time-of-day slot,
 * from the training days' mean profile (weekdays and weekends apart), scaled by β and by how
 * today's arrivals so far compare with the profile. Each remaining slot becomes one job "released
 * now" with its energy due at its mean departure, added to the Optimal-Available level: a site
 * level that anticipates the day's later arrivals instead of reacting to them. An approximation,
 * stated: the forecast jobs are treated as available now (they are not: the level is a lower bound
 * of what the forecast day needs, with β fitted to make up for it), the profile is a mean (a heavy
 * day is caught by the adaptation and by OA itself), local time is a fixed UTC offset.
 */
export class PeakForecast {
  private readonly slotS: number;
  private readonly nSlots: number;
  private readonly offS: number;
  readonly kWh: Float64Array;
  readonly hours: Float64Array;
  /** energy requested by the sessions first seen on local day `day` (ids seen ever, so a stay over
   * midnight counts once) */
  private day = NaN;
  private arrived = 0;
  private readonly seen = new Set<number>();

  constructor(readonly model: PeakForecastModel, private readonly startEpochS: number) {
    this.slotS = model.slotMinutes * 60;
    this.nSlots = model.weekday.kWh.length;
    this.offS = model.utcOffsetHours * 3600;
    this.kWh = new Float64Array(this.nSlots);
    this.hours = new Float64Array(this.nSlots);
  }

  /** note a plugged session (first sight counts its remaining energy as arrived today) */
  observe(now: number, sessionId: number, remainingKWh: number): void {
    const local = this.startEpochS + now + this.offS;
    const day = Math.floor(local / 86400);
    if (day !== this.day) {
      this.day = day;
      this.arrived = 0;
    }
    if (!this.seen.has(sessionId)) {
      this.seen.add(sessionId);
      this.arrived += remainingKWh;
    }
  }

  /** fill kWh/hours with the forecast jobs at `now`; returns their count */
  forecast(now: number): number {
    const m = this.model;
    const local = this.startEpochS + now + this.offS;
    const day = Math.floor(local / 86400);
    if (day !== this.day) {
      this.day = day;
      this.arrived = 0;
    }
    const sod = local - day * 86400;
    const weekDay = new Date(day * 86400_000).getUTCDay();
    const p = weekDay === 0 || weekDay === 6 ? m.weekend : m.weekday;
    const slot = Math.min(this.nSlots - 1, Math.floor(sod / this.slotS));
    const frac = (sod - slot * this.slotS) / this.slotS;
    let expected = 0;
    for (let b = 0; b < slot; b++) expected += p.kWh[b]!;
    expected += frac * p.kWh[slot]!;
    const w = m.adaptKWh;
    const scale = m.beta * (w > 0 ? (this.arrived + w) / (expected + w) : 1);
    let k = 0;
    for (let b = slot; b < this.nSlots; b++) {
      const x = p.kWh[b]! * (b === slot ? 1 - frac : 1) * scale;
      if (!(x > 1e-9)) continue;
      this.kWh[k] = x;
      this.hours[k] = p.departureH[b]! - sod / 3600;
      k++;
    }
    return k;
  }
}

/** Read and check a peak-forecast model (model.json, or its folder); problems name the file and
 * field (`where`: who names the file, e.g. "scenario.yaml: site.peakModel"). */
export function loadPeakForecastModel(file: string, where = 'site.peakModel'): PeakForecastModel {
  const path = file.endsWith('.json') ? file : `${file.replace(/\/$/, '')}/model.json`;
  let o: unknown;
  try {
    o = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError([`${where}: cannot read the peak-forecast model ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a folder written by evsim train allocation (objective: peak-forecast)`]);
  }
  const m = o as Partial<PeakForecastModel>;
  const bad = (what: string) => new UserError([`${path}: ${what}`]);
  if (!m || m.format !== 'evsim-peak-forecast' || m.version !== 1) throw bad(`format: expected "evsim-peak-forecast" version 1 (written by evsim train allocation, objective: peak-forecast)`);
  const num = (k: keyof PeakForecastModel, lo: number, hi: number) => {
    const v = m[k];
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw bad(`${k}: a number in [${lo}, ${hi}] (got ${JSON.stringify(v)})`);
  };
  num('slotMinutes', 1, 1440);
  num('utcOffsetHours', -14, 14);
  num('beta', 0, 100);
  num('adaptKWh', 0, 1e6);
  num('levelFactor', 1, 10);
  const n = 1440 / m.slotMinutes!;
  if (!Number.isInteger(n)) throw bad(`slotMinutes: must divide 1440 (got ${m.slotMinutes})`);
  for (const t of ['weekday', 'weekend'] as const) {
    const p = m[t];
    for (const k of ['kWh', 'departureH'] as const) {
      const a = p?.[k];
      if (!Array.isArray(a) || a.length !== n || !a.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0))
        throw bad(`${t}.${k}: ${n} finite numbers >= 0 (one per ${m.slotMinutes}-minute slot)`);
    }
  }
  return m as PeakForecastModel;
}

export interface PeakControlOptions {
  /** a site power the target never goes below (kW; 0 = none) */
  floorKW?: number;
  /** the learned forecast of the day's later arrivals added to the level (PeakForecast, one per site) */
  forecast?: { model: PeakForecastModel; startEpochS: number };
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
  private readonly forecastModel: { model: PeakForecastModel; startEpochS: number } | null;
  private readonly forecasts: PeakForecast[] = [];
  /** the target of the last allocation of each station id (kW), for tests and inspection */
  readonly lastTargetKW: number[] = [];

  constructor(
    readonly name: string,
    private readonly inner: AllocationBatchPolicy,
    opts: PeakControlOptions = {},
  ) {
    this.floorKW = Math.max(0, opts.floorKW ?? 0);
    this.levelFactor = opts.levelFactor ?? 1;
    this.forecastModel = opts.forecast ?? null;
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
      let extra: { n: number; kWh: Float64Array; hours: Float64Array } | undefined;
      const fm = this.forecastModel;
      if (fm) {
        const fc = (this.forecasts[id] ??= new PeakForecast(fm.model, fm.startEpochS));
        for (let r = o; r < o + n; r++) fc.observe(b.now, b.sessionId[r]!, b.remainingKWh[r]!);
        extra = { n: fc.forecast(b.now), kWh: fc.kWh, hours: fc.hours };
      }
      const level = optimalAvailableKW(b.now, n, o, b.deadline, b.remainingKWh, b.maxKW, b.periodS[j]! / 3600, this.scratch, extra);
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
