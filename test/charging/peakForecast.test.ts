import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelScratch, PeakForecast, loadPeakForecastModel, optimalAvailableKW, type PeakForecastModel } from '../../src/charging/peakControl.js';
import type { Station } from '../../src/charging/station.js';
import { UserError } from '../../src/core/errors.js';
import { trainAllocation } from '../../src/simulation/trainAllocation.js';
import { ROOT, networkFeasibilityCheck, runShipped } from '../helpers.js';

const H = 3600;
const tmp = mkdtempSync(join(tmpdir(), 'evsim-peakfc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** a 24-slot (hourly) model: weekdays 10 kWh arriving 8-9 h and 20 kWh 12-13 h (leaving 17 h), weekends 4 kWh at 10-11 h */
function model(over: Partial<PeakForecastModel> = {}): PeakForecastModel {
  const z = () => new Array(24).fill(0) as number[];
  const wd = { kWh: z(), departureH: z() };
  wd.kWh[8] = 10;
  wd.departureH[8] = 17;
  wd.kWh[12] = 20;
  wd.departureH[12] = 17;
  const we = { kWh: z(), departureH: z() };
  we.kWh[10] = 4;
  we.departureH[10] = 14;
  return { format: 'evsim-peak-forecast', version: 1, name: 't', slotMinutes: 60, utcOffsetHours: 0, weekday: wd, weekend: we, beta: 1, adaptKWh: 0, levelFactor: 1, ...over };
}
// 2019-03-04 (a Monday) 00:00 UTC
const MONDAY = Date.parse('2019-03-04T00:00:00Z') / 1000;

describe('the learned peak forecast (PeakForecast)', () => {
  it('forecast jobs raise the Optimal-Available level like plugged EVs without a rate limit', () => {
    const sc = new LevelScratch();
    // plugged: 2 kWh due in 2 h (1 kW); plus 6 kWh forecast due in 2 h: 8 / 2 = 4 kW
    const base = optimalAvailableKW(0, 1, 0, [2 * H], [2], [6.6], 1 / 12, sc);
    const withFc = optimalAvailableKW(0, 1, 0, [2 * H], [2], [6.6], 1 / 12, sc, { n: 1, kWh: [6], hours: [2] });
    expect(base).toBeCloseTo(1, 12);
    expect(withFc).toBeCloseTo(4, 12);
    // a forecast due later than the plugged EV: max(2 / 2, 8 / 8) = 1 ... 2 + 6 over 8 h = 1
    expect(optimalAvailableKW(0, 1, 0, [2 * H], [2], [6.6], 1 / 12, sc, { n: 1, kWh: [6], hours: [8] })).toBeCloseTo(1, 12);
  });

  it('gives the rest of the day of the right day type, scaled by beta and by today\'s arrivals', () => {
    const f = new PeakForecast(model({ beta: 0.5 }), MONDAY);
    let n = f.forecast(0);
    expect(n).toBe(2);
    expect([f.kWh[0], f.kWh[1]]).toEqual([5, 10]);
    expect([f.hours[0], f.hours[1]]).toEqual([17, 17]);
    // 12:30: half of slot 12 is left, due in 4.5 h
    n = f.forecast(12.5 * H);
    expect(n).toBe(1);
    expect(f.kWh[0]).toBeCloseTo(5, 12);
    expect(f.hours[0]).toBeCloseTo(4.5, 12);
    // after 13 h nothing is left today
    expect(f.forecast(14 * H)).toBe(0);
    // Saturday 9 March: the weekend profile
    const sat = new PeakForecast(model(), MONDAY);
    expect(sat.forecast(5 * 86400)).toBe(1);
    expect(sat.kWh[0]).toBe(4);
    // adaptation: by 10:00 the profile expects 10 kWh; 30 kWh arrived, w = 10: scale (30 + 10) / (10 + 10) = 2
    const a = new PeakForecast(model({ adaptKWh: 10 }), MONDAY);
    a.observe(9 * H, 1, 30);
    a.observe(9.5 * H, 1, 25); // the same session seen again counts once
    expect(a.forecast(10 * H)).toBe(1);
    expect(a.kWh[0]).toBeCloseTo(40, 12);
    // a new local day starts from nothing arrived
    expect(a.forecast(86400 + 10 * H)).toBe(1);
    expect(a.kWh[0]).toBeCloseTo(20 * (0 + 10) / (10 + 10), 12);
  });

  it('a bad model file is a one-line UserError naming the file and the field', () => {
    expect(() => loadPeakForecastModel(join(tmp, 'missing'), 'x.yaml: site.peakModel')).toThrow(/^x\.yaml: site\.peakModel: cannot read the peak-forecast model .*missing\/model\.json/);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...model(), beta: -1 }));
    expect(() => loadPeakForecastModel(bad)).toThrow(UserError);
    expect(() => loadPeakForecastModel(bad)).toThrow(/bad\.json: beta: a number in \[0, 100\]/);
    writeFileSync(bad, JSON.stringify({ ...model(), weekday: { kWh: [1], departureH: [1] } }));
    expect(() => loadPeakForecastModel(bad)).toThrow(/weekday\.kWh: 24 finite numbers/);
  });
});

const HELD = '../training/allocation-heldout.yaml';
const SHIPPED = 'site.peakModel=../models/allocation-peak-caltech';

describe('site.peakModel in the simulation', () => {
  it('peak-aware with the shipped forecast stays under the cap, delivers >= 99.5 % of llf\'s energy, and is deterministic', async () => {
    let worstOver = 0;
    const hooks = {
      allocated: (st: Station) => {
        let kw = 0;
        for (const s of st.plugged) kw += s.powerKW;
        worstOver = Math.max(worstOver, kw - 150);
      },
    };
    const set = ['site.capKW=150']; // the whole fortnight (a shorter horizon cuts deferred energy off)
    const llf = (await runShipped(HELD, [...set, 'policy.allocation=llf'])).result.summary;
    const a = (await runShipped(HELD, [...set, 'policy.allocation=peak-aware', SHIPPED], hooks)).result.summary;
    const b = (await runShipped(HELD, [...set, 'policy.allocation=peak-aware', SHIPPED])).result.summary;
    const oa = (await runShipped(HELD, [...set, 'policy.allocation=peak-aware', 'site.peakLevelFactor=1.025'])).result.summary;
    expect(worstOver).toBeLessThanOrEqual(1e-9);
    expect(a.sessions.energyDeliveredKWh).toBeGreaterThan(0.995 * llf.sessions.energyDeliveredKWh);
    expect(a.stations.peakKW).toBeLessThan(0.5 * llf.stations.peakKW);
    // the forecast changes the target (q is the model's 1.025 in both)
    expect(a.stations.peakKW).not.toBe(oa.stations.peakKW);
    expect(a.stations.peakKW).toBe(b.stations.peakKW);
    expect(a.sessions.energyDeliveredKWh).toBe(b.sessions.energyDeliveredKWh);
  });

  it('site.peakControl with the forecast keeps every allocation feasible on the three-phase network', async () => {
    const feas = networkFeasibilityCheck();
    const net = 'site.network={file: ../data/sites/caltech-acn.json, transformerKW: 60, continuous: true}';
    const r = (await runShipped(HELD, [net, 'policy.allocation=need-proportional', 'site.peakControl=optimal-available', SHIPPED, 'duration=3d'], feas)).result.summary;
    expect(feas.checked).toBeGreaterThan(300);
    expect(r.sessions.energyDeliveredKWh).toBeGreaterThan(0);
  });

  it('a missing model folder is a one-line UserError naming the scenario field', async () => {
    await expect(runShipped(HELD, ['policy.allocation=peak-aware', 'site.peakModel=../models/no-such-model', 'duration=1d'])).rejects.toThrow(/allocation-heldout\.yaml: site\.peakModel: cannot read the peak-forecast model/);
  });
});

describe('evsim train allocation (objective: peak-forecast)', () => {
  it('the same config writes the same model.json twice, fitted on the training days', async () => {
    const cfg = join(ROOT, 'training', 'allocation-peak-tiny.yaml');
    const a = await trainAllocation(cfg, () => {}, () => 0, { out: join(tmp, 'a') });
    const b = await trainAllocation(cfg, () => {}, () => 0, { out: join(tmp, 'b') });
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.sha256).toBe(b.sha256);
    expect(readFileSync(join(tmp, 'a', 'model.json'), 'utf8')).toBe(readFileSync(join(tmp, 'b', 'model.json'), 'utf8'));
    expect(a.samples).toBe(4);
    const m = loadPeakForecastModel(join(tmp, 'a'));
    expect([0, 0.5]).toContain(m.beta);
    expect([1, 1.05]).toContain(m.levelFactor);
    // the weekday profile carries the training days' energy (3 weekdays of sessions)
    expect(m.weekday.kWh.reduce((x, y) => x + y, 0)).toBeGreaterThan(100);
    expect(readFileSync(join(tmp, 'a', 'model-card.md'), 'utf8')).toContain('## Held-out evaluation');
  });

  it('a bad config is a one-line UserError naming the field', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, readFileSync(join(ROOT, 'training', 'allocation-peak-tiny.yaml'), 'utf8').replace('slotMinutes: 60', 'slotMinutes: 7').replace('scenario: allocation-heldout.yaml', `scenario: ${join(ROOT, 'training', 'allocation-heldout.yaml')}`));
    await expect(trainAllocation(bad, () => {}, () => 0, { out: join(tmp, 'c') })).rejects.toThrow(/bad\.yaml: slotMinutes: must divide 1440/);
  });
});
