/**
 * manifest.json and the writer's guard: canonical JSON, the scenario hash (what is hashed, and
 * that the same scenario from another folder hashes the same), file sha256s, files only inside
 * the results folder.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertInside } from '../../src/output/folder.js';
import { canonicalJson, RESULTS_SCHEMA_VERSION, scenarioForHash, scenarioHash } from '../../src/output/manifest.js';
import { writeComparison, writeResults } from '../../src/output/output.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { cli, GOLDEN_SCENARIOS, ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-manifest-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MMC = join(GOLDEN_SCENARIOS, 'mmc-short.yaml');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: undefined }, e: null })).toBe('{"a":{"d":[3,{"x":2,"y":1}]},"b":1,"e":null}');
    expect(canonicalJson({ x: Infinity, s: 'é"' })).toBe('{"s":"é\\"","x":null}');
  });
});

describe('scenario hash', () => {
  it('leaves out where the scenario was read from; evsim paths become <evsim>/...', () => {
    const sc = loadScenario(MMC);
    const h = scenarioForHash(sc, ROOT) as Record<string, unknown> & { fleet: { models: string } };
    expect(h).not.toHaveProperty('file');
    expect(h).not.toHaveProperty('baseDir');
    expect(h.fleet.models).toBe('<evsim>/data/ev-specs/fleet-nl-popular.json');
    expect(JSON.stringify(h)).not.toContain(ROOT);
  });

  it('the same scenario from another folder and another checkout hashes the same; any change of a field changes it', () => {
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    copyFileSync(MMC, join(elsewhere, 'mmc-short.yaml'));
    const a = loadScenario(MMC);
    const b = loadScenario(join(elsewhere, 'mmc-short.yaml'));
    expect(scenarioHash(a, ROOT)).toMatch(/^[0-9a-f]{64}$/);
    expect(scenarioHash(b, ROOT)).toBe(scenarioHash(a, ROOT));
    // another checkout: every evsim path moves, the hash does not
    const moved = { ...a, fleet: { ...a.fleet, models: a.fleet.models.replace(ROOT, '/elsewhere/evsim') } };
    expect(scenarioHash(moved, '/elsewhere/evsim')).toBe(scenarioHash(a, ROOT));
    expect(scenarioHash(loadScenario(MMC, { seed: 2 }), ROOT)).not.toBe(scenarioHash(a, ROOT));
    expect(scenarioHash(loadScenario(MMC, { overrides: ['station.chargers=11'] }), ROOT)).not.toBe(scenarioHash(a, ROOT));
  });
});

describe('manifest.json of a real run', () => {
  it('single run: identity fields, every file but timing.json with its sha256 and size; reproducible byte for byte', async () => {
    const out = join(tmp, 'run-a');
    expect((await cli('run', MMC, '--quiet', '--out', out)).code).toBe(0);
    const text = readFileSync(join(out, 'manifest.json'), 'utf8');
    const m = JSON.parse(text);
    const sc = loadScenario(MMC);
    expect(Object.keys(m)).toEqual(['schemaVersion', 'kind', 'evsim', 'scenario', 'seed', 'stack', 'models', 'files']);
    expect(m).toMatchObject({
      schemaVersion: RESULTS_SCHEMA_VERSION,
      kind: 'run',
      evsim: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
      scenario: { name: 'mmc-short', sha256: scenarioHash(sc, ROOT) },
      seed: 1,
      stack: 'none',
      models: {},
    });
    expect(m.files.map((f: { path: string }) => f.path)).toEqual(['sessions.csv', 'summary.json']);
    for (const f of m.files) {
      const b = readFileSync(join(out, f.path));
      expect(f).toEqual({ path: f.path, bytes: b.length, sha256: sha(b) });
    }
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')))[0]).toBe('schemaVersion');
    const out2 = join(tmp, 'run-b');
    expect((await cli('run', MMC, '--quiet', '--out', out2)).code).toBe(0);
    expect(readFileSync(join(out2, 'manifest.json'), 'utf8')).toBe(text);
  });

  it('comparison: the top manifest lists its stacks with the sha256 of each stack manifest', async () => {
    const out = join(tmp, 'comp');
    expect((await cli('run', join(GOLDEN_SCENARIOS, 'grid-trips.yaml'), '--quiet', '--out', out)).code).toBe(0);
    const top = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(top.kind).toBe('comparison');
    expect(top).not.toHaveProperty('stack');
    expect(top.files.map((f: { path: string }) => f.path)).toEqual(['comparison.csv', 'comparison.md']);
    expect(top.stacks.map((s: { name: string }) => s.name)).toEqual(['none', 'qbft']);
    for (const s of top.stacks) {
      expect(s.sha256).toBe(sha(readFileSync(join(out, s.manifest))));
      const m = JSON.parse(readFileSync(join(out, s.manifest), 'utf8'));
      expect(m).toMatchObject({ kind: 'comparison-stack', stack: s.name, scenario: top.scenario, seed: top.seed });
    }
  });
});

describe('every file lands inside the results folder', () => {
  it('assertInside accepts the folder and paths below it, refuses anything else', () => {
    expect(assertInside('/r/out', '/r/out')).toBe('/r/out');
    expect(assertInside('/r/out', '/r/out/none/x.csv')).toBe('/r/out/none/x.csv');
    expect(assertInside('/r/out', '/r/out/a/../b')).toBe('/r/out/b');
    for (const p of ['/r', '/r/out/..', '/r/out/../x', '/r/outside', '/elsewhere']) expect(() => assertInside('/r/out', p), p).toThrow(/outside the results folder/);
  });

  it('writeResults and writeComparison refuse a folder outside their root, writing nothing', () => {
    const root = join(tmp, 'root');
    mkdirSync(root);
    writeFileSync(join(tmp, 'marker'), '');
    const fake = { summary: {} } as never;
    expect(() => writeResults(join(root, '..', 'escaped'), fake, () => ({}), root)).toThrow(/outside the results folder/);
    expect(() => writeComparison(join(root, '..'), [], root)).toThrow(/outside the results folder/);
    expect(() => readFileSync(join(tmp, 'comparison.csv'))).toThrow();
  });
});
