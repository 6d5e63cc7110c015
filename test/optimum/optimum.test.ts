import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readReplaySessions } from '../../src/charging/replay.js';
import { loadSiteNetwork } from '../../src/charging/siteNetwork.js';
import { costOptimum, maxEnergyOptimum, type OptimumSession } from '../../src/optimum/optimum.js';

const DATA = join(import.meta.dirname, '../../data');
const START = Date.parse('2019-03-01T00:00:00Z') / 1000;
const PERIOD = 300;

function caltech(days: number): { sessions: OptimumSession[]; ids: string[] } {
  const net = loadSiteNetwork(join(DATA, 'sites/caltech-acn.json'), { capKW: 150 });
  const recs = readReplaySessions(
    join(DATA, 'sessions/acn-caltech-2019-03-sessions.csv'),
    { arrivalColumn: 'arrival_utc', departureColumn: 'departure_utc', energyColumn: 'energy_delivered_kwh', chargerColumn: 'station_id', idColumn: 'session_id' },
    START,
  ).filter((r) => r.arrival < days * 86400);
  return {
    sessions: recs.map((r) => ({ arrivalS: r.arrival, departureS: r.departure, energyKWh: r.energyKWh, maxKW: 6.656, evse: net.index.get(r.charger)! })),
    ids: recs.map((r) => r.charger),
  };
}

/** energy a session could take alone: min(request, maxKW × whole periods of its stay) */
function alone(s: OptimumSession): number {
  const periods = Math.max(0, Math.floor(s.departureS / PERIOD + 1e-9) - Math.ceil(s.arrivalS / PERIOD - 1e-9));
  return Math.min(s.energyKWh, (s.maxKW * periods * PERIOD) / 3600);
}

describe('offline optimum (HiGHS LP)', () => {
  it('a shared 6.6 kW cap over two hours delivers exactly 13.2 kWh', async () => {
    const s: OptimumSession[] = [
      { arrivalS: 0, departureS: 3600, energyKWh: 10, maxKW: 6.6, evse: 0 },
      { arrivalS: 0, departureS: 7200, energyKWh: 10, maxKW: 6.6, evse: 1 },
    ];
    const r = await maxEnergyOptimum(s, PERIOD, { kind: 'cap', capKW: 6.6 });
    expect(r.energyKWh).toBeCloseTo(13.2, 9);
    expect(r.requestedKWh).toBe(20);
    // the first session can take at most 6.6 kWh in its hour; the rest goes to the second
    expect(r.perSessionKWh[0]! + r.perSessionKWh[1]!).toBeCloseTo(13.2, 9);
    expect(r.perSessionKWh[0]!).toBeLessThanOrEqual(6.6 + 1e-9);
    expect(r.blocks).toBe(1);
  });

  it('sessions that never overlap are solved as separate blocks', async () => {
    const s: OptimumSession[] = [
      { arrivalS: 0, departureS: 3600, energyKWh: 3, maxKW: 6.6, evse: 0 },
      { arrivalS: 7200, departureS: 9000, energyKWh: 30, maxKW: 6.6, evse: 0 },
    ];
    const r = await maxEnergyOptimum(s, PERIOD, { kind: 'cap', capKW: 100 });
    expect(r.blocks).toBe(2);
    expect(r.energyKWh).toBeCloseTo(3 + 6.6 * 0.5, 9);
  });

  it('uncapped, every Caltech session gets min(request, max power × stay)', async () => {
    const { sessions } = caltech(7);
    const r = await maxEnergyOptimum(sessions, PERIOD, { kind: 'cap', capKW: 1e6 });
    const want = sessions.reduce((a, s) => a + alone(s), 0);
    expect(r.energyKWh).toBeCloseTo(want, 6);
  });

  it('under a 30 kW cap the schedule is feasible and the optimum beats a greedy EDF schedule', async () => {
    const { sessions } = caltech(7);
    const cap = 30;
    const r = await maxEnergyOptimum(sessions, PERIOD, { kind: 'cap', capKW: cap });
    // feasibility of the returned schedule
    const perPeriod = new Map<number, number>();
    const perSession = new Float64Array(sessions.length);
    for (let k = 0; k < r.schedule.kW.length; k++) {
      const kw = r.schedule.kW[k]!;
      const j = r.schedule.session[k]!;
      expect(kw).toBeLessThanOrEqual(sessions[j]!.maxKW + 1e-7);
      perPeriod.set(r.schedule.period[k]!, (perPeriod.get(r.schedule.period[k]!) ?? 0) + kw);
      perSession[j] = perSession[j]! + (kw * PERIOD) / 3600;
    }
    for (const v of perPeriod.values()) expect(v).toBeLessThanOrEqual(cap + 1e-6);
    sessions.forEach((s, j) => expect(perSession[j]!).toBeLessThanOrEqual(s.energyKWh + 1e-6));
    // greedy earliest-deadline-first, period by period: a feasible schedule, so a lower bound
    const left = sessions.map((s) => s.energyKWh);
    let greedy = 0;
    const tMax = Math.max(...sessions.map((s) => Math.floor(s.departureS / PERIOD)));
    for (let t = 0; t < tMax; t++) {
      const active = sessions
        .map((s, j) => ({ s, j }))
        .filter(({ s }) => Math.ceil(s.arrivalS / PERIOD - 1e-9) <= t && t < Math.floor(s.departureS / PERIOD + 1e-9))
        .sort((a, b) => a.s.departureS - b.s.departureS || a.j - b.j);
      let room = cap;
      for (const { s, j } of active) {
        const kw = Math.min(s.maxKW, room, (left[j]! * 3600) / PERIOD);
        left[j] = left[j]! - (kw * PERIOD) / 3600;
        room -= kw;
        greedy += (kw * PERIOD) / 3600;
      }
    }
    expect(r.energyKWh).toBeGreaterThanOrEqual(greedy - 1e-6);
    expect(r.energyKWh).toBeLessThan(r.requestedKWh); // the cap binds in this week
  });

  it('three-phase at 10 kW: inner and outer polygons bracket the cone; the inner schedule is feasible', async () => {
    const net = loadSiteNetwork(join(DATA, 'sites/caltech-acn.json'), { capKW: 10 });
    const { sessions } = caltech(3);
    const r = await maxEnergyOptimum(sessions, PERIOD, { kind: 'network', net, model: 'three-phase', sides: 32 });
    expect(r.energyKWh).toBeLessThanOrEqual(r.upperKWh + 1e-6);
    expect((r.upperKWh - r.energyKWh) / r.upperKWh).toBeLessThan(0.02);
    // exact three-phase check of the inner schedule at every period
    const byPeriod = new Map<number, Float64Array>();
    for (let k = 0; k < r.schedule.kW.length; k++) {
      const t = r.schedule.period[k]!;
      let a = byPeriod.get(t);
      if (!a) byPeriod.set(t, (a = new Float64Array(net.n)));
      a[sessions[r.schedule.session[k]!]!.evse]! += (r.schedule.kW[k]! * 1000) / net.voltageV;
    }
    for (const a of byPeriod.values()) {
      const cur = net.constraintCurrents(a, 'three-phase');
      for (let q = 0; q < net.m; q++) expect(cur[q]!).toBeLessThanOrEqual(net.limitA[q]! + 1e-6);
    }
    // the conservative linear model cannot deliver more than the cone's outer bound
    const lin = await maxEnergyOptimum(sessions, PERIOD, { kind: 'network', net, model: 'linear' });
    expect(lin.energyKWh).toBeLessThanOrEqual(r.upperKWh + 1e-6);
    expect(lin.energyKWh).toBeGreaterThan(0);
  });
});

describe('offline minimum peak and minimum cost', () => {
  const two: OptimumSession[] = [
    { arrivalS: 0, departureS: 3600, energyKWh: 3.3, maxKW: 6.6, evse: 0 },
    { arrivalS: 0, departureS: 7200, energyKWh: 9.9, maxKW: 6.6, evse: 1 },
  ];

  it('minimum peak spreads the energy: 13.2 kWh over two hours needs 6.6 kW', async () => {
    const r = await costOptimum(two, PERIOD, { kind: 'cap', capKW: 100 }, { goal: 'peak', share: 1 });
    expect(r.deliverableKWh).toBeCloseTo(13.2, 9);
    expect(r.energyKWh).toBeCloseTo(13.2, 6);
    expect(r.peakKW).toBeCloseTo(6.6, 6);
    const half = await costOptimum(two, PERIOD, { kind: 'cap', capKW: 100 }, { goal: 'peak', share: 0.5 });
    expect(half.peakKW).toBeCloseTo(3.3, 6);
  });

  it('minimum cost moves what it can to the cheap hour', async () => {
    const p1 = 0.5;
    const p2 = 0.1;
    const priceOf = (t: number) => (t < 12 ? p1 : p2);
    const r = await costOptimum(two, PERIOD, { kind: 'cap', capKW: 100 }, { goal: 'cost', share: 1, priceOf, demandCharge: 0 });
    // A must charge in hour 1; B takes 6.6 kWh in hour 2 (its limit) and 3.3 kWh in hour 1
    expect(r.energyCost).toBeCloseTo(3.3 * p1 + 3.3 * p1 + 6.6 * p2, 6);
    expect(r.objective).toBeCloseTo(r.energyCost, 6);
    // with a demand charge the peak is traded against energy price
    const d = await costOptimum(two, PERIOD, { kind: 'cap', capKW: 100 }, { goal: 'cost', share: 1, priceOf, demandCharge: 10 });
    expect(d.peakKW).toBeCloseTo(6.6, 6);
    expect(d.objective).toBeCloseTo(d.energyCost + 10 * d.peakKW, 6);
  });

  it('Caltech week under a 30 kW cap: the minimum peak lies between the average load and the cap', async () => {
    const { sessions } = caltech(7);
    const full = await costOptimum(sessions, PERIOD, { kind: 'cap', capKW: 30 }, { goal: 'peak', share: 1 });
    const ninety = await costOptimum(sessions, PERIOD, { kind: 'cap', capKW: 30 }, { goal: 'peak', share: 0.9 });
    expect(full.peakKW).toBeLessThanOrEqual(30 + 1e-6);
    expect(full.energyKWh).toBeGreaterThanOrEqual(full.deliverableKWh * (1 - 1e-6));
    expect(ninety.peakKW).toBeLessThan(full.peakKW);
    const span = (Math.max(...sessions.map((s) => s.departureS)) - Math.min(...sessions.map((s) => s.arrivalS))) / 3600;
    expect(full.peakKW).toBeGreaterThan(full.energyKWh / span);
  });
});

describe('offline optimum against ACN-Sim (acnportal-experiments notebook 2.1, Caltech, March 2019)', () => {
  it('single-phase 10 kW aggregate cap: 59.13 % of the requested energy; the published Offline_CM reaches 59.17 %', async () => {
    const { sessions } = caltech(38); // every session of the file (March, Pacific time)
    const r = await maxEnergyOptimum(sessions, PERIOD, { kind: 'cap', capKW: 10 });
    expect(r.requestedKWh).toBeCloseTo(8900.5, 0); // the notebook's 954 sessions, 8,900.52 kWh
    const pct = (100 * r.energyKWh) / r.requestedKWh;
    // published: Offline_CM (max energy ×1000 + TOU cost + demand charge, MOSEK) 59.173 %; our LP
    // maximises energy alone with continuous rates, so it may only match or exceed it by the
    // solvers' tolerances and the cost terms' pull
    expect(pct).toBeGreaterThan(59.0);
    expect(pct).toBeLessThan(59.3);
  });
});
