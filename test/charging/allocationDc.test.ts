/**
 * The DC-hub allocation policies (src/charging/allocationDc.ts) on tiny hand-checkable cases.
 */
import { describe, expect, it } from 'vitest';
import { remainingChargeS, GreedyKeyAllocation } from '../../src/charging/allocationDc.js';
import { chargeTimeS, idealModel, type EvModel } from '../../src/charging/evModels.js';
import { allocateSites, type PlainSession } from '../../src/charging/testing.js';

/** a 60 kWh model: 100 kW flat to 50 %, then linearly down to 20 kW at 100 % */
const taper: EvModel = Object.freeze({
  ...idealModel('taper', 60, 100),
  curveSoc: Float64Array.from([0, 0.5, 1]),
  curveKW: Float64Array.from([100, 100, 20]),
});

function dc(id: number, soc: number, target: number, ratedKW = 150, pluggedAt = 0): PlainSession {
  const lim = Math.min(ratedKW, soc <= 0.5 ? 100 : 100 - ((soc - 0.5) / 0.5) * 80);
  return { sessionId: id, pluggedAt, deadline: 1e6, remainingKWh: (target - soc) * 60, maxKW: lim, model: taper, soc, targetSoc: target, kind: 'DC', ratedKW } as PlainSession;
}

describe('DC hub allocation policies', () => {
  it('remaining charge time follows the curve (taper-aware) and falls back to remaining/max', () => {
    const s = dc(0, 0.6, 0.9);
    expect(remainingChargeS(s, Infinity)).toBeCloseTo(chargeTimeS(taper, 0.6, 0.9, 150, 'DC'), 9);
    // 18 kWh at a limit of 84 kW would be 771 s flat; the taper makes it longer
    expect(remainingChargeS(s, Infinity)).toBeGreaterThan((18 / 84) * 3600);
    const flat = { sessionId: 1, pluggedAt: 0, deadline: 1, remainingKWh: 10, maxKW: 50 };
    expect(remainingChargeS(flat, Infinity)).toBeCloseTo(720, 9);
  });

  it('srpt gives the short job its full power first; the long one gets the rest of the cap', () => {
    // A needs 0.3 → 0.4 (6 kWh at 100 kW: 216 s); B needs 0.1 → 0.9 (much longer); cap 120 kW
    const a = dc(0, 0.3, 0.4, 150, 10);
    const b = dc(1, 0.1, 0.9, 150, 0);
    const [r] = allocateSites(new GreedyKeyAllocation('srpt'), { sites: [{ capKW: 120, sessions: [b, a] }] });
    expect(r).toEqual([20, 100]);
    // FCFS-like order would have served B first: srpt-energy agrees with srpt here
    const [e] = allocateSites(new GreedyKeyAllocation('srpt-energy'), { sites: [{ capKW: 120, sessions: [b, a] }] });
    expect(e).toEqual([20, 100]);
  });

  it('srpt ranks by time along the curve, srpt-energy by energy: they differ when the taper matters', () => {
    // A: 0.85 → 0.95, 6 kWh deep in the taper (limit 44 → 28 kW: ~ 620 s);
    // B: 0.1 → 0.22, 7.2 kWh at 100 kW (259 s). Energy says A first, time says B first.
    const a = dc(0, 0.85, 0.95);
    const b = dc(1, 0.1, 0.22);
    expect(remainingChargeS(a, Infinity)).toBeGreaterThan(remainingChargeS(b, Infinity));
    const [t] = allocateSites(new GreedyKeyAllocation('srpt'), { sites: [{ capKW: 110, sessions: [a, b] }] });
    expect(t![1]).toBeCloseTo(100, 12);
    expect(t![0]).toBeCloseTo(10, 12);
    const [e] = allocateSites(new GreedyKeyAllocation('srpt-energy'), { sites: [{ capKW: 110, sessions: [a, b] }] });
    expect(e![0]).toBeCloseTo(a.maxKW, 12);
    expect(e![1]).toBeCloseTo(110 - a.maxKW, 12);
  });

  it('max-acceptance serves the EV whose curve absorbs the most first', () => {
    const a = dc(0, 0.9, 0.95); // limit 36 kW
    const b = dc(1, 0.2, 0.8); // limit 100 kW
    const [r] = allocateSites(new GreedyKeyAllocation('max-acceptance'), { sites: [{ capKW: 110, sessions: [a, b] }] });
    expect(r![1]).toBe(100);
    expect(r![0]).toBeCloseTo(10, 12);
  });

  it('every policy is feasible and work-conserving: each at most its limit, sum = min(cap, Σ limits)', () => {
    const sessions = [dc(0, 0.2, 0.8), dc(1, 0.55, 0.7), dc(2, 0.9, 0.95), dc(3, 0.4, 0.9, 50), { ...dc(4, 0.5, 0.5), remainingKWh: 0 }];
    for (const name of ['srpt', 'max-acceptance', 'srpt-energy'] as const) {
      for (const cap of [0, 30, 150, 250, 1e4, Infinity]) {
        const [r] = allocateSites(new GreedyKeyAllocation(name), { sites: [{ capKW: cap, sessions }] });
        let sum = 0;
        let lim = 0;
        r!.forEach((x, i) => {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(sessions[i]!.remainingKWh > 0 ? sessions[i]!.maxKW : 0);
          sum += x;
          lim += sessions[i]!.remainingKWh > 0 ? sessions[i]!.maxKW : 0;
        });
        expect(sum).toBeCloseTo(Math.min(cap, lim), 9);
      }
    }
  });
});
