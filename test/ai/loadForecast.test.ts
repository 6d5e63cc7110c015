/**
 * The day-ahead load forecaster (src/ai/loadForecast.ts): reproducible training of the tiny CI
 * config, which must beat seasonal naive on held-out days; no feature reads the forecast day.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGridLoad } from '../../src/charging/gridLoad.js';
import { dayStarts, F_LOAD, featureRow, trainLoadForecast } from '../../src/ai/loadForecast.js';
import { UserError } from '../../src/core/errors.js';
import { ROOT } from '../helpers.js';

const CI = join(ROOT, 'training/load-forecast-ci.yaml');

describe('load forecaster', () => {
  it('the CI config trains reproducibly (same sha256 twice) and beats seasonal naive (168 h) by ≥ 15 % on held-out 2019 days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-lf-'));
    const a = await trainLoadForecast(CI, { output: join(dir, 'a') });
    const b = await trainLoadForecast(CI, { output: join(dir, 'b') });
    expect(b.sha256).toBe(a.sha256);
    expect(a.testDays).toBe(60);
    expect(a.firstTestDay).toBe('2019-01-01T08Z');
    expect(a.lastTrainDay.startsWith('2018-')).toBe(true);
    expect(a.mapeModel).toBeLessThan(0.85 * a.mapeNaive168);
    expect(a.mapeNaive168).toBeGreaterThan(0);
  }, 60_000);

  it('features of a day use only hours before its issue time', () => {
    const g = readGridLoad(join(ROOT, 'data/grid/eia-caiso-demand-2015-2019-hourly.csv'));
    const h0 = dayStarts(g, 8, 2019, 2019)[10]!;
    const x1 = new Float32Array(F_LOAD);
    featureRow(g, h0, x1);
    const mw = g.mw.slice();
    for (let i = h0; i < mw.length; i++) mw[i] = 1;
    const x2 = new Float32Array(F_LOAD);
    featureRow({ ...g, mw }, h0, x2);
    expect(Array.from(x2)).toEqual(Array.from(x1));
    expect(new Date((g.startEpoch + h0 * 3600) * 1000).getUTCHours()).toBe(8);
  });

  it('a bad config is one line naming the file and the field', async () => {
    const { writeFileSync } = await import('node:fs');
    const f = join(mkdtempSync(join(tmpdir(), 'evsim-lf-')), 'bad.yaml');
    writeFileSync(f, 'output: x\ndata: ../data/grid/x.csv\ntrainYears: [2015, 2018]\ntestYear: 2017\n');
    await expect(trainLoadForecast(f)).rejects.toThrow(UserError);
    await expect(trainLoadForecast(f)).rejects.toThrow(/testYear: must be after the training years/);
  });
});
