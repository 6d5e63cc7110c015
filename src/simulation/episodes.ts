/**
 * Episodes for training and evaluating station-choice policies: one simulated day of a scenario
 * file with a seed, `--set` overrides and an injected station-choice policy, without output files
 * or ledger stacks (`ledger.stacks=[none]`, no stations.csv / ledger.csv). Used by
 * src/ai/trainChoice.ts (which may not import this layer: it receives `runEpisode` as a
 * parameter); src/simulation/evaluate.ts shares its overrides.
 */
import type { StationChoicePolicy } from '../charging/choice.js';
import { loadScenario } from '../scenario/scenario.js';
import { createSimulation, type SimResult } from './simulation.js';
import { buildCity } from './world.js';

export const EPISODE_OVERRIDES = ['ledger.stacks=[none]', 'output.stationsCsv=false', 'output.ledgerCsv=false', 'output.eventsLog=false'];

/** Run one day: the scenario file with seed and overrides; `policy` replaces its station choice
 * (null: the scenario's own policy, which must not be "learned"). */
export async function runEpisode(file: string, seed: number, set: readonly string[], policy: StationChoicePolicy | null): Promise<SimResult> {
  const sc = loadScenario(file, { overrides: [...EPISODE_OVERRIDES, ...set, `seed=${seed}`] });
  const city = await buildCity(sc);
  return createSimulation(sc, city, policy ? { stationChoice: policy } : {}).run();
}
