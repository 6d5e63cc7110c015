/**
 * The learned allocation policy: its features, the weight quantisation, one predict call per
 * batch, feasibility at every allocation of the Caltech month on the three-phase network, the
 * scenario wiring (summary.ai, manifest models) and the user errors of a missing/corrupt model.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLearnedParts, LearnedAllocationPolicy, quantiseWeights } from '../../src/ai/allocation.js';
import { ALLOCATION_FEATURES, FeatureScratch, N_ALLOCATION_FEATURES, phaseIndex, siteFeatures } from '../../src/ai/allocationFeatures.js';
import { modelSha256 } from '../../src/ai/runtime.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { Simulation } from '../../src/simulation/simulation.js';
import { buildCity } from '../../src/simulation/world.js';
import { buildDist, cli, oneLine, ROOT } from '../cli/helpers.js';
import { networkFeasibilityCheck } from '../helpers.js';

const MODEL = join(ROOT, 'models', 'allocation-caltech');
const ACN = join(ROOT, 'scenarios', 'validation', 'acn-caltech-2019-03.yaml');
const HELDOUT = join(ROOT, 'training', 'allocation-heldout.yaml');
const net = (kw: number, rel = '../../data') => `site.network={file: ${rel}/sites/caltech-acn.json, transformerKW: ${kw}, continuous: true}`;
const tmp = mkdtempSync(join(tmpdir(), 'evsim-ai-alloc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('allocation features', () => {
  it('computes the documented values for a two-session site', () => {
    const F = N_ALLOCATION_FEATURES;
    const out = new Float32Array(3 * F).fill(NaN);
    // now 6 h after a midnight start; session 0: 2 h left, 6.6 kWh, 6.6 kW, phase 30°; session 1:
    // 8 h left, 3.3 kWh, phase 150°; session 2 finished
    siteFeatures(
      { now: 6 * 3600, startEpochS: 0, periodS: 300, siteKW: 10, n: 3, r0: 0, deadline: [8 * 3600, 14 * 3600, 9 * 3600], remainingKWh: [6.6, 3.3, 0], maxKW: [6.6, 6.6, 6.6], phase: [0, 2, 1] },
      out,
      0,
      new FeatureScratch(),
    );
    const f = (r: number, name: (typeof ALLOCATION_FEATURES)[number]) => out[r * F + ALLOCATION_FEATURES.indexOf(name)]!;
    expect(f(0, 'hoursLeft')).toBeCloseTo(0.2, 6);
    expect(f(0, 'remainingKWh')).toBeCloseTo(0.66, 6);
    expect(f(0, 'needRatio')).toBeCloseTo(0.5, 6); // 3.3 kW of 6.6
    expect(f(0, 'laxityHours')).toBeCloseTo(0.1, 6); // 2 h − 1 h
    expect([f(0, 'phase30'), f(0, 'phaseM90'), f(0, 'phase150')]).toEqual([1, 0, 0]);
    expect([f(1, 'phase30'), f(1, 'phaseM90'), f(1, 'phase150')]).toEqual([0, 0, 1]);
    expect(f(0, 'siteActive')).toBeCloseTo(2 / 50, 6);
    // needs 3.3 and 0.4125 kW over a 10 kW site
    expect(f(0, 'siteNeedRatio')).toBeCloseTo((3.3 + 3.3 / 8) / 10, 5);
    expect(f(0, 'needShare') + f(1, 'needShare')).toBeCloseTo(1, 6);
    expect(f(0, 'hourSin')).toBeCloseTo(1, 6); // 06:00 UTC
    expect(f(0, 'laxityRank')).toBe(0);
    expect(f(1, 'laxityRank')).toBe(1);
    expect(f(0, 'phaseNeedShare')).toBeCloseTo(f(0, 'needShare'), 6);
    // the finished session counts in no aggregate and has zeros where the table says
    expect(f(2, 'remainingKWh')).toBe(0);
    expect(f(2, 'siteActive')).toBe(0);
    expect(f(2, 'hoursLeft')).toBeCloseTo(0.3, 6);
    expect(Array.from(out).every(Number.isFinite)).toBe(true);
  });

  it('maps the Caltech phase angles to the one-hot positions', () => {
    const at = (deg: number) => phaseIndex(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
    expect([at(30), at(-90), at(150), at(0)]).toEqual([0, 1, 2, -1]);
  });
});

describe('weight quantisation', () => {
  it('rounds to 1e-4 of the largest weight, keeps positives positive, and absorbs 1e-7 noise', () => {
    const w = Float64Array.from([2, 1, 0.00001, 0, 0.66666]);
    quantiseWeights(w, 5);
    expect(Array.from(w)).toEqual([1, 0.5, 0.0001, 0, 0.3333]);
    const a = Float64Array.from([0.8, 0.31234, 0.5]);
    const b = Float64Array.from([0.8 * (1 + 1e-7), 0.31234 * (1 - 1e-7), 0.5]);
    quantiseWeights(a, 3);
    quantiseWeights(b, 3);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

async function learnedRun(file: string, sets: string[], hooks = {}) {
  const sc = loadScenario(file, { overrides: [...sets, 'policy.allocation=learned', `policy.models.allocation=${MODEL}`, 'policy.tfBackend=wasm'] });
  const parts = await loadLearnedParts(sc);
  const sim = new Simulation(sc, await buildCity(sc), hooks, undefined, parts);
  return { parts, result: sim.run() };
}

describe('learned allocation in the simulation', () => {
  it('is feasible at every allocation of the Caltech month on the 10 kW three-phase network, with one predict per batch', async () => {
    // every allocation is feasible in the three-phase model and on the allowed rates
    const feas = networkFeasibilityCheck();
    const { parts, result } = await learnedRun(ACN, [net(10)], feas);
    expect(feas.checked).toBeGreaterThan(1000);
    expect(feas.worst).toBeGreaterThan(0.99); // the constraints bind
    const pol = parts.allocation as LearnedAllocationPolicy;
    // one site: every allocation is one batch, and each non-empty batch made exactly one call
    expect(pol.predictCalls).toBeGreaterThan(1000);
    expect(pol.predictCalls).toBeLessThanOrEqual(feas.checked);
    expect(result.summary.policy.allocation).toBe('learned');
    expect(result.summary.ai?.backend).toBe('wasm');
    expect(result.summary.ai?.models.allocation?.sha256).toBe(modelSha256(MODEL));
    // it delivers more than LLF does on the same network (70.9 % of the optimum's 4618 kWh)
    expect(result.summary.sessions.energyDeliveredKWh).toBeGreaterThan(0.709 * 4618);
  });

  it('runs under a single aggregate cap (no network) and keeps it', async () => {
    let peak = 0;
    const { result } = await learnedRun(HELDOUT, ['site.capKW=20', 'duration=3d'], {
      allocated: (st: import('../../src/charging/station.js').Station) => {
        let kw = 0;
        for (const s of st.plugged) kw += s.powerKW;
        peak = Math.max(peak, kw);
      },
    });
    expect(peak).toBeLessThanOrEqual(20 + 1e-6);
    expect(peak).toBeGreaterThan(19.9);
    expect(result.summary.sessions.energyDeliveredKWh).toBeGreaterThan(0);
  });

  it('residual gate: alpha 0 reproduces its base (llf on a single cap, need-proportional on a network), and stays feasible in between', async () => {
    const energy = async (sets: string[], gate: { cap: number; network: number } | null, alloc = 'learned', hooks = {}) => {
      const sc = loadScenario(HELDOUT, { overrides: [...sets, 'duration=2d', `policy.allocation=${alloc}`, `policy.models.allocation=${MODEL}`, 'policy.tfBackend=wasm'] });
      const parts = alloc === 'learned' ? await loadLearnedParts(sc) : {};
      const model = parts.allocation ? (parts.allocation as LearnedAllocationPolicy).model : null;
      const pol = model && gate ? new LearnedAllocationPolicy(model, { startEpochS: Date.parse(sc.start) / 1000, transformerKW: sc.site.network?.transformerKW ?? null, gate }) : parts.allocation;
      const sim = new Simulation(sc, await buildCity(sc), hooks, undefined, pol ? { allocation: pol } : {});
      return sim.run().summary.sessions.energyDeliveredKWh;
    };
    const llf = await energy(['site.capKW=20'], null, 'llf');
    const g0 = await energy(['site.capKW=20'], { cap: 0, network: 1 });
    expect(Math.abs(g0 - llf)).toBeLessThan(1e-6 * llf);
    const need = await energy([net(10, '../data')], null, 'need-proportional');
    const n0 = await energy([net(10, '../data')], { cap: 1, network: 0 });
    expect(Math.abs(n0 - need)).toBeLessThan(1e-6 * need);
    const feas = networkFeasibilityCheck();
    const half = await energy([net(10, '../data')], { cap: 0.5, network: 0.5 }, 'learned', feas);
    expect(feas.checked).toBeGreaterThan(100);
    expect(half).toBeGreaterThan(0);
  });

  it('without its model loaded, a learned scenario is a one-line user error', async () => {
    const sc = loadScenario(ACN, { overrides: ['policy.allocation=learned'] });
    expect(() => new Simulation(sc, { stations: [] } as never, {})).toThrow(/policy\.allocation: "learned" needs its model loaded/);
  });
});

describe('learned allocation from the CLI', () => {
  beforeAll(() => buildDist());

  it('validate and run report a missing or corrupt model in one line (exit 2)', async () => {
    const none = await cli('validate', HELDOUT, '--set', 'policy.allocation=learned');
    expect(none.code).toBe(2);
    expect(oneLine(none)).toMatch(/allocation-heldout\.yaml: policy\.models\.allocation: is required/);
    const missing = await cli('validate', HELDOUT, '--set', 'policy.allocation=learned', '--set', `policy.models.allocation=${join(tmp, 'nope')}`);
    expect(missing.code).toBe(2);
    expect(oneLine(missing)).toMatch(/policy\.models\.allocation: .*nope is not a folder/);
    const bad = join(tmp, 'corrupt');
    cpSync(MODEL, bad, { recursive: true });
    writeFileSync(join(bad, 'model.json'), '{"modelTopology": ');
    const corrupt = await cli('run', HELDOUT, '--set', 'policy.allocation=learned', '--set', `policy.models.allocation=${bad}`, '--out', join(tmp, 'x'));
    expect(corrupt.code).toBe(2);
    expect(oneLine(corrupt)).toMatch(/policy\.models\.allocation: cannot load the model/);
    const ok = await cli('validate', HELDOUT, '--set', 'policy.allocation=learned', '--set', 'policy.models.allocation=../models/allocation-caltech');
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('two processes with the same model and backend write byte-identical results; summary and manifest name the model', () => {
    const run = (out: string) => {
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'bin', 'evsim.js'), 'run', HELDOUT, '--quiet', '--out', out, '--set', 'duration=2d', '--set', net(10, '../data'),
          '--set', 'policy.allocation=learned', '--set', 'policy.models.allocation=../models/allocation-caltech', '--set', 'policy.tfBackend=wasm'],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '' } },
      );
      expect(r.status, r.stderr).toBe(0);
      return ['summary.json', 'sessions.csv', 'manifest.json'].map((f) => readFileSync(join(out, f), 'utf8'));
    };
    const a = run(join(tmp, 'a'));
    const b = run(join(tmp, 'b'));
    expect(a).toEqual(b);
    const summary = JSON.parse(a[0]!);
    expect(summary.ai).toMatchObject({ backend: 'wasm', tfjsVersion: '4.22.0', models: { allocation: { path: '../models/allocation-caltech', sha256: modelSha256(MODEL) } } });
    expect(JSON.parse(a[2]!).models).toEqual({ allocation: modelSha256(MODEL) });
  });
});
