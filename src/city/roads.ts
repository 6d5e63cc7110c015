/**
 * Drivable road network from OSM data → `RoadGraph` (largest strongly connected component).
 *
 * Drivable ways: `highway` in DRIVABLE_HIGHWAYS (motorway, trunk, primary, secondary, tertiary,
 * their *_link variants, unclassified, residential, living_street, service, road), except
 *  - `service=parking_aisle|driveway` (private/parking micro-geometry, not through roads),
 *  - `area=yes` (a road area polygon, not a centreline),
 *  - ways closed to cars: the most specific of `motorcar` > `motor_vehicle` > `vehicle` > `access`
 *    that is present decides; values no | private | agricultural | forestry | emergency (alone or
 *    ';'-combined) close the way, anything else (yes, destination, designated, permissive,
 *    customers, delivery, …) keeps it. So `access=private` + `motorcar=destination` stays open and
 *    `motor_vehicle=no` closes a way,
 *  - `oneway=reversible|alternating` (time-dependent direction; dropped, as OSRM does).
 *
 * Direction (from `oneway:motorcar` > `oneway:motor_vehicle` > `oneway`):
 *   yes|true|1 → forward only; -1|reverse → backward only; no|false|0 → both;
 *   absent/other → one-way forward if `junction=roundabout|circular` or `highway=motorway|
 *   motorway_link`, else both.
 *
 * Speed (km/h): `maxspeed:forward` / `maxspeed:backward` for that direction, else `maxspeed`,
 * parsed by `parseMaxspeed` (plain numbers are km/h; "NN mph", "NN knots"; "walk" = 6 km/h;
 * country zones like "FR:urban" via ZONE_SPEEDS_KPH; "none"/"signals"/"variable"/unparsable →
 * class default; several values "a;b" → the lowest). Class defaults (DEFAULT_SPEEDS_KPH):
 *
 *   | highway        | km/h | | highway         | km/h |
 *   |----------------|------|-|-----------------|------|
 *   | motorway       | 110  | | motorway_link   | 60   |
 *   | trunk          | 90   | | trunk_link      | 50   |
 *   | primary        | 60   | | primary_link    | 45   |
 *   | secondary      | 50   | | secondary_link  | 40   |
 *   | tertiary       | 40   | | tertiary_link   | 30   |
 *   | unclassified   | 40   | | residential     | 30   |
 *   | living_street  | 10   | | service         | 15   |
 *   | road           | 30   | |                 |      |
 *
 * Geometry: every consecutive node pair of a way is one edge (no chain contraction); length is the
 * @turf/distance great-circle `distance` in metres; time = length / speed. Pairs touching a node that
 * is missing from the extract are skipped (the way is split there). Nodes are renumbered densely
 * by ascending OSM id, then the graph is restricted to its largest strongly connected component
 * (ties → the component holding the lowest OSM id) and rebuilt with `buildGraph`, so node ids stay
 * in OSM-id order. Data without any drivable edge throws `<source>: no drivable roads found`.
 */
import { distance } from '@turf/distance';
import { buildGraph, type EdgeList, type RoadGraph } from './graph.js';
import { findNode, type OsmData, type OsmTags } from './osm.js';
import { largestScc, stronglyConnectedComponents } from './scc.js';

export const DEFAULT_SPEEDS_KPH: Readonly<Record<string, number>> = Object.freeze({
  motorway: 110,
  motorway_link: 60,
  trunk: 90,
  trunk_link: 50,
  primary: 60,
  primary_link: 45,
  secondary: 50,
  secondary_link: 40,
  tertiary: 40,
  tertiary_link: 30,
  unclassified: 40,
  residential: 30,
  living_street: 10,
  service: 15,
  road: 30,
});

export const DRIVABLE_HIGHWAYS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_SPEEDS_KPH));

/** Walking pace used for `maxspeed=walk` and "XX:walk" zones. */
export const WALK_SPEED_KPH = 6;

const MPH = 1.609344;

/**
 * Implicit ("zone") maxspeed values, km/h. Keys are `CC:zone`; `*:zone` is the fallback for any
 * country not listed. `zone30`, `zone:30` and `zone 30` style values are read as the number.
 */
export const ZONE_SPEEDS_KPH: Readonly<Record<string, number>> = Object.freeze({
  '*:urban': 50,
  '*:rural': 80,
  '*:trunk': 100,
  '*:motorway': 120,
  '*:living_street': 10,
  '*:walk': WALK_SPEED_KPH,
  '*:bicycle_road': 30,
  'AT:rural': 100,
  'AT:trunk': 100,
  'AT:motorway': 130,
  'CH:rural': 80,
  'CH:trunk': 100,
  'CH:motorway': 120,
  'CH:living_street': 20,
  'DE:rural': 100,
  'DE:trunk': 100,
  'DE:motorway': 130, // no general limit; the advisory speed
  'DE:living_street': 7,
  'FI:rural': 80,
  'FI:motorway': 120,
  'FR:rural': 80,
  'FR:trunk': 110,
  'FR:motorway': 130,
  'FR:living_street': 20,
  'IT:rural': 90,
  'IT:trunk': 110,
  'IT:motorway': 130,
  'LI:rural': 80,
  'LI:living_street': 20,
  'MC:urban': 50,
  'GB:nsl_single': 60 * MPH,
  'GB:nsl_dual': 70 * MPH,
  'GB:nsl_restricted': 30 * MPH,
  'GB:motorway': 70 * MPH,
  'UK:nsl_single': 60 * MPH,
  'UK:nsl_dual': 70 * MPH,
  'UK:nsl_restricted': 30 * MPH,
  'UK:motorway': 70 * MPH,
});

/**
 * Parse an OSM `maxspeed` value to km/h; undefined when it carries no usable limit
 * ("none", "signals", "variable", garbage, non-positive) — callers then use the class default.
 */
export function parseMaxspeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let best: number | undefined;
  for (const part of value.split(/[;|]/)) {
    const v = parseOne(part.trim());
    if (v !== undefined && (best === undefined || v < best)) best = v;
  }
  return best;
}

function parseOne(s: string): number | undefined {
  if (s === '') return undefined;
  const lower = s.toLowerCase();
  if (lower === 'walk') return WALK_SPEED_KPH;
  const m = /^(\d+(?:[.,]\d+)?)\s*(km\/h|kmh|kph|mph|knots)?$/.exec(lower);
  if (m) {
    const x = Number(m[1]!.replace(',', '.'));
    const kph = m[2] === 'mph' ? x * MPH : m[2] === 'knots' ? x * 1.852 : x;
    return kph > 0 ? kph : undefined;
  }
  const z = /^([a-z]{2}):\s*(.+)$/.exec(lower);
  if (z) {
    const cc = z[1]!.toUpperCase();
    const zone = z[2]!.trim();
    const num = /^zone\s*:?\s*(\d+)$/.exec(zone);
    if (num) return Number(num[1]) > 0 ? Number(num[1]) : undefined;
    return ZONE_SPEEDS_KPH[`${cc}:${zone}`] ?? ZONE_SPEEDS_KPH[`*:${zone}`];
  }
  return undefined;
}

const CLOSED_ACCESS = new Set(['no', 'private', 'agricultural', 'forestry', 'emergency']);

function closedValue(v: string): boolean {
  return v.split(';').every((p) => CLOSED_ACCESS.has(p.trim()));
}

/** Is this way a drivable road centreline open to cars (see header)? */
export function isDrivable(tags: OsmTags): boolean {
  const hw = tags['highway'];
  if (hw === undefined || !DRIVABLE_HIGHWAYS.has(hw)) return false;
  if (tags['area'] === 'yes') return false;
  const service = tags['service'];
  if (service === 'parking_aisle' || service === 'driveway') return false;
  const access = tags['motorcar'] ?? tags['motor_vehicle'] ?? tags['vehicle'] ?? tags['access'];
  if (access !== undefined && closedValue(access)) return false;
  const ow = onewayTag(tags);
  if (ow === 'reversible' || ow === 'alternating') return false;
  return true;
}

function onewayTag(tags: OsmTags): string | undefined {
  return tags['oneway:motorcar'] ?? tags['oneway:motor_vehicle'] ?? tags['oneway'];
}

/** Allowed travel directions along the way's node order. */
export function wayDirection(tags: OsmTags): { forward: boolean; backward: boolean } {
  const ow = onewayTag(tags);
  if (ow === 'yes' || ow === 'true' || ow === '1') return { forward: true, backward: false };
  if (ow === '-1' || ow === 'reverse') return { forward: false, backward: true };
  if (ow === 'no' || ow === 'false' || ow === '0') return { forward: true, backward: true };
  const j = tags['junction'];
  const hw = tags['highway'];
  if (j === 'roundabout' || j === 'circular' || hw === 'motorway' || hw === 'motorway_link') {
    return { forward: true, backward: false };
  }
  return { forward: true, backward: true };
}

/** Speed in km/h for travel in one direction of the way. */
export function waySpeedKph(
  tags: OsmTags,
  dir: 'forward' | 'backward' = 'forward',
  defaults: Readonly<Record<string, number>> = DEFAULT_SPEEDS_KPH,
): number {
  const v = parseMaxspeed(tags[`maxspeed:${dir}`]) ?? parseMaxspeed(tags['maxspeed']);
  if (v !== undefined) return v;
  return defaults[tags['highway'] ?? ''] ?? defaults['road'] ?? DEFAULT_SPEEDS_KPH['road']!;
}

export interface RoadNetworkOptions {
  /** Overrides of the class default speeds (km/h). */
  defaultSpeedsKph?: Partial<Record<string, number>>;
  /** Restrict to the largest strongly connected component (default true). */
  largestSccOnly?: boolean;
}

export interface RoadNetworkStats {
  drivableWays: number;
  /** Consecutive node pairs skipped because a node is missing from the extract. */
  missingNodePairs: number;
  /** Before the SCC restriction (after parallel-edge removal). */
  nodesBeforeScc: number;
  edgesBeforeScc: number;
  sccCount: number;
}

export interface RoadNetwork {
  graph: RoadGraph;
  stats: RoadNetworkStats;
}

export function buildRoadNetwork(osm: OsmData, opts: RoadNetworkOptions = {}): RoadNetwork {
  const defaults: Record<string, number> = { ...DEFAULT_SPEEDS_KPH };
  for (const [k, v] of Object.entries(opts.defaultSpeedsKph ?? {})) if (v !== undefined) defaults[k] = v;

  // Pass 1: drivable ways → node indices (into osm arrays), directions and speeds; mark nodes used.
  interface Road {
    idx: Int32Array;
    fwdMps: number; // 0 = direction not allowed
    bwdMps: number;
  }
  const roads: Road[] = [];
  const used = new Uint8Array(osm.nodeCount);
  let missingNodePairs = 0;
  let edgeCount = 0;
  for (const way of osm.ways) {
    if (!isDrivable(way.tags)) continue;
    const dir = wayDirection(way.tags);
    const fwdMps = dir.forward ? waySpeedKph(way.tags, 'forward', defaults) / 3.6 : 0;
    const bwdMps = dir.backward ? waySpeedKph(way.tags, 'backward', defaults) / 3.6 : 0;
    const idx = Int32Array.from(way.refs, (id) => findNode(osm, id));
    roads.push({ idx, fwdMps, bwdMps });
    const perPair = (fwdMps > 0 ? 1 : 0) + (bwdMps > 0 ? 1 : 0);
    for (let i = 1; i < idx.length; i++) {
      const a = idx[i - 1]!;
      const b = idx[i]!;
      if (a < 0 || b < 0) {
        missingNodePairs++;
        continue;
      }
      if (a === b) continue;
      used[a] = used[b] = 1;
      edgeCount += perPair;
    }
  }

  // Dense renumbering in ascending OSM id order (osm arrays are sorted by id).
  const newId = new Int32Array(osm.nodeCount).fill(-1);
  let n = 0;
  for (let i = 0; i < osm.nodeCount; i++) if (used[i]) newId[i] = n++;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const osmId = new Float64Array(n);
  for (let i = 0; i < osm.nodeCount; i++) {
    const v = newId[i]!;
    if (v < 0) continue;
    lat[v] = osm.lat[i]!;
    lon[v] = osm.lon[i]!;
    osmId[v] = osm.nodeId[i]!;
  }

  // Pass 2: edges.
  const from = new Int32Array(edgeCount);
  const to = new Int32Array(edgeCount);
  const lengthM = new Float64Array(edgeCount);
  const speedMps = new Float64Array(edgeCount);
  let m = 0;
  for (const r of roads) {
    for (let i = 1; i < r.idx.length; i++) {
      const a = r.idx[i - 1]!;
      const b = r.idx[i]!;
      if (a < 0 || b < 0 || a === b) continue;
      const u = newId[a]!;
      const v = newId[b]!;
      const len = distance([lon[u]!, lat[u]!], [lon[v]!, lat[v]!], { units: 'meters' });
      if (r.fwdMps > 0) {
        from[m] = u;
        to[m] = v;
        lengthM[m] = len;
        speedMps[m++] = r.fwdMps;
      }
      if (r.bwdMps > 0) {
        from[m] = v;
        to[m] = u;
        lengthM[m] = len;
        speedMps[m++] = r.bwdMps;
      }
    }
  }
  if (m === 0) throw new Error(`${osm.source}: no drivable roads found`);
  const full: EdgeList = { nodeCount: n, lat, lon, osmId, from, to, lengthM, speedMps };
  const fullGraph = buildGraph(full);
  const stats: RoadNetworkStats = {
    drivableWays: roads.length,
    missingNodePairs,
    nodesBeforeScc: fullGraph.nodeCount,
    edgesBeforeScc: fullGraph.edgeCount,
    sccCount: 0,
  };
  if (opts.largestSccOnly === false) return { graph: fullGraph, stats };

  const scc = stronglyConnectedComponents(fullGraph);
  stats.sccCount = scc.count;
  const keep = largestScc(fullGraph, scc);
  return { graph: inducedSubgraph(full, keep), stats };
}

/**
 * Restrict an edge list to the given nodes (ascending ids) and build the graph. Node ids are
 * renumbered 0..k-1 in the given order; original speeds are reused so edge times are unchanged.
 */
export function inducedSubgraph(list: EdgeList, nodes: Int32Array): RoadGraph {
  const map = new Int32Array(list.nodeCount).fill(-1);
  for (let k = 0; k < nodes.length; k++) map[nodes[k]!] = k;
  const pick = (a: Float64Array): Float64Array => Float64Array.from(nodes, (v) => a[v]!);
  const from: number[] = [];
  const to: number[] = [];
  const lengthM: number[] = [];
  const speedMps: number[] = [];
  for (let e = 0; e < list.from.length; e++) {
    const u = map[list.from[e]!]!;
    const v = map[list.to[e]!]!;
    if (u < 0 || v < 0) continue;
    from.push(u);
    to.push(v);
    lengthM.push(list.lengthM[e]!);
    speedMps.push(list.speedMps[e]!);
  }
  return buildGraph({
    nodeCount: nodes.length,
    lat: pick(list.lat),
    lon: pick(list.lon),
    osmId: pick(list.osmId),
    from,
    to,
    lengthM,
    speedMps,
  });
}
