/**
 * Lower bounds on the mean (travel to the station + wait) of a station-choice day, the yardstick
 * of the station-choice cases of `evsim evaluate` ("bound" row, docs/evaluation.md).
 *
 * Input: the day's charging requests, known in hindsight: request i decides at t_i and has
 * candidates k (the stations a policy may choose: station s_k, travel time τ_k, charging time
 * p_k at the best charger the EV can use there, from the candidate set of the simulation), the
 * chargers m_s per station, the horizon H and the patience W (fleet.maxWait, 0 = never gives up).
 * The cost of a request is what the metric travel_wait_min counts: plug-in − t_i for a session
 * that charged, travel + (give-up − arrival) ≥ τ_min + W for one that gave up, horizon − t_i for
 * one still queued at the horizon.
 *
 * 1. Travel floor: Σ_i min_k τ_k (zero wait everywhere).
 * 2. Time-indexed LP (HiGHS): slots of Δ seconds (`slotS`, default 300) from t = 0.
 *      x_{i,k,u} ∈ [0, 1]  request i starts charging at station s_k in slot u
 *                          (u ≥ ⌊a/Δ⌋, a = t_i + τ_k its arrival; cost max(uΔ, a) − t_i, a lower
 *                          bound on plug-in − t_i for any start inside slot u)
 *      d_i ∈ [0, 1]        request i never charges: cost D_i = min(τ_min + W, H − t_i)
 *                          (H − t_i when W = 0)
 *      Σ_{k,u} x_{i,k,u} + d_i = 1                       for every request
 *      Σ x_{i,k,u} over the (i,k,u) that occupy slot v ≤ m_s    for every station s, slot v < H/Δ
 *    where a start in slot u occupies the slots u+1 … ⌊(max(uΔ, a) + p_k)/Δ⌋ − 1: only slots the
 *    session covers entirely whatever its start inside slot u. Starts whose cost is not below D_i
 *    are left out (d_i is never worse). Minimise Σ cost.
 *    Every schedule the simulation can produce (one EV per charger, no charging before arrival,
 *    at least p_k of charger time per session, one of the candidates per request) is a feasible
 *    0/1 point of this LP with a cost no higher than its metric, so the LP optimum is a lower
 *    bound on Σ_i cost_i, hence on the mean over the requests.
 *
 * Assumptions: the requests (decision times and candidate sets) are those of one simulated run:
 * another policy's run of the same seed makes nearly the same requests (the EVs' days do not
 * depend on the choice until they charge), but near the horizon, or after a give-up, the sets
 * can differ, so a bound is reported per run on that run's requests; occupancy p_k is the exact
 * charging time at the rated power (chargeTimeS), which uncapped stations deliver; no wait
 * before departure (the evaluation runs without ledger stacks). Relaxations (so the bound is not
 * tight): fractional starts and stations, charger kinds pooled per station, the partly covered
 * first and last slots of a session are free.
 *
 * Deterministic: the LP is built in request, candidate and slot order; HiGHS is deterministic for
 * the same model and options.
 */
import { highs } from './optimum.js';

/** One charging request: its decision time and candidates (parallel arrays, same length). */
export interface ChoiceRequest {
  /** seconds from the start of the run */
  decidedAtS: number;
  station: ArrayLike<number>;
  travelS: ArrayLike<number>;
  chargeS: ArrayLike<number>;
}

export interface ChoiceBoundInput {
  requests: readonly ChoiceRequest[];
  /** chargers per station (by station index) */
  chargers: ArrayLike<number>;
  horizonS: number;
  /** patience in the queue (s); 0: never gives up */
  maxWaitS: number;
  /** slot length of the LP (s) */
  slotS?: number;
}

export interface ChoiceBound {
  requests: number;
  /** mean of min_k τ_k (min) */
  travelFloorMin: number;
  /** LP bound on the mean of (travel + wait) (min) */
  lpBoundMin: number;
  /** share of the requests the LP leaves uncharged (Σ d_i / n) */
  lpDropShare: number;
  cols: number;
  rows: number;
  slotS: number;
}

/** The travel floor alone: mean over the requests of the nearest candidate's travel time (min). */
export function travelFloorMin(requests: readonly ChoiceRequest[]): number {
  if (requests.length === 0) return 0;
  let s = 0;
  for (const r of requests) s += minOf(r.travelS);
  return s / requests.length / 60;
}

function minOf(a: ArrayLike<number>): number {
  let m = Infinity;
  for (let k = 0; k < a.length; k++) if (a[k]! < m) m = a[k]!;
  return m;
}

/** Both bounds (see the header). */
export async function choiceBound(inp: ChoiceBoundInput): Promise<ChoiceBound> {
  const slot = inp.slotS ?? 300;
  if (!(slot > 0)) throw new RangeError(`choice bound: slotS must be > 0 (got ${slot})`);
  const H = inp.horizonS;
  const V = Math.ceil(H / slot); // capacity slots 0..V-1
  const W = inp.maxWaitS;
  const reqs = inp.requests.filter((r) => r.station.length > 0);
  const n = reqs.length;
  const out: ChoiceBound = { requests: n, travelFloorMin: travelFloorMin(reqs), lpBoundMin: 0, lpDropShare: 0, cols: 0, rows: 0, slotS: slot };
  if (n === 0) return out;

  // columns: per request its starts (k, u), then its drop column; rows: one per request, then
  // capacity rows (station, slot) created on first use
  const colCost: number[] = [];
  const entries: number[][] = []; // per column: row, value, ...
  const capRow = new Map<number, number>(); // s * V + v → row
  const capUpper: number[] = [];
  const dropCols: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = reqs[i]!;
    const t = r.decidedAtS;
    const tauMin = minOf(r.travelS);
    const D = W > 0 ? Math.min(tauMin + W, H - t) : H - t;
    for (let k = 0; k < r.station.length; k++) {
      const s = r.station[k]!;
      const a = t + r.travelS[k]!;
      const p = r.chargeS[k]!;
      for (let u = Math.floor(a / slot); u * slot < H; u++) {
        const start = Math.max(u * slot, a);
        const cost = start - t;
        if (cost >= D) break;
        const col: number[] = [i, 1];
        const last = Math.min(V - 1, Math.floor((start + p) / slot) - 1);
        for (let v = u + 1; v <= last; v++) {
          const key = s * V + v;
          let row = capRow.get(key);
          if (row === undefined) {
            row = -1 - capUpper.length; // resolved below: capacity rows follow the n request rows
            capRow.set(key, row);
            capUpper.push(inp.chargers[s]!);
          }
          col.push(row, 1);
        }
        entries.push(col);
        colCost.push(cost);
      }
    }
    dropCols.push(entries.length);
    entries.push([i, 1]);
    colCost.push(D);
  }
  const nCols = entries.length;
  const nRows = n + capUpper.length;
  const starts = new Int32Array(nCols + 1);
  let nnz = 0;
  for (let c = 0; c < nCols; c++) {
    starts[c] = nnz;
    nnz += entries[c]!.length / 2;
  }
  starts[nCols] = nnz;
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let z = 0;
  for (let c = 0; c < nCols; c++) {
    const e = entries[c]!;
    for (let q = 0; q < e.length; q += 2) {
      const row = e[q]!;
      indices[z] = row >= 0 ? row : n + (-1 - row);
      values[z++] = e[q + 1]!;
    }
  }
  const h = await highs();
  const rowLower = new Float64Array(nRows);
  const rowUpper = new Float64Array(nRows);
  for (let i = 0; i < n; i++) rowLower[i] = rowUpper[i] = 1;
  for (let q = 0; q < capUpper.length; q++) {
    rowLower[n + q] = -h.infinity;
    rowUpper[n + q] = capUpper[q]!;
  }
  const model = h.createModel({
    numCols: nCols,
    numRows: nRows,
    sense: h.constants.objectiveSense.minimize,
    colCost: Float64Array.from(colCost),
    colLower: new Float64Array(nCols),
    colUpper: new Float64Array(nCols).fill(1),
    rowLower,
    rowUpper,
    matrix: { format: 'csc', numRows: nRows, numCols: nCols, starts, indices, values },
  });
  try {
    model.options.set({ output_flag: false });
    model.run();
    const status = model.getModelStatus();
    if (status !== h.constants.modelStatus.optimal) throw new Error(`choice bound: HiGHS ended with status ${String(status)}`);
    const x = model.getSolution().colValue;
    let drop = 0;
    for (const c of dropCols) drop += Math.max(0, x[c]!);
    out.lpBoundMin = model.getObjectiveValue() / n / 60;
    out.lpDropShare = drop / n;
    out.cols = nCols;
    out.rows = nRows;
    return out;
  } finally {
    model.dispose();
  }
}
