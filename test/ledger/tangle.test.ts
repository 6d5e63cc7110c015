import { describe, expect, it } from 'vitest';
import { createTangleLedger, type TangleLedger, type TangleParamsInput } from '../../ledger/backends/tangle.js';
import type { LedgerContext, LedgerTx, Settlement } from '../../ledger/ledger.js';
import { Network, type NetworkConfig } from '../../ledger/network.js';
import { TxCodec } from '../../ledger/tx.js';
import { Kernel } from '../../sim/kernel.js';
import { PRIORITY } from '../../sim/priorities.js';
import { Streams } from '../../sim/random.js';

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
    kernel,
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

describe('explore', () => {
  it('tips', () => {
    for (const [lam, h] of [
      [5, 1],
      [10, 1],
      [4, 5],
      [20, 1.5],
      [2, 1],
    ] as const) {
      const T = 3000 * h;
      const hs = harness(1, { tipSelection: 'uniform', visibilityDelayS: h, pow: NO_POW, confirmation: 'cumulative-weight' }, { rate: lam, until: T, sampleFrom: 50 * h, sampleEvery: h / 2 });
      hs.run(T);
      console.log(lam, h, 2 * lam * h, mean(hs.tipSamples).toFixed(2), batchSE(hs.tipSamples).toFixed(3), hs.tipSamples.length, JSON.stringify(hs.ledger.extraMetrics()));
    }
  });
});
