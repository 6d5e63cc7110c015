import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSides, comparisonCsv, DEFAULT_SPEC, flatten, globToRegExp, loadCompareSpec, loadSide } from '../../src/output/compare.js';
import { UserError } from '../../src/core/errors.js';

function run(dir: string, summary: object, wallTotal?: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  if (wallTotal !== undefined) writeFileSync(join(dir, 'timing.json'), JSON.stringify({ wallSeconds: { total: wallTotal } }));
}

const summary = (wait: number, met: number, extra: object = {}) => ({
  sessions: { meanWaitSeconds: wait, demandMetPct: met },
  ledger: { stack: 'x', backends: [{ role: 'records', latencySeconds: { p95: 5 } }] },
  ...extra,
});

function rules(tmp: string, yaml: string): string {
  const f = join(tmp, 'rules.yaml');
  writeFileSync(f, yaml);
  return f;
}

describe('evsim compare', () => {
  it('flattens summaries, keying backends by role', () => {
    const m = new Map<string, number>();
    flatten(summary(1, 2), '', m);
    expect([...m.keys()]).toEqual(['sessions.meanWaitSeconds', 'sessions.demandMetPct', 'ledger.backends.records.latencySeconds.p95']);
    expect(globToRegExp('*/sessions.*').test('qbft/sessions.meanWaitSeconds')).toBe(true);
    expect(globToRegExp('*/sessions.*').test('qbft/ledger.backends.records.x')).toBe(false);
    expect(globToRegExp('**').test('a/b.c')).toBe(true);
    expect(globToRegExp('**/sessions.abandoned').test('sessions.abandoned')).toBe(true);
    expect(globToRegExp('**/sessions.abandoned').test('qbft/sessions.abandoned')).toBe(true);
    expect(globToRegExp('**/sessions.abandoned').test('qbft/xsessions.abandoned')).toBe(false);
  });

  it('by default any change of a deterministic metric is a regression; equal is same', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    run(join(tmp, 'a'), summary(80, 65));
    run(join(tmp, 'b'), summary(80, 65));
    run(join(tmp, 'c'), summary(80.5, 65));
    const a = loadSide(join(tmp, 'a'));
    expect(compareSides(a, loadSide(join(tmp, 'b')), DEFAULT_SPEC).counts).toMatchObject({ same: 3, regressed: 0 });
    const c = compareSides(a, loadSide(join(tmp, 'c')), DEFAULT_SPEC);
    expect(c.counts.regressed).toBe(1);
    expect(c.rows.find((r) => r.status === 'regressed')!.metric).toBe('sessions.meanWaitSeconds');
  });

  it('applies directions and tolerances, first matching rule wins, ignore drops metrics', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    run(join(tmp, 'a'), summary(80, 65));
    run(join(tmp, 'b'), summary(79, 64.9));
    const spec = loadCompareSpec(
      rules(tmp, ['metrics:', '  - { match: sessions.meanWaitSeconds, direction: lower }', '  - { match: sessions.demandMetPct, direction: higher, abs: 0.2 }', '  - { match: "**" }', 'ignore: ["ledger.**"]'].join('\n')),
    );
    const c = compareSides(loadSide(join(tmp, 'a')), loadSide(join(tmp, 'b')), spec);
    expect(c.rows.map((r) => [r.metric, r.status])).toEqual([
      ['sessions.demandMetPct', 'same'],
      ['sessions.meanWaitSeconds', 'improved'],
    ]);
    const worse = compareSides(loadSide(join(tmp, 'b')), loadSide(join(tmp, 'a')), spec);
    expect(worse.counts.regressed).toBe(1);
    expect(comparisonCsv(worse).split('\n')[0]).toBe('metric,kind,base,cand,change,status,note');
  });

  it('reports metrics on one side only as missing, and comparison folders by stack', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    for (const side of ['a', 'b']) {
      mkdirSync(join(tmp, side), { recursive: true });
      writeFileSync(join(tmp, side, 'manifest.json'), JSON.stringify({ kind: 'comparison' }));
    }
    run(join(tmp, 'a', 'none'), summary(80, 65));
    run(join(tmp, 'a', 'qbft'), summary(81, 65));
    run(join(tmp, 'b', 'none'), summary(80, 65));
    const a = loadSide(join(tmp, 'a'));
    expect(a.kind).toBe('comparison');
    expect(a.metrics.get('qbft/sessions.meanWaitSeconds')).toBe(81);
    const c = compareSides(a, loadSide(join(tmp, 'b')), DEFAULT_SPEC);
    expect(c.counts).toMatchObject({ same: 3, missing: 3, regressed: 0 });
  });

  it('compares wall-clock metrics only from repeated samples, with a factor and a Mann–Whitney test', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    const base = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0];
    base.forEach((t, i) => run(join(tmp, 'base', String(i)), summary(80, 65), t));
    base.forEach((t, i) => run(join(tmp, 'slow', String(i)), summary(80, 65), t * 1.3));
    base.forEach((t, i) => run(join(tmp, 'noisy', String(i)), summary(80, 65), t * (i % 2 ? 1.5 : 0.8)));
    base.forEach((t, i) => run(join(tmp, 'unstable', String(i)), summary(80 + (i === 3 ? 1 : 0), 65), t));
    const spec = loadCompareSpec(rules(tmp, 'metrics:\n  - { match: timing.wallSeconds.total, kind: wall, direction: lower, factor: 1.1 }\n  - { match: "**" }\n'));
    const b = loadSide(join(tmp, 'base'));
    expect(b.kind).toBe('repeated');
    const slow = compareSides(b, loadSide(join(tmp, 'slow')), spec);
    expect(slow.rows.find((r) => r.kind === 'wall')).toMatchObject({ status: 'regressed' });
    expect(compareSides(loadSide(join(tmp, 'slow')), b, spec).rows.find((r) => r.kind === 'wall')!.status).toBe('improved');
    const noisy = compareSides(b, loadSide(join(tmp, 'noisy')), spec).rows.find((r) => r.kind === 'wall')!;
    expect(noisy.status).toBe('same');
    const unstable = compareSides(b, loadSide(join(tmp, 'unstable')), spec);
    expect(unstable.rows.find((r) => r.metric === 'sessions.meanWaitSeconds')!.status).toBe('incomparable');
    // one sample per side is not enough
    const one = compareSides(loadSide(join(tmp, 'base', '0')), loadSide(join(tmp, 'slow', '0')), spec);
    expect(one.rows.find((r) => r.kind === 'wall')!.status).toBe('incomparable');
  });

  it('reads a sweep index by run id', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    mkdirSync(join(tmp, 's'));
    writeFileSync(join(tmp, 's', 'index.csv'), 'id,ledger,seed,status,wall_s,sessions.meanWaitSeconds\nr1,none,1,done,0.8,80\nr2,qbft,1,done,0.9,81\n');
    const s = loadSide(join(tmp, 's'));
    expect(s.kind).toBe('sweep');
    expect(s.metrics.get('r2/sessions.meanWaitSeconds')).toBe(81);
    expect(s.metrics.get('r1/seed')).toBe(1);
    expect(s.wall.get('timing.wall_s')).toEqual([0.8, 0.9]);
  });

  it('bad input: one line naming the file and field', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cmp-'));
    const f = rules(tmp, 'metrics:\n  - { match: x, direction: down }\n');
    try {
      loadCompareSpec(f);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).lines).toEqual([`${f}: metrics[0].direction: allowed: lower | higher | equal (got "down")`]);
    }
    expect(() => loadSide(join(tmp, 'nope'))).toThrow(/not a folder/);
    expect(() => loadSide(tmp)).toThrow(/not an evsim results folder/);
  });
});
