/**
 * The offline optimum of a replay scenario (`evsim optimum FILE`): the scenario's replayed sessions
 * (arrival, departure, energy request, charger), its site limit (the aggregate cap `site.capKW`, or
 * the electrical network `site.network`), its allocation period and its tariff, handed to the LP
 * solvers of src/optimum/optimum.ts. Each session can draw at most `demand.maxKW`. It decides
 * nothing in a simulation run; it tells how much any allocation could have done.
 */
import { UserError } from '../core/errors.js';
import { loadTariff } from '../charging/tariff.js';
import { costOptimum, maxEnergyOptimum, type OptimumSession, type SiteLimit } from '../optimum/optimum.js';
import { resolveScenarioPath, type Scenario } from '../scenario/scenario.js';
import { scenarioSiteNetwork } from '../scenario/site.js';
import { buildCity } from './world.js';

export type OptimumGoal = 'energy' | 'peak' | 'cost';

export interface OptimumReport {
  scenario: string;
  goal: OptimumGoal;
  limit: string;
  sessions: number;
  requestedKWh: number;
  /** max-energy optimum (three-phase: the feasible inner bound) and its upper bound */
  energyKWh: number;
  upperKWh: number;
  energyPct: number;
  /** peak/cost goals: the share of the deliverable energy required, the peak and the costs */
  share?: number;
  deliveredKWh?: number;
  peakKW?: number;
  energyCost?: number;
  demandCost?: number;
  blocks: number;
  variables: number;
}

export async function scenarioOptimum(sc: Scenario, goal: OptimumGoal, share = 1): Promise<OptimumReport> {
  if (sc.demand.type !== 'replay') {
    throw new UserError([`${sc.file}: demand.type: the offline optimum needs recorded sessions; allowed: replay (got ${sc.demand.type})`]);
  }
  const city = await buildCity(sc);
  const recs = city.replay!;
  const ids = city.replayChargerIds!;
  const periodS = sc.site.periodMinutes * 60;
  const network = scenarioSiteNetwork(sc, ids);
  const chargerOf = new Map(ids.map((id, c) => [id, c] as const));
  const maxKW = sc.demand.maxKW;
  const sessions: OptimumSession[] = recs
    .filter((r) => r.arrival < sc.duration)
    .map((r) => {
      const c = chargerOf.get(r.charger)!;
      return { arrivalS: r.arrival, departureS: Math.min(r.departure, sc.duration), energyKWh: r.energyKWh, maxKW, evse: network ? network.evseOfCharger[c]! : c };
    });
  let limit: SiteLimit;
  let label: string;
  if (network) {
    limit = { kind: 'network', net: network.net, model: network.model };
    label = `${sc.site.network!.model} network ${sc.site.network!.file} at a ${sc.site.network!.transformerKW} kW transformer${sc.site.network!.continuous ? ', continuous pilots' : ''}`;
  } else if (sc.site.capKW !== null) {
    limit = { kind: 'cap', capKW: sc.site.capKW };
    label = `aggregate cap ${sc.site.capKW} kW`;
  } else {
    limit = { kind: 'cap', capKW: Infinity };
    label = 'no site limit';
  }
  const max = await maxEnergyOptimum(sessions, periodS, limit);
  const report: OptimumReport = {
    scenario: sc.name,
    goal,
    limit: label,
    sessions: sessions.length,
    requestedKWh: max.requestedKWh,
    energyKWh: max.energyKWh,
    upperKWh: max.upperKWh,
    energyPct: max.requestedKWh > 0 ? (100 * max.energyKWh) / max.requestedKWh : 100,
    blocks: max.blocks,
    variables: max.variables,
  };
  if (goal === 'energy') return report;
  const startEpoch = Date.parse(sc.start) / 1000;
  const tariff = sc.tariff.type === 'tou' ? loadTariff({ ...sc.tariff, file: resolveScenarioPath(sc, sc.tariff.file) }) : loadTariff(sc.tariff);
  // $ per kWh of period t: the tariff's cost of 1 kW over the period, per kWh
  const priceOf = (t: number) => tariff.cost(startEpoch + t * periodS, periodS, 1) / (periodS / 3600);
  // one demand charge for the horizon's peak: the rate in force at the start (a billing month)
  const demandCharge = tariff.demandChargeAt(startEpoch);
  const r = await costOptimum(sessions, periodS, limit, goal === 'peak' ? { goal: 'peak', share } : { goal: 'cost', share, priceOf, demandCharge });
  return { ...report, share, deliveredKWh: r.energyKWh, peakKW: r.peakKW, energyCost: r.energyCost, demandCost: r.demandCost };
}

/** The report as aligned text lines. */
export function optimumText(r: OptimumReport): string {
  const f = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const lines = [
    `  scenario     ${r.scenario}: ${r.sessions} sessions, ${f(r.requestedKWh)} kWh requested`,
    `  site limit   ${r.limit}`,
    `  max energy   ${f(r.energyKWh)} kWh (${f(r.energyPct, 2)} % of requested)${r.upperKWh > r.energyKWh + 1e-9 ? `; upper bound ${f(r.upperKWh)} kWh (polygon bracket of the three-phase cones)` : ''}`,
  ];
  if (r.goal !== 'energy') {
    lines.push(`  ${r.goal === 'peak' ? 'min peak' : 'min cost'}     delivering ${f(100 * (r.share ?? 1), 2)} % of it (${f(r.deliveredKWh ?? 0)} kWh): peak ${f(r.peakKW ?? 0, 2)} kW`);
    if (r.goal === 'cost') lines.push(`  cost         energy $${f(r.energyCost ?? 0, 2)} + demand $${f(r.demandCost ?? 0, 2)} = $${f((r.energyCost ?? 0) + (r.demandCost ?? 0), 2)}`);
  }
  lines.push(`  LP           ${r.blocks} independent blocks, ${r.variables} variables (HiGHS)`);
  return lines.join('\n');
}
