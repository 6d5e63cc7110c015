/**
 * The `flash` backend (src/ledger/backends/flash.ts): Flash payment channels over a chain.
 *
 * Expected times are computed exactly: the network is static, so a state's round trip is
 *   RTT = sign + gw(req) + link(gEv→gSt, req) + gw(req) + verify + sign + gw(rep) + link(gSt→gEv, rep) + gw(rep) + verify
 * evaluated on a twin network of the same configuration (so the counters of the real one are not
 * disturbed). Chain settlement times are taken from what the chain reported (chainSettlement).
 */
import { describe, expect, it } from 'vitest';
import { createFlashLedger, FlashParamsSchema, STATE_REPLY_BYTES, STATE_REQUEST_BYTES, type FlashLedger, type FlashParamsInput } from '../../src/ledger/backends/flash.js';
import type { CentralLedger } from '../../src/ledger/backends/central.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';

const NET: NetworkConfig = {
  nodes: 4,
  latency: { dist: 'fixed', meanMs: 20 },
  bandwidthMbps: 100,
  topology: { type: 'full' },
  gatewayLatencyMs: 10,
};
const SIGN = 50e-6;
const VERIFY = 120e-6;

interface Harness {
  kernel: Kernel;
  ledger: FlashLedger;
  settlements: Map<number, Settlement>;
  txs: LedgerTx[];
  /** submit a payment at time t (amount, energy), or the session's closing payment */
  pay(t: number, session: number, ev: number, station: number, amount: number, energyKWh?: number): void;
  close(t: number, session: number, ev: number, station: number): void;
  rtt(ev: number, station: number): number;
}

function harness(seed: number, params: FlashParamsInput): Harness {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(NET, streams.stream('network'));
  const twin = new Network(NET, new Streams(seed).stream('network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: SIGN, verifyCostS: VERIFY, seed });
  const settlements = new Map<number, Settlement>();
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/flash/${name}`),
    network,
    codec,
    settle: (s) => {
      if (settlements.has(s.tx.id)) throw new Error(`tx ${s.tx.id} settled twice`);
      if (!(s.at >= kernel.now)) throw new Error(`tx ${s.tx.id} settled in the past (${s.at} < ${kernel.now})`);
      settlements.set(s.tx.id, s);
    },
  };
  const ledger = createFlashLedger(ctx, params);
  const txs: LedgerTx[] = [];
  const submit = (t: number, session: number, ev: number, station: number, amount: number, energyKWh: number, closing: boolean) =>
    kernel.at(t, PRIORITY.TICK, () => {
      const tx: LedgerTx = { id: txs.length, kind: 'payment', sessionId: session, ev, station, energyKWh, amount, powerKW: 0, soc: 0.5, submittedAt: kernel.now, ...(closing ? { closing: true } : {}) };
      txs.push(tx);
      ledger.submit(tx);
    });
  return {
    kernel,
    ledger,
    settlements,
    txs,
    pay: (t, session, ev, station, amount, energyKWh = amount / 0.3) => submit(t, session, ev, station, amount, energyKWh, false),
    close: (t, session, ev, station) => submit(t, session, ev, station, 0, 0, true),
    rtt(ev, station) {
      const a = twin.gatewayOf(ev);
      const b = twin.gatewayOf(station);
      return (
        SIGN + twin.gatewayS(STATE_REQUEST_BYTES) + twin.transferS(a, b, STATE_REQUEST_BYTES) + twin.gatewayS(STATE_REQUEST_BYTES) + VERIFY +
        SIGN + twin.gatewayS(STATE_REPLY_BYTES) + twin.transferS(b, a, STATE_REPLY_BYTES) + twin.gatewayS(STATE_REPLY_BYTES) + VERIFY
      );
    },
  };
}

/** sessions of `minutes` per-minute payments each, then the closing payment */
function sessions(h: Harness, n: number, minutes: number, amount = 0.15): void {
  for (let s = 0; s < n; s++) {
    const t0 = 100 * s;
    for (let m = 1; m <= minutes; m++) h.pay(t0 + 60 * m, s, 10 + s, 3 + 2 * s, amount);
    h.close(t0 + 60 * minutes + 1, s, 10 + s, 3 + 2 * s);
  }
}

const latency = (h: Harness, tx: LedgerTx) => h.settlements.get(tx.id)!.at - tx.submittedAt;

describe('flash: parameters', () => {
  it('defaults: the default chain is the tangle, deposit 2 × 10, equal station deposit, top-up', () => {
    const p = FlashParamsSchema.parse({});
    expect(p.chain.backend).toBe('tangle');
    expect(p.depositCurrency).toBeNull();
    expect(p.depositMultiple * p.expectedSessionCost).toBe(20);
    expect(p.stationDepositFactor).toBe(1);
    expect(p.onExhausted).toBe('top-up');
    const c = FlashParamsSchema.parse({ chain: { backend: 'central' } });
    expect(c.chain.backend === 'central' && c.chain.params.serviceRateTps).toBe(2000);
    expect(() => FlashParamsSchema.parse({ chain: { backend: 'central', params: { nope: 1 } } })).toThrow();
    expect(() => FlashParamsSchema.parse({ deposit: 3 })).toThrow();
    expect(FlashParamsSchema.parse({ chain: { backend: 'qbft' } }).chain.backend).toBe('qbft');
    expect(() => FlashParamsSchema.parse({ chain: { backend: 'lightning' } })).toThrow(/Expected 'none' \| 'central' \| 'pow' \| 'qbft' \| 'tangle'/);
    expect(() => FlashParamsSchema.parse({ chain: { backend: 'flash' } })).toThrow();
  });
});

describe('flash: channels over an instant chain (none)', () => {
  it('only opening and closing touch the chain; every payment is final after one round trip', () => {
    const h = harness(1, { chain: { backend: 'none' } });
    sessions(h, 3, 10);
    h.kernel.run();
    expect(h.ledger.streaming).toBe(true);
    expect(h.settlements.size).toBe(h.txs.length);
    const chainTxs = h.ledger.chainTransactions;
    expect(chainTxs.length).toBe(6);
    for (let s = 0; s < 3; s++) expect(chainTxs.filter((t) => t.sessionId === s).length).toBe(2);
    for (const tx of h.txs) {
      const st = h.settlements.get(tx.id)!;
      expect(st.status).toBe('final');
      expect(st.confirmations).toBe(0);
      // instant opening and closing: payment and closing latency are the round trip exactly
      expect(latency(h, tx)).toBeCloseTo(h.rtt(tx.ev, tx.station), 12);
    }
    const m = h.ledger.extraMetrics();
    expect(m.channels).toBe(3);
    expect(m.channelsClosed).toBe(3);
    expect(m.offLedgerPayments).toBe(30);
    expect(m.onLedgerTxs).toBe(6);
    expect(m.ledgerTxsSaved).toBe(24);
    expect(m.channelStates).toBe(33); // 10 payments + 1 closing state per session
    expect(m.failedPayments).toBe(0);
    const rtts = h.txs.map((tx) => h.rtt(tx.ev, tx.station));
    expect(m.meanOffLedgerLatencyS).toBeCloseTo(rtts.filter((_, i) => !h.txs[i]!.closing).reduce((a, b) => a + b, 0) / 30, 12);
    expect(m.messages).toBeGreaterThan(0);
    // close tx = the channel's final state
    const ch = h.ledger.channel(1);
    expect(ch.closeTx!.amount).toBeCloseTo(1.5, 12);
    expect(ch.closeTx!.energyKWh).toBeCloseTo(5, 12);
    expect(ch.openTx.amount).toBe(40); // EV 20 + station 20
    expect(h.ledger.audit()).toEqual([]);
  });

  it('a closing payment without any payment settles at once; payments after the close fail', () => {
    const h = harness(2, { chain: { backend: 'none' } });
    h.close(5, 7, 1, 2);
    h.pay(10, 8, 1, 2, 0.1);
    h.close(20, 8, 1, 2);
    h.pay(30, 8, 1, 2, 0.1);
    h.kernel.run();
    expect(h.settlements.get(0)!).toMatchObject({ status: 'final', at: 5 });
    expect(h.settlements.get(3)!).toMatchObject({ status: 'failed', reason: 'channel closed' });
    const m = h.ledger.extraMetrics();
    expect(m.emptySessions).toBe(1);
    expect(m.onLedgerTxs).toBe(2);
  });
});

describe('flash: channels over a realistic chain (central)', () => {
  it('payments before the channel is open wait for it, then go one round trip at a time; closing settles with the chain', () => {
    const h = harness(3, { chain: { backend: 'central', params: { serviceTime: 'deterministic' } } });
    const ev = 5;
    const st = 2;
    // 4 payments in quick succession (the open tx takes ~0.1 s on the chain), then per-minute ones
    for (let k = 0; k < 4; k++) h.pay(1 + 0.001 * k, 0, ev, st, 0.2);
    for (let m = 1; m <= 5; m++) h.pay(1 + 60 * m, 0, ev, st, 0.2);
    h.close(400, 0, ev, st);
    h.kernel.run();
    const rtt = h.rtt(ev, st);
    const ch = h.ledger.channel(0);
    const open = h.ledger.chainSettlement(ch.openTx.id)!;
    expect(open.status).toBe('final');
    expect(open.at - ch.openTx.submittedAt).toBeGreaterThan(0.05); // a real chain delay
    expect(ch.openFinalAt).toBe(open.at);
    // queued payments: sequential states after the opening
    for (let k = 0; k < 4; k++) {
      const s = h.settlements.get(k)!;
      expect(s.status).toBe('final');
      expect(s.at).toBeCloseTo(open.at + (k + 1) * rtt, 12);
    }
    // later payments: the channel is open and idle, latency = one round trip
    for (let k = 4; k < 9; k++) expect(latency(h, h.txs[k]!)).toBeCloseTo(rtt, 12);
    // closing: final state round trip, then the settlement tx; settles when the chain says so
    const close = h.ledger.chainSettlement(ch.closeTx!.id)!;
    const closing = h.settlements.get(9)!;
    expect(closing.status).toBe('final');
    expect(ch.closeTx!.submittedAt).toBeCloseTo(400 + rtt, 12);
    expect(closing.at).toBe(close.at);
    expect(closing.confirmations).toBe(close.confirmations);
    expect(closing.confirmations).toBe(1);
    expect(closing.at - 400).toBeGreaterThan(rtt + 0.05);
    expect(ch.closeTx!.amount).toBeCloseTo(9 * 0.2, 12);
    const m = h.ledger.extraMetrics();
    expect(m.onLedgerTxs).toBe(2);
    expect(m.paymentsWaited).toBe(4);
    expect(m.chainServed).toBe(2); // the chain's own figures, prefixed
    expect(m.chainLogEntries).toBe(2);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('a failed opening fails every payment of the session, the closing one included', () => {
    const h = harness(9, { chain: { backend: 'central', params: { outages: [{ fromS: 0, toS: 1000 }], maxRetries: 0, requestTimeoutS: 1 } } });
    h.pay(10, 0, 1, 2, 0.1);
    h.pay(10.5, 0, 1, 2, 0.1);
    h.pay(70, 0, 1, 2, 0.1);
    h.close(80, 0, 1, 2);
    h.kernel.run();
    const open = h.ledger.chainSettlement(0)!;
    expect(open.status).toBe('failed');
    for (let i = 0; i < 4; i++) {
      const s = h.settlements.get(i)!;
      expect(s.status).toBe('failed');
      expect(s.reason).toBe(`channel open failed: ${open.reason}`);
      expect(s.at).toBeCloseTo(Math.max(open.at, h.txs[i]!.submittedAt), 12);
    }
    expect(h.ledger.extraMetrics().onLedgerTxs).toBe(1);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('many sessions: 2 on-ledger txs per session, everything settles, audit clean', () => {
    const h = harness(4, { chain: { backend: 'central' } });
    sessions(h, 40, 30, 0.2);
    h.kernel.run();
    expect(h.settlements.size).toBe(h.txs.length);
    expect([...h.settlements.values()].every((s) => s.status === 'final')).toBe(true);
    const m = h.ledger.extraMetrics();
    expect(m.onLedgerTxs).toBe(80);
    expect(m.chainServed).toBe(80);
    expect(m.offLedgerPayments).toBe(1200);
    expect(m.ledgerTxsSaved).toBe(1120);
    expect(h.ledger.audit()).toEqual([]);
  });
});

describe('flash: deposit exhaustion', () => {
  it("onExhausted 'fail': payments beyond the deposit fail with 'deposit exhausted'", () => {
    const h = harness(5, { chain: { backend: 'none' }, depositCurrency: 1, onExhausted: 'fail' });
    for (let m = 1; m <= 5; m++) h.pay(60 * m, 0, 1, 2, 0.4);
    h.pay(360, 0, 1, 2, 0.15);
    h.close(400, 0, 1, 2);
    h.kernel.run();
    const st = [0, 1, 2, 3, 4, 5, 6].map((i) => h.settlements.get(i)!);
    expect(st.map((s) => s.status)).toEqual(['final', 'final', 'failed', 'failed', 'failed', 'final', 'final']);
    expect(st[2]!.reason).toBe('deposit exhausted');
    const ch = h.ledger.channel(0);
    expect(ch.closeTx!.amount).toBeCloseTo(0.95, 12);
    const m = h.ledger.extraMetrics();
    expect(m.failedPayments).toBe(3);
    expect(m.onLedgerTxs).toBe(2);
    expect(h.ledger.audit()).toEqual([]);
  });

  it("onExhausted 'top-up': a top-up tx on the chain, the payment waits for it and then settles", () => {
    const h = harness(6, { chain: { backend: 'central' }, depositCurrency: 1 });
    for (let m = 1; m <= 3; m++) h.pay(60 * m, 0, 1, 2, 0.4); // third one exceeds the deposit
    h.pay(240, 0, 1, 2, 5); // shortfall 4.2 > the base deposit: top-up = the shortfall
    h.close(300, 0, 1, 2);
    h.kernel.run();
    expect([...h.settlements.values()].every((s) => s.status === 'final')).toBe(true);
    const ch = h.ledger.channel(0);
    expect(ch.topUps.length).toBe(2);
    expect(ch.topUps[0]!.amount).toBe(1); // max(deposit 1, shortfall 0.2)
    expect(ch.topUps[1]!.amount).toBeCloseTo(5 - (2 - 1.2), 12); // shortfall
    const up = h.ledger.chainSettlement(ch.topUps[0]!.id)!;
    expect(h.settlements.get(2)!.at).toBeCloseTo(up.at + h.rtt(1, 2), 12);
    expect(up.at).toBeGreaterThan(120 + 0.05);
    expect(ch.evDeposit).toBeCloseTo(1 + 1 + 4.2, 12);
    expect(ch.closeTx!.amount).toBeCloseTo(6.2, 12);
    const m = h.ledger.extraMetrics();
    expect(m.onLedgerTxs).toBe(4); // open + 2 top-ups + close
    expect(m.topUps).toBe(2);
    expect(h.ledger.audit()).toEqual([]);
  });
});

describe('flash: audit', () => {
  it('names a tampered state, a forged signature and a broken chain entry', () => {
    const h = harness(7, { chain: { backend: 'central' } });
    sessions(h, 2, 6);
    h.kernel.run();
    expect(h.ledger.audit()).toEqual([]);
    const states = h.ledger.channel(1).states;
    const v = h.ledger.state(states[3]!);
    expect(v.counter).toBe(3);
    v.evBalance += 0.5; // the EV pretends to have paid less
    let a = h.ledger.audit();
    expect(a).toContain('channel 1 (session 1) state 3: bad EV signature');
    expect(a).toContain('channel 1 (session 1) state 3: bad station signature');
    expect(a.some((l) => l.startsWith('channel 1 (session 1) state 3: balances not conserved'))).toBe(true);
    expect(a.some((l) => l.startsWith('channel 1 (session 1) state 4: payer balance'))).toBe(false);
    v.evBalance -= 0.5;
    expect(h.ledger.audit()).toEqual([]);
    // forged station signature on the closing state
    const last = h.ledger.state(states[states.length - 1]!);
    expect(last.closing).toBe(true);
    last.stationSignature[0]! ^= 1;
    a = h.ledger.audit();
    expect(a).toEqual(['channel 1 (session 1) state 6: bad station signature']);
    last.stationSignature[0]! ^= 1;
    // a re-signed but inconsistent final state: the close tx no longer matches it
    last.stationBalance += 0.1;
    a = h.ledger.audit();
    expect(a.some((l) => l.startsWith('channel 1 (session 1): close tx') && l.includes('does not match the last state 6'))).toBe(true);
    last.stationBalance -= 0.1;
    // the chain's own audit, prefixed
    const chain = h.ledger.chain as CentralLedger;
    chain.entry(0).signature[5]! ^= 1;
    expect(h.ledger.audit()).toEqual(['chain: entry 0 (tx 0): bad signature']);
  });
});

describe('flash: determinism', () => {
  function randomRun(seed: number) {
    const h = harness(seed, { chain: { backend: 'central' }, depositCurrency: 3 });
    const rng = new Streams(seed).stream('test-sessions');
    for (let s = 0; s < 60; s++) {
      const t0 = rng.uniform(0, 3600);
      const ev = rng.int(200);
      const st = rng.int(30);
      const minutes = 1 + rng.int(40);
      for (let m = 1; m <= minutes; m++) h.pay(t0 + 60 * m, s, ev, st, rng.uniform(0, 0.2));
      h.close(t0 + 60 * minutes + 1, s, ev, st);
    }
    h.kernel.run();
    return { h, out: JSON.stringify({ s: [...h.settlements.values()].sort((a, b) => a.tx.id - b.tx.id).map((s) => [s.tx.id, s.status, s.at, s.confirmations]), m: h.ledger.extraMetrics() }) };
  }
  it('same seed → same settlements and metrics; another seed differs', () => {
    const a = randomRun(11);
    const b = randomRun(11);
    expect(a.out).toBe(b.out);
    expect(randomRun(12).out).not.toBe(a.out);
    expect(a.h.settlements.size).toBe(a.h.txs.length);
    const m = a.h.ledger.extraMetrics();
    expect(m.onLedgerTxs).toBe(2 * 60 + m.topUps!);
    expect(a.h.ledger.audit()).toEqual([]);
  });
});

describe('flash: other chains', () => {
  it('runs over the billing proof-of-work chain', () => {
    const h = harness(8, { chain: { backend: 'pow', params: { variant: 'billing', blockIntervalS: 15 } } });
    sessions(h, 3, 5);
    h.kernel.run(3600);
    expect(h.settlements.size).toBe(h.txs.length);
    expect([...h.settlements.values()].every((s) => s.status === 'final')).toBe(true);
    const m = h.ledger.extraMetrics();
    expect(m.onLedgerTxs).toBe(6);
    expect(m.chainBlocks).toBeGreaterThan(0);
    expect(h.ledger.audit()).toEqual([]);
  });
});
