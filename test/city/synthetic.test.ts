import { describe, expect, it } from 'vitest';
import type { RoadGraph } from '../../src/city/graph.js';
import { stronglyConnectedComponents } from '../../src/city/scc.js';
import { haversineM } from '../../src/city/spatial.js';
import { gridCity, radialCity } from '../../src/city/synthetic.js';

function connected(g: RoadGraph): boolean {
  return stronglyConnectedComponents(g).count === 1;
}

describe('gridCity', () => {
  it('node/edge counts, bidirectional and strongly connected', () => {
    const g = gridCity({ rows: 4, cols: 6, spacingM: 200, speedKph: 36 });
    expect(g.nodeCount).toBe(24);
    expect(g.edgeCount).toBe(2 * (4 * 5 + 6 * 3));
    expect(connected(g)).toBe(true);
    for (let e = 0; e < g.edgeCount; e++) {
      const u = g.edgeSource[e]!;
      const v = g.edgeTarget[e]!;
      let back = false;
      for (let f = g.outStart[v]!; f < g.outStart[v + 1]!; f++) if (g.edgeTarget[f] === u) back = true;
      expect(back).toBe(true);
      expect(g.edgeLengthM[e]).toBeCloseTo(200, 2);
      expect(g.edgeTimeS[e]).toBeCloseTo(20, 3); // 200 m at 10 m/s
    }
    expect([...g.osmId].every((x) => x === -1)).toBe(true);
  });

  it('neighbours are spacingM apart (turf/haversine) and the grid is centred on the origin', () => {
    const g = gridCity({ rows: 11, cols: 11, spacingM: 150, speedKph: 30, originLat: 47.16, originLon: 9.51 });
    const centre = 5 * 11 + 5;
    expect(g.lat[centre]).toBeCloseTo(47.16, 12);
    expect(g.lon[centre]).toBeCloseTo(9.51, 12);
    expect(haversineM(g.lat[centre]!, g.lon[centre]!, g.lat[centre + 1]!, g.lon[centre + 1]!)).toBeCloseTo(150, 6);
    expect(haversineM(g.lat[centre]!, g.lon[centre]!, g.lat[centre + 11]!, g.lon[centre + 11]!)).toBeCloseTo(150, 6);
    for (let e = 0; e < g.edgeCount; e++) expect(Math.abs(g.edgeLengthM[e]! - 150)).toBeLessThan(0.1);
    // Row 0 is south, col 0 is west.
    expect(g.lat[0]!).toBeLessThan(g.lat[11]!);
    expect(g.lon[0]!).toBeLessThan(g.lon[1]!);
    const nominal = gridCity({ rows: 3, cols: 3, spacingM: 150, speedKph: 30, lengths: 'nominal' });
    expect([...nominal.edgeLengthM].every((x) => x === 150)).toBe(true);
  });

  it('arterials: every k-th row/column is faster', () => {
    const g = gridCity({ rows: 7, cols: 7, spacingM: 100, speedKph: 36, arterialEvery: 3, arterialSpeedKph: 72, lengths: 'nominal' });
    const time = (u: number, v: number): number => {
      for (let e = g.outStart[u]!; e < g.outStart[u + 1]!; e++) if (g.edgeTarget[e] === v) return g.edgeTimeS[e]!;
      throw new Error('no edge');
    };
    expect(time(0, 1)).toBeCloseTo(5); // row 0 arterial, 20 m/s
    expect(time(7, 8)).toBeCloseTo(10); // row 1 local, 10 m/s
    expect(time(3 * 7 + 4, 3 * 7 + 5)).toBeCloseTo(5); // row 3 arterial
    expect(time(1, 8)).toBeCloseTo(10); // column 1 local
    expect(time(3, 10)).toBeCloseTo(5); // column 3 arterial
    expect(time(6, 13)).toBeCloseTo(5); // column 6 arterial
  });

  it('builds 100×100 and 300×300 grids fast', () => {
    for (const k of [100, 300]) {
      const t0 = performance.now();
      const g = gridCity({ rows: k, cols: k, spacingM: 100, speedKph: 30, arterialEvery: 10, arterialSpeedKph: 50, originLat: 48.2, originLon: 16.37 });
      const ms = performance.now() - t0;
      console.log(`gridCity ${k}×${k}: ${g.nodeCount} nodes, ${g.edgeCount} edges in ${ms.toFixed(0)} ms`);
      expect(g.nodeCount).toBe(k * k);
      expect(g.edgeCount).toBe(4 * k * (k - 1));
      expect(ms).toBeLessThan(3000);
      expect(connected(g)).toBe(true);
      // Even 15 km from the origin latitude, geometry stays within 0.5 % of the spacing.
      for (let e = 0; e < g.edgeCount; e += 997) expect(Math.abs(g.edgeLengthM[e]! - 100)).toBeLessThan(0.5);
    }
  });

  it('rejects bad options', () => {
    expect(() => gridCity({ rows: 0, cols: 3, spacingM: 100, speedKph: 30 })).toThrow(/rows/);
    expect(() => gridCity({ rows: 2.5, cols: 3, spacingM: 100, speedKph: 30 })).toThrow(/rows/);
    expect(() => gridCity({ rows: 3, cols: 3, spacingM: -1, speedKph: 30 })).toThrow(/spacingM/);
    expect(() => gridCity({ rows: 3, cols: 3, spacingM: 100, speedKph: 30, arterialEvery: 0 })).toThrow(/arterialEvery/);
  });
});

describe('radialCity', () => {
  it('counts, geometry and connectivity', () => {
    const rings = 5;
    const spokes = 12;
    const g = radialCity({ rings, spokes, ringSpacingM: 400, speedKph: 40, ringSpeedKph: 60 });
    expect(g.nodeCount).toBe(1 + rings * spokes);
    expect(g.edgeCount).toBe(4 * rings * spokes);
    expect(connected(g)).toBe(true);
    // Ring i node j is at radius i·ringSpacingM from the centre.
    for (let i = 1; i <= rings; i++) {
      for (let j = 0; j < spokes; j++) {
        const v = 1 + (i - 1) * spokes + j;
        expect(haversineM(g.lat[0]!, g.lon[0]!, g.lat[v]!, g.lon[v]!)).toBeCloseTo(400 * i, 1);
      }
    }
    // Spoke 0 points north; the centre has one edge per spoke.
    expect(g.lat[1]!).toBeGreaterThan(g.lat[0]!);
    expect(g.outStart[1]! - g.outStart[0]!).toBe(spokes);
    // Ring edge (chord) length: 2 r sin(π/spokes).
    const chord = 2 * 400 * Math.sin(Math.PI / spokes);
    for (let e = g.outStart[1]!; e < g.outStart[2]!; e++) {
      const t = g.edgeTarget[e]!;
      if (t === 2 || t === spokes) {
        expect(g.edgeLengthM[e]).toBeCloseTo(chord, 1);
        expect(g.edgeTimeS[e]).toBeCloseTo(g.edgeLengthM[e]! / (60 / 3.6), 9);
      }
    }
    expect(() => radialCity({ rings: 1, spokes: 2, ringSpacingM: 100, speedKph: 30 })).toThrow(/spokes/);
  });
});
