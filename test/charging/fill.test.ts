import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocationPolicyEntry } from '../../src/charging/allocationBatch.js';
import { ProgressiveFill } from '../../src/charging/fill.js';
import { loadSiteNetwork } from '../../src/charging/siteNetwork.js';
import { allocateSites } from '../../src/charging/testing.js';
import { join } from 'node:path';

const CALTECH = join(import.meta.dirname, '../../data/sites/caltech-acn.json');

describe('weighted progressive filling', () => {
  it('with equal weights under a cap it is the max-min fair allocation (equal-share)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.5, max: 50, noNaN: true }), { minLength: 1, maxLength: 12 }), fc.double({ min: 1, max: 200, noNaN: true }), (maxKW, cap) => {
        const sessions = maxKW.map((m, i) => ({ sessionId: i, pluggedAt: i, deadline: 1e6, remainingKWh: 100, maxKW: m }));
        const eq = allocateSites(allocationPolicyEntry('equal-share').create({ incrementKW: 1, energyBound: false }), { sites: [{ capKW: cap, sessions }] })[0]!;
        const out = new Float64Array(maxKW.length);
        new ProgressiveFill().fill(maxKW.length, maxKW.map(() => 1), maxKW, cap, null, out);
        for (let i = 0; i < maxKW.length; i++) expect(out[i]!).toBeCloseTo(eq[i]!, 6);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it('on the three-phase Caltech network: feasible, within maxima, and work-conserving', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 20, continuous: true });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 53 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 30, maxLength: 30 }),
        (evse, ws) => {
          const n = evse.length;
          const w = ws.slice(0, n);
          const maxKW = evse.map(() => 6.656);
          const out = new Float64Array(n);
          new ProgressiveFill().fill(n, w, maxKW, Infinity, { net, model: 'three-phase', evse }, out);
          const amps = new Float64Array(54);
          evse.forEach((e, i) => (amps[e] = (out[i]! * 1000) / net.voltageV));
          expect(net.isFeasible(amps, 'three-phase', 1e-6)).toBe(true);
          // work-conserving: a session with weight > 0 below its maximum cannot be raised at all
          for (let i = 0; i < n; i++) {
            expect(out[i]!).toBeLessThanOrEqual(maxKW[i]! + 1e-9);
            if (w[i]! > 0 && out[i]! < maxKW[i]! - 1e-6) {
              const rest = Float64Array.from(amps);
              rest[evse[i]!] = 0;
              expect(net.maxRateA(evse[i]!, rest, 32, 'three-phase')).toBeLessThan(amps[evse[i]!]! + 1e-3);
            }
            if (w[i] === 0) expect(out[i]).toBe(0);
          }
        },
      ),
      { numRuns: 150, seed: 9 },
    );
  });
});

describe('need-proportional', () => {
  it('gives everyone what it needs when capacity allows, and shares in proportion to need when it binds', () => {
    const p = allocationPolicyEntry('need-proportional').create({ incrementKW: 1, energyBound: false });
    const s = (id: number, remainingKWh: number, hours: number) => ({ sessionId: id, pluggedAt: 0, deadline: hours * 3600, remainingKWh, maxKW: 11 });
    // needs: 2 kW and 6 kW; cap 100 → each rises to its maximum
    expect(allocateSites(p, { sites: [{ capKW: 100, sessions: [s(1, 4, 2), s(2, 12, 2)] }] })[0]).toEqual([11, 11]);
    // cap 4 → in proportion 1:3
    const r = allocateSites(p, { sites: [{ capKW: 4, sessions: [s(1, 4, 2), s(2, 12, 2)] }] })[0]!;
    expect(r[0]!).toBeCloseTo(1, 9);
    expect(r[1]!).toBeCloseTo(3, 9);
  });
});
