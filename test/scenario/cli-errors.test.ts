/**
 * User mistakes through the real command line (a subprocess of the built CLI): each is one line on
 * stderr naming the file or the field, exit code 2, no stack trace and no "internal error" — in
 * particular the inputs that used to abort V8 (exit 133), run out of memory, or exit 1.
 *
 * The CLI is compiled into a private folder under dist/ (dist/.cli-errors-<pid>/, not dist/src,
 * which test/cli.test.ts builds) so that the two test files can run in parallel; it is inside the
 * package so that its imports resolve from node_modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-cli-errors-'));
const OUT = join(ROOT, 'dist', `.cli-errors-${process.pid}`);
const MAIN = join(OUT, 'src', 'cli', 'main.js');
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
});

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', OUT], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(MAIN)) throw new Error(`could not build the CLI: ${r.stdout}${r.stderr}`);
}, 120_000);

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string[];
  stdout: string;
}

function evsim(...argv: string[]): Outcome {
  const r = spawnSync(process.execPath, [MAIN, ...argv], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, EVSIM_DEBUG: '' }, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stderr: r.stderr.split('\n').filter((l) => l !== ''), stdout: r.stdout };
}

/** Exit 2 and exactly `n` stderr lines, none of them an internal error or a stack frame. */
function expectUserError(o: Outcome, n = 1): string[] {
  expect(o.signal).toBeNull();
  expect(o.code).toBe(2);
  expect(o.stderr).toHaveLength(n);
  for (const l of o.stderr) {
    expect(l).not.toMatch(/internal error|^\s+at /);
  }
  return o.stderr;
}

const S = (f: string) => join('scenarios', f);

describe('evsim run / validate refuse user mistakes with exit 2 and one line', () => {
  it('demand.arrivalsPerHour=1e308 (used to abort V8, exit 133)', () => {
    const [l] = expectUserError(evsim('run', S('validation/mmc.yaml'), '--set', 'demand.arrivalsPerHour=1e308', '--out', join(tmp, 'o1'), '--quiet'));
    expect(l).toBe(`${S('validation/mmc.yaml')} (with --set): demand.arrivalsPerHour: must be <= 100000 (got 1e+308)`);
  });

  it('duration=1e308 names duration and the allowed range', () => {
    const [l] = expectUserError(evsim('run', S('validation/mmc.yaml'), '--set', 'duration=1e308', '--out', join(tmp, 'o2'), '--quiet'));
    expect(l).toMatch(/: duration: must be a duration > 0 and <= 3660d \(316224000 s\) \(got 1e\+308\)$/);
  });

  it('stations.list[99999999].lat (used to run out of memory)', () => {
    const [l] = expectUserError(evsim('validate', S('validation/mmc.yaml'), '--set', 'stations.list[99999999].lat=43.7'));
    expect(l).toContain('index 99999999 is beyond the list stations.list (length 0)');
  });

  it('a missing fleet.models file is exit 2 in both run and validate, with the same line', () => {
    const missing = join(tmp, 'no-such-fleet.json');
    const v = expectUserError(evsim('validate', S('monaco.yaml'), '--set', `fleet.models=${missing}`));
    const r = expectUserError(evsim('run', S('monaco.yaml'), '--set', `fleet.models=${missing}`, '--out', join(tmp, 'o3'), '--quiet'));
    expect(v).toEqual([`${S('monaco.yaml')}: fleet.models: ${missing}: cannot read fleet file (ENOENT)`]);
    expect(r).toEqual(v);
    expect(existsSync(join(tmp, 'o3'))).toBe(false);
  });

  it('an empty tariff file (used to be an internal error)', () => {
    const empty = join(tmp, 'empty-tariff.json');
    writeFileSync(empty, '');
    const [l] = expectUserError(evsim('run', S('validation/acn-caltech-2019-03.yaml'), '--set', `tariff.file=${empty}`, '--out', join(tmp, 'o4'), '--quiet'));
    expect(l).toContain(`tariff.file: tariff file ${empty}: (whole file) is empty`);
  });

  it('city.bbox without drivable roads', () => {
    const [l] = expectUserError(evsim('run', S('monaco.yaml'), '--set', 'city.bbox=[0,0,1,1]', '--out', join(tmp, 'o5'), '--quiet'));
    expect(l).toContain(': city.bbox: the map ../data/osm/monaco-2026-03.osm.pbf has no drivable road inside [0, 0, 1, 1]');
  });

  it('more QBFT validators than ledger nodes', () => {
    const [l] = expectUserError(evsim('validate', S('faults/qbft-crash.yaml'), '--set', 'ledger.backends.qbft.validators=12'));
    expect(l).toContain("ledger.backends.qbft.validators: must be <= the ledger network's nodes (ledger.network.nodes = 7) (got 12)");
  });

  it('a microsecond block interval is refused up front with the number and the knob', () => {
    const [l] = expectUserError(evsim('run', S('monaco.yaml'), '--ledger', 'qbft', '--set', 'ledger.backends.qbft.blockPeriodS=1e-6', '--out', join(tmp, 'o6'), '--quiet'));
    expect(l).toMatch(/estimated run time ~[\d.]+ days: .* events .*QBFT blocks .*reduce ledger\.backends\.qbft\.blockPeriodS, or pass --force$/);
  });

  it('the working form of the README example: a new station needs lat and lon', () => {
    const [l] = expectUserError(evsim('validate', S('monaco.yaml'), '--set', 'stations.list[0].lat=43.73'));
    expect(l).toContain('stations.list[0]: the new entry made by --set lacks lon (required fields: lat, lon)');
    const ok = evsim('validate', S('monaco.yaml'), '--set', 'stations.list[0].lat=43.73', '--set', 'stations.list[0].lon=7.42');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(': ok (scenario monaco');
  });
});
