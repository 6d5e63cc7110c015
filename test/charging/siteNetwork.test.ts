import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { loadSiteNetwork, SiteNetwork, transformerLimitsA } from '../../src/charging/siteNetwork.js';

const CALTECH = join(import.meta.dirname, '../../data/sites/caltech-acn.json');

/** Two EVSEs on a delta: line current I = I_1·e^{j30°} − I_2·e^{j150°}. */
function delta(limitA: number): SiteNetwork {
  return new SiteNetwork({
    voltageV: 208,
    evses: [
      { id: 'a', phaseAngleDeg: 30, allowedRatesA: [0, 8, 16, 24, 32] },
      { id: 'b', phaseAngleDeg: 150, maxRateA: 32 },
    ],
    constraints: [{ name: 'line', limitA, coefficients: { a: 1, b: -1 } }],
  });
}

describe('site network model', () => {
  it('reads the Caltech garage: 54 EVSEs, 8 constraints, transformer limits from the cap', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 150 });
    expect(net.n).toBe(54);
    expect(net.m).toBe(8);
    const { primary, secondary } = transformerLimitsA(150);
    expect(primary).toBeCloseTo(180.505, 3);
    expect(secondary).toBeCloseTo(416.667, 3);
    expect(net.constraintNames).toEqual(['CC Pod', 'AV Pod', 'Secondary A', 'Secondary B', 'Secondary C', 'Primary A', 'Primary B', 'Primary C']);
    expect(net.limitA[0]).toBe(80);
    expect(net.limitA[2]).toBeCloseTo(secondary, 9);
    expect(net.limitA[5]).toBeCloseTo(primary, 9);
    expect(net.kW(32)).toBeCloseTo(6.656, 9);
    // a smaller cap only changes the transformer limits
    const small = loadSiteNetwork(CALTECH, { capKW: 10 });
    expect(small.limitA[0]).toBe(80);
    expect(small.limitA[5]).toBeCloseTo(10_000 / 3 / 277, 9);
  });

  it('the three-phase magnitude is the phasor sum: |r·e^{j30°} − r·e^{j150°}| = √3·r', () => {
    const net = delta(100);
    const cur = net.constraintCurrents([16, 16], 'three-phase');
    expect(cur[0]).toBeCloseTo(16 * Math.sqrt(3), 12);
    expect(net.constraintCurrents([16, 16], 'linear')[0]).toBe(32);
    // one EVSE alone: its own magnitude
    expect(net.constraintCurrents([24, 0], 'three-phase')[0]).toBeCloseTo(24, 12);
  });

  it('feasibility checks rates, maxima and limits', () => {
    const net = delta(40);
    expect(net.isFeasible([16, 16], 'three-phase')).toBe(true); // 27.7 A
    expect(net.isFeasible([24, 24], 'three-phase')).toBe(false); // 41.6 A
    expect(net.isFeasible([12, 0], 'three-phase')).toBe(false); // 12 A is not a ClipperCreek rate
    expect(net.isFeasible([0, 12.5], 'three-phase')).toBe(true); // continuous EVSE
    expect(net.isFeasible([0, 33], 'three-phase')).toBe(false); // above its maximum
    expect(net.isFeasible([16, 16], 'linear')).toBe(true);
    expect(net.isFeasible([24, 24], 'linear')).toBe(false);
  });

  it('linear feasibility implies three-phase feasibility on the Caltech garage (inner approximation)', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 30 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 32 }), { minLength: 54, maxLength: 54 }), (amps) => {
        const r = amps.map((a, i) => net.floorRate(i, a));
        expect(net.loadFactor(r, 'three-phase')).toBeLessThanOrEqual(net.loadFactor(r, 'linear') + 1e-12);
        if (net.isFeasible(r, 'linear')) expect(net.isFeasible(r, 'three-phase')).toBe(true);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('floorRate picks the largest allowed rate not above the request', () => {
    const net = delta(100);
    expect(net.floorRate(0, 31.9)).toBe(24);
    expect(net.floorRate(0, 32)).toBe(32);
    expect(net.floorRate(0, 7.99)).toBe(0);
    expect(net.floorRate(0, 99)).toBe(32);
    expect(net.floorRate(1, 12.3)).toBe(12.3);
    expect(net.floorRate(1, 99)).toBe(32);
  });

  it('project returns a feasible schedule on allowed rates, never above the request', () => {
    for (const capKW of [10, 20, 30, 40, 150]) {
      const net = loadSiteNetwork(CALTECH, { capKW });
      for (const model of ['three-phase', 'linear'] as const) {
        fc.assert(
          fc.property(fc.array(fc.double({ min: 0, max: 40, noNaN: true }), { minLength: 54, maxLength: 54 }), (want) => {
            const r = net.project(want, model);
            expect(net.isFeasible(r, model)).toBe(true);
            for (let i = 0; i < net.n; i++) expect(r[i]!).toBeLessThanOrEqual(Math.min(want[i]!, net.maxA[i]!) + 1e-9);
          }),
          { numRuns: 60, seed: capKW },
        );
      }
    }
  });

  it('project leaves a feasible discrete schedule unchanged', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 150 });
    const r = new Float64Array(54);
    r[0] = 16;
    r[10] = 32;
    r[20] = 8;
    expect(Array.from(net.project(r, 'three-phase'))).toEqual(Array.from(r));
  });

  it('bad files are user errors naming the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-site-'));
    const f = join(dir, 'site.json');
    writeFileSync(f, JSON.stringify({ voltageV: 208, evseTypes: { X: { maxRateA: 32, continuous: true } }, evses: [{ id: 'a', type: 'Y', phaseAngleDeg: 0 }], constraints: [{ name: 'c', limit: 'primary', coefficients: { z: 1 } }] }));
    let err: unknown;
    try {
      loadSiteNetwork(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const lines = (err as UserError).lines;
    expect(lines.some((l) => l.includes('evses[0].type') && l.includes("unknown EVSE type 'Y'") && l.includes('allowed: X'))).toBe(true);
    expect(lines.some((l) => l.includes('constraints[0].limit') && l.includes('transformer cap'))).toBe(true);
    expect(lines.some((l) => l.includes('constraints[0].coefficients.z'))).toBe(true);
    expect(() => loadSiteNetwork(join(dir, 'missing.json'))).toThrow(/missing\.json: file not found/);
    writeFileSync(f, '{');
    expect(() => loadSiteNetwork(f)).toThrow(/not valid JSON/);
  });
});

describe('projection with continuous EVSEs', () => {
  it('ends feasible when every EVSE is continuous', () => {
    const net = new SiteNetwork({
      voltageV: 208,
      evses: [
        { id: 'a', phaseAngleDeg: 30, maxRateA: 32 },
        { id: 'b', phaseAngleDeg: 150, maxRateA: 32 },
        { id: 'c', phaseAngleDeg: -90, maxRateA: 32 },
      ],
      constraints: [
        { name: 'A', limitA: 30, coefficients: { a: 1, c: -1 } },
        { name: 'B', limitA: 30, coefficients: { b: 1, a: -1 } },
      ],
    });
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 32, noNaN: true }), { minLength: 3, maxLength: 3 }), (want) => {
        const r = net.project(want, 'three-phase');
        expect(net.isFeasible(r, 'three-phase')).toBe(true);
        // scaling lands on the boundary of the binding constraint, not far inside it
        if (net.loadFactor(want, 'three-phase') > 1) expect(net.loadFactor(r, 'three-phase')).toBeGreaterThan(0.999);
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});

describe('maxRateA: the largest current one EVSE can add', () => {
  it('equals a bisection on feasibility, in both models, and is feasible', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 20, continuous: true });
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 54, maxLength: 54 }), fc.integer({ min: 0, max: 53 }), (u, i) => {
        for (const model of ['three-phase', 'linear'] as const) {
          const r = net.project(u.map((x) => x * 32), model);
          r[i] = 0;
          // (lowering one current can raise a phase current: only a feasible rest is the premise)
          if (!net.isFeasible(r, model, 0)) continue;
          const x = net.maxRateA(i, r, 32, model);
          const t = Float64Array.from(r);
          t[i] = x;
          expect(net.isFeasible(t, model, 1e-6)).toBe(true);
          // bisection for the largest feasible x
          let lo = 0;
          let hi = 32;
          for (let k = 0; k < 60; k++) {
            const mid = (lo + hi) / 2;
            t[i] = mid;
            if (net.isFeasible(t, model, 0)) lo = mid;
            else hi = mid;
          }
          expect(x).toBeCloseTo(lo, 6);
        }
      }),
      { numRuns: 100, seed: 11 },
    );
  });

  it('rounds down to an allowed pilot on discrete EVSEs', () => {
    const net = loadSiteNetwork(CALTECH, { capKW: 150 });
    const r = new Float64Array(54);
    const cc = net.ids.indexOf('CA-322'); // a ClipperCreek EVSE: 0, 8, 16, 24, 32 A
    expect(net.maxRateA(cc, r, 30, 'three-phase')).toBe(24);
    expect(net.maxRateA(cc, r, 32, 'three-phase')).toBe(32);
  });
});
