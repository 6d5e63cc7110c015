/**
 * The learned policies at city scale and on the DC hub (`npm run bench` runs both):
 *
 * - grid-100k with both learned policies (policy.stationChoice=learned with
 *   models/station-choice-monaco, policy.allocation=learned with models/allocation-caltech)
 *   against the same scenario with the hand-written ones (min-total-time, fcfs): wall time of the
 *   whole CLI run, each in its own process, heuristic and learned runs alternating `pairs` times;
 *   the ratio of the medians (target: at most 1.5). grid-100k's sites have no cap, so the learned
 *   allocation gives every EV its limit, as fcfs does: the ratio measures its cost alone.
 * - the DC hub's learned allocation (models/allocation-dc-hub): microseconds per decision
 *   (one decision = one plugged session weighted at one allocation), amortised over a simulated
 *   hub day: time inside the policy's allocateBatch / sessions it scored (target: at most 25 µs).
 *
 *   node dist/bench/learned.js [--pairs N]     (after npm run build)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLearnedParts } from '../src/ai/allocation.js';
import { HubAllocationPolicy } from '../src/ai/allocationHub.js';
import type { AllocationBatch, AllocationBatchPolicy } from '../src/charging/allocationBatch.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { Simulation } from '../src/simulation/simulation.js';
import { buildCity } from '../src/simulation/world.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

export const LEARNED_CITY_SETS = [
  'policy.stationChoice=learned',
  'policy.models.stationChoice=../models/station-choice-monaco',
  'policy.allocation=learned',
  'policy.models.allocation=../models/allocation-caltech',
];

interface Run {
  wallSeconds: number;
  runSeconds: number;
  citySeconds: number;
}

export interface LearnedCityBench {
  scenario: string;
  heuristic: Run[];
  learned: Run[];
  /** median learned total wall / median heuristic total wall */
  ratio: number;
  /** the same for the simulation phase alone */
  runRatio: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `runScenario(file, overrides)` runs the CLI in a child process (bench/run.ts). */
export function benchLearnedCity(runScenario: (file: string, overrides: string[]) => Run, pairs = 1, file = 'grid-100k.yaml'): LearnedCityBench {
  const heuristic: Run[] = [];
  const learned: Run[] = [];
  for (let p = 0; p < pairs; p++) {
    heuristic.push(runScenario(file, []));
    learned.push(runScenario(file, LEARNED_CITY_SETS));
  }
  const w = (rs: Run[]) => median(rs.map((r) => r.wallSeconds));
  const r = (rs: Run[]) => median(rs.map((x) => x.runSeconds));
  return { scenario: file, heuristic, learned, ratio: w(learned) / w(heuristic), runRatio: r(learned) / r(heuristic) };
}

/** Wraps a policy and times its allocateBatch calls (wall-clock ok: a benchmark). */
class Timed implements AllocationBatchPolicy {
  ms = 0;
  calls = 0;
  constructor(private readonly inner: HubAllocationPolicy) {}
  get name(): string {
    return this.inner.name;
  }
  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    const t0 = performance.now(); // wall-clock ok
    this.inner.allocateBatch(b, out);
    this.ms += performance.now() - t0; // wall-clock ok
    this.calls++;
  }
}

export interface HubInferenceBench {
  decisions: number;
  calls: number;
  usPerDecision: number;
  usPerCall: number;
}

/** The hub model's cost per decision over one simulated day of scenarios/dc-hub.yaml (best of 3). */
export async function benchHubInference(): Promise<HubInferenceBench> {
  const sc = loadScenario(join(ROOT, 'scenarios', 'dc-hub.yaml'), { overrides: ['policy.allocation=learned', 'policy.models.allocation=../models/allocation-dc-hub'] });
  const city = await buildCity(sc);
  let best: HubInferenceBench | null = null;
  for (let rep = 0; rep < 3; rep++) {
    const parts = await loadLearnedParts(sc);
    const inner = parts.allocation as HubAllocationPolicy;
    const timed = new Timed(inner);
    new Simulation(sc, city, {}, undefined, { ...parts, allocation: timed }).run();
    const r = { decisions: inner.rows, calls: timed.calls, usPerDecision: (timed.ms * 1000) / inner.rows, usPerCall: (timed.ms * 1000) / timed.calls };
    if (!best || r.usPerDecision < best.usPerDecision) best = r;
  }
  return best!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchHubInference()));
}
