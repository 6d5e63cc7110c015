/**
 * Micro-benchmark for src/city/routing.ts: tree build throughput (trees/s), O(1) lookups (lookups/s),
 * path reconstruction and one-to-one searches, with ngraph.path A* for comparison.
 *
 *   npm run build && node dist/bench/routing.js            # defaults: 150×150 grid, 600 roots
 *   node dist/bench/routing.js --side 100 --roots 200
 *
 * The synthetic grid is built here (self-contained; no dependency on src/city/synthetic.ts).
 */
import { pathToFileURL } from 'node:url';
import createGraph from 'ngraph.graph';
import ngraphPath from 'ngraph.path';
import seedrandom from 'seedrandom';
import { buildGraph, type RoadGraph } from '../src/city/graph.js';
import { buildTrees, dijkstraOne, pathTo } from '../src/city/routing.js';

export interface RoutingBenchOptions {
  /** Grid side (nodes per row). Default 150 (22,500 nodes, ~90,000 directed edges). */
  side?: number;
  /** Roots per table. Default 600. */
  roots?: number;
  /** EV decisions to simulate (each scans `candidates` roots). Default 100,000. */
  decisions?: number;
  candidates?: number;
  /** One-to-one searches (dijkstraOne and ngraph A*). Default 50. */
  queries?: number;
  seed?: string;
}

/**
 * Square grid, 100 m spacing, street classes 30/50/80 km/h, ~10% one-way streets (rows/columns
 * alternate direction), a little length jitter so times are not all tied.
 */
export function benchGrid(side: number, seed = 'bench-grid'): RoadGraph {
  const rng = seedrandom(seed);
  const n = side * side;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const osmId = new Float64Array(n).fill(-1);
  const spacing = 100;
  const lat0 = 52.52;
  const lon0 = 13.405;
  const mPerDegLat = 111_320;
  const mPerDegLon = mPerDegLat * Math.cos((lat0 * Math.PI) / 180);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      lat[r * side + c] = lat0 + (r * spacing) / mPerDegLat;
      lon[r * side + c] = lon0 + (c * spacing) / mPerDegLon;
    }
  }
  const from: number[] = [];
  const to: number[] = [];
  const lengthM: number[] = [];
  const speedMps: number[] = [];
  const speeds = [30 / 3.6, 50 / 3.6, 80 / 3.6];
  const rowSpeed = Array.from({ length: side }, (_, r) => speeds[r % 10 === 0 ? 2 : r % 3 === 0 ? 1 : 0]!);
  const colSpeed = Array.from({ length: side }, (_, c) => speeds[c % 10 === 0 ? 2 : c % 3 === 0 ? 1 : 0]!);
  const rowOneWay = Array.from({ length: side }, () => rng() < 0.1);
  const colOneWay = Array.from({ length: side }, () => rng() < 0.1);
  const add = (a: number, b: number, len: number, v: number, oneWay: boolean, forward: boolean): void => {
    if (!oneWay || forward) {
      from.push(a);
      to.push(b);
      lengthM.push(len);
      speedMps.push(v);
    }
    if (!oneWay || !forward) {
      from.push(b);
      to.push(a);
      lengthM.push(len);
      speedMps.push(v);
    }
  };
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const u = r * side + c;
      if (c + 1 < side) add(u, u + 1, spacing * (0.9 + 0.2 * rng()), rowSpeed[r]!, rowOneWay[r]!, r % 2 === 0);
      if (r + 1 < side) add(u, u + side, spacing * (0.9 + 0.2 * rng()), colSpeed[c]!, colOneWay[c]!, c % 2 === 0);
    }
  }
  return buildGraph({ nodeCount: n, lat, lon, osmId, from, to, lengthM, speedMps });
}

function now(): number {
  return performance.now();
}

export async function benchRouting(options: RoutingBenchOptions = {}): Promise<Record<string, number>> {
  const side = options.side ?? 150;
  const K = options.roots ?? 600;
  const decisions = options.decisions ?? 100_000;
  const candidates = Math.min(options.candidates ?? 10, K);
  const queries = options.queries ?? 50;
  const rng = seedrandom(options.seed ?? 'bench-routing');
  const randNode = (n: number): number => Math.floor(rng() * n);

  let t0 = now();
  const g = benchGrid(side);
  const gridMs = now() - t0;
  const n = g.nodeCount;

  const roots = new Int32Array(K);
  for (let k = 0; k < K; k++) roots[k] = randNode(n);

  // Warm-up (JIT) on a few roots, then the timed build.
  buildTrees(g, roots.subarray(0, Math.min(8, K)), 'to');
  t0 = now();
  const table = buildTrees(g, roots, 'to');
  const buildMs = now() - t0;
  t0 = now();
  buildTrees(g, roots.subarray(0, Math.min(100, K)), 'from');
  const buildFromMs = now() - t0;
  const fromTrees = Math.min(100, K);

  // Lookups: each decision scans `candidates` roots of a random node, keeps the fastest.
  const evNodes = new Int32Array(decisions);
  const cand = new Int32Array(decisions * candidates);
  for (let i = 0; i < decisions; i++) {
    evNodes[i] = randNode(n);
    for (let j = 0; j < candidates; j++) cand[i * candidates + j] = Math.floor(rng() * K);
  }
  let sink = 0;
  const lookupPass = (): void => {
    for (let i = 0; i < decisions; i++) {
      const u = evNodes[i]!;
      let best = Infinity;
      for (let j = 0; j < candidates; j++) {
        const tt = table.time(u, cand[i * candidates + j]!);
        if (tt < best) best = tt;
      }
      sink += best;
    }
  };
  lookupPass();
  t0 = now();
  const passes = 5;
  for (let p = 0; p < passes; p++) lookupPass();
  const lookupMs = now() - t0;
  const lookups = passes * decisions * candidates;

  // Path reconstruction from the table.
  const nPaths = 2000;
  let pathNodes = 0;
  t0 = now();
  for (let i = 0; i < nPaths; i++) pathNodes += pathTo(g, table, i % K, evNodes[i]!).length;
  const pathMs = now() - t0;

  // One-to-one: dijkstraOne vs ngraph.path A* (Euclidean heuristic scaled by max speed).
  const pairs: [number, number][] = [];
  for (let i = 0; i < queries; i++) pairs.push([randNode(n), randNode(n)]);
  t0 = now();
  for (const [s, d] of pairs) sink += dijkstraOne(g, s, d).timeS;
  const oneMs = now() - t0;

  const ng = createGraph<{ x: number; y: number }, { t: number }>();
  for (let u = 0; u < n; u++) ng.addNode(u, { x: (g.lon[u]! - g.lon[0]!) * 67_800, y: (g.lat[u]! - g.lat[0]!) * 111_320 });
  for (let e = 0; e < g.edgeCount; e++) ng.addLink(g.edgeSource[e]!, g.edgeTarget[e]!, { t: g.edgeTimeS[e]! });
  const vmax = 80 / 3.6;
  const finder = ngraphPath.aStar(ng, {
    oriented: true,
    distance: (_a, _b, link) => link.data.t,
    heuristic: (a, b) => Math.hypot(a.data.x - b.data.x, a.data.y - b.data.y) / (vmax * 1.01),
  });
  finder.find(pairs[0]![0], pairs[0]![1]);
  t0 = now();
  for (const [s, d] of pairs) sink += finder.find(s, d).length;
  const aStarMs = now() - t0;

  if (sink === 42.4242) console.log('');
  return {
    nodes: n,
    edges: g.edgeCount,
    roots: K,
    gridBuildMs: gridMs,
    treeBuildMs: buildMs,
    treesPerSecond: (K / buildMs) * 1000,
    msPerTree: buildMs / K,
    fromTreesPerSecond: (fromTrees / buildFromMs) * 1000,
    tableMB: table.byteLength / 1e6,
    lookupsPerSecond: (lookups / lookupMs) * 1000,
    nsPerLookup: (lookupMs * 1e6) / lookups,
    pathsPerSecond: (nPaths / pathMs) * 1000,
    meanPathNodes: pathNodes / nPaths,
    dijkstraOneMs: oneMs / queries,
    ngraphAStarMs: aStarMs / queries,
  };
}

function argValue(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) return undefined;
  const v = Number(process.argv[i + 1]);
  return Number.isFinite(v) ? v : undefined;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const opts: RoutingBenchOptions = {};
  const side = argValue('side');
  const roots = argValue('roots');
  if (side !== undefined) opts.side = side;
  if (roots !== undefined) opts.roots = roots;
  const r = await benchRouting(opts);
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(20)} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
}
