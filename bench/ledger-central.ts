/**
 * Micro-benchmark of the `central` ledger backend: 1,000,000 transactions submitted as a Poisson
 * stream at 80 % of the server's rate (default parameters: μ = 2000 tx/s, exponential service;
 * default network: 10 nodes; 'modeled' signatures), run to completion on a bare kernel. Reports
 * transactions per wall second of the whole run (submission driver, signing, network, queue, log
 * append, settlement bookkeeping), the kernel events per transaction, and the audit's speed
 * (signature and hash-chain check of every log entry) separately.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/ledger-central.js [transactions] [real|modeled]
 */
import { performance } from 'node:perf_hooks';
import { createCentralLedger } from '../src/ledger/backends/central.js';
import { schedulerOf, type LedgerContext, type LedgerTx } from '../src/ledger/ledger.js';
import { DEFAULT_NETWORK_CONFIG, Network } from '../src/ledger/network.js';
import { TxCodec } from '../src/ledger/tx.js';
import { Kernel } from '../src/core/kernel.js';
import { PRIORITY } from '../src/core/priorities.js';
import { Streams } from '../src/core/random.js';

export async function benchCentral(transactions = 1_000_000, mode: 'real' | 'modeled' = 'modeled'): Promise<Record<string, number>> {
  const kernel = new Kernel(1 << 16);
  const streams = new Streams(1);
  const network = new Network(DEFAULT_NETWORK_CONFIG, streams.stream('network'));
  const codec = new TxCodec({ mode, signCostS: 50e-6, verifyCostS: 120e-6, seed: 1 });
  let final = 0;
  let failed = 0;
  let latencySum = 0;
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/central/${name}`),
    network,
    codec,
    settle: (s) => {
      if (s.status === 'final') {
        final++;
        latencySum += s.at - s.tx.submittedAt;
      } else failed++;
    },
  };
  const ledger = createCentralLedger(ctx, {});
  const lambda = 0.8 * ledger.params.serviceRateTps;
  const rng = streams.stream('bench-arrivals');
  let submitted = 0;
  const submitKind = kernel.register('bench-submit', () => {
    const ev = rng.int(10_000);
    const tx: LedgerTx = { id: submitted++, kind: 'charge', sessionId: ev, ev, station: ev % 997, energyKWh: 0.18, amount: 0, powerKW: 11, soc: 0.5, submittedAt: kernel.now };
    ledger.submit(tx);
    if (submitted < transactions) kernel.schedule(kernel.now + rng.exp(1 / lambda), PRIORITY.TRIP, submitKind);
  });
  kernel.schedule(0, PRIORITY.TRIP, submitKind);
  const t0 = performance.now(); // wall-clock ok: benchmark
  const c0 = process.cpuUsage();
  kernel.run();
  const runSeconds = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6; // includes the GC threads' time
  const t1 = performance.now(); // wall-clock ok: benchmark
  const problems = ledger.audit();
  const auditSeconds = (performance.now() - t1) / 1000; // wall-clock ok: benchmark
  if (problems.length > 0) throw new Error(`central bench: audit found ${problems.length} problems`);
  if (final !== transactions) throw new Error(`central bench: ${final} of ${transactions} final`);
  const m = ledger.extraMetrics();
  return {
    transactions,
    wallSeconds: runSeconds,
    txPerWallSecond: transactions / runSeconds,
    cpuSeconds,
    // kernel events per transaction, submission driver included (1 of them)
    eventsPerTx: kernel.executed / transactions,
    auditSeconds,
    auditEntriesPerWallSecond: transactions / auditSeconds,
    simulatedSeconds: kernel.now,
    meanLatencyS: latencySum / final,
    failed,
    utilization: m.utilization!,
    peakHeapMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = process.argv[2] ? Number(process.argv[2]) : 1_000_000;
  const mode = process.argv[3] === 'real' ? 'real' : 'modeled';
  const r = await benchCentral(n, mode);
  console.log(JSON.stringify(r));
}
