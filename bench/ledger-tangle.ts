/**
 * Tangle backend scaling benchmark: 1,000,000 transactions with MCMC tip selection (IRI's α =
 * 0.001, start at weight 20), milestone confirmation every 60 s, PoW ≈ 1 s (MWM-14-like, drawn
 * exponential), on 7 nodes (full mesh, lognormal 50 ± 25 ms links, 25 Mbit/s, 20 ms access links),
 * Poisson load of `tps` tx/s from 1000 EVs, 'modeled' signatures. Reports wall-clock figures (this
 * is a benchmark, never a test): transactions per wall second, CPU seconds, plus the run's
 * deterministic figures. The goal: 1,000,000 txs in under a minute on one core. Runnable directly:
 *
 *   npm run build && node dist/bench/ledger-tangle.js [txs] [tps]
 */
import { createTangleLedger } from '../src/ledger/backends/tangle.js';
import type { LedgerTx } from '../src/ledger/ledger.js';
import { PRIORITY } from '../src/core/priorities.js';
import { benchContext, timed } from './ledger-harness.js';

export async function benchTangle(opts: { txs?: number; tps?: number; audit?: boolean } = {}): Promise<Record<string, number>> {
  const total = opts.txs ?? 1_000_000;
  const tps = opts.tps ?? 50;
  const { kernel, streams, ctx, stats } = benchContext(7);
  const ledger = createTangleLedger(ctx, { tipSelection: 'mcmc', confirmation: 'milestone' });
  const load = streams.stream('load');
  let id = 0;
  let last = 0;
  const kArrive = kernel.register('bench-tx', () => {
    const tx: LedgerTx = {
      id: id++,
      kind: 'payment',
      sessionId: id,
      ev: load.int(1000),
      station: load.int(100),
      energyKWh: 10,
      amount: 3,
      powerKW: 0,
      soc: Number.NaN,
      submittedAt: kernel.now,
    };
    ledger.submit(tx);
    last = kernel.now;
    if (id < total) kernel.schedule(kernel.now + load.exp(1 / tps), PRIORITY.TRIP, kArrive);
  });
  kernel.schedule(load.exp(1 / tps), PRIORITY.TRIP, kArrive);
  const { wall, cpu } = timed(() => {
    // run until every tx was submitted, then 130 s more (two milestone intervals) for the last ones
    while (id < total) kernel.run(kernel.now + 3600);
    kernel.run(Math.max(kernel.now, last + 130));
  });
  const settled = stats.settled;
  const latSum = stats.latencySum;
  const m = ledger.extraMetrics();
  const out: Record<string, number> = {
    txs: id,
    simulatedSeconds: kernel.now,
    settled,
    meanLatencyS: settled > 0 ? latSum / settled : 0,
    wallSeconds: wall,
    cpuSeconds: cpu,
    txsPerWallSecond: id / wall,
    heapMB: process.memoryUsage().heapUsed / 2 ** 20,
    meanTips: m.meanTips!,
    meanWalkSteps: m.meanWalkSteps!,
    meanWeightUpdatesPerVertex: m.meanWeightUpdatesPerVertex!,
    leftBehind: m.leftBehind!,
    milestones: m.milestones!,
  };
  if (opts.audit) {
    const a0 = performance.now(); // wall-clock ok: benchmark
    out.auditProblems = ledger.audit().length;
    out.auditWallSeconds = (performance.now() - a0) / 1000; // wall-clock ok: benchmark
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const txs = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const tps = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
  console.log(JSON.stringify(await benchTangle({ txs, tps, audit: process.argv.includes('--audit') })));
}
