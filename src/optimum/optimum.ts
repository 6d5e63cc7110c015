/**
 * The offline (hindsight) optimum of a charging site: with every session's arrival, departure,
 * energy request and charger known in advance, the most energy any allocation could deliver.
 * It is the yardstick every allocation policy is reported against ("% of the optimum").
 *
 * The problem is a linear program solved with HiGHS (compiled to WebAssembly, npm `highs`):
 *
 *   variables   x_{j,t} ≥ 0: the power (kW) of session j in allocation period t, for the periods
 *               inside [arrival_j, departure_j); x_{j,t} ≤ maxKW_j (charger and vehicle limit)
 *   energy      Σ_t x_{j,t} · Δ/3600 ≤ E_j                       (no more than requested)
 *   site        for every period t, one of
 *               - cap:          Σ_j x_{j,t} ≤ capKW
 *               - linear:       Σ_j |c_{k,e_j}| · a_{j,t} ≤ L_k          for each constraint k
 *               - three-phase:  |Σ_j c_{k,e_j} · a_{j,t} · e^{jθ_{e_j}}| ≤ L_k, a second-order
 *                 cone, bracketed by two polygons with P sides (P = `sides`, default 32):
 *                 outer  Σ_j c · a · cos(θ − φ_p) ≤ L_k          for φ_p = 2πp/P
 *                 inner  Σ_j c · a · cos(θ − φ_p) ≤ L_k·cos(π/P)
 *                 (the outer polygon contains the disc |z| ≤ L_k, so its optimum is an upper
 *                 bound; the inner one lies inside it, so its optimum is feasible: a lower bound)
 *               where a_{j,t} = x_{j,t} · 1000 / V is the current (A) at the site voltage V.
 *   objective   maximise Σ_{j,t} x_{j,t} · Δ/3600 (energy, kWh)
 *
 * Assumptions (stated, as in acnportal's offline optimal): continuous rates (the EVSEs' discrete
 * pilot steps are relaxed, so the optimum is an upper bound on what a discrete schedule can do),
 * an ideal battery (no taper: the replayed sessions' vehicles are ideal, as in the simulation),
 * periods aligned to multiples of Δ from t = 0 (a session uses the periods that lie entirely
 * inside its stay), no charging before arrival or after departure.
 *
 * Decomposition: sessions whose stays do not overlap in time never share a constraint, so the
 * sessions are cut into blocks of overlapping stays and each block is solved on its own; the
 * optimum is the sum. Results are deterministic (HiGHS is deterministic for the same model and
 * options; the model is built in a fixed order).
 */
import { createRequire } from 'node:module';
import type { Highs } from 'highs';
import type { SiteConstraintModel, SiteNetwork } from '../charging/siteNetwork.js';

export interface OptimumSession {
  /** seconds from the start of the horizon */
  arrivalS: number;
  departureS: number;
  energyKWh: number;
  /** the most power the session can draw (kW): charger and vehicle */
  maxKW: number;
  /** index of its EVSE in the site network (network constraints only) */
  evse: number;
}

export type SiteLimit =
  | { kind: 'cap'; capKW: number }
  | { kind: 'network'; net: SiteNetwork; model: SiteConstraintModel; sides?: number };

export interface OptimumResult {
  /** optimum energy (kWh); for three-phase, the inner (feasible) bound */
  energyKWh: number;
  /** three-phase only: the outer bound (kWh); equal to energyKWh for cap and linear */
  upperKWh: number;
  requestedKWh: number;
  /** energy each session gets in the optimal (inner) schedule */
  perSessionKWh: Float64Array;
  /** the optimal (inner, for three-phase) schedule: one entry per (session, period) variable */
  schedule: { session: Int32Array; period: Int32Array; kW: Float64Array };
  blocks: number;
  variables: number;
  rows: number;
}

// highs ships one declaration file for its CommonJS and ES builds; under NodeNext its default
// export types as the module namespace, so load the CommonJS build, whose export is the loader.
const loadHighs = createRequire(import.meta.url)('highs') as (options?: object) => Promise<Highs>;
let highsPromise: Promise<Highs> | null = null;
/** The HiGHS WebAssembly module, loaded once from the installed package (its .wasm file sits
 * beside its loader in node_modules/highs/build; nothing is fetched). */
export function highs(): Promise<Highs> {
  if (!highsPromise)
    highsPromise = loadHighs().then((h) => {
      highsReady = h;
      return h;
    });
  return highsPromise;
}
let highsReady: Highs | null = null;
/** The HiGHS module if `highs()` has finished loading it, else null: for synchronous callers
 * (the simulation's exchange step, site.exchange) after an `await highs()` elsewhere. */
export function loadedHighs(): Highs | null {
  return highsReady;
}

interface Block {
  sessions: number[];
  t0: number;
  t1: number;
}

/** First and one-past-last period index inside [arrival, departure). */
function periodsOf(s: OptimumSession, periodS: number): [number, number] {
  const a = Math.ceil(s.arrivalS / periodS - 1e-9);
  const b = Math.floor(s.departureS / periodS + 1e-9);
  return [a, Math.max(a, b)];
}

function blocksOf(sessions: readonly OptimumSession[], periodS: number): Block[] {
  const order = sessions
    .map((s, j) => ({ j, p: periodsOf(s, periodS) }))
    .filter((x) => x.p[1] > x.p[0] && sessions[x.j]!.energyKWh > 0 && sessions[x.j]!.maxKW > 0)
    .sort((x, y) => x.p[0] - y.p[0] || x.j - y.j);
  const blocks: Block[] = [];
  let cur: Block | null = null;
  for (const { j, p } of order) {
    if (cur && p[0] < cur.t1) {
      cur.sessions.push(j);
      cur.t1 = Math.max(cur.t1, p[1]);
    } else {
      cur = { sessions: [j], t0: p[0], t1: p[1] };
      blocks.push(cur);
    }
  }
  return blocks;
}

/** What one LP optimises over its sessions. */
interface LpGoal {
  /** 'energy': maximise delivered energy; 'cost': minimise Σ price·energy + demandCharge·peak
   * subject to delivering at least `minEnergyKWh` (price 0 and demand charge 1 = minimum peak) */
  kind: 'energy' | 'cost';
  minEnergyKWh?: number;
  /** $ per kWh in period t (cost goal) */
  priceOf?: (t: number) => number;
  /** $ per kW of the peak (cost goal) */
  demandCharge?: number;
}

interface LpOut {
  energy: number;
  peakKW: number;
  objective: number;
  cols: number;
  rows: number;
}

/** Build and solve one LP over the sessions `js`; `inner` shrinks three-phase limits to the
 * inscribed polygon. With a cost goal, column `nCols` is the peak P (kW) and every period gets a
 * row Σ_j x_{j,t} − P ≤ 0. */
function solveLp(
  h: Highs,
  sessions: readonly OptimumSession[],
  js: readonly number[],
  periodS: number,
  limit: SiteLimit,
  inner: boolean,
  goal: LpGoal,
  perSession: Float64Array | null,
  schedule: { session: number[]; period: number[]; kW: number[] } | null,
): LpOut {
  const hours = periodS / 3600;
  const colSession: number[] = [];
  const colPeriod: number[] = [];
  for (const j of js) {
    const [a, e] = periodsOf(sessions[j]!, periodS);
    for (let t = a; t < e; t++) {
      colSession.push(j);
      colPeriod.push(t);
    }
  }
  const nX = colSession.length;
  const withPeak = goal.kind === 'cost';
  const nCols = nX + (withPeak ? 1 : 0);
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const entries: number[][] = Array.from({ length: nCols }, () => []); // per column: row, value, ...
  const addRow = (lower: number, upper: number) => {
    rowLower.push(lower);
    rowUpper.push(upper);
    return rowUpper.length - 1;
  };
  // per-session energy rows
  let c = 0;
  for (const j of js) {
    const [a, e] = periodsOf(sessions[j]!, periodS);
    const r = addRow(-Infinity, sessions[j]!.energyKWh);
    for (let t = a; t < e; t++) entries[c++]!.push(r, hours);
  }
  if (goal.minEnergyKWh !== undefined) {
    const r = addRow(goal.minEnergyKWh, Infinity);
    for (let k = 0; k < nX; k++) entries[k]!.push(r, hours);
  }
  const byPeriod = new Map<number, number[]>();
  for (let k = 0; k < nX; k++) {
    const t = colPeriod[k]!;
    let l = byPeriod.get(t);
    if (!l) byPeriod.set(t, (l = []));
    l.push(k);
  }
  const periods = [...byPeriod.keys()].sort((x, y) => x - y);
  for (const t of periods) {
    const cols = byPeriod.get(t)!;
    if (withPeak) {
      const r = addRow(-Infinity, 0);
      for (const k of cols) entries[k]!.push(r, 1);
      entries[nX]!.push(r, -1);
    }
    if (limit.kind === 'cap') {
      const r = addRow(-Infinity, limit.capKW);
      for (const k of cols) entries[k]!.push(r, 1);
      continue;
    }
    const { net, model } = limit;
    const ampsPerKW = 1000 / net.voltageV;
    const P = limit.sides ?? 32;
    for (let q = 0; q < net.m; q++) {
      const touching = cols.filter((k) => net.coef[q * net.n + sessions[colSession[k]!]!.evse] !== 0);
      if (touching.length === 0) continue;
      if (model === 'linear') {
        const r = addRow(-Infinity, net.limitA[q]!);
        for (const k of touching) entries[k]!.push(r, Math.abs(net.coef[q * net.n + sessions[colSession[k]!]!.evse]!) * ampsPerKW);
        continue;
      }
      const L = net.limitA[q]! * (inner ? Math.cos(Math.PI / P) : 1);
      for (let p = 0; p < P; p++) {
        const phi = (2 * Math.PI * p) / P;
        const cp = Math.cos(phi);
        const sp = Math.sin(phi);
        let any = false;
        const vals: number[] = [];
        for (const k of touching) {
          const i = sessions[colSession[k]!]!.evse;
          // Re(c · e^{jθ} · e^{-jφ}) = c · (cosθ cosφ + sinθ sinφ)
          const v = net.coef[q * net.n + i]! * (net.cos[i]! * cp + net.sin[i]! * sp) * ampsPerKW;
          vals.push(v);
          if (v > 1e-12) any = true;
        }
        if (!any) continue; // this direction cannot bind (every term ≤ 0)
        const r = addRow(-Infinity, L);
        touching.forEach((k, idx) => {
          const v = vals[idx]!;
          if (v !== 0) entries[k]!.push(r, v);
        });
      }
    }
  }
  const nRows = rowUpper.length;
  const starts = new Int32Array(nCols + 1);
  let nnz = 0;
  for (let k = 0; k < nCols; k++) {
    starts[k] = nnz;
    nnz += entries[k]!.length / 2;
  }
  starts[nCols] = nnz;
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let z = 0;
  for (let k = 0; k < nCols; k++) {
    const e = entries[k]!;
    for (let u = 0; u < e.length; u += 2) {
      indices[z] = e[u]!;
      values[z++] = e[u + 1]!;
    }
  }
  const colCost = new Float64Array(nCols);
  const colLower = new Float64Array(nCols);
  const colUpper = new Float64Array(nCols);
  for (let k = 0; k < nX; k++) {
    colUpper[k] = sessions[colSession[k]!]!.maxKW;
    colCost[k] = goal.kind === 'energy' ? hours : (goal.priceOf?.(colPeriod[k]!) ?? 0) * hours;
  }
  if (withPeak) {
    colUpper[nX] = h.infinity;
    colCost[nX] = goal.demandCharge ?? 1;
  }
  const inf = (v: number) => (v === Infinity ? h.infinity : v === -Infinity ? -h.infinity : v);
  const model = h.createModel({
    numCols: nCols,
    numRows: nRows,
    sense: goal.kind === 'energy' ? h.constants.objectiveSense.maximize : h.constants.objectiveSense.minimize,
    colCost,
    colLower,
    colUpper,
    rowLower: Float64Array.from(rowLower, inf),
    rowUpper: Float64Array.from(rowUpper, inf),
    matrix: { format: 'csc', numRows: nRows, numCols: nCols, starts, indices, values },
  });
  try {
    model.options.set({ output_flag: false });
    model.run();
    const status = model.getModelStatus();
    if (status !== h.constants.modelStatus.optimal) {
      throw new Error(`offline optimum: HiGHS ended with status ${String(status)} (${goal.kind} goal)`);
    }
    const x = model.getSolution().colValue;
    let energy = 0;
    const load = new Map<number, number>();
    for (let k = 0; k < nX; k++) {
      const kw = Math.max(0, x[k]!);
      const ek = kw * hours;
      energy += ek;
      load.set(colPeriod[k]!, (load.get(colPeriod[k]!) ?? 0) + kw);
      if (perSession) perSession[colSession[k]!]! += ek;
      if (schedule) {
        schedule.session.push(colSession[k]!);
        schedule.period.push(colPeriod[k]!);
        schedule.kW.push(kw);
      }
    }
    let peak = 0;
    for (const v of load.values()) peak = Math.max(peak, v);
    return { energy, peakKW: peak, objective: model.getObjectiveValue(), cols: nCols, rows: nRows };
  } finally {
    model.dispose();
  }
}

/** The hindsight maximum energy of the sessions under the site limit, with allocation period Δ. */
export async function maxEnergyOptimum(sessions: readonly OptimumSession[], periodS: number, limit: SiteLimit): Promise<OptimumResult> {
  const h = await highs();
  const blocks = blocksOf(sessions, periodS);
  const per = new Float64Array(sessions.length);
  let energy = 0;
  let upper = 0;
  let cols = 0;
  let rows = 0;
  const threePhase = limit.kind === 'network' && limit.model === 'three-phase';
  const sched = { session: [] as number[], period: [] as number[], kW: [] as number[] };
  for (const b of blocks) {
    const r = solveLp(h, sessions, b.sessions, periodS, limit, threePhase, { kind: 'energy' }, per, sched);
    energy += r.energy;
    cols += r.cols;
    rows += r.rows;
    upper += threePhase ? solveLp(h, sessions, b.sessions, periodS, limit, false, { kind: 'energy' }, null, null).energy : r.energy;
  }
  let requested = 0;
  for (const s of sessions) requested += s.energyKWh;
  return {
    energyKWh: energy,
    upperKWh: upper,
    requestedKWh: requested,
    perSessionKWh: per,
    schedule: { session: Int32Array.from(sched.session), period: Int32Array.from(sched.period), kW: Float64Array.from(sched.kW) },
    blocks: blocks.length,
    variables: cols,
    rows,
  };
}

export interface CostOptimumResult {
  /** the optimum of the goal: $ for cost, kW for peak */
  objective: number;
  energyKWh: number;
  /** the deliverable energy the share refers to (the max-energy optimum, inner bound) */
  deliverableKWh: number;
  peakKW: number;
  energyCost: number;
  demandCost: number;
  schedule: { session: Int32Array; period: Int32Array; kW: Float64Array };
}

/**
 * Hindsight minimum peak or minimum cost that still delivers `share` of the deliverable energy
 * (the max-energy optimum under the same site limit). One LP over all sessions, since the peak
 * couples every period of the horizon.
 * - goal 'peak': minimise the peak P of the site's aggregate power (kW, per allocation period);
 * - goal 'cost': minimise Σ_t price_t · energy_t + demandCharge · P, with price_t the tariff's
 *   price ($/kWh) for period t (`priceOf`), and one demand charge ($/kW) for the horizon's peak
 *   (a monthly bill: use a horizon of one billing month).
 * For three-phase limits the inner polygon is used, so the schedule is feasible.
 */
export async function costOptimum(
  sessions: readonly OptimumSession[],
  periodS: number,
  limit: SiteLimit,
  opts: { goal: 'peak' | 'cost'; share: number; priceOf?: (period: number) => number; demandCharge?: number },
): Promise<CostOptimumResult> {
  if (!(opts.share >= 0 && opts.share <= 1)) throw new RangeError(`offline optimum: share must be in [0, 1] (got ${opts.share})`);
  const h = await highs();
  const max = await maxEnergyOptimum(sessions, periodS, limit);
  const js = blocksOf(sessions, periodS).flatMap((b) => b.sessions);
  const threePhase = limit.kind === 'network' && limit.model === 'three-phase';
  const sched = { session: [] as number[], period: [] as number[], kW: [] as number[] };
  const hours = periodS / 3600;
  // a hair below the target keeps the LP feasible against the max-energy solve's own tolerance
  const target = max.energyKWh * opts.share * (1 - 1e-9);
  const goal: LpGoal =
    opts.goal === 'peak'
      ? { kind: 'cost', minEnergyKWh: target, demandCharge: 1 }
      : { kind: 'cost', minEnergyKWh: target, priceOf: opts.priceOf, demandCharge: opts.demandCharge ?? 0 };
  const r = solveLp(h, sessions, js, periodS, limit, threePhase, goal, null, sched);
  let energyCost = 0;
  if (opts.priceOf) for (let k = 0; k < sched.kW.length; k++) energyCost += opts.priceOf(sched.period[k]!) * sched.kW[k]! * hours;
  return {
    objective: r.objective,
    energyKWh: r.energy,
    deliverableKWh: max.energyKWh,
    peakKW: r.peakKW,
    energyCost,
    demandCost: (opts.demandCharge ?? 0) * r.peakKW,
    schedule: { session: Int32Array.from(sched.session), period: Int32Array.from(sched.period), kW: Float64Array.from(sched.kW) },
  };
}
