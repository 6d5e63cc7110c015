/**
 * `evsim train allocation [CONFIG]`: behaviour cloning of the offline optimum into the learned
 * allocation policy, and its held-out evaluation. It lives in the simulation layer because it
 * needs the optimum (layer 2), the ai fit (layer 2) and simulated runs (this layer).
 *
 *   1. read the replayed sessions that ARRIVE in [start, trainUntil) (the training days);
 *   2. for every training cap: the site network (three-phase, continuous EVSEs) at that
 *      transformer kW, the max-energy offline optimum (maxEnergyOptimum, inner bound), and the
 *      samples along its trajectory (src/ai/fitAllocation.ts cloneDataset);
 *   3. fit the MLP on all caps' samples (seeded, wasm backend unless the config says otherwise);
 *   4. save model.json + weights.bin into `out`, and model-card.md;
 *   5. held-out evaluation: the held-out scenario (sessions arriving from its start on, none of
 *      which training saw), at every evaluation cap: simulated energy of llf, need-proportional and
 *      learned, and the offline optimum of the same sessions, as % of that optimum.
 * Everything is deterministic for one backend: the same config gives the same sha256.
 */
import { readConfigFile } from '../core/configFile.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LearnedAllocationPolicy, checkAllocationModel } from '../ai/allocation.js';
import { ALLOCATION_FEATURES, phaseIndex } from '../ai/allocationFeatures.js';
import { ALLOCATION_META, cloneDataset, concatDatasets, datasetMse, fitAllocationModel, type CloneSession, type Dataset } from '../ai/fitAllocation.js';
import { fileHandler, initTf, modelSha256, tfl, type RuntimeInfo } from '../ai/runtime.js';
import type { AllocationBatchPolicy } from '../charging/allocationBatch.js';
import { readReplaySessions } from '../charging/replay.js';
import { loadSiteNetwork, type SiteNetwork } from '../charging/siteNetwork.js';
import { UserError } from '../core/errors.js';
import { maxEnergyOptimum, type OptimumSession } from '../optimum/optimum.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { Simulation } from './simulation.js';
import { buildCity } from './world.js';

const isoDate = z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'must be an ISO 8601 date-time' });

export const AllocationTrainConfig = z.strictObject({
  /** model name (model card title) */
  name: z.string().min(1),
  /** replayed sessions CSV (ACN-Data columns), relative to the config */
  sessions: z.string().min(1),
  /** site network file, relative to the config */
  network: z.string().min(1),
  /** t = 0 of the training horizon (periods align to it) */
  start: isoDate,
  /** training sessions arrive in [start, trainUntil) */
  trainUntil: isoDate,
  /** EV power limit (kW), as the scenario's demand.maxKW */
  maxKW: z.number().positive().default(6.6),
  periodMinutes: z.number().int().min(1).max(60).default(5),
  /** transformer caps (kW) whose optima are cloned */
  caps: z.array(z.number().positive()).min(1),
  /** single aggregate caps (kW, no network) whose optima are cloned too (phase features 0) */
  singleCaps: z.array(z.number().positive()).default([]),
  label: z.enum(['future-rate', 'rate']).default('future-rate'),
  hidden: z.array(z.number().int().min(1).max(512)).max(4).default([32, 32]),
  epochs: z.number().int().min(1).max(1000).default(20),
  batchSize: z.number().int().min(1).max(65536).default(256),
  learningRate: z.number().positive().max(1).default(0.003),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  tfBackend: z.enum(['auto', 'wasm', 'cpu', 'tensorflow']).default('wasm'),
  /** output folder (model.json, weights.bin, model-card.md), relative to the config */
  out: z.string().min(1),
  /** the residual gate (src/ai/allocation.ts AllocationGate): α per site kind, the grid value with
   * the most simulated energy over the training caps on the TRAINING days (the held-out scenario
   * moved to [start, trainUntil)); absent: no gate (the model alone) */
  gate: z.strictObject({ alphas: z.array(z.number().min(0).max(1)).min(1) }).optional(),
  heldOut: z.strictObject({
    /** the evaluation scenario (a replay scenario starting after trainUntil), relative to the config */
    scenario: z.string().min(1),
    /** override of the scenario's duration (e.g. 1d for a quick check) */
    duration: z.string().optional(),
    /** three-phase transformer caps (kW), continuous EVSEs */
    caps: z.array(z.number().positive()).default([10, 20, 30, 40]),
    /** single aggregate caps (kW, no network): learned vs llf */
    singleCaps: z.array(z.number().positive()).default([]),
  }),
});
export type AllocationTrainConfig = z.output<typeof AllocationTrainConfig>;

export function loadTrainConfig(file: string): { cfg: AllocationTrainConfig; dir: string } {
  const cfg = readConfigFile(file, AllocationTrainConfig);
  if (Date.parse(cfg.trainUntil) <= Date.parse(cfg.start)) throw new UserError([`${file}: trainUntil: must be after start (got ${cfg.trainUntil})`]);
  return { cfg, dir: dirname(resolve(file)) };
}

/** The config's `objective` field, if it is a readable mapping that has one. */
function configObjective(file: string): unknown {
  try {
    const raw = parseYaml(readFileSync(file, 'utf8')) as { objective?: unknown } | null;
    return raw && typeof raw === 'object' ? raw.objective : undefined;
  } catch {
    return undefined; // loadTrainConfig reports it
  }
}

const abs = (dir: string, p: string) => (isAbsolute(p) ? p : resolve(dir, p));

const COLS = { arrivalColumn: 'arrival_utc', departureColumn: 'departure_utc', energyColumn: 'energy_delivered_kwh', chargerColumn: 'station_id', idColumn: 'session_id' };

function sessionsFor(
  recs: readonly { arrival: number; departure: number; energyKWh: number; charger: string }[],
  net: SiteNetwork,
  maxKW: number,
  where: string,
): { opt: OptimumSession[]; clone: CloneSession[] } {
  const opt: OptimumSession[] = [];
  const clone: CloneSession[] = [];
  for (const r of recs) {
    const e = net.index.get(r.charger);
    if (e === undefined) throw new UserError([`${where}: charger ${r.charger} is not an EVSE of the site network`]);
    const mk = Math.min(maxKW, (net.maxA[e]! * net.voltageV) / 1000);
    opt.push({ arrivalS: r.arrival, departureS: r.departure, energyKWh: r.energyKWh, maxKW: mk, evse: e });
    clone.push({ arrivalS: r.arrival, departureS: r.departure, energyKWh: r.energyKWh, maxKW: mk, phase: phaseIndex(net.cos[e]!, net.sin[e]!) });
  }
  return { opt, clone };
}

export interface HeldOutRow {
  setting: string;
  optimumKWh: number | null;
  kWh: Record<string, number>;
}

/** Simulated energy of a policy on a scenario (with --set style overrides). */
async function simulatedKWh(sc: Scenario, allocation?: AllocationBatchPolicy): Promise<number> {
  const city = await buildCity(sc);
  const sim = new Simulation(sc, city, {}, undefined, allocation ? { allocation } : {});
  return sim.run().summary.sessions.energyDeliveredKWh;
}

/**
 * Held-out evaluation: for each three-phase cap, energy of llf, need-proportional, learned, and
 * the offline optimum of the same sessions (arrivals within the horizon, departures cut at it);
 * for each single cap, llf and learned (and the cap optimum).
 */
export async function evaluateHeldOut(
  scenarioFile: string,
  model: tfl.LayersModel,
  networkFile: string,
  o: { caps: readonly number[]; singleCaps: readonly number[]; duration?: string | undefined },
): Promise<HeldOutRow[]> {
  const netRel = relative(dirname(scenarioFile), networkFile);
  const base = o.duration ? [`duration=${o.duration}`] : [];
  const rows: HeldOutRow[] = [];
  const settings: { setting: string; sets: string[]; cap: number; network: boolean }[] = [
    ...o.caps.map((kw) => ({ setting: `three-phase ${kw} kW`, sets: [`site.network={file: ${netRel}, transformerKW: ${kw}, continuous: true}`], cap: kw, network: true })),
    ...o.singleCaps.map((kw) => ({ setting: `single cap ${kw} kW`, sets: [`site.capKW=${kw}`], cap: kw, network: false })),
  ];
  for (const st of settings) {
    const kWh: Record<string, number> = {};
    const scOf = (alloc: string) => loadScenario(scenarioFile, { overrides: [...base, ...st.sets, `policy.allocation=${alloc}`] });
    for (const p of st.network ? ['llf', 'need-proportional'] : ['llf']) kWh[p] = await simulatedKWh(scOf(p));
    const sc = scOf('llf');
    const startEpochS = Date.parse(sc.start) / 1000;
    kWh.learned = await simulatedKWh(sc, new LearnedAllocationPolicy(model, { startEpochS, transformerKW: st.network ? st.cap : null }));
    // the optimum of the same sessions
    if (sc.demand.type !== 'replay') throw new UserError([`${scenarioFile}: demand.type: the held-out scenario must replay sessions (got ${sc.demand.type})`]);
    const horizon = sc.duration;
    const recs = readReplaySessions(resolve(dirname(scenarioFile), sc.demand.file), COLS, startEpochS, horizon)
      .filter((r) => r.arrival < horizon)
      .map((r) => ({ ...r, departure: Math.min(r.departure, horizon) }));
    const net = loadSiteNetwork(networkFile, { capKW: st.cap, continuous: true });
    const { opt } = sessionsFor(recs, net, sc.demand.maxKW, scenarioFile);
    const periodS = sc.site.periodMinutes * 60;
    const r = await maxEnergyOptimum(opt, periodS, st.network ? { kind: 'network', net, model: 'three-phase' } : { kind: 'cap', capKW: st.cap });
    rows.push({ setting: st.setting, optimumKWh: r.energyKWh, kWh });
  }
  return rows;
}

export interface GateRow {
  kind: 'single cap' | 'network';
  /** simulated kWh summed over the training caps, per alpha of the grid */
  kWh: number[];
  chosen: number;
}

/**
 * Fit the residual gate: for each site kind and each α of the grid, the simulated energy of the
 * learned policy summed over the training caps, on the training days (the held-out scenario's
 * setup with its start moved to the training start and its horizon to trainUntil, so only
 * training sessions are replayed); α = the grid value with the most energy (first on ties).
 */
async function fitGate(
  scenarioFile: string,
  model: tfl.LayersModel,
  networkFile: string,
  cfg: AllocationTrainConfig,
  untilS: number,
): Promise<{ gate: { cap: number; network: number }; rows: GateRow[] }> {
  const alphas = cfg.gate!.alphas;
  const netRel = relative(dirname(scenarioFile), networkFile);
  const base = [`start=${cfg.start}`, `duration=${untilS}s`, 'policy.allocation=llf'];
  const startEpochS = Date.parse(cfg.start) / 1000;
  const rows: GateRow[] = [];
  const gate = { cap: 1, network: 1 };
  for (const kind of ['single cap', 'network'] as const) {
    const caps = kind === 'network' ? cfg.caps : cfg.singleCaps;
    if (caps.length === 0) continue;
    const kWh: number[] = [];
    for (const alpha of alphas) {
      let sum = 0;
      for (const cap of caps) {
        const sets = kind === 'network' ? [`site.network={file: ${netRel}, transformerKW: ${cap}, continuous: true}`] : [`site.capKW=${cap}`];
        const sc = loadScenario(scenarioFile, { overrides: [...base, ...sets] });
        const g = { cap: alpha, network: alpha };
        sum += await simulatedKWh(sc, new LearnedAllocationPolicy(model, { startEpochS, transformerKW: kind === 'network' ? cap : null, gate: g }));
      }
      kWh.push(sum);
    }
    let best = 0;
    for (let k = 1; k < alphas.length; k++) if (kWh[k]! > kWh[best]! + 1e-9) best = k;
    if (kind === 'network') gate.network = alphas[best]!;
    else gate.cap = alphas[best]!;
    rows.push({ kind, kWh, chosen: alphas[best]! });
  }
  return { gate, rows };
}

export interface TrainOutcome {
  dir: string;
  sha256: string;
  samples: number;
  /** what `samples` counts when it is not training samples (the hub trainer: simulated days);
   * trainMse is then the best validation objective (min); the peak forecast: the chosen grid
   * point's training peak, kW) */
  samplesUnit?: string;
  trainMse: number;
  heldOut: HeldOutRow[];
  wallSeconds: number;
  /** the TF.js runtime (absent for the peak forecast, which uses no TF.js) */
  runtime?: RuntimeInfo;
}

/** Train, save and evaluate; `log` gets one line per step. `now` is a wall clock (model card only). */
export async function trainAllocation(file: string, log: (l: string) => void, now: () => number, opts: { out?: string } = {}): Promise<TrainOutcome> {
  // `objective: hub-es`: the DC hub's model, trained by evolution strategies (trainAllocationHub.ts)
  if (configObjective(file) === 'hub-es') {
    const { trainHubAllocation } = await import('./trainAllocationHub.js');
    const r = await trainHubAllocation(file, log, now, opts);
    return { dir: r.dir, sha256: r.sha256, samples: r.episodes, samplesUnit: 'simulated hub days', trainMse: r.bestValidation, heldOut: [], wallSeconds: r.wallSeconds, runtime: r.runtime };
  }
  // `objective: peak-forecast`: the demand-charge peak forecast (trainAllocationPeak.ts)
  if (configObjective(file) === 'peak-forecast') {
    const { trainPeakForecast } = await import('./trainAllocationPeak.js');
    const r = await trainPeakForecast(file, log, now, opts);
    return { dir: r.dir, sha256: r.sha256, samples: r.grid.length, samplesUnit: 'simulated training runs', trainMse: r.chosenPeakKW, heldOut: [], wallSeconds: r.wallSeconds };
  }
  const t0 = now();
  const { cfg, dir } = loadTrainConfig(file);
  if (opts.out !== undefined) cfg.out = resolve(opts.out);
  const runtime = await initTf(cfg.tfBackend);
  const startEpochS = Date.parse(cfg.start) / 1000;
  const untilS = Date.parse(cfg.trainUntil) / 1000 - startEpochS;
  const recs = readReplaySessions(abs(dir, cfg.sessions), COLS, startEpochS).filter((r) => r.arrival < untilS);
  if (recs.length === 0) throw new UserError([`${file}: trainUntil: no session arrives in [start, trainUntil)`]);
  const periodS = cfg.periodMinutes * 60;
  const parts: Dataset[] = [];
  const optima: { cap: number; kWh: number }[] = [];
  for (const cap of cfg.caps) {
    const net = loadSiteNetwork(abs(dir, cfg.network), { capKW: cap, continuous: true });
    const { opt, clone } = sessionsFor(recs, net, cfg.maxKW, file);
    const o = await maxEnergyOptimum(opt, periodS, { kind: 'network', net, model: 'three-phase' });
    optima.push({ cap, kWh: o.energyKWh });
    const d = cloneDataset(clone, o.schedule, { periodS, siteKW: cap, startEpochS, label: cfg.label });
    parts.push(d);
    log(`optimum at ${cap} kW: ${o.energyKWh.toFixed(1)} kWh of ${o.requestedKWh.toFixed(1)} requested, ${d.n} samples`);
  }
  for (const cap of cfg.singleCaps) {
    const net = loadSiteNetwork(abs(dir, cfg.network), { capKW: cap, continuous: true });
    const { opt, clone } = sessionsFor(recs, net, cfg.maxKW, file);
    const o = await maxEnergyOptimum(opt, periodS, { kind: 'cap', capKW: cap });
    optima.push({ cap: -cap, kWh: o.energyKWh });
    const d = cloneDataset(clone.map((c) => ({ ...c, phase: -1 })), o.schedule, { periodS, siteKW: cap, startEpochS, label: cfg.label });
    parts.push(d);
    log(`optimum under a single ${cap} kW cap: ${o.energyKWh.toFixed(1)} kWh, ${d.n} samples`);
  }
  const data = concatDatasets(parts);
  const { model, losses } = await fitAllocationModel(data, { hidden: cfg.hidden, epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, seed: cfg.seed });
  const trainMse = datasetMse(model, data);
  log(`fitted ${cfg.epochs} epochs on ${data.n} samples: train MSE ${trainMse.toFixed(5)}`);
  let gateRows: GateRow[] = [];
  if (cfg.gate) {
    const g = await fitGate(abs(dir, cfg.heldOut.scenario), model, abs(dir, cfg.network), cfg, untilS);
    gateRows = g.rows;
    model.setUserDefinedMetadata({ evsim: { ...ALLOCATION_META, gate: g.gate } });
    log(`gate fitted on the training days: alpha ${g.gate.cap} on single caps, ${g.gate.network} on networks`);
  }
  const out = abs(dir, cfg.out);
  await model.save(fileHandler(out));
  checkAllocationModel(model, out);
  const sha256 = modelSha256(out);
  log(`model: ${out} (sha256 ${sha256})`);
  const heldOut = await evaluateHeldOut(abs(dir, cfg.heldOut.scenario), model, abs(dir, cfg.network), cfg.heldOut);
  for (const r of heldOut) log(`held-out ${r.setting}: ${heldOutLine(r)}`);
  const wallSeconds = now() - t0;
  writeFileSync(resolve(out, 'model-card.md'), modelCard(cfg, file, { gateRows, sha256, samples: data.n, trainMse, losses, optima, heldOut, wallSeconds, runtime, trainSessions: recs.length }));
  return { dir: out, sha256, samples: data.n, trainMse, heldOut, wallSeconds, runtime };
}

const pct = (v: number, of: number | null) => (of && of > 0 ? `${((100 * v) / of).toFixed(1)} %` : 'n/a');

function heldOutLine(r: HeldOutRow): string {
  return Object.entries(r.kWh)
    .map(([p, v]) => `${p} ${v.toFixed(1)} kWh (${pct(v, r.optimumKWh)})`)
    .join(', ') + `; optimum ${r.optimumKWh?.toFixed(1)} kWh`;
}

function modelCard(
  cfg: AllocationTrainConfig,
  file: string,
  m: { gateRows: GateRow[]; sha256: string; samples: number; trainMse: number; losses: number[]; optima: { cap: number; kWh: number }[]; heldOut: HeldOutRow[]; wallSeconds: number; runtime: RuntimeInfo; trainSessions: number },
): string {
  const lines = [
    `# ${cfg.name}: learned allocation policy (evsim \`policy.allocation: learned\`)`,
    '',
    `Generated by \`evsim train allocation ${relative(process.cwd(), resolve(file))}\`; do not edit (rerun to regenerate).`,
    '',
    '## Identity',
    `- sha256 (model.json + "\\n" + weights.bin): \`${m.sha256}\``,
    `- TF.js ${m.runtime.tfjsVersion}, backend ${m.runtime.backend}${m.runtime.backend === 'wasm' ? ` (SIMD ${m.runtime.simd ? 'on' : 'off'})` : ''}`,
    `- training wall time: ${m.wallSeconds.toFixed(1)} s (includes the optima and the held-out evaluation; varies by machine)`,
    '',
    '## Inputs (one row per plugged session; see src/ai/allocationFeatures.ts for units and clipping)',
    ALLOCATION_FEATURES.map((f, i) => `${i}. ${f}`).join('\n'),
    '',
    '## Output and use',
    'One sigmoid y in (0, 1): the fraction of its maximum power the session should draw. Weight = y x maxKW,',
    'quantised to 1e-4 of the site\'s largest weight, then weighted progressive filling under the cap and the',
    'three-phase network (feasible and work-conserving whatever the model says).',
    '',
    '## Architecture',
    `Dense ${[...cfg.hidden.map((h) => `${h} relu`), '1 sigmoid'].join(' -> ')}; Glorot-uniform initialisers seeded from ${cfg.seed}; layer names alloc_dense_<i>, alloc_out.`,
    '',
    '## Training data and method',
    `- sessions: ${cfg.sessions} (relative to the config), the ${m.trainSessions} arriving in [${cfg.start}, ${cfg.trainUntil})`,
    `- site: ${cfg.network}, three-phase, continuous EVSEs, EV limit ${cfg.maxKW} kW, ${cfg.periodMinutes}-minute periods`,
    `- behaviour cloning of the max-energy offline optimum (HiGHS, inner polygon) at transformer caps ${cfg.caps.join(', ')} kW` +
      (cfg.singleCaps.length ? ` and single aggregate caps ${cfg.singleCaps.join(', ')} kW (no network, phase features 0)` : '') +
      ': ' +
      m.optima.map((o) => (o.cap > 0 ? `${o.cap} kW ${o.kWh.toFixed(1)} kWh` : `single ${-o.cap} kW ${o.kWh.toFixed(1)} kWh`)).join(', '),
    `- features along the optimum's own trajectory; label \`${cfg.label}\`${cfg.label === 'future-rate' ? ' (mean optimal rate over the rest of the stay / maxKW)' : ' (optimal rate this period / maxKW)'}`,
    `- ${m.samples} samples; mean squared error, Adam (learning rate ${cfg.learningRate}), ${cfg.epochs} epochs, batch ${cfg.batchSize}, seeded shuffle (seed ${cfg.seed})`,
    `- loss per epoch: ${m.losses.map((l) => l.toFixed(5)).join(', ')}; final train MSE ${m.trainMse.toFixed(5)}`,
    '',
    ...(m.gateRows.length
      ? [
          '## Residual gate (fitted on the training days)',
          `Fill weights = alpha x model weights + (1 - alpha) x base (llf rates on a single cap, need-proportional weights on a network), each normalised to sum 1; alpha per site kind = the grid value with the most simulated energy over the training caps, on the training days (the held-out scenario moved to [${cfg.start}, ${cfg.trainUntil})). Simulated kWh:`,
          '',
          `| site kind | ${cfg.gate!.alphas.map((a) => `alpha ${a}`).join(' | ')} | chosen |`,
          `|---|${cfg.gate!.alphas.map(() => '---|').join('')}---|`,
          ...m.gateRows.map((r) => `| ${r.kind} | ${r.kWh.map((v) => v.toFixed(1)).join(' | ')} | ${r.chosen} |`),
          '',
        ]
      : []),
    '## Held-out evaluation (never seen in training)',
    `Scenario ${cfg.heldOut.scenario} (relative to the config)${cfg.heldOut.duration ? ` (duration ${cfg.heldOut.duration})` : ''}: simulated energy (kWh) and % of the offline optimum of the same sessions.`,
    '',
    '| setting | optimum kWh | llf | need-proportional | learned |',
    '|---|---|---|---|---|',
    ...m.heldOut.map((r) => {
      const c = (p: string) => (r.kWh[p] === undefined ? '—' : `${r.kWh[p]!.toFixed(1)} (${pct(r.kWh[p]!, r.optimumKWh)})`);
      return `| ${r.setting} | ${r.optimumKWh?.toFixed(1)} | ${c('llf')} | ${c('need-proportional')} | ${c('learned')} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

