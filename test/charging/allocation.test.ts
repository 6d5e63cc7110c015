import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALLOCATION_NAMES,
  type AllocationName,
  type AllocationPolicy,
  type PluggedSessionView,
  type SiteView,
  isFeasible,
  laxitySeconds,
  makeAllocationPolicy,
  sessionUpperBoundKW,
} from '../../src/charging/allocation.js';

// ---------------------------------------------------------------------------
// Tiny TestingInterface-like builder of read-only views
// ---------------------------------------------------------------------------

interface EvSpec {
  sessionId?: number;
  pluggedAt?: number;
  deadline?: number;
  remainingKWh?: number;
  maxKW?: number;
}

class TestingInterface {
  private nextId = 1;
  private readonly evs: PluggedSessionView[] = [];
  constructor(private readonly siteSpec: Partial<SiteView> = {}) {}

  /** Adds an EV; defaults: plugged in order of insertion, deadline in 8 h, lots of energy, 11 kW. */
  ev(spec: EvSpec = {}): this {
    const id = spec.sessionId ?? this.nextId;
    this.nextId = Math.max(this.nextId, id) + 1;
    this.evs.push(
      Object.freeze({
        sessionId: id,
        pluggedAt: spec.pluggedAt ?? id * 60,
        deadline: spec.deadline ?? 8 * 3600,
        remainingKWh: spec.remainingKWh ?? 100,
        maxKW: spec.maxKW ?? 11,
      }),
    );
    return this;
  }

  site(): SiteView {
    return Object.freeze({ now: 0, capKW: Infinity, periodS: 300, ...this.siteSpec });
  }

  sessions(): readonly PluggedSessionView[] {
    return Object.freeze([...this.evs]);
  }
}

function run(policy: AllocationPolicy, site: SiteView, sessions: readonly PluggedSessionView[]): number[] {
  const out = new Float64Array(sessions.length);
  policy.allocate(site, sessions, out);
  return Array.from(out);
}

function runNamed(name: AllocationName, site: SiteView, sessions: readonly PluggedSessionView[], incrementKW?: number): number[] {
  return run(makeAllocationPolicy(name, incrementKW === undefined ? {} : { incrementKW }), site, sessions);
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const byId = (sessions: readonly PluggedSessionView[], rates: readonly number[]): Map<number, number> =>
  new Map(sessions.map((s, i) => [s.sessionId, rates[i]!]));

const TOL = 1e-9;
const CONTROLLED = ALLOCATION_NAMES.filter((n) => n !== 'uncontrolled');

/** Checks the invariants every policy must satisfy. */
function checkInvariants(name: AllocationName, site: SiteView, sessions: readonly PluggedSessionView[], rates: readonly number[], inc = 1): void {
  const u = sessions.map((s) => sessionUpperBoundKW(s, site.periodS));
  const total = sum(rates);
  const sumU = sum(u);
  for (let i = 0; i < sessions.length; i++) {
    expect(Number.isFinite(rates[i]!)).toBe(true);
    expect(rates[i]!).toBeGreaterThanOrEqual(0);
    expect(rates[i]!).toBeLessThanOrEqual(u[i]!);
  }
  if (name === 'uncontrolled') {
    rates.forEach((r, i) => expect(r).toBe(u[i]));
    return;
  }
  expect(total).toBeLessThanOrEqual(site.capKW + TOL);
  expect(isFeasible(site, sessions, rates)).toBe(true);
  // Work conservation: below the cap ⇒ everyone at u_i.
  if (total < site.capKW - TOL) {
    rates.forEach((r, i) => expect(r).toBeGreaterThanOrEqual(u[i]! - TOL));
  }
  // And the cap is used up to min(cap, Σu).
  expect(total).toBeGreaterThanOrEqual(Math.min(site.capKW, sumU) - TOL);

  if (name === 'equal-share') {
    // Max–min fairness: an unsaturated session gets the largest rate.
    const maxRate = Math.max(0, ...rates);
    rates.forEach((r, i) => {
      if (r < u[i]! - TOL) expect(r).toBeGreaterThanOrEqual(maxRate - TOL);
    });
  }
  if (name === 'round-robin') {
    // An unsaturated session is within one increment of everyone else.
    const maxRate = Math.max(0, ...rates);
    rates.forEach((r, i) => {
      if (r < u[i]! - TOL) expect(r).toBeGreaterThanOrEqual(maxRate - inc - TOL);
    });
  }
  if (name === 'fcfs' || name === 'edf' || name === 'llf') {
    // Greedy structure: in key order, a prefix at u_i, at most one partial, then zeros.
    const key = (s: PluggedSessionView): number[] =>
      name === 'fcfs'
        ? [s.pluggedAt, s.sessionId]
        : name === 'edf'
          ? [s.deadline, s.pluggedAt, s.sessionId]
          : [laxitySeconds(s, site.now), s.deadline, s.pluggedAt, s.sessionId];
    const idx = sessions.map((_, i) => i);
    idx.sort((a, b) => {
      const ka = key(sessions[a]!);
      const kb = key(sessions[b]!);
      for (let j = 0; j < ka.length; j++) if (ka[j]! !== kb[j]!) return ka[j]! < kb[j]! ? -1 : 1;
      return a - b;
    });
    let phase = 0; // 0: full, 1: after the partial one (all zero)
    for (const i of idx) {
      if (phase === 0) {
        if (rates[i]! < u[i]!) phase = 1;
      } else {
        expect(rates[i]!).toBe(0);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

const kwArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 35000 }).map((x) => x / 100),
  fc.double({ min: 0, max: 350, noNaN: true, noDefaultInfinity: true }),
);
const kwhArb = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0, max: 1e-3, noNaN: true, noDefaultInfinity: true }), // tiny remaining energy
  fc.integer({ min: 0, max: 10000 }).map((x) => x / 100),
  fc.double({ min: 0, max: 150, noNaN: true, noDefaultInfinity: true }),
);

const sessionsArb = fc
  .array(
    fc.record({
      pluggedAt: fc.integer({ min: 0, max: 20 }).map((x) => x * 600), // many ties
      deadlineOffset: fc.integer({ min: 0, max: 48 }).map((x) => x * 900),
      remainingKWh: kwhArb,
      maxKW: kwArb,
    }),
    { maxLength: 40 },
  )
  .chain((raw) =>
    fc.shuffledSubarray(
      Array.from({ length: raw.length }, (_, i) => i * 3 + 7),
      { minLength: raw.length, maxLength: raw.length },
    ).map((ids) =>
      raw.map((r, i) =>
        Object.freeze({
          sessionId: ids[i]!,
          pluggedAt: r.pluggedAt,
          deadline: r.pluggedAt + r.deadlineOffset,
          remainingKWh: r.remainingKWh,
          maxKW: r.maxKW,
        }),
      ),
    ),
  );

const siteArb = fc.record({
  now: fc.integer({ min: 0, max: 24 * 3600 }),
  capKW: fc.oneof(
    fc.constant(0),
    fc.constant(Infinity),
    fc.integer({ min: 0, max: 2000 }).map((x) => x / 4),
    fc.double({ min: 0, max: 3000, noNaN: true, noDefaultInfinity: true }),
  ),
  periodS: fc.constantFrom(1, 60, 300, 900, 3600),
});

const incArb = fc.constantFrom(0.1, 0.5, 1, 2.5, 7);

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('allocation: API', () => {
  it('exposes all names and builds policies with matching names', () => {
    expect([...ALLOCATION_NAMES].sort()).toEqual(['edf', 'equal-share', 'fcfs', 'llf', 'round-robin', 'uncontrolled']);
    for (const n of ALLOCATION_NAMES) expect(makeAllocationPolicy(n).name).toBe(n);
  });

  it('rejects invalid options and sites', () => {
    expect(() => makeAllocationPolicy('round-robin', { incrementKW: 0 })).toThrow(RangeError);
    expect(() => makeAllocationPolicy('round-robin', { incrementKW: Number.NaN })).toThrow(RangeError);
    const t = new TestingInterface({ periodS: 0 }).ev();
    for (const n of ALLOCATION_NAMES) {
      expect(() => runNamed(n, t.site(), t.sessions())).toThrow(RangeError);
      const ok = new TestingInterface().ev().ev();
      expect(() => makeAllocationPolicy(n).allocate(ok.site(), ok.sessions(), new Float64Array(1))).toThrow(RangeError);
    }
  });

  it('handles zero sessions and only writes out[0..n)', () => {
    for (const n of ALLOCATION_NAMES) {
      const out = new Float64Array([-7, -7, -7]);
      makeAllocationPolicy(n).allocate({ now: 0, capKW: 10, periodS: 60 }, [], out);
      expect(Array.from(out)).toEqual([-7, -7, -7]);
      const t = new TestingInterface({ capKW: 10 }).ev();
      const out2 = new Float64Array([-7, -7, -7]);
      makeAllocationPolicy(n).allocate(t.site(), t.sessions(), out2);
      expect(Array.from(out2)).toEqual([n === 'uncontrolled' ? 11 : 10, -7, -7]);
    }
  });

  it('isFeasible checks bounds and cap', () => {
    const t = new TestingInterface({ capKW: 15, periodS: 3600 }).ev({ maxKW: 11 }).ev({ maxKW: 11 });
    expect(isFeasible(t.site(), t.sessions(), [7.5, 7.5])).toBe(true);
    expect(isFeasible(t.site(), t.sessions(), [11, 5])).toBe(false); // 16 > 15
    expect(isFeasible(t.site(), t.sessions(), [12, 0])).toBe(false); // > u
    expect(isFeasible(t.site(), t.sessions(), [-1, 0])).toBe(false);
    expect(isFeasible(t.site(), t.sessions(), [Number.NaN, 0])).toBe(false);
    expect(isFeasible(t.site(), t.sessions(), [1])).toBe(false); // too short
    expect(isFeasible(t.site(), t.sessions(), [11, 4 + 5e-10])).toBe(true); // within tol
  });

  it('laxity definition', () => {
    const s = { sessionId: 1, pluggedAt: 0, deadline: 7200, remainingKWh: 11, maxKW: 11 };
    expect(laxitySeconds(s, 600)).toBe(7200 - 600 - 3600);
    expect(laxitySeconds({ ...s, maxKW: 0 }, 600)).toBe(Infinity);
  });
});

describe('allocation: invariants for every policy (hand-built)', () => {
  const t = new TestingInterface({ capKW: 30, periodS: 300, now: 1000 })
    .ev({ maxKW: 22, deadline: 9000 })
    .ev({ maxKW: 11, deadline: 5000 })
    .ev({ maxKW: 7.4, deadline: 20000, remainingKWh: 0.2 })
    .ev({ maxKW: 50, deadline: 4000, remainingKWh: 40 })
    .ev({ maxKW: 0, deadline: 3000 });
  for (const name of ALLOCATION_NAMES) {
    it(`${name}: nonnegative, <= u_i, cap, work conservation, determinism, no mutation`, () => {
      const site = t.site();
      const sessions = t.sessions();
      const snapshot = JSON.stringify({ site, sessions });
      const a = runNamed(name, site, sessions);
      checkInvariants(name, site, sessions, a);
      const b = runNamed(name, site, sessions);
      expect(b).toEqual(a);
      expect(JSON.stringify({ site, sessions })).toBe(snapshot);
    });
  }

  it('uncontrolled exceeds the cap when demand > cap; controlled ones do not', () => {
    const site = t.site();
    const sessions = t.sessions();
    const demand = sum(sessions.map((s) => sessionUpperBoundKW(s, site.periodS)));
    expect(demand).toBeGreaterThan(site.capKW);
    const unc = runNamed('uncontrolled', site, sessions);
    expect(sum(unc)).toBeCloseTo(demand, 12);
    expect(isFeasible(site, sessions, unc)).toBe(false);
    for (const n of CONTROLLED) expect(sum(runNamed(n, site, sessions))).toBeCloseTo(30, 9);
  });

  it('all policies give u_i to everyone when the cap does not bind', () => {
    const loose = new TestingInterface({ capKW: 1000 }).ev({ maxKW: 22 }).ev({ maxKW: 11, remainingKWh: 0.1 }).ev({ maxKW: 3.7 });
    const u = loose.sessions().map((s) => sessionUpperBoundKW(s, 300));
    for (const n of ALLOCATION_NAMES) expect(runNamed(n, loose.site(), loose.sessions())).toEqual(u);
  });
});

describe('allocation: property tests (fast-check)', () => {
  for (const name of ALLOCATION_NAMES) {
    it(`${name}: invariants over random sessions and caps`, () => {
      fc.assert(
        fc.property(siteArb, sessionsArb, incArb, (site, sessions, inc) => {
          const snapshot = JSON.stringify({ site, sessions });
          const policy = makeAllocationPolicy(name, { incrementKW: inc });
          const rates = run(policy, site, sessions);
          checkInvariants(name, site, sessions, rates, inc);
          expect(JSON.stringify({ site, sessions })).toBe(snapshot);
          // Determinism: a fresh instance gives bit-identical output.
          expect(run(makeAllocationPolicy(name, { incrementKW: inc }), site, sessions)).toEqual(rates);
          // Stateless policies give the same output on a repeated call too; round-robin
          // still satisfies the invariants after its pointer advanced.
          const again = run(policy, site, sessions);
          if (name !== 'round-robin') expect(again).toEqual(rates);
          else checkInvariants(name, site, sessions, again, inc);
        }),
        { numRuns: 300, seed: 20240601 },
      );
    });

    it(`${name}: result per session does not depend on input order`, () => {
      fc.assert(
        fc.property(siteArb, sessionsArb, fc.integer(), (site, sessions, salt) => {
          const perm = [...sessions];
          // deterministic shuffle from salt
          let x = salt >>> 0 || 1;
          for (let i = perm.length - 1; i > 0; i--) {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            const j = x % (i + 1);
            [perm[i], perm[j]] = [perm[j]!, perm[i]!];
          }
          const a = byId(sessions, runNamed(name, site, sessions));
          const b = byId(perm, runNamed(name, site, perm));
          expect(b).toEqual(a);
        }),
        { numRuns: 200, seed: 7 },
      );
    });
  }
});

describe('allocation: specific behaviour', () => {
  it('remaining-energy bound: tiny remaining energy caps the rate below maxKW', () => {
    // 0.01 kWh over a 300 s period → 0.12 kW.
    const t = new TestingInterface({ capKW: 100, periodS: 300 }).ev({ maxKW: 22, remainingKWh: 0.01 }).ev({ maxKW: 22, remainingKWh: 0 });
    expect(sessionUpperBoundKW(t.sessions()[0]!, 300)).toBeCloseTo(0.12, 12);
    for (const n of ALLOCATION_NAMES) {
      const r = runNamed(n, t.site(), t.sessions());
      expect(r[0]).toBeCloseTo(0.12, 12);
      expect(r[1]).toBe(0);
    }
    // And under a binding cap the freed power goes to the others.
    const t2 = new TestingInterface({ capKW: 10, periodS: 300 })
      .ev({ maxKW: 22, remainingKWh: 0.01, pluggedAt: 0, deadline: 100 })
      .ev({ maxKW: 22, pluggedAt: 10 });
    for (const n of CONTROLLED) {
      const r = runNamed(n, t2.site(), t2.sessions());
      expect(r[0]).toBeCloseTo(0.12, 12);
      expect(r[1]).toBeCloseTo(9.88, 9);
    }
  });

  it('FCFS fills in plug order (ties by sessionId), ignoring input order and deadlines', () => {
    const t = new TestingInterface({ capKW: 20 })
      .ev({ sessionId: 10, pluggedAt: 300, maxKW: 11, deadline: 1000 })
      .ev({ sessionId: 5, pluggedAt: 100, maxKW: 11, deadline: 90000 })
      .ev({ sessionId: 3, pluggedAt: 200, maxKW: 11 })
      .ev({ sessionId: 2, pluggedAt: 200, maxKW: 11 });
    expect(runNamed('fcfs', t.site(), t.sessions())).toEqual([0, 11, 0, 9]);
  });

  it('EDF gives the earliest deadline its full u_i first', () => {
    const t = new TestingInterface({ capKW: 15 })
      .ev({ pluggedAt: 0, deadline: 7200, maxKW: 11 })
      .ev({ pluggedAt: 100, deadline: 3600, maxKW: 11 })
      .ev({ pluggedAt: 50, deadline: 3600, maxKW: 11 }); // same deadline, plugged earlier → first
    expect(runNamed('edf', t.site(), t.sessions())).toEqual([0, 4, 11]);
  });

  it('LLF prefers the least laxity even when its deadline is later', () => {
    // A: deadline 2 h, needs 5 kWh at 11 kW → laxity ≈ 7200 − 1636 = 5564 s
    // B: deadline 3 h, needs 30 kWh at 11 kW → laxity ≈ 10800 − 9818 = 982 s
    const t = new TestingInterface({ capKW: 12, periodS: 300, now: 0 })
      .ev({ deadline: 7200, remainingKWh: 5, maxKW: 11 })
      .ev({ deadline: 10800, remainingKWh: 30, maxKW: 11 });
    const [a, b] = t.sessions();
    expect(laxitySeconds(b!, 0)).toBeLessThan(laxitySeconds(a!, 0));
    expect(runNamed('llf', t.site(), t.sessions())).toEqual([1, 11]);
    expect(runNamed('edf', t.site(), t.sessions())).toEqual([11, 1]);
  });

  it('LLF: equal laxity ties broken as EDF (deadline, then pluggedAt, then sessionId)', () => {
    const t = new TestingInterface({ capKW: 11, now: 0 })
      .ev({ deadline: 7200, remainingKWh: 11, maxKW: 11, pluggedAt: 0 }) // lax 3600
      .ev({ deadline: 3600 + 1800, remainingKWh: 5.5, maxKW: 11, pluggedAt: 10 }); // lax 3600, earlier deadline
    expect(runNamed('llf', t.site(), t.sessions())).toEqual([0, 11]);
  });

  it('LLF: an EV that cannot charge now (maxKW 0) sorts last', () => {
    const t = new TestingInterface({ capKW: 5 }).ev({ maxKW: 0, deadline: 60 }).ev({ maxKW: 11, deadline: 1e6 });
    expect(runNamed('llf', t.site(), t.sessions())).toEqual([0, 5]);
  });

  it('equal-share gives equal rates when every u_i exceeds the share', () => {
    const t = new TestingInterface({ capKW: 30 }).ev({ maxKW: 22 }).ev({ maxKW: 11 }).ev({ maxKW: 50 });
    expect(runNamed('equal-share', t.site(), t.sessions())).toEqual([10, 10, 10]);
  });

  it('equal-share caps small ones and redistributes the leftover', () => {
    const t = new TestingInterface({ capKW: 30 }).ev({ maxKW: 3 }).ev({ maxKW: 22 }).ev({ maxKW: 11 }).ev({ maxKW: 4 });
    // share 7.5 > 3 and > 4 → 23 left for two → 11.5 > 11 → 11, 12
    expect(runNamed('equal-share', t.site(), t.sessions())).toEqual([3, 12, 11, 4]);
  });

  it('round-robin: identical EVs within one increment; leftover rotates across calls', () => {
    const t = new TestingInterface({ capKW: 10 }).ev().ev().ev();
    const policy = makeAllocationPolicy('round-robin'); // 1 kW increments
    const totals = [0, 0, 0];
    const seen: number[][] = [];
    for (let call = 0; call < 3; call++) {
      const r = run(policy, t.site(), t.sessions());
      seen.push(r);
      expect(sum(r)).toBeCloseTo(10, 12);
      expect(Math.max(...r) - Math.min(...r)).toBeLessThanOrEqual(1);
      r.forEach((x, i) => (totals[i]! += x));
    }
    expect(seen).toEqual([
      [4, 3, 3],
      [3, 4, 3],
      [3, 3, 4],
    ]);
    expect(totals).toEqual([10, 10, 10]);
  });

  it('round-robin: the final partial increment uses the cap fully', () => {
    const t = new TestingInterface({ capKW: 10.5 }).ev().ev().ev();
    const r = runNamed('round-robin', t.site(), t.sessions());
    expect(r).toEqual([4, 3.5, 3]);
  });

  it('round-robin: saturated EVs leave the circle, others keep taking increments', () => {
    const t = new TestingInterface({ capKW: 20 }).ev({ maxKW: 2.5 }).ev({ maxKW: 22 }).ev({ maxKW: 22 });
    const r = runNamed('round-robin', t.site(), t.sessions(), 2);
    expect(r[0]).toBe(2.5);
    expect(r[1]! + r[2]!).toBeCloseTo(17.5, 12);
    expect(Math.abs(r[1]! - r[2]!)).toBeLessThanOrEqual(2);
  });

  it('round-robin: increments matter (coarse increment, fractional leftover)', () => {
    const t = new TestingInterface({ capKW: 16 }).ev().ev().ev();
    // inc 5: one full round = 15, then 1 kW partial to the first in the circle.
    expect(runNamed('round-robin', t.site(), t.sessions(), 5)).toEqual([6, 5, 5]);
  });

  it('round-robin: same call sequence → same outputs (deterministic state)', () => {
    const t = new TestingInterface({ capKW: 7.3 }).ev().ev({ maxKW: 3 }).ev().ev({ maxKW: 22 });
    const p1 = makeAllocationPolicy('round-robin', { incrementKW: 0.5 });
    const p2 = makeAllocationPolicy('round-robin', { incrementKW: 0.5 });
    for (let k = 0; k < 6; k++) expect(run(p1, t.site(), t.sessions())).toEqual(run(p2, t.site(), t.sessions()));
  });

  it('round-robin matches a literal increment loop (reference implementation)', () => {
    const reference = (site: SiteView, sessions: readonly PluggedSessionView[], inc: number, call: number): number[] => {
      const n = sessions.length;
      const u = sessions.map((s) => sessionUpperBoundKW(s, site.periodS));
      const r = new Array<number>(n).fill(0);
      const sumU = sum(u);
      if (sumU <= site.capKW) return u;
      const circle = sessions.map((_, i) => i).sort((a, b) => sessions[a]!.pluggedAt - sessions[b]!.pluggedAt || sessions[a]!.sessionId - sessions[b]!.sessionId);
      const queue: number[] = [];
      for (let k = 0; k < n; k++) queue.push(circle[(call % n + k) % n]!);
      let left = site.capKW;
      while (queue.length > 0 && left > 1e-12) {
        const i = queue.shift()!;
        const give = Math.min(inc, u[i]! - r[i]!, left);
        r[i]! += give;
        left -= give;
        if (r[i]! < u[i]! - 1e-12) queue.push(i);
      }
      return r;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }).map((x) => x / 4),
        fc.array(fc.record({ maxKW: fc.integer({ min: 0, max: 88 }).map((x) => x / 4), pluggedAt: fc.integer({ min: 0, max: 5 }) }), { maxLength: 12 }),
        fc.constantFrom(0.25, 1, 2.5),
        fc.integer({ min: 1, max: 4 }),
        (cap, raw, inc, calls) => {
          const sessions = raw.map((x, i) => ({ sessionId: i + 1, pluggedAt: x.pluggedAt, deadline: 1e5, remainingKWh: 100, maxKW: x.maxKW }));
          const site: SiteView = { now: 0, capKW: cap, periodS: 300 };
          const policy = makeAllocationPolicy('round-robin', { incrementKW: inc });
          for (let c = 0; c < calls; c++) {
            const got = run(policy, site, sessions);
            const want = reference(site, sessions, inc, c);
            got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 9));
          }
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('scales to a few hundred sessions', () => {
    const t = new TestingInterface({ capKW: 1500, now: 3600 });
    for (let i = 0; i < 400; i++) t.ev({ maxKW: 3 + (i % 9) * 5, deadline: 3600 + ((i * 7919) % 36000), remainingKWh: 1 + (i % 60) });
    const out = new Float64Array(400);
    for (const n of ALLOCATION_NAMES) {
      const p = makeAllocationPolicy(n, { incrementKW: 0.1 });
      const t0 = performance.now();
      for (let k = 0; k < 50; k++) p.allocate(t.site(), t.sessions(), out);
      const ms = (performance.now() - t0) / 50;
      expect(ms).toBeLessThan(20);
      checkInvariants(n, t.site(), t.sessions(), Array.from(out), 0.1);
    }
  });
});
