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
import type { City } from './world.js';

export interface CityCacheOptions {
  /** the cache folder (created when missing) */
  dir: string;
  evsimVersion: string;
  /** keep the last city in memory too (worker processes) */
  memo?: boolean;
  /** told whether the city came from memory, a file, or was built (tests, progress) */
  onOutcome?: (o: 'memory' | 'file' | 'built') => void;
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

/** The cache key of a scenario's city, or null when its city is not cached (`city.type: none`). */
export function cityCacheKey(sc: Scenario, evsimVersion: string): string | null {
  if (sc.city.type === 'none') return null;
  const city: Record<string, unknown> = { ...sc.city };
  if (sc.city.type === 'osm') {
    city.file = undefined;
    city.fileSha256 = fileSha256(resolveScenarioPath(sc, sc.city.file));
  }
  return createHash('sha256')
    .update(canonical({ format: CITY_FILE_FORMAT, evsim: evsimVersion, seed: sc.seed, city, stations: sc.stations }))
    .digest('hex');
}

const TREES = ['stationTo', 'stationFrom', 'placeTo', 'placeFrom'] as const;

interface CityMeta {
  info: City['info'];
  stations: StationDef[];
  graph: { nodeCount: number; edgeCount: number };
  trees: Record<(typeof TREES)[number], { direction: TreeDirection; nodeCount: number }>;
}

export function writeCity(path: string, evsimVersion: string, key: string, city: City): void {
  if (!city.graph || !city.stationTo || !city.stationFrom || !city.placeTo || !city.placeFrom) throw new TypeError('writeCity: only a road city with its routing tables is cached');
  const arrays = new Map();
  const graph = graphToArrays(city.graph, 'graph', arrays);
  arrays.set('places', city.places);
  const trees = {} as CityMeta['trees'];
  for (const t of TREES) trees[t] = treeToArrays(city[t]!, t, arrays);
  const meta: CityMeta = { info: city.info, stations: city.stations, graph, trees };
  writeCityFile(path, evsimVersion, key, meta, arrays);
}

export function readCity(path: string, evsimVersion: string, key: string): City | null {
  const b = readCityFile(path, evsimVersion, key);
  if (!b) return null;
  const meta = b.meta as CityMeta;
  if (!meta || !Array.isArray(meta.stations) || !meta.graph || !meta.trees) return null;
  const graph = graphFromArrays(meta.graph, 'graph', b.arrays);
  const places = b.arrays.get('places');
  if (!graph || !(places instanceof Int32Array)) return null;
  const city: City = { graph, stations: meta.stations, places, stationTo: null, stationFrom: null, placeTo: null, placeFrom: null, replay: null, replayChargerIds: null, info: meta.info };
  for (const t of TREES) {
    const m = meta.trees[t];
    const tree = m ? treeFromArrays(m, t, b.arrays) : null;
    if (!tree || tree.nodeCount !== graph.nodeCount) return null;
    city[t] = tree;
  }
  return city;
}

let memo: { key: string; city: City } | null = null;

/** The scenario's city from memory or the cache folder, else `build()` (then written to the cache). */
export async function cachedCity(sc: Scenario, opts: CityCacheOptions, build: () => Promise<City>): Promise<City> {
  const key = cityCacheKey(sc, opts.evsimVersion);
  if (key === null) return build();
  if (opts.memo && memo?.key === key) {
    opts.onOutcome?.('memory');
    return memo.city;
  }
  const path = join(opts.dir, `city-${key.slice(0, 32)}.bin`);
  let city = readCity(path, opts.evsimVersion, key);
  if (city) opts.onOutcome?.('file');
  else {
    city = await build();
    try {
      writeCity(path, opts.evsimVersion, key, city);
    } catch {
      /* no cache file this time (full disk, read-only folder): the run goes on */
    }
    opts.onOutcome?.('built');
  }
  if (opts.memo) memo = { key, city };
  return city;
}
