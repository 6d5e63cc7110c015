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
import { createTangleLedger } from '../ledger/backends/tangle.js';
import type { LedgerContext, LedgerTx, Settlement } from '../ledger/ledger.js';
import { Network } from '../ledger/network.js';
import { TxCodec } from '../ledger/tx.js';
import { Kernel } from '../sim/kernel.js';
import { PRIORITY } from '../sim/priorities.js';
import { Streams } from '../sim/random.js';

export async function benchTangle(opts: { txs?: number; tps?: number; audit?: boolean } = {}): Promise<Record<string, number>> {
  const total = opts.txs ?? 1_000_000;
  const tps = opts.tps ?? 50;
  const kernel = new Kernel();
  const streams = new Streams(42);
  const network = new Network(
    { nodes: 7, latency: { dist: 'lognormal', meanMs: 50, sdMs: 25 }, bandwidthMbps: 25, topology: { type: 'full' }, gatewayLatencyMs: 20 },
    streams.stream('net'),
  );
  const codec = TxCodec.fromConfig({ mode: 'modeled' }, 42);
  let settled = 0;
  let latSum = 0;
  const ctx: LedgerContext = {
    kernel,
    rng: (name) => streams.stream(`ledger/${name}`),
    network,
    codec,
    settle: (s: Settlement) => {
      settled++;
      latSum += s.at - s.tx.submittedAt;
    },
  };
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
  const t0 = performance.now(); // wall-clock ok: benchmark
  const c0 = process.cpuUsage();
  // run until every tx was submitted, plus two milestone intervals to confirm the last ones
  while (id < total) kernel.run(kernel.now + 3600);
  kernel.run(last + 130);
  const wall = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  const c1 = process.cpuUsage(c0);
  const cpu = (c1.user + c1.system) / 1e6;
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
