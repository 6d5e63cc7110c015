/**
 * Roaming composed into runs (src/simulation/roaming.ts) on a small synthetic grid split into two
 * utilities (west / east of its middle meridian): determinism, the three modes, refusal in mode
 * none leading to home stations, profile expiry, settlement on the consortium chain, the audit on
 * a run's books, and that a scenario without `roaming` is unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionStatus } from '../../src/charging/station.js';
import { validateScenario, type Scenario } from '../../src/scenario/scenario.js';
import { comparisonRows, summaryJson } from '../../src/output/output.js';
import { createSimulation, type SimResult } from '../../src/simulation/simulation.js';
import { buildCity, type City } from '../../src/simulation/world.js';

// 12 × 12 grid, 800 m spacing, at (0, 0): x 0 … 8800 m = lon 0 … 0.079°
const MID = 0.0395;
const RAW = {
  name: 'roaming-grid',
  seed: 3,
  duration: '12h',
  city: { type: 'grid', rows: 12, cols: 12, spacingM: 800, arterialEvery: 4, places: 40 },
  stations: { generate: { count: 6, rule: 'farthest-point', chargers: 2, powerKW: 50, kind: 'DC' } },
  fleet: { size: 300, initialSoc: { min: 0.25, max: 0.5 }, chargeThreshold: 0.45, targetSoc: 0.8, maxWait: '30m' },
  demand: { type: 'trips' },
  policy: { stationChoice: 'min-total-time', allocation: 'fcfs' },
  ledger: { stacks: ['none'] },
  output: { ledgerCsv: false, stationsCsv: false },
  roaming: {
    utilities: [
      { id: 'west', cinPrefix: '11', area: { bbox: [-1, -1, MID, 1] }, pricePerKWh: 0.3 },
      { id: 'east', cinPrefix: '12', area: { polygon: [[MID, -1], [1, -1], [1, 1], [MID, 1]] }, pricePerKWh: 0.4, roamingPricePerKWh: 0.45 },
    ],
    contracts: [{ visited: 'west', home: 'east', pricePerKWh: 0.25, loadFactor: 0.5 }],
    chain: { backend: 'qbft', nodes: 4, params: { blockPeriodS: 2 } },
  },
};
const scenario = (sets: string[] = [], raw: Record<string, unknown> = RAW): Scenario => validateScenario(raw, 'roaming-grid.yaml', { overrides: sets });

let city: City;
beforeAll(async () => {
  city = await buildCity(scenario());
});
function run(sets: string[] = []): { res: SimResult; sim: ReturnType<typeof createSimulation> } {
  const sim = createSimulation(scenario(sets), city);
  return { res: sim.run(), sim };
}

describe('roaming in a run', () => {
  it('is deterministic: same scenario and seed → byte-identical summary.json', () => {
    const a = summaryJson(run().res.summary);
    const b = summaryJson(run().res.summary);
    expect(a).toBe(b);
    expect(JSON.parse(a).roaming.totals.roamingSessions).toBeGreaterThan(0);
  });

  it('consortium: every roaming session invoiced once, settled on the chain, books audited clean', () => {
    const { res, sim } = run();
    const r = res.summary.roaming!;
    const rm = sim.roaming!;
    expect(r.mode).toBe('consortium');
    expect(r.auditProblems).toBe(0);
    expect(r.settlement.invoices).toBe(r.totals.roamingSessions);
    expect(r.settlement.settled + r.settlement.pending + r.settlement.failed).toBe(r.settlement.invoices);
    expect(r.settlement.settled).toBeGreaterThan(0);
    // invoice + settlement: two blocks of 2 s at least
    expect(r.settlement.meanSeconds).toBeGreaterThan(2);
    expect(r.chainLedger!.byKind['roaming-invoice']).toBe(r.settlement.invoices);
    expect(r.authorization.firstVisit.count).toBeGreaterThan(0);
    expect(r.authorization.firstVisit.meanSeconds).toBeGreaterThan(r.authorization.domestic.meanSeconds);
    // the sessions' own utilities: roaming ones are exactly the invoiced ones
    let roamingWithEnergy = 0;
    for (const s of res.sessions) if (rm.stationUtility[s.station] !== rm.homeUtility[s.ev] && s.deliveredKWh > 0 && !Number.isNaN(s.chargingEndedAt)) roamingWithEnergy++;
    expect(roamingWithEnergy).toBe(r.settlement.invoices);
    // equation (1) over both utilities: transit revenue and cost cancel (no hub)
    expect(r.totals.TCR).toBeCloseTo(r.totals.TCC, 9);
    expect(r.totals.revenue).toBeCloseTo(r.totals.DCR + r.totals.RCR, 9);
    // authorisation holds power back: no session charged before its answer
    for (const s of res.sessions) if (!Number.isNaN(s.authorizedAt)) expect(s.authorizedAt).toBeGreaterThan(s.pluggedAt);
  });

  it('the audit of a run catches a tampered invoice', () => {
    const { sim } = run();
    const rm = sim.roaming!;
    expect(rm.audit().problems).toBe(0);
    rm.accounts.invoices[0]!.amount += 1;
    const a = rm.audit();
    expect(a.problems).toBeGreaterThanOrEqual(2); // amount ≠ energy × price, and ≠ the chain record
    expect(a.lines.some((l) => l.includes('differs from its chain record'))).toBe(true);
  });

  it('none: refused outside the home area, every session at a home station', () => {
    const { res, sim } = run(['roaming.mode=none']);
    const r = res.summary.roaming!;
    const rm = sim.roaming!;
    expect(r.refusals.decisions).toBeGreaterThan(0);
    expect(r.totals.roamingSessions).toBe(0);
    expect(res.sessions.length).toBeGreaterThan(0);
    for (const s of res.sessions) expect(rm.stationUtility[s.station]).toBe(rm.homeUtility[s.ev]);
    expect(r.refusals.meanExtraTravelSeconds).toBeGreaterThan(0);
    expect(r.messages.byEntity.chain).toBeUndefined();
  });

  it('none: an EV at a foreign station anyway is refused at plug-in and leaves without energy', () => {
    const sim = createSimulation(scenario(['roaming.mode=none']), city);
    sim.decisions.candidateMask = () => undefined; // bypass the restriction of the candidate sets
    const res = sim.run();
    const r = res.summary.roaming!;
    const rm = sim.roaming!;
    expect(r.refusals.atStation).toBeGreaterThan(0);
    let foreign = 0;
    for (const s of res.sessions) {
      if (rm.stationUtility[s.station] === rm.homeUtility[s.ev] || Number.isNaN(s.pluggedAt)) continue;
      foreign++;
      expect(s.deliveredKWh).toBe(0);
      expect(s.status).toBe(SessionStatus.abandoned);
      expect(s.unpluggedAt).toBe(s.pluggedAt);
    }
    expect(foreign).toBe(r.refusals.atStation);
    expect(r.totals.roamingSessions).toBe(0);
    expect(r.auditProblems).toBe(0);
  });

  it('clearing-house: through the hub every time, fee kept, settlement after the delay', () => {
    const { res } = run(['roaming.mode=clearing-house', 'roaming.clearingHouse.settlementDelay=1h', 'roaming.clearingHouse.feePct=10']);
    const r = res.summary.roaming!;
    expect(r.authorization.hub.count).toBeGreaterThan(0);
    expect(r.authorization.firstVisit.count + r.authorization.cached.count).toBe(0);
    expect(r.auditProblems).toBe(0);
    expect(r.settlement.settled).toBeGreaterThan(0);
    expect(r.settlement.meanSeconds).toBeGreaterThan(3600);
    expect(r.settlement.meanSeconds).toBeLessThan(3601);
    expect(r.totals.TCC - r.totals.TCR).toBeCloseTo(r.totals.hubFees, 9);
    expect(r.messages.byKind.invoice).toBe(r.settlement.invoices);
  });

  it('profiles: deleted when the EV leaves the area; kept (and used) without that rule', () => {
    const leave = run().res.summary.roaming!;
    expect(leave.profiles.deletedOnLeave).toBeGreaterThan(0);
    expect(leave.profiles.stored).toBe(leave.authorization.firstVisit.count);
    // a low target: EVs charge again soon, often in the same area
    const keep = run(['roaming.expireOnLeave=false', 'roaming.profileTtl=0', 'fleet.targetSoc=0.46']).res.summary.roaming!;
    expect(keep.profiles.deletedOnLeave).toBe(0);
    expect(keep.authorization.cached.count).toBeGreaterThan(0);
    expect(keep.authorization.cached.meanSeconds).toBeLessThan(keep.authorization.firstVisit.meanSeconds);
  });

  it('without a roaming block: no roaming section, no roaming columns', () => {
    const { roaming: _omit, ...plain } = RAW;
    const sim = createSimulation(scenario([], plain), city);
    const s = sim.run().summary;
    expect(s.roaming).toBeUndefined();
    expect(sim.roaming).toBeNull();
    expect(comparisonRows([s])[0]).not.toContain('roaming_mode');
  });
});
