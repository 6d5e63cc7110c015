/**
 * The `evsim` command line: exit codes, one line per problem on stderr (never a stack trace),
 * nothing written before the scenario is known to be valid, and a small real run. Most tests call
 * main(argv) in-process; a few run the built CLI (`node bin/evsim.js`) as a subprocess.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type Outcome } from './cli/helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MONACO = join(ROOT, 'scenarios', 'monaco.yaml');
const RESULT_FILES = ['ledger.csv', 'manifest.json', 'sessions.csv', 'stations.csv', 'summary.json', 'timing.json'];

const tmp = mkdtempSync(join(tmpdir(), 'evsim-cli-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


/** Run the built CLI as a subprocess from the package root. */
function evsim(...argv: string[]): Outcome {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, ['bin/evsim.js', ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, EVSIM_DEBUG: '' },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** stderr split into lines (without the final newline). */
const lines = (s: string) => s.replace(/\n$/, '').split('\n');

/** Every line of a user error names where and what: no stack trace, no blank line. */
function expectOneLinePerProblem(o: Outcome, count: number): string[] {
  expect(o.stderr).not.toContain('    at ');
  expect(o.stderr.endsWith('\n')).toBe(true);
  const ls = lines(o.stderr);
  expect(ls, o.stderr).toHaveLength(count);
  for (const l of ls) expect(l.trim()).not.toBe('');
  return ls;
}

function badScenario(): string {
  const f = join(tmp, 'bad.yaml');
  writeFileSync(
    f,
    [
      'city: { type: grid, rows: 5, cols: 5 }',
      'fleet:',
      '  size: 0',
      '  targetSoc: 2',
      'policy:',
      '  stationChoice: closest',
      'colour: red',
      '',
    ].join('\n'),
  );
  return f;
}

// ---------------------------------------------------------------------------------------------

describe('evsim validate (in-process)', () => {
  it('scenarios/monaco.yaml is ok: exit 0, one line on stdout', async () => {
    const o = await cli('validate', MONACO);
    expect(o).toEqual({ code: 0, stdout: `${MONACO}: ok (scenario monaco, trips demand, osm city)\n`, stderr: '' });
  });

  it('a bad file: exit 2, one line per problem on stderr, nothing on stdout', async () => {
    const f = badScenario();
    const o = await cli('validate', f);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    const ls = expectOneLinePerProblem(o, 4);
    for (const l of ls) expect(l.startsWith(`${f}: `), l).toBe(true);
    expect(ls).toContain(`${f}: fleet.size: must be >= 1 (got 0)`);
    expect(ls).toContain(`${f}: policy.stationChoice: allowed: nearest | min-total-time | min-total-time-reserved | random | learned (got "closest")`);
  });

  it('a missing file: exit 2, one line', async () => {
    const f = join(tmp, 'nope.yaml');
    const o = await cli('validate', f);
    expect(o).toEqual({ code: 2, stdout: '', stderr: `${f}: cannot read scenario file (no such file)\n` });
  });

  it('a YAML syntax error: exit 2, one line', async () => {
    const f = join(tmp, 'syntax.yaml');
    writeFileSync(f, 'fleet: [1, 2\nseed: 3\n');
    const o = await cli('validate', f);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toMatch(/: not valid YAML: .*line 2, column 1$/);
  });

  it('--set is validated too, with the same line format', async () => {
    const o = await cli('validate', MONACO, '--set', 'fleet.size=abc', '--set', 'policy.allocation=lottery');
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    const ls = expectOneLinePerProblem(o, 2);
    expect(ls[0]).toBe(`${MONACO} (with --set): fleet.size: expected number (got "abc")`);
    expect(ls[1]).toMatch(new RegExp(`^.* \\(with --set\\): policy\\.allocation: allowed: .*edf.* \\(got "lottery"\\)$`));
  });

  it('--set before the file does not swallow the file name', async () => {
    const o = await cli('validate', '--set', 'fleet.size=5', '--set', 'seed=3', MONACO);
    expect(o.code).toBe(0);
    expect(o.stdout).toContain(': ok (scenario monaco');
  });

  it('a malformed --set is one line, exit 2', async () => {
    const o = await cli('validate', MONACO, '--set', 'fleet.size');
    expect(o).toEqual({ code: 2, stdout: '', stderr: '--set fleet.size: expected path=value, e.g. --set fleet.size=500\n' });
  });

  it('without a file: exit 2, one line', async () => {
    const o = await cli('validate');
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toMatch(/^evsim: /);
  });
});

describe('evsim run: errors before anything is written (in-process)', () => {
  it('--set fleet.size=abc: exit 2, the --out folder is not created', async () => {
    const out = join(tmp, 'never-1');
    const o = await cli('run', MONACO, '--quiet', '--set', 'fleet.size=abc', '--out', out);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toBe(`${MONACO} (with --set): fleet.size: expected number (got "abc")`);
    expect(existsSync(out)).toBe(false);
  });

  it('--seed -1 is rejected: exit 2, nothing written', async () => {
    const out = join(tmp, 'never-2');
    const o = await cli('run', MONACO, '--quiet', '--seed', '-1', '--out', out);
    expect(o).toEqual({ code: 2, stdout: '', stderr: '--seed: must be an integer from 0 to 4294967295 (got -1)\n' });
    expect(existsSync(out)).toBe(false);
  });

  it.each([['1.5', '1.5'], ['abc', '"abc"'], ['4294967296', '4294967296']])('--seed %s is rejected, blamed on --seed (not the file)', async (seed, shown) => {
    const out = join(tmp, 'never-3');
    const o = await cli('run', MONACO, '--quiet', '--seed', seed, '--out', out);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toBe(`--seed: must be an integer from 0 to 4294967295 (got ${shown})`);
    expect(existsSync(out)).toBe(false);
  });

  it('a bad scenario file: exit 2, nothing written', async () => {
    const out = join(tmp, 'never-4');
    const o = await cli('run', badScenario(), '--quiet', '--out', out);
    expect(o.code).toBe(2);
    expectOneLinePerProblem(o, 4);
    expect(existsSync(out)).toBe(false);
  });
});

describe('evsim: unknown commands and options (in-process)', () => {
  it('unknown command: non-zero exit, one line', async () => {
    const o = await cli('frobnicate');
    expect(o.code).not.toBe(0);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toBe('evsim: Unknown command: frobnicate');
  });

  it('unknown option: non-zero exit, one line', async () => {
    const out = join(tmp, 'never-5');
    const o = await cli('run', MONACO, '--bogus', '--out', out);
    expect(o.code).not.toBe(0);
    expect(o.stdout).toBe('');
    expect(expectOneLinePerProblem(o, 1)[0]).toBe('evsim: Unknown argument: bogus');
    expect(existsSync(out)).toBe(false);
  });

  it('no command: non-zero exit, one line', async () => {
    const o = await cli();
    expect(o.code).not.toBe(0);
    expect(expectOneLinePerProblem(o, 1)[0]).toBe('evsim: name a command: run, validate, sweep, evaluate, compare, report, optimum, train, list or schema');
  });
});

describe('evsim schema (in-process)', () => {
  it('prints valid JSON with $schema, identical to scenarios/scenario.schema.json', async () => {
    const o = await cli('schema');
    expect(o.code).toBe(0);
    expect(o.stderr).toBe('');
    const schema = JSON.parse(o.stdout) as { $schema?: string; properties?: object };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties).toHaveProperty('fleet');
    expect(o.stdout, 'scenarios/scenario.schema.json is out of date; regenerate it with `npm run schema`').toBe(
      readFileSync(join(ROOT, 'scenarios', 'scenario.schema.json'), 'utf8'),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('the built CLI (node bin/evsim.js)', () => {
  beforeAll(() => {
    // Build dist/ from the current sources (~1 s), so the subprocess runs what is tested here.
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0 || !existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
      throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
    }
  });

  it('validate scenarios/monaco.yaml exits 0', () => {
    const o = evsim('validate', 'scenarios/monaco.yaml');
    expect(o).toEqual({ code: 0, stdout: 'scenarios/monaco.yaml: ok (scenario monaco, trips demand, osm city)\n', stderr: '' });
  });

  it('a bad file exits 2 with one line per problem on stderr, nothing on stdout, no stack trace', () => {
    const f = badScenario();
    const o = evsim('validate', f);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    for (const l of expectOneLinePerProblem(o, 4)) expect(l.startsWith(`${f}: `), l).toBe(true);
  });

  it('run --set fleet.size=abc exits 2 before writing anything', () => {
    const out = join(tmp, 'never-sub');
    const o = evsim('run', 'scenarios/monaco.yaml', '--quiet', '--set', 'fleet.size=abc', '--out', out);
    expect(o).toEqual({
      code: 2,
      stdout: '',
      stderr: 'scenarios/monaco.yaml (with --set): fleet.size: expected number (got "abc")\n',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('--seed -1 is rejected', () => {
    const out = join(tmp, 'never-sub-2');
    const o = evsim('run', 'scenarios/monaco.yaml', '--seed', '-1', '--out', out);
    expect(o).toEqual({ code: 2, stdout: '', stderr: '--seed: must be an integer from 0 to 4294967295 (got -1)\n' });
    expect(existsSync(out)).toBe(false);
  });

  it('unknown command and unknown option exit non-zero with one line', () => {
    for (const argv of [['frobnicate'], ['validate', 'scenarios/monaco.yaml', '--bogus']]) {
      const o = evsim(...argv);
      expect(o.code, argv.join(' ')).not.toBe(0);
      expect(o.stdout).toBe('');
      expect(expectOneLinePerProblem(o, 1)[0]).toMatch(/^evsim: Unknown (command|argument): /);
    }
  });

  it('schema prints valid JSON with $schema', () => {
    const o = evsim('schema');
    expect(o.code).toBe(0);
    expect(o.stderr).toBe('');
    expect((JSON.parse(o.stdout) as { $schema?: string }).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('--version prints the package version', () => {
    const o = evsim('--version');
    expect(o.code).toBe(0);
    expect(o.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('a small real run writes the results files, with no leftover temporary files', async () => {
    const out = join(tmp, 'monaco-small');
    const args = ['scenarios/monaco.yaml', '--quiet', '--ledger', 'none', '--set', 'fleet.size=50', '--set', 'duration=2h', '--out', out];
    const o = evsim('run', ...args);
    expect(o.stderr).toBe('');
    expect(o.code).toBe(0);
    expect(o.stdout).toBe(`results: ${out}/ (6 files)\n`); // --quiet: one line, no summary table
    const files = readdirSync(out).sort();
    expect(files).toEqual(RESULT_FILES);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ scenario: 'monaco', seed: 1, simulatedSeconds: 7200, fleet: { size: 50 } });
    expect(JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8'))).toHaveProperty('wallSeconds');
    expect(readFileSync(join(out, 'sessions.csv'), 'utf8')).toMatch(/^session_id,ev_id,/);

    // The same run in-process gives byte-identical results (timing.json aside).
    const out2 = join(tmp, 'monaco-small-2');
    const o2 = await cli('run', join(ROOT, args[0]!), ...args.slice(1, -1), out2);
    expect(o2).toEqual({ code: 0, stdout: `results: ${out2}/ (6 files)\n`, stderr: '' });
    expect(readdirSync(out2).sort()).toEqual(RESULT_FILES);
    for (const f of RESULT_FILES.filter((f) => f !== 'timing.json')) {
      expect(readFileSync(join(out2, f), 'utf8'), f).toBe(readFileSync(join(out, f), 'utf8'));
    }
  });

  it('--ledger runs one city day per stack and writes the comparison', async () => {
    const out = join(tmp, 'monaco-stacks');
    const o = evsim('run', 'scenarios/monaco.yaml', '--quiet', '--ledger', 'none,central,qbft', '--set', 'fleet.size=100', '--set', 'duration=3h', '--out', out);
    expect(o.stderr).toBe('');
    expect(o.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['central', 'comparison.csv', 'comparison.md', 'manifest.json', 'none', 'qbft']);
    for (const stack of ['none', 'central', 'qbft']) {
      // chain backends also write blocks.csv
      expect(readdirSync(join(out, stack)).sort()).toEqual(stack === 'qbft' ? [...RESULT_FILES, 'blocks.csv'].sort() : RESULT_FILES);
      const summary = JSON.parse(readFileSync(join(out, stack, 'summary.json'), 'utf8'));
      expect(summary.ledger.stack).toBe(stack);
      expect(summary.ledger.auditProblems).toBe(0);
    }
    const csv = readFileSync(join(out, 'comparison.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(/^stack,records,payments,submitted,final,failed,/);
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['none', 'central', 'qbft']);
    // the same city day: the ideal ledger and the others submit records for the same sessions
    const sessions = (stack: string) => readFileSync(join(out, stack, 'sessions.csv'), 'utf8').split('\n').length;
    expect(sessions('central')).toBe(sessions('none'));
  });

  it('every ledger stack is byte-for-byte reproducible, process after process', async () => {
    const stacks = 'central,pow,nakamoto,qbft-lightning,tangle-flash';
    const args = ['scenarios/monaco.yaml', '--quiet', '--ledger', stacks, '--set', 'fleet.size=150', '--set', 'duration=4h'];
    const a = join(tmp, 'repro-a');
    const b = join(tmp, 'repro-b');
    expect(evsim('run', ...args, '--out', a).code).toBe(0);
    expect(evsim('run', ...args, '--out', b).code).toBe(0);
    const files = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name !== 'timing.json')
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .sort();
    const fa = files(a);
    expect(fa).toEqual(files(b));
    expect(fa.filter((f) => f.endsWith('ledger.csv'))).toHaveLength(5);
    for (const f of fa) expect(readFileSync(join(b, f), 'utf8'), f).toBe(readFileSync(join(a, f), 'utf8'));
  });
});
