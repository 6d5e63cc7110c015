/**
 * Build the city of a scenario: road graph (OpenStreetMap or synthetic), charging stations (from
 * the map, listed, generated), activity places, and the routing tables that make every
 * node→station, station→node, node→place and place→node travel time an O(1) lookup.
 *
 * Generated stations (`stations.generate`):
 * - farthest-point (default): greedy k-centre placement — each new station goes to the road node
 *   farthest (great-circle distance, equirectangular approximation) from all stations placed so
 *   far, starting from the existing stations or, if none, the node nearest the network's centroid.
 *   Spreads coverage evenly; deterministic without any random draw.
 * - uniform: road nodes drawn uniformly at random (stream "city").
 */
import { extractStations, snapStations } from '../city/osmStations.js';
import { SpatialIndex } from '../city/spatial.js';
import { gridCity, radialCity } from '../city/synthetic.js';
import type { RoadGraph } from '../city/graph.js';
import { buildTrees, type TreeTable } from '../city/routing.js';
import type { StationDef, ChargerKind } from '../charging/station.js';
import { readReplaySessions, replayChargerIds, type ReplayRecord } from '../charging/replay.js';
import { resolveScenarioPath, UserError, type Scenario } from '../scenario/scenario.js';
import { Streams } from '../core/random.js';
import { loadCityMap } from '../scenario/files.js';
import { checkRoutingTables } from '../scenario/estimate.js';
import { cachedCity, type CityCacheOptions } from './cityCache.js';

export interface City {
  graph: RoadGraph | null;
  stations: StationDef[];
  /** activity places (road node ids) */
  places: Int32Array;
  stationTo: TreeTable | null;
  stationFrom: TreeTable | null;
  placeTo: TreeTable | null;
  placeFrom: TreeTable | null;
  /** replayed sessions and their charger ids (demand.type replay) */
  replay: ReplayRecord[] | null;
  replayChargerIds: string[] | null;
  info: Record<string, number | string>;
}

function stationDef(id: number, name: string, node: number, lat: number, lon: number, origin: string, n: number, kw: number, kind: ChargerKind): StationDef {
  return { id, name, node, lat, lon, origin, chargerKW: new Array(n).fill(kw), chargerKind: new Array(n).fill(kind) };
}

/** Greedy farthest-point placement of `count` new stations on road nodes. */
export function farthestPointNodes(graph: RoadGraph, existing: readonly number[], count: number): number[] {
  const n = graph.nodeCount;
  const { lat, lon } = graph;
  let lat0 = 0;
  for (let i = 0; i < n; i++) lat0 += lat[i]!;
  lat0 /= n;
  const kx = Math.cos((lat0 * Math.PI) / 180);
  const d2 = new Float64Array(n).fill(Infinity);
  const add = (c: number) => {
    const la = lat[c]!;
    const lo = lon[c]!;
    for (let i = 0; i < n; i++) {
      const dy = lat[i]! - la;
      const dx = (lon[i]! - lo) * kx;
      const d = dx * dx + dy * dy;
      if (d < d2[i]!) d2[i] = d;
    }
  };
  const chosen: number[] = [];
  if (existing.length === 0) {
    let lo0 = 0;
    for (let i = 0; i < n; i++) lo0 += lon[i]!;
    lo0 /= n;
    let best = 0;
    let bd = Infinity;
    for (let i = 0; i < n; i++) {
      const dy = lat[i]! - lat0;
      const dx = (lon[i]! - lo0) * kx;
      const d = dx * dx + dy * dy;
      if (d < bd) {
        bd = d;
        best = i;
      }
    }
    chosen.push(best);
    add(best);
  } else for (const e of existing) add(e);
  while (chosen.length < count) {
    let best = -1;
    let bd = -1;
    for (let i = 0; i < n; i++) {
      if (d2[i]! > bd) {
        bd = d2[i]!;
        best = i;
      }
    }
    if (bd <= 0) break; // every node already hosts a station
    chosen.push(best);
    add(best);
  }
  return chosen;
}

/** Progress of the city build: called with a short phase name before each costly step (it only
 * reports; the build does not depend on it). */
export type CityPhase = (phase: string) => void | Promise<void>;

/** Build the city, or load it from the city cache when `cache` is given (src/simulation/cityCache.ts). */
export async function buildCity(sc: Scenario, onPhase?: CityPhase, cache?: CityCacheOptions): Promise<City> {
  if (cache && sc.city.type !== 'none') return cachedCity(sc, cache, { roads: () => buildRoadPart(sc, onPhase), places: (r) => buildPlacePart(sc, r, onPhase) });
  return buildCityUncached(sc, onPhase);
}

async function buildCityUncached(sc: Scenario, onPhase?: CityPhase): Promise<City> {
  const info: Record<string, number | string> = { type: sc.city.type };
  const city: City = {
    graph: null,
    stations: [],
    places: new Int32Array(0),
    stationTo: null,
    stationFrom: null,
    placeTo: null,
    placeFrom: null,
    replay: null,
    replayChargerIds: null,
    info,
  };

  if (sc.city.type === 'none') {
    const st = sc.station;
    if (sc.demand.type === 'replay') {
      const recs = readReplaySessions(resolveScenarioPath(sc, sc.demand.file), sc.demand, Date.parse(sc.start) / 1000, sc.duration);
      const ids = replayChargerIds(recs);
      if (st.chargers !== undefined && st.chargers !== ids.length) {
        throw new UserError([`${sc.file}: station.chargers: replayed sessions use ${ids.length} chargers (one per recorded charger id); leave it out or set ${ids.length} (got ${st.chargers})`]);
      }
      city.replay = recs;
      city.replayChargerIds = ids;
      city.stations.push(stationDef(0, 'site', -1, 0, 0, 'replay', ids.length, sc.demand.maxKW, st.kind));
      info.replayedSessions = recs.length;
    } else {
      city.stations.push(stationDef(0, 'station', -1, 0, 0, 'single', st.chargers ?? 1, st.powerKW, st.kind));
    }
    return city;
  }

  const roads = await buildRoadPart(sc, onPhase);
  return combineCity(roads, await buildPlacePart(sc, roads, onPhase));
}

/** The seed-independent part of a road city (unless stations are drawn uniformly): road graph, stations, their routing tables. */
export interface RoadPart {
  graph: RoadGraph;
  stations: StationDef[];
  stationTo: TreeTable;
  stationFrom: TreeTable;
  /** type, file, nodes, edges, stations, chargers (in this order) */
  info: Record<string, number | string>;
}

/** The activity places (drawn from the seed) and their routing tables. */
export interface PlacePart {
  places: Int32Array;
  placeTo: TreeTable;
  placeFrom: TreeTable;
}

/** A road city from its two parts (the parts may be shared by several cities; the info is copied). */
export function combineCity(roads: RoadPart, p: PlacePart): City {
  const info: Record<string, number | string> = { ...roads.info, places: p.places.length };
  info.routingTableMB = Math.round((roads.stationTo.byteLength + roads.stationFrom.byteLength + p.placeTo.byteLength + p.placeFrom.byteLength) / 1e6);
  return {
    graph: roads.graph,
    stations: roads.stations,
    places: p.places,
    stationTo: roads.stationTo,
    stationFrom: roads.stationFrom,
    placeTo: p.placeTo,
    placeFrom: p.placeFrom,
    replay: null,
    replayChargerIds: null,
    info,
  };
}

/** Road graph, stations and station routing tables of a road city (`city.type` osm, grid, radial). */
export async function buildRoadPart(sc: Scenario, onPhase?: CityPhase): Promise<RoadPart> {
  if (sc.city.type === 'none') throw new TypeError('buildRoadPart: not a road city');
  const cityRng = new Streams(sc.seed).stream('city');
  const info: Record<string, number | string> = { type: sc.city.type };
  let graph: RoadGraph;
  const mapStations: StationDef[] = [];
  if (sc.city.type === 'osm') {
    // unreadable map, or no drivable road inside city.bbox: one UserError line (src/scenario/files.ts)
    await onPhase?.(`reading the map ${sc.city.file}`);
    const { osm, net } = await loadCityMap(sc);
    graph = net.graph;
    info.file = sc.city.file;
    info.nodes = graph.nodeCount;
    info.edges = graph.edgeCount;
    if (sc.stations.fromMap) {
      const md = sc.stations.mapDefaults;
      const found = snapStations(graph, extractStations(osm));
      for (const s of found) {
        const n = s.capacitySource === 'default' ? md.chargers : s.capacity;
        const kw = s.powerSource === 'default' ? (s.kind === 'dc' ? md.dcPowerKW : s.kind === 'ac' ? md.acPowerKW : s.powerKw) : s.powerKw;
        mapStations.push(
          stationDef(0, s.name ?? `${s.osmType}/${s.osmId}`, s.node, s.lat, s.lon, `osm:${s.osmType}/${s.osmId}`, n, kw, s.dc ? 'DC' : 'AC'),
        );
      }
    }
  } else if (sc.city.type === 'grid') {
    const c = sc.city;
    graph = gridCity({ rows: c.rows, cols: c.cols, spacingM: c.spacingM, speedKph: c.speedKph, arterialEvery: c.arterialEvery, arterialSpeedKph: c.arterialSpeedKph });
    info.nodes = graph.nodeCount;
    info.edges = graph.edgeCount;
  } else {
    const c = sc.city;
    graph = radialCity({ rings: c.rings, spokes: c.spokes, ringSpacingM: c.ringSpacingM, speedKph: c.speedKph });
    info.nodes = graph.nodeCount;
    info.edges = graph.edgeCount;
  }

  const stations: StationDef[] = [...mapStations];
  if (sc.stations.list.length) {
    const index = new SpatialIndex(graph);
    sc.stations.list.forEach((s, i) => {
      const near = index.nearestNode(s.lat, s.lon);
      stations.push(stationDef(0, s.name ?? `list-${i}`, near.node, s.lat, s.lon, 'list', s.chargers, s.powerKW, s.kind));
    });
  }
  const gen = sc.stations.generate;
  if (gen) {
    let nodes: number[];
    if (gen.rule === 'uniform') {
      nodes = [];
      for (let i = 0; i < gen.count; i++) nodes.push(cityRng.int(graph.nodeCount));
    } else {
      nodes = farthestPointNodes(graph, stations.map((s) => s.node), gen.count);
    }
    nodes.forEach((node, i) =>
      stations.push(stationDef(0, `gen-${i}`, node, graph.lat[node]!, graph.lon[node]!, 'generated', gen.chargers, gen.powerKW, gen.kind)),
    );
  }
  if (stations.length === 0) {
    throw new UserError([`${sc.file}: stations: the city has no charging station; add stations.list or stations.generate`]);
  }
  stations.forEach((s, i) => (s.id = i));
  info.stations = stations.length;
  info.chargers = stations.reduce((a, s) => a + s.chargerKW.length, 0);

  checkRoutingTables(sc, graph.nodeCount, stations.length, Math.min(sc.city.places, graph.nodeCount)); // refuse tables that cannot fit (exit 2)
  const stationNodes = Int32Array.from(stations, (s) => s.node);
  const roots = `${graph.nodeCount} nodes`;
  await onPhase?.(`routing tables: to ${stationNodes.length} stations (${roots})`);
  const stationTo = buildTrees(graph, stationNodes, 'to');
  await onPhase?.(`routing tables: from ${stationNodes.length} stations (${roots})`);
  const stationFrom = buildTrees(graph, stationNodes, 'from');
  return { graph, stations, stationTo, stationFrom, info };
}

/**
 * The activity places of a road city and their routing tables. The places are drawn from stream
 * "city" after the draws of uniformly generated stations (replayed here: one draw per station), so
 * a road part from the cache gives the same places as a build in one go.
 */
export async function buildPlacePart(sc: Scenario, roads: RoadPart, onPhase?: CityPhase): Promise<PlacePart> {
  if (sc.city.type === 'none') throw new TypeError('buildPlacePart: not a road city');
  const graph = roads.graph;
  const cityRng = new Streams(sc.seed).stream('city');
  const gen = sc.stations.generate;
  if (gen && gen.rule === 'uniform') for (let i = 0; i < gen.count; i++) cityRng.int(graph.nodeCount);
  const P = Math.min(sc.city.places, graph.nodeCount);
  const places = new Int32Array(P);
  for (let i = 0; i < P; i++) places[i] = cityRng.int(graph.nodeCount);
  checkRoutingTables(sc, graph.nodeCount, roads.stations.length, P);
  const roots = `${graph.nodeCount} nodes`;
  await onPhase?.(`routing tables: to ${places.length} places (${roots})`);
  const placeTo = buildTrees(graph, places, 'to');
  await onPhase?.(`routing tables: from ${places.length} places (${roots})`);
  const placeFrom = buildTrees(graph, places, 'from');
  return { places, placeTo, placeFrom };
}
