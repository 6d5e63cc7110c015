import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import {
  DEFAULT_FLEET_FILE,
  type EvModel,
  chargeTimeS,
  dcPowerAt,
  idealModel,
  loadEvModels,
  makeModelPicker,
  socAfter,
  vehicleLimitKW,
} from '../../src/charging/evModels.js';
import { EV2GYM_FILE, FLEET_FILE, OED_FILE, buildFleet, serializeFleet, sha256Prefix } from '../../scripts/build-fleet.js';

const fleet = loadEvModels(DEFAULT_FLEET_FILE);

function model(curve: [number, number][], dcMaxKW: number, capacityKWh = 60, acMaxKW = 11): EvModel {
  return {
    name: 'test',
    weight: 1,
    capacityKWh,
    consumptionKWhPerKm: 0.17,
    acMaxKW,
    dcMaxKW,
    curveSoc: Float64Array.from(curve.map((p) => p[0])),
    curveKW: Float64Array.from(curve.map((p) => p[1])),
  };
}

/** Midpoint-rule integral of C·3600 / min(chargerKW, limit(s)) ds: an independent check. */
function numericTime(m: EvModel, s0: number, s1: number, chargerKW: number, kind: 'AC' | 'DC', n = 100_000): number {
  const h = (s1 - s0) / n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = s0 + (i + 0.5) * h;
    sum += 1 / Math.min(chargerKW, vehicleLimitKW(m, s, kind));
  }
  return m.capacityKWh * 3600 * sum * h;
}

describe('fleet file (data/ev-specs/fleet-nl-popular.json)', () => {
  it('has >= 10 models with plausible values', () => {
    expect(fleet.length).toBeGreaterThanOrEqual(10);
    expect(new Set(fleet.map((m) => m.name)).size).toBe(fleet.length);
    for (const m of fleet) {
      expect(m.weight, m.name).toBeGreaterThan(0);
      expect(m.capacityKWh, m.name).toBeGreaterThanOrEqual(20);
      expect(m.capacityKWh, m.name).toBeLessThanOrEqual(120);
      expect(m.consumptionKWhPerKm, m.name).toBeGreaterThanOrEqual(0.1);
      expect(m.consumptionKWhPerKm, m.name).toBeLessThanOrEqual(0.3);
      expect(m.acMaxKW, m.name).toBeGreaterThan(2);
      expect(m.acMaxKW, m.name).toBeLessThanOrEqual(22);
      expect(m.dcMaxKW, m.name).toBeGreaterThanOrEqual(20);
      expect(m.dcMaxKW, m.name).toBeLessThanOrEqual(350);
      expect(m.curveSoc.length, m.name).toBeGreaterThanOrEqual(2);
      expect(m.curveSoc[0], m.name).toBe(0);
      expect(m.curveSoc[m.curveSoc.length - 1], m.name).toBe(1);
      for (let s = 0; s <= 1; s += 0.01) expect(dcPowerAt(m, s), m.name).toBeGreaterThan(0);
    }
  });

  it('input copies match the hashes in SOURCES.md and the committed fleet is what build-fleet derives', () => {
    const ev2gym = readFileSync(EV2GYM_FILE);
    const oed = readFileSync(OED_FILE);
    expect(sha256Prefix(ev2gym)).toBe('1fa0170e75630425');
    expect(sha256Prefix(oed)).toBe('c1b6e45bad920b5c');
    const built = buildFleet(JSON.parse(ev2gym.toString('utf8')), JSON.parse(oed.toString('utf8')), {
      ev2gym: sha256Prefix(ev2gym),
      oed: sha256Prefix(oed),
    });
    expect(readFileSync(FLEET_FILE, 'utf8')).toBe(serializeFleet(built));
    expect(built.models.length + built.dropped.length).toBe(13);
    // the chosen variants are recorded
    for (const m of built.models) expect(m.source.openEvDataId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the licence text carrying the Open EV Data attribution clause is in the repo', () => {
    const lic = readFileSync('data/LICENSES/kilowattapp-open-ev-data_LICENSE.txt', 'utf8');
    expect(lic).toContain('Open EV Data (https://github.com/KilowattApp/open-ev-data)');
    const prov = readFileSync('data/ev-specs/PROVENANCE.md', 'utf8');
    expect(prov).toContain('Open EV Data (https://github.com/KilowattApp/open-ev-data)');
  });
});

describe('loadEvModels errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-evmodels-'));
  it('names the file when it cannot be read', () => {
    const p = join(dir, 'missing.json');
    expect(() => loadEvModels(p)).toThrow(p);
  });
  it('names the file and field for a bad value, on one line', () => {
    const p = join(dir, 'bad.json');
    writeFileSync(p, JSON.stringify({ models: [{ name: 'x', weight: 1, usableBatteryKWh: 'big', consumptionKWhPerKm: 0.2, acMaxKW: 11, dcMaxKW: 50, dcCurve: [] }] }));
    let msg = '';
    try {
      loadEvModels(p);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain(p);
    expect(msg).toContain('models[0].usableBatteryKWh');
    expect(msg).not.toContain('\n');
  });
  it('rejects a decreasing curve soc and invalid JSON', () => {
    const p = join(dir, 'curve.json');
    writeFileSync(p, JSON.stringify({ models: [{ name: 'x', weight: 1, usableBatteryKWh: 50, consumptionKWhPerKm: 0.2, acMaxKW: 11, dcMaxKW: 50, dcCurve: [[0.5, 40], [0.2, 30]] }] }));
    expect(() => loadEvModels(p)).toThrow(/curve\.json: models\[0\]\.dcCurve\[1\]\[0\] \(soc\) must be non-decreasing/);
    const q = join(dir, 'broken.json');
    writeFileSync(q, '{ "models": [');
    expect(() => loadEvModels(q)).toThrow(/broken\.json: invalid JSON/);
  });
  it('errors are user errors (exit 2, one line), also for an empty file', () => {
    const p = join(dir, 'empty.json');
    writeFileSync(p, '  \n');
    let err: unknown;
    try {
      loadEvModels(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).lines).toEqual([`${p}: fleet file is empty (expected {"models": [...]})`]);
    expect(() => loadEvModels(join(dir, 'missing.json'))).toThrow(UserError);
  });
  it('treats dcMaxKW null as no DC charging', () => {
    const p = join(dir, 'nodc.json');
    writeFileSync(p, JSON.stringify({ models: [{ name: 'x', weight: 1, usableBatteryKWh: 50, consumptionKWhPerKm: 0.2, acMaxKW: 7, dcMaxKW: null, dcCurve: [] }] }));
    const [m] = loadEvModels(p);
    expect(m!.dcMaxKW).toBe(0);
    expect(dcPowerAt(m!, 0.5)).toBe(0);
    expect(chargeTimeS(m!, 0.2, 0.8, 50, 'DC')).toBe(Infinity);
    expect(chargeTimeS(m!, 0.2, 0.8, 50, 'AC')).toBeCloseTo((50 * 0.6 * 3600) / 7, 9);
  });
});

describe('DC curve interpolation', () => {
  const m = model([[0, 50], [0.5, 100], [0.8, 40], [1, 10]], 90);
  it('is exact at breakpoints, clamped to dcMaxKW', () => {
    expect(dcPowerAt(m, 0)).toBe(50);
    expect(dcPowerAt(m, 0.5)).toBe(90); // curve 100 > dcMaxKW
    expect(dcPowerAt(m, 0.8)).toBeCloseTo(40, 12);
    expect(dcPowerAt(m, 1)).toBe(10);
  });
  it('is linear between breakpoints and clamps soc to [0,1]', () => {
    expect(dcPowerAt(m, 0.25)).toBeCloseTo(75, 12);
    expect(dcPowerAt(m, 0.4)).toBeCloseTo(90, 12); // 90 on the line, at the clamp
    expect(dcPowerAt(m, 0.65)).toBeCloseTo(70, 12);
    expect(dcPowerAt(m, 0.9)).toBeCloseTo(25, 12);
    expect(dcPowerAt(m, -0.3)).toBe(50);
    expect(dcPowerAt(m, 1.7)).toBe(10);
    expect(() => dcPowerAt(m, Number.NaN)).toThrow(RangeError);
  });
  it('holds end values flat outside the curve range and is flat dcMaxKW with no curve', () => {
    const partial = model([[0.1, 30], [0.9, 60]], 100);
    expect(dcPowerAt(partial, 0)).toBe(30);
    expect(dcPowerAt(partial, 0.5)).toBeCloseTo(45, 12);
    expect(dcPowerAt(partial, 1)).toBe(60);
    const none = model([], 75);
    expect(dcPowerAt(none, 0.3)).toBe(75);
  });
  it('is right-continuous at a vertical step (duplicated soc)', () => {
    const step = model([[0, 50], [0.5, 50], [0.5, 20], [1, 20]], 50);
    expect(dcPowerAt(step, 0.49)).toBe(50);
    expect(dcPowerAt(step, 0.5)).toBe(20);
    expect(chargeTimeS(step, 0, 1, 1000, 'DC')).toBeCloseTo(60 * 3600 * (0.5 / 50 + 0.5 / 20), 6);
  });
  it('uses real curves from the fleet file', () => {
    const niro = fleet.find((x) => x.name === 'Kia Niro')!;
    expect(dcPowerAt(niro, 0.4)).toBe(77);
    expect(dcPowerAt(niro, 0.41)).toBeCloseTo(73.5, 9);
  });
  it('AC limit is constant acMaxKW over the whole soc range', () => {
    for (const x of fleet) for (const s of [0, 0.5, 0.99, 1]) expect(vehicleLimitKW(x, s, 'AC')).toBe(x.acMaxKW);
  });
});

describe('chargeTimeS / socAfter', () => {
  it('a flat curve gives C·Δsoc/P', () => {
    const m = idealModel('ideal', 60, 7);
    expect(chargeTimeS(m, 0.2, 0.8, 11, 'AC')).toBeCloseTo((60 * 0.6 * 3600) / 7, 9);
    expect(chargeTimeS(m, 0.2, 0.8, 3.6, 'AC')).toBeCloseTo((60 * 0.6 * 3600) / 3.6, 9);
    expect(chargeTimeS(m, 0.2, 0.8, 50, 'DC')).toBeCloseTo((60 * 0.6 * 3600) / 7, 9);
    expect(socAfter(m, 0.2, 3600, 50, 'DC')).toBeCloseTo(0.2 + 7 / 60, 12);
    expect(chargeTimeS(m, 0.8, 0.2, 11, 'AC')).toBe(0);
    expect(chargeTimeS(m, 0.2, 0.8, 0, 'AC')).toBe(Infinity);
  });

  it('matches a fine numeric integration to 1e-6 relative for every fleet model', () => {
    const cases: [number, number, number, 'AC' | 'DC'][] = [
      [0, 1, 1000, 'DC'],
      [0.1, 0.8, 50, 'DC'], // charger cap crosses most curves
      [0.35, 0.97, 150, 'DC'],
      [0.2, 0.9, 11, 'AC'],
      [0.05, 0.6, 7.4, 'AC'],
    ];
    for (const m of fleet) {
      for (const [a, b, kw, kind] of cases) {
        const exact = chargeTimeS(m, a, b, kw, kind);
        const num = numericTime(m, a, b, kw, kind);
        expect(Math.abs(exact - num) / num, `${m.name} ${a}->${b} ${kw} kW ${kind}`).toBeLessThan(1e-6);
      }
    }
  });

  it('matches numeric integration on a synthetic curve with a cap crossing inside a segment', () => {
    const m = model([[0, 20], [0.3, 150], [0.6, 150], [1, 5]], 140, 80);
    for (const kw of [30, 100, 145, 400]) {
      const exact = chargeTimeS(m, 0.02, 0.99, kw, 'DC');
      expect(Math.abs(exact - numericTime(m, 0.02, 0.99, kw, 'DC')) / exact).toBeLessThan(1e-6);
    }
  });

  it('socAfter inverts chargeTimeS and times are additive (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fleet.length - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 400, noNaN: true }),
        fc.constantFrom<'AC' | 'DC'>('AC', 'DC'),
        (i, x, y, z, kw, kind) => {
          const m = fleet[i]!;
          const [a, b, c] = [x, y, z].sort((p, q) => p - q) as [number, number, number];
          const tab = chargeTimeS(m, a, b, kw, kind);
          const tbc = chargeTimeS(m, b, c, kw, kind);
          const tac = chargeTimeS(m, a, c, kw, kind);
          expect(Math.abs(tab + tbc - tac)).toBeLessThanOrEqual(1e-9 * Math.max(1, tac));
          expect(Math.abs(socAfter(m, a, tab, kw, kind) - b)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('socAfter saturates at 1 and handles zero/negative time', () => {
    const m = fleet[0]!;
    const full = chargeTimeS(m, 0.3, 1, 150, 'DC');
    expect(socAfter(m, 0.3, full * 1.5, 150, 'DC')).toBe(1);
    expect(socAfter(m, 0.3, Infinity, 150, 'DC')).toBe(1);
    expect(socAfter(m, 0.3, 0, 150, 'DC')).toBe(0.3);
    expect(socAfter(m, 0.3, -5, 150, 'DC')).toBe(0.3);
    expect(socAfter(m, 0.3, full / 2, 150, 'DC')).toBeGreaterThan(0.3);
  });
});

describe('makeModelPicker', () => {
  it('draw frequencies match the weights on 100k draws (±4σ binomial)', () => {
    const pick = makeModelPicker(fleet);
    const rng = seedrandom.alea('evModels-picker-test');
    const N = 100_000;
    const counts = new Array<number>(fleet.length).fill(0);
    for (let i = 0; i < N; i++) counts[pick(rng())]!++;
    const total = fleet.reduce((s, m) => s + m.weight, 0);
    fleet.forEach((m, i) => {
      const p = m.weight / total;
      const sigma = Math.sqrt(N * p * (1 - p));
      expect(Math.abs(counts[i]! - N * p), m.name).toBeLessThanOrEqual(4 * sigma);
    });
  });
  it('is deterministic, skips zero weights and handles the ends of [0,1)', () => {
    const pick = makeModelPicker([{ weight: 0 }, { weight: 1 }, { weight: 0 }, { weight: 3 }, { weight: 0 }]);
    expect(pick(0)).toBe(1);
    expect(pick(0.2499)).toBe(1);
    expect(pick(0.25)).toBe(3);
    expect(pick(0.9999999)).toBe(3);
    expect(pick(1)).toBe(3);
    const a = seedrandom.alea('s');
    const b = seedrandom.alea('s');
    const p2 = makeModelPicker(fleet);
    for (let i = 0; i < 1000; i++) expect(p2(a())).toBe(p2(b()));
    expect(() => makeModelPicker([])).toThrow(RangeError);
    expect(() => makeModelPicker([{ weight: 0 }])).toThrow(RangeError);
    expect(() => makeModelPicker([{ weight: -1 }])).toThrow(RangeError);
  });
});

describe('idealModel', () => {
  it('is a flat curve at maxKW for AC and DC', () => {
    const m = idealModel('acn', 40, 6.6);
    expect(vehicleLimitKW(m, 0.1, 'AC')).toBe(6.6);
    expect(vehicleLimitKW(m, 0.95, 'DC')).toBe(6.6);
    expect(() => idealModel('bad', 0, 7)).toThrow(RangeError);
  });
});
