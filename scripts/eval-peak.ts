/**
 * The demand-charge setting: energy, monthly peak and bill of the allocation policies on a replay
 * scenario, against the hindsight optima of the same sessions (src/optimum/optimum.ts).
 *
 *   npm run build && node dist/scripts/eval-peak.js [SCENARIO] [--share 0.995] [--set K=V]...
 *     [--model models/allocation-caltech] [--peak-model models/allocation-peak-caltech]
 *
 * Default scenario: scenarios/validation/acn-caltech-2019-03-demand-charge.yaml. Policies: llf,
 * need-proportional, peak-aware (llf under the Optimal-Available target, src/charging/peakControl.ts),
 * peak-aware with the learned forecast of later arrivals (site.peakModel, --peak-model, default
 * models/allocation-peak-caltech, at the model's q), need-proportional and learned with
 * site.peakControl=optimal-available, and learned without it.
 * Per policy: delivered energy (% of the max-energy optimum, the deliverable energy), the peak site
 * power (largest instantaneous aggregate, summary stations.peakKW) and its ratio to the hindsight
 * minimum peak that still delivers --share of the deliverable energy (costOptimum goal peak), and
 * the bill: the tariff's energy cost of the site's power series plus the demand charge ($/kW in
 * force at the start) × peak, against the hindsight minimum bill at the same share (goal cost).
 * Deterministic; prints a Markdown table.
 */
import { loadLearnedParts } from '../src/ai/allocation.js';
import { loadPeakForecastModel } from '../src/charging/peakControl.js';
import { loadTariff } from '../src/charging/tariff.js';
import { loadScenario, resolveScenarioPath, type Scenario } from '../src/scenario/scenario.js';
import { scenarioOptimum } from '../src/simulation/optimumRun.js';
import { createSimulation } from '../src/simulation/simulation.js';
import { buildCity } from '../src/simulation/world.js';
import type { AllocationBatchPolicy } from '../src/charging/allocationBatch.js';

interface Row {
  policy: string;
  kWh: number;
  peakKW: number;
  energyCost: number;
  demandCost: number;
}

async function runPolicy(sc: Scenario, label: string, allocation?: AllocationBatchPolicy): Promise<Row> {
  const city = await buildCity(sc);
  const tariff = sc.tariff.type === 'tou' ? loadTariff({ ...sc.tariff, file: resolveScenarioPath(sc, sc.tariff.file) }) : loadTariff(sc.tariff);
  const startEpoch = Date.parse(sc.start) / 1000;
  let lastT = 0;
  let lastKW = 0;
  let energyCost = 0;
  let sim: ReturnType<typeof createSimulation> | null = null;
  const observer = {
    allocated(st: { totalKW: number }) {
      const t = sim!.kernel.now;
      if (t > lastT && lastKW > 0) energyCost += tariff.cost(startEpoch + lastT, t - lastT, lastKW);
      lastT = t;
      lastKW = st.totalKW;
    },
  };
  sim = createSimulation(sc, city, { observers: [observer], ...(allocation ? { allocation } : {}) });
  const r = sim.run();
  if (lastKW > 0 && sc.duration > lastT) energyCost += tariff.cost(startEpoch + lastT, sc.duration - lastT, lastKW);
  const peakKW = r.summary.stations.peakKW;
  return { policy: label, kWh: r.summary.sessions.energyDeliveredKWh, peakKW, energyCost, demandCost: tariff.demandChargeAt(startEpoch) * peakKW };
}

async function main(argv: string[]): Promise<void> {
  let file = 'scenarios/validation/acn-caltech-2019-03-demand-charge.yaml';
  let share = 0.995;
  let model = 'models/allocation-caltech';
  let peakModel = 'models/allocation-peak-caltech';
  const sets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--share') share = Number(argv[++i]);
    else if (a === '--set') sets.push(argv[++i]!);
    else if (a === '--model') model = argv[++i]!;
    else if (a === '--peak-model') peakModel = argv[++i]!;
    else file = a;
  }
  const sc = (alloc: string, extra: string[] = []) => loadScenario(file, { overrides: [...sets, `policy.allocation=${alloc}`, ...extra] });
  const off = ['site.peakControl=none'];
  const on = ['site.peakControl=optimal-available'];
  const rows: Row[] = [];
  rows.push(await runPolicy(sc('llf', off), 'llf'));
  rows.push(await runPolicy(sc('need-proportional', off), 'need-proportional'));
  rows.push(await runPolicy(sc('peak-aware', off), 'peak-aware (llf + OA target)'));
  rows.push(await runPolicy(sc('need-proportional', on), 'need-proportional + OA target'));
  // the learned forecast of later arrivals in peak-aware's target, at the model's own q
  const pm = loadPeakForecastModel(resolve(process.cwd(), peakModel), '--peak-model');
  rows.push(await runPolicy(sc('peak-aware', [...off, `site.peakModel=${resolve(process.cwd(), peakModel)}`, `site.peakLevelFactor=${pm.levelFactor}`]), `peak-aware + learned forecast (q = ${pm.levelFactor})`));
  const modelAbs = resolve(process.cwd(), model);
  for (const [label, extra] of [['learned', off], ['learned + OA target', on]] as const) {
    const s = sc('learned', [...extra, `policy.models.allocation=${modelAbs}`]);
    const parts = await loadLearnedParts(s);
    rows.push(await runPolicy(s, label, parts.allocation));
  }
  const base = sc('llf', off);
  const opt = await scenarioOptimum(base, 'energy');
  const peak = await scenarioOptimum(base, 'peak', share);
  const cost = await scenarioOptimum(base, 'cost', share);
  const optCost = (cost.energyCost ?? 0) + (cost.demandCost ?? 0);
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(`scenario ${file}${sets.length ? ` --set ${sets.join(' --set ')}` : ''}: ${opt.sessions} sessions, ${f(opt.requestedKWh)} kWh requested, site limit ${opt.limit}`);
  console.log(`deliverable (max-energy optimum) ${f(opt.energyKWh)} kWh; hindsight min peak at ${100 * share} % of it: ${f(peak.peakKW ?? 0, 2)} kW; min bill at ${100 * share} %: $${f(optCost, 2)} (energy $${f(cost.energyCost ?? 0, 2)} + demand $${f(cost.demandCost ?? 0, 2)}, peak ${f(cost.peakKW ?? 0, 2)} kW)`);
  console.log('');
  console.log('| policy | energy kWh | % of deliverable | peak kW | peak / min peak | energy $ | demand $ | bill $ | bill / min bill |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const bill = r.energyCost + r.demandCost;
    console.log(`| ${r.policy} | ${f(r.kWh)} | ${f((100 * r.kWh) / opt.energyKWh, 2)} % | ${f(r.peakKW, 2)} | ${f(r.peakKW / (peak.peakKW ?? NaN), 3)} | ${f(r.energyCost, 2)} | ${f(r.demandCost, 2)} | ${f(bill, 2)} | ${f(bill / optCost, 3)} |`);
  }
}

import { resolve } from 'node:path';
await main(process.argv.slice(2));
