/**
 * Charging-power allocation policies for one site (a group of chargers behind
 * one aggregate power cap).
 *
 * Design, after Caltech's ACN-Sim (Z. J. Lee, S. Sharma, D. Johansson, S. H. Low:
 * "ACN-Sim: An Open-Source Simulator for Data-Driven Electric Vehicle Charging
 * Research", IEEE Trans. Smart Grid, 2021 — Lee, Li, Low are the authors of the
 * companion ACN-Data paper, e-Energy 2019; code: acnportal,
 * `acnportal/algorithms/sorted_algorithms.py` — `SortedSchedulingAlgo`,
 * `RoundRobin`, `first_come_first_served`, `earliest_deadline_first`,
 * `least_laxity_first` — and `uncontrolled_charging.py`):
 *
 * - A policy never touches the simulator. It sees two narrow read-only views
 *   (`SiteView`, `PluggedSessionView[]`) and writes one rate per session into a
 *   caller-owned `Float64Array`. That makes every policy unit-testable with
 *   hand-built views (the role of ACN-Sim's `TestingInterface`).
 * - The sorted policies (FCFS, EDF, LLF) are one greedy fill with a pluggable
 *   sort key: sessions are visited in key order and each one receives the
 *   largest rate that still fits under the remaining cap, as in
 *   `SortedSchedulingAlgo.sorting_algorithm` (which finds that rate by
 *   bisection against general infrastructure constraints; with a single
 *   aggregate cap it is exactly `min(u_i, capLeft)`, so no bisection is needed).
 *
 * Assumptions / simplifications relative to ACN-Sim:
 * - Units are kW and kWh (ACN-Sim works in amps and amp-periods); the only
 *   infrastructure constraint is one aggregate site cap `capKW` (no three-phase
 *   network, no per-circuit limits). `capKW = Infinity` means "no cap";
 *   a negative or NaN cap is treated as 0.
 * - Pilot signals are continuous (no discrete allowable pilot sets, no minimum
 *   charging rate): any rate in [0, u_i] is allowed.
 * - Per-session upper bound (documented ACN-Sim practice: the sorted algorithms
 *   and `RoundRobin` bound each EV by
 *   `min(session.max_rates[0], interface.remaining_amp_periods(session))`, i.e.
 *   never schedule more than the remaining energy within one period):
 *
 *       u_i = min(maxKW_i, remainingKWh_i * 3600 / periodS)
 *
 *   clamped to >= 0 (NaN or negative inputs give u_i = 0). `periodS` is the
 *   allocation period: the rates hold until the next allocation, at most
 *   `periodS` seconds, so a session charged at u_i cannot overshoot its request.
 *   `periodS` must be finite and > 0 (otherwise `RangeError`).
 *   The bound can be switched off (`energyBound: false`, u_i = maxKW_i): evsim's stations are
 *   event-driven — an EV that reaches its target triggers a re-allocation at that very instant —
 *   so nothing can overshoot, and the bound would only stretch the last period of every session
 *   (ACN-Sim needs it because it is discrete-time).
 * - Laxity (seconds), as in ACN-Sim's `least_laxity_first` but in time units:
 *
 *       laxity_i(now) = (deadline_i - now) - remainingKWh_i / maxKW_i * 3600
 *
 *   i.e. the slack left if the EV were charged at its full physical rate from
 *   now on. `maxKW_i <= 0` (cannot charge now) gives laxity = +Infinity (sorted
 *   last); a NaN laxity (e.g. Infinity - Infinity) is also treated as +Infinity.
 *   ACN-Sim divides by the EVSE's max pilot; here `maxKW` already is
 *   min(charger rating, vehicle limit at its state of charge).
 * - Deterministic tie-breaks: FCFS by (pluggedAt, sessionId); EDF by
 *   (deadline, pluggedAt, sessionId); LLF by (laxity, deadline, pluggedAt,
 *   sessionId) — i.e. laxity ties are ordered exactly as EDF would order them.
 *   The input index is a last-resort tie-break (only reachable with duplicate
 *   sessionIds), so results never depend on the engine's sort algorithm.
 *
 * Guarantees (tested in test/charging/allocation.test.ts):
 * - 0 <= rate_i <= u_i for every policy.
 * - Every policy except `uncontrolled` keeps sum(rates) <= capKW (+ rounding,
 *   well inside 1e-9 kW for realistic sizes) and is work-conserving: if the sum is
 *   below the cap then every session is at u_i.
 * - `uncontrolled` gives every session u_i and ignores the cap (a site without
 *   load management), so it exceeds the cap when demand does.
 * - Inputs are never mutated; only out[0 .. sessions.length-1] is written.
 * - Hot path: no per-call allocation besides one small typed-array view for
 *   sorting; scratch buffers are kept per policy instance and grown on demand.
 *
 * Round-robin (ACN-Sim's `RoundRobin`): EVs sit in a circular queue ordered by
 * (pluggedAt, sessionId); in turn each receives `incrementKW` (option, default
 * 1 kW), or less if that would exceed its u_i (the EV then leaves the queue, as
 * in ACN-Sim where the top allowable pilot is min(max rate, remaining energy)).
 * Choice for the final partial increment: when the cap binds, the EV whose turn
 * it is receives whatever is left of the cap (possibly less than one increment)
 * and allocation stops — so the cap is fully used and the policy is
 * work-conserving. (ACN-Sim instead drops an EV whose increment is infeasible and
 * can leave up to one increment unused.) Unlike ACN-Sim, the starting point of the
 * circle advances by one position on every `allocate` call (call k starts at
 * position k mod n of the sorted circle), so the leftover increments rotate
 * fairly between periods. This counter is the only state of any policy; it is
 * deterministic (same call sequence → same outputs). Computation is not the
 * literal increment loop (O(total/increment)): the number R of complete rounds
 * is found by bisection on S(R) = Σ min(u_i, R·inc) <= cap, then one partial
 * round is walked — the result is the same as the loop's (up to rounding).
 */

import type { SiteConstraintModel, SiteNetwork } from './siteNetwork.js';

export interface PluggedSessionView {
  /** Unique integer, used as the final deterministic tie-break. */
  readonly sessionId: number;
  /** Simulated seconds when the EV was plugged in (arrival order). */
  readonly pluggedAt: number;
  /** Simulated seconds: planned departure. */
  readonly deadline: number;
  /** Energy still requested (kWh). */
  readonly remainingKWh: number;
  /** Physical limit right now (kW): min(charger rating, vehicle limit at its state of charge). */
  readonly maxKW: number;
}

export interface SiteView {
  /** Simulated seconds. */
  readonly now: number;
  /** Site aggregate power cap in kW (Infinity = none). */
  readonly capKW: number;
  /** Allocation period in seconds: the rates hold until the next allocation (at most this long). */
  readonly periodS: number;
  /** The site's electrical network, when it has one (src/charging/siteNetwork.ts). */
  readonly network?: SiteNetworkView | null;
}

/** What an allocation policy may ask of a site's electrical network, in kW. */
export interface SiteNetworkView {
  /** the constraint set, the model that checks it, and the EVSE of session i of the site */
  readonly net: SiteNetwork;
  readonly model: SiteConstraintModel;
  evse(i: number): number;
  /**
   * The largest rate (kW, at most upKW) session i of the site can get while the others draw
   * `ratesKW` (rates[i] ignored), keeping every network constraint, on the EVSE's allowed rates.
   */
  maxFeasibleKW(i: number, ratesKW: ArrayLike<number>, upKW: number): number;
}

export type AllocationName = 'uncontrolled' | 'fcfs' | 'equal-share' | 'round-robin' | 'edf' | 'llf';

export const ALLOCATION_NAMES: readonly AllocationName[] = Object.freeze([
  'uncontrolled',
  'fcfs',
  'equal-share',
  'round-robin',
  'edf',
  'llf',
] as const);

export interface AllocationPolicy {
  readonly name: AllocationName;
  /**
   * Write one rate in kW per session into out[i] (out.length >= sessions.length).
   * May keep internal state (round-robin pointer).
   */
  allocate(site: SiteView, sessions: readonly PluggedSessionView[], out: Float64Array): void;
}

export interface AllocationOptions {
  /** Round-robin increment in kW (default 1). Must be finite and > 0. Ignored by other policies. */
  incrementKW?: number;
  /** Apply the per-period remaining-energy bound (default true, ACN-Sim's practice); see header. */
  energyBound?: boolean;
}

export const DEFAULT_INCREMENT_KW = 1;

// ---------------------------------------------------------------------------
// Helpers (exported for tests and for callers that want the same bounds)
// ---------------------------------------------------------------------------

function checkPeriod(periodS: number): void {
  if (!(periodS > 0) || !Number.isFinite(periodS)) {
    throw new RangeError(`allocation: site.periodS must be finite and > 0, got ${periodS}`);
  }
}

/** Effective site cap: Infinity stays Infinity; negative or NaN → 0. */
export function effectiveCapKW(site: SiteView): number {
  const c = site.capKW;
  return c > 0 ? c : 0;
}

/**
 * Per-session upper bound u_i = min(maxKW, remainingKWh * 3600 / periodS), >= 0
 * (ACN-Sim: min(max rate, remaining_amp_periods)). NaN/negative → 0.
 */
export function sessionUpperBoundKW(s: PluggedSessionView, periodS: number): number {
  const u = Math.min(s.maxKW, (s.remainingKWh * 3600) / periodS);
  return u > 0 ? u : 0;
}

/**
 * Laxity in seconds: (deadline − now) − remainingKWh / maxKW × 3600.
 * maxKW <= 0 (or NaN result) → +Infinity.
 */
export function laxitySeconds(s: PluggedSessionView, now: number): number {
  if (!(s.maxKW > 0)) return Infinity;
  const lax = s.deadline - now - (s.remainingKWh / s.maxKW) * 3600;
  return Number.isNaN(lax) ? Infinity : lax;
}

/**
 * Feasibility check in the spirit of ACN-Sim's `Interface.is_feasible`:
 * rates.length >= sessions.length, every rate is a number within [−tol, u_i + tol],
 * and the sum is <= effective cap + tol. Throws RangeError on an invalid periodS.
 */
export function isFeasible(
  site: SiteView,
  sessions: readonly PluggedSessionView[],
  rates: ArrayLike<number>,
  tolKW = 1e-9,
): boolean {
  checkPeriod(site.periodS);
  const n = sessions.length;
  if (rates.length < n) return false;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = rates[i]!;
    if (Number.isNaN(r) || r < -tolKW) return false;
    if (r > sessionUpperBoundKW(sessions[i]!, site.periodS) + tolKW) return false;
    sum += r;
  }
  return sum <= effectiveCapKW(site) + tolKW;
}

// ---------------------------------------------------------------------------
// Shared scratch + base class
// ---------------------------------------------------------------------------

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nanToInf(x: number): number {
  return Number.isNaN(x) ? Infinity : x;
}

abstract class BasePolicy implements AllocationPolicy {
  energyBound = true;
  abstract readonly name: AllocationName;

  /** Upper bounds u_i. */
  protected u = new Float64Array(16);
  /** Visiting order (indices into sessions). */
  protected order = new Int32Array(16);
  /** Sort keys, compared lexicographically k0, k1, k2, k3, then index. */
  protected k0 = new Float64Array(16);
  protected k1 = new Float64Array(16);
  protected k2 = new Float64Array(16);
  protected k3 = new Float64Array(16);

  /** Lexicographic comparator over the key arrays (created once per instance). */
  protected readonly byKeys = (a: number, b: number): number =>
    cmpNum(this.k0[a]!, this.k0[b]!) ||
    cmpNum(this.k1[a]!, this.k1[b]!) ||
    cmpNum(this.k2[a]!, this.k2[b]!) ||
    cmpNum(this.k3[a]!, this.k3[b]!) ||
    a - b;

  protected ensure(n: number): void {
    if (this.u.length >= n) return;
    let cap = this.u.length;
    while (cap < n) cap *= 2;
    this.u = new Float64Array(cap);
    this.order = new Int32Array(cap);
    this.k0 = new Float64Array(cap);
    this.k1 = new Float64Array(cap);
    this.k2 = new Float64Array(cap);
    this.k3 = new Float64Array(cap);
  }

  /** Sort order[0..n) by the key arrays (which the caller has filled). */
  protected sortOrder(n: number): void {
    const order = this.order;
    for (let i = 0; i < n; i++) order[i] = i;
    if (n > 1) order.subarray(0, n).sort(this.byKeys);
  }

  allocate(site: SiteView, sessions: readonly PluggedSessionView[], out: Float64Array): void {
    checkPeriod(site.periodS);
    const n = sessions.length;
    if (out.length < n) {
      throw new RangeError(`allocation: out.length (${out.length}) < sessions.length (${n})`);
    }
    this.ensure(n);
    const u = this.u;
    let sumU = 0;
    for (let i = 0; i < n; i++) {
      const s = sessions[i]!;
      const ui = this.energyBound ? sessionUpperBoundKW(s, site.periodS) : s.maxKW > 0 && s.remainingKWh > 0 ? s.maxKW : 0;
      u[i] = ui;
      sumU += ui;
    }
    this.distribute(site, sessions, n, sumU, effectiveCapKW(site), out);
  }

  /** u[0..n) is filled; sumU = Σu; cap = effective cap. Write out[0..n). */
  protected abstract distribute(
    site: SiteView,
    sessions: readonly PluggedSessionView[],
    n: number,
    sumU: number,
    cap: number,
    out: Float64Array,
  ): void;

  /** Every session at its upper bound. */
  protected fillAll(n: number, out: Float64Array): void {
    const u = this.u;
    for (let i = 0; i < n; i++) out[i] = u[i]!;
  }
}

// ---------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------

/** Every session at u_i; the site cap is NOT applied (no load management). */
class UncontrolledPolicy extends BasePolicy {
  readonly name = 'uncontrolled' as const;
  protected distribute(_s: SiteView, _x: readonly PluggedSessionView[], n: number, _sumU: number, _cap: number, out: Float64Array): void {
    this.fillAll(n, out);
  }
}

type SortKind = 'fcfs' | 'edf' | 'llf';

/**
 * Greedy fill in sort-key order (ACN-Sim SortedSchedulingAlgo): each session in
 * turn gets min(u_i, capacity left).
 */
class SortedPolicy extends BasePolicy {
  constructor(readonly name: SortKind) {
    super();
  }

  private fillKeys(site: SiteView, sessions: readonly PluggedSessionView[], n: number): void {
    const { k0, k1, k2, k3 } = this;
    for (let i = 0; i < n; i++) {
      const s = sessions[i]!;
      const plugged = nanToInf(s.pluggedAt);
      const deadline = nanToInf(s.deadline);
      const id = nanToInf(s.sessionId);
      switch (this.name) {
        case 'fcfs':
          k0[i] = plugged;
          k1[i] = id;
          k2[i] = 0;
          k3[i] = 0;
          break;
        case 'edf':
          k0[i] = deadline;
          k1[i] = plugged;
          k2[i] = id;
          k3[i] = 0;
          break;
        case 'llf':
          k0[i] = laxitySeconds(s, site.now);
          k1[i] = deadline;
          k2[i] = plugged;
          k3[i] = id;
          break;
      }
    }
  }

  protected distribute(site: SiteView, sessions: readonly PluggedSessionView[], n: number, sumU: number, cap: number, out: Float64Array): void {
    const net = site.network;
    if (sumU <= cap && !net) {
      this.fillAll(n, out);
      return;
    }
    this.fillKeys(site, sessions, n);
    this.sortOrder(n);
    const { u, order } = this;
    let left = cap;
    if (net) {
      // ACN-Sim's SortedSchedulingAlgo with infrastructure constraints: in key order each session
      // gets the largest rate that keeps the site feasible given the rates already set (the
      // sessions not yet visited at 0)
      for (let i = 0; i < n; i++) out[i] = 0;
      for (let k = 0; k < n; k++) {
        const i = order[k]!;
        const r = net.maxFeasibleKW(i, out, Math.min(u[i]!, left));
        out[i] = r;
        left -= r;
        if (left < 0) left = 0;
      }
      return;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const r = Math.min(u[i]!, left);
      out[i] = r;
      left -= r;
      if (left < 0) left = 0;
    }
  }
}

/**
 * Max–min fair water-filling: sessions with u_i below the fair share get u_i,
 * the rest share what is left equally.
 */
class EqualSharePolicy extends BasePolicy {
  readonly name = 'equal-share' as const;

  protected distribute(_site: SiteView, _sessions: readonly PluggedSessionView[], n: number, sumU: number, cap: number, out: Float64Array): void {
    if (sumU <= cap) {
      this.fillAll(n, out);
      return;
    }
    const { u, k0, k1, k2, k3, order } = this;
    for (let i = 0; i < n; i++) {
      k0[i] = u[i]!;
      k1[i] = 0;
      k2[i] = 0;
      k3[i] = 0;
    }
    this.sortOrder(n); // ascending u, ties by index (values identical anyway)
    let left = cap;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const share = left / (n - k);
      const ui = u[i]!;
      if (ui <= share) {
        out[i] = ui;
        left -= ui;
        if (left < 0) left = 0;
      } else {
        // All remaining sessions have u >= ui > share: they all get the share.
        for (let m = k; m < n; m++) out[order[m]!] = share;
        return;
      }
    }
  }
}

/** ACN-Sim RoundRobin with a rotating start; see header. */
class RoundRobinPolicy extends BasePolicy {
  readonly name = 'round-robin' as const;
  private calls = 0;

  constructor(readonly incrementKW: number) {
    super();
  }

  /** S(R) = Σ min(u_i, R·inc). */
  private roundsTotal(n: number, rounds: number): number {
    const level = rounds * this.incrementKW;
    const u = this.u;
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.min(u[i]!, level);
    return s;
  }

  protected distribute(_site: SiteView, sessions: readonly PluggedSessionView[], n: number, sumU: number, cap: number, out: Float64Array): void {
    const call = this.calls;
    this.calls = call + 1 >= Number.MAX_SAFE_INTEGER ? 0 : call + 1;
    if (sumU <= cap) {
      this.fillAll(n, out);
      return;
    }
    const inc = this.incrementKW;
    const { u, k0, k1, k2, k3, order } = this;

    // Circle in arrival order.
    let maxU = 0;
    for (let i = 0; i < n; i++) {
      const s = sessions[i]!;
      k0[i] = nanToInf(s.pluggedAt);
      k1[i] = nanToInf(s.sessionId);
      k2[i] = 0;
      k3[i] = 0;
      if (u[i]! > maxU) maxU = u[i]!;
    }
    this.sortOrder(n);

    // Largest number of complete rounds R with S(R) <= cap. S(0) = 0 <= cap and,
    // since Σu > cap, S(hi) > cap for hi = ceil(min(maxU, cap)/inc) + 1.
    let lo = 0;
    let hi = Math.ceil(Math.min(maxU, cap) / inc) + 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.roundsTotal(n, mid) <= cap) lo = mid;
      else hi = mid;
    }
    const level = lo * inc;
    let left = cap;
    for (let i = 0; i < n; i++) {
      const r = Math.min(u[i]!, level);
      out[i] = r;
      left -= r;
    }
    if (left < 0) left = 0;

    // One partial round, starting at position (call mod n) of the circle.
    const start = call % n;
    for (let k = 0; k < n && left > 0; k++) {
      const i = order[(start + k) % n]!;
      const room = u[i]! - level;
      if (room <= 0) continue; // saturated: left the queue
      const give = Math.min(inc, room, left);
      out[i] = Math.min(u[i]!, out[i]! + give); // guard level + (u - level) rounding above u
      left -= give;
    }
  }
}

// ---------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------

export function makeAllocationPolicy(name: AllocationName, opts: AllocationOptions = {}): AllocationPolicy {
  const p = makePolicy(name, opts);
  p.energyBound = opts.energyBound ?? true;
  return p;
}

function makePolicy(name: AllocationName, opts: AllocationOptions): BasePolicy {
  switch (name) {
    case 'uncontrolled':
      return new UncontrolledPolicy();
    case 'fcfs':
    case 'edf':
    case 'llf':
      return new SortedPolicy(name);
    case 'equal-share':
      return new EqualSharePolicy();
    case 'round-robin': {
      const inc = opts.incrementKW ?? DEFAULT_INCREMENT_KW;
      if (!(inc > 0) || !Number.isFinite(inc)) {
        throw new RangeError(`allocation: incrementKW must be finite and > 0, got ${inc}`);
      }
      return new RoundRobinPolicy(inc);
    }
    default: {
      const never: never = name;
      throw new Error(`allocation: unknown policy ${String(never)}`);
    }
  }
}
