/**
 * The M/M/c validation scenario against queueing theory (Erlang C).
 *
 * Mean wait in queue: Wq = C(c, a) / (c·μ − λ), with a = λ/μ and the Erlang C probability of
 * waiting C(c, a) = [a^c/c! · 1/(1−ρ)] / [Σ_{k<c} a^k/k! + a^c/c! · 1/(1−ρ)] (Kleinrock, Queueing
 * Systems Vol. 1, 1975, §3.5). The simulation starts empty; with horizons of 10,000+ arrivals
 * the start-up bias is far below the statistical error.
 *
 * Tolerance: R independent replications (different seeds); the replication means are i.i.d., so
 * their standard error SE = sd/√R is an honest error bar despite the autocorrelation of waits
 * within one run. We require |mean − Wq| < 4·SE (a false alarm has probability ≈ 6e-5 under a
 * normal approximation) and SE < 10 % of Wq (so that the check has teeth).
 */
import { describe, expect, it } from 'vitest';
import { runShipped } from '../helpers.js';

function erlangC(c: number, a: number): number {
  const rho = a / c;
  let sum = 0;
  let term = 1;
  for (let k = 0; k < c; k++) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const top = (term * a) / c / (1 - rho); // a^c / c! / (1 − ρ)
  return top / (sum + top);
}

async function replicate(params: { lambda: number; meanKWh: number; c: number; kw: number; hours: number }, R: number) {
  const means: number[] = [];
  let served = 0;
  for (let r = 0; r < R; r++) {
    const { result } = await runShipped('validation/mmc.yaml', [
      `demand.arrivalsPerHour=${params.lambda}`,
      `demand.meanEnergyKWh=${params.meanKWh}`,
      `station.chargers=${params.c}`,
      `station.powerKW=${params.kw}`,
      `duration=${params.hours}h`,
      `seed=${100 + r}`,
    ]);
    let sum = 0;
    let n = 0;
    for (const s of result.sessions) {
      if (Number.isNaN(s.pluggedAt)) continue;
      sum += s.pluggedAt - s.arrivedAt;
      n++;
    }
    served += n;
    means.push(sum / n);
  }
  const mean = means.reduce((a, b) => a + b, 0) / R;
  const sd = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1));
  return { mean, se: sd / Math.sqrt(R), served };
}

describe('M/M/c station vs Erlang C', () => {
  const cases = [
    { name: 'c=12, ρ=0.76', lambda: 10, meanKWh: 20, c: 12, kw: 22, hours: 1000 },
    { name: 'c=3, ρ=0.75', lambda: 2.25, meanKWh: 11, c: 3, kw: 11, hours: 4000 },
  ];
  for (const p of cases) {
    it(`mean wait matches Erlang C (${p.name})`, async () => {
      const mu = p.kw / p.meanKWh; // services per hour
      const a = p.lambda / mu;
      const wq = (erlangC(p.c, a) / (p.c * mu - p.lambda)) * 3600; // seconds
      const { mean, se, served } = await replicate(p, 8);
      expect(served).toBeGreaterThan(8 * p.lambda * p.hours * 0.95);
      expect(se).toBeLessThan(0.1 * wq);
      expect(Math.abs(mean - wq)).toBeLessThan(4 * se);
    });
  }

  it('Erlang C helper matches a textbook value', () => {
    // c = 2, a = 1 (ρ = 0.5): C = 1/3
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
  });
});
