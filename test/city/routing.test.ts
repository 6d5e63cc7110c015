import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import createGraph from 'ngraph.graph';
import ngraphPath from 'ngraph.path';
import seedrandom from 'seedrandom';
import { buildGraph, type RoadGraph } from '../../src/city/graph.js';
import {
  buildTrees,
  dijkstraOne,
  edgeBetween,
  pathCost,
  pathFrom,
  pathTo,
  type TreeTable,
} from '../../src/city/routing.js';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

interface RawEdge {
  from: number;
  to: number;
  lengthM: number;
  speedMps: number;
}

function graphOf(nodeCount: number, edges: RawEdge[]): RoadGraph {
  return buildGraph({
    nodeCount,
    lat: new Float64Array(nodeCount),
    lon: new Float64Array(nodeCount),
    osmId: new Float64Array(nodeCount).fill(-1),
    from: edges.map((e) => e.from),
    to: edges.map((e) => e.to),
    lengthM: edges.map((e) => e.lengthM),
    speedMps: edges.map((e) => e.speedMps),
  });
}

/** Random directed graph: random arcs, lengths 5..1000 m, speeds 3..30 m/s (some parallel/self arcs). */
function randomGraph(seed: string, n: number, m: number): RoadGraph {
  const rng = seedrandom(seed);
  const edges: RawEdge[] = [];
  for (let i = 0; i < m; i++) {
    edges.push({
      from: Math.floor(rng() * n),
      to: Math.floor(rng() * n),
      lengthM: 5 + rng() * 995,
      speedMps: 3 + rng() * 27,
    });
  }
  return graphOf(n, edges);
}

/**
 * side×side grid; even rows one-way east, odd rows one-way west, every third column one-way
 * (alternating north/south), the others two-way; speeds vary by street, lengths jittered.
 */
function oneWayGrid(seed: string, side: number): RoadGraph {
  const rng = seedrandom(seed);
  const edges: RawEdge[] = [];
  const id = (r: number, c: number): number => r * side + c;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      if (c + 1 < side) {
        const speed = r % 4 === 0 ? 16 : 9;
        const len = 80 + rng() * 40;
        if (r % 2 === 0) edges.push({ from: id(r, c), to: id(r, c + 1), lengthM: len, speedMps: speed });
        else edges.push({ from: id(r, c + 1), to: id(r, c), lengthM: len, speedMps: speed });
      }
      if (r + 1 < side) {
        const speed = c % 5 === 0 ? 20 : 11;
        const len = 80 + rng() * 40;
        if (c % 3 === 0) {
          if ((c / 3) % 2 === 0) edges.push({ from: id(r, c), to: id(r + 1, c), lengthM: len, speedMps: speed });
          else edges.push({ from: id(r + 1, c), to: id(r, c), lengthM: len, speedMps: speed });
        } else {
          edges.push({ from: id(r, c), to: id(r + 1, c), lengthM: len, speedMps: speed });
          edges.push({ from: id(r + 1, c), to: id(r, c), lengthM: len, speedMps: speed });
        }
      }
    }
  }
  return graphOf(side * side, edges);
}

// ---------------------------------------------------------------------------------------------
// Reference: ngraph.path A* without heuristic (= Dijkstra), oriented, distance = edge time.
// ---------------------------------------------------------------------------------------------

interface Ref {
  timeS: number;
  lengthM: number;
}

function makeReference(g: RoadGraph): (source: number, target: number) => Ref {
  const ng = createGraph<unknown, { t: number; l: number }>();
  for (let u = 0; u < g.nodeCount; u++) ng.addNode(u);
  for (let e = 0; e < g.edgeCount; e++) {
    ng.addLink(g.edgeSource[e]!, g.edgeTarget[e]!, { t: g.edgeTimeS[e]!, l: g.edgeLengthM[e]! });
  }
  const finder = ngraphPath.aStar(ng, { oriented: true, distance: (_a, _b, link) => link.data.t });
  return (source, target) => {
    const nodes = finder.find(source, target); // target .. source, [] if unreachable
    if (nodes.length === 0) return { timeS: Infinity, lengthM: Infinity };
    let timeS = 0;
    let lengthM = 0;
    for (let i = nodes.length - 1; i > 0; i--) {
      const link = ng.getLink(nodes[i]!.id, nodes[i - 1]!.id);
      if (link === null || link === undefined) throw new Error('reference path has no link');
      timeS += link.data.t;
      lengthM += link.data.l;
    }
    return { timeS, lengthM };
  };
}

function expectClose(actual: number, expected: number, what: string, rel = 1e-3): void {
  if (expected === Infinity) {
    expect(actual, what).toBe(Infinity);
    return;
  }
  expect(Number.isFinite(actual), `${what}: finite`).toBe(true);
  const tol = rel * Math.max(Math.abs(expected), 1e-3);
  if (Math.abs(actual - expected) > tol) {
    throw new Error(`${what}: ${actual} vs reference ${expected} (tol ${tol})`);
  }
}

function pickRoots(seed: string, n: number, k: number): Int32Array {
  const rng = seedrandom(seed);
  const roots = new Int32Array(k);
  for (let i = 0; i < k; i++) roots[i] = Math.floor(rng() * n);
  return roots;
}

/** Full check of a pair of tables against the reference, dijkstraOne and path reconstruction. */
function checkTables(g: RoadGraph, roots: Int32Array, ref: (s: number, t: number) => Ref, nodes?: number[]): void {
  const to = buildTrees(g, roots, 'to');
  const from = buildTrees(g, roots, 'from');
  const sample = nodes ?? Array.from({ length: g.nodeCount }, (_, i) => i);
  for (let k = 0; k < roots.length; k++) {
    const root = roots[k]!;
    for (const u of sample) {
      const rTo = ref(u, root);
      const rFrom = ref(root, u);
      expectClose(to.time(u, k), rTo.timeS, `to time ${u}->${root}`);
      expectClose(from.time(u, k), rFrom.timeS, `from time ${root}->${u}`);
      // 'to' vs 'from' consistency with the one-to-one search.
      const oneTo = dijkstraOne(g, u, root);
      const oneFrom = dijkstraOne(g, root, u);
      expectClose(to.time(u, k), oneTo.timeS, `to vs dijkstraOne ${u}->${root}`);
      expectClose(from.time(u, k), oneFrom.timeS, `from vs dijkstraOne ${root}->${u}`);
      expectClose(to.length(u, k), oneTo.lengthM, `to length vs dijkstraOne ${u}->${root}`);
      expectClose(from.length(u, k), oneFrom.lengthM, `from length vs dijkstraOne ${root}->${u}`);
      // Lengths are those of the time-shortest path (random weights: no exact time ties).
      expectClose(to.length(u, k), rTo.lengthM, `to length ${u}->${root}`);
      expectClose(from.length(u, k), rFrom.lengthM, `from length ${root}->${u}`);
      checkPath(g, to, k, u);
      checkPath(g, from, k, u);
    }
  }
}

function checkPath(g: RoadGraph, t: TreeTable, k: number, u: number): void {
  const root = t.roots[k]!;
  const p = t.direction === 'to' ? pathTo(g, t, k, u) : pathFrom(g, t, k, u);
  const time = t.time(u, k);
  if (time === Infinity) {
    expect(p.length).toBe(0);
    return;
  }
  expect(p.length).toBeGreaterThan(0);
  const [first, last] = t.direction === 'to' ? [u, root] : [root, u];
  expect(p[0]).toBe(first);
  expect(p[p.length - 1]).toBe(last);
  for (let i = 0; i + 1 < p.length; i++) expect(edgeBetween(g, p[i]!, p[i + 1]!)).toBeGreaterThanOrEqual(0);
  expect(new Set(p).size).toBe(p.length); // simple path
  const c = pathCost(g, p);
  expectClose(c.timeS, time, `path time ${t.direction} k=${k} u=${u}`);
  expectClose(c.lengthM, t.length(u, k), `path length ${t.direction} k=${k} u=${u}`);
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('buildTrees on random directed graphs (vs ngraph.path)', () => {
  it('fixed seeds: times, lengths, Infinity, paths', () => {
    for (const [seed, n, m] of [
      ['a', 30, 60],
      ['b', 40, 200],
      ['c', 25, 30], // sparse: many unreachable pairs
      ['d', 1, 0],
      ['e', 2, 1],
    ] as const) {
      const g = randomGraph(seed, n, m);
      const roots = pickRoots(seed + '-roots', n, Math.min(6, n));
      checkTables(g, roots, makeReference(g));
    }
  });

  it('property: random graphs and roots agree with the reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 35 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        (seed, n, density, k) => {
          const g = randomGraph(`p${seed}`, n, Math.floor(n * density * 0.8));
          const roots = pickRoots(`r${seed}`, n, k);
          checkTables(g, roots, makeReference(g));
        },
      ),
      { numRuns: 60, seed: 20240607 },
    );
  });
});

describe('buildTrees on a grid with one-way streets', () => {
  const g = oneWayGrid('grid', 14);
  const ref = makeReference(g);

  it('matches the reference for all nodes and a handful of roots', () => {
    const roots = Int32Array.from([0, 13, 99, 182, 195, 77, 77]);
    checkTables(g, roots, ref);
  });

  it('one-way streets make times asymmetric, and tables agree on it', () => {
    const roots = Int32Array.from([0, 100]);
    const to = buildTrees(g, roots, 'to');
    const from = buildTrees(g, roots, 'from');
    let asymmetric = 0;
    for (let u = 0; u < g.nodeCount; u++) {
      if (Math.abs(to.time(u, 1) - from.time(u, 1)) > 1e-3) asymmetric++;
      // Same root pair seen from both tables: time(0 -> 100) in 'to'(100) = 'from'(0) at 100.
    }
    expect(asymmetric).toBeGreaterThan(g.nodeCount / 4);
    expectClose(to.time(0, 1), from.time(100, 0), '0->100 both ways');
    expectClose(to.time(100, 0), from.time(0, 1), '100->0 both ways');
  });

  it('duplicate roots give identical columns; root order only permutes columns', () => {
    const a = buildTrees(g, [5, 60, 5, 150], 'to');
    const b = buildTrees(g, [150, 5, 60], 'to');
    for (let u = 0; u < g.nodeCount; u++) {
      expect(a.time(u, 0)).toBe(a.time(u, 2));
      expect(a.length(u, 0)).toBe(a.length(u, 2));
      expect(a.time(u, 0)).toBe(b.time(u, 1));
      expect(a.time(u, 1)).toBe(b.time(u, 2));
      expect(a.time(u, 3)).toBe(b.time(u, 0));
      expect(a.length(u, 3)).toBe(b.length(u, 0));
    }
  });
});

describe('TreeTable layout and determinism', () => {
  const g = randomGraph('layout', 50, 180);
  const roots = pickRoots('layout-roots', 50, 7);

  it('is node-major Float32 with accessors matching the raw arrays', () => {
    const t = buildTrees(g, roots, 'to');
    expect(t.timeS).toBeInstanceOf(Float32Array);
    expect(t.lengthM).toBeInstanceOf(Float32Array);
    expect(t.timeS.length).toBe(g.nodeCount * roots.length);
    expect(t.rootCount).toBe(7);
    expect(t.byteLength).toBe(g.nodeCount * roots.length * 8);
    for (let u = 0; u < g.nodeCount; u++) {
      for (let k = 0; k < roots.length; k++) {
        expect(t.time(u, k)).toBe(t.timeS[u * 7 + k]);
        expect(t.length(u, k)).toBe(t.lengthM[u * 7 + k]);
        expect(t.timeS[t.rowOffset(u) + k]).toBe(t.time(u, k));
      }
    }
    for (let k = 0; k < roots.length; k++) {
      expect(t.time(roots[k]!, k)).toBe(0);
      expect(t.length(roots[k]!, k)).toBe(0);
    }
  });

  it('is deterministic (bit-identical rebuilds, also across block boundaries)', () => {
    const many = pickRoots('many', 50, 40); // > one 16-root block
    for (const dir of ['to', 'from'] as const) {
      const a = buildTrees(g, many, dir);
      dijkstraOne(g, 3, 17); // interleaved use of the shared workspace
      const b = buildTrees(g, many, dir);
      expect(Buffer.from(a.timeS.buffer).equals(Buffer.from(b.timeS.buffer))).toBe(true);
      expect(Buffer.from(a.lengthM.buffer).equals(Buffer.from(b.lengthM.buffer))).toBe(true);
      // Column k of a 40-root build equals a single-root build of the same root.
      for (const k of [0, 15, 16, 39]) {
        const single = buildTrees(g, [many[k]!], dir);
        for (let u = 0; u < g.nodeCount; u++) expect(a.time(u, k)).toBe(single.time(u, 0));
      }
    }
  });

  it('rejects bad input', () => {
    expect(() => buildTrees(g, [50], 'to')).toThrow(RangeError);
    expect(() => buildTrees(g, [-1], 'from')).toThrow(RangeError);
    expect(() => buildTrees(g, [1.5], 'from')).toThrow(RangeError);
    const t = buildTrees(g, [1], 'to');
    expect(() => pathFrom(g, t, 0, 2)).toThrow();
    expect(() => pathTo(g, t, 1, 2)).toThrow(RangeError);
    expect(buildTrees(g, [], 'to').timeS.length).toBe(0);
  });
});

describe('unreachable nodes', () => {
  // 0 -> 1 -> 2 -> 3, 4 isolated, 5 -> 0 (source only), 3 -> 6 (sink).
  const g = graphOf(7, [
    { from: 0, to: 1, lengthM: 100, speedMps: 10 },
    { from: 1, to: 2, lengthM: 100, speedMps: 10 },
    { from: 2, to: 3, lengthM: 100, speedMps: 10 },
    { from: 5, to: 0, lengthM: 50, speedMps: 10 },
    { from: 3, to: 6, lengthM: 50, speedMps: 10 },
  ]);

  it('are Infinity in time and length, with empty paths', () => {
    const to = buildTrees(g, [2, 4, 5], 'to');
    const from = buildTrees(g, [2, 4, 6], 'from');
    expect([0, 1, 2, 3, 4, 5, 6].map((u) => to.time(u, 0))).toEqual([20, 10, 0, Infinity, Infinity, 25, Infinity]);
    expect(to.length(3, 0)).toBe(Infinity);
    expect([0, 1, 2, 3, 4, 5, 6].map((u) => to.time(u, 1))).toEqual([Infinity, Infinity, Infinity, Infinity, 0, Infinity, Infinity]);
    expect([0, 1, 2, 3, 4, 5, 6].map((u) => to.time(u, 2))).toEqual([Infinity, Infinity, Infinity, Infinity, Infinity, 0, Infinity]);
    expect([0, 1, 2, 3, 4, 5, 6].map((u) => from.time(u, 0))).toEqual([Infinity, Infinity, 0, 10, Infinity, Infinity, 15]);
    expect([0, 1, 2, 3, 4, 5, 6].map((u) => from.time(u, 2))).toEqual([Infinity, Infinity, Infinity, Infinity, Infinity, Infinity, 0]);
    expect(pathTo(g, to, 0, 3).length).toBe(0);
    expect(pathFrom(g, from, 0, 0).length).toBe(0);
    expect(Array.from(pathTo(g, to, 0, 5))).toEqual([5, 0, 1, 2]);
    expect(Array.from(pathFrom(g, from, 0, 6))).toEqual([2, 3, 6]);
    expect(Array.from(pathTo(g, to, 1, 4))).toEqual([4]);
    const none = dijkstraOne(g, 3, 0);
    expect(none.timeS).toBe(Infinity);
    expect(none.nodes.length).toBe(0);
    const self = dijkstraOne(g, 4, 4);
    expect(self.timeS).toBe(0);
    expect(Array.from(self.nodes)).toEqual([4]);
  });
});

describe('lengths follow the time-shortest path', () => {
  // 0 -> 4 via four routes:
  //   A: 0-2-4   200 m at 10 m/s = 20 s
  //   B: 0-1-4   400 m at 20 m/s = 20 s   (exact tie in time, longer; via the lower node id, so
  //                                          both searches reach 0 / 4 through it first)
  //   C: 0-3-4  1000 m at 100/3 m/s ≈ 30 s (slower)
  //   D: 0-5-4   600 m at 40 m/s = 15 s   (fastest but longest of A/B/D)
  const base: RawEdge[] = [
    { from: 0, to: 2, lengthM: 100, speedMps: 10 },
    { from: 2, to: 4, lengthM: 100, speedMps: 10 },
    { from: 0, to: 1, lengthM: 200, speedMps: 20 },
    { from: 1, to: 4, lengthM: 200, speedMps: 20 },
    { from: 0, to: 3, lengthM: 500, speedMps: 100 / 3 },
    { from: 3, to: 4, lengthM: 500, speedMps: 100 / 3 },
  ];
  const fast: RawEdge[] = [
    { from: 0, to: 5, lengthM: 300, speedMps: 40 },
    { from: 5, to: 4, lengthM: 300, speedMps: 40 },
  ];

  it('picks the faster route even when it is longer', () => {
    const g = graphOf(6, [...base, ...fast]);
    const to = buildTrees(g, [4], 'to');
    const from = buildTrees(g, [0], 'from');
    expect(to.time(0, 0)).toBe(15);
    expect(to.length(0, 0)).toBe(600);
    expect(from.length(4, 0)).toBe(600);
    expect(Array.from(pathTo(g, to, 0, 0))).toEqual([0, 5, 4]);
    expect(Array.from(pathFrom(g, from, 0, 4))).toEqual([0, 5, 4]);
    const one = dijkstraOne(g, 0, 4);
    expect(one.lengthM).toBe(600);
    expect(Array.from(one.nodes)).toEqual([0, 5, 4]);
  });

  it('breaks exact time ties by the shorter length, and paths follow it', () => {
    const g = graphOf(6, base);
    const to = buildTrees(g, [4], 'to');
    const from = buildTrees(g, [0], 'from');
    expect(to.time(0, 0)).toBe(20);
    expect(to.length(0, 0)).toBe(200);
    expect(from.length(4, 0)).toBe(200);
    expect(Array.from(pathTo(g, to, 0, 0))).toEqual([0, 2, 4]);
    expect(Array.from(pathFrom(g, from, 0, 4))).toEqual([0, 2, 4]);
    expect(Array.from(dijkstraOne(g, 0, 4).nodes)).toEqual([0, 2, 4]);
    expect(dijkstraOne(g, 0, 4).lengthM).toBe(200);
    // Same with the edges listed in the opposite order (edge ids are canonical anyway).
    const g2 = graphOf(6, [...base].reverse());
    expect(buildTrees(g2, [4], 'to').length(0, 0)).toBe(200);
  });
});

describe('path reconstruction always terminates', () => {
  it('handles zero-time edges and zero-time cycles', () => {
    // 0 <-> 1 <-> 2 zero-length two-way chain, 2 -> 3 -> 4 normal, 1 -> 4 slow, 3 <-> 5 zero cycle.
    const g = graphOf(6, [
      { from: 0, to: 1, lengthM: 0, speedMps: 10 },
      { from: 1, to: 0, lengthM: 0, speedMps: 10 },
      { from: 1, to: 2, lengthM: 0, speedMps: 10 },
      { from: 2, to: 1, lengthM: 0, speedMps: 10 },
      { from: 2, to: 3, lengthM: 100, speedMps: 10 },
      { from: 3, to: 4, lengthM: 100, speedMps: 10 },
      { from: 1, to: 4, lengthM: 1000, speedMps: 10 },
      { from: 3, to: 5, lengthM: 0, speedMps: 10 },
      { from: 5, to: 3, lengthM: 0, speedMps: 10 },
    ]);
    const ref = makeReference(g);
    const all = Int32Array.from([0, 1, 2, 3, 4, 5]);
    checkTables(g, all, ref);
  });

  it('falls back to an exact search when greedy descent walks into a zero-time dead end', () => {
    // 1 -> 2 (10 s); 0 <-> 1 zero-time. From 1 towards root 2 the zero-time edge 1 -> 0 (lower
    // edge id) matches as well as 1 -> 2, but 0 can only go back to 1.
    const g = graphOf(3, [
      { from: 1, to: 2, lengthM: 100, speedMps: 10 },
      { from: 1, to: 0, lengthM: 0, speedMps: 10 },
      { from: 0, to: 1, lengthM: 0, speedMps: 10 },
    ]);
    const to = buildTrees(g, [2], 'to');
    expect(Array.from(pathTo(g, to, 0, 1))).toEqual([1, 2]);
    expect(Array.from(pathTo(g, to, 0, 0))).toEqual([0, 1, 2]);
    const from = buildTrees(g, [0, 1], 'from');
    expect(Array.from(pathFrom(g, from, 0, 2))).toEqual([0, 1, 2]);
    expect(Array.from(pathFrom(g, from, 1, 0))).toEqual([1, 0]);
    checkTables(g, Int32Array.from([0, 1, 2]), makeReference(g));
  });

  it('handles near-ties (grid with identical edges: many equal-time paths)', () => {
    const side = 9;
    const edges: RawEdge[] = [];
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const u = r * side + c;
        if (c + 1 < side) edges.push({ from: u, to: u + 1, lengthM: 100, speedMps: 13.9 }, { from: u + 1, to: u, lengthM: 100, speedMps: 13.9 });
        if (r + 1 < side) edges.push({ from: u, to: u + side, lengthM: 100, speedMps: 13.9 }, { from: u + side, to: u, lengthM: 100, speedMps: 13.9 });
      }
    }
    const g = graphOf(side * side, edges);
    checkTables(g, Int32Array.from([0, 40, 80, 8]), makeReference(g));
  });
});

describe('larger grid smoke test', () => {
  it('builds 60×60 × 64 roots and spot-checks against the reference', () => {
    const g = oneWayGrid('big', 60);
    const roots = pickRoots('big-roots', g.nodeCount, 64);
    const t0 = performance.now();
    const to = buildTrees(g, roots, 'to');
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(20_000); // generous: catches accidental O(N^2), not a benchmark
    const ref = makeReference(g);
    const rng = seedrandom('spot');
    for (let i = 0; i < 200; i++) {
      const u = Math.floor(rng() * g.nodeCount);
      const k = Math.floor(rng() * roots.length);
      const r = ref(u, roots[k]!);
      expectClose(to.time(u, k), r.timeS, `grid60 ${u}->${roots[k]}`);
      expectClose(to.length(u, k), r.lengthM, `grid60 length ${u}->${roots[k]}`);
      checkPath(g, to, k, u);
    }
  });
});
