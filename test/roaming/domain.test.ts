/**
 * The roaming domain (src/roaming/) on hand-checkable cases: areas, CIN routing, the VCPD cache and
 * its expiry, CRP prices, the message latency model (first visit vs cached), the equation-(1)/(2)
 * figures and the audit.
 */
import { describe, expect, it } from 'vitest';
import { AaaNode, CinRouter, CrpDatabase, MESSAGE_BYTES, RoamingNetwork, formatCin, type UtilityDef } from '../../src/roaming/aaa.js';
import { RoamingAccounts, auditRoaming } from '../../src/roaming/accounts.js';
import { inArea, inPolygon, utilityAt, type AreaDef } from '../../src/roaming/areas.js';

const L: AreaDef = { polygon: [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]] }; // an L shape
describe('areas', () => {
  it('point in polygon (concave) and bbox, first area wins, default utility 0', () => {
    expect(inPolygon((L as { polygon: [number, number][] }).polygon, 0.5, 1.5)).toBe(true);
    expect(inArea(L, 1.5, 1.5)).toBe(false); // the notch
    expect(inArea(L, 1.5, 0.5)).toBe(true);
    expect(inArea({ bbox: [0, 0, 1, 1] }, 1, 1)).toBe(true); // edge inside
    const areas: AreaDef[] = [{ bbox: [10, 10, 11, 11] }, L, { bbox: [0, 0, 5, 5] }];
    expect(utilityAt(areas, 1.5, 0.5)).toBe(1);
    expect(utilityAt(areas, 1.5, 1.5)).toBe(2);
    expect(utilityAt(areas, 50, 50)).toBe(0);
  });
});

describe('CIN and the R-GW/R', () => {
  it('routes a CIN by its prefix to the home AAA node', () => {
    const r = new CinRouter(['4231', '4232', '7']);
    const cin = formatCin('4232', 17);
    expect(cin).toBe('4232000000017');
    expect(r.route(cin)).toBe(1);
    expect(r.subscriber(cin, 1)).toBe(17);
    expect(r.route(formatCin('7', 3))).toBe(2);
    expect(r.route('9999')).toBe(-1);
  });
});

describe('AAA node VCPD', () => {
  it('caches a visiting profile until its TTL, and deletes it when the EV leaves', () => {
    const a = new AaaNode(0, 100);
    expect(a.cached(5, 0)).toBe(false);
    a.store(5, 10);
    expect(a.cached(5, 109.9)).toBe(true);
    expect(a.cached(5, 110)).toBe(false); // expired at 10 + 100
    expect(a.expiredTtl).toBe(1);
    a.store(5, 200);
    expect(a.forget(5)).toBe(true);
    expect(a.forget(5)).toBe(false);
    expect(a.cached(5, 201)).toBe(false);
    expect(a.deletedOnLeave).toBe(1);
    const never = new AaaNode(1, 0);
    never.store(1, 0);
    expect(never.cached(1, 1e9)).toBe(true);
  });
});

const U: UtilityDef[] = [
  { id: 'a', cinPrefix: '1', area: { bbox: [0, 0, 1, 1] }, pricePerKWh: 0.3 },
  { id: 'b', cinPrefix: '2', area: { bbox: [1, 0, 2, 1] }, pricePerKWh: 0.4, roamingPricePerKWh: 0.5 },
];

describe('CRP database', () => {
  it('contract price, load-dependent; the visited utility’s own price without a contract', () => {
    const crp = new CrpDatabase(U, [{ visited: 'a', home: 'b', pricePerKWh: 0.25, loadFactor: 0.4 }]);
    expect(crp.priceOf(0, 1, 0)).toBeCloseTo(0.25, 12);
    expect(crp.priceOf(0, 1, 0.5)).toBeCloseTo(0.25 * 1.2, 12);
    expect(crp.priceOf(1, 0, 0.9)).toBeCloseTo(0.4, 12);
  });
});

describe('latency model', () => {
  it('first visit (via the home AAA) is slower than a cached one, by the hand-computed legs', () => {
    const cfg = { accessMs: 50, fiberUsPerKm: 5, linkMs: 1, processingMs: 2, bandwidthMbps: 100 };
    // two sites 1° of longitude apart on the equator: 111.195 km
    const net = new RoamingNetwork(cfg, [{ bbox: [0, 0, 0, 0] }, { bbox: [1, 0, 1, 0] }], null);
    const ser = (k: keyof typeof MESSAGE_BYTES) => (MESSAGE_BYTES[k] * 8) / 100e6;
    const km = 111.19508;
    const site = (km * 5) / 1e6 + 0.001;
    const access = (k: keyof typeof MESSAGE_BYTES) => 0.05 + ser(k) + 0.002;
    const cached = net.access('station', 'auth-request') + net.hop('gateway', 1, 1, 'auth-request') + net.hop('aaa', 1, 1, 'auth-answer') + net.access('gateway', 'auth-answer');
    const first = net.access('station', 'auth-request') + net.hop('gateway', 1, 0, 'auth-request') + net.hop('aaa', 0, 1, 'profile') + net.hop('aaa', 1, 1, 'auth-answer') + net.access('gateway', 'auth-answer');
    const expCached = access('auth-request') + ser('auth-request') + 0.002 + ser('auth-answer') + 0.002 + access('auth-answer');
    const expFirst = access('auth-request') + site + ser('auth-request') + 0.002 + site + ser('profile') + 0.002 + ser('auth-answer') + 0.002 + access('auth-answer');
    expect(cached).toBeCloseTo(expCached, 9);
    expect(first).toBeCloseTo(expFirst, 6);
    expect(first - cached).toBeGreaterThan(2 * site);
    expect(net.sent.station).toBe(2);
    expect(net.sent.aaa).toBe(3);
    expect(net.byKind.profile).toBe(1);
    expect(net.bytes.station).toBe(2 * MESSAGE_BYTES['auth-request']);
  });
});

describe('accounts: equations (1) and (2)', () => {
  // EV 0 (home a) charges 10 kWh at home; EV 1 (home b) charges 20 kWh at a (contract 0.25);
  // EV 0 charges 4 kWh at b (no contract: b's own 0.4). θ = 0.6.
  function books(feePct = 0): RoamingAccounts {
    const acc = new RoamingAccounts(['a', 'b'], [0.3, 0.4], [0.3, 0.5], 0.6, feePct, 2);
    acc.domestic(0, 0, 10);
    acc.roaming(7, 1, 3, 0, 1, 20, 0.25, 100);
    acc.roaming(8, 0, 4, 1, 0, 4, 0.4, 200);
    return acc;
  }
  it('DCR, RCR, TCR, TCC and CS by hand', () => {
    const [a, b] = books().figures([1, 1], [1, 1]);
    // a: DCR 10·0.3 = 3; RCR (its EV abroad, 4 kWh at c_a 0.3) = 1.2; TCR 20·0.25 = 5; TCC 4·0.4 = 1.6
    expect(a!.DCR).toBeCloseTo(3, 12);
    expect(a!.RCR).toBeCloseTo(1.2, 12);
    expect(a!.TCR).toBeCloseTo(5, 12);
    expect(a!.TCC).toBeCloseTo(1.6, 12);
    expect(a!.revenue).toBeCloseTo(3 + 1.2 + 5 - 1.6, 12);
    // b: DCR 0; RCR 20·0.5 = 10; TCR 1.6; TCC 5
    expect(b!.revenue).toBeCloseTo(0 + 10 + 1.6 - 5, 12);
    // CS: a: NUDU 10·(0.6−0.3) = 3, NURU 4·(0.6−0.3) = 1.2; b: NURU 20·(0.6−0.5) = 2
    expect(a!.consumerSurplus).toBeCloseTo(4.2, 12);
    expect(b!.NURU).toBeCloseTo(2, 12);
  });
  it('a hub fee comes out of the visited utility’s transit revenue once settled', () => {
    const acc = books(5);
    acc.settle(0, 5, 1000);
    const [a] = acc.figures([1, 1], [1, 1]);
    expect(a!.TCR).toBeCloseTo(5 * 0.95, 12);
    expect(acc.hubFees).toBeCloseTo(0.25, 12);
  });
  it('the audit passes on clean books and catches a tampered invoice, a missing one and a wrong chain record', () => {
    const sessions = new Map<number, [number, number, number]>([
      [7, [20, 0, 1]],
      [8, [4, 1, 0]],
    ]);
    const clean = books();
    const chain = (acc: RoamingAccounts) => (i: number) => [acc.invoices[i]!.home, acc.invoices[i]!.energyKWh, acc.invoices[i]!.amount] as const;
    expect(auditRoaming(clean, [0.3, 0.5], { roamingSessions: sessions, domesticCharges: 3, chainInvoice: chain(clean) }).problems).toBe(0);
    const tampered = books();
    const rec = chain(books());
    tampered.invoices[0]!.amount = 6; // 20 kWh × 0.25 = 5
    const a = auditRoaming(tampered, [0.3, 0.5], { roamingSessions: sessions, domesticCharges: 3, chainInvoice: rec });
    expect(a.problems).toBe(2);
    expect(a.lines.join('\n')).toMatch(/invoice 0 amount 6/);
    expect(a.lines.join('\n')).toMatch(/differs from its chain record/);
    const missing = auditRoaming(clean, [0.3, 0.5], { roamingSessions: new Map([...sessions, [9, [1, 0, 1]]]), domesticCharges: 3 });
    expect(missing.lines).toContain('roaming: session 9 invoiced 0 times (expected once)');
    const billOff = auditRoaming(clean, [0.3, 0.5], { roamingSessions: sessions, domesticCharges: 4 });
    expect(billOff.lines[0]).toMatch(/home bills sum to/);
  });
});
