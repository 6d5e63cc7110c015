/**
 * Vehicle models: battery, consumption and the charging-power limit as a function of state of
 * charge (SoC), with exact charging-time arithmetic and a seeded, weighted model picker.
 *
 * Data: data/ev-specs/fleet-nl-popular.json, derived by scripts/build-fleet.ts from EV2Gym's
 * popular Dutch models (weights = registrations; MIT) and Open EV Data (KilowattApp, MIT with
 * attribution: "Open EV Data (https://github.com/KilowattApp/open-ev-data)"). Provenance in
 * data/ev-specs/PROVENANCE.md.
 *
 * Assumptions (documented, deliberate):
 *  - SoC is a fraction of the usable battery (capacityKWh); energy into the battery equals energy
 *    drawn from the charger (no charging losses are modelled here).
 *  - DC: the vehicle accepts P(soc) = the Open EV Data curve, linearly interpolated between its
 *    points, held flat beyond its first/last point, clamped to [0, dcMaxKW]. With no curve the
 *    limit is a flat dcMaxKW; dcMaxKW = 0 means the model cannot DC charge (infinite time).
 *  - AC: the onboard charger is a constant-power limit acMaxKW up to 100 % SoC. Onboard chargers
 *    at 3.7–22 kW sit far below the battery's acceptance limit, so the CV taper only appears in
 *    the last ~1–2 % and is ignored (a few minutes at most on a full charge).
 *  - Power delivered = min(chargerKW, vehicle limit(soc)). The charging time from soc0 to soc1 is
 *    integral C·3600 / P(s) ds, computed in closed form per linear piece:
 *    P linear from p0 to p1 over [s0, s1] gives C·3600·(s1 - s0)·ln(p1/p0)/(p1 - p0).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';

/** Default fleet file, relative to the repository root. */
export const DEFAULT_FLEET_FILE = 'data/ev-specs/fleet-nl-popular.json';

export type ChargerKind = 'AC' | 'DC';

export interface EvModel {
  readonly name: string;
  readonly weight: number;
  /** Usable battery capacity, kWh. */
  readonly capacityKWh: number;
  readonly consumptionKWhPerKm: number;
  readonly acMaxKW: number;
  /** 0 when the model cannot DC charge. */
  readonly dcMaxKW: number;
  /** DC curve breakpoints: SoC in [0,1], non-decreasing (empty = flat dcMaxKW). */
  readonly curveSoc: Float64Array;
  /** DC curve power at each breakpoint, kW (>= 0). */
  readonly curveKW: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Loading

/** A problem with a fleet file is the user's: one line naming the file and the field (exit 2). */
function fail(path: string, msg: string): never {
  throw new UserError([`${path}: ${msg}`.replace(/\s*\n\s*/g, ' ')]);
}

function num(path: string, field: string, v: unknown, opts: { min?: number; positive?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `${field} must be a finite number (got ${JSON.stringify(v)})`);
  if (opts.positive && !(v > 0)) fail(path, `${field} must be > 0 (got ${v})`);
  if (opts.min !== undefined && v < opts.min) fail(path, `${field} must be >= ${opts.min} (got ${v})`);
  return v;
}

/**
 * Load models from a fleet file ({ models: [{ name, weight, usableBatteryKWh, consumptionKWhPerKm,
 * acMaxKW, dcMaxKW (null = no DC), dcCurve: [[soc, kW], ...] }] }, the format written by
 * scripts/build-fleet.ts). Errors are one line: "<file>: <field> <problem>".
 */
export function loadEvModels(path: string): EvModel[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(path, `cannot read fleet file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (text.trim() === '') fail(path, 'fleet file is empty (expected {"models": [...]})');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(path, `invalid JSON (${(err as Error).message})`);
  }
  const models = (doc as { models?: unknown } | null)?.models;
  if (!Array.isArray(models) || models.length === 0) fail(path, 'models must be a non-empty array');
  const seen = new Set<string>();
  return models.map((raw: unknown, i: number) => {
    const f = `models[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(path, `${f} must be an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.name !== 'string' || r.name.length === 0) fail(path, `${f}.name must be a non-empty string`);
    if (seen.has(r.name)) fail(path, `${f}.name "${r.name}" is duplicated`);
    seen.add(r.name);
    const weight = num(path, `${f}.weight`, r.weight, { min: 0 });
    const capacityKWh = num(path, `${f}.usableBatteryKWh`, r.usableBatteryKWh, { positive: true });
    const consumptionKWhPerKm = num(path, `${f}.consumptionKWhPerKm`, r.consumptionKWhPerKm, { positive: true });
    const acMaxKW = num(path, `${f}.acMaxKW`, r.acMaxKW, { min: 0 });
    const dcMaxKW = r.dcMaxKW === null || r.dcMaxKW === undefined ? 0 : num(path, `${f}.dcMaxKW`, r.dcMaxKW, { min: 0 });
    const curve = r.dcCurve ?? [];
    if (!Array.isArray(curve)) fail(path, `${f}.dcCurve must be an array of [soc, kW] pairs`);
    const curveSoc = new Float64Array(curve.length);
    const curveKW = new Float64Array(curve.length);
    curve.forEach((p: unknown, j: number) => {
      const g = `${f}.dcCurve[${j}]`;
      if (!Array.isArray(p) || p.length !== 2) fail(path, `${g} must be a [soc, kW] pair`);
      const s = num(path, `${g}[0] (soc)`, p[0], { min: 0 });
      if (s > 1) fail(path, `${g}[0] (soc) must be <= 1 (got ${s})`);
      if (j > 0 && s < curveSoc[j - 1]!) fail(path, `${g}[0] (soc) must be non-decreasing (got ${s} after ${curveSoc[j - 1]})`);
      curveSoc[j] = s;
      curveKW[j] = num(path, `${g}[1] (kW)`, p[1], { min: 0 });
    });
    return Object.freeze({ name: r.name, weight, capacityKWh, consumptionKWhPerKm, acMaxKW, dcMaxKW, curveSoc, curveKW });
  });
}

/** A model with a flat limit maxKW on AC and DC (replay and queueing-validation scenarios). */
export function idealModel(name: string, capacityKWh: number, maxKW: number, consumptionKWhPerKm = 0.18): EvModel {
  if (!(capacityKWh > 0) || !Number.isFinite(capacityKWh)) throw new RangeError(`idealModel ${name}: capacityKWh must be > 0 (got ${capacityKWh})`);
  if (!(maxKW >= 0) || !Number.isFinite(maxKW)) throw new RangeError(`idealModel ${name}: maxKW must be >= 0 (got ${maxKW})`);
  return Object.freeze({
    name,
    weight: 1,
    capacityKWh,
    consumptionKWhPerKm,
    acMaxKW: maxKW,
    dcMaxKW: maxKW,
    curveSoc: Float64Array.of(0, 1),
    curveKW: Float64Array.of(maxKW, maxKW),
  });
}

// ---------------------------------------------------------------------------------------------
// Power limits

function checkSoc(soc: number): number {
  if (!Number.isFinite(soc)) throw new RangeError(`soc must be finite (got ${soc})`);
  return soc < 0 ? 0 : soc > 1 ? 1 : soc;
}

/** Values at a and b of the curve line on (a, b), an interval containing no breakpoint. */
function lineEnds(m: EvModel, a: number, b: number): [number, number] {
  const xs = m.curveSoc;
  const ys = m.curveKW;
  const n = xs.length;
  const mid = 0.5 * (a + b);
  if (mid <= xs[0]!) return [ys[0]!, ys[0]!];
  if (mid >= xs[n - 1]!) return [ys[n - 1]!, ys[n - 1]!];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const k = (lo + hi) >>> 1;
    if (xs[k]! <= mid) lo = k;
    else hi = k;
  }
  const x0 = xs[lo]!;
  const y0 = ys[lo]!;
  const slope = (ys[lo + 1]! - y0) / (xs[lo + 1]! - x0); // x0 <= mid < x1, so x1 > x0
  const ya = y0 + slope * (a - x0);
  const yb = y0 + slope * (b - x0);
  return [ya < 0 ? 0 : ya, yb < 0 ? 0 : yb];
}

/** Raw (unclamped) curve value at soc: linear between points, flat outside. */
function curveAt(m: EvModel, s: number): number {
  const xs = m.curveSoc;
  const ys = m.curveKW;
  const n = xs.length;
  if (s <= xs[0]!) return ys[0]!;
  if (s >= xs[n - 1]!) return ys[n - 1]!;
  // largest i with xs[i] <= s (i < n - 1 here)
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= s) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo]!;
  const x1 = xs[lo + 1]!;
  if (x1 === x0) return ys[lo + 1]!;
  return ys[lo]! + ((ys[lo + 1]! - ys[lo]!) * (s - x0)) / (x1 - x0);
}

/** DC power the vehicle accepts at soc (clamped to [0,1]): curve interpolation clamped to [0, dcMaxKW]. */
export function dcPowerAt(m: EvModel, soc: number): number {
  const s = checkSoc(soc);
  if (m.curveSoc.length === 0) return m.dcMaxKW;
  const p = curveAt(m, s);
  return p < 0 ? 0 : p > m.dcMaxKW ? m.dcMaxKW : p;
}

/** Vehicle-side power limit at soc. AC: acMaxKW (constant, see header). DC: dcPowerAt. */
export function vehicleLimitKW(m: EvModel, soc: number, kind: ChargerKind): number {
  if (kind === 'AC') {
    checkSoc(soc);
    return m.acMaxKW;
  }
  return dcPowerAt(m, soc);
}

// ---------------------------------------------------------------------------------------------
// Charging time

/**
 * Visits the pieces of P(s) = min(chargerKW, vehicle limit) on [lo, hi] in increasing s; on each
 * piece P is linear from p0 (at s0) to p1 (at s1). Stops early when visit returns true.
 */
function forEachPiece(
  m: EvModel,
  kind: ChargerKind,
  chargerKW: number,
  lo: number,
  hi: number,
  visit: (s0: number, s1: number, p0: number, p1: number) => boolean,
): void {
  if (!(hi > lo)) return;
  if (kind === 'AC' || m.curveSoc.length === 0) {
    const p = Math.min(chargerKW, kind === 'AC' ? m.acMaxKW : m.dcMaxKW);
    visit(lo, hi, p, p);
    return;
  }
  const cap = Math.min(chargerKW, m.dcMaxKW);
  const xs = m.curveSoc;
  // breakpoints strictly inside (lo, hi)
  const cuts: number[] = [lo];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x > lo && x < hi && x !== cuts[cuts.length - 1]) cuts.push(x);
  }
  cuts.push(hi);
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k]!;
    const b = cuts[k + 1]!;
    // no breakpoint lies inside (a, b), so the raw curve is one line there; take that line's
    // values at a and b (the one-sided limits, right at a vertical step of a duplicated soc)
    const [ra, rb] = lineEnds(m, a, b);
    // split at the crossing with cap, if any
    if ((ra - cap) * (rb - cap) < 0) {
      const sx = a + ((cap - ra) * (b - a)) / (rb - ra);
      if (ra < cap) {
        if (visit(a, sx, ra, cap)) return;
        if (visit(sx, b, cap, cap)) return;
      } else {
        if (visit(a, sx, cap, cap)) return;
        if (visit(sx, b, cap, rb)) return;
      }
    } else if (visit(a, b, Math.min(ra, cap), Math.min(rb, cap))) return;
  }
}

/** Seconds to charge ds (fraction of capacity) while P goes linearly p0 -> p1; K = capacity·3600. */
function pieceTime(K: number, ds: number, p0: number, p1: number): number {
  if (!(p0 > 0) || !(p1 > 0)) return Infinity;
  const x = (p1 - p0) / p0;
  // ln(p1/p0)/(p1-p0) = log1p(x)/(x·p0); series near x = 0
  const g = Math.abs(x) < 1e-8 ? (1 - x / 2) / p0 : Math.log1p(x) / (x * p0);
  return K * ds * g;
}

/**
 * Exact time (s) to go from soc0 to soc1 at min(chargerKW, vehicle limit). 0 if soc1 <= soc0;
 * Infinity if the power is 0 anywhere on the way (e.g. no DC, a 0 kW charger, a curve at 0 kW).
 */
export function chargeTimeS(m: EvModel, soc0: number, soc1: number, chargerKW: number, kind: ChargerKind): number {
  const lo = checkSoc(soc0);
  const hi = checkSoc(soc1);
  if (!(hi > lo)) return 0;
  if (!(chargerKW > 0)) return Infinity;
  const K = m.capacityKWh * 3600;
  let t = 0;
  forEachPiece(m, kind, chargerKW, lo, hi, (s0, s1, p0, p1) => {
    t += pieceTime(K, s1 - s0, p0, p1);
    return t === Infinity;
  });
  return t;
}

/** SoC after charging `seconds` from soc0 at min(chargerKW, vehicle limit): the inverse of chargeTimeS. */
export function socAfter(m: EvModel, soc0: number, seconds: number, chargerKW: number, kind: ChargerKind): number {
  const lo = checkSoc(soc0);
  if (!(seconds > 0) || !(chargerKW > 0)) return lo;
  if (seconds === Infinity) return chargeTimeS(m, lo, 1, chargerKW, kind) === Infinity ? stallSoc(m, lo, chargerKW, kind) : 1;
  const K = m.capacityKWh * 3600;
  let left = seconds;
  let soc = 1;
  forEachPiece(m, kind, chargerKW, lo, 1, (s0, s1, p0, p1) => {
    const tp = pieceTime(K, s1 - s0, p0, p1);
    if (tp <= left) {
      left -= tp;
      return false;
    }
    if (!(p0 > 0)) {
      soc = s0;
      return true;
    }
    const slope = (p1 - p0) / (s1 - s0); // kW per unit SoC
    const y = (slope * left) / K;
    // P(s) = p0 + slope·(s - s0); t = K/slope · ln(P/p0)  =>  s = s0 + p0·expm1(slope·t/K)/slope
    const ds = Math.abs(y) < 1e-12 ? (p0 * left) / K : (p0 * Math.expm1(y)) / slope;
    soc = Math.min(s1, Math.max(s0, s0 + ds));
    return true;
  });
  return soc;
}

/** First SoC >= soc0 where power reaches 0 (charging stalls), for socAfter(…, Infinity). */
function stallSoc(m: EvModel, soc0: number, chargerKW: number, kind: ChargerKind): number {
  let soc = 1;
  forEachPiece(m, kind, chargerKW, soc0, 1, (s0, s1, p0, p1) => {
    if (!(p0 > 0)) {
      soc = s0;
      return true;
    }
    if (!(p1 > 0)) {
      soc = s1;
      return true;
    }
    return false;
  });
  return soc;
}

// ---------------------------------------------------------------------------------------------
// Fleet mix

/**
 * Weighted picker: u in [0,1) (one draw from a seeded stream) -> model index with probability
 * weight / total. Cumulative weights + binary search; deterministic, O(log n) per draw.
 * Zero-weight models are never returned.
 */
export function makeModelPicker(models: readonly { readonly weight: number }[]): (u: number) => number {
  const n = models.length;
  if (n === 0) throw new RangeError('makeModelPicker: no models');
  const cum = new Float64Array(n);
  let total = 0;
  let lastPositive = -1;
  for (let i = 0; i < n; i++) {
    const w = models[i]!.weight;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`makeModelPicker: models[${i}].weight must be finite and >= 0 (got ${w})`);
    total += w;
    cum[i] = total;
    if (w > 0) lastPositive = i;
  }
  if (!(total > 0)) throw new RangeError('makeModelPicker: total weight must be > 0');
  return (u: number): number => {
    if (!(u >= 0)) u = 0; // also NaN
    const target = u * total;
    // first i with cum[i] > target
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo < n ? lo : lastPositive;
  };
}
