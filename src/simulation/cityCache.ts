/**
 * The city cache: a built city (road graph, stations, activity places, the four routing tables) in
 * one binary file (src/city/cityFile.ts) named by its key, so that the runs of a sweep that share
 * a city build it once.
 *
 * Key: sha256 of the canonical JSON of {cache format, evsim version, scenario seed (places and
 * uniformly generated stations are drawn from it), every `city` field with `city.file` replaced by
 * the sha256 of the file's content, every `stations` field}. Those are all the inputs of
 * buildCity for a road city; `city.type: none` (single-station and replay scenarios, whose build
 * costs nothing) is never cached.
 *
 * A missing, truncated, corrupt or mismatched file is ignored and rebuilt (and rewritten); a
 * failed write (full disk, read-only folder) leaves the run going without a cache file. Concurrent
 * processes share the folder safely: each writes a temporary file and renames it into place.
 * With `memo`, the last city is also kept in memory, for a worker process that runs many runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { graphFromArrays, graphToArrays, readCityFile, treeFromArrays, treeToArrays, writeCityFile, CITY_FILE_FORMAT } from '../city/cityFile.js';
import type { TreeDirection } from '../city/routing.js';
import type { StationDef } from '../charging/station.js';
import { resolveScenarioPath, type Scenario } from '../scenario/scenario.js';
import { combineCity, type City, type PlacePart, type RoadPart } from './world.js';

export interface CityCacheOptions {
  /** the cache folder (created when missing) */
  dir: string;
  evsimVersion: string;
  /** keep the last city in memory too (worker processes) */
  memo?: boolean;
  /** told whether the city came from memory, a file, or was built (tests, progress) */
  onOutcome?: (o: CacheOutcome) => void;
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'null' : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

const fileHashes = new Map<string, { size: number; mtimeMs: number; sha: string }>();
function fileSha256(path: string): string {
  const st = statSync(path);
  const known = fileHashes.get(path);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha;
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  fileHashes.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha });
  return sha;
}

interface Keys {
  /** road graph, stations, station trees: no seed (unless stations are drawn uniformly), no places */
  roads: string;
  /** places and place trees: the roads key, the seed, city.places */
  places: string;
}

function cacheKeys(sc: Scenario, evsimVersion: string): Keys | null {
  if (sc.city.type === 'none') return null;
  const city: Record<string, unknown> = { ...sc.city, places: undefined };
  if (sc.city.type === 'osm') {
    city.file = undefined;
    city.fileSha256 = fileSha256(resolveScenarioPath(sc, sc.city.file));
  }
  const sha = (v: unknown) => createHash('sha256').update(canonical(v)).digest('hex');
  const uniform = sc.stations.generate?.rule === 'uniform';
  const roads = sha({ format: CITY_FILE_FORMAT, evsim: evsimVersion, part: 'roads', seed: uniform ? sc.seed : undefined, city, stations: sc.stations });
  return { roads, places: sha({ format: CITY_FILE_FORMAT, evsim: evsimVersion, part: 'places', roads, seed: sc.seed, places: sc.city.places }) };
}

/** The cache key of a scenario's city (of its places part, which names the roads part), or null when its city is not cached (`city.type: none`). */
export function cityCacheKey(sc: Scenario, evsimVersion: string): string | null {
  return cacheKeys(sc, evsimVersion)?.places ?? null;
}

/** The cache key of a scenario's road part: the same for every seed (unless stations are drawn uniformly). */
export function roadCacheKey(sc: Scenario, evsimVersion: string): string | null {
  return cacheKeys(sc, evsimVersion)?.roads ?? null;
}

interface RoadMeta {
  info: RoadPart['info'];
  stations: StationDef[];
  graph: { nodeCount: number; edgeCount: number };
  trees: { stationTo: TreeMeta; stationFrom: TreeMeta };
}
type TreeMeta = { direction: TreeDirection; nodeCount: number };
interface PlaceMeta {
  trees: { placeTo: TreeMeta; placeFrom: TreeMeta };
}

export function writeRoadPart(path: string, evsimVersion: string, key: string, r: RoadPart): void {
  const arrays = new Map();
  const graph = graphToArrays(r.graph, 'graph', arrays);
  const trees = { stationTo: treeToArrays(r.stationTo, 'stationTo', arrays), stationFrom: treeToArrays(r.stationFrom, 'stationFrom', arrays) };
  writeCityFile(path, evsimVersion, key, { info: r.info, stations: r.stations, graph, trees } satisfies RoadMeta, arrays);
}

export function readRoadPart(path: string, evsimVersion: string, key: string): RoadPart | null {
  const b = readCityFile(path, evsimVersion, key);
  const meta = b?.meta as RoadMeta | undefined;
  if (!b || !meta || !Array.isArray(meta.stations) || !meta.graph || !meta.trees) return null;
  const graph = graphFromArrays(meta.graph, 'graph', b.arrays);
  if (!graph) return null;
  const stationTo = treeFromArrays(meta.trees.stationTo, 'stationTo', b.arrays);
  const stationFrom = treeFromArrays(meta.trees.stationFrom, 'stationFrom', b.arrays);
  if (!stationTo || !stationFrom || stationTo.nodeCount !== graph.nodeCount || stationFrom.nodeCount !== graph.nodeCount) return null;
  return { graph, stations: meta.stations, stationTo, stationFrom, info: meta.info };
}

export function writePlacePart(path: string, evsimVersion: string, key: string, p: PlacePart): void {
  const arrays = new Map();
  arrays.set('places', p.places);
  const trees = { placeTo: treeToArrays(p.placeTo, 'placeTo', arrays), placeFrom: treeToArrays(p.placeFrom, 'placeFrom', arrays) };
  writeCityFile(path, evsimVersion, key, { trees } satisfies PlaceMeta, arrays);
}

export function readPlacePart(path: string, evsimVersion: string, key: string, nodeCount: number): PlacePart | null {
  const b = readCityFile(path, evsimVersion, key);
  const meta = b?.meta as PlaceMeta | undefined;
  if (!b || !meta || !meta.trees) return null;
  const places = b.arrays.get('places');
  const placeTo = treeFromArrays(meta.trees.placeTo, 'placeTo', b.arrays);
  const placeFrom = treeFromArrays(meta.trees.placeFrom, 'placeFrom', b.arrays);
  if (!(places instanceof Int32Array) || !placeTo || !placeFrom || placeTo.nodeCount !== nodeCount || placeFrom.nodeCount !== nodeCount) return null;
  return { places, placeTo, placeFrom };
}

/** Write a built road city to the cache folder (both parts). */
export function writeCity(sc: Scenario, opts: Pick<CityCacheOptions, 'dir' | 'evsimVersion'>, city: City): void {
  const keys = cacheKeys(sc, opts.evsimVersion);
  if (!keys || !city.graph || !city.stationTo || !city.stationFrom || !city.placeTo || !city.placeFrom) throw new TypeError('writeCity: only a road city with its routing tables is cached');
  const files = cacheFiles(opts.dir, keys);
  const { places: _p, routingTableMB: _r, ...info } = city.info;
  writeRoadPart(files.roads, opts.evsimVersion, keys.roads, { graph: city.graph, stations: city.stations, stationTo: city.stationTo, stationFrom: city.stationFrom, info });
  writePlacePart(files.places, opts.evsimVersion, keys.places, { places: city.places, placeTo: city.placeTo, placeFrom: city.placeFrom });
}

/** A road city from the cache folder (both parts), or null when a part is missing or unusable. */
export function readCity(sc: Scenario, opts: Pick<CityCacheOptions, 'dir' | 'evsimVersion'>): City | null {
  const keys = cacheKeys(sc, opts.evsimVersion);
  if (!keys) return null;
  const files = cacheFiles(opts.dir, keys);
  const roads = readRoadPart(files.roads, opts.evsimVersion, keys.roads);
  const places = roads ? readPlacePart(files.places, opts.evsimVersion, keys.places, roads.graph.nodeCount) : null;
  return roads && places ? combineCity(roads, places) : null;
}

export interface CityParts {
  roads: () => Promise<RoadPart>;
  places: (roads: RoadPart) => Promise<PlacePart>;
}

export type CacheOutcome = 'memory' | 'file' | 'built' | 'roads';

let memoRoads: { key: string; part: RoadPart } | null = null;
let memoPlaces: { key: string; part: PlacePart } | null = null;

export const cacheFiles = (dir: string, keys: Keys) => ({ roads: join(dir, `roads-${keys.roads.slice(0, 32)}.bin`), places: join(dir, `places-${keys.places.slice(0, 32)}.bin`) });

/**
 * The scenario's city from memory or the cache folder, part by part, building what is missing
 * (and writing it to the cache). Outcome: memory or file (both parts found), roads (the road part
 * found, the places built), built (both built).
 */
export async function cachedCity(sc: Scenario, opts: CityCacheOptions, build: CityParts): Promise<City> {
  const keys = cacheKeys(sc, opts.evsimVersion);
  if (keys === null) throw new TypeError('cachedCity: not a road city');
  const files = cacheFiles(opts.dir, keys);
  const tryWrite = (f: () => void) => {
    try {
      f();
    } catch {
      /* no cache file this time (full disk, read-only folder): the run goes on */
    }
  };
  let from: 'memory' | 'file' | 'built';
  let roads: RoadPart | null = opts.memo && memoRoads?.key === keys.roads ? memoRoads.part : null;
  if (roads) from = 'memory';
  else {
    roads = readRoadPart(files.roads, opts.evsimVersion, keys.roads);
    from = roads ? 'file' : 'built';
    if (!roads) {
      roads = await build.roads();
      const r = roads;
      tryWrite(() => writeRoadPart(files.roads, opts.evsimVersion, keys.roads, r));
    }
  }
  let places: PlacePart | null = opts.memo && memoPlaces?.key === keys.places ? memoPlaces.part : null;
  let placesFrom: 'memory' | 'file' | 'built' = 'memory';
  if (!places) {
    places = readPlacePart(files.places, opts.evsimVersion, keys.places, roads.graph.nodeCount);
    placesFrom = places ? 'file' : 'built';
    if (!places) {
      places = await build.places(roads);
      const p = places;
      tryWrite(() => writePlacePart(files.places, opts.evsimVersion, keys.places, p));
    }
  }
  if (opts.memo) {
    memoRoads = { key: keys.roads, part: roads };
    memoPlaces = { key: keys.places, part: places };
  }
  opts.onOutcome?.(from === 'built' ? 'built' : placesFrom === 'built' ? 'roads' : from === 'memory' && placesFrom === 'memory' ? 'memory' : 'file');
  return combineCity(roads, places);
}
