/**
 * Mobile chargers in the simulation (src/simulation/mobile.ts, src/charging/dispatch.ts):
 * dispatch, billing exactly once, determinism, the tamper fault, scenario validation.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { scenarioPath } from '../helpers.js';
import { DISPATCH_POLICIES, type DispatchCandidates } from '../../src/charging/dispatch.js';
import { UserError } from '../../src/core/errors.js';
import { validateScenario, type Scenario } from '../../src/scenario/scenario.js';
import { createSimulation } from '../../src/simulation/simulation.js';
import { buildCity, type City } from '../../src/simulation/world.js';
import { comparisonRows } from '../../src/output/output.js';

function raw(mobile: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    seed: 3,
    duration: '2d',
    city: { type: 'grid', rows: 20, cols: 20, spacingM: 300, places: 40 },
    stations: { fromMap: false, generate: { count: 2 } },
    fleet: { size: 400, initialSoc: { min: 0.1, max: 0.5 }, chargeThreshold: 0.35 },
    demand: { type: 'trips', repeatDaily: true },
    output: { stationsCsv: false },
    mobile: { vans: 6, groupSize: 2, share: 0.5, profileInterval: '10m', blockInterval: '30m', compactBytes: 2048, ...mobile },
    ...extra,
  };
}
const scenario = (mobile: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => validateScenario(raw(mobile, extra), 'mobile-test.yaml');

let city: City;
beforeAll(async () => {
  city = await buildCity(scenario());
});
const run = (sc: Scenario) => {
  const sim = createSimulation(sc, city);
  return { sim, result: sim.run() };
};

describe('dispatch policies', () => {
  const cands = (idle: number[], readyAt: number[], travelS: number[]): DispatchCandidates => ({
    count: idle.length,
    van: Int32Array.from(idle.map((_, i) => i)),
    idle: Uint8Array.from(idle),
    readyAt: Float64Array.from(readyAt),
    travelS: Float64Array.from(travelS),
  });
  it('nearest-idle takes the idle van with the shortest travel time (ties: lower index)', () => {
    const c = cands([1, 0, 1, 1], [0, 0, 0, 0], [300, 10, 200, 200]);
    expect(DISPATCH_POLICIES['nearest-idle']!.choose(c, 0)).toBe(2);
    expect(DISPATCH_POLICIES['nearest-idle']!.choose(cands([0, 0], [0, 0], [1, 2]), 0)).toBe(-1);
  });
  it('earliest-arrival counts what a busy van still has to do', () => {
    // van 0 idle, 600 s away; van 1 free at t = 100 and 300 s away → arrives at 400 < 600
    const c = cands([1, 0], [0, 100], [600, 300]);
    expect(DISPATCH_POLICIES['earliest-arrival']!.choose(c, 0)).toBe(1);
    expect(DISPATCH_POLICIES['earliest-arrival']!.choose(cands([1, 0], [0, 500], [600, 300]), 0)).toBe(0);
  });
});

describe('mobile chargers in a run', () => {
  it('serves requests and bills every served session exactly once, totals = metered energy; audits clean', () => {
    const { sim, result } = run(scenario());
    const m = result.summary.mobile!;
    expect(m.requests).toBeGreaterThan(20);
    expect(m.served).toBeGreaterThan(10);
    expect(m.billing.problems).toBe(0);
    expect(m.auditProblems).toBe(0);
    expect(m.billing.billedKWh).toBeCloseTo(m.billing.meteredKWh - 0, 6);
    expect(m.chain.compactions).toBeGreaterThan(0);
    expect(m.disputes.compactedChecked).toBeGreaterThan(0);
    expect(m.disputes.proven).toBe(m.disputes.checked);
    // directly: every served job billed once with its metered energy (or still in the pipeline at the horizon)
    const mob = sim.mobile!;
    let billed = 0;
    for (const j of mob.jobs) {
      const b = mob.chain.billed.get(j.id);
      if (j.status !== 'served') {
        expect(b?.finals ?? 0).toBe(0);
        continue;
      }
      if (!b || b.finals === 0) continue;
      billed++;
      expect(b.finals).toBe(1);
      expect(Math.abs(b.energyKWh - j.plannedKWh)).toBeLessThan(1e-9);
      expect(j.arrivalAt).toBeGreaterThanOrEqual(j.requestedAt);
    }
    expect(billed).toBe(m.billing.sessionsBilled);
    expect(billed + m.billing.pendingAtHorizon).toBe(m.served);
    // the registration sequence's messages
    expect(m.chain.messages.Register!.count).toBe(6);
    expect(m.chain.messages.CheckAuth!.count).toBe(3);
    expect(m.chain.messages.Authorize!.count).toBe(3);
    // storage grows with sessions without compaction, not with it
    expect(m.storage.byDay).toHaveLength(2);
    // comparison columns only with a mobile block
    expect(comparisonRows([result.summary])[0]).toContain('mobile_served');
  });

  it('without compaction the parent keeps every block; with it the parent keeps less', () => {
    const on = run(scenario()).result.summary.mobile!;
    const off = run(scenario({ compactBytes: 'none' })).result.summary.mobile!;
    expect(off.chain.compactions).toBe(0);
    expect(off.storage.providerArchiveBytes).toBe(0);
    expect(off.storage.parentMeanBytes).toBeGreaterThan(on.storage.parentMeanBytes);
    expect(off.billing.problems + off.auditProblems).toBe(0);
    expect(off.served).toBe(on.served); // the chain does not change the city
  });

  it('is deterministic: same scenario and seed → the same summary', () => {
    const a = JSON.stringify(run(scenario({ dispatch: 'earliest-arrival' })).result.summary);
    const b = JSON.stringify(run(scenario({ dispatch: 'earliest-arrival' })).result.summary);
    expect(a).toBe(b);
    expect(JSON.parse(a).mobile.dispatch).toBe('earliest-arrival');
  });

  it('a tampering parent: block rejected, detected by validators and the member, billing still exact', () => {
    const m = run(scenario({ faults: { tamper: { group: 1, atBlock: 1 } } })).result.summary.mobile!;
    expect(m.chain.tamperedBlocks).toBe(1);
    expect(m.chain.rejectedBlocks).toBe(1);
    expect(m.chain.invalidVotes).toBe(2); // the two other groups' parents
    expect(m.billing.problems).toBe(0);
    expect(m.auditProblems).toBe(0);
  });

  it('without a mobile block nothing mobile appears', () => {
    const sc = validateScenario({ ...raw({}), mobile: undefined }, 'plain.yaml');
    expect(sc.mobile).toBeUndefined();
    const { result } = run(sc);
    expect(result.summary.mobile).toBeUndefined();
    expect(comparisonRows([result.summary])[0]).not.toContain('mobile_served');
  });
});

describe('the shipped scenarios through the CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'evsim-mobile-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('faults/mobile-tamper.yaml (shortened): byte-identical results twice; the tampered block is rejected', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const outs = [join(tmp, 'a'), join(tmp, 'b')];
    try {
      for (const out of outs) expect(await main(['run', scenarioPath('faults/mobile-tamper.yaml'), '--quiet', '--out', out, '--cache-dir', join(tmp, 'cache'), '--set', 'duration=1d', '--set', 'fleet.size=800'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const files = readdirSync(outs[0]!).filter((f) => f !== 'timing.json').sort();
    expect(files).toContain('summary.json');
    for (const f of files) expect(readFileSync(join(outs[1]!, f)), f).toEqual(readFileSync(join(outs[0]!, f)));
    const m = JSON.parse(readFileSync(join(outs[0]!, 'summary.json'), 'utf8')).mobile;
    expect(m.chain.tamperedBlocks).toBe(1);
    expect(m.chain.rejectedBlocks).toBe(1);
    expect(m.billing.problems + m.auditProblems).toBe(0);
  });
});

describe('scenario validation of mobile', () => {
  const err = (r: Record<string, unknown>) => {
    try {
      validateScenario(r, 'm.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as UserError).message;
    }
    throw new Error('no error');
  };
  it('one line per problem naming the field', () => {
    expect(err(raw({ vans: 0 }))).toMatch(/m\.yaml: mobile\.vans: /);
    expect(err(raw({ dispatch: 'closest' }))).toMatch(/mobile\.dispatch: .*nearest-idle.*earliest-arrival/);
    expect(err(raw({ compactBytes: 10 }))).toMatch(/mobile\.compactBytes/);
    expect(err(raw({ faults: { tamper: { group: 3, atBlock: 1 } } }))).toMatch(/mobile\.faults\.tamper\.group: must be a group of the scenario, 0\.\.2 \(got 3\)/);
    expect(err(raw({ profileInterval: '1h', blockInterval: '30m' }))).toMatch(/mobile\.blockInterval: must be >= mobile\.profileInterval/);
    expect(err(raw({ colour: 'red' }))).toMatch(/mobile/);
  });
});
