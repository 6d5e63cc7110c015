/**
 * The layers of src/ import only downward. Each folder of src/ is a layer with a rank; a file may
 * import from its own layer or from a layer of lower rank, never from a peer or a higher layer.
 * Type-only imports count too: a type is a dependency.
 *
 *   0 core        kernel, priorities, random streams, typed arrays, errors — imports nothing
 *   1 city        road graph, OpenStreetMap, routing
 *   1 charging    EVs, stations, sessions, allocation and choice policies, tariffs, replay files
 *   1 ledger      contract, port, registry, network, codec, backends
 *   2 scenario    the scenario schema, validation and loading
 *   2 optimum     offline (hindsight) optima of charging sites, with the HiGHS LP solver
 *   2 ai          the TensorFlow.js runtime, model files, learned policies
 *   3 simulation  composes the layers above into a run
 *   4 output      results folders
 *   5 report      HTML reports of results folders (charts, city replay)
 *   5 study       sweeps: plans, runs, collected statistics
 *   6 cli         the command line
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

export const LAYERS: Record<string, number> = {
  core: 0,
  city: 1,
  charging: 1,
  ledger: 1,
  roaming: 1,
  scenario: 2,
  optimum: 2,
  ai: 2,
  simulation: 3,
  output: 4,
  report: 5,
  study: 5,
  cli: 6,
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Relative import specifiers of a source file (static, dynamic and `export … from`). */
export function importsOf(src: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1]!);
  return out;
}

/** Upward or sideways imports: one line per offence. */
export function layerViolations(files: { path: string; text: string }[]): string[] {
  const bad: string[] = [];
  for (const f of files) {
    const from = f.path.split('/')[0]!;
    const rf = LAYERS[from];
    if (rf === undefined) {
      bad.push(`${f.path}: folder src/${from} is not a known layer`);
      continue;
    }
    for (const spec of importsOf(f.text)) {
      const target = posix.normalize(posix.join(posix.dirname(f.path), spec));
      if (target.startsWith('..')) {
        bad.push(`${f.path}: imports ${spec}, outside src/`);
        continue;
      }
      const to = target.split('/')[0]!;
      if (to === from) continue;
      const rt = LAYERS[to];
      if (rt === undefined || rt >= rf) bad.push(`${f.path}: ${from} (layer ${rf}) imports ${target} (${to}, layer ${rt ?? '?'})`);
    }
  }
  return bad;
}

describe('layers', () => {
  const files = walk(SRC).map((p) => ({ path: relative(SRC, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }));

  it('every folder of src/ is a layer, and src/ has code in each', () => {
    const folders = new Set(files.map((f) => f.path.split('/')[0]!));
    expect([...folders].sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('no file imports upward or sideways', () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it('core imports no other module of evsim', () => {
    for (const f of files.filter((x) => x.path.startsWith('core/'))) {
      for (const spec of importsOf(f.text)) expect(spec.startsWith('./'), `${f.path} imports ${spec}`).toBe(true);
    }
  });

  it('the check catches an upward, a sideways and an outside import', () => {
    const bad = layerViolations([
      { path: 'ledger/x.ts', text: "import { Simulation } from '../simulation/simulation.js';" },
      { path: 'city/y.ts', text: "import type { Station } from '../charging/station.js';" },
      { path: 'core/z.ts', text: "export { a } from '../../test/helpers.js';" },
      { path: 'simulation/ok.ts', text: "import { Kernel } from '../core/kernel.js';\nconst m = await import('./world.js');" },
    ]);
    expect(bad).toHaveLength(3);
    expect(bad[0]).toMatch(/ledger \(layer 1\) imports simulation\/simulation\.js/);
    expect(bad[1]).toMatch(/city \(layer 1\) imports charging/);
    expect(bad[2]).toMatch(/outside src/);
  });
});

describe('tidiness', () => {
  const all = (dir: string): string[] => walk(dir);
  const roots = ['src', 'test', 'bench', 'scripts'].map((d) => join(SRC, '..', d));

  it('no double type assertion (`as unknown as`) anywhere in the code', () => {
    const bad: string[] = [];
    const self = fileURLToPath(import.meta.url);
    const re = new RegExp(['\\bas', 'unknown', 'as\\b'].join(' '));
    for (const r of roots) for (const f of all(r)) if (f !== self && re.test(readFileSync(f, 'utf8'))) bad.push(relative(join(SRC, '..'), f));
    expect(bad).toEqual([]);
  });

  it('one name per concept: the AC/DC kind of a charger is ChargerKind (no ChargeKind)', () => {
    const bad: string[] = [];
    for (const f of all(SRC)) if (/\bChargeKind\b/.test(readFileSync(f, 'utf8'))) bad.push(relative(SRC, f));
    expect(bad).toEqual([]);
  });
});
