/** Progress display rules and the 100-column comparison (no timing involved). */
import { describe, expect, it } from 'vitest';
import { ProgressView, progressMode } from '../../src/cli/progress.js';
import { comparisonText } from '../../src/cli/present.js';
import type { Summary } from '../../src/simulation/simulation.js';

function sink(columns = 100) {
  const chunks: string[] = [];
  return { chunks, columns, write: (s: string) => void chunks.push(s), text: () => chunks.join('') };
}

describe('progressMode', () => {
  it('off with --quiet or --no-progress, on a terminal unless CI is set, forced by --progress', () => {
    expect(progressMode({ quiet: true, progress: true }, { isTTY: true }, {})).toBe('off');
    expect(progressMode({ quiet: false, progress: false }, { isTTY: true }, {})).toBe('off');
    expect(progressMode({ quiet: false }, { isTTY: true }, {})).toBe('tty');
    expect(progressMode({ quiet: false }, { isTTY: true }, { CI: 'true' })).toBe('off');
    expect(progressMode({ quiet: false }, { isTTY: false }, {})).toBe('off');
    expect(progressMode({ quiet: false, progress: true }, { isTTY: false }, { CI: 'true' })).toBe('lines');
    expect(progressMode({ quiet: false, progress: true }, { isTTY: true }, { CI: 'true' })).toBe('tty');
  });
});

describe('ProgressView', () => {
  it('terminal: frames are redrawn in place, never wider than the terminal, and clear() erases the last one', () => {
    const s = sink(40);
    const p = new ProgressView('tty', s);
    p.phase('building the city (osm ../data/osm/a-very-long-file-name.osm.pbf)');
    p.stack(1, 2, 'qbft');
    p.update(3600, 7200, 1000);
    p.update(7200, 7200, 2000);
    for (const c of s.chunks) {
      expect(c.startsWith('\r\x1b[K')).toBe(true);
      expect(c.includes('\n')).toBe(false);
      expect(c.length - 4).toBeLessThanOrEqual(39);
    }
    expect(s.chunks.at(-1)).toMatch(/^\r\x1b\[Kevsim: stack qbft \(1\/2\) \[#+…$/); // cut to the width
    const wide = sink(100);
    const q = new ProgressView('tty', wide);
    q.stack(1, 1, 'none');
    q.update(7200, 7200, 2000);
    expect(wide.chunks.at(-1)).toMatch(/\] 100 % {2}2\.0 of 2\.0 h {2}/);
    p.clear();
    expect(s.chunks.at(-1)).toBe('\r\x1b[K');
    const n = s.chunks.length;
    p.clear(); // nothing left to erase
    expect(s.chunks.length).toBe(n);
  });

  it('lines (--progress without a terminal): the phase, each stack start and every 10 % once', () => {
    const s = sink();
    const p = new ProgressView('lines', s);
    p.phase('building the city (grid)');
    p.stack(2, 3, 'central');
    for (let t = 0; t <= 7200; t += 360) p.update(t, 7200, 0);
    const ls = s.text().trimEnd().split('\n');
    expect(ls[0]).toBe('evsim: building the city (grid)');
    expect(ls[1]).toBe('evsim: running stack central (2/3)');
    expect(ls.slice(2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `evsim: stack central (2/3): ${d * 10} % (${((d * 7200) / 10 / 3600).toFixed(1)} of 2.0 h simulated)`));
    expect(s.text()).not.toContain('\r');
  });

  it('off: writes nothing', () => {
    const s = sink();
    const p = new ProgressView('off', s);
    p.phase('x');
    p.stack(1, 1, 'none');
    p.update(1, 2, 3);
    p.clear();
    expect(s.chunks).toEqual([]);
  });
});

/** A partial summary for the printing code (only the fields it reads), as a Summary. */
const asSummary = (x: object): Summary => JSON.parse(JSON.stringify(x));

describe('comparisonText', () => {
  const summary = (stack: string, x: number): Summary =>
    asSummary({
      ledger: {
        stack,
        backends: [{ role: 'records+payments', backend: 'qbft', submitted: 123456, confirmed: 123000, failed: 456, pending: 0, throughputTps: 1234.5678 * x, committedTps: 1, latencySeconds: { p50: 12.3456, p95: 99.9, p99: 123.456, max: 999.5 }, extra: { bytesStoredPerNode: 123456789 } }],
        auditProblems: 0, meanAuthorizationDelaySeconds: 1234.5, meanPaymentHoldSeconds: 0, startTimeouts: 0, failedStarts: 0, paymentTimeouts: 0, failedPayments: 0,
      },
      sessions: { count: 99999, completed: 99000, abandoned: 999, meanWaitSeconds: 12345.678, p95WaitSeconds: 1, demandMetPct: 99.123 },
      stations: { utilizationPct: 55.5 },
    });

  it('fits 100 columns even with long stack names and large numbers; the stack column comes first', () => {
    const t = comparisonText([summary('none', 1), summary('an-inline-stack-with-a-very-long-name-of-sixty-four-characters-x', 100)]);
    const ls = t.trimEnd().split('\n');
    expect(ls).toHaveLength(3);
    for (const l of ls) expect(l.length, l).toBeLessThanOrEqual(100);
    expect(ls[0]).toMatch(/^ {2}stack +final %/);
    expect(ls[2]!.trim().split(/\s+/)[0]).toBe('an-inline-stack-wit…');
  });

  it('drops trailing columns rather than overflow a narrower width', () => {
    const t = comparisonText([summary('qbft-lightning', 1)], 50);
    for (const l of t.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(50);
    expect(t).toContain('final %');
    expect(t).not.toContain('MB/node');
  });
});

describe('printed numbers', () => {
  it('a percentage just below 100 is not shown as 100', async () => {
    const { comparisonText: ct } = await import('../../src/cli/present.js');
    const s = asSummary({
      ledger: { stack: 'x', backends: [{ role: 'r', backend: 'b', submitted: 10000, confirmed: 9999, failed: 0, pending: 1, throughputTps: 1, committedTps: 1, latencySeconds: { p50: 1, p95: 1, p99: 1, max: 1 }, extra: {} }], auditProblems: 0, meanAuthorizationDelaySeconds: 0, meanPaymentHoldSeconds: 0, startTimeouts: 0, failedStarts: 0, paymentTimeouts: 0, failedPayments: 0 },
      sessions: { count: 1, completed: 1, abandoned: 0, meanWaitSeconds: 0, p95WaitSeconds: 0, demandMetPct: 100 },
      stations: { utilizationPct: 1 },
    });
    const row = ct([s]).trimEnd().split('\n')[1]!.trim().split(/\s+/);
    expect(row[0]).toBe('x');
    expect(row[1]).toBe('99.99');
  });
});

describe('summary table', () => {
  it('wraps long values after ", " so lines stay within 100 columns', async () => {
    const { wrapValue } = await import('../../src/cli/main.js');
    const v = Array.from({ length: 20 }, (_, i) => `item${i} ${i * 1000}`).join(', ');
    const t = wrapValue('  city  ', v, 100);
    const ls = t.split('\n');
    expect(ls.length).toBeGreaterThan(1);
    for (const l of ls) expect(l.length).toBeLessThanOrEqual(100);
    expect(ls.slice(1).every((l) => l.startsWith('        '))).toBe(true);
    expect(ls.map((l) => l.trim()).join(' ').replace(/^city\s+/, '')).toBe(v);
  });
});
