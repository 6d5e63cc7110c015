import { describe, expect, it } from 'vitest';
import { excludesZero, mannWhitneyU, meanCi, median, normalCdf, pairedDiff, studentTCdf, studentTQuantile } from '../../src/core/stats.js';

describe('Student t', () => {
  it('matches tabulated two-sided 95 % quantiles', () => {
    const table: [number, number][] = [[1, 12.7062], [2, 4.3027], [5, 2.5706], [9, 2.2622], [19, 2.093], [30, 2.0423], [100, 1.984], [1000, 1.9623]];
    for (const [df, q] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(q, 3);
  });
  it('is symmetric and the CDF inverts the quantile', () => {
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
    expect(studentTCdf(studentTQuantile(0.9, 4), 4)).toBeCloseTo(0.9, 9);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
  });
  it('rejects bad arguments', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/p must be/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df must be/);
  });
});

describe('meanCi and pairedDiff', () => {
  it('computes mean, sd and the t interval', () => {
    const ci = meanCi([1, 2, 3, 4, 5]);
    expect(ci.mean).toBe(3);
    expect(ci.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(ci.half).toBeCloseTo((2.7764 * Math.sqrt(2.5)) / Math.sqrt(5), 3);
    expect(meanCi([4]).half).toBeNaN();
  });
  it('pairs runs by index', () => {
    const d = pairedDiff([10, 11, 12, 13], [9, 10, 11, 12.5]);
    expect(d.mean).toBeCloseTo(0.875, 12);
    expect(excludesZero(d)).toBe(true);
    expect(excludesZero(pairedDiff([1, 2, 3], [2, 1, 3]))).toBe(false);
    expect(() => pairedDiff([1], [1, 2])).toThrow(/lengths differ/);
  });
});

describe('Mann–Whitney U', () => {
  it('exact p-values match scipy.stats.mannwhitneyu(method="exact")', () => {
    // scipy (checked with scipy installed here): mannwhitneyu([1,2,3,4,5],[6,7,8,9,10]) → U=0, p=0.007937; [1,3,5,7,9] vs [2,4,6,8,10] → U=10, p=0.690476
    const a = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(a.u).toBe(0);
    expect(a.method).toBe('exact');
    expect(a.p).toBeCloseTo(0.007937, 5);
    const b = mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]);
    expect(b.u).toBe(10);
    expect(b.p).toBeCloseTo(0.690476, 5);
  });
  it('uses the tie-corrected normal approximation with ties', () => {
    // scipy: mannwhitneyu([1,2,2,3,4,5],[2,3,6,7,8,9], method='asymptotic') → U=6.5, p=0.075566
    const r = mannWhitneyU([1, 2, 2, 3, 4, 5], [2, 3, 6, 7, 8, 9]);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(6.5);
    expect(r.p).toBeCloseTo(0.075566, 5);
    expect(mannWhitneyU([1, 1, 1], [1, 1, 1]).p).toBe(1);
  });
  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});
