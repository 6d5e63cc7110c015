/**
 * The evolution-strategies update the ES trainers share (the DC hub's allocation,
 * trainAllocationHub.ts; the station choice, trainChoiceEs.ts): OpenAI-ES with antithetic pairs
 * and centred-rank fitness shaping, the gradient estimate applied by Adam (β1 0.9, β2 0.999,
 * ε 1e-8). Lower fitness is better.
 */

/** Centred ranks in [−0.5, 0.5] of the values (lowest value → +0.5: lower objective is better). */
export function centredRanks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]! || a - b);
  const out = new Array<number>(v.length);
  const n = v.length;
  idx.forEach((i, k) => (out[i] = n > 1 ? 0.5 - k / (n - 1) : 0));
  return out;
}

/** The seeded normal draws the ES sampler needs (src/core/random.ts Rng). */
export interface NormalSource {
  normal(): number;
}

/**
 * One ES population around theta: `population` noise vectors ε_p (P normals each, drawn in order
 * from `rng`), and the fitness at theta + σε_p, then theta − σε_p (fit[2p], fit[2p + 1]), scored
 * one after the other in that order — the input EsAdam.step expects.
 */
export async function antitheticSample(
  theta: Float64Array,
  rng: NormalSource,
  population: number,
  sigma: number,
  fitness: (candidate: Float64Array) => number | Promise<number>,
): Promise<{ eps: Float64Array[]; fit: number[] }> {
  const P = theta.length;
  const eps: Float64Array[] = [];
  const fit: number[] = [];
  const cand = new Float64Array(P);
  for (let p = 0; p < population; p++) {
    const e = new Float64Array(P);
    for (let i = 0; i < P; i++) e[i] = rng.normal();
    eps.push(e);
    for (const sign of [1, -1]) {
      for (let i = 0; i < P; i++) cand[i] = theta[i]! + sign * sigma * e[i]!;
      fit.push(await fitness(cand));
    }
  }
  return { eps, fit };
}

/** Adam state over P parameters and the ES step that uses it. */
export class EsAdam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private readonly b1 = 0.9;
  private readonly b2 = 0.999;

  constructor(
    private readonly P: number,
    private readonly learningRate: number,
  ) {
    this.m = new Float64Array(P);
    this.v = new Float64Array(P);
  }

  /**
   * Iteration t (from 1): eps[p] is the p-th perturbation, fit[2p] and fit[2p + 1] the fitness at
   * theta + sigma·eps[p] and theta − sigma·eps[p]; theta moves towards lower fitness, in place.
   */
  step(theta: Float64Array, t: number, eps: readonly Float64Array[], fit: readonly number[], sigma: number): void {
    const { P, m, v, b1, b2 } = this;
    const population = eps.length;
    const rk = centredRanks(fit);
    const g = new Float64Array(P);
    for (let p = 0; p < population; p++) {
      const w = (rk[2 * p]! - rk[2 * p + 1]!) / (2 * population * sigma);
      const e = eps[p]!;
      for (let i = 0; i < P; i++) g[i]! += w * e[i]!;
    }
    // Adam ascent on the rank utility (g points towards lower objective)
    for (let i = 0; i < P; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mh = m[i]! / (1 - b1 ** t);
      const vh = v[i]! / (1 - b2 ** t);
      theta[i]! += (this.learningRate * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
}
