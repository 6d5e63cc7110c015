/**
 * The forecast tariff and the price response in the simulation (docs/tariffs.md): the deferral rule
 * on a tiny case, its effect on a city day, determinism with the TF.js forecaster in the loop, the
 * audit of charged prices, and validation errors.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Kernel } from '../../src/core/kernel.js';
import { UserError } from '../../src/core/errors.js';
import { loadForecastParts } from '../../src/ai/loadForecast.js';
import { readGridLoad } from '../../src/charging/gridLoad.js';
import { checkScenarioFiles } from '../../src/scenario/files.js';
import { loadScenario, type Scenario } from '../../src/scenario/scenario.js';
import { Fleet } from '../../src/simulation/fleet.js';
import { createSimulation } from '../../src/simulation/index.js';
import { buildCity, type City } from '../../src/simulation/world.js';
import type { Observation } from '../../src/simulation/observation.js';
import { comparisonRows } from '../../src/output/output.js';
import { ROOT, scenarioPath } from '../helpers.js';

const SMALL = ['fleet.size=300'];

describe('price response: the deferral rule', () => {
  const sc = loadScenario(scenarioPath('tariff-tou.yaml'));
  const fleet = new Fleet(new Kernel(16), sc, {} as City, [], {} as Observation);
  fleet.alloc(1);
  fleet.models = [{ name: 'test', capacityKWh: 50 } as never];
  const defers = (soc: number, after: number) => fleet.defers(0, soc, after);
  // now 0.5 $/kWh; 0.1 $/kWh from 2 h on
  const cheapLater = { priceAt: () => 0.5, minPriceWithin: (_t: number, la: number) => (la >= 7200 ? 0.1 : 0.5), deferrals: 0 };

  it('an EV below the charge threshold with SoC to spare defers to the cheap hour within its look-ahead', () => {
    fleet.prices = cheapLater;
    // need (0.8 − 0.25) × 50 kWh = 27.5 kWh, saving 0.4 $/kWh × 27.5 = 11 $ ≥ 0.5 $
    expect(defers(0.25, 0.2)).toBe(true);
    expect(cheapLater.deferrals).toBe(1);
  });

  it('never below the reserve: an EV whose leg would leave it under priceResponse.minSoc charges now', () => {
    fleet.prices = cheapLater;
    expect(sc.fleet.priceResponse!.minSoc).toBe(0.15);
    expect(defers(0.25, 0.149)).toBe(false);
    expect(defers(0.25, 0.15)).toBe(true);
  });

  it('no cheaper published hour, or a saving under minSavings: no deferral', () => {
    fleet.prices = { priceAt: () => 0.5, minPriceWithin: () => 0.5, deferrals: 0 };
    expect(defers(0.25, 0.2)).toBe(false);
    // saving (0.5 − 0.49) × 27.5 = 0.275 $ < 0.5 $
    fleet.prices = { priceAt: () => 0.5, minPriceWithin: () => 0.49, deferrals: 0 };
    expect(defers(0.25, 0.2)).toBe(false);
    fleet.prices = null;
    expect(defers(0.25, 0.2)).toBe(false);
  });
});

async function forecastRun(sc: Scenario, city: City) {
  const g = readGridLoad(join(ROOT, 'data/grid/eia-caiso-demand-2015-2019-hourly.csv'));
  const p = await loadForecastParts(sc, sc.tariff.type === 'forecast' ? sc.tariff.model! : '', g, 8);
  return createSimulation(sc, city, { loadForecaster: p.forecaster, ai: p.ai }).run();
}

describe('forecast tariff in the loop', () => {
  it('same scenario and seed → identical summary; one forecaster call per day; charged prices equal the published schedule', async () => {
    const sc = loadScenario(scenarioPath('tariff-forecast.yaml'), { overrides: [...SMALL, 'duration=36h'] });
    const city = await buildCity(sc);
    const a = await forecastRun(sc, city);
    const b = await forecastRun(sc, city);
    expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
    const t = a.summary.tariff!;
    expect(t.kind).toBe('forecast');
    expect(t.forecastCalls).toBe(2); // days from 2019-06-03T08Z and 2019-06-04T08Z
    expect(t.days!.map((d) => d.start)).toEqual(['2019-06-03T08:00:00.000Z', '2019-06-04T08:00:00.000Z']);
    expect(t.auditMismatches).toBe(0);
    expect(a.summary.ledger.auditProblems).toBe(0);
    expect(t.evEnergyKWh).toBeGreaterThan(100);
    expect(t.revenue).toBeCloseTo(a.sessions.reduce((s, x) => s + x.price, 0), 2);
    // mean-matched to SCE TOU-EV-8 on a summer weekday
    const p = t.days![0]!.pricesPerKWh;
    expect(p.reduce((x, y) => x + y, 0) / 24).toBeCloseTo((19 * 0.12597 + 5 * 0.49619) / 24, 5);
    // the most expensive hour is the forecast's peak hour
    const f = t.days![0]!.forecastMW;
    expect(p.indexOf(Math.max(...p))).toBe(f.indexOf(Math.max(...f)));
    expect(t.forecastMapePct).toBeGreaterThan(0);
    expect(t.forecastMapePct).toBeLessThan(10);
    expect(a.summary.ai!.models.loadForecast!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.decisions).toBeGreaterThan(0);
    expect(t.decisionEfficiencyPct).toBeGreaterThan(0);
    expect(t.decisionEfficiencyPct).toBeLessThanOrEqual(100);
  }, 60_000);

  it('perfect foresight (source actual) needs no model and has MAPE 0', async () => {
    const sc = loadScenario(scenarioPath('tariff-forecast.yaml'), { overrides: [...SMALL, 'tariff.source=actual'] });
    const r = createSimulation(sc, await buildCity(sc)).run();
    expect(r.summary.tariff!.forecastMapePct).toBe(0);
    expect(r.summary.tariff!.peakHourHitRate).toBe(1);
    // its decisions are the perfect-foresight decisions by definition
    expect(r.summary.tariff!.decisions).toBeGreaterThan(0);
    expect(r.summary.tariff!.decisionEfficiencyPct).toBe(100);
  }, 60_000);

  it('price response on the static TOU: EVs defer and less EV energy falls in the TOU peak (16–21 h local); nobody strands', async () => {
    const on = loadScenario(scenarioPath('tariff-tou.yaml'), { overrides: SMALL });
    const city = await buildCity(on);
    const rOn = createSimulation(on, city).run();
    // off: the same with an unreachable saving threshold (no deferral can happen)
    const off = loadScenario(scenarioPath('tariff-tou.yaml'), { overrides: [...SMALL, 'fleet.priceResponse.minSavings=1e9'] });
    const rOff = createSimulation(off, city).run();
    expect(rOn.summary.tariff!.deferrals).toBeGreaterThan(0);
    expect(rOff.summary.tariff!.deferrals).toBe(0);
    // t = 0 is 01:00 PDT: local 16–21 h are hours 15..19 of the tariff day
    const peak = (h: number[]) => h.slice(15, 20).reduce((a, b) => a + b, 0);
    expect(peak(rOn.summary.tariff!.evEnergyByHourKWh)).toBeLessThan(peak(rOff.summary.tariff!.evEnergyByHourKWh));
    expect(rOn.summary.tariff!.pricePerKWhCharged).toBeLessThan(rOff.summary.tariff!.pricePerKWhCharged);
    expect(rOn.summary.fleet.stranded).toBe(0);
    const rows = comparisonRows([rOff.summary, rOn.summary]);
    const col = rows[0]!.indexOf('deferrals');
    expect(rows[0]).toContain('tariff_kind');
    expect(rows[2]![col]).toBe(rOn.summary.tariff!.deferrals);
  }, 60_000);

  it('a scenario without the tariff part has no tariff section', async () => {
    const sc = loadScenario(scenarioPath('monaco.yaml'), { overrides: ['fleet.size=100', 'duration=2h', 'ledger.stacks=[none]'] });
    const r = createSimulation(sc, await buildCity(sc)).run();
    expect(r.summary.tariff).toBeUndefined();
    expect(comparisonRows([r.summary])[0]).not.toContain('tariff_kind');
  }, 60_000);
});

describe('validation', () => {
  const fails = async (overrides: string[], re: RegExp, base = 'tariff-forecast.yaml') => {
    let err: unknown;
    try {
      await checkScenarioFiles(loadScenario(scenarioPath(base), { overrides }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(re);
  };

  it('schema errors name the field and what is allowed', () => {
    expect(() => loadScenario(scenarioPath('tariff-forecast.yaml'), { overrides: ['fleet.priceResponse.minSoc=2'] })).toThrow(/fleet\.priceResponse\.minSoc/);
    expect(() => loadScenario(scenarioPath('tariff-forecast.yaml'), { overrides: ['tariff.source=oracle'] })).toThrow(/tariff\.source/);
    expect(() => loadScenario(scenarioPath('tariff-forecast.yaml'), { overrides: ['grid.peakHours=0'] })).toThrow(/grid\.peakHours/);
  });

  it('file checks: a forecast without its model, bad factors, a start outside the grid data', async () => {
    await fails(['tariff.model=../models/nope'], /tariff\.model/);
    await fails(['tariff.minFactor=3'], /tariff\.minFactor: must be <= tariff\.maxFactor/);
    await fails(['start=2020-01-01T08:00:00Z'], /start: the run's tariff days .* must lie inside grid\.load/);
    await fails(['grid.load=../data/grid/nope.csv'], /grid\.load: grid load file .*nope\.csv: cannot be read \(ENOENT\)/);
  });
});
