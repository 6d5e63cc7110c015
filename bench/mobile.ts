/**
 * Benchmarks of the mobile chargers (docs/mobile.md): SPV verification (µs per Merkle-path check
 * of one charge profile against a block header, by block size), paths.ts point-to-point queries on
 * the Monaco road graph (µs per uncached query, A* vs routing.ts's Dijkstra), and the wall time of
 * scenarios/mobile-chargers.yaml against the number of vans and the fleet (bench/run.ts runs them
 * through the CLI). Wall-clock figures only; never part of simulation results.
 *
 *   npm run build && node dist/bench/mobile.js       # micro-benchmarks only
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import seedrandom from 'seedrandom';
import { PathFinder } from '../src/city/paths.js';
import { dijkstraOne } from '../src/city/routing.js';
import { LightChain, type SignedProfile } from '../src/ledger/lightchain.js';
import { merkleProof, sha256, TxCodec, verifyMerkleProof } from '../src/ledger/tx.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { buildCity } from '../src/simulation/world.js';

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/** µs per SPV verification (leaf hash + Merkle path + header hash) in a block of `n` profiles. */
export function benchSpv(sizes = [4, 16, 64, 256], reps = 20_000): { profiles: number; pathLength: number; usPerVerification: number }[] {
  const out: { profiles: number; pathLength: number; usPerVerification: number }[] = [];
  for (const n of sizes) {
    const c = new LightChain({ vans: 2, groupSize: 2, codec: new TxCodec({ mode: 'modeled', signCostS: 0, verifyCostS: 0, seed: 1 }), compactBytes: null });
    c.authorize(0);
    c.authorize(1);
    const ps: SignedProfile[] = [];
    for (let i = 0; i < n; i++) {
      const p = c.signProfile(1, { sessionId: i, ev: i, start: 0, end: 900, maxPowerKW: 50, energyKWh: 10, final: true });
      c.providerReceive(p, 0);
      c.groups[0]!.pending.push(p);
      ps.push(p);
    }
    const block = c.buildBlock(0, 3600)!;
    const leaves = block.profiles.map((p) => p.leaf);
    const paths = ps.map((_, i) => merkleProof(leaves, i));
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      let ok = 0;
      const t0 = performance.now(); // wall-clock ok: benchmark
      for (let k = 0; k < reps; k++) {
        const i = k % n;
        const p = ps[i]!;
        if (verifyMerkleProof(sha256(p.body, p.sig), i, paths[i]!, block.header.merkleRoot) && sha256(block.headerBytes).equals(block.hash)) ok++;
      }
      runs.push(((performance.now() - t0) * 1000) / reps); // wall-clock ok
      if (ok !== reps) throw new Error('bench: an SPV verification failed');
    }
    out.push({ profiles: n, pathLength: paths[0]!.length, usPerVerification: median(runs) });
  }
  return out;
}

/** µs per uncached paths.ts query and per dijkstraOne on the Monaco road graph (random pairs). */
export async function benchPaths(queries = 2000): Promise<{ nodes: number; edges: number; aStarUs: number; dijkstraUs: number; settledPerQuery: number }> {
  const sc = loadScenario(new URL('../../scenarios/mobile-chargers.yaml', import.meta.url).pathname);
  const city = await buildCity(sc);
  const g = city.graph!;
  const r = seedrandom.alea('bench-paths');
  const pairs = Array.from({ length: queries }, () => [Math.floor(r() * g.nodeCount), Math.floor(r() * g.nodeCount)] as const);
  const pf = new PathFinder(g, 0);
  let t0 = performance.now(); // wall-clock ok: benchmark
  for (const [a, b] of pairs) pf.query(a, b);
  const aStarUs = ((performance.now() - t0) * 1000) / queries; // wall-clock ok
  t0 = performance.now(); // wall-clock ok
  for (const [a, b] of pairs) dijkstraOne(g, a, b);
  const dijkstraUs = ((performance.now() - t0) * 1000) / queries; // wall-clock ok
  return { nodes: g.nodeCount, edges: g.edgeCount, aStarUs, dijkstraUs, settledPerQuery: pf.stats.settled / queries };
}

export interface MobileRun {
  vans: number;
  fleet: number;
  wallSeconds: number;
  runSeconds: number;
  events: number;
}

/** Wall time of the mobile scenario against vans and fleet (runScenario from bench/run.ts). */
export function benchMobileScenario(
  runScenario: (file: string, overrides: string[]) => { wallSeconds: number; runSeconds: number; events: number },
  grid: { vans: number; fleet: number }[] = [
    { vans: 6, fleet: 1000 },
    { vans: 12, fleet: 2000 },
    { vans: 24, fleet: 4000 },
  ],
): MobileRun[] {
  return grid.map(({ vans, fleet }) => {
    const r = runScenario('mobile-chargers.yaml', [`mobile.vans=${vans}`, `fleet.size=${fleet}`]);
    return { vans, fleet, wallSeconds: r.wallSeconds, runSeconds: r.runSeconds, events: r.events };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log('SPV verification:', JSON.stringify(benchSpv()));
  console.log('paths:', JSON.stringify(await benchPaths()));
}
