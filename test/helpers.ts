import { join } from 'node:path';
import { expect } from 'vitest';
import type { Station } from '../src/charging/station.js';
import { vehicleLimitKW } from '../src/charging/evModels.js';
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

/** A hook that checks, at every allocation, that a networked station's currents are feasible in
 * the three-phase model (1e-6 A); `checked` counts the allocations, `worst` is the highest load
 * factor seen (max |I_k| / L_k). */
export function networkFeasibilityCheck(): { allocated: (st: Station) => void; checked: number; worst: number } {
  const c = {
    checked: 0,
    worst: 0,
    allocated: (st: Station) => {
      const nw = st.electrical!;
      const amps = new Float64Array(nw.net.n);
      for (const s of st.plugged) amps[nw.evseOfCharger[s.charger]!] = (s.powerKW * 1000) / nw.net.voltageV;
      c.worst = Math.max(c.worst, nw.net.loadFactor(amps, 'three-phase'));
      expect(nw.net.isFeasible(amps, 'three-phase', 1e-6)).toBe(true);
      c.checked++;
    },
  };
  return c;
}

/** A hook that checks, at every allocation of a DC station, the physical limits of every grant:
 * no EV above its curve's power at its state of charge (nor the charger's rating), no charger above
 * its rating, and the site's sum within its cap (1e-9 kW). `checked` counts the allocations. */
export function dcCurveFeasibilityCheck(): { allocated: (st: Station) => void; checked: number; binding: number } {
  const c = {
    checked: 0,
    /** allocations where the cap bound (sum within 1e-6 of the cap) */
    binding: 0,
    allocated: (st: Station) => {
      let sum = 0;
      for (const s of st.plugged) {
        const rated = st.def.chargerKW[s.charger]!;
        const curve = vehicleLimitKW(s.model, s.soc, s.kind);
        expect(s.powerKW).toBeGreaterThanOrEqual(0);
        expect(s.powerKW).toBeLessThanOrEqual(Math.min(rated, curve) + 1e-9);
        sum += s.powerKW;
      }
      expect(sum).toBeLessThanOrEqual(st.capKW + 1e-9);
      if (sum > st.capKW - 1e-6) c.binding++;
      c.checked++;
    },
  };
  return c;
}
