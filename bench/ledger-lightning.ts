/**
 * Lightning backend micro-benchmark: `payments` (default 1,000,000) hub payments among 1000 EVs and
 * 50 stations, Poisson arrivals at 100 payments per simulated second, amounts uniform in 0.1–2
 * currency units, the underlying chain 'none' (channel opening and top-ups are instant on chain) so
 * that the channel layer itself is measured: invoices (2 SHA-256 each), HTLC locking, three kernel
 * events and ~24 network message counts per payment. Network: 10 nodes, lognormal 50 ± 25 ms
 * links, 25 Mbit/s, 20 ms access links, hub on node 0; top-ups on. Reports wall-clock figures (this
 * is a benchmark, never a test): payments per wall second, CPU seconds, plus the run's
 * deterministic figures. Runnable directly:
 *
 *   npm run build && node dist/bench/ledger-lightning.js [payments]
 */
import { createLightningLedger } from '../src/ledger/backends/lightning.js';
import type { LedgerTx } from '../src/ledger/ledger.js';
import { PRIORITY } from '../src/core/priorities.js';
import { benchContext, timed } from './ledger-harness.js';

export async function benchLightning(opts: { payments?: number; evs?: number; stations?: number; tps?: number } = {}): Promise<Record<string, number>> {
  const count = opts.payments ?? 1_000_000;
  const evs = opts.evs ?? 1000;
  const stations = opts.stations ?? 50;
  const tps = opts.tps ?? 100;
  const { kernel, streams, ctx, stats } = benchContext(10);
  const ledger = createLightningLedger(ctx, { chain: { backend: 'none' }, streaming: false, rebalance: 'topup' });
  const load = streams.stream('load');
  let id = 0;
  const kArrive = kernel.register('bench-payment', () => {
    const tx: LedgerTx = {
      id: id++,
      kind: 'payment',
      sessionId: id,
      ev: load.int(evs),
      station: load.int(stations),
      energyKWh: 1,
      amount: load.uniform(0.1, 2),
      powerKW: 7,
      soc: 0.5,
      submittedAt: kernel.now,
    };
    ledger.submit(tx);
    if (id < count) kernel.schedule(kernel.now + load.exp(1 / tps), PRIORITY.TRIP, kArrive);
  });
  kernel.schedule(load.exp(1 / tps), PRIORITY.TRIP, kArrive);
  const { wall, cpu } = timed(() => kernel.run(Infinity));
  const settled = stats.settled;
  const ok = stats.final;
  const latSum = stats.finalLatencySum;
  const m = ledger.extraMetrics();
  const a0 = performance.now(); // wall-clock ok: benchmark
  const problems = ledger.audit().length;
  const auditWall = (performance.now() - a0) / 1000; // wall-clock ok: benchmark
  return {
    payments: id,
    settled,
    succeeded: ok,
    failed: m.failed!,
    failedLiquidity: m.failedLiquidity!,
    topups: m.topups!,
    channelsOpened: m.channelsOpened!,
    feesMsat: m.feesMsat!,
    messages: m.messages!,
    simulatedSeconds: kernel.now,
    meanLatencyS: ok > 0 ? latSum / ok : 0,
    wallSeconds: wall,
    /** CPU seconds of the run (user + system; GC threads included): steadier than wall time on a busy machine */
    cpuSeconds: cpu,
    paymentsPerWallSecond: id / wall,
    auditWallSeconds: auditWall,
    auditProblems: problems,
    heapMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  console.log(JSON.stringify(await benchLightning({ payments: n })));
}
