/**
 * What the ledger micro-benchmarks share: a stand-alone ledger context (kernel, seeded streams, a
 * full-mesh network, a codec) that counts settlements, and wall/CPU timing of a run. Wall clock
 * here is benchmark-only.
 */
import { schedulerOf, type LedgerContext, type Settlement } from '../src/ledger/ledger.js';
import { Network } from '../src/ledger/network.js';
import { TxCodec, type SigMode } from '../src/ledger/tx.js';
import { Kernel } from '../src/core/kernel.js';
import { Streams } from '../src/core/random.js';

export interface BenchContext {
  kernel: Kernel;
  streams: Streams;
  ctx: LedgerContext;
  /** settlements seen; final ones and the sum of their latencies */
  stats: { settled: number; final: number; finalLatencySum: number; latencySum: number };
}

/** Seed 42, `nodes` nodes in a full mesh (lognormal 50 ± 25 ms, 25 Mbit/s, 20 ms access links). */
export function benchContext(nodes: number, mode: SigMode = 'modeled'): BenchContext {
  const kernel = new Kernel();
  const streams = new Streams(42);
  const network = new Network(
    { nodes, latency: { dist: 'lognormal', meanMs: 50, sdMs: 25 }, bandwidthMbps: 25, topology: { type: 'full' }, gatewayLatencyMs: 20 },
    streams.stream('net'),
  );
  const stats = { settled: 0, final: 0, finalLatencySum: 0, latencySum: 0 };
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/${name}`),
    network,
    codec: TxCodec.fromConfig({ mode }, 42),
    settle: (s: Settlement) => {
      stats.settled++;
      stats.latencySum += s.at - s.tx.submittedAt;
      if (s.status === 'final') {
        stats.final++;
        stats.finalLatencySum += s.at - s.tx.submittedAt;
      }
    },
  };
  return { kernel, streams, ctx, stats };
}

/** Wall and CPU seconds of fn() (CPU = user + system, GC threads included). */
export function timed(fn: () => void): { wall: number; cpu: number } {
  const t0 = performance.now(); // wall-clock ok: benchmark
  const c0 = process.cpuUsage();
  fn();
  const wall = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  const c1 = process.cpuUsage(c0);
  return { wall, cpu: (c1.user + c1.system) / 1e6 };
}
