/**
 * Weighted progressive filling: the allocation that raises every session's rate in proportion to
 * a weight w_i until it reaches its maximum or a constraint it loads binds — the weighted max-min
 * fair point of the site's feasible set. With weights from a hand-written rule or a model, it is
 * feasible (cap, network, maxima) and work-conserving by construction: it stops only when each
 * session is at its maximum or in a binding constraint.
 *
 * Constraints, all in kW of the sessions' rates x:
 *   aggregate cap     Σ_i x_i ≤ capKW
 *   network, linear   Σ_i |c_{k,e_i}|·a·x_i ≤ L_k              (a = 1000 / V: kW → A)
 *   network, 3-phase  |Σ_i c_{k,e_i}·a·x_i·e^{jθ_{e_i}}| ≤ L_k
 * One step with the set F of frozen sessions and the active set A: x_i = λ·w_i for i ∈ A. For each
 * constraint the largest λ keeping it is exact — linear: (L − frozen load) / (active load per λ);
 * three-phase: the larger root of |z_F + λ·z_A|² = L², a quadratic — so no bisection is needed.
 * The step goes to the least of those λ and of the sessions' own limits m_i / w_i; what binds is
 * frozen (a session at its maximum, or every active session loading the binding constraint), and
 * the next step continues from there. At most n + m steps.
 *
 * Discrete pilots are not handled here: a site with discrete EVSEs rounds the result down through
 * SiteNetwork.project, which keeps it feasible (and may leave a little capacity unused).
 */
import type { AllocationBatch, AllocationBatchPolicy } from './allocationBatch.js';
import type { SiteConstraintModel, SiteNetwork } from './siteNetwork.js';

export interface FillNetwork {
  readonly net: SiteNetwork;
  readonly model: SiteConstraintModel;
  /** EVSE index of each session (same order as the weights) */
  readonly evse: ArrayLike<number>;
}

/** Scratch buffers, reused between calls. */
export class ProgressiveFill {
  private active = new Uint8Array(16);
  private wn = new Float64Array(16);
  private re = new Float64Array(8);
  private im = new Float64Array(8);
  private wre = new Float64Array(8);
  private wim = new Float64Array(8);

  /**
   * Fill out[0..n) (kW). `w[i]` ≥ 0 (0: the session gets nothing), `maxKW[i]` its limit, `capKW`
   * the aggregate cap (Infinity: none), `network` optional. `base` (optional, feasible): the fill
   * starts from these rates instead of 0 and only raises them (a top-up; a session of weight 0
   * keeps its base rate).
   */
  fill(n: number, weights: ArrayLike<number>, maxKW: ArrayLike<number>, capKW: number, network: FillNetwork | null, out: Float64Array, base?: ArrayLike<number>): void {
    if (this.active.length < n) {
      this.active = new Uint8Array(n * 2);
      this.wn = new Float64Array(n * 2);
    }
    const active = this.active;
    // weights scaled so the largest is 1; a positive weight below 1e-9 of the largest counts as
    // 1e-9 (so that no ratio overflows); NaN, negative and 0 mean "nothing"
    let wmax = 0;
    for (let i = 0; i < n; i++) if (weights[i]! > wmax) wmax = weights[i]!;
    const w = this.wn;
    let nActive = 0;
    for (let i = 0; i < n; i++) {
      out[i] = base ? base[i]! : 0;
      const on = weights[i]! > 0 && maxKW[i]! > out[i]! && wmax < Infinity;
      w[i] = on ? Math.max(weights[i]! / wmax, 1e-9) : 0;
      active[i] = on ? 1 : 0;
      if (on) nActive++;
    }
    const m = network ? network.net.m : 0;
    if (this.re.length < m) {
      this.re = new Float64Array(m);
      this.im = new Float64Array(m);
      this.wre = new Float64Array(m);
      this.wim = new Float64Array(m);
    }
    const cap = capKW > 0 ? capKW : 0;
    let guard = 0;
    while (nActive > 0 && guard++ < n + m + 2) {
      // λ from the sessions' own limits
      let lam = Infinity;
      for (let i = 0; i < n; i++) if (active[i]) lam = Math.min(lam, (maxKW[i]! - out[i]!) / w[i]!);
      let bind = -2; // -2: a session limit; -1: the aggregate cap; k >= 0: network constraint k
      // aggregate cap
      if (cap < Infinity) {
        let used = 0;
        let per = 0;
        for (let i = 0; i < n; i++) {
          used += out[i]!;
          if (active[i]) per += w[i]!;
        }
        const l = per > 0 ? Math.max(0, cap - used) / per : Infinity;
        if (l < lam) {
          lam = l;
          bind = -1;
        }
      }
      // network constraints
      if (network) {
        const { net, model, evse } = network;
        const a = 1000 / net.voltageV;
        const { re, im, wre, wim } = this;
        for (let k = 0; k < m; k++) {
          const row = k * net.n;
          let zr = 0;
          let zi = 0;
          let dr = 0;
          let di = 0;
          for (let i = 0; i < n; i++) {
            const e = evse[i]!;
            const c = net.coef[row + e]!;
            if (c === 0) continue;
            if (model === 'linear') {
              zr += Math.abs(c) * a * out[i]!;
              if (active[i]) dr += Math.abs(c) * a * w[i]!;
            } else {
              zr += c * a * out[i]! * net.cos[e]!;
              zi += c * a * out[i]! * net.sin[e]!;
              if (active[i]) {
                dr += c * a * w[i]! * net.cos[e]!;
                di += c * a * w[i]! * net.sin[e]!;
              }
            }
          }
          re[k] = zr;
          im[k] = zi;
          wre[k] = dr;
          wim[k] = di;
          const L = net.limitA[k]!;
          let l: number;
          if (model === 'linear') l = dr > 0 ? Math.max(0, L - zr) / dr : Infinity;
          else {
            const aa = dr * dr + di * di;
            if (aa <= 0) continue;
            const b = zr * dr + zi * di;
            const c0 = zr * zr + zi * zi - L * L;
            const disc = b * b - aa * c0;
            l = disc < 0 ? 0 : Math.max(0, (-b + Math.sqrt(disc)) / aa);
          }
          if (l < lam) {
            lam = l;
            bind = k;
          }
        }
      }
      if (!(lam < Infinity)) lam = 0;
      // take the step (a hair short of the boundary, so rounding never leaves the feasible set)
      const step = lam * (1 - 1e-12);
      for (let i = 0; i < n; i++) {
        if (!active[i]) continue;
        const x = out[i]! + step * w[i]!;
        // a session at its own limit takes it exactly
        out[i] = x >= maxKW[i]! * (1 - 1e-9) ? maxKW[i]! : x;
      }
      // freeze what binds
      let frozen = 0;
      for (let i = 0; i < n; i++) {
        if (!active[i]) continue;
        let stop = out[i]! >= maxKW[i]!;
        if (bind === -1) stop = true;
        else if (bind >= 0 && network && network.net.coef[bind * network.net.n + network.evse[i]!] !== 0) stop = true;
        if (stop) {
          active[i] = 0;
          frozen++;
        }
      }
      nActive -= frozen;
      if (frozen === 0) break; // numerical corner: nothing binds any more
    }
  }
}

// ---- weighted-fill allocation policies ------------------------------------------------------


/** Weights of the rows of site j (write w[0..n) for rows offset..offset+n-1). */
export type FillWeights = (b: AllocationBatch, j: number, w: Float64Array) => void;

/**
 * An allocation policy that computes one weight per plugged session (a hand-written rule or a
 * model's output) and allocates by weighted progressive filling (above) under the site's cap and
 * network: feasible and work-conserving whatever the weights.
 */
export class WeightedFillPolicy implements AllocationBatchPolicy {
  private readonly filler = new ProgressiveFill();
  private w = new Float64Array(16);
  private mx = new Float64Array(16);
  private out = new Float64Array(16);
  private evse = new Int32Array(16);

  constructor(
    readonly name: string,
    private readonly weights: FillWeights,
  ) {}

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    for (let j = 0; j < b.nSites; j++) {
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      if (this.w.length < n) {
        this.w = new Float64Array(n * 2);
        this.mx = new Float64Array(n * 2);
        this.out = new Float64Array(n * 2);
        this.evse = new Int32Array(n * 2);
      }
      this.weights(b, j, this.w);
      for (let i = 0; i < n; i++) this.mx[i] = b.remainingKWh[o + i]! > 0 ? b.maxKW[o + i]! : 0;
      const nv = b.network(j);
      let fn: FillNetwork | null = null;
      if (nv) {
        for (let i = 0; i < n; i++) this.evse[i] = nv.evse(i);
        fn = { net: nv.net, model: nv.model, evse: this.evse };
      }
      this.filler.fill(n, this.w, this.mx, b.capKW[j]!, fn, this.out);
      for (let i = 0; i < n; i++) out[o + i] = this.out[i]!;
    }
  }
}

/**
 * need-proportional: w_i = the power session i needs to finish by its departure,
 * remainingKWh / hours left (at least one allocation period), at most its maximum. With enough
 * capacity everyone gets at least what it needs and the rest is shared in proportion; when
 * capacity binds, the sessions that need the most get the most, and the progressive filling keeps
 * the phases of a three-phase site as balanced as their weights allow.
 */
export const needWeights: FillWeights = (b, j, w) => {
  const o = b.offset[j]!;
  const n = b.offset[j + 1]! - o;
  const period = b.periodS[j]!;
  for (let i = 0; i < n; i++) {
    const r = o + i;
    const hours = Math.max(b.deadline[r]! - b.now, period) / 3600;
    const need = b.remainingKWh[r]! / hours;
    w[i] = need > 0 ? Math.min(need, b.maxKW[r]!) : 0;
  }
};
