/**
 * Allocation policies through the batched interface and the testing view: every shipped policy,
 * several sites in one call, per-site state, and the registry.
 */
import { describe, expect, it } from 'vitest';
import { ALLOCATION_NAMES, makeAllocationPolicy } from '../../src/charging/allocation.js';
import { ALLOCATION_POLICIES, ALLOCATION_POLICY_NAMES, allocationPolicyEntry, type AllocationBatchPolicy } from '../../src/charging/allocationBatch.js';
import { allocateSites, allocationBatchFrom, type PlainSession } from '../../src/charging/testing.js';

const make = (name: string, incrementKW = 1): AllocationBatchPolicy => allocationPolicyEntry(name).create({ incrementKW, energyBound: false });
const ev = (sessionId: number, o: Partial<PlainSession> = {}): PlainSession => ({
  sessionId,
  pluggedAt: sessionId * 60,
  deadline: 8 * 3600,
  remainingKWh: 50,
  maxKW: 11,
  ...o,
});

describe('shipped allocation policies, batched', () => {
  it('uncontrolled gives every session its limit and ignores the cap', () => {
    expect(allocateSites(make('uncontrolled'), { sites: [{ capKW: 10, sessions: [ev(1), ev(2, { maxKW: 7 })] }] })).toEqual([[11, 7]]);
  });
  it('fcfs fills in plug-in order under the cap', () => {
    const r = allocateSites(make('fcfs'), { sites: [{ capKW: 15, sessions: [ev(2, { pluggedAt: 200 }), ev(1, { pluggedAt: 100 })] }] });
    expect(r).toEqual([[4, 11]]);
  });
  it('edf serves the earliest deadline first', () => {
    const r = allocateSites(make('edf'), { sites: [{ capKW: 15, sessions: [ev(1, { deadline: 9000 }), ev(2, { deadline: 4000 })] }] });
    expect(r).toEqual([[4, 11]]);
  });
  it('llf serves the least laxity first', () => {
    // laxity: 1: 36000 - 50/11 h; 2: 20000 - 10/11 h → 2 has less
    const r = allocateSites(make('llf'), {
      sites: [{ capKW: 15, sessions: [ev(1, { deadline: 36000 }), ev(2, { deadline: 20000, remainingKWh: 10 }), ev(3, { deadline: 90000, remainingKWh: 1 })] }],
    });
    expect(r[0]![1]).toBe(11);
    expect(r[0]![0]).toBe(4);
    expect(r[0]![2]).toBe(0);
  });
  it('equal-share water-fills', () => {
    const r = allocateSites(make('equal-share'), { sites: [{ capKW: 20, sessions: [ev(1, { maxKW: 4 }), ev(2), ev(3)] }] });
    expect(r).toEqual([[4, 8, 8]]);
  });
  it('round-robin hands out increments and rotates the leftover per site', () => {
    const p = make('round-robin', 1);
    const input = { sites: [{ id: 5, capKW: 10.5, sessions: [ev(1), ev(2), ev(3)] }] };
    const first = allocateSites(p, input)[0]!;
    const second = allocateSites(p, input)[0]!;
    expect(first.reduce((a, b) => a + b, 0)).toBeCloseTo(10.5, 12);
    expect(first).not.toEqual(second); // the partial round starts one position later
  });

  it('several sites in one call equal one call per site, for every policy', () => {
    const sites = [
      { id: 0, capKW: 12, sessions: [ev(1), ev(2, { deadline: 3000 }), ev(3, { maxKW: 3 })] },
      { id: 1, capKW: Infinity, sessions: [ev(4)] },
      { id: 2, capKW: 25, periodS: 300, sessions: [ev(5, { remainingKWh: 0.2 }), ev(6), ev(7), ev(8, { maxKW: 0 })] },
    ];
    for (const name of ALLOCATION_POLICY_NAMES) {
      const together = allocateSites(make(name, 0.5), { now: 100, sites });
      const apart = sites.map((s) => allocateSites(make(name, 0.5), { now: 100, sites: [s] })[0]!);
      expect(together, name).toEqual(apart);
      for (let j = 0; j < sites.length; j++) {
        const cap = sites[j]!.capKW;
        const sum = together[j]!.reduce((a, b) => a + b, 0);
        if (name !== 'uncontrolled') expect(sum, `${name} site ${j}`).toBeLessThanOrEqual(cap + 1e-9);
        together[j]!.forEach((r, i) => expect(r).toBeLessThanOrEqual(sites[j]!.sessions[i]!.maxKW));
      }
    }
  });

  it('the batched adapter gives the per-site policy exactly its rates', () => {
    const sessions = [ev(1), ev(2, { deadline: 3000 }), ev(3, { maxKW: 3 }), ev(4, { pluggedAt: 1 })];
    for (const name of ALLOCATION_NAMES) {
      const out = new Float64Array(4);
      makeAllocationPolicy(name, { incrementKW: 2, energyBound: false }).allocate({ now: 0, capKW: 17, periodS: 60 }, sessions, out);
      expect(allocateSites(make(name, 2), { sites: [{ capKW: 17, sessions }] })[0], name).toEqual(Array.from(out));
    }
  });
});

describe('allocation batch layout', () => {
  it('rows of site j are offset[j] .. offset[j+1]-1', () => {
    const b = allocationBatchFrom({ sites: [{ sessions: [ev(1), ev(2)] }, { sessions: [] }, { id: 9, sessions: [ev(3)] }] });
    expect(Array.from(b.offset)).toEqual([0, 2, 2, 3]);
    expect(Array.from(b.site)).toEqual([0, 1, 9]);
    expect(Array.from(b.sessionId)).toEqual([1, 2, 3]);
    expect(b.sessions(2).map((s) => s.sessionId)).toEqual([3]);
  });
});

describe('registry', () => {
  it('lists the shipped policies with descriptions; round-robin declares its parameter', () => {
    // the per-site policies of allocation.ts, then the batch-native ones
    expect(ALLOCATION_POLICY_NAMES).toEqual([...ALLOCATION_NAMES, 'need-proportional', 'peak-aware', 'srpt', 'max-acceptance', 'srpt-energy']);
    for (const e of ALLOCATION_POLICIES) expect(e.description.length).toBeGreaterThan(10);
    const rr = allocationPolicyEntry('round-robin');
    expect(rr.params!.safeParse({ incrementKW: 2 }).success).toBe(true);
    expect(rr.params!.safeParse({ incrementKW: 0 }).success).toBe(false);
    expect(() => allocationPolicyEntry('greedy')).toThrow(/unknown policy "greedy"/);
  });
});
