/**
 * The built CLI as a user's shell sees it (subprocesses of `node bin/evsim.js`): help text, a
 * reader that goes away early (EPIPE), Ctrl-C / SIGINT during a multi-stack run, kill -9.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_STACK_NAMES } from '../../src/ledger/stacks.js';
import { buildDist, ROOT } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-process-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => buildDist());

const BIN = join(ROOT, 'bin', 'evsim.js');
const env = { ...process.env, EVSIM_DEBUG: '', CI: '' };
const leftovers = (out: string) => readdirSync(dirname(out)).filter((e) => /\.evsim-(tmp|old)-\d+$/.test(e));

/** Files of a folder tree with their contents, timing.json aside. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name !== 'timing.json') out[join(e.parentPath, e.name).slice(dir.length + 1)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

/** A multi-stack run long enough to be interrupted (several seconds). */
const LONG = ['run', 'scenarios/monaco.yaml', '--progress', '--ledger', 'all', '--set', 'fleet.size=2000'];

/** Start the CLI, send `signal` once stderr shows the first stack running; resolve on exit. */
function interrupt(args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; sig: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let sent = false;
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && stderr.includes('evsim: running stack none')) {
        sent = true;
        c.kill(signal);
      }
    });
    c.on('exit', (code, sig) => done({ code, sig, stderr, stdout }));
  });
}

describe('the built CLI under misuse', () => {
  it('run --help lists every shipped stack with a description', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', '--help'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Shipped ledger stacks');
    for (const name of SHIPPED_STACK_NAMES) expect(r.stdout, name).toMatch(new RegExp(`^  ${name.replace(/-/g, '\\-')} +\\S`, 'm'));
  });

  it.each([
    ['schema', 'schema'],
    ['validate', 'validate scenarios/monaco.yaml'],
    ['run', 'run test/golden/scenarios/grid-trips.yaml --out ' + join(tmp, 'epipe')],
  ])('`evsim %s | head -c 1` ends quietly with exit 0 (no EPIPE trace)', (_n, args) => {
    // `exec 1>&-`-like: the reader exits after one byte, before evsim has written everything
    const r = spawnSync('bash', ['-c', `node ${BIN} ${args} | head -c 1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('rc=0\n');
  });

  it('a reader that closes at once (`| true`): schema still exits 0 without a trace', () => {
    const r = spawnSync('bash', ['-c', `node ${BIN} schema | true; echo "rc=\${PIPESTATUS[0]}"`], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('rc=0\n');
  });

  it('SIGINT during a multi-stack run: exit 130, one line saying what completed, no temporary left, earlier results intact', async () => {
    const out = join(tmp, 'interrupted');
    const first = spawnSync(process.execPath, [BIN, 'run', 'scenarios/monaco.yaml', '--quiet', '--ledger', 'all', '--set', 'fleet.size=100', '--set', 'duration=2h', '--out', out], { cwd: ROOT, env, encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    const before = snapshot(out);
    const r = await interrupt([...LONG, '--out', out], 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe('');
    const last = r.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^evsim: interrupted by SIGINT at .*; completed: .*; nothing was saved \\(${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is unchanged\\)$`));
    // the simulation yields between chunks of simulated time, so the signal takes effect inside
    // the first stack, not when it ends
    expect(last).toMatch(/interrupted by SIGINT at stack none \(1 of \d+\)/);
    expect(r.stderr).not.toContain('    at ');
    expect(leftovers(out)).toEqual([]);
    expect(snapshot(out)).toEqual(before);
  });

  it('SIGTERM on a first run: exit 130 and the folder is not created', async () => {
    const out = join(tmp, 'terminated');
    const r = await interrupt([...LONG, '--out', out], 'SIGTERM');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^evsim: interrupted by SIGTERM at .*nothing was saved \(.* was not created\)$/);
    expect(readdirSync(tmp)).not.toContain('terminated');
    expect(leftovers(out)).toEqual([]);
  });

  it('kill -9 leaves a temporary folder; the next run removes it with a notice', async () => {
    const out = join(tmp, 'killed');
    const r = await interrupt([...LONG, '--out', out], 'SIGKILL');
    expect(r.sig).toBe('SIGKILL');
    const left = leftovers(out);
    expect(left).toHaveLength(1);
    const next = spawnSync(process.execPath, [BIN, 'run', 'test/golden/scenarios/mmc-short.yaml', '--quiet', '--out', out], { cwd: ROOT, env, encoding: 'utf8' });
    expect(next.status).toBe(0);
    expect(next.stderr).toBe(`evsim: removed ${join(tmp, left[0]!)}, left over by an interrupted run (process ${/\d+$/.exec(left[0]!)![0]} is gone)\n`);
    expect(leftovers(out)).toEqual([]);
  });
});
