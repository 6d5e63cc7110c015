import { join } from 'node:path';
import { distance } from '@turf/distance';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { readOsm } from '../../src/city/osm.js';
import { buildRoadNetwork } from '../../src/city/roads.js';
import { SpatialIndex, haversineM, type PointSet } from '../../src/city/spatial.js';

function brute(p: PointSet, lat: number, lon: number): { node: number; distanceM: number } {
  let node = -1;
  let best = Infinity;
  for (let i = 0; i < p.nodeCount; i++) {
    const d = distance([lon, lat], [p.lon[i]!, p.lat[i]!], { units: 'meters' });
    if (d < best) {
      best = d;
      node = i;
    }
  }
  return { node, distanceM: best };
}

describe('SpatialIndex.nearestNode', () => {
  it('haversineM equals turf distance exactly', () => {
    const rng = seedrandom('haversine');
    for (let k = 0; k < 1000; k++) {
      const [a, b, c, d] = [rng() * 170 - 85, rng() * 360 - 180, rng() * 170 - 85, rng() * 360 - 180];
      expect(haversineM(a, b, c, d)).toBe(distance([b, a], [d, c], { units: 'meters' }));
    }
  });

  it('matches brute force on the Monaco graph (inside, near and far outside)', async () => {
    const { graph } = buildRoadNetwork(await readOsm(join(import.meta.dirname, '../../data/osm/monaco-2026-03.osm.pbf')));
    const idx = new SpatialIndex(graph);
    const rng = seedrandom('monaco-nearest');
    for (let k = 0; k < 400; k++) {
      // Mostly within the network's bbox, some well outside it.
      const far = k % 10 === 0 ? 3 : 1;
      const lat = 43.72 + (rng() - 0.5) * 0.06 * far;
      const lon = 7.42 + (rng() - 0.5) * 0.06 * far;
      expect(idx.nearestNode(lat, lon)).toEqual(brute(graph, lat, lon));
    }
    // A graph node's own position finds itself at distance 0.
    expect(idx.nearestNode(graph.lat[1234]!, graph.lon[1234]!)).toEqual({ node: 1234, distanceM: 0 });
    // Very far queries still work (other side of the globe).
    expect(idx.nearestNode(-40, -170)).toEqual(brute(graph, -40, -170));
  });

  it('ties go to the lowest node id (duplicate positions)', () => {
    const pts: PointSet = {
      nodeCount: 4,
      lat: Float64Array.from([1, 0.5, 0.5, 0]),
      lon: Float64Array.from([1, 0.5, 0.5, 0]),
    };
    const idx = new SpatialIndex(pts, { cellSizeM: 1000 });
    expect(idx.nearestNode(0.5, 0.5)).toEqual({ node: 1, distanceM: 0 });
    const sym: PointSet = { nodeCount: 2, lat: Float64Array.from([0, 0]), lon: Float64Array.from([1, -1]) };
    expect(new SpatialIndex(sym, { cellSizeM: 5000 }).nearestNode(0, 0).node).toBe(0);
    expect(new SpatialIndex({ nodeCount: 0, lat: new Float64Array(), lon: new Float64Array() }).nearestNode(0, 0)).toEqual({
      node: -1,
      distanceM: Infinity,
    });
  });

  it('matches brute force for random point sets and cell sizes (property)', () => {
    // Lattice values make exact distance ties (and duplicate points) likely.
    const lattice = fc.integer({ min: -5, max: 5 }).map((k) => k * 0.01);
    const coord = fc.oneof(fc.double({ min: -0.05, max: 0.05, noNaN: true }), lattice);
    const qcoord = fc.oneof(fc.double({ min: -0.2, max: 0.2, noNaN: true }), lattice);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(coord, coord), { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(qcoord, qcoord), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(undefined, 30, 200, 1000, 20000),
        fc.constantFrom(0, 47, 65),
        (pts, queries, cellSizeM, baseLat) => {
          const p: PointSet = {
            nodeCount: pts.length,
            lat: Float64Array.from(pts, (q) => baseLat + q[0]),
            lon: Float64Array.from(pts, (q) => 9 + q[1]),
          };
          const idx = new SpatialIndex(p, cellSizeM === undefined ? {} : { cellSizeM });
          return queries.every(([a, b]) => {
            const got = idx.nearestNode(baseLat + a, 9 + b);
            const want = brute(p, baseLat + a, 9 + b);
            return got.node === want.node && got.distanceM === want.distanceM;
          });
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
