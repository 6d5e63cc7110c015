/**
 * Site electrical networks: the EVSEs of a charging site, their phases and discrete pilot rates,
 * and the current constraints (pods, transformer secondary and primary phases) a schedule must
 * respect — the model of acnportal's `ChargingNetwork`, read from a data file such as
 * `data/sites/caltech-acn.json`.
 *
 * Constraint models (`SiteConstraintModel`):
 * - `three-phase`: EVSE i draws a current r_i ≥ 0 (A) whose phasor is r_i·e^{jθ_i} (θ_i its phase
 *   angle); constraint k holds when |Σ_i c_ki · r_i · e^{jθ_i}| ≤ L_k — acnportal's
 *   `constraint_current(..., linear=False)`. The feasible set is convex (a second-order cone in r).
 * - `linear`: Σ_i |c_ki| · r_i ≤ L_k — the conservative linearisation described by acnportal's
 *   `linear=True` docstring ("ignoring the phase angle and taking the absolute value of all load
 *   coefficients"). Since |Σ c r e^{jθ}| ≤ Σ |c| r, every linearly feasible schedule is feasible
 *   in the three-phase model (an inner approximation; tested). Note: acnportal's code for
 *   `linear=True` computes |Σ c·r| without the absolute values of the coefficients, which lets
 *   terms of opposite sign cancel and is *not* conservative; evsim follows the documented intent.
 *
 * Discrete rates: an EVSE type lists its allowed pilot rates (A, including 0), or is continuous
 * up to a maximum. `project` turns any desired current vector into one that is feasible by
 * construction: within each EVSE's maximum, on its allowed rates, and inside every constraint.
 *
 * Units: currents in A; power = r · voltageV / 1000 kW (32 A at 208 V = 6.656 kW).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../core/errors.js';

export type SiteConstraintModel = 'three-phase' | 'linear';
export const SITE_CONSTRAINT_MODELS: readonly SiteConstraintModel[] = ['three-phase', 'linear'];

const EvseTypeSchema = z.union([
  z.strictObject({ allowedRatesA: z.array(z.number().min(0).max(1000)).min(1) }),
  z.strictObject({ maxRateA: z.number().positive().max(1000), continuous: z.literal(true) }),
]);

const SiteFileSchema = z.object({
  site: z.string().optional(),
  source: z.string().optional(),
  voltageV: z.number().positive().max(100_000),
  evseTypes: z.record(z.string(), EvseTypeSchema),
  transformer: z
    .object({ defaultCapKW: z.number().positive(), primaryLimitA: z.string().optional(), secondaryLimitA: z.string().optional() })
    .optional(),
  semantics: z.string().optional(),
  evses: z.array(z.strictObject({ id: z.string().min(1), type: z.string().min(1), phaseAngleDeg: z.number().min(-360).max(360) })).min(1),
  constraints: z.array(
    z.strictObject({
      name: z.string().min(1),
      limitA: z.number().positive().optional(),
      limit: z.enum(['primary', 'secondary']).optional(),
      coefficients: z.record(z.string(), z.number().finite()),
    }),
  ),
});

export type SiteFile = z.infer<typeof SiteFileSchema>;

/** Transformer phase-current limits from its cap, as acnportal's caltech_acn(): the primary side
 * at 277 V, the secondary at 120 V, the power split over three phases. */
export function transformerLimitsA(capKW: number): { primary: number; secondary: number } {
  return { primary: (capKW * 1000) / 3 / 277, secondary: (capKW * 1000) / 3 / 120 };
}

export class SiteNetwork {
  /** EVSE count and constraint count */
  readonly n: number;
  readonly m: number;
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly voltageV: number;
  /** cos θ_i and sin θ_i per EVSE */
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  /** maximum pilot (A) per EVSE */
  readonly maxA: Float64Array;
  /** allowed rates per EVSE, ascending and starting at 0; null for a continuous EVSE */
  readonly rates: readonly (Float64Array | null)[];
  readonly constraintNames: readonly string[];
  /** limits L_k (A) */
  readonly limitA: Float64Array;
  /** dense coefficients c_ki at [k * n + i] */
  readonly coef: Float64Array;

  constructor(def: {
    voltageV: number;
    evses: readonly { id: string; phaseAngleDeg: number; allowedRatesA?: readonly number[]; maxRateA?: number }[];
    constraints: readonly { name: string; limitA: number; coefficients: Readonly<Record<string, number>> }[];
  }) {
    this.n = def.evses.length;
    this.m = def.constraints.length;
    this.voltageV = def.voltageV;
    this.ids = def.evses.map((e) => e.id);
    const index = new Map<string, number>();
    this.ids.forEach((id, i) => {
      if (index.has(id)) throw new Error(`site network: EVSE id ${id} appears twice`);
      index.set(id, i);
    });
    this.index = index;
    this.cos = new Float64Array(this.n);
    this.sin = new Float64Array(this.n);
    this.maxA = new Float64Array(this.n);
    const rates: (Float64Array | null)[] = [];
    def.evses.forEach((e, i) => {
      const th = (e.phaseAngleDeg * Math.PI) / 180;
      this.cos[i] = Math.cos(th);
      this.sin[i] = Math.sin(th);
      if (e.allowedRatesA) {
        const r = Float64Array.from(new Set([0, ...e.allowedRatesA])).sort();
        rates.push(r);
        this.maxA[i] = r[r.length - 1]!;
      } else {
        rates.push(null);
        this.maxA[i] = e.maxRateA ?? 0;
      }
    });
    this.rates = rates;
    this.constraintNames = def.constraints.map((c) => c.name);
    this.limitA = Float64Array.from(def.constraints, (c) => c.limitA);
    this.coef = new Float64Array(this.m * this.n);
    def.constraints.forEach((c, k) => {
      for (const [id, v] of Object.entries(c.coefficients)) {
        const i = index.get(id);
        if (i === undefined) throw new Error(`site network: constraint ${c.name} names unknown EVSE ${id}`);
        this.coef[k * this.n + i] = v;
      }
    });
  }

  /** Aggregate current magnitude |I_k| (A) of every constraint for currents r (A) into out. */
  constraintCurrents(r: ArrayLike<number>, model: SiteConstraintModel, out: Float64Array = new Float64Array(this.m)): Float64Array {
    const { n, coef, cos, sin } = this;
    for (let k = 0; k < this.m; k++) {
      const row = k * n;
      if (model === 'linear') {
        let s = 0;
        for (let i = 0; i < n; i++) s += Math.abs(coef[row + i]!) * r[i]!;
        out[k] = s;
      } else {
        let re = 0;
        let im = 0;
        for (let i = 0; i < n; i++) {
          const a = coef[row + i]! * r[i]!;
          re += a * cos[i]!;
          im += a * sin[i]!;
        }
        out[k] = Math.hypot(re, im);
      }
    }
    return out;
  }

  /** max_k |I_k| / L_k: ≤ 1 when every constraint holds. */
  loadFactor(r: ArrayLike<number>, model: SiteConstraintModel): number {
    const cur = this.constraintCurrents(r, model);
    let f = 0;
    for (let k = 0; k < this.m; k++) f = Math.max(f, cur[k]! / this.limitA[k]!);
    return f;
  }

  /** Every EVSE within [0, max] on an allowed rate, and every constraint within its limit plus
   * `tolA` amperes (acnportal's violation tolerance; default 1e-6 A). */
  isFeasible(r: ArrayLike<number>, model: SiteConstraintModel, tolA = 1e-6): boolean {
    for (let i = 0; i < this.n; i++) {
      const x = r[i]!;
      if (!(x >= 0) || x > this.maxA[i]! + tolA) return false;
      const rs = this.rates[i];
      if (rs && Math.abs(this.floorRate(i, x + tolA) - x) > tolA) return false;
    }
    const cur = this.constraintCurrents(r, model);
    for (let k = 0; k < this.m; k++) if (cur[k]! > this.limitA[k]! + tolA) return false;
    return true;
  }

  /** The largest allowed rate of EVSE i that is ≤ a, with 1e-9 A of slack for rounding (0 when a
   * is below the smallest positive rate); a continuous EVSE returns min(a, max). */
  floorRate(i: number, a: number): number {
    const rs = this.rates[i];
    if (a <= 0) return 0;
    if (!rs) return Math.min(a, this.maxA[i]!);
    a += 1e-9;
    let lo = 0;
    let hi = rs.length - 1;
    if (a >= rs[hi]!) return rs[hi]!;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (rs[mid]! <= a) lo = mid;
      else hi = mid - 1;
    }
    return rs[lo]!;
  }

  /**
   * A feasible schedule no larger than `want` at any EVSE: clamp to [0, max], scale uniformly so
   * that every constraint holds (both constraint models are positively homogeneous, so scaling by
   * min_k L_k/|I_k| lands inside), round each EVSE down to an allowed rate, and — because in the
   * three-phase model lowering one current can raise a phase current when coefficients have mixed
   * signs — while a constraint is still violated, lower the EVSE with the largest current among
   * those in the most violated constraint by one rate step. r = 0 is feasible, so this ends.
   * Writes into and returns `out`.
   */
  project(want: ArrayLike<number>, model: SiteConstraintModel, out: Float64Array = new Float64Array(this.n)): Float64Array {
    const n = this.n;
    for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(want[i]! || 0, 0), this.maxA[i]!);
    const cur = this.constraintCurrents(out, model);
    let scale = 1;
    for (let k = 0; k < this.m; k++) if (cur[k]! > this.limitA[k]!) scale = Math.min(scale, this.limitA[k]! / cur[k]!);
    if (scale < 1) for (let i = 0; i < n; i++) out[i] = out[i]! * scale;
    for (let i = 0; i < n; i++) out[i] = this.floorRate(i, out[i]!);
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.constraintCurrents(out, model, cur);
      let worst = -1;
      let wr = 1;
      for (let k = 0; k < this.m; k++) {
        const f = cur[k]! / this.limitA[k]!;
        if (f > wr + 1e-12) {
          wr = f;
          worst = k;
        }
      }
      if (worst < 0) return out;
      let pick = -1;
      let pa = 0;
      for (let i = 0; i < n; i++) {
        if (this.coef[worst * n + i] !== 0 && out[i]! > pa) {
          pa = out[i]!;
          pick = i;
        }
      }
      if (pick < 0) break;
      if (this.rates[pick]) out[pick] = this.floorRate(pick, out[pick]! - 1e-6);
      else {
        const excess = (cur[worst]! - this.limitA[worst]!) / Math.abs(this.coef[worst * n + pick]!);
        out[pick] = Math.max(0, out[pick]! - Math.max(excess, 1e-3));
      }
    }
    // unreachable for consistent data (0 is feasible); fail loudly rather than return infeasible
    throw new Error('site network: projection did not converge');
  }

  /**
   * The largest current (A) EVSE i can draw, up to `upA`, with every other EVSE at `r` (A; r[i] is
   * ignored), keeping every constraint: for each constraint k touching i, with z the phasor sum
   * of the others and a = c_ki·e^{jθ_i}, |z + a·x| ≤ L_k is a quadratic in x whose larger root
   * bounds x (the linear model: x ≤ (L_k − Σ_{others}|c|·r) / |c_ki|). Rounded down to an allowed
   * rate. Assumes the others are feasible on their own (then x = 0 always is); returns 0 when
   * they are not.
   */
  maxRateA(i: number, r: ArrayLike<number>, upA: number, model: SiteConstraintModel): number {
    const { n, coef, cos, sin } = this;
    let x = Math.min(upA, this.maxA[i]!);
    if (!(x > 0)) return 0;
    for (let k = 0; k < this.m; k++) {
      const row = k * n;
      const ci = coef[row + i]!;
      if (ci === 0) continue;
      const L = this.limitA[k]!;
      if (model === 'linear') {
        let s = 0;
        for (let q = 0; q < n; q++) if (q !== i) s += Math.abs(coef[row + q]!) * r[q]!;
        x = Math.min(x, Math.max(0, (L - s) / Math.abs(ci)));
        continue;
      }
      let re = 0;
      let im = 0;
      for (let q = 0; q < n; q++) {
        if (q === i) continue;
        const v = coef[row + q]! * r[q]!;
        re += v * cos[q]!;
        im += v * sin[q]!;
      }
      const ar = ci * cos[i]!;
      const ai = ci * sin[i]!;
      const aa = ar * ar + ai * ai;
      const b = re * ar + im * ai; // Re(conj(z)·a)
      const c = re * re + im * im - L * L;
      const disc = b * b - aa * c;
      if (c > 1e-9 * L * L || disc < 0) return 0; // the others alone already violate k
      x = Math.min(x, Math.max(0, (-b + Math.sqrt(disc)) / aa));
    }
    // a hair inside the boundary so rounding never makes the result infeasible
    return this.floorRate(i, x * (1 - 1e-12));
  }

  /** Power (kW) drawn by current a (A) at the site voltage. */
  kW(a: number): number {
    return (a * this.voltageV) / 1000;
  }
}

/**
 * Read a site network file (for example data/sites/caltech-acn.json). `capKW` sets the
 * transformer cap from which the `primary`/`secondary` limits follow (default: the file's
 * `transformer.defaultCapKW`). Problems are user errors naming the file and the field.
 */
export function loadSiteNetwork(file: string, opts: { capKW?: number; where?: string; continuous?: boolean } = {}): SiteNetwork {
  const where = opts.where ?? file;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError([
      `${where}: ${err.code === 'ENOENT' ? 'file not found' : err instanceof SyntaxError ? `not valid JSON (${err.message})` : err.message}`,
    ]);
  }
  const parsed = SiteFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(parsed.error.issues.map((i) => `${where}: ${i.path.join('.') || '(top level)'}: ${i.message}`));
  }
  return siteNetworkFromFile(parsed.data, opts.capKW, where, opts.continuous ?? false);
}

/** `continuous`: every EVSE draws any current from 0 to its type's largest rate (acnportal's
 * `basic_evse=True`, the setting of ACN-Sim's published three-phase experiments). */
export function siteNetworkFromFile(f: SiteFile, capKW: number | undefined, where = 'site network', continuous = false): SiteNetwork {
  const errors: string[] = [];
  const cap = capKW ?? f.transformer?.defaultCapKW;
  const lim = cap !== undefined ? transformerLimitsA(cap) : undefined;
  const evses = f.evses.map((e, i) => {
    const t = f.evseTypes[e.type];
    if (!t) {
      errors.push(`${where}: evses[${i}].type: unknown EVSE type '${e.type}'; allowed: ${Object.keys(f.evseTypes).join(', ')}`);
      return { id: e.id, phaseAngleDeg: e.phaseAngleDeg, maxRateA: 0 };
    }
    if ('allowedRatesA' in t) {
      return continuous
        ? { id: e.id, phaseAngleDeg: e.phaseAngleDeg, maxRateA: Math.max(...t.allowedRatesA) }
        : { id: e.id, phaseAngleDeg: e.phaseAngleDeg, allowedRatesA: t.allowedRatesA };
    }
    return { id: e.id, phaseAngleDeg: e.phaseAngleDeg, maxRateA: t.maxRateA };
  });
  const ids = new Set(f.evses.map((e) => e.id));
  const constraints = f.constraints.map((c, k) => {
    let limitA = c.limitA;
    if (limitA === undefined) {
      if (!c.limit) errors.push(`${where}: constraints[${k}]: needs limitA or limit (primary|secondary)`);
      else if (!lim) errors.push(`${where}: constraints[${k}].limit: '${c.limit}' needs a transformer cap (transformer.defaultCapKW or site.transformerKW)`);
      else limitA = lim[c.limit];
    }
    for (const id of Object.keys(c.coefficients)) {
      if (!ids.has(id)) errors.push(`${where}: constraints[${k}].coefficients.${id}: no EVSE has this id`);
    }
    return { name: c.name, limitA: limitA ?? 1, coefficients: c.coefficients };
  });
  if (new Set(f.evses.map((e) => e.id)).size !== f.evses.length) errors.push(`${where}: evses: ids must be unique`);
  if (errors.length) throw new UserError(errors);
  return new SiteNetwork({ voltageV: f.voltageV, evses, constraints });
}
