/**
 * A run owns its results folder (in-process runs of small scenarios): --out is checked before
 * anything runs, names are safe path segments, every stack is set up before any runs, a results
 * folder is replaced as a whole, leftovers of dead runs are removed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_STACK_NAMES } from '../../src/ledger/stacks.js';
import { cli, GOLDEN_SCENARIOS, oneLine } from './helpers.js';

const MMC = join(GOLDEN_SCENARIOS, 'mmc-short.yaml'); // single stack, < 1 s
const GRID = join(GOLDEN_SCENARIOS, 'grid-trips.yaml'); // none + qbft, a comparison
const tmp = mkdtempSync(join(tmpdir(), 'evsim-folder-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (label: string) => join(tmp, `${label}-${++n}`);
const isRoot = process.getuid?.() === 0;

/** Temporary or old folders of evsim next to `out`. */
const leftovers = (out: string) => readdirSync(dirname(out)).filter((e) => /\.evsim-(tmp|old)-\d+$/.test(e));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('--out is checked before anything runs: exit 2, one line naming --out', () => {
  it("--out '' is an error (it would mean the working directory)", async () => {
    const o = await cli('run', MMC, '--quiet', '--out', '');
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(oneLine(o)).toBe("--out '': must name a folder (got an empty string)");
  });

  it('--out naming a file: refused, the file is untouched', async () => {
    const f = fresh('a-file');
    writeFileSync(f, 'keep me\n');
    const o = await cli('run', MMC, '--quiet', '--out', f);
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`--out ${f}: is a file, not a folder; name a new or empty folder`);
    expect(readFileSync(f, 'utf8')).toBe('keep me\n');
    expect(leftovers(f)).toEqual([]);
  });

  it.runIf(existsSync('/dev/null'))('--out /dev/null: refused as a device', async () => {
    const o = await cli('run', MMC, '--quiet', '--out', '/dev/null');
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe('--out /dev/null: is a device or special file, not a folder; name a new or empty folder');
  });

  it.runIf(existsSync('/proc/self'))('--out /proc/x and /proc/x/y: refused at once (mkdir -p would hang there)', async () => {
    const a = await cli('run', MMC, '--quiet', '--out', '/proc/x');
    expect(a.code).toBe(2);
    expect(oneLine(a)).toMatch(/^--out \/proc\/x: cannot create a folder in \/proc \(/);
    const b = await cli('run', MMC, '--quiet', '--out', '/proc/x/y');
    expect(b.code).toBe(2);
    expect(oneLine(b)).toMatch(/^--out \/proc\/x\/y: cannot create the folder \/proc\/x \(/);
  });

  it.skipIf(isRoot)('--out in a folder that cannot be written: refused', async () => {
    const ro = fresh('read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    try {
      const o = await cli('run', MMC, '--quiet', '--out', join(ro, 'x'));
      expect(o.code).toBe(2);
      expect(oneLine(o)).toBe(`--out ${join(ro, 'x')}: cannot write in ${ro} (permission denied)`);
    } finally {
      chmodSync(ro, 0o755);
    }
  });

  it('a non-empty folder that is not an evsim result is refused and left alone', async () => {
    const d = fresh('not-evsim');
    mkdirSync(d);
    writeFileSync(join(d, 'thesis.tex'), 'precious');
    const o = await cli('run', MMC, '--quiet', '--out', d);
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`--out ${d}: is not empty and holds no evsim results (no manifest.json); name a new or empty folder, or remove it first`);
    expect(readdirSync(d)).toEqual(['thesis.tex']);
    expect(leftovers(d)).toEqual([]);
  });

  it('an evsim result of the other kind is refused (single run vs comparison), both ways', async () => {
    const single = fresh('single');
    expect((await cli('run', MMC, '--quiet', '--out', single)).code).toBe(0);
    const a = await cli('run', GRID, '--quiet', '--out', single);
    expect(a.code).toBe(2);
    expect(oneLine(a)).toBe(`--out ${single}: holds a single run; this run writes a comparison of ledger stacks; use another folder or remove it first`);
    const comp = fresh('comparison');
    expect((await cli('run', GRID, '--quiet', '--out', comp)).code).toBe(0);
    const b = await cli('run', MMC, '--quiet', '--out', comp);
    expect(b.code).toBe(2);
    expect(oneLine(b)).toBe(`--out ${comp}: holds a comparison of ledger stacks; this run writes a single run; use another folder or remove it first`);
    const c = await cli('run', MMC, '--quiet', '--out', join(comp, 'qbft'));
    expect(c.code).toBe(2);
    expect(oneLine(c)).toMatch(/holds one stack folder of a comparison; this run writes a single run/);
    expect(manifest(single).kind).toBe('run');
    expect(manifest(comp).kind).toBe('comparison');
  });

  it('an empty existing folder is used', async () => {
    const d = fresh('empty');
    mkdirSync(d);
    const o = await cli('run', MMC, '--quiet', '--out', d);
    expect(o).toEqual({ code: 0, stdout: `results: ${d}/ (4 files)\n`, stderr: '' });
    expect(readdirSync(d).sort()).toEqual(['manifest.json', 'sessions.csv', 'summary.json', 'timing.json']);
  });

  it('missing parent folders are created; none are left when the run fails', async () => {
    const ok = join(fresh('deep'), 'a', 'b');
    expect((await cli('run', MMC, '--quiet', '--out', ok)).code).toBe(0);
    expect(existsSync(join(ok, 'manifest.json'))).toBe(true);
    const top = fresh('deep-bad');
    const bad = await cli('run', GRID, '--quiet', '--set', 'ledger.backends.qbft.validators=99', '--out', join(top, 'a', 'b'));
    expect(bad.code).toBe(2);
    expect(existsSync(top)).toBe(false);
  });
});

describe('a results folder holds exactly one run', () => {
  it('a new run replaces an earlier result as a whole (no seed-1 file next to seed-2 files)', async () => {
    const d = fresh('replace');
    expect((await cli('run', GRID, '--quiet', '--set', 'output.eventsLog=true', '--out', d)).code).toBe(0);
    expect(readdirSync(join(d, 'none'))).toContain('events.csv');
    const o = await cli('run', GRID, '--quiet', '--seed', '2', '--out', d);
    expect(o.code).toBe(0);
    expect(readdirSync(join(d, 'none')).sort()).toEqual(['ledger.csv', 'manifest.json', 'sessions.csv', 'stations.csv', 'summary.json', 'timing.json']);
    expect(JSON.parse(readFileSync(join(d, 'none', 'summary.json'), 'utf8')).seed).toBe(2);
    expect(manifest(d).seed).toBe(2);
    expect(leftovers(d)).toEqual([]);
  });

  it('a results folder with files its manifest does not list is refused, nothing deleted', async () => {
    const d = fresh('foreign');
    expect((await cli('run', GRID, '--quiet', '--out', d)).code).toBe(0);
    writeFileSync(join(d, 'qbft', 'notes.txt'), 'mine\n');
    const o = await cli('run', GRID, '--quiet', '--seed', '2', '--out', d);
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`--out ${d}: holds files that are not part of its evsim results (qbft/notes.txt); a run replaces the folder as a whole, so move them away first`);
    expect(readFileSync(join(d, 'qbft', 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(manifest(d).seed).toBe(7);
    rmSync(join(d, 'qbft', 'notes.txt'));
    expect((await cli('run', GRID, '--quiet', '--seed', '2', '--out', d)).code).toBe(0);
  });

  it('the working directory (or a folder containing it) is refused as --out', async () => {
    const d = fresh('cwd');
    expect((await cli('run', MMC, '--quiet', '--out', d)).code).toBe(0);
    const here = process.cwd();
    try {
      process.chdir(d);
      const o = await cli('run', MMC, '--quiet', '--out', '.');
      expect(o.code).toBe(2);
      expect(oneLine(o)).toBe('--out .: is the working directory or contains it; a run replaces its folder as a whole; name another folder');
    } finally {
      process.chdir(here);
    }
    expect(manifest(d).kind).toBe('run');
  });

  it('a comparison that omits a stack leaves no old stack folder behind', async () => {
    const d = fresh('stacks');
    expect((await cli('run', GRID, '--quiet', '--out', d)).code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['comparison.csv', 'comparison.md', 'manifest.json', 'none', 'qbft']);
    expect((await cli('run', GRID, '--quiet', '--ledger', 'none,central', '--out', d)).code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['central', 'comparison.csv', 'comparison.md', 'manifest.json', 'none']);
    expect(manifest(d).stacks.map((s: { name: string }) => s.name)).toEqual(['none', 'central']);
    expect(leftovers(d)).toEqual([]);
  });

  it('a leftover temporary folder of a dead run is removed, with a one-line notice', async () => {
    const d = fresh('leftover');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited, so its pid is free
    const junk = join(dirname(d), `.${'leftover'}-x.evsim-tmp-${dead}`);
    mkdirSync(junk);
    writeFileSync(join(junk, 'sessions.csv.tmp-1'), 'half');
    const o = await cli('run', MMC, '--quiet', '--out', d);
    expect(o.code).toBe(0);
    expect(o.stderr).toBe(`evsim: removed ${junk}, left over by an interrupted run (process ${dead} is gone)\n`);
    expect(existsSync(junk)).toBe(false);
    expect(leftovers(d)).toEqual([]);
  });

  it('a leftover of a live process is left alone', async () => {
    const d = fresh('live');
    const live = join(dirname(d), `.other.evsim-tmp-${process.pid}`);
    mkdirSync(live);
    const o = await cli('run', MMC, '--quiet', '--out', d);
    expect(o.code).toBe(0);
    expect(o.stderr).toBe('');
    expect(existsSync(live)).toBe(true);
    rmSync(live, { recursive: true });
  });
});

describe('names used as path segments are safe', () => {
  const rule = 'must be a safe folder name: a letter or digit, then up to 63 letters, digits, ".", "_" or "-"';
  it.each([['..'], ['.'], ['-x'], ['a'.repeat(65)]])('--set name=%s: exit 2, nothing written', async (name) => {
    const out = fresh('name');
    const o = await cli('run', MMC, '--quiet', '--set', `name=${name}`, '--out', out);
    expect(o.code).toBe(2);
    const line = oneLine(o);
    // the scenario schema may reject some of these itself; either way the line names the field
    expect(line.startsWith(`${MMC} (with --set): name: `), line).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it('`name: ..` is refused by validate too', async () => {
    const o = await cli('validate', MMC, '--set', 'name=..');
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`${MMC} (with --set): name: ${rule} (got "..")`);
  });

  it('an inline stack named ".." is refused: nothing lands above --out', async () => {
    const f = join(tmp, 'inline-dotdot.yaml');
    writeFileSync(
      f,
      readFileSync(GRID, 'utf8').replace('stacks: [none, qbft]', 'stacks: [none, { name: "..", records: { backend: none }, payments: { backend: none } }]'),
    );
    const out = fresh('inline');
    const o = await cli('run', f, '--quiet', '--out', out);
    expect(o.code).toBe(2);
    expect(oneLine(o)).toBe(`${f}: ledger.stacks[1].name: ${rule} (got "..")`);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(out)).toEqual([]);
  });
});

describe('every stack is set up before any runs', () => {
  it('--ledger none,qbft with a bad QBFT parameter writes nothing, not even none/', async () => {
    const out = fresh('bad-qbft');
    const o = await cli('run', GRID, '--quiet', '--ledger', 'none,qbft', '--set', 'ledger.backends.qbft.validators=99', '--out', out);
    expect(o.code).toBe(2);
    expect(o.stdout).toBe('');
    expect(oneLine(o)).toMatch(new RegExp(`^${GRID.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(with --set\\): ledger\\.backends\\.qbft\\.validators: must be <= the ledger network's nodes`));
    expect(existsSync(out)).toBe(false);
    expect(leftovers(out)).toEqual([]);
  });
});

describe('what the run prints', () => {
  it('--quiet prints one line: where the results went', async () => {
    const out = fresh('quiet');
    const o = await cli('run', GRID, '--quiet', '--out', out);
    expect(o).toEqual({ code: 0, stdout: `results: ${out}/ (16 files, 2 stacks; full comparison in comparison.md)\n`, stderr: '' });
  });

  it('the printed comparison of all shipped stacks fits 100 columns; the files keep the full table', async () => {
    const out = fresh('all');
    const o = await cli('run', GRID, '--ledger', 'all', '--out', out);
    expect(o.code).toBe(0);
    const lines = o.stdout.split('\n');
    const head = lines.findIndex((l) => /^ {2}stack +final %/.test(l));
    expect(head, o.stdout).toBeGreaterThan(0);
    const table = lines.slice(head, head + 1 + SHIPPED_STACK_NAMES.length);
    for (const l of table) expect(l.length, l).toBeLessThanOrEqual(100);
    expect(table.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(SHIPPED_STACK_NAMES);
    const nFiles = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    expect(nFiles).toBeGreaterThan(SHIPPED_STACK_NAMES.length * 6);
    expect(lines.at(-2)).toBe(`  results: ${out}/ (${nFiles} files, ${SHIPPED_STACK_NAMES.length} stacks; full comparison in comparison.md)`);
    expect(readFileSync(join(out, 'comparison.csv'), 'utf8').split('\n')[0]!.split(',').length).toBeGreaterThan(30);
  });

  it('--progress on a non-terminal prints plain lines on stderr: the city build and each stack', async () => {
    const out = fresh('progress');
    const o = await cli('run', GRID, '--progress', '--out', out);
    expect(o.code).toBe(0);
    const ls = o.stderr.trimEnd().split('\n');
    expect(ls[0]).toBe('evsim: building the city (grid)');
    // each routing table of the build is a phase of its own
    expect(ls.filter((l) => l.startsWith('evsim: building the city: routing tables:'))).toHaveLength(4);
    expect(ls).toContain('evsim: running stack none (1/2)');
    expect(ls).toContain('evsim: running stack qbft (2/2)');
    expect(ls).toContain('evsim: stack qbft (2/2): 100 % (12.0 of 12.0 h simulated)');
    expect(o.stderr).not.toContain('\r');
  });

  it('without --progress and without a terminal (tests, CI logs) there is no progress at all', async () => {
    const o = await cli('run', MMC, '--out', fresh('no-progress'));
    expect(o.code).toBe(0);
    expect(o.stderr).toBe('');
  });
});

describe('a run that died in the middle of the swap', () => {
  it('its complete old folder is renamed back when the results folder is missing; a partial one is removed', async () => {
    const d = fresh('swap');
    expect((await cli('run', MMC, '--quiet', '--out', d)).code).toBe(0);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const old = join(dirname(d), `.${d.split('/').at(-1)}.evsim-old-${dead}`);
    const before = readFileSync(join(d, 'manifest.json'), 'utf8');
    // as if killed between "rename old away" and "rename new in"
    renameSync(d, old);
    const o = await cli('run', MMC, '--quiet', '--seed', '3', '--out', d);
    expect(o.code).toBe(0);
    expect(o.stderr).toBe(`evsim: restored ${d} from ${old}, left by a run that died while replacing it (process ${dead})\n`);
    expect(manifest(d).seed).toBe(3); // the restored result was then replaced by this run, as a whole
    expect(before).toContain('"seed": 1');
    expect(leftovers(d)).toEqual([]);

    // a partial old folder (killed while deleting it) is not restored
    const partial = join(dirname(d), `.${d.split('/').at(-1)}-p.evsim-old-${dead}`);
    mkdirSync(partial);
    writeFileSync(join(partial, 'manifest.json'), JSON.stringify({ schemaVersion: 1, kind: 'run', files: [{ path: 'sessions.csv' }] }));
    const o2 = await cli('run', MMC, '--quiet', '--out', `${d}-p`);
    expect(o2.code).toBe(0);
    expect(o2.stderr).toBe(`evsim: removed ${partial}, left over by an interrupted run (process ${dead} is gone)\n`);
  });
});

describe('the default --out', () => {
  it('is results/<scenario name>/ under the working directory, created with its parent', async () => {
    const here = process.cwd();
    const wd = fresh('wd');
    mkdirSync(wd);
    try {
      process.chdir(wd);
      const o = await cli('run', MMC, '--quiet');
      expect(o).toEqual({ code: 0, stdout: `results: ${join(realpathSync(wd), 'results', 'mmc-short')}/ (4 files)\n`, stderr: '' });
    } finally {
      process.chdir(here);
    }
    expect(readdirSync(wd)).toEqual(['results']);
    expect(readdirSync(join(wd, 'results'))).toEqual(['mmc-short']);
  });
});
