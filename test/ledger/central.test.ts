/**
 * The `central` backend (src/ledger/backends/central.ts) against queueing theory and its own rules.
 *
 * Queueing checks. Poisson submissions (rate λ) reach the server through a static network, so the
 * arrivals at the server are Poisson too (each agent's stream is shifted by a constant delay; the
 * superposition of independent shifted Poisson streams is Poisson). The settlement latency of a
 * transaction is then its fixed round trip (computed exactly with a twin network of the same
 * configuration) plus its sojourn at the server, whose mean is
 *   M/M/1: W = 1/(μ − λ)                                          (Kleinrock 1975, §3.2)
 *   M/D/1: W = 1/μ + ρ/(2μ(1 − ρ)), ρ = λ/μ  (Pollaczek–Khinchine, Kleinrock 1975, §5.6)
 * Tolerance: R independent replications (different seeds); the replication means are i.i.d., so
 * SE = sd/√R is an honest error bar despite the strong autocorrelation of sojourn times within one
 * run (at ρ = 0.75 the M/M/1 relaxation time 1/(μ(1−√ρ)²) ≈ 28 ms ≈ 42 arrivals). We require
 * |mean − W| < 4·SE (false alarm ≈ 6e-5 under a normal approximation) and SE < 3 % of W (so that
 * the check has teeth). Each replication discards its first 500 transactions (start-up from empty).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CentralLedger, createCentralLedger, ACK_BYTES, type CentralParamsInput } from '../../src/ledger/backends/central.js';
import { LedgerPort, schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { TxCodec, SIGNED_TX_BYTES } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';
import { flip } from './bytes.js';

const NET: NetworkConfig = {
  nodes: 4,
  latency: { dist: 'fixed', meanMs: 20 },
  bandwidthMbps: 100,
  topology: { type: 'full' },
  gatewayLatencyMs: 10,
};

interface Harness {
  kernel: Kernel;
  ledger: CentralLedger;
  settlements: Map<number, Settlement>;
  network: Network;
  codec: TxCodec;
  /** submit a tx now */
  submit(ev: number): LedgerTx;
  /** exact fixed round trip (request + acknowledgement) of an agent, from a twin network */
  roundTrip(ev: number): number;
}

function harness(seed: number, params: CentralParamsInput, opts: { net?: NetworkConfig; mode?: 'real' | 'modeled'; signCostS?: number } = {}): Harness {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const cfg = opts.net ?? NET;
  const network = new Network(cfg, streams.stream('network'));
  const twin = new Network(cfg, new Streams(seed).stream('network'));
  const codec = new TxCodec({ mode: opts.mode ?? 'modeled', signCostS: opts.signCostS ?? 0, verifyCostS: 0, seed });
  const settlements = new Map<number, Settlement>();
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/central/${name}`),
    network,
    codec,
    settle: (s) => {
      if (settlements.has(s.tx.id)) throw new Error(`tx ${s.tx.id} settled twice`);
      if (!(s.at >= kernel.now)) throw new Error(`tx ${s.tx.id} settled in the past`);
      settlements.set(s.tx.id, s);
    },
  };
  const ledger = createCentralLedger(ctx, params);
  let nextId = 0;
  const server = ledger.params.serverNode;
  return {
    kernel,
    ledger,
    settlements,
    network,
    codec,
    submit(ev) {
      const tx: LedgerTx = { id: nextId++, kind: 'charge', sessionId: ev, ev, station: ev % 7, energyKWh: 0.1, amount: 0, powerKW: 11, soc: 0.5, submittedAt: kernel.now };
      ledger.submit(tx);
      return tx;
    },
    roundTrip(ev) {
      const g = twin.gatewayOf(ev);
      return twin.gatewayS(SIGNED_TX_BYTES) + twin.transferS(g, server, SIGNED_TX_BYTES) + twin.transferS(server, g, ACK_BYTES) + twin.gatewayS(ACK_BYTES);
    },
  };
}

/** Poisson submissions at rate λ from 1000 agents, n in all; runs the kernel to the end. */
function poissonRun(h: Harness, seed: number, lambda: number, n: number): LedgerTx[] {
  const rng = new Streams(seed).stream('test-arrivals');
  const txs: LedgerTx[] = [];
  const kind = h.kernel.register('test-submit', () => {
    txs.push(h.submit(rng.int(1000)));
    if (txs.length < n) h.kernel.schedule(h.kernel.now + rng.exp(1 / lambda), PRIORITY.TRIP, kind);
  });
  h.kernel.schedule(rng.exp(1 / lambda), PRIORITY.TRIP, kind);
  h.kernel.run();
  return txs;
}

function replicate(params: CentralParamsInput, lambda: number, n: number, R: number) {
  const means: number[] = [];
  const utils: number[] = [];
  const waits: number[] = [];
  for (let r = 0; r < R; r++) {
    const seed = 1000 + r;
    const h = harness(seed, params);
    const txs = poissonRun(h, seed, lambda, n);
    let sum = 0;
    let k = 0;
    for (const tx of txs) {
      if (tx.id < 500) continue;
      const s = h.settlements.get(tx.id)!;
      expect(s.status).toBe('final');
      sum += s.at - tx.submittedAt - h.roundTrip(tx.ev);
      k++;
    }
    means.push(sum / k);
    if (r === 0) {
      // the log's own times tell the same story: latency = round trip + (commit − arrival at the server)
      for (let i = 0; i < 2000; i++) {
        const e = h.ledger.entry(i);
        const s = h.settlements.get(e.tx.id)!;
        expect(s.at - e.tx.submittedAt).toBeCloseTo(h.roundTrip(e.tx.ev) + e.committedAt - e.arrivedAt, 9);
      }
    }
    const m = h.ledger.extraMetrics();
    expect(m.served).toBe(n);
    utils.push(m.utilization!);
    waits.push(m.meanQueueWaitS!);
  }
  const stat = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    return { mean, se: sd / Math.sqrt(xs.length) };
  };
  return { latency: stat(means), util: stat(utils), wait: stat(waits) };
}

describe('central: the server against queueing theory', () => {
  const mu = 2000;
  const lambda = 1500;
  const rho = lambda / mu;

  it('M/M/1: mean sojourn = 1/(μ−λ) on top of the fixed round trip', () => {
    const W = 1 / (mu - lambda); // 2 ms
    const { latency, util, wait } = replicate({ serviceRateTps: mu, serviceTime: 'exponential' }, lambda, 25_000, 8);
    console.log(`M/M/1 ρ=${rho}: W theory ${(W * 1e3).toFixed(4)} ms, latency−RTT ${(latency.mean * 1e3).toFixed(4)} ± ${(latency.se * 1e3).toFixed(4)} ms, utilization ${util.mean.toFixed(4)}, Wq ${(wait.mean * 1e3).toFixed(4)} ms (theory ${((rho / (mu - lambda)) * 1e3).toFixed(4)})`);
    expect(latency.se).toBeLessThan(0.03 * W);
    expect(Math.abs(latency.mean - W)).toBeLessThan(4 * latency.se);
    // utilization → ρ, mean wait in queue → Wq = ρ/(μ−λ)
    expect(Math.abs(util.mean - rho)).toBeLessThan(4 * util.se + 0.002);
    expect(Math.abs(wait.mean - rho / (mu - lambda))).toBeLessThan(4 * wait.se);
  });

  it('M/D/1: mean sojourn follows Pollaczek–Khinchine', () => {
    const W = 1 / mu + rho / (2 * mu * (1 - rho)); // 1.25 ms
    const { latency } = replicate({ serviceRateTps: mu, serviceTime: 'deterministic' }, lambda, 25_000, 8);
    console.log(`M/D/1 ρ=${rho}: W theory ${(W * 1e3).toFixed(4)} ms, latency−RTT ${(latency.mean * 1e3).toFixed(4)} ± ${(latency.se * 1e3).toFixed(4)} ms`);
    expect(latency.se).toBeLessThan(0.03 * W);
    expect(Math.abs(latency.mean - W)).toBeLessThan(4 * latency.se);
    // and it is clearly below the M/M/1 figure (2 ms)
    expect(latency.mean).toBeLessThan(0.8 / (mu - lambda));
  });

  it('an idle server answers after exactly the round trip + one service (+ the signing cost)', () => {
    const h = harness(3, { serviceRateTps: 100, serviceTime: 'deterministic' }, { signCostS: 50e-6 });
    for (let ev = 0; ev < 8; ev++) h.kernel.at(ev * 10, PRIORITY.TRIP, () => void h.submit(ev));
    h.kernel.run();
    for (const s of h.settlements.values()) {
      expect(s.status).toBe('final');
      expect(s.confirmations).toBe(1);
      expect(s.at - s.tx.submittedAt).toBeCloseTo(50e-6 + h.roundTrip(s.tx.ev) + 0.01, 12);
    }
    // agents on the server's own gateway skip the gateway → server hop
    expect(h.roundTrip(0)).toBeLessThan(h.roundTrip(1));
  });
});

describe('central: outages and retries', () => {
  const T = 5;
  const R = 10;

  /** one tx every 1.01 s from t = 50 on, agents 0..200 (1.01, not 1: retries of different txs
   * would otherwise reach the server at the very same instant and queue behind each other) */
  function steady(h: Harness): LedgerTx[] {
    const txs: LedgerTx[] = [];
    for (let i = 0; i <= 200; i++) h.kernel.at(50 + 1.01 * i, PRIORITY.TRIP, () => void txs.push(h.submit(i)));
    h.kernel.run();
    return txs;
  }

  it('requests sent during an outage are retried and settle after it; latency = the exact retry schedule', () => {
    const h = harness(5, { serviceRateTps: 2000, serviceTime: 'deterministic', outages: [{ fromS: 100, toS: 200 }], requestTimeoutS: T, retryIntervalS: R });
    const txs = steady(h);
    let hit = 0;
    let resends = 0;
    for (const tx of txs) {
      const s = h.settlements.get(tx.id)!;
      expect(s.status).toBe('final');
      const rt = h.roundTrip(tx.ev);
      const a0 = tx.submittedAt + (h.roundTrip(tx.ev) - downTrip(h, tx.ev));
      let expected: number;
      if (a0 >= 100 && a0 < 200) {
        const m = Math.ceil((200 - a0) / (T + R));
        resends += m;
        hit++;
        expected = tx.submittedAt + m * (T + R) + rt + 1 / 2000;
        expect(s.at).toBeGreaterThan(200);
      } else {
        expected = tx.submittedAt + rt + 1 / 2000;
      }
      expect(s.at).toBeCloseTo(expected, 9);
    }
    expect(hit).toBe(99); // submitted at 100.5, 101.51, …, 199.48
    const m = h.ledger.extraMetrics();
    expect(m.dropped).toBe(resends);
    expect(m.retries).toBe(resends);
    expect(m.timeouts).toBe(resends);
    expect(m.outageSeconds).toBe(100);
    expect(m.failed).toBe(0);
    expect(m.served).toBe(201);
    expect(h.ledger.audit()).toEqual([]);
  });

  it('with few retries, requests that cannot outlast the outage fail with reason timeout', () => {
    const maxRetries = 2;
    const h = harness(5, { serviceRateTps: 2000, outages: [{ fromS: 100, toS: 200 }], requestTimeoutS: T, retryIntervalS: R, maxRetries });
    const txs = steady(h);
    let failed = 0;
    for (const tx of txs) {
      const s = h.settlements.get(tx.id)!;
      const a0 = tx.submittedAt + (h.roundTrip(tx.ev) - downTrip(h, tx.ev));
      // the last attempt reaches the server at a0 + maxRetries·(T+R)
      if (a0 >= 100 && a0 + maxRetries * (T + R) < 200) {
        failed++;
        expect(s.status).toBe('failed');
        expect(s.reason).toBe('timeout');
        expect(s.at).toBeCloseTo(tx.submittedAt + maxRetries * (T + R) + T, 9);
      } else {
        expect(s.status).toBe('final');
      }
    }
    expect(failed).toBe(69); // submitted in [100, 170)
    expect(h.ledger.extraMetrics().failed).toBe(69);
    expect(h.ledger.logLength).toBe(201 - 69);
  });

  it('requests queued when the outage starts are served after it, once, even though their clients resend', () => {
    const run = (maxRetries: number) => {
      const h = harness(9, { serviceRateTps: 2000, serviceTime: 'deterministic', outages: [{ fromS: 100, toS: 200 }], requestTimeoutS: T, retryIntervalS: R, maxRetries });
      const txs: LedgerTx[] = [];
      // all on the server's gateway: arrive together at 99.9 + 10 ms; 0.5 s of work for 1000
      h.kernel.at(99.9, PRIORITY.TRIP, () => {
        for (let i = 0; i < 1000; i++) txs.push(h.submit(4 * i));
      });
      h.kernel.run();
      return { h, txs };
    };
    const { h, txs } = run(30);
    const a = 99.9 + (h.roundTrip(0) - downTrip(h, 0)); // arrival of the burst at the server
    const entries = h.ledger.entries;
    const beforeOutage = entries.filter((e) => e.committedAt <= 100).length;
    expect(beforeOutage).toBe(Math.floor((100 - a) * 2000)); // 179
    // the request in service at 100 is frozen and finishes its remaining work after 200
    const after = entries.slice(beforeOutage);
    expect(after[0]!.committedAt).toBeCloseTo(a + (beforeOutage + 1) / 2000 + 100, 9);
    expect(after.at(-1)!.committedAt).toBeCloseTo(a + 1000 / 2000 + 100, 9);
    for (const tx of txs) expect(h.settlements.get(tx.id)!.status).toBe('final');
    const late = txs.filter((tx) => h.settlements.get(tx.id)!.at > 200);
    expect(late.length).toBe(1000 - beforeOutage);
    const m = h.ledger.extraMetrics();
    // each queued client timed out at 104.9, 119.9, …, 194.9 (7 timeouts) and resent at 114.9,
    // 129.9, …, 189.9 (6 resends, all lost in the outage); the ack (≈ 200.5) arrives before the
    // resend due at 204.9
    expect(m.timeouts).toBe(7 * late.length);
    expect(m.retries).toBe(6 * late.length);
    expect(m.dropped).toBe(6 * late.length);
    expect(m.duplicates).toBe(0);
    expect(m.lateCommits).toBe(0);
    expect(h.ledger.logLength).toBe(1000);
    expect(h.ledger.audit()).toEqual([]);

    // a client that gives up first: the tx fails ('timeout') at its give-up instant, yet is in the log once
    const r2 = run(3);
    const failed = r2.txs.filter((tx) => r2.h.settlements.get(tx.id)!.status === 'failed');
    expect(failed.length).toBe(1000 - beforeOutage);
    for (const tx of failed) {
      const s = r2.h.settlements.get(tx.id)!;
      expect(s.reason).toBe('timeout');
      expect(s.at).toBeCloseTo(99.9 + 3 * (T + R) + T, 9);
    }
    const m2 = r2.h.ledger.extraMetrics();
    expect(m2.lateCommits).toBe(failed.length);
    expect(m2.failed).toBe(failed.length);
    expect(r2.h.ledger.logLength).toBe(1000);
    expect(r2.h.settlements.size).toBe(1000);
    expect(r2.h.ledger.audit()).toEqual([]);
  });

  it('resends that reach the server while the request is still queued are recognised as duplicates', () => {
    // overload: 4000 requests at once, 100 tx/s → the queue lasts 40 s, far beyond the 5 s timeout
    const h = harness(2, { serviceRateTps: 100, serviceTime: 'deterministic', requestTimeoutS: T, retryIntervalS: R, maxRetries: 30 });
    const txs: LedgerTx[] = [];
    h.kernel.at(0, PRIORITY.TRIP, () => {
      for (let i = 0; i < 4000; i++) txs.push(h.submit(4 * i));
    });
    h.kernel.run();
    const m = h.ledger.extraMetrics();
    expect(h.settlements.size).toBe(4000);
    // from each ack time A (sent at 0): attempts time out at 5, 20, 35, … while A is later, and the
    // client resends at 15, 30, … while A is later still; every resend finds its tx held (no outage)
    let timeouts = 0;
    let resends = 0;
    for (const tx of txs) {
      const s = h.settlements.get(tx.id)!;
      expect(s.status).toBe('final');
      for (let j = 0; s.at > j * (T + R) + T; j++) timeouts++;
      for (let j = 1; s.at > j * (T + R); j++) resends++;
    }
    expect(m.timeouts).toBe(timeouts);
    expect(m.retries).toBe(resends);
    expect(m.duplicates).toBe(resends);
    expect(resends).toBeGreaterThan(3400); // ≈ 2500 acks after 15 s + 1000 after 30 s
    expect(m.served).toBe(4000);
    expect(h.ledger.logLength).toBe(4000);
    expect(h.ledger.audit()).toEqual([]);
    // the last request waits 40 s; its client resent at 15 and 30 — settlement still at its first ack
    const last = h.settlements.get(3999)!;
    expect(last.at).toBeCloseTo(40 + h.roundTrip(4 * 3999), 6);
    expect(m.maxQueueLength).toBe(3999);
  });
});

function downTrip(h: Harness, ev: number): number {
  // the acknowledgement's share of the round trip, from a fresh twin of the network
  const twin = new Network(NET, new Streams(0).stream('x'));
  const g = twin.gatewayOf(ev);
  return twin.transferS(h.ledger.params.serverNode, g, ACK_BYTES) + twin.gatewayS(ACK_BYTES);
}

describe('central: queue capacity', () => {
  it('a full waiting room rejects; rejected clients retry after the retry interval', () => {
    const h = harness(4, { serviceRateTps: 10, serviceTime: 'deterministic', queueCapacity: 5, retryIntervalS: 10 });
    const txs: LedgerTx[] = [];
    h.kernel.at(0, PRIORITY.TRIP, () => {
      for (let i = 0; i < 20; i++) txs.push(h.submit(4 * i)); // same gateway: simultaneous arrivals
    });
    h.kernel.run();
    const m = h.ledger.extraMetrics();
    // rounds of 1 in service + 5 waiting: 20 → 14 → 8 → 2 rejected
    expect(m.rejected).toBe(14 + 8 + 2);
    expect(m.retries).toBe(14 + 8 + 2);
    expect(m.maxQueueLength).toBe(5);
    expect(m.served).toBe(20);
    for (const tx of txs) expect(h.settlements.get(tx.id)!.status).toBe('final');
    // the 7th request was rejected once: it settles one rejection + retry interval later
    const rt = h.roundTrip(0);
    expect(h.settlements.get(6)!.at).toBeCloseTo(rt + 10 + rt + 0.1, 9);
  });

  it('with no retries left a rejected request fails with reason rejected; capacity 0 is a loss system', () => {
    const h = harness(4, { serviceRateTps: 10, serviceTime: 'deterministic', queueCapacity: 0, maxRetries: 0 });
    h.kernel.at(0, PRIORITY.TRIP, () => {
      for (let i = 0; i < 5; i++) h.submit(4 * i);
    });
    h.kernel.run();
    const statuses = [...h.settlements.values()].map((s) => `${s.status}:${s.reason ?? ''}`);
    expect(statuses.sort()).toEqual(['failed:rejected', 'failed:rejected', 'failed:rejected', 'failed:rejected', 'final:']);
    expect(h.ledger.extraMetrics().maxQueueLength).toBe(0);
  });
});

describe('central: determinism and integrity', () => {
  const params: CentralParamsInput = { serviceRateTps: 500, outages: [{ fromS: 5, toS: 12 }], queueCapacity: 200, requestTimeoutS: 2, retryIntervalS: 3 };

  function run(seed: number) {
    const h = harness(seed, params);
    poissonRun(h, seed, 450, 20_000);
    const out = [...h.settlements.values()].sort((a, b) => a.tx.id - b.tx.id).map((s) => [s.tx.id, s.status, s.at, s.reason ?? '']);
    return { h, out };
  }

  it('same seed → same settlements, log and metrics; another seed differs', () => {
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(a.out).toEqual(b.out);
    expect(a.h.ledger.headHash).toBe(b.h.ledger.headHash);
    expect(a.h.ledger.extraMetrics()).toEqual(b.h.ledger.extraMetrics());
    expect(a.out).not.toEqual(c.out);
    const m = a.h.ledger.extraMetrics();
    expect(m.dropped).toBeGreaterThan(0);
    expect(m.messages).toBeGreaterThan(0);
    expect(m.bytesStored).toBe(a.h.ledger.logLength * (SIGNED_TX_BYTES + 32));
  });

  it('audit: clean on an honest run, and names the altered entry', () => {
    const { h } = run(11);
    const L = h.ledger;
    expect(L.audit()).toEqual([]);
    expect(L.logLength).toBeGreaterThan(1500);
    // a changed amount in the stored body
    const e = L.entry(1234);
    flip(e.body, 26, 0x01);
    expect(L.audit()).toEqual([`entry 1234 (tx ${e.tx.id}): bad signature`]);
    flip(e.body, 26, 0x01);
    expect(L.audit()).toEqual([]);
    // a forged signature
    flip(L.entry(77).signature, 5, 0xff);
    expect(L.audit()).toEqual([`entry 77 (tx ${L.entry(77).tx.id}): bad signature`]);
    flip(L.entry(77).signature, 5, 0xff);
    // a swapped txid: the signature check and the chain both notice, at that entry only
    const f = L.entry(900);
    flip(f.txidBytes, 0, 0x80);
    expect(L.audit()).toEqual([`entry 900 (tx ${f.tx.id}): bad signature`, `entry 900 (tx ${f.tx.id}): hash chain broken`]);
    flip(f.txidBytes, 0, 0x80);
    // a rewritten hash of the last entry: the chain and the published head both notice
    const last = L.logLength - 1;
    flip(L.entry(last).hash, 31, 1);
    expect(L.audit()).toEqual([`entry ${last} (tx ${L.entry(last).tx.id}): hash chain broken`, `log head (entry ${last}): hash does not match the server's published head`]);
    flip(L.entry(last).hash, 31, 1);
    expect(L.audit()).toEqual([]);
  });

  it('audit works with real Ed25519 signatures', () => {
    const h = harness(12, {}, { mode: 'real' });
    poissonRun(h, 12, 100, 500);
    expect(h.ledger.audit()).toEqual([]);
    flip(h.ledger.entry(42).body, 30, 4);
    expect(h.ledger.audit()).toEqual([`entry 42 (tx ${h.ledger.entry(42).tx.id}): bad signature`]);
  });

  it('property: one settlement per tx, one log entry per final tx, clean audit, latency ≥ round trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1e6 }),
          mu: fc.double({ min: 20, max: 500, noNaN: true }),
          load: fc.double({ min: 0.2, max: 2, noNaN: true }),
          det: fc.boolean(),
          cap: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
          outFrom: fc.double({ min: 0, max: 20, noNaN: true }),
          outLen: fc.double({ min: 0.1, max: 30, noNaN: true }),
          T: fc.double({ min: 0.2, max: 5, noNaN: true }),
          R: fc.double({ min: 0, max: 5, noNaN: true }),
          maxRetries: fc.integer({ min: 0, max: 6 }),
        }),
        (p) => {
          const h = harness(p.seed, {
            serviceRateTps: p.mu,
            serviceTime: p.det ? 'deterministic' : 'exponential',
            queueCapacity: p.cap,
            outages: [{ fromS: p.outFrom, toS: p.outFrom + p.outLen }],
            requestTimeoutS: p.T,
            retryIntervalS: p.R,
            maxRetries: p.maxRetries,
          });
          const txs = poissonRun(h, p.seed, p.mu * p.load, 400);
          expect(h.settlements.size).toBe(txs.length); // the run drains: everything settles
          let final = 0;
          for (const tx of txs) {
            const s = h.settlements.get(tx.id)!;
            if (s.status === 'final') {
              final++;
              expect(s.at - tx.submittedAt).toBeGreaterThan(h.roundTrip(tx.ev) - 1e-12);
            }
          }
          const m = h.ledger.extraMetrics();
          expect(h.ledger.logLength).toBe(final + m.lateCommits!);
          expect(m.served).toBe(h.ledger.logLength);
          expect(m.utilization).toBeLessThanOrEqual(1 + 1e-9);
          expect(h.ledger.audit()).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('central behind the LedgerPort', () => {
  it('settles through the port; requests stuck in an outage at the horizon stay pending', () => {
    const kernel = new Kernel();
    const streams = new Streams(21);
    const network = new Network(NET, streams.stream('network'));
    const codec = new TxCodec({ mode: 'modeled', signCostS: 50e-6, verifyCostS: 120e-6, seed: 21 });
    const settled: Settlement[] = [];
    const port = new LedgerPort(kernel, {
      role: 'records',
      instance: 'central',
      streams,
      network,
      codec,
      create: (ctx) => createCentralLedger(ctx, { outages: [{ fromS: 50, toS: 500 }] }),
      onSettled: (s) => settled.push(s),
    });
    for (let i = 0; i < 100; i++) kernel.at(i, PRIORITY.TRIP, () => void port.submit('charge', i, i, i % 5, 0.2, 0, 11, 0.4));
    kernel.run(100);
    const sum = port.summary(100);
    expect(sum.backend).toBe('central');
    expect(sum.submitted).toBe(100);
    expect(sum.confirmed).toBe(50); // submitted before the outage
    expect(sum.pending).toBe(50);
    expect(sum.failed).toBe(0);
    expect(settled.every((s) => s.status === 'final' && s.confirmations === 1)).toBe(true);
    expect(sum.latencySeconds.max).toBeLessThan(0.2);
    expect(sum.extra.outageSeconds).toBe(50);
    expect(sum.extra.served).toBe(50);
    expect(sum.extra.dropped).toBeGreaterThan(50);
    expect(port.ledger.audit()).toEqual([]);
  });
});
