/**
 * Charging stations from OSM: every `amenity=charging_station` node, and every such way (closed
 * areas included; position = mean of its distinct member nodes present in the extract; a way with
 * none of its nodes present is skipped). Relations are not read. Output order: nodes by OSM id,
 * then ways by OSM id.
 *
 * Capacity (number of vehicles served at once):
 *   1. the `capacity` tag when it is a positive integer;
 *   2. else the sum of numeric `socket:<type>` counts;
 *   3. else DEFAULT_CAPACITY = 2.
 *
 * Charger kind and power guess:
 *   - `supercharger`: a `socket:tesla_supercharger(_ccs)` socket, or name/operator/brand/network
 *     containing "Supercharger" (Tesla)                     — default 150 kW, DC;
 *   - `dc`: a chademo / type2_combo / type1_combo / ccs / gb_dc socket — default 50 kW;
 *   - `domestic`: sockets given and all of them domestic (schuko, typee, typef, cee_blue, bs1363,
 *     nema_5_15/5_20, …)                                      — default 3.7 kW, AC;
 *   - `ac`: anything else, including stations without socket tags — default 22 kW.
 *   When `socket:<type>:output` values are tagged ("22 kW", "50kW", "7400 W"; bare numbers are
 *   kW), the power is their maximum instead of the default (`powerSource: 'socket-output'`).
 *
 * `snapStations` attaches each station to its nearest graph node (exact, see spatial.ts).
 */
import type { RoadGraph } from './graph.js';
import { findNode, type OsmData, type OsmTags } from './osm.js';
import { SpatialIndex } from './spatial.js';

export type OsmChargerClass = 'supercharger' | 'dc' | 'ac' | 'domestic';

export const DEFAULT_CAPACITY = 2;

export const DEFAULT_POWER_KW: Readonly<Record<OsmChargerClass, number>> = Object.freeze({
  supercharger: 150,
  dc: 50,
  ac: 22,
  domestic: 3.7,
});

const SUPERCHARGER_SOCKETS = new Set(['tesla_supercharger', 'tesla_supercharger_ccs']);
const DC_SOCKETS = new Set(['chademo', 'type2_combo', 'type1_combo', 'ccs', 'gb_dc', ...SUPERCHARGER_SOCKETS]);
const DOMESTIC_SOCKETS = new Set([
  'schuko',
  'typee',
  'typef',
  'typeg',
  'typej',
  'cee_blue',
  'bs1363',
  'as3112',
  'nema_5_15',
  'nema_5_20',
]);

export interface OsmChargingStation {
  osmType: 'node' | 'way';
  osmId: number;
  lat: number;
  lon: number;
  name?: string;
  operator?: string;
  capacity: number;
  capacitySource: 'capacity' | 'sockets' | 'default';
  /** socket type → tagged value ("2", "yes", …), from `socket:<type>` tags. */
  sockets: Record<string, string>;
  /** "type2=2;typee=2": sockets sorted by type. Empty when none are tagged. */
  socketSummary: string;
  kind: OsmChargerClass;
  /** Whether the guessed kind is DC fast charging. */
  dc: boolean;
  powerKw: number;
  powerSource: 'socket-output' | 'default';
  tags: OsmTags;
}

export type SnappedStation<T> = T & { node: number; snapDistanceM: number };

/** All charging stations in the data (see header for the derived fields). */
export function extractStations(osm: OsmData): OsmChargingStation[] {
  const out: OsmChargingStation[] = [];
  const nodeIds = [...osm.stationNodeTags.keys()].sort((a, b) => a - b);
  for (const id of nodeIds) {
    const i = findNode(osm, id);
    if (i < 0) continue;
    out.push(describeStation('node', id, osm.lat[i]!, osm.lon[i]!, osm.stationNodeTags.get(id)!));
  }
  const ways = osm.ways.filter((w) => w.tags['amenity'] === 'charging_station').sort((a, b) => a.id - b.id);
  for (const w of ways) {
    const seen = new Set<number>();
    let sLat = 0;
    let sLon = 0;
    let present = 0;
    for (const ref of w.refs) {
      if (seen.has(ref)) continue; // closed ways repeat their first node
      seen.add(ref);
      const i = findNode(osm, ref);
      if (i < 0) continue;
      sLat += osm.lat[i]!;
      sLon += osm.lon[i]!;
      present++;
    }
    if (present === 0) continue;
    out.push(describeStation('way', w.id, sLat / present, sLon / present, w.tags));
  }
  return out;
}

/** Derive capacity, sockets and charger kind/power from a station's tags. */
export function describeStation(osmType: 'node' | 'way', osmId: number, lat: number, lon: number, tags: OsmTags): OsmChargingStation {
  const sockets: Record<string, string> = {};
  const outputs: number[] = [];
  for (const [k, v] of Object.entries(tags)) {
    const parts = k.split(':');
    if (parts[0] !== 'socket' || parts.length < 2) continue;
    if (parts.length === 2) sockets[parts[1]!] = v;
    else if (parts.length === 3 && parts[2] === 'output') {
      const kw = parsePowerKw(v);
      if (kw !== undefined) outputs.push(kw);
    }
  }
  const types = Object.keys(sockets).sort();
  const present = types.filter((t) => sockets[t] !== 'no' && sockets[t] !== '0');
  const socketSummary = types.map((t) => `${t}=${sockets[t]}`).join(';');

  let capacity = DEFAULT_CAPACITY;
  let capacitySource: OsmChargingStation['capacitySource'] = 'default';
  const cap = tags['capacity']?.trim();
  let socketSum = 0;
  for (const t of present) if (/^\d+$/.test(sockets[t]!.trim())) socketSum += Number(sockets[t]);
  if (cap !== undefined && /^\d+$/.test(cap) && Number(cap) > 0) {
    capacity = Number(cap);
    capacitySource = 'capacity';
  } else if (socketSum > 0) {
    capacity = socketSum;
    capacitySource = 'sockets';
  }

  const label = ['name', 'operator', 'brand', 'network'].map((k) => tags[k] ?? '').join(' ');
  let kind: OsmChargerClass;
  if (present.some((t) => SUPERCHARGER_SOCKETS.has(t)) || /supercharger/i.test(label)) kind = 'supercharger';
  else if (present.some((t) => DC_SOCKETS.has(t))) kind = 'dc';
  else if (present.length > 0 && present.every((t) => DOMESTIC_SOCKETS.has(t) || t.startsWith('cee_blue'))) kind = 'domestic';
  else kind = 'ac';

  const station: OsmChargingStation = {
    osmType,
    osmId,
    lat,
    lon,
    capacity,
    capacitySource,
    sockets,
    socketSummary,
    kind,
    dc: kind === 'supercharger' || kind === 'dc',
    powerKw: outputs.length ? Math.max(...outputs) : DEFAULT_POWER_KW[kind],
    powerSource: outputs.length ? 'socket-output' : 'default',
    tags,
  };
  if (tags['name'] !== undefined) station.name = tags['name'];
  if (tags['operator'] !== undefined) station.operator = tags['operator'];
  return station;
}

/** "22 kW" → 22, "7400 W" → 7.4, "50" → 50 (kW assumed); several values → the largest. */
export function parsePowerKw(value: string): number | undefined {
  let best: number | undefined;
  for (const m of value.toLowerCase().matchAll(/(\d+(?:[.,]\d+)?)\s*(kw|kva|w|va)?(?![a-z])/g)) {
    const x = Number(m[1]!.replace(',', '.'));
    const kw = m[2] === 'w' || m[2] === 'va' ? x / 1000 : x;
    if (kw > 0 && (best === undefined || kw > best)) best = kw;
  }
  return best;
}

/**
 * Attach each station to its nearest graph node. `index` may be passed to reuse a SpatialIndex
 * built over the same graph.
 */
export function snapStations<T extends { lat: number; lon: number }>(
  graph: RoadGraph,
  stations: readonly T[],
  index: SpatialIndex = new SpatialIndex(graph),
): SnappedStation<T>[] {
  return stations.map((s) => {
    const near = index.nearestNode(s.lat, s.lon);
    return { ...s, node: near.node, snapDistanceM: near.distanceM };
  });
}
