/**
 * Cost of the tariff part (docs/tariffs.md):
 * - forecaster inference per simulated day: the shipped model (models/load-forecast-caiso)
 *   forecasting each of the 181 days of the 2019 test period, one forward pass per day as in a run
 *   (features of the day, forward pass, readback); best of 5 passes over the days, ms per day;
 * - the price response on a large fleet: liechtenstein-10k (10,000 EVs, 24 h) on the SCE TOU-EV-8
 *   tariff with the CAISO grid block, run through the CLI (its own process, timing.json's
 *   simulation phase), alternating three variants, best of `reps` each:
 *     off      no fleet.priceResponse
 *     decide   priceResponse with minSavings 1e9: every decision is evaluated, none defers (the
 *              pure cost of the behaviour: same city day as `off`)
 *     on       priceResponse with its defaults (EVs defer: a different city day)
 *   and the forecast tariff (TF.js model in the loop) with the price response.
 * Run directly after `npm run build`: node dist/bench/tariff.js [--reps N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dayStarts, ModelForecaster } from '../src/ai/loadForecast.js';
import { initTf, loadModel } from '../src/ai/runtime.js';
import { readGridLoad } from '../src/charging/gridLoad.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'evsim.js');
const GRID = '{load: ../data/grid/eia-caiso-demand-2015-2019-hourly.csv, dayStartUtcHour: 8, peakHours: 4}';
const TOU = '{type: tou, file: ../data/tariffs/sce_tou_ev_8_june_2019.json, utcOffsetHours: -8, dst: us}';
const FORECAST =
  '{type: forecast, source: model, model: ../models/load-forecast-caiso, exponent: 3, minFactor: 0.4, maxFactor: 2.5, calibrate: {file: ../data/tariffs/sce_tou_ev_8_june_2019.json, utcOffsetHours: -8, dst: us}}';
const BASE = ['start=2019-06-03T08:00:00Z', `grid=${GRID}`];

export interface TariffBench {
  backend: string;
  forecastMsPerDay: number;
  days: number;
  large: { variant: string; runSeconds: number; deferrals: number; events: number }[];
  decideOverheadPct: number;
}

function runSeconds(overrides: string[]): { runSeconds: number; deferrals: number; events: number } {
  const out = mkdtempSync(join(os.tmpdir(), 'evsim-bench-tariff-'));
  const args = [BIN, 'run', join(ROOT, 'scenarios', 'liechtenstein-10k.yaml'), '--quiet', '--out', out, ...overrides.flatMap((o) => ['--set', o])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`evsim run failed: ${r.stderr}`);
  const timing = JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  return { runSeconds: timing.wallSeconds.run, deferrals: summary.tariff?.deferrals ?? 0, events: summary.events };
}

export async function benchTariff(reps = 3): Promise<TariffBench> {
  const info = await initTf('auto');
  const g = readGridLoad(join(ROOT, 'data/grid/eia-caiso-demand-2015-2019-hourly.csv'));
  const f = new ModelForecaster(await loadModel(join(ROOT, 'models/load-forecast-caiso')), g);
  const days = dayStarts(g, 8, 2019, 2019);
  for (const h0 of days) f.forecastDay(h0); // warm-up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now(); // wall-clock ok: benchmark
    for (const h0 of days) f.forecastDay(h0);
    best = Math.min(best, (performance.now() - t0) / days.length); // wall-clock ok: benchmark
  }
  const variants: Record<string, string[]> = {
    off: [...BASE, `tariff=${TOU}`],
    decide: [...BASE, `tariff=${TOU}`, 'fleet.priceResponse={minSavings: 1e9}'],
    on: [...BASE, `tariff=${TOU}`, 'fleet.priceResponse={}'],
    'forecast+on': [...BASE, `tariff=${FORECAST}`, 'fleet.priceResponse={}'],
  };
  const bestOf = new Map<string, { runSeconds: number; deferrals: number; events: number }>();
  for (let r = 0; r < reps; r++) {
    for (const [name, o] of Object.entries(variants)) {
      const x = runSeconds(o);
      const b = bestOf.get(name);
      if (!b || x.runSeconds < b.runSeconds) bestOf.set(name, x);
    }
  }
  const large = [...bestOf].map(([variant, x]) => ({ variant, ...x }));
  const off = bestOf.get('off')!.runSeconds;
  return { backend: info.backend, forecastMsPerDay: best, days: days.length, large, decideOverheadPct: (100 * (bestOf.get('decide')!.runSeconds - off)) / off };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--reps');
  const reps = i > 0 ? Number(process.argv[i + 1]) : 3;
  benchTariff(reps).then((b) => {
    console.log(`forecaster (${b.backend}): ${b.forecastMsPerDay.toFixed(3)} ms per simulated day (best of 5 over ${b.days} days)`);
    console.log('| liechtenstein-10k, SCE TOU-EV-8 | simulation phase (s, best of ' + reps + ') | deferrals | events |\n|---|---|---|---|');
    for (const r of b.large) console.log(`| ${r.variant} | ${r.runSeconds.toFixed(2)} | ${r.deferrals} | ${r.events} |`);
    console.log(`price-response decisions (none deferring) vs off: ${b.decideOverheadPct.toFixed(1)} % of the simulation phase`);
  });
}
