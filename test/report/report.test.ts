/**
 * evsim report (Node side): what a results folder is, bad folders as one-line errors, the charts a
 * run, a comparison and a sweep get, city.json, run --report inside the results folder, and
 * byte-identical reports for the same results.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, GOLDEN_SCENARIOS, oneLine } from '../cli/helpers.js';
import { parseCsv } from '../../src/report/data.js';
import { sweepColumns } from '../../src/report/charts.js';
import type { CityGeometry } from '../../src/report/geometry.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'evsim-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SCENARIO = join(GOLDEN_SCENARIOS, 'grid-trips.yaml');
const charts = (html: string) => [...html.matchAll(/<figure class="chart" data-chart="([^"]+)">/g)].map((m) => m[1]);

describe('evsim report: bad folders', () => {
  it('a missing folder, a file, a folder without manifest and a stack folder are one-line errors, exit 2', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    for (const [dir, want] of [
      [join(tmp, 'nope'), /no such folder/],
      [file, /not a folder/],
      [empty, /not an evsim results folder/],
    ] as const) {
      const o = await cli('report', dir);
      expect(o.code).toBe(2);
      expect(oneLine(o)).toMatch(want);
    }
  });
});

describe('evsim run --report (a comparison) and evsim report', () => {
  const out = join(tmp, 'grid');
  beforeAll(async () => {
    const o = await cli('run', SCENARIO, '--out', out, '--quiet', '--report');
    expect(o.code, o.stderr).toBe(0);
  });

  it('writes report.html at the top of the results folder and city.json per stack, listed in the manifest', () => {
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    for (const st of ['none', 'qbft']) {
      const m = JSON.parse(readFileSync(join(out, st, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
      expect(m.files.map((f) => f.path)).toContain('city.json');
      const g = JSON.parse(readFileSync(join(out, st, 'city.json'), 'utf8')) as CityGeometry;
      expect(g.nodes.lat.length).toBe(64); // the 8 × 8 grid
      expect(g.edges.length).toBeGreaterThan(100);
      expect(g.stations).toHaveLength(3);
      expect(g.evs.count).toBe(40);
      const n = g.tracks.t.length;
      expect(n).toBeGreaterThan(50);
      for (const k of ['ev', 'state', 'a', 'b'] as const) expect(g.tracks[k]).toHaveLength(n);
      // EVs waiting or charging sit at a station point (nodes + station id)
      g.tracks.state.forEach((s, i) => {
        if (s === 4 || s === 5) expect(g.tracks.a[i]).toBeGreaterThanOrEqual(64);
      });
    }
  });

  it('has the comparison charts, the run charts of the first stack and the replay', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(charts(html)).toEqual(
      expect.arrayContaining(['cmp-throughput', 'cmp-latency', 'cmp-city', 'cmp-latency-cdf', 'ev-states', 'station-queue', 'station-plugged', 'station-power', 'wait', 'time-in-system', 'energy-price-stations', 'energy-price-flow', 'ledger-latency']),
    );
    expect(html).toContain('id="replay-slider"');
    expect(html).toMatch(/<path class="roads"[^>]* d="M[0-9]/);
    // nothing that would fetch: no external URL in a src/href attribute, no @import
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toContain('@import');
    // no wall-clock figure from timing.json
    expect(html).not.toContain('wallSeconds');
  });

  it('a later run replaces the folder (report.html is not an unlisted file) and the same results give a byte-identical report', async () => {
    const a = readFileSync(join(out, 'report.html'));
    const copy = join(tmp, 'grid-copy');
    cpSync(out, copy, { recursive: true });
    const o = await cli('report', copy, '--out', join(tmp, 'again.html'));
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toMatch(/^report: .*again\.html \(comparison, [0-9.]+ MB\)\n$/);
    expect(readFileSync(join(tmp, 'again.html')).equals(a)).toBe(true);
    const r = await cli('run', SCENARIO, '--out', out, '--quiet', '--report');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'report.html')).equals(a)).toBe(true);
  });

  it('a stack folder of a comparison is refused, naming the parent', async () => {
    const o = await cli('report', join(out, 'qbft'));
    expect(o.code).toBe(2);
    expect(oneLine(o)).toMatch(/one stack folder of a comparison/);
  });
});

describe('evsim report of a single run without city.json', () => {
  it('draws the charts from the results files and says how to get the replay', async () => {
    const out = join(tmp, 'single');
    expect((await cli('run', SCENARIO, '--out', out, '--quiet', '--ledger', 'none', '--set', 'output.eventsLog=true')).code).toBe(0);
    expect(existsSync(join(out, 'city.json'))).toBe(false);
    const o = await cli('report', out);
    expect(o.code, o.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // EVs by state come from events.csv here
    expect(charts(html)).toEqual(['ev-states', 'station-queue', 'station-plugged', 'station-power', 'wait', 'time-in-system', 'energy-price-stations', 'energy-price-flow', 'ledger-latency']);
    expect(html).toContain('No city geometry in this results folder');
    expect(html).not.toContain('<script>');
  });
});

describe('a city without a road network', () => {
  it('run --report writes the charts and says there is no map to replay', async () => {
    const out = join(tmp, 'mmc');
    const o = await cli('run', join(GOLDEN_SCENARIOS, 'mmc-short.yaml'), '--out', out, '--quiet', '--report');
    expect(o.code, o.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(charts(html)).toEqual(expect.arrayContaining(['ev-states', 'wait', 'time-in-system']));
    expect(html).toContain('This city has no road network');
    expect(html).not.toContain('id="replay-slider"');
  });
});

describe('sweep report', () => {
  const fixture = join(HERE, 'fixtures', 'sweep');
  it('reads parameters and the headline metrics that vary from aggregate.csv (long layout)', () => {
    const t = parseCsv(readFileSync(join(fixture, 'aggregate.csv'), 'utf8'));
    const c = sweepColumns(t);
    expect(c.params).toEqual(['fleet.size', 'policy.stationChoice', 'ledger']);
    // no EV waits or gives up on these short, light days: metrics that never vary are not drawn
    expect(c.metrics).toEqual(['sessions.demandMetPct']);
    expect(c.points.get('sessions.meanWaitSeconds')).toHaveLength(8);
  });

  it('draws each metric against each swept parameter with a 95 % CI band', async () => {
    const dir = join(tmp, 'sweep');
    cpSync(fixture, dir, { recursive: true });
    const o = await cli('report', dir);
    expect(o.code, o.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const names = ['sessions_demandMetPct'].flatMap((m) => ['fleet_size', 'policy_stationChoice', 'ledger'].map((p) => `sweep-${m}-${p}`));
    expect(charts(html)).toEqual(names);
    expect(html).toContain('8 parameter combinations (aggregate.csv), 24 runs (index.csv)');
    // the band (an area mark) and the mean line are both drawn in every chart
    const figs = html.split('<figure class="chart"').slice(1);
    for (const f of figs) {
      expect(f).toMatch(/class="mark-area[^"]*"/);
      expect(f).toMatch(/class="mark-line[^"]*"/);
    }
  });
});
