/**
 * The DC fast-charging hub (scenarios/dc-hub.yaml, demand.type hub): validation of its fields,
 * determinism, the DC-curve feasibility of every allocation for every hub policy (the learned one
 * included), and the time-in-system summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLearnedParts } from '../../src/ai/allocation.js';
import { HubAllocationPolicy, initParams, mlpFromParams } from '../../src/ai/allocationHub.js';
import { N_HUB_FEATURES } from '../../src/ai/allocationFeatures.js';
import { SessionStatus } from '../../src/charging/station.js';
import { UserError } from '../../src/core/errors.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { Simulation } from '../../src/simulation/simulation.js';
import { buildCity } from '../../src/simulation/world.js';
import { trainAllocation } from '../../src/simulation/trainAllocation.js';
import { modelSha256 } from '../../src/ai/runtime.js';
import { dcCurveFeasibilityCheck, ROOT, scenarioPath } from '../helpers.js';

const HUB = scenarioPath('dc-hub.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-hub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problems(sets: string[]): string[] {
  try {
    loadScenario(HUB, { overrides: sets });
    return [];
  } catch (e) {
    if (e instanceof UserError) return e.lines;
    throw e;
  }
}

async function run(sets: string[], hooks = {}, allocation?: HubAllocationPolicy) {
  const sc = loadScenario(HUB, { overrides: ['duration=6h', ...sets] });
  const city = await buildCity(sc);
  const sim = new Simulation(sc, city, hooks, undefined, allocation ? { allocation } : {});
  return { sim, result: sim.run() };
}

describe('dc-hub scenario', () => {
  it('validates its fields with one line each', () => {
    expect(problems([])).toEqual([]);
    expect(problems(['demand.arrivalSoc.max=0.8'])[0]).toMatch(/dc-hub\.yaml \(with --set\): demand\.arrivalSoc\.max: must be < demand\.targetSoc\.min/);
    expect(problems(['demand.targetSoc={min: 0.9, max: 0.8}'])[0]).toMatch(/demand\.targetSoc\.min: must be <= demand\.targetSoc\.max/);
    expect(problems(['station.kind=AC'])[0]).toMatch(/station\.kind: demand\.type "hub" is a DC fast-charging hub; allowed: DC/);
    expect(problems(['demand.hourlyProfile=[1, 2]'])[0]).toMatch(/demand\.hourlyProfile: must be >= 24 items/);
    expect(problems(['demand.arrivalsPerHour=0'])[0]).toMatch(/demand\.arrivalsPerHour: must be > 0/);
    expect(problems(['demand.arrivalSoc.min=1.5'])[0]).toMatch(/demand\.arrivalSoc\.min: must be <= 1/);
  });

  it('is deterministic and reports time in system = wait + charge', async () => {
    const a = await run([]);
    const b = await run([]);
    expect(JSON.stringify(a.result.summary)).toBe(JSON.stringify(b.result.summary));
    const h = a.result.summary.hub!;
    expect(h.arrivals).toBeGreaterThan(50);
    expect(h.served + h.abandoned + h.atHorizon).toBe(h.arrivals);
    // recompute from the sessions
    let tis = 0;
    for (const s of a.result.sessions) {
      const left = Number.isNaN(s.unpluggedAt) ? 6 * 3600 : s.unpluggedAt;
      tis += left - s.arrivedAt;
      if (s.status === SessionStatus.completed) expect(s.soc).toBeCloseTo(s.targetSoc, 6); // left at its target
    }
    expect(h.meanTimeInSystemSeconds).toBeCloseTo(tis / h.arrivals, 6);
    expect(h.meanTimeInSystemServedSeconds).toBeGreaterThan(h.meanChargeSeconds);
    // real models with DC curves, not ideal batteries
    expect(new Set(a.result.sessions.map((s) => s.model.name)).size).toBeGreaterThan(5);
    expect(a.result.sessions.every((s) => s.model.curveKW.length > 0)).toBe(true);
  });

  it('an hourly profile thins the arrivals (no arrivals in hours at 0)', async () => {
    const prof = Array.from({ length: 24 }, (_, h) => (h < 3 ? 0 : 1));
    const { result } = await run([`demand.hourlyProfile=[${prof.join(',')}]`]);
    expect(result.sessions.length).toBeGreaterThan(20);
    expect(result.sessions.every((s) => s.decidedAt >= 3 * 3600)).toBe(true);
  });

  it('every allocation of every hub policy is within curve, charger rating and site cap', async () => {
    for (const p of ['fcfs', 'equal-share', 'llf', 'need-proportional', 'srpt', 'max-acceptance', 'srpt-energy']) {
      const chk = dcCurveFeasibilityCheck();
      await run([`policy.allocation=${p}`], { allocated: chk.allocated });
      expect(chk.checked).toBeGreaterThan(200);
      expect(chk.binding).toBeGreaterThan(10); // the cap binds: the interesting regime
    }
  });

  it('the learned hub policy is feasible at every allocation whatever its weights (random MLPs)', async () => {
    for (const seed of [1, 2, 3]) {
      const theta = initParams([N_HUB_FEATURES, 8, 1], seed).map((x) => x * 20); // extreme scores
      const chk = dcCurveFeasibilityCheck();
      await run([], { allocated: chk.allocated }, new HubAllocationPolicy(mlpFromParams([N_HUB_FEATURES, 8, 1], theta)));
      expect(chk.checked).toBeGreaterThan(200);
    }
  });

  it('skipping sites where nothing binds (skipsUnconstrained) changes no result and saves policy calls', async () => {
    const mlp = mlpFromParams([N_HUB_FEATURES, 8, 1], initParams([N_HUB_FEATURES, 8, 1], 4));
    const skip = new HubAllocationPolicy(mlp);
    let calls = 0;
    const inner = new HubAllocationPolicy(mlp);
    const full = { name: 'learned', allocateBatch: (b: Parameters<HubAllocationPolicy['allocateBatch']>[0], out: Float64Array) => (calls++, inner.allocateBatch(b, out)) };
    const a = await run([], {}, skip);
    const sc = loadScenario(HUB, { overrides: ['duration=6h'] });
    const b = new Simulation(sc, await buildCity(sc), {}, undefined, { allocation: full }).run();
    expect(JSON.stringify(a.result.summary)).toBe(JSON.stringify({ ...b.summary }));
    expect(a.result.sessions.map((s) => s.unpluggedAt)).toEqual(b.sessions.map((s) => s.unpluggedAt));
    expect(skip.rows).toBeLessThan(inner.rows); // some allocations never reached the model
    expect(skip.rows).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(0);
  });

  it('trains reproducibly (tiny config: same sha256 twice) and the model runs from the scenario', async () => {
    const cfg = join(ROOT, 'training', 'allocation-dc-hub-tiny.yaml');
    const a = await trainAllocation(cfg, () => {}, () => 0, { out: join(tmp, 'a') });
    const b = await trainAllocation(cfg, () => {}, () => 0, { out: join(tmp, 'b') });
    expect(a.sha256).toBe(b.sha256);
    expect(modelSha256(join(tmp, 'a'))).toBe(a.sha256);
    const sc = loadScenario(HUB, { overrides: ['duration=6h', 'policy.allocation=learned', `policy.models.allocation=${join(tmp, 'a')}`] });
    const parts = await loadLearnedParts(sc);
    expect(parts.allocation).toBeInstanceOf(HubAllocationPolicy);
    const chk = dcCurveFeasibilityCheck();
    const r = new Simulation(sc, await buildCity(sc), { allocated: chk.allocated }, undefined, parts).run();
    expect(r.summary.ai?.models.allocation?.sha256).toBe(a.sha256);
    expect(r.summary.hub!.served).toBeGreaterThan(20);
    expect(chk.checked).toBeGreaterThan(200);
  });

  it('the trainer refuses evaluation seeds and overlapping seed ranges', async () => {
    const { loadHubTrainConfig } = await import('../../src/simulation/trainAllocationHub.js');
    const { writeFileSync, readFileSync } = await import('node:fs');
    const base = readFileSync(join(ROOT, 'training', 'allocation-dc-hub-tiny.yaml'), 'utf8');
    const f = join(ROOT, 'training', '.tmp-hub-bad.yaml');
    try {
      writeFileSync(f, base.replace('trainSeeds: [101, 104]', 'trainSeeds: [5, 104]'));
      expect(() => loadHubTrainConfig(f)).toThrow(/trainSeeds: must start at >= 101/);
      writeFileSync(f, base.replace('validationSeeds: [201, 201]', 'validationSeeds: [103, 110]'));
      expect(() => loadHubTrainConfig(f)).toThrow(/validationSeeds: must not overlap trainSeeds/);
    } finally {
      rmSync(f, { force: true });
    }
  });
});
