/**
 * The exchange step (`site.exchange: lp`): after an allocation policy has set the rates x⁰ of a
 * site with an electrical network, one small linear program moves power between the sessions at
 * that instant — some raised, others lowered — so that more of it passes the network. Weighted
 * progressive filling (src/charging/fill.ts) stops where every session below its limit loads a
 * binding constraint, and that point is Pareto-efficient (measured: the LP below with the bounds
 * x ≥ x⁰ finds no gain at any of the 4569 steps of the held-out 10 kW replay, also with 128
 * sides); but on a three-phase network it is generally not the most power the network can carry:
 * currents on phases 120° apart partly cancel in a phasor constraint |Σ c·a·x·e^{jθ}| ≤ L, so
 * lowering one session can make room for more than its own power elsewhere.
 *
 * The LP, per site (sessions in row order, constraints in file order, polygon sides in order):
 *
 *   variables  x_i ∈ [keep·x⁰_i, maxKW_i] for the sessions with energy left (default keep = 0:
 *              free exchanges; keep = 1 is the Pareto step); sessions whose bounds meet are
 *              constants of the rows
 *   cap        Σ_i x_i ≤ capKW                                         (when finite)
 *   power      Σ_i x_i ≥ Σ_i x⁰_i                 (`keepTotal`: the site never loses power)
 *   network    linear model:  Σ_i |c_{k,e_i}|·a·x_i ≤ L_k             (exact)
 *              three-phase:   Σ_i c_{k,e_i}·a·x_i·cos(θ_{e_i} − φ_{k,p}) ≤ L_k·cos(π/P),  p = 0..P−1
 *              the polygon with P sides (default 32) INSCRIBED in the disc |z| ≤ L_k, rotated so
 *              that one of its vertices lies on the ray of the constraint's phasor z⁰_k at x⁰
 *              (φ_{k,p} = arg z⁰_k + π/P + 2πp/P). Every point of the polygon is inside the disc,
 *              so the LP's solution satisfies the true constraint; and since z⁰_k lies on the
 *              segment from 0 to that vertex, x⁰ satisfies the polygon: the LP is feasible (x⁰ is
 *              a solution) whatever the bounds. A constraint that cannot bind over the bounds'
 *              box is left out. (An outer polygon with a back-off would not do: from a binding
 *              x⁰ on the circle, any step with an outward component leaves the disc at once.)
 *   objective  maximise Σ_i (1 + ε·u_i)·x_i with u_i ≥ 0 scaled to max 1 (default ε = 1: each
 *              kW is worth 1 to 2 by urgency): u_i are the need-proportional weights (the power
 *              session i needs to finish by its departure) unless `utility` says otherwise
 *
 * Safety whatever the solver returns: a solve that throws or does not end optimal leaves x⁰.
 * Otherwise, with Δ = x_lp − x⁰ (the LP's values clamped to their bounds), the step goes to the
 * largest t ∈ [0, 1] for which x⁰ + t·Δ satisfies every TRUE constraint within 1e-9 relative —
 * each phasor constraint is a convex quadratic in t, the cap is linear, so t is exact (this only
 * absorbs the solver's tolerances: the polygon lies inside the discs). The moved rates are rounded
 * down to a 1e-6 kW grid (not below their lower bounds), checked exactly again (0 ≤ x ≤ max, cap,
 * every constraint, no tolerance), and x⁰ is kept if the check fails. With `rounds` > 1 the LP is
 * solved again from the new point (re-anchored polygons); with `topUp` (default) a weighted
 * progressive fill from there (ProgressiveFill with a base, weights u) takes what the inscribed
 * polygon left between itself and the discs — it only raises and stays feasible by construction.
 * The rounding can leave the site up to 1e-6 kW per session below Σ x⁰ (measured: 41 of 4568
 * steps of the held-out 10 kW replay, by at most 1.6e-6 kW).
 *
 * Determinism: the LP is built in a fixed order from the batch's float64 values and solved by
 * HiGHS's simplex without presolve (fixed options, random_seed 0; the WebAssembly build has no
 * threads) in one model per HiGHS module, shared by the steps and reused through passModel, which
 * replaces the model and the solver state
 * (tested: a solve after others gives the same bits as a fresh one), so the same input gives
 * the same output. The learned policy's weights are quantised before its fill
 * (src/ai/allocation.ts), so backends that differ in the model's last bits give the same x⁰ and
 * hence the same LP unless a weight lies at a rounding boundary.
 */
import type { Highs } from 'highs';
import type { AllocationBatch, AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { needWeights, ProgressiveFill, type FillNetwork } from '../charging/fill.js';

export interface ExchangeOptions {
  /** polygon sides P (default 32) */
  sides?: number;
  /** lower bounds keep·x⁰ (default 0: free exchanges; 1: the Pareto step, nobody loses — which
   * finds nothing after a progressive fill, see docs/ai.md) */
  keep?: number;
  /** ε of the objective Σ (1 + ε·u_i)·x_i, u scaled to max 1 (default 1: weights in [1, 2]) */
  tieBreak?: number;
  /** a row Σ x ≥ Σ x⁰ (default true): the step never lowers the site's power, whatever the
   * tie-break weighs */
  keepTotal?: boolean;
  /** LP rounds, each re-anchored at the last point (default 1) */
  rounds?: number;
  /** a weighted progressive fill from the LP's point (default true) */
  topUp?: boolean;
  /** solve only when a network constraint binds at x⁰ (default false: at every allocation with
   * a session below its limit — a policy that leaves capacity unused gains too; on the held-out
   * replay both settings solve at the same allocations) */
  onlyBinding?: boolean;
  /** HiGHS options for the solves (experiments) */
  lpOptions?: Record<string, unknown>;
}

/** Counters of what the step did (for tests and the docs' figures). */
export interface ExchangeStats {
  /** sites the step looked at (a network and a session below its limit) */
  sites: number;
  /** LPs solved */
  solves: number;
  /** LP solves that did not end optimal (x⁰ kept) */
  failed: number;
  /** steps whose exact re-check failed (x⁰ kept) */
  rejected: number;
  /** Σ over sites of the power gained over x⁰ (kW) */
  gainKW: number;
  /** sites where the step ended below Σ x⁰ (only by the 1e-6 kW rounding grid), and the largest
   * such loss (kW) */
  lowered: number;
  worstLossKW: number;
  /** allocations whose policy rates were not exactly feasible and were scaled into the
   * constraints before the step (ExchangeAllocation) */
  infeasibleInput: number;
}

const GRID = 1e6; // 1e-6 kW

type LpModel = ReturnType<Highs['createModel']>;
const SHARED = new WeakMap<Highs, { model: LpModel; key: string }>();
/** Release the LP model the exchange steps share for this HiGHS module (the next solve makes a
 * new one). */
export function releaseExchangeModel(h: Highs): void {
  const e = SHARED.get(h);
  if (e) dispose(e.model);
  SHARED.delete(h);
}
function dispose(m: LpModel): void {
  try {
    m.dispose();
  } catch {
    // already gone
  }
}

/** The step for one site; scratch buffers reused between calls. */
export class ExchangeStep {
  readonly sides: number;
  readonly keep: number;
  readonly tieBreak: number;
  readonly rounds: number;
  readonly keepTotal: boolean;
  readonly topUp: boolean;
  readonly onlyBinding: boolean;
  private readonly lpOptions: Record<string, unknown>;
  readonly stats: ExchangeStats = { sites: 0, solves: 0, failed: 0, rejected: 0, gainKW: 0, lowered: 0, worstLossKW: 0, infeasibleInput: 0 };
  private readonly filler = new ProgressiveFill();
  private x0 = new Float64Array(16);
  private xt = new Float64Array(16);
  private lo = new Float64Array(16);
  private col = new Int32Array(16);
  private orig = new Float64Array(16);

  constructor(
    private readonly h: Highs,
    opts: ExchangeOptions = {},
  ) {
    this.sides = opts.sides ?? 32;
    this.keep = opts.keep ?? 0;
    if (!(this.keep >= 0 && this.keep <= 1)) throw new RangeError(`exchange: keep must be in [0, 1] (got ${this.keep})`);
    this.tieBreak = opts.tieBreak ?? 1;
    this.rounds = opts.rounds ?? 1;
    this.keepTotal = opts.keepTotal ?? true;
    this.topUp = opts.topUp ?? true;
    this.onlyBinding = opts.onlyBinding ?? false;
    this.lpOptions = opts.lpOptions ?? {};
    if (!(this.sides >= 3 && Number.isInteger(this.sides))) throw new RangeError(`exchange: sides must be an integer >= 3 (got ${this.sides})`);
  }

  /**
   * Improve the feasible rates x[0..n) (kW) of one site in place. `maxKW[i]`: the session's limit
   * (0 for a session with nothing left), `u[i]` ≥ 0 its utility for the tie-break and the top-up
   * (any scale). Returns whether any rate changed.
   */
  improve(n: number, x: Float64Array, maxKW: ArrayLike<number>, u: ArrayLike<number>, capKW: number, network: FillNetwork): boolean {
    if (n === 0) return false;
    let below = false;
    for (let i = 0; i < n; i++) if (maxKW[i]! > 0 && x[i]! < maxKW[i]! * (1 - 1e-9)) below = true;
    if (!below) return false;
    if (this.onlyBinding && !this.anyBinding(n, x, network)) return false;
    this.stats.sites++;
    if (this.x0.length < n) {
      this.x0 = new Float64Array(n * 2);
      this.xt = new Float64Array(n * 2);
      this.lo = new Float64Array(n * 2);
      this.col = new Int32Array(n * 2);
      this.orig = new Float64Array(n * 2);
    }
    let before = 0;
    for (let i = 0; i < n; i++) {
      before += x[i]!;
      this.orig[i] = x[i]!;
    }
    for (let r = 0; r < this.rounds; r++) {
      let s0 = 0;
      for (let i = 0; i < n; i++) s0 += x[i]!;
      if (!this.lpStep(n, x, maxKW, u, capKW, network)) break;
      let s1 = 0;
      for (let i = 0; i < n; i++) s1 += x[i]!;
      if (!(s1 > s0 + 1e-9)) break;
    }
    if (this.topUp) {
      const base = this.xt;
      for (let i = 0; i < n; i++) base[i] = x[i]!;
      // the top-up's weights: the utilities, or equal where every utility is 0
      let um = 0;
      for (let i = 0; i < n; i++) if (u[i]! > um) um = u[i]!;
      const w = this.lo;
      for (let i = 0; i < n; i++) w[i] = maxKW[i]! > 0 ? (um > 0 ? u[i]! : 1) : 0;
      this.filler.fill(n, w, maxKW, capKW, network, x, base);
      // the fill only raises, but it ends a session within 1e-9 of its limit AT the limit, which
      // can pass a binding constraint by ~1e-9: then the checked point before the top-up stays
      let ok = feasible(n, x, maxKW, capKW, network);
      for (let i = 0; i < n && ok; i++) if (!(x[i]! >= base[i]!)) ok = false;
      if (!ok) for (let i = 0; i < n; i++) x[i] = base[i]!;
    }
    let after = 0;
    for (let i = 0; i < n; i++) after += x[i]!;
    this.stats.gainKW += after - before;
    if (after < before) {
      this.stats.lowered++;
      this.stats.worstLossKW = Math.max(this.stats.worstLossKW, before - after);
    }
    for (let i = 0; i < n; i++) if (x[i] !== this.orig[i]) return true;
    return false;
  }

  /** One HiGHS model per loaded module and option set, shared by every step (so a process that
   * runs many simulations holds one): passModel replaces the model and clears the solver state,
   * so no basis or solution is carried from one solve to the next (tested). */
  private model(): LpModel {
    const key = JSON.stringify(this.lpOptions);
    let e = SHARED.get(this.h);
    if (e && e.key !== key) {
      dispose(e.model);
      e = undefined;
    }
    if (!e) {
      const model = this.h.createModel();
      // simplex without presolve: for LPs of this size presolve costs more than it saves, and a
      // fixed solver choice keeps the solve path the same for every input
      model.options.set({ output_flag: false, presolve: 'off', solver: 'simplex', random_seed: 0, ...this.lpOptions });
      e = { model, key };
      SHARED.set(this.h, e);
    }
    return e.model;
  }

  private dropModel(): void {
    releaseExchangeModel(this.h);
  }

  /** Some network constraint within 1e-6 of its limit at x. */
  private anyBinding(n: number, x: ArrayLike<number>, nw: FillNetwork): boolean {
    for (let k = 0; k < nw.net.m; k++) {
      constraintLoad(n, x, nw, k, LOAD);
      if (Math.hypot(LOAD[0]!, LOAD[1]!) >= nw.net.limitA[k]! * (1 - 1e-6)) return true;
    }
    return false;
  }

  /** One LP step from x (in place); false when x is unchanged. */
  private lpStep(n: number, x: Float64Array, maxKW: ArrayLike<number>, u: ArrayLike<number>, capKW: number, nw: FillNetwork): boolean {
    const h = this.h;
    const { net, model, evse } = nw;
    const a = 1000 / net.voltageV;
    const P = this.sides;
    const x0 = this.x0;
    const lo = this.lo;
    const col = this.col;
    for (let i = 0; i < n; i++) x0[i] = x[i]!;
    // columns: the sessions whose bounds leave room
    let nc = 0;
    for (let i = 0; i < n; i++) {
      const ub = maxKW[i]! > 0 ? maxKW[i]! : 0;
      lo[i] = Math.min(this.keep * x0[i]!, ub);
      col[i] = ub > lo[i]! + 1e-12 ? nc++ : -1;
    }
    if (nc === 0) return false;
    let um = 0;
    for (let i = 0; i < n; i++) if (col[i]! >= 0 && u[i]! > um) um = u[i]!;
    const colCost = new Float64Array(nc);
    const colLower = new Float64Array(nc);
    const colUpper = new Float64Array(nc);
    for (let i = 0; i < n; i++) {
      const c = col[i]!;
      if (c < 0) continue;
      colCost[c] = 1 + (um > 0 ? (this.tieBreak * u[i]!) / um : 0);
      colLower[c] = lo[i]!;
      colUpper[c] = maxKW[i]!;
    }
    // rows, built in a fixed order: the cap, then constraint k = 0..m−1, side p = 0..P−1
    const rowUpper: number[] = [];
    const rowLow: number[] = [];
    const perCol: number[][] = Array.from({ length: nc }, () => []);
    const vals = new Float64Array(n);
    const addRow = (rhsConst: number) => {
      // rhsConst − (fixed sessions' terms); skip when the row cannot bind over the box
      let fixed = 0;
      let most = 0;
      for (let i = 0; i < n; i++) {
        const v = vals[i]!;
        if (v === 0) continue;
        if (col[i]! < 0) fixed += v * x0[i]!;
        else most += v > 0 ? v * maxKW[i]! : v * lo[i]!;
      }
      const rhs = rhsConst - fixed;
      if (most <= rhs) return;
      const r = rowUpper.length;
      rowUpper.push(rhs);
      rowLow.push(-h.infinity);
      for (let i = 0; i < n; i++) {
        const c = col[i]!;
        if (c >= 0 && vals[i] !== 0) perCol[c]!.push(r, vals[i]!);
      }
    };
    if (capKW < Infinity) {
      for (let i = 0; i < n; i++) vals[i] = 1;
      addRow(Math.max(0, capKW));
    }
    if (this.keepTotal && this.keep < 1) {
      // Σ_free x ≥ Σ_free x⁰ (the fixed sessions keep theirs)
      let s0 = 0;
      for (let i = 0; i < n; i++) if (col[i]! >= 0) s0 += x0[i]!;
      const r = rowUpper.length;
      rowUpper.push(h.infinity);
      rowLow.push(s0);
      for (let i = 0; i < n; i++) if (col[i]! >= 0) perCol[col[i]!]!.push(r, 1);
    }
    const cosP = Math.cos(Math.PI / P);
    for (let k = 0; k < net.m; k++) {
      const row = k * net.n;
      const L = net.limitA[k]!;
      if (model === 'linear') {
        for (let i = 0; i < n; i++) vals[i] = Math.abs(net.coef[row + evse[i]!]!) * a;
        addRow(L);
        continue;
      }
      let zr = 0;
      let zi = 0;
      let any = false;
      for (let i = 0; i < n; i++) {
        const e = evse[i]!;
        const c = net.coef[row + e]!;
        if (c === 0) continue;
        any = true;
        zr += c * a * x0[i]! * net.cos[e]!;
        zi += c * a * x0[i]! * net.sin[e]!;
      }
      if (!any) continue;
      const psi = zr === 0 && zi === 0 ? 0 : Math.atan2(zi, zr);
      for (let p = 0; p < P; p++) {
        const phi = psi + Math.PI / P + (2 * Math.PI * p) / P;
        const cp = Math.cos(phi);
        const sp = Math.sin(phi);
        for (let i = 0; i < n; i++) {
          const e = evse[i]!;
          const c = net.coef[row + e]!;
          vals[i] = c === 0 ? 0 : c * a * (net.cos[e]! * cp + net.sin[e]! * sp);
        }
        addRow(L * cosP);
      }
    }
    const nr = rowUpper.length;
    const starts = new Int32Array(nc + 1);
    let nnz = 0;
    for (let c = 0; c < nc; c++) {
      starts[c] = nnz;
      nnz += perCol[c]!.length / 2;
    }
    starts[nc] = nnz;
    const indices = new Int32Array(nnz);
    const values = new Float64Array(nnz);
    let z = 0;
    for (let c = 0; c < nc; c++) {
      const e = perCol[c]!;
      for (let q = 0; q < e.length; q += 2) {
        indices[z] = e[q]!;
        values[z++] = e[q + 1]!;
      }
    }
    const rowLower = Float64Array.from(rowLow);
    this.stats.solves++;
    let sol: Float64Array;
    const data = {
      numCols: nc,
      numRows: nr,
      sense: h.constants.objectiveSense.maximize,
      colCost,
      colLower,
      colUpper,
      rowLower,
      rowUpper: Float64Array.from(rowUpper),
      matrix: { format: 'csc' as const, numRows: nr, numCols: nc, starts, indices, values },
    };
    try {
      const m = this.model();
      m.passModel(data);
      m.run();
      if (m.getModelStatus() !== h.constants.modelStatus.optimal) {
        this.stats.failed++;
        return false;
      }
      sol = m.getSolution().colValue;
    } catch {
      this.stats.failed++;
      this.dropModel();
      return false;
    }
    // Δ = x_lp − x⁰ (the LP's values clamped to their bounds), then the exact back-off
    const xt = this.xt;
    let moved = false;
    for (let i = 0; i < n; i++) {
      const c = col[i]!;
      xt[i] = c < 0 ? x0[i]! : Math.min(Math.max(sol[c]!, lo[i]!), maxKW[i]!);
      if (xt[i] !== x0[i]) moved = true;
    }
    if (!moved) return false;
    const t = this.largestStep(n, x0, xt, capKW, nw);
    if (!(t > 0)) return false;
    for (let i = 0; i < n; i++) {
      if (xt[i] === x0[i]) continue;
      let v = Math.floor((x0[i]! + t * (xt[i]! - x0[i]!)) * GRID) / GRID;
      if (v < lo[i]!) v = lo[i]!;
      xt[i] = Math.min(Math.max(v, 0), maxKW[i]! > 0 ? maxKW[i]! : 0);
    }
    if (!feasible(n, xt, maxKW, capKW, nw)) {
      this.stats.rejected++;
      return false;
    }
    for (let i = 0; i < n; i++) x[i] = xt[i]!;
    return true;
  }

  /** The largest t ∈ [0, 1] with x⁰ + t·(x¹ − x⁰) inside the cap and every true constraint (a
   * hair inside: 1e-9 relative on the limits). */
  private largestStep(n: number, x0: ArrayLike<number>, x1: ArrayLike<number>, capKW: number, nw: FillNetwork): number {
    let t = 1;
    if (capKW < Infinity) {
      let s0 = 0;
      let d = 0;
      for (let i = 0; i < n; i++) {
        s0 += x0[i]!;
        d += x1[i]! - x0[i]!;
      }
      const c = capKW * (1 - 1e-12);
      if (d > 0) t = Math.min(t, Math.max(0, (c - s0) / d));
    }
    const { net, model, evse } = nw;
    const a = 1000 / net.voltageV;
    for (let k = 0; k < net.m; k++) {
      const row = k * net.n;
      const L = net.limitA[k]! * (1 - 1e-9);
      let zr = 0;
      let zi = 0;
      let dr = 0;
      let di = 0;
      for (let i = 0; i < n; i++) {
        const e = evse[i]!;
        const c = net.coef[row + e]!;
        if (c === 0) continue;
        const d = x1[i]! - x0[i]!;
        if (model === 'linear') {
          zr += Math.abs(c) * a * x0[i]!;
          dr += Math.abs(c) * a * d;
        } else {
          zr += c * a * x0[i]! * net.cos[e]!;
          zi += c * a * x0[i]! * net.sin[e]!;
          dr += c * a * d * net.cos[e]!;
          di += c * a * d * net.sin[e]!;
        }
      }
      if (model === 'linear') {
        if (dr > 0) t = Math.min(t, Math.max(0, (L - zr) / dr));
        continue;
      }
      // |z + tΔ|² ≤ L²:  A t² + 2B t + C ≤ 0
      const A = dr * dr + di * di;
      if (A <= 0) continue;
      const B = zr * dr + zi * di;
      const C = zr * zr + zi * zi - L * L;
      if (C > 0) {
        // x⁰ itself is (within rounding) on or past the shrunk limit: move only if Δ points inward
        if (B >= 0) return 0;
        const disc = B * B - A * C;
        if (disc < 0) return 0;
        continue; // a step inward; the full check afterwards decides
      }
      const disc = B * B - A * C;
      t = Math.min(t, Math.max(0, (-B + Math.sqrt(Math.max(0, disc))) / A));
    }
    return t;
  }
}

/** 0 ≤ x ≤ max, Σ x ≤ cap and every network constraint, exactly (no tolerance). */
export function feasible(n: number, x: ArrayLike<number>, maxKW: ArrayLike<number>, capKW: number, nw: FillNetwork): boolean {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (!(v >= 0) || v > (maxKW[i]! > 0 ? maxKW[i]! : 0)) return false;
    s += v;
  }
  if (s > capKW) return false;
  for (let k = 0; k < nw.net.m; k++) {
    constraintLoad(n, x, nw, k, LOAD);
    const L = nw.net.limitA[k]!;
    if (LOAD[0]! * LOAD[0]! + LOAD[1]! * LOAD[1]! > L * L) return false;
  }
  return true;
}

const LOAD = new Float64Array(2);

/** Constraint k's load at rates x (A) into out: the phasor (re, im) for three-phase, (Σ |c|·a·x, 0) for linear. */
function constraintLoad(n: number, x: ArrayLike<number>, nw: FillNetwork, k: number, out: Float64Array): void {
  const { net, model, evse } = nw;
  const a = 1000 / net.voltageV;
  const row = k * net.n;
  let zr = 0;
  let zi = 0;
  for (let i = 0; i < n; i++) {
    const e = evse[i]!;
    const c = net.coef[row + e]!;
    if (c === 0) continue;
    if (model === 'linear') zr += Math.abs(c) * a * x[i]!;
    else {
      zr += c * a * x[i]! * net.cos[e]!;
      zi += c * a * x[i]! * net.sin[e]!;
    }
  }
  out[0] = zr;
  out[1] = zi;
}

/** Scale x[0..n) in place by min(1, cap / Σx, min_k L_k / |z_k|) · (1 − 1e-12): inside the cap and
 * every constraint (both constraint models are positively homogeneous). */
export function scaleInto(n: number, x: Float64Array, capKW: number, nw: FillNetwork): void {
  let f = 1;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  if (s > capKW) f = Math.min(f, capKW / s);
  const limitA = nw.net.limitA;
  for (let k = 0; k < nw.net.m; k++) {
    constraintLoad(n, x, nw, k, LOAD);
    const z = Math.hypot(LOAD[0]!, LOAD[1]!);
    if (z > limitA[k]!) f = Math.min(f, limitA[k]! / z);
  }
  f *= 1 - 1e-12;
  for (let i = 0; i < n; i++) x[i] = x[i]! * f;
}

/** Where the exchange's utilities u_i come from: the need-proportional weights, equal, or
 * urgency 1 / (0.25 h + laxity⁺). (A fourth variant measured in docs/ai.md, the learned policy's
 * own fill weights, gave less energy and was removed.) */
export type ExchangeUtility = 'need' | 'equal' | 'laxity';

/**
 * Any allocation policy followed by the exchange step at every site with a network (sites
 * without one pass through unchanged). The utilities of the tie-break and the top-up: the
 * need-proportional weights (the power each session needs to finish by its departure) or equal.
 */
export class ExchangeAllocation implements AllocationBatchPolicy {
  readonly name: string;
  readonly skipsUnconstrained?: boolean;
  readonly step: ExchangeStep;
  private x = new Float64Array(16);
  private mx = new Float64Array(16);
  private u = new Float64Array(16);
  private evse = new Int32Array(16);

  constructor(
    readonly inner: AllocationBatchPolicy,
    h: Highs,
    opts: ExchangeOptions & { utility?: ExchangeUtility } = {},
  ) {
    if (inner.ignoresLimits) throw new RangeError(`exchange: policy ${inner.name} ignores the site's limits; the exchange step needs a feasible allocation`);
    this.name = inner.name;
    if (inner.skipsUnconstrained) this.skipsUnconstrained = true;
    this.step = new ExchangeStep(h, opts);
    this.utility = opts.utility ?? 'need';
  }

  private readonly utility: ExchangeUtility;

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    this.inner.allocateBatch(b, out);
    for (let j = 0; j < b.nSites; j++) {
      const nv = b.network(j);
      if (!nv) continue;
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      if (this.x.length < n) {
        this.x = new Float64Array(n * 2);
        this.mx = new Float64Array(n * 2);
        this.u = new Float64Array(n * 2);
        this.evse = new Int32Array(n * 2);
      }
      for (let i = 0; i < n; i++) {
        this.mx[i] = b.remainingKWh[o + i]! > 1e-9 ? b.maxKW[o + i]! : 0;
        this.x[i] = Math.min(Math.max(out[o + i]!, 0), this.mx[i]!);
        this.evse[i] = nv.evse(i);
      }
      const fn: FillNetwork = { net: nv.net, model: nv.model, evse: this.evse };
      const cap = b.capKW[j]! > 0 ? b.capKW[j]! : 0;
      // rates a hair outside a constraint (a greedy policy's last step, float rounding) or a policy
      // that ignores the network (equal-share): scaled uniformly into the constraints first — what
      // the station's projection would do — so the step starts from an exactly feasible point
      if (!feasible(n, this.x, this.mx, cap, fn)) {
        this.step.stats.infeasibleInput++;
        scaleInto(n, this.x, cap, fn);
        if (!feasible(n, this.x, this.mx, cap, fn)) continue;
      }
      if (this.utility === 'need') needWeights(b, j, this.u);
      else if (this.utility === 'laxity') {
        for (let i = 0; i < n; i++) {
          const r = o + i;
          const lax = (b.deadline[r]! - b.now) / 3600 - (this.mx[i]! > 0 ? b.remainingKWh[r]! / this.mx[i]! : 0);
          this.u[i] = this.mx[i]! > 0 ? 1 / (0.25 + Math.max(0, lax)) : 0;
        }
      } else for (let i = 0; i < n; i++) this.u[i] = this.mx[i]! > 0 ? 1 : 0;
      if (this.step.improve(n, this.x, this.mx, this.u, cap, fn)) for (let i = 0; i < n; i++) out[o + i] = this.x[i]!;
    }
  }
}
