/**
 * QBFT backend micro-benchmark: one simulated day at a 1 s block period with 7 validators (full
 * mesh, lognormal 50 ± 25 ms links, 25 Mbit/s, 20 ms access links), under a Poisson load
 * of `tps` transactions per second from 1000 EVs, 'modeled' signatures. Reports wall-clock figures
 * (this is a benchmark, never a test): blocks per wall second and simulated seconds per wall second,
 * plus CPU seconds (steadier on a busy machine) and the run's deterministic figures. Runnable directly:
 *
 *   npm run build && node dist/bench/ledger-qbft.js [--real]
 */
import { createQbftLedger } from '../src/ledger/backends/qbft.js';
import type { LedgerTx } from '../src/ledger/ledger.js';
import { PRIORITY } from '../src/core/priorities.js';
import { benchContext, timed } from './ledger-harness.js';

export async function benchQbft(opts: { days?: number; validators?: number; tps?: number; mode?: 'modeled' | 'real' } = {}): Promise<Record<string, number>> {
  const days = opts.days ?? 1;
  const n = opts.validators ?? 7;
  const tps = opts.tps ?? 2;
  const horizon = 86_400 * days;
  const { kernel, streams, ctx, stats } = benchContext(n, opts.mode ?? 'modeled');
  const ledger = createQbftLedger(ctx, { validators: n, blockPeriodS: 1 });
  const load = streams.stream('load');
  let id = 0;
  const kArrive = kernel.register('bench-tx', () => {
    const tx: LedgerTx = {
      id: id++,
      kind: 'charge',
      sessionId: id,
      ev: load.int(1000),
      station: load.int(100),
      energyKWh: 0.1,
      amount: 0,
      powerKW: 6,
      soc: 0.5,
      submittedAt: kernel.now,
    };
    ledger.submit(tx);
    const next = kernel.now + load.exp(1 / tps);
    if (next < horizon) kernel.schedule(next, PRIORITY.TRIP, kArrive);
  });
  kernel.schedule(load.exp(1 / tps), PRIORITY.TRIP, kArrive);
  const { wall, cpu } = timed(() => kernel.run(horizon));
  const settled = stats.settled;
  const latSum = stats.latencySum;
  const m = ledger.extraMetrics();
  const a0 = performance.now(); // wall-clock ok: benchmark
  const problems = ledger.audit().length;
  const auditWall = (performance.now() - a0) / 1000; // wall-clock ok: benchmark
  return {
    validators: n,
    simulatedSeconds: horizon,
    txs: id,
    settled,
    meanLatencyS: settled > 0 ? latSum / settled : 0,
    blocks: m.blocks!,
    messages: m.messages!,
    wallSeconds: wall,
    /** CPU seconds of the run (user + system; GC threads included): steadier than wall time on a busy machine */
    cpuSeconds: cpu,
    blocksPerWallSecond: m.blocks! / wall,
    simSecondsPerWallSecond: horizon / wall,
    auditWallSeconds: auditWall,
    auditProblems: problems,
    heapMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv.includes('--real') ? 'real' : 'modeled';
  console.log(JSON.stringify(await benchQbft({ mode })));
}
