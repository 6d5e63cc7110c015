/**
 * Micro-benchmark of the `pow` backend (src/ledger/backends/pow.ts).
 *
 *   1. Nakamoto, 100,000 blocks, 100 miners with equal shares: the default network model
 *      (src/ledger/network.ts: random overlay of degree 8, lognormal 50 ± 25 ms, 25 Mbit/s), empty
 *      blocks — the cost of the consensus machinery itself (one kernel event, two SHA-256 of the
 *      header, one broadcast and the lazy node-view bookkeeping per block).
 *   2. A city-like day on each variant: 110,000 transactions (Poisson arrivals over 86,400 s,
 *      10,000 EVs, 500 stations, the city's mix of kinds), the default 10-node network and
 *      T = 600 s, then audit(): what the backend adds to a liechtenstein-10k run.
 *
 * Reports blocks per wall second and simulated seconds per wall second. Wall-clock is measured
 * here only (never inside the simulation). Run directly: `node dist/bench/ledger-pow.js`.
 */
import { createPowLedger, type PowParamsInput } from '../src/ledger/backends/pow.js';
import { schedulerOf, type LedgerContext, type LedgerTx, type TxKind } from '../src/ledger/ledger.js';
import { Network, type NetworkConfig } from '../src/ledger/network.js';
import { TxCodec } from '../src/ledger/tx.js';
import { Kernel } from '../src/core/kernel.js';
import { PRIORITY } from '../src/core/priorities.js';
import { Streams } from '../src/core/random.js';

function makeCtx(seed: number, net: Partial<NetworkConfig>): { kernel: Kernel; ctx: LedgerContext; streams: Streams; settled: { n: number } } {
  const kernel = new Kernel();
  const streams = new Streams(seed);
  const network = new Network(net as NetworkConfig, streams.stream('ledger/bench/network'));
  const codec = new TxCodec({ mode: 'modeled', signCostS: 50e-6, verifyCostS: 120e-6, seed });
  const settled = { n: 0 };
  const ctx: LedgerContext = {
    scheduler: schedulerOf(kernel),
    rng: (name) => streams.stream(`ledger/bench/${name}`),
    network,
    codec,
    settle: () => {
      settled.n++;
    },
  };
  return { kernel, ctx, streams, settled };
}

/** 100,000 empty blocks, 100 equal miners. */
export function benchPowBlocks(blocks = 100_000, miners = 100): { blocks: number; wallSeconds: number; blocksPerWallSecond: number; simSecondsPerWallSecond: number; staleRate: number } {
  const { kernel, ctx } = makeCtx(1, { nodes: miners });
  const T = 600;
  const ledger = createPowLedger(ctx, { blockIntervalS: T });
  const t0 = performance.now(); // wall-clock ok: benchmark
  while (ledger.blocks.length - 1 < blocks) kernel.run(kernel.now + 1000 * T);
  const wallSeconds = (performance.now() - t0) / 1000; // wall-clock ok: benchmark
  const n = ledger.blocks.length - 1;
  return { blocks: n, wallSeconds, blocksPerWallSecond: n / wallSeconds, simSecondsPerWallSecond: kernel.now / wallSeconds, staleRate: ledger.extraMetrics().staleRate! };
}

const KINDS: TxKind[] = ['session-start', 'charge', 'charge', 'charge', 'charge', 'charge', 'charge', 'session-end', 'payment'];

/** One city-like day (110,000 txs) on the default 10-node network; wall seconds incl. audit. */
export function benchPowCityDay(params: PowParamsInput, txs = 110_000): { wallSeconds: number; auditSeconds: number; submitted: number; settled: number; blocks: number } {
  const { kernel, ctx, streams, settled } = makeCtx(2, {});
  const ledger = createPowLedger(ctx, params);
  const load = streams.stream('bench/load');
  const day = 86_400;
  const mean = day / txs;
  let id = 0;
  let t = load.exp(mean);
  const kSubmit = kernel.register('bench-submit', () => {
    const ev = load.int(10_000);
    const tx: LedgerTx = {
      id: id++,
      kind: KINDS[load.int(KINDS.length)]!,
      sessionId: id,
      ev,
      station: load.int(500),
      energyKWh: 0.1 + load.next(),
      amount: 0,
      powerKW: 11,
      soc: 0.5,
      submittedAt: kernel.now,
    };
    ledger.submit(tx);
    t += load.exp(mean);
    if (t < day) kernel.schedule(t, PRIORITY.TRIP, kSubmit);
  });
  kernel.schedule(t, PRIORITY.TRIP, kSubmit);
  const t0 = performance.now(); // wall-clock ok: benchmark
  kernel.run(day);
  const t1 = performance.now(); // wall-clock ok: benchmark
  const problems = ledger.audit();
  const t2 = performance.now(); // wall-clock ok: benchmark
  if (problems.length > 0) throw new Error(`audit: ${problems[0]}`);
  return { wallSeconds: (t1 - t0) / 1000, auditSeconds: (t2 - t1) / 1000, submitted: id, settled: settled.n, blocks: ledger.blocks.length - 1 };
}

export async function benchPow(): Promise<Record<string, number>> {
  const b = benchPowBlocks();
  const nak = benchPowCityDay({ variant: 'nakamoto' });
  const bil = benchPowCityDay({ variant: 'billing' });
  return {
    blocks: b.blocks,
    miners: 100,
    wallSeconds: b.wallSeconds,
    blocksPerWallSecond: b.blocksPerWallSecond,
    simSecondsPerWallSecond: b.simSecondsPerWallSecond,
    staleRate: b.staleRate,
    cityDayNakamotoWallSeconds: nak.wallSeconds,
    cityDayNakamotoAuditSeconds: nak.auditSeconds,
    cityDayBillingWallSeconds: bil.wallSeconds,
    cityDayBillingAuditSeconds: bil.auditSeconds,
    cityDayTxs: nak.submitted,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchPow().then((r) => console.log(JSON.stringify(r, null, 2)));
}
