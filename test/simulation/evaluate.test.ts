import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { studentTQuantile } from '../../src/core/stats.js';
import { caseSeeds, evaluationCsv, evaluationMd, metricValues, pickReference, runEvaluation, summariseCase, type CaseRuns, type EvaluationResult } from '../../src/simulation/evaluate.js';
import { meanCi } from '../../src/core/stats.js';
import { caseScenario, loadEvalConfig, type EvalCase } from '../../src/simulation/evaluateConfig.js';
import { runEpisode } from '../../src/simulation/episodes.js';
import { ROOT } from '../cli/helpers.js';

function synthCase(over: Partial<EvalCase> = {}): EvalCase {
  return {
    index: 0,
    name: 'synthetic',
    kind: 'choice',
    scenario: '/nonexistent.yaml',
    scenarioRel: 'nonexistent.yaml',
    set: [],
    description: undefined,
    heldOutCity: false,
    uncongested: false,
    metrics: ['travel_wait_min', 'abandoned'],
    hand: ['nearest', 'min-total-time', 'min-total-time-reserved'],
    learnedModel: '/models/x',
    optimum: null,
    targets: [],
    replay: false,
    ...over,
  };
}

// three seeds; learned is best overall, but the reference must be a hand-written policy
const RUNS: CaseRuns = {
  nearest: { travel_wait_min: [20, 22, 24], abandoned: [10, 12, 14] },
  'min-total-time': { travel_wait_min: [10, 14, 12], abandoned: [5, 6, 7] },
  'min-total-time-reserved': { travel_wait_min: [11, 13, 13], abandoned: [4, 6, 5] },
  learned: { travel_wait_min: [8, 11, 8], abandoned: [3, 4, 5] },
};

describe('evaluation statistics', () => {
  it('the reference is the hand-written policy with the best mean of the primary metric, in its direction', () => {
    expect(pickReference(synthCase(), RUNS)).toBe('min-total-time'); // 12 vs 12.33 vs 22; learned (9) is not a candidate
    // abandoned first: min-total-time-reserved (5) beats min-total-time (6)
    expect(pickReference(synthCase({ metrics: ['abandoned'] }), RUNS)).toBe('min-total-time-reserved');
    // higher is better for demand met; a tie goes to the first listed
    const up: CaseRuns = { a: { demand_met_pct: [50, 60] }, b: { demand_met_pct: [70, 80] }, c: { demand_met_pct: [80, 70] } };
    expect(pickReference({ hand: ['a', 'b', 'c'], metrics: ['demand_met_pct'] }, up)).toBe('b');
  });

  it('paired differences are the t-interval of the per-seed differences against the reference', () => {
    const s = summariseCase(synthCase(), [1, 2, 3], RUNS, null);
    expect(s.reference).toBe('min-total-time');
    const row = s.rows.find((r) => r.policy === 'learned' && r.metric === 'travel_wait_min')!;
    // differences learned − min-total-time: −2, −3, −4 → mean −3, sd 1, half = t(0.975, 2) · 1/√3
    const half = studentTQuantile(0.975, 2) / Math.sqrt(3);
    expect(row.diff!.mean).toBeCloseTo(-3, 12);
    expect(row.diff!.sd).toBeCloseTo(1, 12);
    expect(row.diff!.lo).toBeCloseTo(-3 - half, 10);
    expect(row.diff!.hi).toBeCloseTo(-3 + half, 10);
    expect(row.relPct).toBeCloseTo(-25, 10); // −3 / 12
    // unpaired, the same means would give a much wider interval: pairing matters
    expect(row.stats.mean).toBeCloseTo(9, 12);
    expect(s.rows.find((r) => r.policy === 'min-total-time' && r.metric === 'abandoned')!.diff).toBeNull();
  });

  it('targets: relative improvement with a significant CI, not-worse-than, % of the optimum', () => {
    const c = synthCase({
      targets: [
        { metric: 'travel_wait_min', policy: 'learned', maxRelativePct: -15, significant: true },
        { metric: 'travel_wait_min', policy: 'learned', maxRelativePct: -30, significant: true },
        { metric: 'abandoned', policy: 'learned', notWorseThan: 'nearest', significant: false },
        { metric: 'abandoned', policy: 'nearest', notWorseThan: 'learned', significant: false },
      ],
    });
    const s = summariseCase(c, [1, 2, 3], RUNS, null);
    // in table order (policy, then metric): nearest's, then learned's
    const ts = s.rows.flatMap((r) => r.targets.map((t) => `${r.policy} ${t.text}: ${t.met}`));
    expect(ts).toEqual([
      'nearest not worse than learned (paired 95 % CI): false',
      'learned Δ vs min-total-time ≤ −15.0 % of its mean, paired 95 % CI excludes 0: true',
      'learned Δ vs min-total-time ≤ −30.0 % of its mean, paired 95 % CI excludes 0: false',
      'learned not worse than nearest (paired 95 % CI): true',
    ]);
    const a = synthCase({ kind: 'allocation', metrics: ['energy_kwh'], hand: ['llf', 'edf'], replay: true, optimum: { goal: 'energy', share: 1 }, targets: [{ metric: 'energy_kwh', policy: 'learned', minPctOfOptimum: 95, significant: false }] });
    const runs: CaseRuns = { llf: { energy_kwh: [90] }, edf: { energy_kwh: [80] }, learned: { energy_kwh: [96] } };
    const opt = { energyKWh: 100 } as Parameters<typeof summariseCase>[3];
    const sa = summariseCase(a, [1], runs, opt);
    const lr = sa.rows.find((r) => r.policy === 'learned')!;
    expect(sa.reference).toBe('llf');
    expect(lr.pctOfOptimum).toBeCloseTo(96, 12);
    expect(lr.diff!.n).toBe(1);
    expect(Number.isNaN(lr.diff!.lo)).toBe(true); // n = 1: no CI
    expect(lr.targets[0]!.met).toBe(true);
  });

  it('a case bound: two CSV rows and a line in evaluation.md saying whether −15 % lies above it', () => {
    const s = summariseCase(synthCase(), [1, 2, 3], RUNS, null);
    s.bound = { policy: 'min-total-time', slotS: 300, travelFloor: meanCi([1, 1.2, 1.1]), lp: meanCi([9, 10, 11]), dropShare: 0.25, requests: meanCi([100, 110, 120]) };
    const r: EvaluationResult = { config: { file: 't.yaml', dir: '.', sha256: '', name: 't', description: undefined, seeds: [1, 2, 3], tfBackend: 'wasm', models: {}, cases: [s.case] }, cases: [s], runs: [], ai: null, models: {} };
    const rows = evaluationCsv(r).split('\n').filter((l) => l.includes('bound-'));
    expect(rows).toEqual([
      expect.stringMatching(/^synthetic,choice,bound-travel-floor \(min-total-time\),travel_wait_min,min,lower,3,1\.1,/),
      expect.stringMatching(/^synthetic,choice,bound-lp \(min-total-time\),travel_wait_min,min,lower,3,10,/),
    ]);
    // reference min-total-time, mean 12: −15 % is 10.2, above the bound's mean 10
    const md = evaluationMd(r);
    expect(md).toMatch(/LP \(300 s slots, capacity per station\) 10\.00 \[/);
    expect(md).toMatch(/min-total-time 120 %/);
    expect(md).toMatch(/reaches 10\.20 min: above the bound \(not ruled out\)/);
    s.bound.lp = meanCi([11, 11, 11]);
    expect(evaluationMd(r)).toMatch(/below the bound: unreachable/);
  });

  it('a replay case runs once: the seed does not change a replay', async () => {
    const file = join(ROOT, 'training', 'allocation-heldout.yaml');
    const set = ['duration=1d', 'site.capKW=15', 'policy.allocation=llf'];
    const a = metricValues(await runEpisode(file, 1, set, null));
    const b = metricValues(await runEpisode(file, 7, set, null));
    expect(a.energy_kwh).toBeGreaterThan(0);
    expect(b).toEqual(a);
    const c = synthCase({ replay: true });
    expect(caseSeeds(c, [1, 2, 3])).toEqual([1]);
    expect(caseSeeds(synthCase(), [1, 2, 3])).toEqual([1, 2, 3]);
  });
});

describe('evaluation config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-evalcfg-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const monaco = join(ROOT, 'scenarios', 'monaco.yaml');
  const base = (extra = '', seeds = '[1, 2]', training = '') =>
    `name: t\nseeds: ${seeds}\npolicies:\n  choice:\n    hand: [nearest, min-total-time]\n    learned: { model: ${join(ROOT, 'models', 'station-choice-monaco')}${training} }\ncases:\n  - { name: m, kind: choice, scenario: ${monaco}${extra} }\n`;
  const problems = (file: string): string[] => {
    try {
      loadEvalConfig(file);
    } catch (e) {
      if (e instanceof UserError) return e.lines;
      throw e;
    }
    return [];
  };

  it('a good config loads with defaults: metrics of the kind, learned last, seeds from a range', () => {
    const cfg = loadEvalConfig(write('ok.yaml', base('', '"3-7"')));
    expect(cfg.seeds).toEqual([3, 4, 5, 6, 7]);
    expect(cfg.cases[0]!.metrics).toEqual(['travel_wait_min', 'abandoned', 'demand_met_pct']);
    expect(cfg.cases[0]!.replay).toBe(false);
    expect(cfg.cases[0]!.learnedModel).toBe(join(ROOT, 'models', 'station-choice-monaco'));
    expect(caseScenario(cfg.cases[0]!, 4).seed).toBe(4);
  });

  it("a case's own model: its trainer's seeds (trainSeeds/validationSeeds) are refused as evaluation seeds", () => {
    const hub = join(ROOT, 'scenarios', 'dc-hub.yaml');
    const cfg = (seeds: string) =>
      `name: t\nseeds: ${seeds}\npolicies:\n  allocation:\n    hand: [fcfs]\ncases:\n  - { name: h, kind: allocation, scenario: ${hub}, metrics: [time_in_system_min], model: { model: ${join(ROOT, 'models', 'allocation-dc-hub')}, training: [${join(ROOT, 'training', 'allocation-dc-hub.yaml')}] } }\n`;
    expect(loadEvalConfig(write('hub-ok.yaml', cfg('[1, 2]'))).cases[0]!.learnedModel).toBe(join(ROOT, 'models', 'allocation-dc-hub'));
    const f = write('hub-train.yaml', cfg('[1, 2]').replace(`training: [${join(ROOT, 'training', 'allocation-dc-hub.yaml')}]`, `training: [${write('hub-trainer.yaml', 'scenario: ' + hub + '\ntrainSeeds: [2, 5]\n')}]`));
    expect(problems(f)).toEqual([`${f}: cases[0].model: seeds 2 are training seeds of ${join(ROOT, 'models', 'allocation-dc-hub')} (${join(dir, 'hub-trainer.yaml')} trainSeeds: 2–5); evaluate on other seeds`]);
  });

  it('each problem is one line naming the file, the field and what is allowed', () => {
    const f1 = write('unknown.yaml', base(', colour: red'));
    expect(problems(f1)).toEqual([
      `${f1}: cases[0].colour: unknown field; allowed here: name, kind, scenario, set, description, heldOutCity, uncongested, metrics, policies, learned, model, optimum, targets, bound`,
    ]);
    const f0 = write('unknown-top.yaml', base() + 'jobs: 4\n');
    expect(problems(f0)).toEqual([`${f0}: jobs: unknown field; allowed here: name, description, seeds, tfBackend, policies, cases`]);
    const f2 = write('kind.yaml', base().replace('kind: choice', 'kind: pricing'));
    expect(problems(f2)).toEqual([`${f2}: cases[0].kind: allowed: choice | allocation`]);
    const f3 = write('policy.yaml', base().replace('hand: [nearest,', 'hand: [closest,'));
    expect(problems(f3)).toEqual([`${f3}: policies.choice.hand[0]: unknown policy "closest"; allowed: nearest, min-total-time, min-total-time-reserved, random`]);
    const f4 = write('target.yaml', base(', targets: [{ metric: travel_wait_min }]'));
    expect(problems(f4)[0]).toBe(`${f4}: cases[0].targets[0]: name exactly one of maxRelativePct, notWorseThan, minPctOfOptimum, maxPctOfOptimum`);
    const f5 = write('set.yaml', base(', set: [fleet.size=0]'));
    expect(problems(f5)).toEqual([`${f5}: cases[0] (m): ${monaco} (with --set): fleet.size: must be >= 1 (got 0)`]);
    const f7 = write('bound.yaml', base(', bound: { policy: random }'));
    expect(problems(f7)).toEqual([`${f7}: cases[0].bound.policy: "random" is not a policy of this case; allowed: nearest, min-total-time, learned`]);
    expect(loadEvalConfig(write('bound-ok.yaml', base(', bound: { policy: nearest }, metrics: [travel_wait_min, travel_min, wait_min]'))).cases[0]!.bound).toEqual({ policy: 'nearest', slotS: 300 });
    expect(loadEvalConfig(write('no-bound.yaml', base())).cases[0]!.bound).toBeUndefined();
    const f6 = write('opt.yaml', base(', optimum: { goal: energy }'));
    expect(problems(f6)).toEqual([`${f6}: cases[0].optimum: the offline optimum needs a replay scenario (demand.type replay; got trips)`]);
  });

  it('refuses seeds outside 1–100 and the seeds a training config lists', () => {
    const f1 = write('seed.yaml', base('', '[1, 150]'));
    expect(problems(f1)).toEqual([`${f1}: seeds: 150 not an evaluation seed; allowed: 1–100 (training and validation seeds start at 101)`]);
    const tr = write('train.yaml', `episodes:\n  - { scenario: ${monaco}, seeds: [5, 8] }\nvalidation:\n  - { scenario: ${monaco}, seeds: [9, 9] }\n`);
    const f2 = write('trained.yaml', base('', '"1-10"', `, training: [${tr}]`));
    expect(problems(f2)).toEqual([
      `${f2}: seeds: 5, 6, 7, 8 are training seeds of the choice model (${tr} episodes[0]: 5–8); evaluate on other seeds`,
      `${f2}: seeds: 9 is a training seed of the choice model (${tr} validation[0]: 9–9); evaluate on other seeds`,
    ]);
    const f3 = write('heldout.yaml', base(', heldOutCity: true', '[1, 2]', `, training: [${join(ROOT, 'training', 'station-choice.yaml')}]`));
    expect(problems(f3)).toEqual([`${f3}: cases[0].heldOutCity: ${monaco} is trained on in ${join(ROOT, 'training', 'station-choice.yaml')} (episodes[0]); a held-out city must not be`]);
  });

  it('the shipped configs load: ≥ 10 held-out seeds in the default one, and the allocation replay starts after training', () => {
    const d = loadEvalConfig(join(ROOT, 'evaluation', 'default.yaml'));
    expect(d.seeds.length).toBeGreaterThanOrEqual(10);
    expect(d.cases.filter((c) => c.heldOutCity).map((c) => c.name)).toEqual(['helsinki']);
    expect(d.cases.filter((c) => c.replay).length).toBe(10);
    // the DC hub case names its own model (not the kind's Caltech model)
    expect(d.cases.find((c) => c.name === 'dc-hub')!.learnedModel).toBe(join(ROOT, 'models', 'allocation-dc-hub'));
    const ci = loadEvalConfig(join(ROOT, 'evaluation', 'ci.yaml'));
    expect(ci.seeds.length).toBeLessThanOrEqual(3);
    const early = write('early.yaml', readFileTextWithRoot(join(ROOT, 'evaluation', 'ci.yaml')).replace('set: [duration=2d, site.capKW=20]', 'set: [duration=2d, site.capKW=20, "start=2019-03-10T00:00:00Z"]'));
    expect(problems(early).join('\n')).toMatch(/cases\[1\]\.scenario: starts 2019-03-10T00:00:00Z, before the allocation model's training cut 2019-03-18T00:00:00Z/);
  });
});

/** The CI config with its relative paths made absolute (so a copy elsewhere still names the same files). */
function readFileTextWithRoot(file: string): string {
  return readFileSync(file, 'utf8').replace(/\.\.\//g, `${ROOT}/`);
}

describe('the cases to come (demand charge, DC hub): peak against the least-peak optimum, time in system', () => {
  it('a peak-goal case relates peak_kw to the hindsight minimum peak and energy to the maximum energy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-evalpeak-'));
    const file = join(dir, 'peak.yaml');
    writeFileSync(
      file,
      `name: peak\nseeds: [1]\npolicies:\n  allocation:\n    hand: [llf, uncontrolled]\ncases:\n` +
        `  - name: caltech-peak\n    kind: allocation\n    scenario: ${join(ROOT, 'training', 'allocation-heldout.yaml')}\n` +
        `    set: [duration=1d, site.capKW=20]\n    metrics: [energy_kwh, peak_kw, time_in_system_min]\n    optimum: { goal: peak, share: 0.995 }\n` +
        `    targets:\n      - { metric: peak_kw, policy: llf, maxPctOfOptimum: 1000 }\n      - { metric: energy_kwh, policy: llf, minPctOfOptimum: 50 }\n`,
    );
    const r = await runEvaluation(loadEvalConfig(file));
    const cs = r.cases[0]!;
    const o = cs.optimum!;
    expect(o.peakKW).toBeGreaterThan(0);
    expect(o.peakKW!).toBeLessThanOrEqual(20 + 1e-6);
    const peak = cs.rows.find((x) => x.policy === 'llf' && x.metric === 'peak_kw')!;
    expect(peak.optimum).toBe(o.peakKW);
    expect(peak.pctOfOptimum).toBeCloseTo((100 * peak.stats.mean) / o.peakKW!, 9);
    // llf respects the 20 kW cap, as the optimum does
    expect(peak.stats.mean).toBeLessThanOrEqual(20 + 1e-6);
    const energy = cs.rows.find((x) => x.policy === 'llf' && x.metric === 'energy_kwh')!;
    expect(energy.optimum).toBe(o.energyKWh);
    expect(energy.targets[0]!.met).toBe(energy.pctOfOptimum! >= 50);
    const tis = cs.rows.find((x) => x.policy === 'llf' && x.metric === 'time_in_system_min')!;
    expect(tis.stats.mean).toBeGreaterThan(0);
    expect(tis.optimum).toBeNull();
    expect(evaluationCsv(r).split('\n').filter((l) => l.startsWith('caltech-peak,')).length).toBe(2 * 3);
  });
});
