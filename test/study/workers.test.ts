/**
 * `evsim sweep --jobs 2`: forked worker processes (the built CLI's src/cli/sweepWorker.js) give
 * the same index (wall times aside), aggregate and paired files as the runs in this process, and
 * share the city cache in DIR/cache/.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_POOL_V8_FLAGS, workerExecArgv } from '../../src/study/sweep.js';
import { buildDist, GOLDEN_SCENARIOS, ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-sweep-workers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => buildDist());
const dropLastColumn = (csv: string) => csv.split('\n').map((l) => l.replace(/,[^,]*$/, '')).join('\n');

describe('sweep workers', () => {
  it('--jobs 2 gives the results of --jobs 0, and the workers share the city cache', () => {
    const spec = join(tmp, 'spec.yaml');
    writeFileSync(spec, `base: ${join(GOLDEN_SCENARIOS, 'grid-trips.yaml')}\nreplications: 2\ngrid: { fleet.size: [20, 40] }\nledger: [none, central]\nreference: ledger=none\n`);
    const run = (jobs: string, out: string) => spawnSync(process.execPath, [join(ROOT, 'bin', 'evsim.js'), 'sweep', spec, '--out', out, '--jobs', jobs, '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '' } });
    const a = run('2', join(tmp, 'forked'));
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^sweep: 8 runs: 8 done, 0 failed, 0 pending \(8 run now, 0 already there\)/);
    const b = run('0', join(tmp, 'inline'));
    expect(b.status).toBe(0);
    for (const f of ['aggregate.csv', 'paired.csv']) expect(readFileSync(join(tmp, 'forked', f), 'utf8'), f).toBe(readFileSync(join(tmp, 'inline', f), 'utf8'));
    expect(dropLastColumn(readFileSync(join(tmp, 'forked', 'index.csv'), 'utf8'))).toBe(dropLastColumn(readFileSync(join(tmp, 'inline', 'index.csv'), 'utf8')));
    // one road part for the sweep, one place part per seed (replication)
    const cache = readdirSync(join(tmp, 'forked', 'cache'));
    expect(cache.filter((e) => /^roads-[0-9a-f]{32}\.bin$/.test(e))).toHaveLength(1);
    expect(cache.filter((e) => /^places-[0-9a-f]{32}\.bin$/.test(e))).toHaveLength(2);
    expect(cache).toHaveLength(3);
    const again = run('2', join(tmp, 'forked'));
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/\(0 run now, 8 already there\)/);
  });

  it('workers filling every core run without V8 background threads; fewer keep the defaults', () => {
    expect(workerExecArgv(2, 2)).toEqual([...process.execArgv, ...FULL_POOL_V8_FLAGS]);
    expect(workerExecArgv(4, 2)).toEqual([...process.execArgv, ...FULL_POOL_V8_FLAGS]);
    expect(workerExecArgv(1, 2)).toEqual([...process.execArgv]);
    // the options are ones this Node accepts (a bad V8 option would end every worker at start)
    const r = spawnSync(process.execPath, [...FULL_POOL_V8_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
  });
});
