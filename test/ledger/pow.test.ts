/**
 * The `pow` backend (src/ledger/backends/pow.ts): Nakamoto consensus and the billing chain of Jeong et
 * al., checked against the analytic results they are built on.
 *
 * Sample sizes: the statistical tests use 20,000 blocks (or 20,000 records) per point. For
 * exponential intervals that gives a relative standard error of the mean of 1/√20000 = 0.7 %, and
 * for a fork probability of 0.1 a binomial standard error of 0.002 — small enough that a model
 * error of the size that matters (using T/2 instead of T, a 20 % error in the fork rate) is far
 * outside the 4-standard-error tolerance, while a correct model fails by chance with probability
 * < 1e-4 per check. Every run is seeded, so the tests are deterministic anyway.
 */
import { describe, expect, it } from 'vitest';
import { createPowLedger, normalCdf, PowParamsSchema, type PowLedger, type PowParamsInput } from '../../src/ledger/backends/pow.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type Settlement, type TxKind } from '../../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../../src/ledger/network.js';
import { sha256, TxCodec } from '../../src/ledger/tx.js';
import { Kernel } from '../../src/core/kernel.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { Rng, Streams } from '../../src/core/random.js';

const T = 600;

/** zero-delay network: fixed 0 ms latency, practically infinite bandwidth, full mesh, no gateway latency */
const zeroNet = (nodes: number): NetworkConfig => ({
  nodes,
  latency: { dist: 'fixed', meanMs: 0 },
  bandwidthMbps: 1e12,
  topology: { type: 'full' },
  gatewayLatencyMs: 0,
});

interface Setup {
  kernel: Kernel;
  ledger: PowLedger;
  settled: Settlement[];
  network: Network;
  codec: TxCodec;
  streams: Streams;
  submit(at: number, kind: TxKind, ev: number, extra?: Partial<LedgerTx>): void;
}

function setup(
  seed: number,
  net: NetworkConfig,
  params: PowParamsInput,
  opts: { signCostS?: number; verifyCostS?: number; rng?: (name: string) => Rng | undefined } = {},
): Setup {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(net, streams.stream('ledger/test/network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: opts.signCostS ?? 0, verifyCostS: opts.verifyCostS ?? 0, seed });
  const settled: Settlement[] = [];
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => opts.rng?.(name) ?? streams.stream(`ledger/test/${name}`),
    network,
    codec,
    settle: (s) => {
      expect(s.at).toBeGreaterThanOrEqual(kernel.now);
      settled.push(s);
    },
  };
  const ledger = createPowLedger(ctx, params);
  let id = 0;
  const submit = (at: number, kind: TxKind, ev: number, extra: Partial<LedgerTx> = {}) => {
    kernel.at(at, PRIORITY.TRIP, () => {
      const tx: LedgerTx = {
        id: id++,
        kind,
        sessionId: ev,
        ev,
        station: 7,
        energyKWh: kind === 'session-start' ? 0 : 1,
        amount: kind === 'payment' ? 0.35 : 0,
        powerKW: 11,
        soc: 0.5,
        ...extra,
        submittedAt: kernel.now,
      };
      ledger.submit(tx);
    });
  };
  return { kernel, ledger, settled, network, codec, streams, submit };
}

/** A stream whose next()/exp() answers follow a script (directed fork scenarios). */
class ScriptRng extends Rng {
  constructor(
    private readonly u: number[],
    private readonly e: number[],
  ) {
    super('script', 'script');
  }
  override next(): number {
    const v = this.u.shift();
    if (v === undefined) throw new Error('script exhausted (next)');
    return v;
  }
  override exp(_mean: number): number {
    return this.e.shift() ?? 1e12;
  }
}

function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(v) };
}

describe('pow: parameters', () => {
  it('has documented defaults and validates shares', () => {
    const p = PowParamsSchema.parse({});
    expect(p).toMatchObject({
      variant: 'nakamoto',
      blockIntervalS: 600,
      miners: 'equal',
      maxBlockBytes: 1_000_000,
      headerBytes: 80,
      mempool: 'fee',
      template: 'continuous',
      realNonce: { enabled: false, difficultyBits: 12 },
      billing: { minHistory: 10, meterErrorSd: 0.002, disputeTolerance: 0.01, disputeAction: 'flag' },
    });
    expect(p.confirmations).toBeUndefined(); // 6 for nakamoto, 1 for billing
    expect(PowParamsSchema.safeParse({ miners: [0.5, 0.4] }).success).toBe(false);
    expect(PowParamsSchema.safeParse({ miners: [0.5, 0.5] }).success).toBe(true);
    expect(PowParamsSchema.safeParse({ unknown: 1 }).success).toBe(false);
    const s = setup(1, zeroNet(3), {});
    expect(s.ledger.confirmations).toBe(6);
    expect(setup(1, zeroNet(3), { variant: 'billing' }).ledger.confirmations).toBe(1);
    expect(() => setup(1, zeroNet(2), { miners: [0.2, 0.3, 0.5] })).toThrow(/3 miner shares/);
  });
});

describe('pow (nakamoto): block discovery', () => {
  it('intervals are exponential with mean T (20,000 blocks, zero delay: no stale blocks)', () => {
    const s = setup(11, zeroNet(10), {});
    s.kernel.run(T * 20_500);
    const blocks = s.ledger.blocks;
    const n = 20_000;
    expect(blocks.length).toBeGreaterThan(n);
    // every block, main chain or stale, in discovery order (here none is stale)
    const iv: number[] = [];
    for (let i = 1; i <= n; i++) iv.push(blocks[i]!.time - blocks[i - 1]!.time);
    const { mean, sd } = meanSd(iv);
    expect(Math.abs(mean - T)).toBeLessThan((4 * T) / Math.sqrt(n)); // SE of the mean = T/√n
    // coefficient of variation of an exponential = 1; SE(sd/mean) ≈ √2/√n for the exponential (kurtosis 9)
    expect(Math.abs(sd / mean - 1)).toBeLessThan((4 * Math.SQRT2) / Math.sqrt(n));
    // Kolmogorov–Smirnov against Exp(T): critical value at α = 0.001 is 1.949/√n
    iv.sort((a, b) => a - b);
    let D = 0;
    for (let i = 0; i < n; i++) {
      const F = 1 - Math.exp(-iv[i]! / T);
      D = Math.max(D, Math.abs(F - i / n), Math.abs((i + 1) / n - F));
    }
    expect(D).toBeLessThan(1.949 / Math.sqrt(n));
    const m = s.ledger.extraMetrics();
    expect(m.staleBlocks).toBe(0);
    expect(m.reorgs).toBe(0);
    expect(Math.abs(m.meanBlockIntervalS! - T)).toBeLessThan((4 * T) / Math.sqrt(n));
  });

  it('the finder is drawn by hash share', () => {
    const shares = [0.5, 0.3, 0.2, 0];
    const s = setup(12, zeroNet(4), { miners: shares });
    s.kernel.run(T * 20_000);
    const blocks = s.ledger.blocks.slice(1);
    const count = [0, 0, 0, 0];
    for (const b of blocks) count[b.miner] = count[b.miner]! + 1;
    const n = blocks.length;
    shares.forEach((p, i) => {
      expect(Math.abs(count[i]! / n - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n));
    });
    expect(count[3]).toBe(0);
  });

  it('fork probability per height ≈ 1 − exp(−τ/T) (Decker & Wattenhofer), τ/T ∈ {0.01, 0.05, 0.1}', () => {
    // Regime of the formula: many miners with small equal shares (here N = 100, 1 % each), every
    // block reaches every other node after exactly τ (full mesh, fixed latency, negligible
    // serialisation). A height forks when another miner finds a block during the τ its sibling
    // spends propagating; the finder itself keeps mining on its own block, so the competing hash
    // rate is (N−1)/N of the total: P(fork) = 1 − exp(−τ(N−1)/(N·T)) (for N = 100 that differs from
    // the plain formula by < 0.001, under one standard error). Stale blocks per main-chain block
    // are instead the expected NUMBER of competitors, ≈ τ(N−1)/(N·T) (checked loosely).
    const N = 100;
    for (const ratio of [0.01, 0.05, 0.1]) {
      const tau = ratio * T;
      const s = setup(20 + ratio * 100, { nodes: N, latency: { dist: 'fixed', meanMs: tau * 1000 }, bandwidthMbps: 1e12, topology: { type: 'full' }, gatewayLatencyMs: 0 }, {});
      s.kernel.run(T * 20_000);
      const m = s.ledger.extraMetrics();
      const main = m.mainChainBlocks!;
      const p = 1 - Math.exp((-tau * (N - 1)) / (N * T));
      const se = Math.sqrt((p * (1 - p)) / main);
      expect(Math.abs(m.forkRate! - p), `τ/T=${ratio}: forkRate ${m.forkRate} vs ${p}`).toBeLessThan(4 * se);
      expect(Math.abs(m.forkRate! - (1 - Math.exp(-ratio)))).toBeLessThan(4 * se + ratio / N);
      expect(m.stalePerMainBlock!).toBeGreaterThanOrEqual(m.forkRate!);
      expect(Math.abs(m.stalePerMainBlock! - (ratio * (N - 1)) / N)).toBeLessThan(6 * Math.sqrt(ratio / main) + 0.15 * ratio * ratio);
      expect(m.staleRate).toBeCloseTo(m.staleBlocks! / m.blocks!, 12);
      expect(s.ledger.audit()).toEqual([]);
    }
  });
});

describe('pow (nakamoto): transactions', () => {
  /**
   * One tx every 20·T at a random phase (so txs are practically independent), zero delays.
   * Continuous templates: the tx waits Exp(T) for the next block (the residual life of a Poisson
   * process is Exp(T), not T/2), then k−1 more blocks: mean k·T (Gamma(k, T), sd √k·T). Per-block
   * templates: the block being mined when the tx arrives was fixed before it, so one more block:
   * mean (k+1)·T — the "(k+1)·T" rule of thumb.
   */
  for (const [k, template, expected] of [
    [1, 'continuous', 1],
    [6, 'continuous', 6],
    [6, 'per-block', 7],
  ] as const) {
    it(`k = ${k}, ${template} templates: final after k confirmations, mean latency ≈ ${expected}·T`, () => {
      const s = setup(30 + k, zeroNet(10), { confirmations: k, template });
      const load = s.streams.stream('test-load');
      const n = 1000;
      for (let i = 0; i < n; i++) s.submit(i * 20 * T + load.uniform(0, T), 'charge', i);
      s.kernel.run(n * 20 * T + 40 * T);
      expect(s.settled.length).toBe(n);
      const main = s.ledger.mainChain();
      const where = new Map<number, number>(); // tx id -> main-chain height
      for (const b of main) for (const t of b.txs) where.set(t.tx.id, b.height);
      const lat: number[] = [];
      for (const st of s.settled) {
        expect(st.status).toBe('final');
        expect(st.confirmations).toBe(k);
        const h = where.get(st.tx.id)!;
        expect(h).toBeGreaterThan(0);
        // zero delays: final exactly when the block at height h+k−1 was found
        expect(st.at).toBeCloseTo(main[h + k - 1]!.time, 6);
        // and that tx had arrived before its block
        expect(main[h]!.time).toBeGreaterThanOrEqual(st.tx.submittedAt);
        lat.push(st.at - st.tx.submittedAt);
      }
      const { mean } = meanSd(lat);
      expect(Math.abs(mean - expected * T), `mean latency ${mean / T}·T`).toBeLessThan((4 * Math.sqrt(expected) * T) / Math.sqrt(n));
    });
  }

  it('respects maxBlockBytes and packs full blocks under backlog', () => {
    const max = 5000; // (5000 − 80 − 1) / 154 = 31 signed txs per block
    const s = setup(40, zeroNet(5), { maxBlockBytes: max });
    for (let i = 0; i < 300; i++) s.submit(1, 'payment', i);
    s.kernel.run(60 * T);
    const main = s.ledger.mainChain().slice(1);
    for (const b of main) {
      expect(b.bytes).toBeLessThanOrEqual(max);
      expect(b.bytes).toBe(80 + 1 + b.txs.reduce((a, t) => a + t.size, 0));
    }
    expect(main[0]!.txs.length).toBe(31);
    expect(main.slice(0, 9).every((b) => b.txs.length === 31)).toBe(true);
    const ids = main.flatMap((b) => b.txs.map((t) => t.tx.id));
    expect(new Set(ids).size).toBe(300);
    expect(ids.length).toBe(300);
    expect(s.ledger.extraMetrics().meanBlockFill).toBeGreaterThan(0);
    // a tx larger than any block fails at once
    const tiny = setup(41, zeroNet(2), { maxBlockBytes: 200 });
    tiny.submit(5, 'charge', 1);
    tiny.kernel.run(10);
    expect(tiny.settled).toHaveLength(1);
    expect(tiny.settled[0]).toMatchObject({ status: 'failed', reason: 'transaction larger than a block' });
  });

  it('orders the template FIFO or by fee', () => {
    const run = (mempool: 'fifo' | 'fee') => {
      const s = setup(42, zeroNet(4), { maxBlockBytes: 5000, mempool });
      // all through gateway 0, so every tx reaches each node at the same instant
      for (let i = 0; i < 200; i++) s.submit(1, 'charge', 4 * i);
      s.kernel.run(T * 3);
      const first = s.ledger.mainChain()[1]!;
      return { s, ids: first.txs.map((t) => t.tx.id) };
    };
    const fifo = run('fifo');
    expect(fifo.ids).toEqual(Array.from({ length: 31 }, (_, i) => i)); // equal arrival: submission order
    const fee = run('fee');
    const byFee = Array.from({ length: 200 }, (_, i) => i).sort((a, b) => fee.s.ledger.feeOf(b) - fee.s.ledger.feeOf(a) || a - b);
    expect(fee.ids).toEqual(byFee.slice(0, 31));
    // fees are drawn (exponential), so the two templates differ
    expect(fee.ids).not.toEqual(fifo.ids);
    const f = fee.ids.map((i) => fee.s.ledger.feeOf(i));
    for (let i = 1; i < f.length; i++) expect(f[i]!).toBeLessThanOrEqual(f[i - 1]!);
  });

  it('FIFO follows arrival at the miner, not submission order', () => {
    // 2 nodes 100 s apart; tx 0 (gateway 1) is submitted first but reaches node 0 after tx 1 (gateway 0)
    const net: NetworkConfig = { nodes: 2, latency: { matrixMs: [[0, 100_000], [100_000, 0]] }, bandwidthMbps: 1e12, topology: { type: 'full' }, gatewayLatencyMs: 0 };
    const mining = new ScriptRng([0.1], [500]);
    const s = setup(43, net, { mempool: 'fifo' }, { rng: (n) => (n === 'mining' ? mining : undefined) });
    s.submit(10, 'charge', 1); // ev 1 → gateway 1 → node 0 at 110
    s.submit(20, 'charge', 0); // ev 0 → gateway 0 → node 0 at 20
    s.kernel.run(501);
    expect(s.ledger.blocks[1]!.miner).toBe(0);
    expect(s.ledger.blocks[1]!.txs.map((t) => t.tx.id)).toEqual([1, 0]);
  });

  it('a fork: the orphaned block’s tx returns to the mempool and is mined on the winning branch', () => {
    // 2 nodes, 100 s apart. Scripted mining (u < 0.5 → node 0):
    //   t=600  node 0 mines A1 on genesis with tx X (submitted at 590 via gateway 0)
    //   t=650  node 1 mines B1 on genesis (A1 reaches it at 700; X reaches it at 690): no X
    //   t=1000 node 1 mines B2 on B1, X (arrived at 690, not in its chain) included
    //   t=1500 node 0 (switched to B1–B2 at 1100) mines B3 on B2
    // A1 is stale; with k = 2 the gateway (node 0) sees X with 2 confirmations at 1500.
    const net: NetworkConfig = { nodes: 2, latency: { matrixMs: [[0, 100_000], [100_000, 0]] }, bandwidthMbps: 1e12, topology: { type: 'full' }, gatewayLatencyMs: 0 };
    const mining = new ScriptRng([0.1, 0.9, 0.9, 0.1], [600, 50, 350, 500]);
    const s = setup(44, net, { confirmations: 2 }, { rng: (n) => (n === 'mining' ? mining : undefined) });
    s.submit(590, 'charge', 0);
    s.kernel.run(2000);
    const b = s.ledger.blocks;
    expect(b.map((x) => [x.height, x.parent, x.miner, x.txs.map((t) => t.tx.id)])).toEqual([
      [0, -1, -1, []],
      [1, 0, 0, [0]],
      [1, 0, 1, []],
      [2, 2, 1, [0]],
      [3, 3, 0, []],
    ]);
    expect(s.ledger.mainChain().map((x) => x.index)).toEqual([0, 2, 3, 4]);
    const m = s.ledger.extraMetrics();
    expect(m).toMatchObject({ blocks: 4, staleBlocks: 1, forks: 1, reorgs: 1, maxReorgDepth: 1, mempoolAtEnd: 0, finalityViolations: 0, txOnChain: 1 });
    expect(s.settled).toHaveLength(1);
    expect(s.settled[0]).toMatchObject({ status: 'final', at: 1500, confirmations: 2 });
    expect(s.ledger.audit()).toEqual([]);
  });

  it('under frequent forks every tx is mined into the main chain once and settles once', () => {
    // 4 nodes, 60 s apart (τ/T = 0.1): forks at ~7 % of heights (competing rate (N−1)/N)
    const net: NetworkConfig = { nodes: 4, latency: { dist: 'fixed', meanMs: 60_000 }, bandwidthMbps: 100, topology: { type: 'full' }, gatewayLatencyMs: 20 };
    const s = setup(45, net, { confirmations: 3 });
    const load = s.streams.stream('test-load');
    const horizon = 3000 * T;
    let t = 0;
    let n = 0;
    while ((t += load.exp(120)) < horizon - 100 * T) s.submit(t, 'charge', n++);
    s.kernel.run(horizon);
    const m = s.ledger.extraMetrics();
    expect(m.reorgs).toBeGreaterThan(20);
    const main = new Set(s.ledger.mainChain().map((b) => b.index));
    const onMain = new Map<number, number>();
    let returned = 0;
    for (const b of s.ledger.blocks) {
      for (const tx of b.txs) if (main.has(b.index)) onMain.set(tx.tx.id, (onMain.get(tx.tx.id) ?? 0) + 1);
    }
    for (const b of s.ledger.blocks) {
      if (main.has(b.index)) continue;
      for (const tx of b.txs) {
        expect(onMain.get(tx.tx.id), `tx ${tx.tx.id} of stale block ${b.index}`).toBe(1);
        returned++;
      }
    }
    expect(returned).toBeGreaterThan(50); // txs of orphaned blocks, re-mined on the main chain
    expect(onMain.size).toBe(n);
    expect([...onMain.values()].every((c) => c === 1)).toBe(true);
    const ids = s.settled.map((x) => x.tx.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(n);
    expect(s.ledger.audit()).toEqual([]);
  });

  it('is deterministic: same seed, same settlements and chain', () => {
    const run = (seed: number) => {
      const s = setup(seed, { nodes: 8, latency: { dist: 'lognormal', meanMs: 2000, sdMs: 1000 }, bandwidthMbps: 1, topology: { type: 'random', degree: 3 }, gatewayLatencyMs: 20 }, { confirmations: 2, blockIntervalS: 60 });
      const load = s.streams.stream('test-load');
      let t = 0;
      let i = 0;
      while ((t += load.exp(5)) < 20_000) s.submit(t, 'charge', i++ % 50);
      s.kernel.run(25_000);
      return {
        settled: s.settled.map((x) => [x.tx.id, x.at, x.status, x.confirmations]),
        hashes: s.ledger.blocks.map((b) => Buffer.from(b.hash).toString('hex')),
        metrics: s.ledger.extraMetrics(),
      };
    };
    const a = run(7);
    const b = run(7);
    expect(b).toEqual(a);
    expect(a.settled.length).toBeGreaterThan(3000);
    expect(run(8).hashes).not.toEqual(a.hashes);
  });
});

describe('pow: audit', () => {
  const loaded = (params: PowParamsInput) => {
    const s = setup(50, { nodes: 5, latency: { dist: 'fixed', meanMs: 30 }, bandwidthMbps: 50, topology: { type: 'full' }, gatewayLatencyMs: 20 }, params);
    for (let i = 0; i < 400; i++) s.submit(i * 37, i % 3 === 0 ? 'session-start' : 'charge', i % 40);
    s.kernel.run(40 * T);
    return s;
  };

  it('is clean on an honest run and names an altered transaction', () => {
    const s = loaded({});
    expect(s.ledger.audit()).toEqual([]);
    const blk = s.ledger.mainChain()[5]!;
    const victim = blk.txs[3]!;
    blk.txs[3] = { ...victim, tx: { ...victim.tx, energyKWh: victim.tx.energyKWh + 10 } };
    const problems = s.ledger.audit();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^tx ${victim.tx.id} \\(block 5 .*\\): bad signature`));
    // a forged body with a matching txid changes the Merkle root
    blk.txs[3] = victim;
    expect(s.ledger.audit()).toEqual([]);
  });

  it('names an altered header (hash mismatch) and the broken link after it', () => {
    const s = loaded({});
    const blk = s.ledger.mainChain()[7]!;
    blk.header[68] = blk.header[68]! ^ 1; // time field
    const problems = s.ledger.audit();
    expect(problems.some((p) => /^block 7 .*header hash mismatch/.test(p))).toBe(true);
    expect(problems.some((p) => /^block 8 .*previous-hash link broken/.test(p))).toBe(true);
    blk.header[68] = blk.header[68]! ^ 1;
    expect(s.ledger.audit()).toEqual([]);
    // a Merkle root that no longer matches the stored transactions
    blk.header[40] = blk.header[40]! ^ 0xff;
    expect(s.ledger.audit().some((p) => /^block 7 .*merkle root mismatch/.test(p))).toBe(true);
  });

  it('checks the real proof of work, which changes nothing but the nonce', () => {
    const plain = loaded({});
    const pow = loaded({ realNonce: { enabled: true, difficultyBits: 8 } });
    expect(pow.ledger.audit()).toEqual([]);
    for (const b of pow.ledger.blocks.slice(1)) expect(b.hash[0]).toBe(0);
    expect(pow.ledger.extraMetrics()).toEqual(plain.ledger.extraMetrics());
    expect(pow.settled.map((x) => [x.tx.id, x.at])).toEqual(plain.settled.map((x) => [x.tx.id, x.at]));
    const w = pow.ledger.wallClock();
    expect(w.nonceHashes).toBeGreaterThan(pow.ledger.blocks.length);
    expect(plain.ledger.wallClock().nonceHashes).toBe(0);
    const b = pow.ledger.blocks[3]!;
    new DataView(b.header.buffer, b.header.byteOffset).setUint32(76, 0xdeadbeef, true);
    b.hash = sha256(sha256(b.header)); // a consistent stored hash cannot hide it
    const problems = pow.ledger.audit();
    expect(problems.some((p) => /^block 3 .*proof of work does not meet the target/.test(p))).toBe(true);
    expect(problems.some((p) => /^block 4 .*previous-hash link broken/.test(p))).toBe(true);
  });
});

describe('pow (billing, Jeong et al.)', () => {
  const billingNet: NetworkConfig = { nodes: 5, latency: { dist: 'fixed', meanMs: 40 }, bandwidthMbps: 10, topology: { type: 'full' }, gatewayLatencyMs: 20 };

  it('makes a block exactly every T with serial numbers and miner signatures; no forks', () => {
    const s = setup(60, billingNet, { variant: 'billing' }, { signCostS: 50e-6, verifyCostS: 120e-6 });
    for (let i = 0; i < 500; i++) s.submit(13 + i * 61, 'charge', i % 23);
    s.kernel.run(100 * T + 1);
    const blocks = s.ledger.blocks;
    expect(blocks.length).toBe(101);
    blocks.forEach((b, i) => {
      expect(b.time).toBe(i * T);
      expect(b.height).toBe(i);
      if (i > 0) {
        expect(b.parent).toBe(i - 1);
        expect(new DataView(b.header.buffer, b.header.byteOffset).getUint32(72, true)).toBe(i);
        expect(b.signature).not.toBeNull();
        expect(s.codec.verifyBytes('node', b.miner, b.header, b.signature!)).toBe(true);
      }
    });
    const m = s.ledger.extraMetrics();
    expect(m).toMatchObject({ staleBlocks: 0, reorgs: 0, lateBlocks: 0, meanBlockIntervalS: T });
    // k = 1: final when the block reaches the gateway, i.e. within T (+ small delays) of submission
    expect(s.settled).toHaveLength(500);
    for (const st of s.settled) {
      expect(st.confirmations).toBe(1);
      expect(st.at - st.tx.submittedAt).toBeLessThan(T + 1);
    }
    expect(s.ledger.audit()).toEqual([]);
    const b = blocks[10]!;
    const sig = b.signature!;
    sig[0] = sig[0]! ^ 1;
    expect(s.ledger.audit()).toEqual([expect.stringMatching(/^block 10 .*bad miner signature/)]);
  });

  it('miner = the node with the longest on-chain relay history (≥ L), round-robin before', () => {
    const L = 10;
    const s = setup(61, billingNet, { variant: 'billing', billing: { minHistory: L } });
    // gateway = ev mod 5: gateways 2 and 4 carry more traffic, 4 most of all from t = 10·T on
    for (let i = 0; i < 40; i++) s.submit(100 + i * 200, 'charge', 2); // 3 per block
    for (let i = 0; i < 8; i++) s.submit(100 + i * 60, 'charge', 1); // 8 in block 1
    for (let i = 0; i < 300; i++) s.submit(10 * T + 1 + i * 30, 'charge', 4);
    s.kernel.run(40 * T + 1);
    const blocks = s.ledger.blocks;
    const hist = [0, 0, 0, 0, 0];
    const miners: number[] = [];
    for (const b of blocks.slice(1)) {
      const top = hist.indexOf(Math.max(...hist));
      const expected = hist[top]! >= L ? top : (b.height - 1) % 5;
      expect(b.miner, `block ${b.height}`).toBe(expected);
      miners.push(b.miner);
      for (const t of b.txs) {
        const g = s.network.gatewayOf(t.tx.ev);
        hist[g] = hist[g]! + 1;
      }
    }
    expect(miners.slice(0, 4)).toEqual([0, 1, 2, 3]); // nobody has L yet: round-robin
    expect(miners[4]).toBe(2); // gateway 2 reached 12 after block 4 (gateway 1 has 8)
    expect(miners[miners.length - 1]).toBe(4); // gateway 4 took over
    expect(s.ledger.extraMetrics().fallbackBlocks).toBe(4);
    expect(s.ledger.audit()).toEqual([]);
  });

  it('counts meter disputes at the analytic rate P(|e1 − e2| > tol·(e1 + e2)/2)', () => {
    const sd = 0.005;
    const tol = 0.01;
    const s = setup(62, billingNet, { variant: 'billing', billing: { meterErrorSd: sd, disputeTolerance: tol } });
    const n = 20_000;
    for (let i = 0; i < n; i++) s.submit(1 + i * 0.5, i % 2 ? 'charge' : 'session-end', i % 97, { energyKWh: 0.2 + (i % 10) });
    s.kernel.run(20 * T);
    const m = s.ledger.extraMetrics();
    expect(m.meteredRecords).toBe(n);
    // e_i = e(1 + sd·Z_i): dispute ⇔ sd·|Z1 − Z2| > tol·(1 + sd·(Z1 + Z2)/2). D = Z1 − Z2 and
    // S = Z1 + Z2 are independent N(0, 2): P = E_S[2(1 − Φ(tol(1 + sd·S/2) / (sd·√2)))].
    let p = 0;
    const steps = 4000;
    for (let k = 0; k <= steps; k++) {
      const x = -8 + (16 * k) / steps; // S = √2·x, x ~ N(0,1)
      const w = (k === 0 || k === steps ? 1 : k % 2 ? 4 : 2) * (16 / steps / 3) * (Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI));
      p += w * 2 * (1 - normalCdf((tol * (1 + (sd * Math.SQRT2 * x) / 2)) / (sd * Math.SQRT2)));
    }
    expect(p).toBeCloseTo(2 * (1 - normalCdf(tol / (sd * Math.SQRT2))), 2); // ≈ 0.157
    expect(Math.abs(m.disputeRate! - p), `disputeRate ${m.disputeRate} vs ${p}`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    expect(m.disputes).toBe(Math.round(m.disputeRate! * n));
    // disputed records still finalise ('flag'), readings are on chain and audited
    expect(s.settled.every((x) => x.status === 'final')).toBe(true);
    expect(s.ledger.audit()).toEqual([]);
    const blk = s.ledger.blocks[3]!;
    const [ev] = s.ledger.readingsOf(blk.txs[0]!.tx.id);
    expect(blk.readings![0]).toBe(ev);
    blk.readings![0] = ev! * 0.9; // tamper with the EV meter reading on chain
    expect(s.ledger.audit()).toEqual([expect.stringMatching(/^block 3 .*merkle root mismatch/)]);
    // 'reject' fails disputed records at once
    const r = setup(62, billingNet, { variant: 'billing', billing: { meterErrorSd: sd, disputeTolerance: tol, disputeAction: 'reject' } });
    for (let i = 0; i < 2000; i++) r.submit(1 + i, 'charge', i % 97);
    r.kernel.run(5 * T);
    const failed = r.settled.filter((x) => x.status === 'failed');
    expect(failed.length).toBe(r.ledger.extraMetrics().disputes);
    expect(failed.every((x) => x.reason === 'meter dispute' && x.at === x.tx.submittedAt)).toBe(true);
  });

  it('mutual authentication delays the session-start record', () => {
    const sign = 50e-6;
    const verify = 120e-6;
    const s = setup(63, billingNet, { variant: 'billing' }, { signCostS: sign, verifyCostS: verify });
    // ev 5 → gateway 0 (= the round-robin miner of block 1); station 7 → gateway 2
    const ser = (b: number) => (b * 8) / 10e6;
    const gw = (b: number) => 0.02 + ser(b);
    const oneWay = gw(128) + 0.04 + ser(128) + gw(128);
    const auth = 2 * sign + 2 * verify + 2 * oneWay;
    const toMiner = sign + gw(154) + verify; // gateway 0 is the miner: no overlay hop
    expect(auth).toBeGreaterThan(0.15);
    const at = T - (toMiner + auth / 2); // the charge makes block 1, the session start (auth first) does not
    s.submit(at, 'charge', 5, { station: 7 });
    s.submit(at, 'session-start', 5, { station: 7 });
    s.kernel.run(3 * T);
    expect(s.ledger.extraMetrics().meanAuthDelayS).toBeCloseTo(auth, 12);
    expect(s.ledger.extraMetrics().authentications).toBe(1);
    const byKind = Object.fromEntries(s.settled.map((x) => [x.tx.kind, x]));
    expect(s.ledger.blocks[1]!.txs.map((t) => t.tx.kind)).toEqual(['charge']);
    expect(s.ledger.blocks[2]!.txs.map((t) => t.tx.kind)).toEqual(['session-start']);
    expect(byKind.charge!.at).toBe(T); // gateway 0 = miner: k = 1 reached at block time
    // block 2 is mined by node 1 (round-robin) and reaches gateway 0 one hop later
    expect(s.ledger.blocks[2]!.miner).toBe(1);
    expect(byKind['session-start']!.at).toBeCloseTo(2 * T + 0.04 + ser(s.ledger.blocks[2]!.bytes), 9);
  });
});
