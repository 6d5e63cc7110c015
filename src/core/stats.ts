/**
 * Small-sample statistics used by evaluations and sweeps: mean, sample standard deviation, the
 * two-sided Student-t confidence interval of a mean, and paired differences (common random
 * numbers: run i of A and run i of B share seed i, so the CI is taken over the per-seed differences).
 *
 * The t quantile is exact to ~1e-10 (bisection on the Student-t CDF, computed with the regularised
 * incomplete beta function by Lentz's continued fraction, Numerical Recipes §6.4), for any
 * degrees of freedom ≥ 1; checked against tabulated values in test/core/stats.test.ts.
 */

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betaCf(a, b, x)) / a : 1 - (bt * betaCf(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * betaInc(df / 2, 0.5, x);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile (0 < p < 1) of Student's t with df ≥ 1 degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(df >= 1)) throw new RangeError(`studentTQuantile: df must be ≥ 1 (got ${df})`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanCi {
  n: number;
  mean: number;
  /** sample standard deviation (n − 1); 0 when n = 1 */
  sd: number;
  /** half-width of the two-sided confidence interval; NaN when n < 2 */
  half: number;
  lo: number;
  hi: number;
}

export function mean(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Mean with its two-sided Student-t confidence interval (level 0.95 by default). */
export function meanCi(xs: readonly number[], level = 0.95): MeanCi {
  const n = xs.length;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const half = n > 1 ? (studentTQuantile(1 - (1 - level) / 2, n - 1) * sd) / Math.sqrt(n) : NaN;
  return { n, mean: m, sd, half, lo: m - half, hi: m + half };
}

/** Paired differences a[i] − b[i] with their mean and CI; the arrays must be the same length. */
export function pairedDiff(a: readonly number[], b: readonly number[], level = 0.95): MeanCi {
  if (a.length !== b.length) throw new RangeError(`pairedDiff: lengths differ (${a.length} vs ${b.length})`);
  return meanCi(
    a.map((x, i) => x - b[i]!),
    level,
  );
}

/** Whether a CI excludes zero (a paired difference is significant at its level). */
export function excludesZero(ci: MeanCi): boolean {
  return ci.lo > 0 || ci.hi < 0;
}

/** Median of a sample (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface MannWhitney {
  /** U statistic of the first sample (number of pairs (a, b) with a > b, ties counting ½) */
  u: number;
  /** two-sided p-value */
  p: number;
  /** 'exact' (permutation distribution, no ties, n1·n2 ≤ 400) or 'normal' (tie-corrected) */
  method: 'exact' | 'normal';
}

/**
 * Two-sided Mann–Whitney U (Wilcoxon rank-sum) test of two independent samples. Without ties and
 * for small samples (n1·n2 ≤ 400) the p-value is exact, from the permutation distribution of U
 * counted by the standard recurrence; otherwise the normal approximation with tie correction and
 * continuity correction (as scipy.stats.mannwhitneyu with method='asymptotic').
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitney {
  const n1 = a.length;
  const n2 = b.length;
  if (!n1 || !n2) throw new RangeError('mannWhitneyU: both samples must be non-empty');
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Float64Array(all.length);
  let tieTerm = 0;
  let ties = false;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const r = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[k] = r;
    const t = j - i + 1;
    if (t > 1) {
      ties = true;
      tieTerm += t ** 3 - t;
    }
    i = j + 1;
  }
  let r1 = 0;
  for (let i = 0; i < all.length; i++) if (all[i]!.g === 0) r1 += ranks[i]!;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  if (!ties && n1 * n2 <= 400) {
    // counts[k] = number of arrangements with U = k, by f(n1, n2, k) = f(n1 − 1, n2, k − n2) + f(n1, n2 − 1, k)
    const maxU = n1 * n2;
    let prev: Float64Array[] = [];
    for (let j = 0; j <= n2; j++) {
      const row = new Float64Array(maxU + 1);
      row[0] = 1;
      prev.push(row);
    }
    for (let i = 1; i <= n1; i++) {
      const cur: Float64Array[] = [];
      const first = new Float64Array(maxU + 1);
      first[0] = 1;
      cur.push(first);
      for (let j = 1; j <= n2; j++) {
        const row = new Float64Array(maxU + 1);
        const left = prev[j]!;
        const down = cur[j - 1]!;
        for (let k = 0; k <= i * j; k++) row[k] = (k >= j ? left[k - j]! : 0) + down[k]!;
        cur.push(row);
      }
      prev = cur;
    }
    const counts = prev[n2]!;
    let total = 0;
    for (const c of counts) total += c;
    const lo = Math.min(u, maxU - u);
    let tail = 0;
    for (let k = 0; k <= lo; k++) tail += counts[k]!;
    return { u, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, method: 'normal' };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))), method: 'normal' };
}

/** Standard normal CDF (erfc by the Numerical Recipes Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
