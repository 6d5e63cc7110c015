/**
 * Roaming between utilities (src/simulation/roaming.ts): what it costs as the fleet grows. The
 * shipped roaming-liechtenstein scenario (city built once, in this process) is run at several
 * fleet sizes without its roaming block, and with it in each mode (after a discarded warm-up); reported are wall seconds of
 * the simulation, the overhead against the run without roaming, and the roaming sessions. The
 * consortium mode's chain produces blocks all day whatever the fleet (a fixed cost); the
 * per-session part is authorisation, invoice and settlement bookkeeping.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/roaming.js [fleet sizes, comma-separated]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadScenario, type Scenario } from '../src/scenario/scenario.js';
import { createSimulation } from '../src/simulation/simulation.js';
import { buildCity } from '../src/simulation/world.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface RoamingBenchRow {
  fleet: number;
  mode: string;
  wallSeconds: number;
  overhead: number;
  sessions: number;
  roamingSessions: number;
  events: number;
}

export async function benchRoaming(fleets: readonly number[] = [2000, 5000, 10000]): Promise<RoamingBenchRow[]> {
  const file = join(ROOT, 'scenarios', 'roaming-liechtenstein.yaml');
  const base = loadScenario(file);
  const city = await buildCity(base);
  const rows: RoamingBenchRow[] = [];
  // warm-up (JIT): one run of the smallest fleet in each mode, discarded
  for (const mode of ['consortium', 'clearing-house'])
    createSimulation(loadScenario(file, { overrides: [`fleet.size=${fleets[0]}`, `roaming.mode=${mode}`] }), city).run();
  for (const n of fleets) {
    let off = NaN;
    for (const mode of ['off', 'consortium', 'clearing-house', 'none']) {
      const sc = loadScenario(file, { overrides: [`fleet.size=${n}`, ...(mode === 'off' ? [] : [`roaming.mode=${mode}`])] });
      const run: Scenario = mode === 'off' ? { ...sc, roaming: undefined } : sc;
      const t = performance.now(); // wall-clock ok: benchmark timing
      const s = createSimulation(run, city).run().summary;
      const wall = (performance.now() - t) / 1000; // wall-clock ok
      if (mode === 'off') off = wall;
      rows.push({ fleet: n, mode, wallSeconds: wall, overhead: wall / off, sessions: s.sessions.count, roamingSessions: s.roaming?.totals.roamingSessions ?? 0, events: s.events });
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fleets = process.argv[2] ? process.argv[2].split(',').map(Number) : undefined;
  const rows = await benchRoaming(fleets);
  console.log('| fleet | mode | wall s | / no roaming | sessions | roaming sessions | events |\n|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.fleet} | ${r.mode} | ${r.wallSeconds.toFixed(2)} | ${r.overhead.toFixed(2)} | ${r.sessions} | ${r.roamingSessions} | ${r.events} |`);
}
