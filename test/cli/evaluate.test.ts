import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/output/manifest.js';
import { cli, oneLine, ROOT } from './helpers.js';

const CI = join(ROOT, 'evaluation', 'ci.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-evaluate-'));
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

describe('evsim evaluate', () => {
  it('a bad config is one line naming the file and field, exit 2, and nothing is written', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, readFileSync(CI, 'utf8').replace('seeds: [1, 2]', 'seeds: [1, 2, 101]').replace(/\.\.\//g, `${ROOT}/`));
    const out = join(tmp, 'never');
    const o = await cli('evaluate', bad, '--out', out);
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`${bad}: seeds: 101 not an evaluation seed; allowed: 1–100 (training and validation seeds start at 101)`);
    const m = await cli('evaluate', join(tmp, 'missing.yaml'));
    expect(m.code).toBe(2);
    expect(oneLine(m)).toBe(`${join(tmp, 'missing.yaml')}: cannot read evaluation config (no such file)`);
    const notEvsim = join(tmp, 'occupied');
    mkdirSync(notEvsim);
    writeFileSync(join(notEvsim, 'notes.txt'), 'mine');
    const f = await cli('evaluate', CI, '--out', notEvsim);
    expect(f.code).toBe(2);
    expect(oneLine(f)).toMatch(/^--out .*occupied: is not empty and holds no evsim results/);
  });

  it('the CI config end to end: csv, md, runs and manifest with the expected rows; two runs are byte-identical', async () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const o = await cli('evaluate', CI, '--out', a);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toContain('| monaco-300 | ');
    expect(o.stdout).toContain(`results: ${a}/ (4 files`);
    const csv = read(a, 'evaluation.csv').trimEnd().split('\n');
    expect(csv[0]).toBe('case,kind,policy,metric,unit,better,n,mean,sd,ci_lo,ci_hi,reference,diff_mean,diff_ci_lo,diff_ci_hi,diff_rel_pct,optimum,pct_of_optimum,target,measured,met');
    // monaco-300: 4 policies × 3 metrics; caltech: 3 policies × 2 metrics
    expect(csv.length - 1).toBe(4 * 3 + 3 * 2);
    const rows = csv.slice(1).map((l) => l.split(','));
    const col = (name: string) => csv[0]!.split(',').indexOf(name);
    const monaco = rows.filter((r) => r[0] === 'monaco-300');
    expect(new Set(monaco.map((r) => r[col('policy')]))).toEqual(new Set(['nearest', 'min-total-time', 'min-total-time-reserved', 'learned']));
    expect(monaco.every((r) => r[col('n')] === '2')).toBe(true);
    const caltech = rows.filter((r) => r[0] === 'caltech-single-20kW-2d');
    expect(caltech.every((r) => r[col('n')] === '1' && r[col('ci_lo')] === '')).toBe(true); // replay: run once, no CI
    const le = caltech.find((r) => r[col('policy')] === 'learned' && r[col('metric')] === 'energy_kwh')!;
    expect(Number(le[col('pct_of_optimum')])).toBeCloseTo((100 * Number(le[col('mean')])) / Number(le[col('optimum')]), 3);
    expect(le[col('target')]).toBe('≥ 99.5 % of optimum');
    expect(['yes', 'no']).toContain(le[col('met')]);
    // the reference is the best hand-written mean of the primary metric
    const tw = monaco.filter((r) => r[col('metric')] === 'travel_wait_min' && r[col('policy')] !== 'learned');
    const best = tw.reduce((x, y) => (Number(y[col('mean')]) < Number(x[col('mean')]) ? y : x));
    expect(monaco[0]![col('reference')]).toBe(best[col('policy')]);
    // runs.csv: every run's raw values, from which the table's means follow
    const runs = read(a, 'runs.csv').trimEnd().split('\n');
    expect(runs[0]).toBe('case,policy,seed,metric,value');
    expect(runs.length - 1).toBe(4 * 2 * 3 + 3 * 1 * 2);
    const lw = runs.filter((l) => l.startsWith('monaco-300,learned,') && l.includes(',travel_wait_min,')).map((l) => Number(l.split(',')[4]));
    const lrow = monaco.find((r) => r[col('policy')] === 'learned' && r[col('metric')] === 'travel_wait_min')!;
    expect(Number(lrow[col('mean')])).toBeCloseTo((lw[0]! + lw[1]!) / 2, 5);
    const md = read(a, 'evaluation.md');
    expect(md).toContain('## monaco-300');
    expect(md).toContain('## caltech-single-20kW-2d (replay, n = 1)');
    expect(md).toMatch(/\| min-total-time(-reserved)? \(reference\) \|/);
    expect(md).toMatch(/- target: learned, energy delivered: ≥ 99\.5 % of optimum — measured [\d.]+ %: \*\*(not )?met\*\*/);
    const man = JSON.parse(read(a, 'manifest.json'));
    expect(man.kind).toBe('evaluation');
    expect(man.seeds).toEqual([1, 2]);
    expect(man.config.sha256).toBe(sha256Hex(readFileSync(CI)));
    expect(man.models.choice.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(man.models.allocation.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(man.tf.backend).toBe('wasm');
    expect(man.files.map((x: { path: string }) => x.path)).toEqual(['evaluation.csv', 'evaluation.md', 'runs.csv']);
    expect(man.files[0].sha256).toBe(sha256Hex(readFileSync(join(a, 'evaluation.csv'))));
    // determinism: a second run, elsewhere, gives byte-identical tables
    const o2 = await cli('evaluate', CI, '--out', b, '--quiet');
    expect(o2.code, o2.stderr).toBe(0);
    expect(o2.stdout).toBe(`results: ${b}/ (4 files; full tables in evaluation.md)\n`);
    for (const f of ['evaluation.csv', 'evaluation.md', 'runs.csv']) expect(read(b, f), f).toBe(read(a, f));
  });
});
