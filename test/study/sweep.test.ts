/**
 * evsim sweep: spec validation, expansion and common random numbers, resume and changed specs,
 * failing runs, and the aggregate / paired statistics checked by hand against src/core/stats.ts.
 * Runs go in this process (--jobs 0) on the small golden grid city; test/study/workers.test.ts
 * runs the forked workers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { meanCi, pairedDiff } from '../../src/core/stats.js';
import { expandSpec, loadSweepSpec, replicationSeeds, samplePoints } from '../../src/study/spec.js';
import { sweepExitCode } from '../../src/study/sweep.js';
import { cli, GOLDEN_SCENARIOS } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-sweep-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const BASE = join(GOLDEN_SCENARIOS, 'grid-trips.yaml');
let n = 0;
function spec(text: string): string {
  const p = join(tmp, `spec-${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}
/** The tiny sweep: 2 ledgers × 2 maxWait × 3 replications on the 8×8 grid, 12 h, 40 EVs. */
const TINY = `base: ${BASE}
seed: 3
replications: 3
set: { duration: 12h }
grid: { fleet.maxWait: [5m, 30m] }
ledger: [none, central]
reference: ledger=none
`;

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split('\n');
  const cols = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i]!, v])));
}
const dropLastColumn = (csv: string) => csv.split('\n').map((l) => l.replace(/,[^,]*$/, '')).join('\n');

describe('sweep spec validation', () => {
  it.each([
    ['unknown top-level field', 'base: x.yaml\ngird: {a: [1]}\n', /: gird: unknown field; allowed here: base, .*grid/],
    ['grid value not a list', `base: ${BASE}\ngrid: { fleet.size: 5 }\n`, /: grid\.fleet\.size: .*\(got 5\)/],
    ['zip lengths differ', `base: ${BASE}\nzip: { fleet.size: [1, 2], fleet.maxWait: [1] }\n`, /: zip\.fleet\.maxWait: must have as many values as zip\.fleet\.size \(2\).*\(got 1\)/],
    ['seed varied', `base: ${BASE}\ngrid: { seed: [1, 2] }\n`, /: grid\.seed: may not be varied here; seeds come from the sweep seed/],
    ['a path twice', `base: ${BASE}\nset: { fleet.size: 3 }\ngrid: { fleet.size: [1, 2] }\n`, /: grid\.fleet\.size: also given in set/],
    ['reference to an unvaried factor', `base: ${BASE}\nledger: [none]\nreference: policy.allocation=fcfs\n`, /: reference: policy\.allocation is not a varied parameter; allowed: ledger/],
    ['reference level unknown', `base: ${BASE}\nledger: [none, central]\nreference: ledger=qbft\n`, /: reference: qbft is not a level of ledger; allowed: none, central/],
    ['bad sample range', `base: ${BASE}\nsample: { count: 2, ranges: { fleet.targetSoc: [0.9, 0.5] } }\n`, /: sample\.ranges\.fleet\.targetSoc: min must be <= max/],
    ['replications 0', `base: ${BASE}\nreplications: 0\n`, /: replications: .*\(got 0\)/],
  ])('%s: one line naming the spec and the field, exit 2', async (_what, text, re) => {
    const file = spec(text);
    const r = await cli('sweep', file, '--dry-run');
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('    at ');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(file)).toBe(true);
    expect(lines[0]).toMatch(re);
  });

  it('a run whose scenario does not validate names the run, its parameters and the scenario field', async () => {
    const file = spec(`base: ${BASE}\nledger: [none]\ngrid: { fleet.size: [10, 0] }\n`);
    const r = await cli('sweep', file, '--dry-run');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe(`${file}: run 1 (fleet.size=0, ledger=none, replication=0): ${BASE} (with --set): fleet.size: must be >= 1 (got 0)`);
  });

  it.each([
    [['--jobs', 'two'], '--jobs: must be an integer from 0 to 1024 (got "two")'],
    [['--no-cache', '--cache-dir', '/tmp/x'], '--cache-dir: contradicts --no-cache; give one of them'],
    [['--out', ''], "--out '': must name a folder (got an empty string)"],
  ])('option %j: one line, exit 2', async (opts, line) => {
    const r = await cli('sweep', spec(TINY), ...opts);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe(line);
  });

  it('a base scenario with several stacks needs a ledger list', async () => {
    const r = await cli('sweep', spec(`base: ${BASE}\n`), '--dry-run');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ledger: the base scenario runs 2 ledger stacks \(none, qbft\); a sweep run runs one/);
  });
});

describe('expansion', () => {
  it('grid × zip × sample × policy × ledger × replications, with seeds shared by replication (CRN)', () => {
    const s = loadSweepSpec(
      spec(`base: ${BASE}
seed: 11
replications: 2
grid: { fleet.size: [10, 20, 30], fleet.maxWait: [5m, 10m] }
zip: { fleet.targetSoc: [0.7, 0.8], fleet.chargeThreshold: [0.2, 0.3] }
sample: { method: lhs, count: 3, ranges: { fleet.deadlineSlack: [0, 1], city.places: { min: 5, max: 20, integer: true } } }
policy: { stationChoice: [nearest, min-total-time] }
ledger: [none, central]
`),
    );
    const runs = expandSpec(s);
    expect(runs).toHaveLength(2 * 3 * 2 * 2 * 3 * 2 * 2);
    expect(s.factors.map((f) => f.name)).toEqual(['fleet.size', 'fleet.maxWait', 'fleet.targetSoc', 'fleet.chargeThreshold', 'fleet.deadlineSlack', 'city.places', 'policy.stationChoice', 'ledger']);
    const seeds = replicationSeeds(11, 2);
    expect(seeds[0]).not.toBe(seeds[1]);
    for (const r of runs) expect(r.seed).toBe(seeds[r.replication]);
    // zip values move together
    for (const r of runs) expect(r.params['fleet.chargeThreshold']).toBe(r.params['fleet.targetSoc'] === 0.7 ? 0.2 : 0.3);
    // a ledger run's overrides end with its one stack
    expect(runs[1]!.overrides.at(-1)).toBe('ledger.stacks=["central"]');
    // every parameter combination appears once per replication
    const keys = runs.map((r) => JSON.stringify([r.params, r.replication]));
    expect(new Set(keys).size).toBe(runs.length);
    // the same spec expands the same way; more replications keep the first seeds
    expect(expandSpec(s)).toEqual(runs);
    expect(replicationSeeds(11, 5).slice(0, 2)).toEqual(seeds);
  });

  it('Latin hypercube: every stratum of every range used exactly once; integer ranges inclusive', () => {
    const pts = samplePoints(5, 'lhs', 10, [
      ['a', { min: 0, max: 1, integer: false }],
      ['b', { min: 100, max: 200, integer: false }],
      ['k', { min: 1, max: 10, integer: true }],
    ]);
    expect(new Set(pts.map((p) => Math.floor(p.a! * 10))).size).toBe(10);
    expect(new Set(pts.map((p) => Math.floor((p.b! - 100) / 10))).size).toBe(10);
    expect(pts.map((p) => p.k).sort((x, y) => x! - y!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(samplePoints(5, 'lhs', 10, [['a', { min: 0, max: 1, integer: false }]])).toEqual(pts.map((p) => ({ a: p.a })));
    expect(samplePoints(6, 'lhs', 10, [['a', { min: 0, max: 1, integer: false }]])).not.toEqual(pts.map((p) => ({ a: p.a })));
  });

  it('--dry-run lists the runs and writes nothing', async () => {
    const out = join(tmp, 'dry');
    const r = await cli('sweep', spec(TINY), '--dry-run', '--out', out);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('run\tid\tfleet.maxWait\tledger\treplication\tseed');
    expect(lines).toHaveLength(1 + 12 + 1);
    expect(lines.at(-1)).toMatch(/^12 runs .*nothing written$/);
    expect(() => readFileSync(join(out, 'plan.json'))).toThrow();
  });
});

describe('a sweep folder', () => {
  const out = join(tmp, 'tiny');
  const file = spec(TINY);

  it('runs every run, then a rerun skips them all, with the same index and aggregate', async () => {
    const r1 = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet');
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/^sweep: 12 runs: 12 done, 0 failed, 0 pending \(12 run now, 0 already there\)/);
    const index1 = readFileSync(join(out, 'index.csv'), 'utf8');
    const agg1 = readFileSync(join(out, 'aggregate.csv'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'sweep', evsim: '0.1.0', runs: 12, node: process.version });
    expect(readFileSync(join(out, 'sweep.yaml'), 'utf8')).toBe(TINY);
    const rows = parseCsv(index1);
    expect(rows.map((x) => x.status)).toEqual(Array(12).fill('done'));
    // runs of one replication share their seed; each run folder holds its scenario and marker
    for (const x of rows) expect(x.seed).toBe(rows[Number(x.replication) * 4]!.seed);
    const first = JSON.parse(readFileSync(join(out, 'runs', rows[0]!.id!, 'scenario.json'), 'utf8'));
    expect(first.seed).toBe(Number(rows[0]!.seed));
    expect(first.fleet.maxWait).toBe(300);
    expect(first.stacks.map((s: { name: string }) => s.name)).toEqual(['none']);

    const r2 = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet');
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/\(0 run now, 12 already there\)/);
    expect(dropLastColumn(readFileSync(join(out, 'index.csv'), 'utf8'))).toBe(dropLastColumn(index1));
    expect(readFileSync(join(out, 'aggregate.csv'), 'utf8')).toBe(agg1);
  });

  it('a run folder without its completion marker runs again', async () => {
    const rows = parseCsv(readFileSync(join(out, 'index.csv'), 'utf8'));
    rmSync(join(out, 'runs', rows[5]!.id!, 'run.json'));
    const r = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(1 run now, 11 already there\)/);
  });

  it('a changed spec is refused; --allow-changed runs only the new runs', async () => {
    const changed = spec(TINY.replace('replications: 3', 'replications: 4'));
    const r = await cli('sweep', changed, '--out', out, '--jobs', '0', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe(
      `--out ${out}: holds a sweep with another plan (12 runs there, 16 now, 12 in common); old and new results are not mixed silently: pass --allow-changed to replace the plan (finished runs with unchanged ids are kept), or use another --out`,
    );
    const r2 = await cli('sweep', changed, '--out', out, '--jobs', '0', '--quiet', '--allow-changed');
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/^sweep: 16 runs: 16 done, 0 failed, 0 pending \(4 run now, 12 already there\)/);
  });

  it('a folder that is not a sweep is refused', async () => {
    const other = join(tmp, 'other');
    await cli('run', BASE, '--ledger', 'none', '--set', 'duration=1h', '--out', other, '--quiet');
    const r = await cli('sweep', file, '--out', other, '--jobs', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty and holds no evsim sweep/);
  });
});

describe('plan, run one, collect (the scheduler contract)', () => {
  it('plan + run by index ($SLURM_ARRAY_TASK_ID, --index, --shard) + collect gives the one-shot sweep\'s files', async () => {
    const file = spec(TINY);
    const out = join(tmp, 'steps');
    const p = await cli('sweep', 'plan', file, '--out', out);
    expect(p.code).toBe(0);
    expect(p.stdout).toBe(`sweep plan: 12 runs (indices 0..11) in ${out}/\n`);
    process.env.SLURM_ARRAY_TASK_ID = '0';
    try {
      const r0 = await cli('sweep', 'run', out, '--quiet');
      expect(r0.code).toBe(0);
    } finally {
      delete process.env.SLURM_ARRAY_TASK_ID;
    }
    const r1 = await cli('sweep', 'run', out, '--index', '1');
    expect(r1.stdout).toMatch(/^sweep run 1 \([0-9a-f]{16}\): done\n$/);
    const partial = await cli('sweep', 'collect', out);
    expect(partial.stdout).toMatch(/12 runs: 2 done, 0 failed, 10 pending/);
    for (const sh of ['0/3', '1/3', '2/3']) expect((await cli('sweep', 'run', out, '--shard', sh, '--quiet')).code).toBe(0);
    const c = await cli('sweep', 'collect', out);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/12 runs: 12 done, 0 failed, 0 pending/);
    const oneShot = join(tmp, 'tiny-again');
    expect((await cli('sweep', file, '--out', oneShot, '--jobs', '0', '--quiet')).code).toBe(0);
    for (const f of ['aggregate.csv', 'paired.csv']) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(oneShot, f), 'utf8'));
    expect(dropLastColumn(readFileSync(join(out, 'index.csv'), 'utf8'))).toBe(dropLastColumn(readFileSync(join(oneShot, 'index.csv'), 'utf8')));
    const bad = await cli('sweep', 'run', out, '--index', '12');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd()).toBe('--index: must be an integer from 0 to 11 (got "12")');
  });
});

describe('failed runs', () => {
  it('do not stop the sweep; the exit code counts them; --rerun-failed retries them', async () => {
    const out = join(tmp, 'failing');
    const file = spec(`base: ${BASE}
replications: 2
set: { duration: 4h }
grid: { fleet.models: [missing.json, ../../../data/ev-specs/fleet-nl-popular.json] }
ledger: [none]
`);
    const r = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet');
    expect(r.code).toBe(sweepExitCode(2));
    expect(r.code).toBe(12);
    expect(r.stdout).toMatch(/^sweep: 4 runs: 2 done, 2 failed, 0 pending/);
    const rows = parseCsv(readFileSync(join(out, 'index.csv'), 'utf8'));
    expect(rows.map((x) => x.status)).toEqual(['failed', 'done', 'failed', 'done']);
    expect(rows[0]!.error).toMatch(/missing\.json: cannot read fleet file \(ENOENT\)/);
    const again = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet');
    expect(again.code).toBe(12);
    expect(again.stdout).toMatch(/\(0 run now, 4 already there\)/);
    const retried = await cli('sweep', file, '--out', out, '--jobs', '0', '--quiet', '--rerun-failed');
    expect(retried.code).toBe(12);
    expect(retried.stdout).toMatch(/\(2 run now, 2 already there\)/);
    expect(sweepExitCode(0)).toBe(0);
    expect(sweepExitCode(1000)).toBe(110);
  });
});

describe('statistics', () => {
  it('aggregate.csv and paired.csv agree with meanCi and pairedDiff computed from index.csv', () => {
    const out = join(tmp, 'tiny');
    const index = parseCsv(readFileSync(join(out, 'index.csv'), 'utf8'));
    const agg = parseCsv(readFileSync(join(out, 'aggregate.csv'), 'utf8'));
    const paired = parseCsv(readFileSync(join(out, 'paired.csv'), 'utf8'));
    const metric = 'events';
    const pick = (ledger: string, wait: string) =>
      index.filter((x) => x.ledger === ledger && x['fleet.maxWait'] === wait).sort((a, b) => Number(a.replication) - Number(b.replication));
    const central = pick('central', '30m');
    const none = pick('none', '30m');
    expect(central).toHaveLength(4);
    const xs = central.map((x) => Number(x[metric]));
    const ys = none.map((x) => Number(x[metric]));
    expect(new Set(xs).size).toBeGreaterThan(1); // the metric varies across seeds: the CI is a real one
    const ci = meanCi(xs);
    const row = agg.find((x) => x.ledger === 'central' && x['fleet.maxWait'] === '30m' && x.metric === metric)!;
    expect(Number(row.n)).toBe(4);
    expect(Number(row.mean)).toBeCloseTo(ci.mean, 12);
    expect(Number(row.sd)).toBeCloseTo(ci.sd, 12);
    expect(Number(row.ci95_lo)).toBeCloseTo(ci.lo, 12);
    expect(Number(row.ci95_hi)).toBeCloseTo(ci.hi, 12);
    // by hand: t(0.975, 3) = 3.182446305
    expect(Number(row.ci95_half)).toBeCloseTo((3.182446305 * ci.sd) / 2, 6);
    const d = pairedDiff(xs, ys);
    const prow = paired.find((x) => x.ledger === 'central' && x['fleet.maxWait'] === '30m' && x.metric === metric)!;
    expect(prow).toMatchObject({ factor: 'ledger', reference: 'none', n: '4' });
    expect(Number(prow.mean_diff)).toBeCloseTo(d.mean, 12);
    expect(Number(prow.ci95_lo)).toBeCloseTo(d.lo, 12);
    expect(Number(prow.ci95_hi)).toBeCloseTo(d.hi, 12);
    // common random numbers: without coupling, the ledger leaves the city day as it is
    const same = paired.find((x) => x.ledger === 'central' && x['fleet.maxWait'] === '30m' && x.metric === 'sessions.meanWaitSeconds')!;
    expect([same.mean_diff, same.sd]).toEqual(['0', '0']);
    // no paired rows for the reference level itself
    expect(paired.some((x) => x.ledger === 'none')).toBe(false);
  });
});
