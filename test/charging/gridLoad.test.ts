/**
 * The grid load file, MAPE, seasonal naive, the forecast price rule and the schedule tariff
 * (docs/tariffs.md), on hand-checked values.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvRows } from '../../src/core/csv.js';
import { modelSha256 } from '../../src/ai/runtime.js';
import { mape, parseGridLoad, readGridLoad, seasonalNaive } from '../../src/charging/gridLoad.js';
import { forecastPrices, loadTariff, meanHourlyPrice, ScheduleTariff } from '../../src/charging/tariff.js';
import { UserError } from '../../src/core/errors.js';
import { ROOT } from '../helpers.js';

const HEADER = 'date_time,raw demand (MW),category,cleaned demand (MW),forecast demand (MW)';
const csv = (vals: number[], t0 = '2019-01-01') => [HEADER, ...vals.map((v, i) => `${t0} ${String(i).padStart(2, '0')}:00:00,${v},OKAY,${v},${v}`)].join('\n') + '\n';

describe('grid load file', () => {
  it('the shipped CAISO file: 35,064 consecutive hours from 2015-07-02 00:00 UTC, cleaned values in range', () => {
    const g = readGridLoad(join(ROOT, 'data/grid/eia-caiso-demand-2015-2019-hourly.csv'));
    expect(g.mw.length).toBe(35064);
    expect(new Date(g.startEpoch * 1000).toISOString()).toBe('2015-07-02T00:00:00.000Z');
    expect(Math.min(...g.mw)).toBe(14663);
    expect(Math.max(...g.mw)).toBe(49899);
  });

  it('integrity of the stored data: sha256 as in PROVENANCE.md, the flagged rows as stated, the licence; the shipped model matches its card', () => {
    const file = join(ROOT, 'data/grid/eia-caiso-demand-2015-2019-hourly.csv');
    const bytes = readFileSync(file);
    const prov = readFileSync(join(ROOT, 'data/grid/PROVENANCE.md'), 'utf8');
    expect(prov).toContain(`\`${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}\``);
    const rows = parseCsvRows(bytes.toString('utf8'));
    const cat = rows[0]!.indexOf('category');
    const counts = new Map<string, number>();
    for (const r of rows.slice(1)) counts.set(r[cat]!, (counts.get(r[cat]!) ?? 0) + 1);
    expect(rows.length - 1 - counts.get('OKAY')!).toBe(349);
    expect(counts.get('MISSING')).toBe(301);
    expect(readFileSync(join(ROOT, 'data/LICENSES/eia-cleaned-demand_CC-BY-4.0.txt'), 'utf8')).toContain('Attribution 4.0 International');
    const card = readFileSync(join(ROOT, 'models/load-forecast-caiso/model-card.md'), 'utf8');
    expect(card).toContain(modelSha256(join(ROOT, 'models/load-forecast-caiso')));
  });

  it('a gap, a bad timestamp or a bad value is one line naming the file and the line', () => {
    const gap = csv([1, 2, 3]).replace('2019-01-01 01:00:00', '2019-01-01 05:00:00');
    expect(() => parseGridLoad(gap, 'g.csv')).toThrow(UserError);
    expect(() => parseGridLoad(gap, 'g.csv')).toThrow(/grid load file g\.csv: line 3: date_time 2019-01-01 05:00:00 is not the hour after the previous row/);
    expect(() => parseGridLoad(csv([1, -2, 3]), 'g.csv')).toThrow(/line 3: cleaned demand \(MW\) must be a finite number > 0 \(got "-2"\)/);
    expect(() => parseGridLoad(csv([1]).replace('00:00:00', '00:30:00'), 'g.csv')).toThrow(/line 2: date_time must be "YYYY-MM-DD HH:00:00"/);
    expect(() => parseGridLoad('a,b\n1,2\n', 'g.csv')).toThrow(/line 1: has no column "date_time"/);
  });
});

describe('MAPE and seasonal naive', () => {
  it('MAPE by hand: |110−100|/100 and |90−100|/100 → 10 %; |50−40|/40 → 25 %', () => {
    expect(mape([110, 90], [100, 100])).toBeCloseTo(10, 12);
    expect(mape([50], [40])).toBeCloseTo(25, 12);
    expect(mape([100, 50], [100, 40])).toBeCloseTo(12.5, 12);
    expect(() => mape([1], [1, 2])).toThrow(RangeError);
  });

  it('seasonal naive takes the same hour lagHours earlier', () => {
    const g = parseGridLoad(csv(Array.from({ length: 24 }, (_, i) => 100 + i)), 'g.csv');
    expect(Array.from(seasonalNaive(g, 6, 3, 4))).toEqual([103, 104, 105, 106]);
    expect(() => seasonalNaive(g, 2, 3, 4)).toThrow(RangeError);
  });
});

describe('forecast price rule', () => {
  it('price = base × clamp((F/mean)^k, min, max), by hand', () => {
    const rule = { basePricePerKWh: 0.3, exponent: 1, minFactor: 0.6, maxFactor: 1.4 };
    // mean 2: factors 0.5, 1, 1.5 → clamped 0.6, 1, 1.4
    const p = forecastPrices([1, 2, 3], rule);
    expect(Array.from(p).map((x) => +x.toFixed(12))).toEqual([0.18, 0.3, 0.42]);
    // k = 2: (0.5)² = 0.25 → 0.6, 1, 2.25 → 1.4
    expect(Array.from(forecastPrices([1, 2, 3], { ...rule, exponent: 2 })).map((x) => +x.toFixed(12))).toEqual([0.18, 0.3, 0.42]);
    // calibrated: the day's mean price equals the given mean (factors mean 1 → base 0.2)
    const c = forecastPrices([1, 2, 3], rule, 0.2);
    expect(Array.from(c).map((x) => +x.toFixed(12))).toEqual([0.12, 0.2, 0.28]);
    const skew = forecastPrices([1, 1, 1, 5], { ...rule, exponent: 1, maxFactor: 3 }, 0.25);
    expect(skew.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(0.25, 12);
    expect(skew[3]! > skew[0]!).toBe(true);
  });

  it('the comparator TOU mean over a summer weekday: SCE TOU-EV-8, 19 h at 0.12597 and 5 h at 0.49619 $/kWh', () => {
    const tou = loadTariff({ type: 'tou', file: join(ROOT, 'data/tariffs/sce_tou_ev_8_june_2019.json'), utcOffsetHours: -8, dst: 'us' });
    const day = Date.parse('2019-06-03T08:00:00Z') / 1000; // Monday 01:00 PDT
    expect(meanHourlyPrice(tou, day)).toBeCloseTo((19 * 0.12597 + 5 * 0.49619) / 24, 10);
  });
});

describe('schedule tariff', () => {
  it('prices hour by hour, integrates across hour boundaries, refuses unpublished hours', () => {
    const t = new ScheduleTariff('test');
    const d0 = 3600 * 1000;
    t.publish(d0, [0.1, 0.2], new Float64Array(2), new Float64Array(2));
    expect(t.priceAt(d0 + 10)).toBe(0.1);
    expect(t.priceAt(d0 + 3600)).toBe(0.2);
    // 30 min in hour 0 + 30 min in hour 1 at 10 kW: 5 kWh × 0.1 + 5 kWh × 0.2
    expect(t.cost(d0 + 1800, 3600, 10)).toBeCloseTo(1.5, 12);
    expect(() => t.priceAt(d0 + 7200)).toThrow(RangeError);
    expect(Number.isNaN(t.publishedPriceAt(d0 + 7200))).toBe(true);
    expect(t.publishedUntil).toBe(d0 + 7200);
    expect(() => t.publish(d0 + 3 * 3600, [0.1], new Float64Array(1), new Float64Array(1))).toThrow(/does not follow/);
  });
});
