import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/scenario.js';
import { choiceRollout } from '../../src/simulation/choiceRollout.js';
import { EPISODE_OVERRIDES, runEpisode } from '../../src/simulation/episodes.js';
import { systemObjective } from '../../src/simulation/trainChoiceEs.js';
import { buildCity } from '../../src/simulation/world.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MONACO = join(ROOT, 'scenarios/monaco.yaml');
// a smaller Monaco day: 400 EVs
const SET = ['fleet.size=400'];

describe('hindsight rollout of a station-choice policy', () => {
  it('starts from the base policy day, never ends worse, counts its days, and is deterministic', async () => {
    const sc = loadScenario(MONACO, { overrides: [...EPISODE_OVERRIDES, ...SET, 'policy.stationChoice=min-total-time'], seed: 3 });
    const city = await buildCity(sc);
    const a = choiceRollout(sc, city, 'min-total-time', { maxCandidates: 2 });
    // the base day is the policy's own day
    const plain = systemObjective(await runEpisode(MONACO, 3, [...SET, 'policy.stationChoice=min-total-time'], null), 0);
    expect(a.base.travelWaitMin).toBe(plain.travelWaitMin);
    expect(a.base.decisions).toBeGreaterThan(5);
    expect(a.rollout.travelWaitMin).toBeLessThanOrEqual(a.base.travelWaitMin);
    expect(a.days).toBeGreaterThan(1);
    expect(a.days).toBeLessThanOrEqual(1 + a.rollout.decisions + a.base.decisions);
    expect(choiceRollout(sc, city, 'min-total-time', { maxCandidates: 2 })).toEqual(a);
    // only the nearest candidate tried: at most one day per decision, still never worse
    const one = choiceRollout(sc, city, 'min-total-time', { maxCandidates: 1 });
    expect(one.base).toEqual(a.base);
    expect(one.days).toBeLessThanOrEqual(1 + one.rollout.decisions + one.base.decisions);
    expect(one.days).toBeLessThan(a.days);
    expect(one.rollout.travelWaitMin).toBeLessThanOrEqual(one.base.travelWaitMin);
    expect(a.passes).toEqual([a.rollout.travelWaitMin]);
    // local search after the first pass: starts from the one-step rollout, never worse, each pass
    // no worse than the one before, stops when a pass changes nothing
    const ls = choiceRollout(sc, city, 'min-total-time', { maxCandidates: 2, passes: 3 });
    expect(ls.base).toEqual(a.base);
    expect(ls.passes[0]).toBe(a.rollout.travelWaitMin);
    expect(ls.passes.length).toBeGreaterThanOrEqual(2);
    expect(ls.passes.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < ls.passes.length; i++) expect(ls.passes[i]!).toBeLessThanOrEqual(ls.passes[i - 1]!);
    expect(ls.rollout.travelWaitMin).toBe(ls.passes[ls.passes.length - 1]);
    expect(ls.days).toBeGreaterThan(a.days);
    // it stops before its last pass only when a pass changed nothing
    if (ls.passes.length < 3) expect(ls.passes[ls.passes.length - 1]).toBe(ls.passes[ls.passes.length - 2]);
  });
});
