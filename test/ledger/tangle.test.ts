/**
 * The `tangle` backend (src/ledger/backends/tangle.ts).
 *
 * Tip count under uniform random tip selection (URTS), k = 2: Popov's stationary mean L0 = 2λh
 * (white paper v1.4.3 §3; confirmed by Kusmierz et al.'s simulations). Poisson arrivals at rate λ,
 * no PoW time, a common visibility delay h (so h is exactly Popov's delay), λh from 5 to 40. The
 * tip count is sampled every h/2 after a warm-up of 50h over 2000h; the samples are autocorrelated
 * (correlation time ~h), so the standard error is estimated from 20 batch means. Measured (seed 7,
 * (λ, h) = (5, 1), (10, 1), (4, 5), (20, 2)): L/2λh = 1.050, 1.023, 1.015, 1.004 with SE 1.2 %,
 * 1.2 %, 0.6 %, 0.55 % of 2λh; with seed 1 and 3000h: 10.11/10, 19.95/20, 40.18/40. The deviations
 * (≤ +0.6 tips) do not grow with λh: an O(1) correction to the heuristic formula at finite λh.
 * Tolerance: 5 SE + 0.5 tips.
 *
 * Other properties: milestone confirmation (latency between PoW + delay and a milestone interval
 * plus the adaptation time, growing with the interval) and cumulative-weight confirmation (faster,
 * growing with the threshold w); lazy txs are confirmed under URTS but left behind under MCMC, more
 * so at larger α; injected double spends are detected and never both confirmed, the losers fail
 * with 'double spend'; determinism; audit clean on honest runs and naming altered records.
 * No timing assertions: the 1,000,000-tx measurement is bench/ledger-tangle.ts.
 */
import { describe, expect, it } from 'vitest';
import { createTangleLedger, TangleParamsSchema, type TangleLedger, type TangleParamsInput } from '../../src/ledger/backends/tangle.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Streams } from '../../src/core/random.js';

function net(nodes = 4, over: Partial<NetworkConfig> = {}): NetworkConfig {
  return { nodes, latency: { dist: 'fixed', meanMs: 50 }, bandwidthMbps: 1e6, topology: { type: 'full' }, gatewayLatencyMs: 0, ...over };
}

interface Harness {
  kernel: Kernel;
  ledger: TangleLedger;
  settled: Map<number, Settlement>;
  txs: LedgerTx[];
  /** mean of tipCount sampled every `every` seconds from `from` on (and batch means' SE) */
  tipSamples: number[];
  run(until: number): void;
}

function harness(seed: number, params: TangleParamsInput, opts: { rate: number; until: number; sampleFrom?: number; sampleEvery?: number; nodes?: number }): Harness {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(net(opts.nodes ?? 4), streams.stream('network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: 0, seed });
  const settled = new Map<number, Settlement>();
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/tangle/${name}`),
    network,
    codec,
    settle: (s) => {
      if (settled.has(s.tx.id)) throw new Error(`tx ${s.tx.id} settled twice`);
      if (!(s.at >= kernel.now)) throw new Error(`tx ${s.tx.id} settled in the past`);
      settled.set(s.tx.id, s);
    },
  };
  const ledger = createTangleLedger(ctx, params);
  const txs: LedgerTx[] = [];
  const load = streams.stream('test-load');
  const kSubmit = kernel.register('test-submit', () => {
    const tx: LedgerTx = { id: txs.length, kind: 'payment', sessionId: txs.length, ev: load.int(1000), station: load.int(50), energyKWh: 10, amount: 3, powerKW: 0, soc: NaN, submittedAt: kernel.now };
    txs.push(tx);
    ledger.submit(tx);
    const next = kernel.now + load.exp(1 / opts.rate);
    if (next < opts.until) kernel.schedule(next, PRIORITY.TRIP, kSubmit);
  });
  kernel.schedule(load.exp(1 / opts.rate), PRIORITY.TRIP, kSubmit);
  const tipSamples: number[] = [];
  if (opts.sampleEvery !== undefined) {
    const every = opts.sampleEvery;
    const kS = kernel.register('test-sample', () => {
      tipSamples.push(ledger.tipCount);
      if (kernel.now + every < opts.until) kernel.schedule(kernel.now + every, PRIORITY.TICK, kS);
    });
    kernel.schedule(opts.sampleFrom ?? 0, PRIORITY.TICK, kS);
  }
  return { kernel, ledger, settled, txs, tipSamples, run: (u) => void kernel.run(u) };
}

function mean(a: number[]): number {
  return a.reduce((s, x) => s + x, 0) / a.length;
}
/** standard error of the mean from `b` batch means (samples are autocorrelated) */
function batchSE(a: number[], b = 20): number {
  const m = Math.floor(a.length / b);
  const means: number[] = [];
  for (let i = 0; i < b; i++) means.push(mean(a.slice(i * m, (i + 1) * m)));
  const mu = mean(means);
  const v = means.reduce((s, x) => s + (x - mu) ** 2, 0) / (b - 1);
  return Math.sqrt(v / b);
}

const NO_POW = { difficultyBits: 0, deviceHashRate: 1e12, dist: 'fixed' } as const;

const h0 = (extra: TangleParamsInput = {}): TangleParamsInput => ({ tipSelection: 'mcmc', ...extra });

describe('tangle: tip count under uniform random tip selection', () => {
  it('mean tips ≈ 2λh (Popov) for several (λ, h), k = 2', () => {
    for (const [lam, h] of [
      [5, 1],
      [10, 1],
      [4, 5],
      [20, 2],
    ] as const) {
      const T = 2050 * h;
      const hs = harness(7, { tipSelection: 'uniform', visibilityDelayS: h, pow: NO_POW, confirmation: 'cumulative-weight' }, { rate: lam, until: T, sampleFrom: 50 * h, sampleEvery: h / 2 });
      hs.run(T);
      const L = mean(hs.tipSamples);
      const se = batchSE(hs.tipSamples);
      const L0 = 2 * lam * h;
      expect(Math.abs(L - L0), `λ=${lam} h=${h}: L=${L.toFixed(2)} vs ${L0} (SE ${se.toFixed(3)})`).toBeLessThanOrEqual(5 * se + 0.5);
      // the time average of the backend agrees with the sampled mean
      expect(hs.ledger.extraMetrics().meanTips).toBeGreaterThan(0.9 * L0);
      expect(hs.ledger.audit()).toEqual([]);
    }
  });

  it('h = PoW time + visibility delay (fixed PoW of 1 s plus 1 s delay behaves like h = 2 s)', () => {
    const lam = 5;
    const T = 4100;
    const hs = harness(3, { tipSelection: 'uniform', visibilityDelayS: 1, pow: { difficultyBits: 20, deviceHashRate: 2 ** 20, dist: 'fixed' } }, { rate: lam, until: T, sampleFrom: 100, sampleEvery: 1 });
    hs.run(T);
    const L = mean(hs.tipSamples);
    expect(Math.abs(L - 20)).toBeLessThanOrEqual(Math.max(5 * batchSE(hs.tipSamples), 0.8));
    expect(hs.ledger.extraMetrics().powMeanS).toBeCloseTo(1, 9);
  });
});

describe('tangle: confirmation', () => {
  it('milestones confirm every tx they reference; latency grows with the interval', () => {
    const lat: number[] = [];
    for (const M of [30, 120]) {
      const hs = harness(11, h0({ confirmation: 'milestone', milestoneIntervalS: M, pow: { dist: 'fixed' } }), { rate: 3, until: 3000 });
      hs.run(3000 + 3 * M);
      const m = hs.ledger.extraMetrics();
      expect(m.milestones).toBeGreaterThanOrEqual(Math.floor(3000 / M));
      const fin = [...hs.settled.values()].filter((s) => s.status === 'final');
      expect(fin.length / hs.txs.length).toBeGreaterThan(0.99);
      const l = fin.map((s) => s.at - s.tx.submittedAt);
      const mu = mean(l);
      // at least PoW (1 s) + delay; on average about half an interval plus the adaptation time
      expect(Math.min(...l)).toBeGreaterThan(1);
      expect(mu).toBeGreaterThan(M / 2);
      expect(mu).toBeLessThan(M / 2 + 30);
      // every confirmed vertex is in a milestone's past cone: audit checks confirmed parents
      expect(hs.ledger.audit()).toEqual([]);
      lat.push(mu);
    }
    expect(lat[1]! - lat[0]!).toBeGreaterThan(30);
  });

  it('cumulative weight: final at weight w; latency grows with w and is shorter than milestones', () => {
    const lat: number[] = [];
    for (const w of [5, 30]) {
      const hs = harness(12, h0({ confirmation: 'cumulative-weight', confirmationWeight: w }), { rate: 3, until: 2000 });
      hs.run(2300);
      const fin = [...hs.settled.values()].filter((s) => s.status === 'final');
      expect(fin.length / hs.txs.length).toBeGreaterThan(0.98);
      for (const s of fin.slice(0, 50)) expect(s.confirmations).toBe(w);
      expect(hs.ledger.extraMetrics().milestones).toBe(0);
      expect(hs.ledger.audit()).toEqual([]);
      lat.push(mean(fin.map((s) => s.at - s.tx.submittedAt)));
    }
    // w − 1 approvers arrive at ≈ λ per second after the first approval
    expect(lat[0]!).toBeGreaterThan(1);
    expect(lat[1]! - lat[0]!).toBeGreaterThan(25 / 3 / 2);
    expect(lat[1]!).toBeLessThan(30);
  });
});

describe('tangle: faults', () => {
  it('lazy txs: approved under uniform selection, left behind under MCMC, more at larger α', () => {
    const frac = (sel: TangleParamsInput) => {
      const hs = harness(21, { ...sel, lazyTips: { fraction: 0.05, ageS: 30 } }, { rate: 4, until: 2500 });
      hs.run(2500);
      const m = hs.ledger.extraMetrics();
      expect(m.lazyTips).toBeGreaterThan(200);
      return { lazyLeft: m.lazyLeftBehind! / m.lazyTips!, left: m.leftBehind!, tips: m.meanTips! };
    };
    const uni = frac({ tipSelection: 'uniform' });
    const lo = frac({ tipSelection: 'mcmc', mcmc: { alpha: 0.001 } });
    const hi = frac({ tipSelection: 'mcmc', mcmc: { alpha: 0.5 } });
    expect(uni.lazyLeft).toBeLessThan(0.05);
    expect(lo.lazyLeft).toBeGreaterThan(0.5);
    expect(hi.lazyLeft).toBeGreaterThanOrEqual(lo.lazyLeft);
    expect(hi.lazyLeft).toBeGreaterThan(uni.lazyLeft + 0.5);
    // a large α also orphans more honest txs and keeps more tips (Kusmierz et al. 2019)
    expect(hi.left).toBeGreaterThan(lo.left);
    expect(hi.tips).toBeGreaterThan(lo.tips);
  });

  for (const [label, params] of [
    ['uniform, milestones', { tipSelection: 'uniform' }],
    ['mcmc, milestones', { tipSelection: 'mcmc' }],
    ['mcmc, cumulative weight, twin 2 s later', { tipSelection: 'mcmc', confirmation: 'cumulative-weight', doubleSpend: { fraction: 0.1, delayS: 2 } }],
  ] as const) {
    it(`double spends are detected and never both confirmed (${label})`, () => {
      const hs = harness(31, { doubleSpend: { fraction: 0.1 }, ...params } as TangleParamsInput, { rate: 4, until: 1500 });
      hs.run(1800);
      const l = hs.ledger;
      const m = l.extraMetrics();
      expect(m.doubleSpendsIssued).toBeGreaterThan(300);
      expect(m.doubleSpendsDetected).toBeGreaterThan(0.9 * m.doubleSpendsIssued!);
      expect(m.invariantViolations).toBe(0);
      const d = l.dag;
      let resolved = 0;
      for (const c of l.conflicts) {
        expect(d.confirmed[c.original]! + d.confirmed[c.twin]!).toBeLessThanOrEqual(1);
        if (c.state !== 0) {
          resolved++;
          // the loser is invalid and never confirmed
          const loser = c.state === 1 ? c.twin : c.original;
          expect(d.invalid[loser]).toBe(1);
          expect(d.confirmed[loser]).toBe(0);
        }
      }
      expect(resolved).toBe(m.doubleSpendsDetected);
      const failed = [...hs.settled.values()].filter((s) => s.status === 'failed');
      expect(failed.length).toBe(m.doubleSpendsOriginalFailed);
      for (const s of failed) expect(s.reason).toBe('double spend');
      // honest txs caught in a loser's cone were re-attached and still settle
      expect(hs.settled.size / hs.txs.length).toBeGreaterThan(0.97);
      expect(l.audit()).toEqual([]);
    });
  }
});

describe('tangle: determinism, audit, parameters', () => {
  const run = (seed: number) => {
    const hs = harness(seed, h0({ doubleSpend: { fraction: 0.05 }, lazyTips: { fraction: 0.05 } }), { rate: 5, until: 600 });
    hs.run(700);
    return { hs, sig: JSON.stringify([...hs.settled.values()].map((s) => [s.tx.id, s.status, s.at, s.confirmations])), m: hs.ledger.extraMetrics() };
  };

  it('same seed → same settlements and metrics; another seed differs', () => {
    const a = run(5);
    const b = run(5);
    const c = run(6);
    expect(a.sig).toBe(b.sig);
    expect(a.m).toEqual(b.m);
    expect(a.sig).not.toBe(c.sig);
  });

  it('audit is clean on an honest run and names an altered body, signature, hash link and milestone', () => {
    const hs = harness(8, h0({ realPow: { enabled: true, bits: 6 } }), { rate: 3, until: 400 });
    hs.run(450);
    const l = hs.ledger;
    expect(l.audit()).toEqual([]);
    expect(l.wallClockStats().powHashes).toBeGreaterThan(l.dag.count);
    const d = l.dag;
    const v = l.verticesOf(17)[0]!;
    d.bodies[v * 58 + 30]! ^= 1; // the amount of tx 17
    let a = l.audit();
    expect(a.some((x) => x.startsWith(`tx 17 (vertex ${v}): txid mismatch`))).toBe(true);
    expect(a.some((x) => x.startsWith(`tx 17 (vertex ${v}): bad signature`))).toBe(true);
    d.bodies[v * 58 + 30]! ^= 1;
    expect(l.audit()).toEqual([]);
    const w = l.verticesOf(40)[0]!;
    d.sigs[w * 64]! ^= 0xff;
    expect(l.audit()).toEqual([`tx 40 (vertex ${w}): bad signature`]);
    d.sigs[w * 64]! ^= 0xff;
    // re-linking a vertex to another parent breaks its bundle hash (and the PoW over it)
    const u = l.verticesOf(60)[0]!;
    const old = d.parents[u * 2 + 1]!;
    d.parents[u * 2 + 1] = d.parents[u * 2 + 1]! - 1;
    a = l.audit();
    expect(a).toContain(`tx 60 (vertex ${u}): bundle hash mismatch (broken hash link)`);
    d.parents[u * 2 + 1] = old;
    const ms = d.milestones[2]!;
    d.milestoneSigs[2]![0]! ^= 1;
    expect(l.audit()).toEqual([`milestone 2 (vertex ${ms}): bad coordinator signature`]);
    d.milestoneSigs[2]![0]! ^= 1;
    // a stored bundle hash altered: its own link and its approvers' links break
    d.bundles[u * 32]! ^= 1;
    a = l.audit();
    expect(a.some((x) => x.startsWith(`tx 60 (vertex ${u}): bundle hash mismatch`))).toBe(true);
    expect(a.length).toBeGreaterThan(1);
  });

  it('parameters: defaults and validation', () => {
    const p = TangleParamsSchema.parse({});
    expect(p.k).toBe(2);
    expect(p.tipSelection).toBe('mcmc');
    expect(p.mcmc.alpha).toBe(0.001);
    expect(p.confirmation).toBe('milestone');
    expect(p.milestoneIntervalS).toBe(60);
    expect(p.pow.difficultyBits).toBe(22);
    expect(2 ** p.pow.difficultyBits / p.pow.deviceHashRate).toBe(1);
    expect(() => TangleParamsSchema.parse({ bogus: 1 })).toThrow();
    expect(() => TangleParamsSchema.parse({ doubleSpend: { fraction: 2 } })).toThrow();
    // the default visibility delay is the network's mean gossip delay (50 ms links, full mesh)
    const hs = harness(1, {}, { rate: 1, until: 10 });
    expect(hs.ledger.visibilityDelayS).toBeCloseTo(0.05, 3);
    expect(hs.ledger.extraMetrics().messages).toBe(0);
  });

  it('k = 3 works (general k) and keeps 3 parents per vertex', () => {
    const hs = harness(9, { k: 3, tipSelection: 'uniform', visibilityDelayS: 2, pow: NO_POW, confirmation: 'cumulative-weight' }, { rate: 5, until: 1000, sampleFrom: 100, sampleEvery: 1 });
    hs.run(1000);
    // kλh/(k−1) = 15
    expect(Math.abs(mean(hs.tipSamples) - 15)).toBeLessThan(1.5);
    expect(hs.ledger.audit()).toEqual([]);
  });
});
