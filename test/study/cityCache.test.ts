/**
 * The city cache: a cached city equals the built one, array for array; another seed reuses the
 * road part; results are byte-identical with and without the cache (Monaco); a truncated, corrupt
 * or mismatched file is ignored and rebuilt; the keys follow every input of the build.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/main.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { Streams } from '../../src/core/random.js';
import { cachedCity, cityCacheKey, readCity, readPlacePart, readRoadPart, roadCacheKey, writeCity } from '../../src/simulation/cityCache.js';
import { buildCity, buildPlacePart, buildRoadPart } from '../../src/simulation/world.js';
import { cli, GOLDEN_SCENARIOS, ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-city-cache-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const GRID = join(GOLDEN_SCENARIOS, 'grid-trips.yaml');
const V = '0.1.0';

function files(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const e of readdirSync(dir)) if (e !== 'timing.json') out[e] = readFileSync(join(dir, e));
  return out;
}

describe('city cache', () => {
  it('a city read back equals the built city, array for array', async () => {
    const sc = loadScenario(GRID);
    const built = await buildCity(sc);
    const opts = { dir: join(tmp, 'grid'), evsimVersion: V };
    writeCity(sc, opts, built);
    const back = readCity(sc, opts)!;
    expect(back).not.toBeNull();
    expect(back.stations).toEqual(built.stations);
    expect(back.info).toEqual(built.info);
    expect(Object.keys(back.info)).toEqual(Object.keys(built.info)); // summary.json prints them in this order
    expect(back.places).toEqual(built.places);
    for (const k of ['lat', 'lon', 'osmId', 'outStart', 'edgeSource', 'edgeTarget', 'edgeLengthM', 'edgeTimeS', 'inStart', 'inEdge'] as const) {
      expect(back.graph![k], k).toEqual(built.graph![k]);
    }
    expect([back.graph!.nodeCount, back.graph!.edgeCount]).toEqual([built.graph!.nodeCount, built.graph!.edgeCount]);
    for (const t of ['stationTo', 'stationFrom', 'placeTo', 'placeFrom'] as const) {
      expect(back[t]!.direction).toBe(built[t]!.direction);
      expect(back[t]!.roots).toEqual(built[t]!.roots);
      expect(back[t]!.timeS).toEqual(built[t]!.timeS);
      expect(back[t]!.lengthM).toEqual(built[t]!.lengthM);
    }
    // two files (road part, place part), no temporary file left behind
    expect(readdirSync(opts.dir).sort().map((f) => f.replace(/-[0-9a-f]{32}\.bin$/, ''))).toEqual(['places', 'roads']);
  });

  const parts = (sc: ReturnType<typeof loadScenario>) => ({ roads: () => buildRoadPart(sc), places: (r: Parameters<typeof buildPlacePart>[1]) => buildPlacePart(sc, r) });

  it('another seed reuses the road part and builds only the places', async () => {
    const dir = join(tmp, 'seeds');
    const seen: string[] = [];
    const opts = { dir, evsimVersion: V, onOutcome: (o: string) => seen.push(o) };
    const a = loadScenario(GRID);
    const b = loadScenario(GRID, { seed: 8 });
    await cachedCity(a, opts, parts(a));
    const cb = await cachedCity(b, opts, parts(b));
    await cachedCity(b, opts, parts(b));
    expect(seen).toEqual(['built', 'roads', 'file']);
    const built = await buildCity(b);
    expect(cb.places).toEqual(built.places);
    expect(cb.placeTo!.timeS).toEqual(built.placeTo!.timeS);
    expect(cb.info).toEqual(built.info);
  });

  it('uniformly generated stations: the places are drawn after them from stream "city", as in one build', async () => {
    const sc = loadScenario(GRID, { overrides: ['stations.generate.rule=uniform'] });
    const city = await buildCity(sc);
    const rng = new Streams(sc.seed).stream('city');
    const n = city.graph!.nodeCount;
    const stationNodes = Array.from({ length: 3 }, () => rng.int(n));
    expect(city.stations.map((s) => s.node)).toEqual(stationNodes);
    expect(Array.from(city.places)).toEqual(Array.from({ length: 20 }, () => rng.int(n)));
    // their road part depends on the seed
    expect(roadCacheKey(loadScenario(GRID, { overrides: ['stations.generate.rule=uniform'], seed: 9 }), V)).not.toBe(roadCacheKey(sc, V));
  });

  it('a truncated, corrupt or mismatched file reads as no file, and cachedCity rebuilds and rewrites it', async () => {
    const sc = loadScenario(GRID);
    const dir = join(tmp, 'corrupt');
    const seen: string[] = [];
    const opts = { dir, evsimVersion: V, onOutcome: (o: string) => seen.push(o) };
    await cachedCity(sc, opts, parts(sc));
    await cachedCity(sc, opts, parts(sc));
    expect(seen).toEqual(['built', 'file']);
    const roads = join(dir, readdirSync(dir).find((f) => f.startsWith('roads-'))!);
    const places = join(dir, readdirSync(dir).find((f) => f.startsWith('places-'))!);
    const key = roadCacheKey(sc, V)!;
    const n = loadScenario(GRID);
    expect(readRoadPart(roads, V, key)).not.toBeNull();
    expect(readRoadPart(roads, '0.2.0', key)).toBeNull();
    expect(readRoadPart(roads, V, key.replace(/^./, (c) => (c === '0' ? '1' : '0')))).toBeNull();
    expect(readPlacePart(places, V, cityCacheKey(n, V)!, 64)).not.toBeNull();
    expect(readPlacePart(places, V, cityCacheKey(n, V)!, 65)).toBeNull(); // another graph
    // a truncated place file: the places are rebuilt, the roads come from their file
    const size = statSync(places).size;
    truncateSync(places, size - 100);
    await cachedCity(sc, opts, parts(sc));
    expect(seen.at(-1)).toBe('roads');
    expect(statSync(places).size).toBe(size);
    // a road file that is not one, then one with the right magic and nothing else
    for (const junk of [Buffer.from('not a city file'), Buffer.concat([Buffer.from('EVSIMCTY'), Buffer.alloc(64)])]) {
      writeFileSync(roads, junk);
      expect(readRoadPart(roads, V, key)).toBeNull();
      await cachedCity(sc, opts, parts(sc));
      expect(seen.at(-1)).toBe('built');
      expect(readRoadPart(roads, V, key)).not.toBeNull();
    }
  });

  it('the keys follow the seed, the city and station fields, the map content and the evsim version; not the fleet', () => {
    const k = (sets: string[]) => cityCacheKey(loadScenario(GRID, { overrides: sets }), V);
    const r = (sets: string[]) => roadCacheKey(loadScenario(GRID, { overrides: sets }), V);
    const base = k([]);
    expect(k(['fleet.size=10'])).toBe(base);
    expect(k(['ledger.stacks=[none]'])).toBe(base);
    for (const s of ['seed=8', 'city.places=21', 'city.rows=9', 'stations.generate.count=4', 'stations.generate.powerKW=22']) expect(k([s]), s).not.toBe(base);
    // the road part: not the seed, not the places
    expect(r(['seed=8'])).toBe(r([]));
    expect(r(['city.places=21'])).toBe(r([]));
    expect(r(['city.rows=9'])).not.toBe(r([]));
    expect(cityCacheKey(loadScenario(GRID), '0.2.0')).not.toBe(base);
    expect(cityCacheKey(loadScenario(join(GOLDEN_SCENARIOS, 'mmc-short.yaml')), V)).toBeNull();
  });

  it('evsim run --cache-dir: writes the cache there, and a second run from it gives the same files', async () => {
    const cacheDir = join(tmp, 'run-cache');
    const a = await cli('run', GRID, '--ledger', 'none', '--quiet', '--out', join(tmp, 'run-a'), '--cache-dir', cacheDir);
    expect(a.code).toBe(0);
    expect(readdirSync(cacheDir).map((f) => f.split('-')[0]).sort()).toEqual(['places', 'roads']);
    const b = await cli('run', GRID, '--ledger', 'none', '--quiet', '--out', join(tmp, 'run-b'), '--cache-dir', cacheDir);
    expect(b.code).toBe(0);
    expect(files(join(tmp, 'run-b'))).toEqual(files(join(tmp, 'run-a')));
    const e = await cli('run', GRID, '--ledger', 'none', '--quiet', '--out', join(tmp, 'run-c'), '--cache-dir', '');
    expect([e.code, e.stderr]).toEqual([2, "--cache-dir '': must name a folder (got an empty string)\n"]);
  });

  it('Monaco: results are byte-identical without the cache, with a cold cache and with a warm one', async () => {
    const sc = loadScenario(join(ROOT, 'scenarios', 'monaco.yaml'), { overrides: ['ledger.stacks=[central]', 'fleet.size=150', 'duration=12h', 'fleet.initialSoc={min: 0.1, max: 0.35}'] });
    const seen: string[] = [];
    const cache = { dir: join(tmp, 'monaco-cache'), evsimVersion: V, onOutcome: (o: string) => seen.push(o) };
    const quiet = { notice: () => {} };
    await runScenario(sc, join(tmp, 'plain'), quiet);
    await runScenario(sc, join(tmp, 'cold'), { ...quiet, cityCache: cache });
    await runScenario(sc, join(tmp, 'warm'), { ...quiet, cityCache: cache });
    expect(seen).toEqual(['built', 'file']);
    const plain = files(join(tmp, 'plain'));
    expect(Object.keys(plain).sort()).toEqual(['ledger.csv', 'manifest.json', 'sessions.csv', 'stations.csv', 'summary.json']);
    expect(JSON.parse(plain['summary.json']!.toString()).sessions.count).toBeGreaterThan(0);
    expect(files(join(tmp, 'cold'))).toEqual(plain);
    expect(files(join(tmp, 'warm'))).toEqual(plain);
  });
});
