import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distance } from '@turf/distance';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoadGraph } from '../../src/city/graph.js';
import { readOsm, type BBox } from '../../src/city/osm.js';
import {
  DEFAULT_SPEEDS_KPH,
  buildRoadNetwork,
  isDrivable,
  parseMaxspeed,
  wayDirection,
  waySpeedKph,
  type RoadNetwork,
} from '../../src/city/roads.js';
import { stronglyConnectedComponents } from '../../src/city/scc.js';

const DATA = join(import.meta.dirname, '../../data/osm');
const FIXTURE = join(import.meta.dirname, 'fixtures/oneway.osm');
/** The European part of the Liechtenstein file (it also contains a Nominatim test area in Alabama). */
const LIECHTENSTEIN_BBOX: BBox = [8.8, 46.9, 9.7, 47.6];

/** Directed edges as "fromOsmId>toOsmId", sorted. */
function edgeKeys(g: RoadGraph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.edgeCount; e++) out.push(`${g.osmId[g.edgeSource[e]!]}>${g.osmId[g.edgeTarget[e]!]}`);
  return out.sort();
}

function isStronglyConnected(g: RoadGraph): boolean {
  return g.nodeCount === 0 || stronglyConnectedComponents(g).count === 1;
}

describe('maxspeed parsing', () => {
  const table: [string | undefined, number | undefined][] = [
    ['50', 50],
    ['50 km/h', 50],
    ['50kmh', 50],
    ['7.5', 7.5],
    ['30 mph', 30 * 1.609344],
    ['20mph', 20 * 1.609344],
    ['10 knots', 18.52],
    ['walk', 6],
    ['none', undefined],
    ['signals', undefined],
    ['variable', undefined],
    ['', undefined],
    ['0', undefined],
    ['fast', undefined],
    [undefined, undefined],
    ['50;30', 30],
    ['FR:urban', 50],
    ['fr:urban', 50],
    ['FR:rural', 80],
    ['FR:motorway', 130],
    ['CH:urban', 50],
    ['CH:rural', 80],
    ['CH:motorway', 120],
    ['DE:rural', 100],
    ['DE:motorway', 130],
    ['DE:zone30', 30],
    ['DE:zone:30', 30],
    ['DE:living_street', 7],
    ['IT:rural', 90],
    ['AT:motorway', 130],
    ['LI:urban', 50],
    ['MC:urban', 50],
    ['XX:rural', 80], // unknown country → generic zone table
    ['XX:walk', 6],
    ['GB:nsl_single', 60 * 1.609344],
    ['XX:nonsense', undefined],
  ];
  for (const [value, kph] of table) {
    it(`${JSON.stringify(value)} → ${kph}`, () => {
      const got = parseMaxspeed(value);
      if (kph === undefined) expect(got).toBeUndefined();
      else expect(got).toBeCloseTo(kph, 9);
    });
  }

  it('falls back to class defaults, honours maxspeed:forward/backward', () => {
    expect(waySpeedKph({ highway: 'residential' })).toBe(30);
    expect(waySpeedKph({ highway: 'motorway', maxspeed: 'none' })).toBe(DEFAULT_SPEEDS_KPH['motorway']);
    expect(waySpeedKph({ highway: 'primary', maxspeed: 'CH:urban' })).toBe(50);
    const t = { highway: 'secondary', maxspeed: '60', 'maxspeed:backward': '40' };
    expect(waySpeedKph(t, 'forward')).toBe(60);
    expect(waySpeedKph(t, 'backward')).toBe(40);
    expect(DEFAULT_SPEEDS_KPH).toMatchObject({ motorway: 110, trunk: 90, primary: 60, residential: 30, living_street: 10, service: 15 });
    for (const [hw, v] of Object.entries(DEFAULT_SPEEDS_KPH)) {
      if (hw.endsWith('_link')) expect(v).toBeLessThan(DEFAULT_SPEEDS_KPH[hw.slice(0, -5)]!);
    }
  });
});

describe('way filters', () => {
  it('drivable classes and exclusions', () => {
    expect(isDrivable({ highway: 'residential' })).toBe(true);
    expect(isDrivable({ highway: 'motorway_link' })).toBe(true);
    expect(isDrivable({ highway: 'footway' })).toBe(false);
    expect(isDrivable({ highway: 'track' })).toBe(false);
    expect(isDrivable({ building: 'yes' })).toBe(false);
    expect(isDrivable({ highway: 'service', service: 'parking_aisle' })).toBe(false);
    expect(isDrivable({ highway: 'service', service: 'driveway' })).toBe(false);
    expect(isDrivable({ highway: 'service', service: 'alley' })).toBe(true);
    expect(isDrivable({ highway: 'pedestrian', area: 'yes' })).toBe(false);
    expect(isDrivable({ highway: 'residential', area: 'yes' })).toBe(false);
    expect(isDrivable({ highway: 'residential', access: 'no' })).toBe(false);
    expect(isDrivable({ highway: 'residential', access: 'private' })).toBe(false);
    expect(isDrivable({ highway: 'residential', access: 'private', motorcar: 'yes' })).toBe(true);
    expect(isDrivable({ highway: 'residential', access: 'no', motor_vehicle: 'destination' })).toBe(true);
    expect(isDrivable({ highway: 'residential', access: 'no', motor_vehicle: 'designated' })).toBe(true);
    expect(isDrivable({ highway: 'residential', motor_vehicle: 'no' })).toBe(false);
    expect(isDrivable({ highway: 'residential', motorcar: 'no' })).toBe(false);
    expect(isDrivable({ highway: 'unclassified', motor_vehicle: 'agricultural;forestry' })).toBe(false);
    expect(isDrivable({ highway: 'residential', access: 'destination' })).toBe(true);
    expect(isDrivable({ highway: 'residential', oneway: 'reversible' })).toBe(false);
  });

  it('one-way rules', () => {
    const both = { forward: true, backward: true };
    const fwd = { forward: true, backward: false };
    const bwd = { forward: false, backward: true };
    expect(wayDirection({ highway: 'residential' })).toEqual(both);
    for (const v of ['yes', 'true', '1']) expect(wayDirection({ highway: 'residential', oneway: v })).toEqual(fwd);
    for (const v of ['-1', 'reverse']) expect(wayDirection({ highway: 'residential', oneway: v })).toEqual(bwd);
    expect(wayDirection({ highway: 'primary', junction: 'roundabout' })).toEqual(fwd);
    expect(wayDirection({ highway: 'primary', junction: 'circular' })).toEqual(fwd);
    expect(wayDirection({ highway: 'primary', junction: 'roundabout', oneway: 'no' })).toEqual(both);
    expect(wayDirection({ highway: 'motorway' })).toEqual(fwd);
    expect(wayDirection({ highway: 'motorway_link' })).toEqual(fwd);
    expect(wayDirection({ highway: 'motorway', oneway: 'no' })).toEqual(both);
    expect(wayDirection({ highway: 'trunk' })).toEqual(both);
  });
});

describe('buildRoadNetwork on the hand-written fixture', () => {
  let all: RoadNetwork;
  let scc: RoadNetwork;
  beforeAll(async () => {
    const osm = await readOsm(FIXTURE);
    all = buildRoadNetwork(osm, { largestSccOnly: false });
    scc = buildRoadNetwork(osm);
  });

  it('emits exactly the expected directed edges', () => {
    expect(edgeKeys(all.graph)).toEqual(
      ['1>2', '3>2', '4>5', '5>6', '6>4', '1>4', '4>1', '3>9', '9>3', '9>8', '8>11', '11>8', '2>6'].sort(),
    );
    // Only nodes of drivable ways, renumbered by OSM id.
    expect([...all.graph.osmId]).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 11]);
    expect(all.stats.drivableWays).toBe(8); // 101–104, 107–109, 113
  });

  it('lengths from turf distance, times from maxspeed / class defaults', () => {
    const g = all.graph;
    for (let e = 0; e < g.edgeCount; e++) {
      const u = g.edgeSource[e]!;
      const v = g.edgeTarget[e]!;
      expect(g.edgeLengthM[e]).toBe(distance([g.lon[u]!, g.lat[u]!], [g.lon[v]!, g.lat[v]!], { units: 'meters' }));
    }
    const find = (a: number, b: number): number => {
      for (let e = 0; e < g.edgeCount; e++) if (g.osmId[g.edgeSource[e]!] === a && g.osmId[g.edgeTarget[e]!] === b) return e;
      throw new Error(`no edge ${a}>${b}`);
    };
    const e12 = find(1, 2); // residential, 30 km/h
    expect(g.edgeTimeS[e12]).toBeCloseTo(g.edgeLengthM[e12]! / (30 / 3.6), 9);
    const e26 = find(2, 6); // tertiary maxspeed=50
    expect(g.edgeTimeS[e26]).toBeCloseTo(g.edgeLengthM[e26]! / (50 / 3.6), 9);
    const e45 = find(4, 5); // primary roundabout, 60 km/h
    expect(g.edgeTimeS[e45]).toBeCloseTo(g.edgeLengthM[e45]! / (60 / 3.6), 9);
    expect(g.edgeLengthM[e12]).toBeGreaterThan(75);
    expect(g.edgeLengthM[e12]).toBeLessThan(85); // 0.001° lon at 43.73° N ≈ 80.4 m
  });

  it('restricts to the largest strongly connected component', () => {
    expect([...scc.graph.osmId]).toEqual([1, 2, 4, 5, 6]);
    expect(edgeKeys(scc.graph)).toEqual(['1>2', '1>4', '2>6', '4>1', '4>5', '5>6', '6>4'].sort());
    expect(isStronglyConnected(scc.graph)).toBe(true);
    expect(scc.stats.nodesBeforeScc).toBe(9);
    expect(scc.stats.edgesBeforeScc).toBe(13);
  });
});

describe('buildRoadNetwork without roads', () => {
  it('throws a one-line error naming the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-roads-'));
    const p = join(dir, 'paths.osm');
    writeFileSync(
      p,
      '<osm version="0.6"><node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="0.001"/>' +
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>',
    );
    const osm = await readOsm(p);
    expect(() => buildRoadNetwork(osm)).toThrow(`${p}: no drivable roads found`);
  });
});

describe('buildRoadNetwork on the shipped extracts (pinned counts)', () => {
  it('Monaco: PBF and XML give the same graph', async () => {
    const t0 = performance.now();
    const pbf = buildRoadNetwork(await readOsm(join(DATA, 'monaco-2026-03.osm.pbf')));
    const t1 = performance.now();
    const xml = buildRoadNetwork(await readOsm(join(DATA, 'monaco-2026-03.osm.gz')));
    const t2 = performance.now();
    console.log(`Monaco: pbf read+build ${(t1 - t0).toFixed(0)} ms, xml read+build ${(t2 - t1).toFixed(0)} ms`);
    const g = pbf.graph;
    // Pinned (computed once from the shipped extract).
    expect(g.nodeCount).toBe(5699);
    expect(g.edgeCount).toBe(8514);
    expect(pbf.stats).toEqual({
      drivableWays: 1043,
      missingNodePairs: 0,
      nodesBeforeScc: 6383,
      edgesBeforeScc: 9485,
      sccCount: 397,
    });
    // Sanity ranges.
    expect(g.nodeCount).toBeGreaterThan(0.8 * pbf.stats.nodesBeforeScc);
    expect(g.edgeCount / g.nodeCount).toBeGreaterThan(1.2);
    expect(g.edgeCount / g.nodeCount).toBeLessThan(2.5);
    let totalKm = 0;
    for (let e = 0; e < g.edgeCount; e++) totalKm += g.edgeLengthM[e]! / 1000;
    expect(totalKm).toBeGreaterThan(50);
    expect(totalKm).toBeLessThan(200);
    for (let v = 0; v < g.nodeCount; v++) {
      if (!(g.lat[v]! > 43.4 && g.lat[v]! < 43.8 && g.lon[v]! > 7.4 && g.lon[v]! < 7.6)) throw new Error(`node ${v} outside Monaco`);
    }
    expect(isStronglyConnected(g)).toBe(true);
    // XML gives the very same graph, bit for bit.
    expect(xml.stats).toEqual(pbf.stats);
    expect(xml.graph).toEqual(pbf.graph);
  });

  it('Liechtenstein (clipped to Europe)', async () => {
    const osm = await readOsm(join(DATA, 'liechtenstein-2021-01.osm.pbf'), { bbox: LIECHTENSTEIN_BBOX });
    const t0 = performance.now();
    const net = buildRoadNetwork(osm);
    console.log(`Liechtenstein: build ${(performance.now() - t0).toFixed(0)} ms`);
    const g = net.graph;
    expect(g.nodeCount).toBe(21930);
    expect(g.edgeCount).toBe(43590);
    expect(net.stats.nodesBeforeScc).toBe(22178);
    expect(net.stats.edgesBeforeScc).toBe(44018);
    expect(g.nodeCount).toBeGreaterThan(0.9 * net.stats.nodesBeforeScc);
    expect(g.edgeCount / g.nodeCount).toBeGreaterThan(1.5);
    expect(g.edgeCount / g.nodeCount).toBeLessThan(2.5);
    let totalKm = 0;
    for (let e = 0; e < g.edgeCount; e++) totalKm += g.edgeLengthM[e]! / 1000;
    expect(totalKm).toBeGreaterThan(500);
    expect(totalKm).toBeLessThan(1500);
    let outside = 0;
    for (let v = 0; v < g.nodeCount; v++) if (!(g.lat[v]! > 46.9 && g.lat[v]! < 47.6 && g.lon[v]! > 8.8 && g.lon[v]! < 9.7)) outside++;
    expect(outside).toBe(0);
    expect(isStronglyConnected(g)).toBe(true);
    // Node ids follow OSM id order.
    for (let v = 1; v < g.nodeCount; v++) if (!(g.osmId[v]! > g.osmId[v - 1]!)) throw new Error('osm ids not ascending');
  });

  it('Liechtenstein file unclipped: its largest SCC is the Alabama test area (why the bbox is needed)', async () => {
    const net = buildRoadNetwork(await readOsm(join(DATA, 'liechtenstein-2021-01.osm.pbf')));
    expect(net.graph.nodeCount).toBe(55337);
    expect(net.graph.edgeCount).toBe(111915);
    expect(net.graph.lat[0]).toBeLessThan(34);
    expect(net.graph.lon[0]).toBeLessThan(-85);
  });
});
