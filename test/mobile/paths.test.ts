import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { buildGraph, type RoadGraph } from '../../src/city/graph.js';
import { buildTrees, dijkstraOne } from '../../src/city/routing.js';
import { gridCity } from '../../src/city/synthetic.js';
import { nearestNode, PathFinder } from '../../src/city/paths.js';

/** A random directed graph around Monaco with random positions, lengths and speeds. */
function randomGraph(seed: string, n: number, m: number): RoadGraph {
  const r = seedrandom.alea(seed);
  const lat = new Float64Array(n).map(() => 43.73 + 0.02 * r());
  const lon = new Float64Array(n).map(() => 7.41 + 0.02 * r());
  const from: number[] = [];
  const to: number[] = [];
  const len: number[] = [];
  const speed: number[] = [];
  for (let i = 0; i < m; i++) {
    from.push(Math.floor(r() * n));
    to.push(Math.floor(r() * n));
    len.push(50 + 2000 * r());
    speed.push(3 + 30 * r());
  }
  return buildGraph({ nodeCount: n, lat, lon, osmId: new Float64Array(n).fill(-1), from, to, lengthM: len, speedMps: speed });
}

describe('paths.ts: point-to-point A*', () => {
  it('equals Dijkstra (routing.ts dijkstraOne) on random graphs, unreachable pairs included', () => {
    for (let s = 0; s < 8; s++) {
      const g = randomGraph(`p${s}`, 60, 150);
      const pf = new PathFinder(g, 0);
      expect(pf.boundFactor).toBeGreaterThan(0);
      for (let a = 0; a < g.nodeCount; a += 3) {
        for (let b = 0; b < g.nodeCount; b += 5) {
          const d = dijkstraOne(g, a, b);
          const q = pf.query(a, b);
          if (!Number.isFinite(d.timeS)) expect(q.timeS).toBe(Infinity);
          else {
            expect(q.timeS).toBeCloseTo(d.timeS, 9);
            expect(q.lengthM).toBeGreaterThan(0 - 1e-9);
          }
        }
      }
    }
  });

  it('equals the routing tables on a grid city (node → station trees)', () => {
    const g = gridCity({ rows: 12, cols: 15, spacingM: 200, speedKph: 40 });
    const roots = [0, 37, 101, 179];
    const to = buildTrees(g, roots, 'to');
    const pf = new PathFinder(g);
    for (let u = 0; u < g.nodeCount; u += 7) {
      for (let k = 0; k < roots.length; k++) {
        const q = pf.query(u, roots[k]!);
        expect(Math.abs(q.timeS - to.time(u, k))).toBeLessThan(1e-3 * Math.max(1, q.timeS) * 1e-2);
        expect(Math.abs(q.lengthM - to.length(u, k))).toBeLessThan(1e-2);
      }
    }
  });

  it('manyTo (one reverse search) gives the same times as one query per source, and caches them', () => {
    for (let s = 0; s < 4; s++) {
      const g = randomGraph(`m${s}`, 70, 200);
      const one = new PathFinder(g, 0);
      const many = new PathFinder(g);
      for (let t = 0; t < g.nodeCount; t += 9) {
        const src = [0, 5, 5, 11, t, 33, 69];
        const time = new Float64Array(src.length);
        const len = new Float64Array(src.length);
        many.manyTo(src, t, time, len);
        src.forEach((u, i) => {
          const q = one.query(u, t);
          if (q.timeS === Infinity) expect(time[i]).toBe(Infinity);
          else expect(time[i]!).toBeCloseTo(q.timeS, 9);
        });
        const hits = many.stats.cacheHits;
        many.manyTo(src, t, time, len);
        expect(many.stats.cacheHits - hits).toBe(src.filter((u) => u !== t).length);
      }
    }
  });

  it('answers repeated pairs from its LRU cache with the same result, and evicts the least recent', () => {
    const g = randomGraph('cache', 80, 300);
    const pf = new PathFinder(g, 2);
    const a = pf.query(1, 2);
    pf.query(3, 4);
    expect(pf.query(1, 2)).toEqual(a);
    expect(pf.stats.cacheHits).toBe(1);
    pf.query(5, 6); // evicts (3, 4), the least recently used
    pf.query(3, 4);
    expect(pf.stats.cacheHits).toBe(1);
    pf.query(1, 2);
    expect(pf.stats.cacheHits).toBe(1); // (1, 2) was evicted by (3, 4)
    expect(pf.query(7, 7)).toEqual({ timeS: 0, lengthM: 0 });
  });

  it('rejects a node outside the graph', () => {
    const g = randomGraph('x', 10, 20);
    expect(() => new PathFinder(g).query(0, 10)).toThrow(/target 10 is not a node/);
  });

  it('nearestNode finds the closest node', () => {
    const g = gridCity({ rows: 5, cols: 5, spacingM: 500, speedKph: 30 });
    for (const i of [0, 7, 24]) expect(nearestNode(g, g.lat[i]!, g.lon[i]!)).toBe(i);
  });
});
