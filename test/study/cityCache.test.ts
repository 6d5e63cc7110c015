/**
 * The city cache: a cached city equals the built one, array for array; results are byte-identical
 * with and without the cache (Monaco); a truncated, corrupt or mismatched file is ignored and
 * rebuilt; the key follows every input of the build.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/cli/main.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { cachedCity, cityCacheKey, readCity, writeCity } from '../../src/simulation/cityCache.js';
import { buildCity } from '../../src/simulation/world.js';
import { GOLDEN_SCENARIOS, ROOT } from '../cli/helpers.js';

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
    const key = cityCacheKey(sc, V)!;
    const path = join(tmp, 'grid.bin');
    writeCity(path, V, key, built);
    const back = readCity(path, V, key)!;
    expect(back).not.toBeNull();
    expect(back.stations).toEqual(built.stations);
    expect(back.info).toEqual(built.info);
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
    // no temporary file left behind
    expect(readdirSync(tmp).filter((e) => e.includes('.tmp-'))).toEqual([]);
  });

  it('a truncated, corrupt or mismatched file reads as no file, and cachedCity rebuilds and rewrites it', async () => {
    const sc = loadScenario(GRID);
    const dir = join(tmp, 'corrupt');
    const seen: string[] = [];
    const opts = { dir, evsimVersion: V, onOutcome: (o: string) => seen.push(o) };
    const build = () => buildCity(sc);
    await cachedCity(sc, opts, build);
    await cachedCity(sc, opts, build);
    expect(seen).toEqual(['built', 'file']);
    const [name] = readdirSync(dir);
    const path = join(dir, name!);
    const key = cityCacheKey(sc, V)!;
    expect(readCity(path, '0.2.0', key)).toBeNull();
    expect(readCity(path, V, key.replace(/^./, (c) => (c === '0' ? '1' : '0')))).toBeNull();
    const size = statSync(path).size;
    truncateSync(path, size - 100);
    expect(readCity(path, V, key)).toBeNull();
    await cachedCity(sc, opts, build);
    expect(seen.at(-1)).toBe('built');
    expect(statSync(path).size).toBe(size);
    writeFileSync(path, 'not a city file');
    expect(readCity(path, V, key)).toBeNull();
    const bytes = readFileSync(path);
    bytes.fill(0);
    writeFileSync(path, Buffer.concat([Buffer.from('EVSIMCTY'), Buffer.alloc(64)]));
    expect(readCity(path, V, key)).toBeNull();
    await cachedCity(sc, opts, build);
    expect(seen.at(-1)).toBe('built');
    expect(readCity(path, V, key)).not.toBeNull();
  });

  it('the key follows the seed, the city and station fields, the map content and the evsim version; not the fleet', () => {
    const k = (sets: string[]) => cityCacheKey(loadScenario(GRID, { overrides: sets }), V);
    const base = k([]);
    expect(k(['fleet.size=10'])).toBe(base);
    expect(k(['ledger.stacks=[none]'])).toBe(base);
    for (const s of ['seed=8', 'city.places=21', 'city.rows=9', 'stations.generate.count=4', 'stations.generate.powerKW=22']) expect(k([s]), s).not.toBe(base);
    expect(cityCacheKey(loadScenario(GRID), '0.2.0')).not.toBe(base);
    expect(cityCacheKey(loadScenario(join(GOLDEN_SCENARIOS, 'mmc-short.yaml')), V)).toBeNull();
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
