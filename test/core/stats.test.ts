import { describe, expect, it } from 'vitest';
import { excludesZero, meanCi, pairedDiff, studentTCdf, studentTQuantile } from '../../src/core/stats.js';

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
