import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadChoicePolicy, loadLearnedChoice, readChoiceMeta } from '../../src/ai/choiceModel.js';
import { UserError } from '../../src/core/errors.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { buildCity, createSimulation } from '../../src/simulation/index.js';
import { choiceTrainingMethod, readEsChoiceConfig, systemObjective, trainStationChoiceEs } from '../../src/simulation/trainChoiceEs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CI = join(ROOT, 'training/station-choice-es-ci.yaml');

describe('station choice trained by ES on the system objective (CI-sized config)', () => {
  it('same config → same sha256; the model loads as "learned" with kind station-choice-score', async () => {
    const d1 = mkdtempSync(join(tmpdir(), 'evsim-choice-es-'));
    const d2 = mkdtempSync(join(tmpdir(), 'evsim-choice-es-'));
    const r1 = await trainStationChoiceEs(CI, { output: d1 });
    const r2 = await trainStationChoiceEs(CI, { output: d2 });
    expect(r1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r2.sha256).toBe(r1.sha256);
    expect(r1.parameters).toBe(11 * 32 + 32 + 32 + 1);
    // init validation + 2 iterations × (2 candidates × 1 day + 1 validation day) + the moments day
    expect(r1.days).toBe(1 + 1 + 2 * 3);
    expect(r1.bestValidation).toBeLessThanOrEqual(r1.initValidation);
    expect(r1.curve.map((c) => c.iter)).toEqual([1, 2]);
    expect(readFileSync(join(d1, 'model-card.md'), 'utf8')).toContain(r1.sha256);
    expect(readChoiceMeta(d1).kind).toBe('station-choice-score');
    const pol = await loadChoicePolicy(d1);
    expect(pol.features).toEqual(readChoiceMeta(join(ROOT, 'models/station-choice-regression')).features);
  });

  it('a run with an ES model is deterministic and reports the model kind', async () => {
    const d = mkdtempSync(join(tmpdir(), 'evsim-choice-es-run-'));
    await trainStationChoiceEs(CI, { output: d });
    const sc = loadScenario(join(ROOT, 'scenarios/monaco.yaml'), {
      overrides: ['ledger.stacks=[none]', 'fleet.size=300', 'duration=12h', 'policy.stationChoice=learned', `policy.models.stationChoice=${d}`, 'policy.tfBackend=wasm', 'seed=3'],
    });
    const city = await buildCity(sc);
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push(createSimulation(sc, city, await loadLearnedChoice(sc)).run());
    const [a, b] = runs;
    expect(a!.summary.policy.stationChoiceInfo!.modelKind).toBe('station-choice-score');
    expect(Number(a!.summary.policy.stationChoiceInfo!.decisions)).toBeGreaterThan(0);
    expect(JSON.stringify(b!.summary)).toBe(JSON.stringify(a!.summary));
    expect(b!.sessions.map((s) => [s.station, s.pluggedAt])).toEqual(a!.sessions.map((s) => [s.station, s.pluggedAt]));
    const o = systemObjective(a!, 30);
    expect(o.sessions).toBeGreaterThan(0);
    expect(o.fitness).toBeCloseTo(o.travelWaitMin + (30 * o.abandoned) / o.sessions, 12);
  });

  it('refuses evaluation seeds, the held-out city and an unknown method (one line naming file and field)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-choice-es-cfg-'));
    const base = readFileSync(CI, 'utf8').replaceAll('../scenarios/', `${join(ROOT, 'scenarios')}/`).replaceAll('../models/', `${join(ROOT, 'models')}/`);
    const seeds = join(dir, 'seeds.yaml');
    writeFileSync(seeds, base.replace('seeds: [101, 102]', 'seeds: [1, 2]'));
    expect(() => readEsChoiceConfig(seeds)).toThrow(UserError);
    expect(() => readEsChoiceConfig(seeds)).toThrow(/seeds\.yaml: episodes\.0\.seeds\.0: .*evaluation seeds/);
    const held = join(dir, 'held.yaml');
    writeFileSync(held, base.replace(`${join(ROOT, 'scenarios')}/monaco.yaml`, `${join(ROOT, 'scenarios')}/helsinki.yaml`));
    expect(() => readEsChoiceConfig(held)).toThrow(/held\.yaml: episodes\[0\]\.scenario: uses the held-out city/);
    const meth = join(dir, 'meth.yaml');
    writeFileSync(meth, base.replace('method: es', 'method: genetic'));
    expect(() => choiceTrainingMethod(meth)).toThrow(/meth\.yaml: method: "genetic"; allowed: regression/);
    expect(choiceTrainingMethod(join(ROOT, 'training/station-choice-regression.yaml'))).toBe('regression');
    expect(choiceTrainingMethod(join(ROOT, 'training/station-choice.yaml'))).toBe('es');
    expect(choiceTrainingMethod(CI)).toBe('es');
  });
});
