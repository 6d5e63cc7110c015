/**
 * The `lightning` backend (src/ledger/backends/lightning.ts): BOLT #7 fee arithmetic, the
 * Pickhardt–Richter success probability under uniformly distributed liquidity, HTLC failure and
 * balance restoration, liquidity exhaustion and top-ups, hub outages, channel opening on the
 * underlying chain, streaming sessions, audit and determinism.
 *
 * Network: 4 nodes, fixed 50 ms links, 20 ms access links, bandwidth 10^6 Mbit/s (message sizes
 * negligible), hub on node 0. With EV 1 (gateway 1) and station 2 (gateway 2) a one-way leg
 * agent ↔ hub is 70 ms, the invoice station → EV 90 ms, an HTLC add exchange 3 legs = 210 ms.
 *
 * Probability test: every payment uses a fresh EV and a fresh station, so the channels are
 * independent; with balanceModel 'uniform' the funder's balance is uniform on 0..c, and a payment
 * needing a msat on a hop succeeds there with (c + 1 − a)/(c + 1). n = 4000 payments; tolerance
 * 4 binomial standard errors √(p(1−p)/n) (≈ 0.03), against differences between the hypotheses
 * (e.g. ignoring the fee on hop 0) of ≥ 0.05 in the cases chosen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createLightningLedger,
  LightningParamsSchema,
  routingFeeMsat,
  routingFeeMsatSafe,
  type LightningLedger,
  type LightningParamsInput,
} from '../../src/ledger/backends/lightning.js';
import type { PowLedger } from '../../src/ledger/backends/pow.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';
import { flip } from './bytes.js';

const NET: NetworkConfig = { nodes: 4, latency: { dist: 'fixed', meanMs: 50 }, bandwidthMbps: 1e6, topology: { type: 'full' }, gatewayLatencyMs: 20 };

interface Harness {
  kernel: Kernel;
  ledger: LightningLedger;
  settled: Map<number, Settlement>;
  order: Settlement[];
  txs: LedgerTx[];
  pay(t: number, ev: number, station: number, amount: number, opts?: { sessionId?: number; closing?: boolean }): void;
  run(until: number): void;
}

function harness(params: LightningParamsInput, seed = 7): Harness {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(NET, streams.stream('network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: 0, seed });
  const settled = new Map<number, Settlement>();
  const order: Settlement[] = [];
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/lightning/${name}`),
    network,
    codec,
    settle: (s) => {
      if (settled.has(s.tx.id)) throw new Error(`tx ${s.tx.id} settled twice`);
      if (!(s.at >= kernel.now)) throw new Error(`tx ${s.tx.id} settled in the past`);
      settled.set(s.tx.id, s);
      order.push(s);
    },
  };
  const ledger = createLightningLedger(ctx, params);
  const txs: LedgerTx[] = [];
  return {
    kernel,
    ledger,
    settled,
    order,
    txs,
    pay(t, ev, station, amount, opts = {}) {
      kernel.at(t, PRIORITY.TRIP, () => {
        const base = { id: txs.length, kind: 'payment' as const, sessionId: opts.sessionId ?? txs.length, ev, station, energyKWh: 1, amount, powerKW: 7, soc: 0.5, submittedAt: kernel.now };
        const tx: LedgerTx = opts.closing ? { ...base, closing: true } : base;
        txs.push(tx);
        ledger.submit(tx);
      });
    },
    run: (until) => void kernel.run(until),
  };
}

const NO_CHAIN = { backend: 'none' as const };

describe('lightning parameters', () => {
  it('has documented defaults', () => {
    const p = LightningParamsSchema.parse({});
    expect(p.msatPerCurrencyUnit).toBe(2_000_000);
    expect(p.evChannelUnits).toBe(100);
    expect(p.stationChannelUnits).toBe(1000);
    expect(p.feeBaseMsat).toBe(1000);
    expect(p.feeProportionalMillionths).toBe(1);
    expect(p.chain.backend).toBe('pow');
    expect(p.fundingConfirmations).toBe(3);
    expect(p.rebalance).toBe('topup');
    expect(p.streaming).toBe(true);
    expect(() => LightningParamsSchema.parse({ bogus: 1 })).toThrow();
    expect(() => LightningParamsSchema.parse({ hubOutages: [{ fromS: 10, toS: 5 }] })).toThrow();
    expect(() => LightningParamsSchema.parse({ chain: { backend: 'qbft', params: { blockPeriodS: -1 } } })).toThrow();
  });

  it('streaming follows the parameter', () => {
    expect(harness({ chain: NO_CHAIN }).ledger.streaming).toBe(true);
    expect(harness({ chain: NO_CHAIN, streaming: false }).ledger.streaming).toBe(false);
  });
});

describe('BOLT #7 fee arithmetic', () => {
  it('is exact on known values, flooring the proportional part', () => {
    expect(routingFeeMsat(1_000_000, 1000, 1)).toBe(1001n);
    expect(routingFeeMsat(999_999, 1000, 1)).toBe(1000n); // 0.999999 floors to 0
    expect(routingFeeMsat(12_345, 0, 2500)).toBe(30n); // 30.8625
    expect(routingFeeMsat(1, 0, 999_999)).toBe(0n);
    expect(routingFeeMsat(1_000_000, 0, 999_999)).toBe(999_999n);
    expect(routingFeeMsat(0, 1000, 1)).toBe(1000n);
    // 21 million BTC in msat, 10 ppm: far beyond 2^53, no precision loss
    expect(routingFeeMsat(2_100_000_000_000_000_000n, 1000n, 10n)).toBe(21_000_000_001_000n);
    expect(routingFeeMsat(2n ** 53n + 1n, 0, 3)).toBe(27_021_597_764n);
    expect(routingFeeMsatSafe(1_000_000, 1000, 1)).toBe(1001);
    expect(routingFeeMsatSafe(999_999, 1000, 1)).toBe(1000);
    // product exactly 2^53 − 1 (fast path) and just above (BigInt fallback)
    expect(routingFeeMsatSafe(Number.MAX_SAFE_INTEGER, 0, 1)).toBe(9_007_199_254);
    expect(routingFeeMsatSafe(Number.MAX_SAFE_INTEGER, 0, 2)).toBe(18_014_398_509);
    expect(routingFeeMsatSafe(9_007_198_999_999_999, 0, 1)).toBe(9_007_198_999); // k·10^6 − 1 floors to k − 1
    expect(routingFeeMsatSafe(2 ** 40, 1000, 3_000_000)).toBe(Number(routingFeeMsat(2n ** 40n, 1000, 3_000_000)));
    expect(() => routingFeeMsat(-1, 0, 1)).toThrow();
  });

  it('the safe-integer path equals the BigInt formula', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000_000 }), (amt, ppm, base) => {
        const exact = BigInt(base) + (BigInt(amt) * BigInt(ppm)) / 1_000_000n;
        expect(routingFeeMsatSafe(amt, base, ppm)).toBe(Number(exact));
        expect(routingFeeMsat(amt, base, ppm)).toBe(exact);
      }),
      { numRuns: 2000 },
    );
  });

  it('the hub charges it on hop 0 and earns it', () => {
    const h = harness({ chain: NO_CHAIN, msatPerCurrencyUnit: 1_000_000, feeBaseMsat: 1000, feeProportionalMillionths: 2500 });
    h.pay(10, 1, 2, 1.234567); // 1,234,567 msat → fee 1000 + ⌊3086.4175⌋ = 4086
    h.run(100);
    expect(h.settled.get(0)!.status).toBe('final');
    const ev = h.ledger.channelInfo('ev', 1)!;
    const st = h.ledger.channelInfo('station', 2)!;
    expect(ev.capacityMsat - ev.localMsat).toBe(1_234_567 + 4086);
    expect(st.remoteMsat).toBe(1_234_567);
    expect(h.ledger.extraMetrics().feesMsat).toBe(4086);
    expect(h.ledger.audit()).toEqual([]);
  });
});

describe('success probability with uniformly distributed liquidity (Pickhardt & Richter)', () => {
  function rate(c1: number, c2: number, a: number, feeBase: number, n: number): { ok: number; hop0: number; hop1: number } {
    const h = harness({
      chain: NO_CHAIN,
      msatPerCurrencyUnit: 1,
      evChannelUnits: c1,
      stationChannelUnits: c2,
      feeBaseMsat: feeBase,
      feeProportionalMillionths: 0,
      balanceModel: 'uniform',
      rebalance: 'none',
    });
    for (let i = 0; i < n; i++) h.pay(10 * (i + 1), i, i, a);
    h.run(10 * (n + 2));
    const m = h.ledger.extraMetrics();
    expect(m.payments).toBe(n);
    expect(m.succeeded! + m.failed!).toBe(n);
    expect(h.ledger.audit()).toEqual([]);
    return { ok: m.succeeded! / n, hop0: m.failedLiquidityHop0! / n, hop1: m.failedLiquidityHop1! / n };
  }
  const tol = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

  it('one channel: P = (c + 1 − a)/(c + 1)', () => {
    const n = 4000;
    const p = (100 + 1 - 40) / (100 + 1); // 0.604; the station channel (10^9 msat) practically never fails
    const r = rate(100, 1e9, 40, 0, n);
    expect(Math.abs(r.ok - p)).toBeLessThan(tol(p, n));
  });

  it('two channels: the product, with the fee counted on hop 0', () => {
    const n = 4000;
    const p0 = (100 + 1 - 65) / 101; // a + fee = 60 + 5
    const p1 = (150 + 1 - 60) / 151;
    const r = rate(100, 150, 60, 5, n);
    expect(Math.abs(r.ok - p0 * p1)).toBeLessThan(tol(p0 * p1, n));
    expect(Math.abs(r.hop0 - (1 - p0))).toBeLessThan(tol(1 - p0, n));
    expect(Math.abs(r.hop1 - p0 * (1 - p1))).toBeLessThan(tol(p0 * (1 - p1), n));
  });
});

describe('HTLC failure and liquidity', () => {
  it('a failed HTLC restores the balances', () => {
    const h = harness({ chain: NO_CHAIN, msatPerCurrencyUnit: 1000, evChannelUnits: 100, stationChannelUnits: 1, rebalance: 'none' });
    h.pay(10, 1, 2, 5);
    // channels usable at 10.35 (handshake 4 legs, channel_ready 1 leg; chain 'none'); invoice at
    // 10.44, the EV's HTLC locked; the hub fails it at 10.65, the EV learns at 10.72
    h.run(10.5);
    expect(h.ledger.channelInfo('ev', 1)!.readyAt).toBeCloseTo(10.35, 6);
    const mid = h.ledger.channelInfo('ev', 1)!;
    const need = 5000 + 1000 + 0; // amount + base fee (⌊5000 · 1 / 10^6⌋ = 0)
    expect(mid.lockedMsat).toBe(need);
    expect(mid.localMsat).toBe(100_000 - need);
    h.run(100);
    const s = h.settled.get(0)!;
    expect(s.status).toBe('failed');
    expect(s.reason).toBe('insufficient liquidity at hop 1');
    expect(s.at).toBeCloseTo(10.72, 6);
    const ev = h.ledger.channelInfo('ev', 1)!;
    const st = h.ledger.channelInfo('station', 2)!;
    expect([ev.localMsat, ev.remoteMsat, ev.lockedMsat]).toEqual([100_000, 0, 0]);
    expect([st.localMsat, st.remoteMsat, st.lockedMsat]).toEqual([1000, 0, 0]);
    expect(h.ledger.extraMetrics().feesMsat).toBe(0);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('a station channel runs dry: later payments fail with the documented reason', () => {
    const h = harness({ chain: NO_CHAIN, msatPerCurrencyUnit: 1000, evChannelUnits: 1000, stationChannelUnits: 3, rebalance: 'none' });
    for (let k = 0; k < 6; k++) h.pay(10 + 10 * k, 1, 2, 1);
    h.run(200);
    const st = [...h.txs].map((t) => h.settled.get(t.id)!);
    expect(st.map((s) => s.status)).toEqual(['final', 'final', 'final', 'failed', 'failed', 'failed']);
    for (const s of st.slice(3)) expect(s.reason).toBe('insufficient liquidity at hop 1');
    expect(h.ledger.channelInfo('station', 2)!.localMsat).toBe(0);
    expect(h.ledger.extraMetrics().failedLiquidity).toBe(3);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('an EV channel runs dry at hop 0 (fails at once, no message to the hub)', () => {
    const h = harness({ chain: NO_CHAIN, msatPerCurrencyUnit: 1000, evChannelUnits: 2.5, stationChannelUnits: 100, rebalance: 'none', feeBaseMsat: 0 });
    for (let k = 0; k < 3; k++) h.pay(10 + 10 * k, 1, 2, 1);
    h.run(100);
    const s = h.settled.get(2)!;
    expect(s.status).toBe('failed');
    expect(s.reason).toBe('insufficient liquidity at hop 0');
    expect(s.at).toBeCloseTo(30.09, 6); // at the EV, on receipt of the invoice
  });

  it('top-up restores service once the chain confirms the splice', () => {
    const h = harness({
      chain: { backend: 'pow', params: { blockIntervalS: 60 } },
      fundingConfirmations: 1,
      msatPerCurrencyUnit: 1000,
      evChannelUnits: 1000,
      stationChannelUnits: 5,
      rebalance: 'topup',
      topupThreshold: 0.2,
    });
    for (let k = 0; k < 300; k++) h.pay(10 + 10 * k, 1 + (k % 3), 2, 1);
    h.run(3100);
    const st = h.ledger.channelInfo('station', 2)!;
    const done = st.topups.filter((r) => !Number.isNaN(r.finalAt));
    expect(done.length).toBeGreaterThanOrEqual(3);
    const fails = h.order.filter((s) => s.status === 'failed');
    expect(fails.length).toBeGreaterThan(0);
    for (const f of fails) {
      expect(f.reason).toBe('insufficient liquidity at hop 1');
      // every failure falls while a top-up waits for the chain (1 s slack for the message legs)
      expect(st.topups.some((r) => f.at >= r.submittedAt && (Number.isNaN(r.finalAt) || f.at <= r.finalAt + 1))).toBe(true);
    }
    // after each confirmed top-up the next payment succeeds again
    for (const r of done) {
      const next = h.order.filter((s) => s.tx.submittedAt > r.finalAt + 1).sort((a, b) => a.tx.id - b.tx.id)[0];
      if (next) expect(next.status).toBe('final');
    }
    const m = h.ledger.extraMetrics();
    expect(m.succeeded).toBeGreaterThan(5 * done.length);
    expect(m.topups).toBe(done.length);
    expect(m.onChainTxs).toBe(4 + st.topups.length); // 3 EV channels + 1 station channel + splices
    expect(h.ledger.audit()).toEqual([]);
  });
});

describe('hub outages', () => {
  it('payments fail during the window only; an HTLC in flight waits for the hub', () => {
    const h = harness({ chain: NO_CHAIN, hubOutages: [{ fromS: 1000, toS: 2000 }] });
    for (let k = 0; k < 60; k++) h.pay(25 + 50 * k, 1, 2, 0.5);
    h.pay(999.8, 1, 2, 0.5); // sent at 999.89, reaches the hub at 1000.10 (down): continues at 2000
    h.run(4000);
    for (const tx of h.txs) {
      const s = h.settled.get(tx.id)!;
      if (tx.submittedAt === 999.8) {
        expect(s.status).toBe('final');
        expect(s.at).toBeGreaterThanOrEqual(2000);
        expect(s.at).toBeCloseTo(2000 + 0.21 + 0.07 + 0.07, 6); // add to station, fulfil to hub, to EV
        continue;
      }
      const inWindow = tx.submittedAt >= 1000 && tx.submittedAt < 2000;
      expect(s.status).toBe(inWindow ? 'failed' : 'final');
      if (inWindow) expect(s.reason).toBe('hub unavailable');
    }
    expect(h.ledger.extraMetrics().failedHubOutage).toBe(20);
    expect(h.ledger.audit()).toEqual([]);
  });
});

describe('channel opening on the underlying chain', () => {
  it('the first payment waits for both fundings to be final; later ones are off-chain fast', () => {
    const h = harness({ chain: { backend: 'pow', params: { blockIntervalS: 30 } }, fundingConfirmations: 2 });
    expect((h.ledger.chain as PowLedger).confirmations).toBe(2);
    h.pay(10, 1, 2, 3);
    h.pay(3000, 1, 2, 3);
    h.run(4000);
    const ev = h.ledger.channelInfo('ev', 1)!;
    const st = h.ledger.channelInfo('station', 2)!;
    const s0 = h.settled.get(0)!;
    const s1 = h.settled.get(1)!;
    expect(s0.status).toBe('final');
    expect(s0.confirmations).toBe(0);
    // handshake (2 round trips) before the funding tx; the chain's finality; channel_ready
    expect(ev.fundingSubmittedAt).toBeCloseTo(10 + 4 * 0.07, 6);
    const chainFinality = Math.max(ev.fundingFinalAt - ev.fundingSubmittedAt, st.fundingFinalAt - st.fundingSubmittedAt);
    expect(chainFinality).toBeGreaterThan(0);
    expect(s0.at - 10).toBeGreaterThanOrEqual(chainFinality);
    expect(s0.at).toBeGreaterThan(Math.max(ev.readyAt, st.readyAt));
    expect(s1.status).toBe('final');
    expect(s1.at - 3000).toBeCloseTo(0.09 + 0.21 + 0.21 + 0.07 + 0.07, 6);
    const m = h.ledger.extraMetrics();
    expect(m.channelsOpened).toBe(2);
    expect(m.chainBlocks).toBeGreaterThan(0);
    expect(m.meanHops).toBe(2);
    h.ledger.finish();
    expect(h.ledger.extraMetrics().onChainTxs).toBe(4); // 2 fundings + 2 closings
    expect(h.ledger.extraMetrics().channelsClosed).toBe(2);
  });

  it('works on qbft and central chains too', () => {
    for (const chain of [{ backend: 'qbft' as const, params: { blockPeriodS: 2 } }, { backend: 'central' as const }]) {
      const h = harness({ chain });
      for (let k = 0; k < 20; k++) h.pay(10 + 7 * k, k % 4, 2 + (k % 3), 1);
      h.run(1000);
      expect(h.settled.size).toBe(20);
      expect([...h.settled.values()].every((s) => s.status === 'final')).toBe(true);
      expect(h.ledger.audit()).toEqual([]);
    }
  });
});

describe('streaming sessions', () => {
  it('one HTLC per minute; the closing payment settles after the session`s last one', () => {
    const h = harness({ chain: NO_CHAIN });
    for (let m = 0; m < 5; m++) h.pay(60 + 60 * m, 1, 2, 0.3, { sessionId: 9 });
    h.pay(300, 1, 2, 0, { sessionId: 9, closing: true }); // same instant as the 5th payment
    h.pay(100, 3, 2, 0.3, { sessionId: 10 });
    h.pay(500, 3, 2, 0, { sessionId: 10, closing: true }); // long after: at once
    h.run(1000);
    const session = h.txs.filter((t) => t.sessionId === 9 && !t.closing).map((t) => h.settled.get(t.id)!);
    const closing = h.settled.get(h.txs.find((t) => t.sessionId === 9 && t.closing)!.id)!;
    expect(closing.status).toBe('final');
    expect(closing.at).toBe(Math.max(...session.map((s) => s.at)));
    expect(closing.at).toBeGreaterThan(300);
    const c2 = h.settled.get(h.txs.find((t) => t.sessionId === 10 && t.closing)!.id)!;
    expect(c2.at).toBe(500);
    const m = h.ledger.extraMetrics();
    expect(m.payments).toBe(6);
    expect(m.closings).toBe(2);
  });
});

describe('audit and determinism', () => {
  function mixed(seed: number): Harness {
    const h = harness(
      {
        chain: { backend: 'pow', params: { blockIntervalS: 60 } },
        fundingConfirmations: 1,
        msatPerCurrencyUnit: 1000,
        evChannelUnits: 20,
        stationChannelUnits: 15,
        balanceModel: 'uniform',
        hubOutages: [{ fromS: 2000, toS: 2300 }],
      },
      seed,
    );
    for (let k = 0; k < 200; k++) h.pay(5 + 20 * k, k % 7, 100 + (k % 3), 1 + (k % 4));
    h.run(5000);
    return h;
  }

  it('is clean on a run with successes and failures, and names a tampered preimage / HTLC', () => {
    const h = mixed(3);
    const m = h.ledger.extraMetrics();
    expect(m.succeeded).toBeGreaterThan(20);
    expect(m.failed).toBeGreaterThan(0);
    expect(h.ledger.audit()).toEqual([]);
    let i = 0;
    while (h.ledger.htlc(i).status !== 'succeeded') i++;
    const rec = h.ledger.htlc(i);
    flip(rec.preimage, 5, 1);
    expect(h.ledger.audit()).toEqual([`payment ${i} (tx ${rec.txId}): settled HTLC's preimage does not hash to its payment hash`]);
    flip(rec.preimage, 5, 1);
    expect(h.ledger.audit()).toEqual([]);
    rec.amountMsat += 1000;
    const problems = h.ledger.audit();
    expect(problems.some((p) => p.startsWith(`channel ${rec.evChannel} (ev `) && p.includes('recomputed from the payment log'))).toBe(true);
    expect(problems.some((p) => p.startsWith(`channel ${rec.stationChannel} (station `))).toBe(true);
    rec.amountMsat -= 1000;
    rec.feeMsat += 1;
    expect(h.ledger.audit().some((p) => p.startsWith(`payment ${i} (tx ${rec.txId}): fee`))).toBe(true);
    rec.feeMsat -= 1;
    expect(h.ledger.audit()).toEqual([]);
    // the chain's audit, prefixed
    const blk = (h.ledger.chain as PowLedger).mainChain()[1]!;
    flip(blk.header, 68, 1);
    expect(h.ledger.audit().some((p) => /^chain: block 1 .*header hash mismatch/.test(p))).toBe(true);
  });

  it('same seed, same settlements and metrics', () => {
    const key = (h: Harness) => JSON.stringify({ s: h.order.map((s) => [s.tx.id, s.status, s.at, s.reason ?? '']), m: h.ledger.extraMetrics() });
    expect(key(mixed(11))).toBe(key(mixed(11)));
    expect(key(mixed(11))).not.toBe(key(mixed(12)));
  });
});
