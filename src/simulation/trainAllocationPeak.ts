/**
 * `evsim train allocation training/allocation-peak.yaml` (config `objective: peak-forecast`): the
 * learned part of demand-charge peak control (src/charging/peakControl.ts PeakForecast), fitted on
 * the training days only.
 *
 *   1. the training days: the config's scenario with its start moved to `start` and its horizon
 *      to `trainUntil` (only sessions arriving in [start, trainUntil) are replayed), under the
 *      site cap `capKW`;
 *   2. the arrival profile: per local time-of-day slot and day type (weekday / weekend), the mean
 *      energy per day of the sessions arriving in it and their energy-weighted mean departure;
 *   3. the grid search: for every (β, w, q) of the grid, one simulated run of the training days
 *      (llf under the target max(peak so far, q · level(plugged EVs + β-scaled forecast))); the
 *      chosen point has the lowest peak among those delivering at least `minEnergyPct` % of the
 *      deliverable energy (the max-energy optimum of the training sessions; first on ties);
 *   4. model.json (profile and fitted parameters) and model-card.md into `out`;
 *   5. held-out: the config's held-out scenario (sessions arriving from trainUntil on) under the
 *      same cap: energy and peak of peak-aware without and with the forecast, against the
 *      deliverable energy and the hindsight least peak at `share`.
 * Deterministic: the same config writes byte-identical files (the wall time goes to the log only).
 */
import { readConfigFile } from '../core/configFile.js';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { allocationPolicyEntry } from '../charging/allocationBatch.js';
import { PeakControlledAllocation, type PeakForecastModel, type PeakForecastProfile } from '../charging/peakControl.js';
import { UserError } from '../core/errors.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { scenarioOptimum } from './optimumRun.js';
import { Simulation } from './simulation.js';
import { buildCity } from './world.js';

const isoDate = z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'must be an ISO 8601 date-time' });

export const PeakTrainConfig = z.strictObject({
  objective: z.literal('peak-forecast'),
  /** model name (model card title) */
  name: z.string().min(1),
  /** a replay scenario giving the setup (sessions file, EV limit, period, tariff), relative to the config */
  scenario: z.string().min(1),
  /** the training days: sessions arriving in [start, trainUntil) */
  start: isoDate,
  trainUntil: isoDate,
  /** site cap (kW) of training and held-out runs */
  capKW: z.number().positive(),
  slotMinutes: z.number().int().min(5).max(240).default(30),
  /** local time = UTC + utcOffsetHours (fixed) */
  utcOffsetHours: z.number().min(-14).max(14),
  /** energy floor of the grid search: % of the deliverable energy */
  minEnergyPct: z.number().min(0).max(100).default(99.5),
  /** the share of the deliverable energy of the hindsight least peak (held-out report) */
  share: z.number().min(0).max(1).default(0.995),
  grid: z.strictObject({
    beta: z.array(z.number().min(0).max(100)).min(1),
    adaptKWh: z.array(z.number().min(0).max(1e6)).min(1),
    levelFactor: z.array(z.number().min(1).max(10)).min(1),
  }),
  /** output folder, relative to the config */
  out: z.string().min(1),
  heldOut: z.strictObject({
    scenario: z.string().min(1),
    /** override of the held-out scenario's duration (e.g. 2d for a quick check) */
    duration: z.string().optional(),
  }),
});
export type PeakTrainConfig = z.output<typeof PeakTrainConfig>;

const abs = (dir: string, p: string) => (isAbsolute(p) ? p : resolve(dir, p));

function loadConfig(file: string): { cfg: PeakTrainConfig; dir: string } {
  const cfg = readConfigFile(file, PeakTrainConfig);
  if (Date.parse(cfg.trainUntil) <= Date.parse(cfg.start)) throw new UserError([`${file}: trainUntil: must be after start (got ${cfg.trainUntil})`]);
  if (!Number.isInteger(1440 / cfg.slotMinutes)) throw new UserError([`${file}: slotMinutes: must divide 1440 (got ${cfg.slotMinutes})`]);
  return { cfg, dir: dirname(resolve(file)) };
}

/** The arrival profile of a replay scenario's sessions (module comment, step 2). */
export async function arrivalProfile(sc: Scenario, slotMinutes: number, utcOffsetHours: number): Promise<{ weekday: PeakForecastProfile; weekend: PeakForecastProfile; days: { weekday: number; weekend: number } }> {
  const city = await buildCity(sc);
  const startEpoch = Date.parse(sc.start) / 1000;
  const off = utcOffsetHours * 3600;
  const n = 1440 / slotMinutes;
  const acc = { weekday: { kWh: new Float64Array(n), dep: new Float64Array(n) }, weekend: { kWh: new Float64Array(n), dep: new Float64Array(n) } };
  const typeOf = (d: number) => {
    const w = new Date(d * 86400_000).getUTCDay();
    return w === 0 || w === 6 ? 'weekend' : 'weekday';
  };
  // every local day the horizon touches counts, sessions or not
  const days = { weekday: new Set<number>(), weekend: new Set<number>() };
  for (let t = 0; t < sc.duration; t += 3600) {
    const d = Math.floor((startEpoch + t + off) / 86400);
    days[typeOf(d)].add(d);
  }
  for (const r of city.replay!) {
    if (r.arrival >= sc.duration) continue;
    const la = startEpoch + r.arrival + off;
    const d = Math.floor(la / 86400);
    const slot = Math.min(n - 1, Math.floor((la - d * 86400) / (slotMinutes * 60)));
    const a = acc[typeOf(d)];
    a.kWh[slot] = a.kWh[slot]! + r.energyKWh;
    a.dep[slot] = a.dep[slot]! + r.energyKWh * ((startEpoch + r.departure + off - d * 86400) / 3600);
  }
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const fin = (t: 'weekday' | 'weekend'): PeakForecastProfile => ({
    kWh: Array.from(acc[t].kWh, (x) => round(x / Math.max(1, days[t].size))),
    departureH: Array.from(acc[t].dep, (x, i) => (acc[t].kWh[i]! > 0 ? round(x / acc[t].kWh[i]!) : 0)),
  });
  return { weekday: fin('weekday'), weekend: fin('weekend'), days: { weekday: days.weekday.size, weekend: days.weekend.size } };
}

/** Energy delivered and peak site power of peak-aware (llf under the target) with or without a forecast. */
export async function peakRun(sc: Scenario, levelFactor: number, model: PeakForecastModel | null): Promise<{ kWh: number; peakKW: number }> {
  const city = await buildCity(sc);
  const inner = allocationPolicyEntry('llf').create({ incrementKW: sc.policy.incrementKW, energyBound: false });
  const forecast = model && model.beta > 0 ? { forecast: { model, startEpochS: Date.parse(sc.start) / 1000 } } : {};
  const alloc = new PeakControlledAllocation('peak-aware', inner, { levelFactor, ...forecast });
  const r = new Simulation(sc, city, {}, undefined, { allocation: alloc }).run();
  return { kWh: r.summary.sessions.energyDeliveredKWh, peakKW: r.summary.stations.peakKW };
}

export interface PeakGridRow {
  beta: number;
  adaptKWh: number;
  levelFactor: number;
  kWh: number;
  peakKW: number;
}

export interface PeakTrainOutcome {
  dir: string;
  sha256: string;
  model: PeakForecastModel;
  grid: PeakGridRow[];
  /** the chosen grid point's peak on the training days (kW) */
  chosenPeakKW: number;
  train: { deliverableKWh: number; leastPeakKW: number };
  heldOut: { deliverableKWh: number; leastPeakKW: number; rows: { label: string; kWh: number; peakKW: number }[] };
  wallSeconds: number;
}

/** Fit, save and evaluate (module comment); `log` gets one line per step, `now` is a wall clock (log only). */
export async function trainPeakForecast(file: string, log: (l: string) => void, now: () => number, opts: { out?: string } = {}): Promise<PeakTrainOutcome> {
  const t0 = now();
  const { cfg, dir } = loadConfig(file);
  const out = opts.out !== undefined ? resolve(opts.out) : abs(dir, cfg.out);
  const scFile = abs(dir, cfg.scenario);
  const untilS = Date.parse(cfg.trainUntil) / 1000 - Date.parse(cfg.start) / 1000;
  const train = loadScenario(scFile, { overrides: [`start=${cfg.start}`, `duration=${untilS}s`, `site.capKW=${cfg.capKW}`, 'site.network=null', 'policy.allocation=llf'] });
  if (train.demand.type !== 'replay') throw new UserError([`${file}: scenario: must be a replay scenario (demand.type replay; got ${train.demand.type})`]);
  const prof = await arrivalProfile(train, cfg.slotMinutes, cfg.utcOffsetHours);
  log(`arrival profile: ${prof.days.weekday} weekdays, ${prof.days.weekend} weekend days in [${cfg.start}, ${cfg.trainUntil})`);
  const trainOpt = await scenarioOptimum(train, 'peak', cfg.share);
  const need = (cfg.minEnergyPct / 100) * trainOpt.energyKWh;
  log(`training days: deliverable ${trainOpt.energyKWh.toFixed(1)} kWh, hindsight least peak at ${100 * cfg.share} %: ${trainOpt.peakKW!.toFixed(2)} kW`);
  const modelOf = (beta: number, adaptKWh: number, levelFactor: number): PeakForecastModel => ({
    format: 'evsim-peak-forecast',
    version: 1,
    name: cfg.name,
    slotMinutes: cfg.slotMinutes,
    utcOffsetHours: cfg.utcOffsetHours,
    weekday: prof.weekday,
    weekend: prof.weekend,
    beta,
    adaptKWh,
    levelFactor,
  });
  const grid: PeakGridRow[] = [];
  let best: PeakGridRow | null = null;
  for (const beta of cfg.grid.beta)
    for (const adaptKWh of cfg.grid.adaptKWh)
      for (const levelFactor of cfg.grid.levelFactor) {
        const r = await peakRun(train, levelFactor, modelOf(beta, adaptKWh, levelFactor));
        const row = { beta, adaptKWh, levelFactor, ...r };
        grid.push(row);
        if (r.kWh >= need && (!best || r.peakKW < best.peakKW - 1e-9)) best = row;
      }
  if (!best) throw new UserError([`${file}: grid: no grid point delivers ${cfg.minEnergyPct} % of the deliverable energy on the training days`]);
  log(`chosen on the training days: beta ${best.beta}, adaptKWh ${best.adaptKWh}, q ${best.levelFactor}: peak ${best.peakKW.toFixed(2)} kW (${((100 * best.peakKW) / trainOpt.peakKW!).toFixed(1)} % of the least), energy ${((100 * best.kWh) / trainOpt.energyKWh).toFixed(2)} %`);
  const model = modelOf(best.beta, best.adaptKWh, best.levelFactor);
  mkdirSync(out, { recursive: true });
  const json = `${JSON.stringify(model, null, 1)}\n`;
  writeFileSync(resolve(out, 'model.json'), json);
  const sha256 = createHash('sha256').update(json).digest('hex');
  // held-out: sessions arriving from trainUntil on, never seen above
  const held = loadScenario(abs(dir, cfg.heldOut.scenario), { overrides: [...(cfg.heldOut.duration ? [`duration=${cfg.heldOut.duration}`] : []), `site.capKW=${cfg.capKW}`, 'site.network=null', 'policy.allocation=llf'] });
  if (Date.parse(held.start) < Date.parse(cfg.trainUntil)) throw new UserError([`${file}: heldOut.scenario: starts ${held.start}, before trainUntil ${cfg.trainUntil}`]);
  const heldOpt = await scenarioOptimum(held, 'peak', cfg.share);
  const rows = [
    { label: `peak-aware, q ${best.levelFactor}, no forecast`, ...(await peakRun(held, best.levelFactor, null)) },
    { label: 'peak-aware + learned forecast', ...(await peakRun(held, best.levelFactor, model)) },
  ];
  for (const r of rows) log(`held-out ${r.label}: energy ${((100 * r.kWh) / heldOpt.energyKWh).toFixed(2)} %, peak ${r.peakKW.toFixed(2)} kW (${((100 * r.peakKW) / heldOpt.peakKW!).toFixed(1)} % of the least ${heldOpt.peakKW!.toFixed(2)} kW)`);
  const outcome: PeakTrainOutcome = {
    dir: out,
    sha256,
    model,
    grid,
    chosenPeakKW: best.peakKW,
    train: { deliverableKWh: trainOpt.energyKWh, leastPeakKW: trainOpt.peakKW! },
    heldOut: { deliverableKWh: heldOpt.energyKWh, leastPeakKW: heldOpt.peakKW!, rows },
    wallSeconds: 0,
  };
  writeFileSync(resolve(out, 'model-card.md'), modelCard(cfg, file, outcome));
  outcome.wallSeconds = now() - t0;
  log(`model: ${out} (sha256 ${sha256}, ${outcome.wallSeconds.toFixed(1)} s)`);
  return outcome;
}

function modelCard(cfg: PeakTrainConfig, file: string, o: PeakTrainOutcome): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  const m = o.model;
  const lines = [
    `# ${cfg.name}: learned peak forecast for demand-charge peak control (\`site.peakModel\`)`,
    '',
    `Generated by \`evsim train allocation ${relative(process.cwd(), resolve(file)).split('\\').join('/')}\`; do not edit (rerun to regenerate).`,
    '',
    '## Identity',
    `- sha256 of model.json: \`${o.sha256}\``,
    '- no weights.bin: the model is the arrival profile and three fitted numbers, all in model.json',
    '',
    '## What it is',
    'A forecast of the energy still to arrive today, per local time-of-day slot (weekday and weekend profiles: the',
    'training days\' mean energy per day of the sessions arriving in the slot, and their energy-weighted mean departure),',
    'scaled by beta and by (A + w) / (expected + w) (A: energy of today\'s arrivals so far). Each remaining slot is one job',
    'added to the Optimal-Available level of the plugged EVs; the site target is max(peak so far, q x level)',
    '(src/charging/peakControl.ts). Use: `site.peakModel: <this folder>` with `policy.allocation: peak-aware` or',
    '`site.peakControl: optimal-available`.',
    '',
    '## Training data',
    `- ${cfg.scenario} (relative to the config) moved to [${cfg.start}, ${cfg.trainUntil}): only sessions arriving there; site cap ${cfg.capKW} kW`,
    `- deliverable ${f(o.train.deliverableKWh, 1)} kWh; hindsight least peak at ${100 * cfg.share} %: ${f(o.train.leastPeakKW)} kW`,
    '',
    `## Fitted (lowest training peak with energy >= ${cfg.minEnergyPct} % of the deliverable)`,
    `- beta ${m.beta}, adaptKWh ${m.adaptKWh}, q ${m.levelFactor}; ${cfg.slotMinutes}-minute slots, UTC${cfg.utcOffsetHours >= 0 ? '+' : ''}${cfg.utcOffsetHours}`,
    '',
    '| beta | w kWh | q | energy % | peak kW | peak / least |',
    '|---|---|---|---|---|---|',
    ...o.grid.map((r) => `| ${r.beta} | ${r.adaptKWh} | ${r.levelFactor} | ${f((100 * r.kWh) / o.train.deliverableKWh)} | ${f(r.peakKW)} | ${f((100 * r.peakKW) / o.train.leastPeakKW, 1)} % |`),
    '',
    '## Held-out evaluation',
    `${cfg.heldOut.scenario} (relative to the config; sessions arriving from ${cfg.trainUntil} on), cap ${cfg.capKW} kW: deliverable ${f(o.heldOut.deliverableKWh, 1)} kWh, hindsight least peak ${f(o.heldOut.leastPeakKW)} kW.`,
    '',
    '| policy | energy % | peak kW | peak / least |',
    '|---|---|---|---|',
    ...o.heldOut.rows.map((r) => `| ${r.label} | ${f((100 * r.kWh) / o.heldOut.deliverableKWh)} | ${f(r.peakKW)} | ${f((100 * r.peakKW) / o.heldOut.leastPeakKW, 1)} % |`),
    '',
  ];
  return lines.join('\n');
}
