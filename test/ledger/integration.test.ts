/**
 * The ledger stacks inside the city: coupling (ledger latency shows in the city's figures), the
 * shipped fault scenarios, and the integrity audit through a whole simulation.
 */
import { describe, expect, it } from 'vitest';
import type { PowLedger } from '../../src/ledger/backends/pow.js';
import { buildCity } from '../../src/simulation/world.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { Simulation, type Summary } from '../../src/simulation/simulation.js';
import { scenarioPath } from '../helpers.js';
import { flip } from './bytes.js';

/** Run every stack of a scenario on one city (built once), like `evsim run` does. */
async function runStacks(file: string, overrides: string[] = []): Promise<Map<string, { sim: Simulation; summary: Summary }>> {
  const sc = loadScenario(scenarioPath(file), { overrides });
  const city = await buildCity(sc);
  const out = new Map<string, { sim: Simulation; summary: Summary }>();
  for (const stack of sc.stacks) {
    const sim = new Simulation(sc, city, {}, stack);
    out.set(stack.name, { sim, summary: sim.run().summary });
  }
  return out;
}

const SMALL = ['fleet.size=600', 'duration=12h'];

describe('coupling the city to the ledger', () => {
  it('optimistic (default): the ledger does not change the city day', async () => {
    const r = await runStacks('monaco.yaml', [...SMALL, 'ledger.stacks=[none,pow]', 'ledger.coupling.waitForStart=false']);
    const none = r.get('none')!.summary;
    const pow = r.get('pow')!.summary;
    expect(pow.sessions).toEqual(none.sessions);
    expect(pow.stations).toEqual(none.stations);
    expect(pow.ledger.backends[0]!.latencySeconds.p50).toBeGreaterThan(10); // but the ledger is slow
  });

  it('waiting for the session-start record delays charging by the ledger latency', async () => {
    const r = await runStacks('monaco.yaml', [...SMALL, 'ledger.stacks=[none,central,pow]', 'ledger.coupling.waitForStart=true']);
    const none = r.get('none')!.summary;
    const central = r.get('central')!.summary;
    const pow = r.get('pow')!.summary;
    expect(none.ledger.meanAuthorizationDelaySeconds).toBe(0);
    // central: a network round trip; billing chain: the wait for the next block (T = 600 s)
    expect(central.ledger.meanAuthorizationDelaySeconds).toBeGreaterThan(0.01);
    expect(central.ledger.meanAuthorizationDelaySeconds).toBeLessThan(2);
    expect(pow.ledger.meanAuthorizationDelaySeconds).toBeGreaterThan(100);
    expect(pow.ledger.meanAuthorizationDelaySeconds).toBeLessThan(900);
    // chargers are held longer for the same energy, and less of the demand is met
    const occupancyPerKWh = (s: Summary) => s.stations.utilizationPct / s.sessions.energyDeliveredKWh;
    expect(occupancyPerKWh(pow)).toBeGreaterThan(occupancyPerKWh(none));
    expect(pow.sessions.demandMetPct).toBeLessThan(none.sessions.demandMetPct);
  });

  it('waiting for the payment holds the charger after charging', async () => {
    const r = await runStacks('monaco.yaml', [...SMALL, 'ledger.stacks=[pow]', 'ledger.coupling.waitForStart=false', 'ledger.coupling.waitForPayment=true']);
    const pow = r.get('pow')!.summary;
    expect(pow.ledger.meanPaymentHoldSeconds).toBeGreaterThan(100);
    expect(pow.ledger.meanPaymentHoldSeconds).toBeLessThanOrEqual(1800 + 1e-6);
  });

  it('a start record that is never final makes the EV give up after coupling.startTimeout', async () => {
    // Nakamoto with 6 confirmations at T = 600 s cannot authorise within 5 minutes
    const r = await runStacks('monaco.yaml', [...SMALL, 'ledger.stacks=[nakamoto]', 'ledger.coupling.waitForStart=true', 'ledger.coupling.startTimeout=5m']);
    const s = r.get('nakamoto')!.summary;
    expect(s.ledger.startTimeouts).toBeGreaterThan(10);
    expect(s.sessions.energyDeliveredKWh).toBeLessThan(0.2 * s.sessions.energyRequestedKWh);
  });
});

describe('shipped fault scenarios', () => {
  it('central outage 08:00-09:00: records wait for the server, the city feels it', async () => {
    const r = await runStacks('faults/central-outage.yaml', SMALL);
    const base = await runStacks('faults/central-outage.yaml', [...SMALL, 'ledger.backends.central.outages=[]']);
    const out = r.get('central')!;
    const ok = base.get('central')!;
    const b = out.summary.ledger.backends[0]!;
    expect(b.extra.outageSeconds).toBe(3600);
    // clients retry (every 15 s, 30 times): late in the outage they get through once the server
    // is back, early ones give up with a timeout
    expect(b.latencySeconds.max).toBeGreaterThan(300);
    expect(b.failed).toBeGreaterThan(0);
    expect(ok.summary.ledger.backends[0]!.latencySeconds.max).toBeLessThan(5);
    expect(out.summary.ledger.meanAuthorizationDelaySeconds).toBeGreaterThan(10 * ok.summary.ledger.meanAuthorizationDelaySeconds);
    expect(out.summary.sessions.demandMetPct).toBeLessThan(ok.summary.sessions.demandMetPct);
  });

  it('QBFT: up to f crashed validators keep blocks coming; f+1 stop them and the city feels it', async () => {
    const r = await runStacks('faults/qbft-crash.yaml', SMALL);
    const healthy = r.get('qbft')!.summary;
    const f = r.get('crash-f')!.summary;
    const f1 = r.get('crash-f-plus-1')!;
    const ef = f.ledger.backends[0]!.extra;
    expect(ef.blocks).toBeGreaterThan(5000); // 12 h at 1 s slots, minus round changes
    expect(ef.rounds).toBeGreaterThan(0); // crashed proposers cost round changes
    // f + 1 down from 08:00 to 12:00: no transaction is final in that window
    let finalInWindow = 0;
    for (const port of f1.sim.ledgerPorts()) {
      port.forEachTx((t) => {
        if (t.status === 'final' && t.settledAt > 28800 + 30 && t.settledAt < 43200) finalInWindow++;
      });
    }
    expect(finalInWindow).toBe(0);
    expect(f1.summary.ledger.startTimeouts).toBeGreaterThan(f.ledger.startTimeouts);
    expect(f1.summary.sessions.demandMetPct).toBeLessThan(healthy.sessions.demandMetPct);
    for (const s of [healthy, f, f1.summary]) expect(s.ledger.auditProblems).toBe(0);
  });

  it('PoW with slow propagation forks more', async () => {
    const r = await runStacks('faults/pow-slow-propagation.yaml', SMALL);
    const fast = r.get('fast')!.summary.ledger.backends[0]!.extra;
    const slow = r.get('slow')!.summary.ledger.backends[0]!.extra;
    expect(slow.staleBlocks).toBeGreaterThan(10);
    expect(slow.forkRate!).toBeGreaterThan(5 * Math.max(fast.forkRate!, 0.005));
  });
});

describe('shipped fault scenarios: payment channels', () => {
  it('Lightning hub outage: payments fail during the window only', async () => {
    const r = await runStacks('faults/lightning-hub-outage.yaml', SMALL);
    const ok = r.get('qbft-lightning')!;
    const out = r.get('hub-outage')!;
    const pay = (x: { summary: Summary }) => x.summary.ledger.backends.find((b) => b.backend === 'lightning')!;
    expect(pay(ok).failed).toBe(0);
    expect(pay(out).extra.failedHubOutage).toBeGreaterThan(20);
    expect(pay(out).failed).toBe(pay(out).extra.failedHubOutage);
    // every failure was submitted inside 08:00-09:00 (in-flight payments at the start wait it out)
    for (const port of out.sim.ledgerPorts()) {
      if (port.ledger.backend !== 'lightning') continue;
      port.forEachTx((t) => {
        if (t.status === 'failed') {
          expect(t.submittedAt).toBeGreaterThanOrEqual(28800 - 60);
          expect(t.submittedAt).toBeLessThan(32400);
          expect(t.reason).not.toBe('');
        }
      });
    }
    for (const x of [ok, out]) expect(x.summary.ledger.auditProblems).toBe(0);
  });

  it('Lightning liquidity exhaustion: the hub->station hop runs dry without top-ups', async () => {
    const r = await runStacks('faults/lightning-liquidity.yaml', SMALL);
    const pay = (name: string) => r.get(name)!.summary.ledger.backends.find((b) => b.backend === 'lightning')!;
    expect(pay('no-topup').extra.failedLiquidityHop1).toBeGreaterThan(100);
    expect(pay('no-topup').extra.failedLiquidityHop0).toBe(0);
    expect(pay('topup').failed).toBe(0);
    expect(pay('topup').extra.topups).toBeGreaterThan(0);
  });
});

describe('shipped fault scenarios: the Tangle', () => {
  it('double spends are detected and never both confirmed; MCMC leaves lazy transactions behind', async () => {
    const r = await runStacks('faults/tangle-conflicts.yaml', SMALL);
    const rec = (name: string) => r.get(name)!.summary.ledger.backends.find((b) => b.backend === 'tangle')!;
    expect(rec('tangle-flash').extra.doubleSpendsIssued).toBe(0);
    for (const name of ['conflicts-mcmc', 'conflicts-uniform']) {
      const e = rec(name).extra;
      expect(e.doubleSpendsIssued).toBeGreaterThan(50);
      expect(e.doubleSpendsDetected).toBeGreaterThan(0.8 * e.doubleSpendsIssued!);
      expect(e.invariantViolations).toBe(0); // never both sides of a conflict confirmed
      expect(e.lazyTips).toBeGreaterThan(100);
      expect(r.get(name)!.summary.ledger.auditProblems).toBe(0);
    }
    expect(rec('conflicts-mcmc').extra.lazyLeftBehind!).toBeGreaterThanOrEqual(rec('conflicts-uniform').extra.lazyLeftBehind!);
    // Flash: only opening and closing touch the Tangle
    const flash = r.get('tangle-flash')!.summary.ledger.backends.find((b) => b.backend === 'flash')!;
    expect(flash.extra.onLedgerTxs).toBeLessThanOrEqual(2 * flash.extra.channels! + flash.extra.topUps!);
    expect(flash.extra.ledgerTxsSaved).toBeGreaterThan(0);
  });
});

describe('integrity audit through a simulation', () => {
  it('is clean after an honest day and names an altered stored record', async () => {
    const r = await runStacks('monaco.yaml', [...SMALL, 'ledger.stacks=[pow]']);
    const { sim, summary } = r.get('pow')!;
    expect(summary.ledger.auditProblems).toBe(0);
    const pow = sim.records.ledger as PowLedger;
    const block = pow.mainChain().find((b) => b.txs.length > 3)!;
    expect(block).toBeDefined();
    // alter one stored record: its body no longer matches its signature and the merkle root
    const victim = block.txs[2]!;
    flip(victim.body, 20, 0xff);
    const problems = pow.audit();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toContain(`tx ${victim.tx.id}`);
    expect(problems.join('\n')).toContain(`block ${block.index}`);
  });
});
