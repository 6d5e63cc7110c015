import { join } from 'node:path';
import { buildCity } from '../src/simulation/world.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { Simulation, type SimHooks, type SimResult } from '../src/simulation/simulation.js';

export const ROOT = join(import.meta.dirname, '..');
export const scenarioPath = (name: string) => join(ROOT, 'scenarios', name);

/** Load a shipped scenario with overrides, build its city and run it in-process. */
export async function runShipped(name: string, overrides: string[] = [], hooks: SimHooks = {}): Promise<{ sim: Simulation; result: SimResult }> {
  const sc = loadScenario(scenarioPath(name), { overrides });
  const city = await buildCity(sc);
  const sim = new Simulation(sc, city, hooks);
  return { sim, result: sim.run() };
}
