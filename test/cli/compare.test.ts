import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPARE_EXIT } from '../../src/cli/main.js';
import { cli, oneLine, ROOT } from './helpers.js';

const BASE = join(ROOT, 'results', 'baselines', 'mmc');
const RULES = join(ROOT, 'results', 'baselines', 'metrics.yaml');

function variant(edit: (s: Record<string, any>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-cmp-'));
  cpSync(BASE, dir, { recursive: true });
  const f = join(dir, 'summary.json');
  const s = JSON.parse(readFileSync(f, 'utf8'));
  edit(s);
  writeFileSync(f, JSON.stringify(s));
  return dir;
}

describe('evsim compare (CLI)', () => {
  it('a shipped baseline equals a fresh run of its scenario (exit 0)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'evsim-cmp-')), 'mmc');
    expect((await cli('run', join(ROOT, 'scenarios', 'validation', 'mmc.yaml'), '--quiet', '--out', out)).code).toBe(0);
    const r = await cli('compare', BASE, out, '--metrics', RULES);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/0 regressed, 0 missing, 0 incomparable/);
  }, 60_000);

  it('exit 4 on a worse headline metric, 0 on a better one, 4 on any other change', async () => {
    const worse = variant((s) => (s.sessions.meanWaitSeconds += 1));
    const better = variant((s) => (s.sessions.meanWaitSeconds -= 1));
    const moved = variant((s) => (s.events += 1));
    const w = await cli('compare', BASE, worse, '--metrics', RULES);
    expect(w.code).toBe(COMPARE_EXIT.regressed);
    expect(w.stdout).toMatch(/\| sessions\.meanWaitSeconds \|.*\| regressed \|/);
    expect((await cli('compare', BASE, better, '--metrics', RULES)).code).toBe(0);
    const m = await cli('compare', BASE, moved, '--metrics', RULES);
    expect(m.code).toBe(COMPARE_EXIT.regressed);
    expect(m.stdout).toMatch(/changed \(must be equal\)/);
    const csv = await cli('compare', BASE, worse, '--format', 'csv');
    expect(csv.stdout.split('\n')[0]).toBe('metric,kind,base,cand,change,status,note');
  });

  it('exit 5 when a metric is missing on one side', async () => {
    const fewer = variant((s) => delete s.sessions.p95WaitSeconds);
    const r = await cli('compare', BASE, fewer, '--metrics', RULES);
    expect(r.code).toBe(COMPARE_EXIT.incomparable);
    expect(r.stdout).toMatch(/sessions\.p95WaitSeconds .*missing/);
  });

  it('bad input: one line, exit 2', async () => {
    const r = await cli('compare', BASE, join(tmpdir(), 'no-such-evsim-folder'));
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/no-such-evsim-folder: not a folder/);
    const rules = join(mkdtempSync(join(tmpdir(), 'evsim-cmp-')), 'r.yaml');
    writeFileSync(rules, 'metrics:\n  - { match: x, factor: 0.5 }\n');
    const b = await cli('compare', BASE, BASE, '--metrics', rules);
    expect(b.code).toBe(2);
    expect(oneLine(b)).toBe(`${rules}: metrics[0].factor: must be > 1 (got 0.5)`);
  });
});
