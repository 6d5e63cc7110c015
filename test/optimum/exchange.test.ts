/**
 * The exchange step (site.exchange: lp, src/optimum/exchange.ts): feasible in the exact
 * constraints whatever the LP returns, never lowering the site's power (beyond the 1e-6 kW
 * rounding grid), nobody lowered with the Pareto bounds, history-independent solves, and in the
 * simulation: feasible at every allocation of a three-phase replay, more energy than the policy
 * alone, byte-identical reruns, and the option at its default changing neither outputs nor hash.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Highs } from 'highs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLearnedParts } from '../../src/ai/allocation.js';
import type { AllocationBatch, AllocationBatchPolicy } from '../../src/charging/allocationBatch.js';
import { ProgressiveFill, type FillNetwork } from '../../src/charging/fill.js';
import { loadSiteNetwork, type SiteNetwork } from '../../src/charging/siteNetwork.js';
import type { Station } from '../../src/charging/station.js';
import { UserError } from '../../src/core/errors.js';
import { ExchangeAllocation, ExchangeStep, feasible, releaseExchangeModel } from '../../src/optimum/exchange.js';
import { highs } from '../../src/optimum/optimum.js';
import { scenarioHash } from '../../src/output/manifest.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { Simulation } from '../../src/simulation/simulation.js';
import { buildCity } from '../../src/simulation/world.js';
import { cli, ROOT } from '../cli/helpers.js';
import { networkFeasibilityCheck } from '../helpers.js';

const CALTECH = join(ROOT, 'data', 'sites', 'caltech-acn.json');
const HELDOUT = join(ROOT, 'training', 'allocation-heldout.yaml');
const MODEL = join(ROOT, 'models', 'allocation-caltech');
const net10 = 'site.network={file: ../data/sites/caltech-acn.json, transformerKW: 10, continuous: true}';
const tmp = mkdtempSync(join(tmpdir(), 'evsim-exchange-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let h: Highs;
beforeAll(async () => {
  h = await highs();
});

/** amps per EVSE of rates x (kW) */
function amps(net: SiteNetwork, evse: readonly number[], x: ArrayLike<number>): Float64Array {
  const a = new Float64Array(net.n);
  evse.forEach((e, i) => (a[e] = (x[i]! * 1000) / net.voltageV));
  return a;
}

/** A random site on the Caltech network and its progressive fill. */
const siteArb = fc.record({
  evse: fc.uniqueArray(fc.integer({ min: 0, max: 53 }), { minLength: 2, maxLength: 30 }),
  w: fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 30, maxLength: 30 }),
  mx: fc.array(fc.double({ min: 1, max: 6.656, noNaN: true }), { minLength: 30, maxLength: 30 }),
  u: fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 30, maxLength: 30 }),
  kw: fc.constantFrom(10, 20, 40),
  cap: fc.option(fc.double({ min: 5, max: 60, noNaN: true }), { nil: undefined }),
});

describe('the exchange step on one site', () => {
  const nets = new Map<number, SiteNetwork>();
  const netOf = (kw: number) => nets.get(kw) ?? (nets.set(kw, loadSiteNetwork(CALTECH, { capKW: kw, continuous: true })), nets.get(kw)!);

  for (const model of ['three-phase', 'linear'] as const) {
    it(`${model}: feasible, never below the fill's total, and it finds more power on the network`, () => {
      const step = new ExchangeStep(h);
      let gained = 0;
      fc.assert(
        fc.property(siteArb, (s) => {
          const net = netOf(s.kw);
          const n = s.evse.length;
          const mx = s.mx.slice(0, n);
          const cap = s.cap ?? Infinity;
          const fn: FillNetwork = { net, model, evse: s.evse };
          const x = new Float64Array(n);
          new ProgressiveFill().fill(n, s.w.slice(0, n), mx, cap, fn, x);
          const x0 = Float64Array.from(x);
          // the step starts from an exactly feasible point (the fill can end a session at its
          // limit 1e-9 past a constraint; ExchangeAllocation leaves such an allocation alone)
          fc.pre(feasible(n, x0, mx, cap, fn));
          step.improve(n, x, mx, s.u.slice(0, n), cap, fn);
          // exactly feasible (no tolerance) and on the acnportal check
          expect(feasible(n, x, mx, cap, fn)).toBe(true);
          expect(net.isFeasible(amps(net, s.evse, x), model, 1e-9)).toBe(true);
          let s0 = 0;
          let s1 = 0;
          for (let i = 0; i < n; i++) {
            s0 += x0[i]!;
            s1 += x[i]!;
          }
          expect(s1).toBeGreaterThanOrEqual(s0 - n * 1e-6);
          gained += s1 - s0;
        }),
        { numRuns: 60, seed: 17 },
      );
      expect(step.stats.failed).toBe(0);
      // the linear model is a polytope, the fill already maximal more often; three-phase gains
      if (model === 'three-phase') expect(gained).toBeGreaterThan(1);
      else expect(gained).toBeGreaterThanOrEqual(0);
    });
  }

  it('with the Pareto bounds (keep 1) nobody loses', () => {
    const step = new ExchangeStep(h, { keep: 1 });
    fc.assert(
      fc.property(siteArb, (s) => {
        const net = netOf(s.kw);
        const n = s.evse.length;
        const mx = s.mx.slice(0, n);
        const fn: FillNetwork = { net, model: 'three-phase', evse: s.evse };
        // a deliberately poor starting point: the fill with every other session halved
        const x = new Float64Array(n);
        new ProgressiveFill().fill(n, s.w.slice(0, n), mx, Infinity, fn, x);
        for (let i = 0; i < n; i++) x[i] = x[i]! * (i % 2 ? 0.5 : 1);
        const x0 = Float64Array.from(x);
        fc.pre(feasible(n, x0, mx, Infinity, fn));
        step.improve(n, x, mx, s.u.slice(0, n), Infinity, fn);
        expect(feasible(n, x, mx, Infinity, fn)).toBe(true);
        for (let i = 0; i < n; i++) expect(x[i]!).toBeGreaterThanOrEqual(x0[i]!);
      }),
      { numRuns: 40, seed: 3 },
    );
    expect(step.stats.gainKW).toBeGreaterThan(1); // the halved sessions are raised again
  });

  it('stays feasible whatever the solver returns (garbage, failure, throw): x⁰ or a checked step', () => {
    const net = netOf(10);
    const evse = [0, 5, 9, 14, 20, 27, 33, 41, 50];
    const n = evse.length;
    const mx = evse.map(() => 6.656);
    const fn: FillNetwork = { net, model: 'three-phase', evse };
    const x0 = new Float64Array(n);
    new ProgressiveFill().fill(n, mx, mx, Infinity, fn, x0);
    // the real module with createModel replaced by a fake solver (its other members from h)
    const fake = (status: 'optimal' | 'infeasible' | 'throw', colValue: (nc: number) => Float64Array): Highs =>
      Object.assign(Object.create(h) as Highs, {
        createModel: () => {
          let nc = 0;
          return {
            options: { set: () => undefined },
            passModel: (d: { numCols: number }) => void (nc = d.numCols),
            run: () => {
              if (status === 'throw') throw new Error('solver crashed');
            },
            getModelStatus: () => (status === 'optimal' ? h.constants.modelStatus.optimal : h.constants.modelStatus.infeasible),
            getSolution: () => ({ colValue: colValue(nc) }),
            dispose: () => undefined,
          };
        },
      });
    const cases: [string, Highs][] = [
      ['everyone at the maximum', fake('optimal', (nc) => new Float64Array(nc).fill(6.656))],
      ['NaN', fake('optimal', (nc) => new Float64Array(nc).fill(NaN))],
      ['huge', fake('optimal', (nc) => new Float64Array(nc).fill(1e9))],
      ['infeasible status', fake('infeasible', (nc) => new Float64Array(nc).fill(6.656))],
      ['throws', fake('throw', (nc) => new Float64Array(nc))],
    ];
    for (const [what, fh] of cases) {
      const step = new ExchangeStep(fh, { topUp: false });
      const x = Float64Array.from(x0);
      step.improve(n, x, mx, mx, Infinity, fn);
      expect(feasible(n, x, mx, Infinity, fn), what).toBe(true);
      if (what === 'infeasible status' || what === 'throws') {
        expect(Array.from(x), what).toEqual(Array.from(x0));
        expect(step.stats.failed, what).toBe(1);
      }
    }
  });

  it('a solve does not depend on the solves before it (fresh model = reused model, bit for bit)', () => {
    const net = netOf(10);
    const sites = [
      { evse: [0, 5, 9, 14, 20, 27, 33, 41, 50], w: [1, 2, 3, 1, 2, 3, 1, 2, 3] },
      { evse: [1, 2, 3, 30, 31, 32, 44, 45], w: [5, 1, 1, 5, 1, 1, 5, 1] },
      { evse: [6, 7, 8, 10, 11, 12, 13, 40, 41, 42, 43, 51, 52], w: [1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 2, 2] },
    ];
    const run = (step: ExchangeStep, k: number) => {
      const s = sites[k]!;
      const n = s.evse.length;
      const mx = s.evse.map(() => 6.656);
      const fn: FillNetwork = { net, model: 'three-phase', evse: s.evse };
      const x = new Float64Array(n);
      new ProgressiveFill().fill(n, s.w, mx, Infinity, fn, x);
      step.improve(n, x, mx, s.w, Infinity, fn);
      return Array.from(x);
    };
    const reused = new ExchangeStep(h);
    const a = [run(reused, 0), run(reused, 1), run(reused, 2), run(reused, 0)];
    expect(a[3]).toEqual(a[0]);
    // each site again on a fresh model (the steps share one per HiGHS module)
    for (let k = 0; k < 3; k++) {
      releaseExchangeModel(h);
      expect(run(new ExchangeStep(h), k)).toEqual(a[k]);
    }
    expect(reused.stats.gainKW).toBeGreaterThan(0);
  });
});

/** Records the policy's own rates (x⁰) of each allocation, before the exchange step. */
class Recorder implements AllocationBatchPolicy {
  readonly name: string;
  readonly skipsUnconstrained?: boolean;
  lastSum = 0;
  constructor(private readonly inner: AllocationBatchPolicy) {
    this.name = inner.name;
    if (inner.skipsUnconstrained) this.skipsUnconstrained = true;
  }
  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    this.inner.allocateBatch(b, out);
    let s = 0;
    for (let r = 0; r < b.nSessions; r++) s += b.remainingKWh[r]! > 1e-9 ? Math.min(out[r]!, b.maxKW[r]!) : 0;
    this.lastSum = s;
  }
}

async function replay(policy: string, sets: string[], hooks = {}) {
  const sc = loadScenario(HELDOUT, { overrides: [net10, 'duration=2d', `policy.allocation=${policy}`, `policy.models.allocation=${MODEL}`, 'policy.tfBackend=wasm', ...sets] });
  const parts = policy === 'learned' ? await loadLearnedParts(sc) : {};
  const sim = new Simulation(sc, await buildCity(sc), hooks, undefined, parts);
  return { sim, sc, result: sim.run() };
}

describe('site.exchange: lp in the simulation (held-out Caltech replay, 2 days, 10 kW three-phase)', () => {
  for (const policy of ['learned', 'need-proportional', 'llf']) {
    it(`${policy}: feasible at every allocation, never below the policy's own power, and more energy`, async () => {
      const feas = networkFeasibilityCheck();
      const sc = loadScenario(HELDOUT, { overrides: [net10, 'duration=2d', `policy.allocation=${policy}`, `policy.models.allocation=${MODEL}`, 'policy.tfBackend=wasm', 'site.exchange=lp'] });
      const parts = policy === 'learned' ? await loadLearnedParts(sc) : {};
      const { allocationPolicyEntry } = await import('../../src/charging/allocationBatch.js');
      const rec = new Recorder(parts.allocation ?? allocationPolicyEntry(policy).create({ incrementKW: 1, energyBound: false }));
      let checked = 0;
      const hooks = {
        allocated: (st: Station) => {
          feas.allocated(st);
          let s = 0;
          for (const p of st.plugged) s += p.powerKW;
          expect(s).toBeGreaterThanOrEqual(rec.lastSum - st.plugged.length * 1e-6);
          checked++;
        },
      };
      const sim = new Simulation(sc, await buildCity(sc), hooks, undefined, { ...parts, allocation: rec });
      const on = sim.run().summary.sessions.energyDeliveredKWh;
      expect(sim.allocation).toBeInstanceOf(ExchangeAllocation);
      const stats = (sim.allocation as ExchangeAllocation).step.stats;
      expect(feas.checked).toBeGreaterThan(300);
      expect(checked).toBe(feas.checked);
      expect(feas.worst).toBeGreaterThan(0.99); // the constraints bind
      expect(stats.solves).toBeGreaterThan(100);
      expect(stats.failed).toBe(0);
      const off = (await replay(policy, [])).result.summary.sessions.energyDeliveredKWh;
      // measured: learned 306.7 → 320.9 kWh, need-proportional 275.8 → 320.8, llf 219.2 → 279.2
      expect(on).toBeGreaterThan(off * 1.02);
    });
  }

  it('two runs are byte-identical', async () => {
    const outs = [join(tmp, 'a'), join(tmp, 'b')];
    for (const o of outs) {
      const r = await cli('run', HELDOUT, '--quiet', '--set', net10, '--set', 'duration=2d', '--set', 'policy.allocation=need-proportional', '--set', 'site.exchange=lp', '--out', o);
      expect(r.code, r.stderr).toBe(0);
    }
    const files = readdirSync(outs[0]!).filter((f) => f !== 'timing.json');
    expect(files).toContain('sessions.csv');
    for (const f of files) expect(readFileSync(join(outs[1]!, f)).equals(readFileSync(join(outs[0]!, f))), f).toBe(true);
  });

  it('at its default (absent or none) it changes neither the outputs nor the scenario hash', async () => {
    const plain = loadScenario(HELDOUT, { overrides: [net10] });
    const none = loadScenario(HELDOUT, { overrides: [net10, 'site.exchange=none'] });
    const lp = loadScenario(HELDOUT, { overrides: [net10, 'site.exchange=lp'] });
    expect(scenarioHash(none, ROOT)).toBe(scenarioHash(plain, ROOT));
    expect(scenarioHash(lp, ROOT)).not.toBe(scenarioHash(plain, ROOT));
    const a = await replay('need-proportional', []);
    const b = await replay('need-proportional', ['site.exchange=none']);
    expect(b.sim.allocation).not.toBeInstanceOf(ExchangeAllocation);
    expect(JSON.stringify(b.result.summary)).toBe(JSON.stringify(a.result.summary));
    expect(JSON.stringify(b.sim.sessions.map((s) => s.deliveredKWh))).toBe(JSON.stringify(a.sim.sessions.map((s) => s.deliveredKWh)));
  });

  it('is a one-line error without a network, with uncontrolled or peak-aware, or with an unknown value', () => {
    const err = (sets: string[]) => {
      try {
        loadScenario(HELDOUT, { overrides: sets });
      } catch (e) {
        if (e instanceof UserError) return e.lines;
        throw e;
      }
      return [];
    };
    expect(err(['site.exchange=lp'])).toEqual([expect.stringMatching(/site\.exchange: "lp" .*needs site\.network \(got null\)$/)]);
    expect(err([net10, 'site.exchange=lp', 'policy.allocation=uncontrolled'])).toEqual([expect.stringMatching(/site\.exchange: .*"uncontrolled" ignores them/)]);
    expect(err([net10, 'site.exchange=lp', 'policy.allocation=peak-aware'])).toEqual([expect.stringMatching(/site\.exchange: .*"peak-aware"/)]);
    const bad = err([net10, 'site.exchange=milp']);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/site\.exchange/);
    expect(bad[0]).toMatch(/none/);
    expect(bad[0]).toMatch(/lp/);
  });
});
