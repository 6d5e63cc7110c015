/**
 * `evsim sweep --emit slurm` on a real Slurm: a single-node cluster started in a temporary folder
 * by scripts/slurm-local.sh (munged, slurmctld, slurmd; stopped by their PIDs afterwards), the
 * emitted job array submitted with sbatch, then `sweep collect`; the index (wall times aside) and
 * the aggregate must equal those of the same sweep run locally, every array task must have ended
 * COMPLETED with exit code 0 in the jobcomp file, the tasks' shared city cache must hold the local
 * sweep's files byte for byte, the same sweep emitted with --tasks 2 (--shard i/2) must give the
 * same results, and a resubmission through submit.sh skips every finished run and
 * its dependent collect job (afterany) writes the index again.
 * Skipped (with the reason in its title) unless root with Slurm and munge installed
 * (`scripts/slurm-local.sh install`, which .ci/run does). The emitters' option errors are tested
 * without a cluster.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist, cli, GOLDEN_SCENARIOS, oneLine, ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'evsim-slurm-test-'));
chmodSync(tmp, 0o755); // the cluster folder inside it must be reachable by the munge user
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SPEC = join(tmp, 'spec.yaml');
// 4 runs on the small golden grid city, 6 h: 2 fleet sizes × 2 replications.
writeFileSync(SPEC, `base: ${join(GOLDEN_SCENARIOS, 'grid-trips.yaml')}\nseed: 5\nreplications: 2\nset: { duration: 6h }\ngrid: { fleet.size: [20, 40] }\nledger: [none]\n`);
const dropLastColumn = (csv: string) => csv.split('\n').map((l) => l.replace(/,[^,]*$/, '')).join('\n');

let bad = 0;
describe('sweep --emit: option errors (no cluster needed)', () => {
  it.each([
    [['--emit', 'pbs'], /^--emit: allowed: slurm, k8s \(got "pbs"\)$/],
    [['--emit', 'slurm', '--time', '1:75'], /^--time: expected minutes, HH:MM:SS/],
    [['--emit', 'slurm', '--mem', '2X'], /^--mem: expected a positive integer/],
    [['--emit', 'slurm', '--throttle', '0'], /^--throttle: must be an integer from 1 to 100000 \(got "0"\)$/],
    [['--emit', 'slurm', '--image', 'x'], /^--image: only with --emit k8s$/],
    [['--emit', 'k8s', '--image', 'x'], /^--emit k8s: --claim is required/],
    [['--emit', 'k8s', '--image', 'x', '--claim', 'Bad_Name'], /^--claim: expected a Kubernetes object name/],
    [['--throttle', '2'], /^--throttle: only with --emit slurm or --emit k8s$/],
    [['--emit', 'slurm', '--tasks', '5'], /^--tasks: must be an integer from 1 to the number of runs, 4 \(got "5"\)$/],
    [['--emit', 'k8s', '--image', 'x', '--claim', 'c', '--tasks', '2'], /^--tasks: only with --emit slurm$/],
    [['--emit', 'slurm', '--jobs', '2'], /^--jobs: not with --emit/],
    [['--emit', 'slurm', '--out', join(tmp, 'a b')], /^--out .*a b: the scheduler files cannot name a path with spaces/],
  ])('%j: one line, exit 2, nothing written', async (extra, re) => {
    const out = join(tmp, `bad-${bad++}`);
    const r = await cli('sweep', SPEC, ...(extra.includes('--out') ? [] : ['--out', out]), ...extra);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(re);
    expect(existsSync(join(out, 'slurm'))).toBe(false);
  });

  it('--emit slurm writes the array script with absolute paths, the collect job and submit.sh', async () => {
    const out = join(tmp, 'slurm-files');
    const r = await cli('sweep', SPEC, '--out', out, '--emit', 'slurm', '--throttle', '3', '--mem', '2G', '--time', '1-02', '--partition', 'short', '--cache-dir', join(tmp, 'shared-cache'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`submit:   sbatch ${join(out, 'slurm', 'sweep.sbatch')}\n`);
    const sh = readFileSync(join(out, 'slurm', 'sweep.sbatch'), 'utf8');
    for (const line of ['#SBATCH --array=0-3%3', `#SBATCH --output=${out}/slurm/logs/%A_%a.out`, '#SBATCH --time=1-02:00:00', '#SBATCH --mem=2G', '#SBATCH --partition=short', `cd '${process.cwd()}'`, `exec '${process.execPath}' '${join(ROOT, 'bin', 'evsim.js')}' sweep run '${out}' --index "$SLURM_ARRAY_TASK_ID" '--cache-dir' '${join(tmp, 'shared-cache')}'`]) expect(sh.split('\n')).toContain(line);
    expect(readFileSync(join(out, 'slurm', 'collect.sbatch'), 'utf8')).toContain(`sweep collect '${out}'`);
    expect(readFileSync(join(out, 'slurm', 'submit.sh'), 'utf8')).toContain('--dependency=afterany:"$id"');
    expect(existsSync(join(out, 'slurm', 'logs'))).toBe(true);
    const t = await cli('sweep', SPEC, '--out', join(tmp, 'slurm-tasks'), '--emit', 'slurm', '--tasks', '2');
    expect(t.code).toBe(0);
    const ts = readFileSync(join(tmp, 'slurm-tasks', 'slurm', 'sweep.sbatch'), 'utf8').split('\n');
    expect(ts).toContain('#SBATCH --array=0-1');
    expect(ts.at(-2)).toMatch(/ sweep run '.*slurm-tasks' --shard "\$SLURM_ARRAY_TASK_ID\/2"$/);
  });

  it('--emit k8s writes an Indexed Job with one completion per run', async () => {
    const out = join(tmp, 'k8s');
    const r = await cli('sweep', SPEC, '--out', out, '--emit', 'k8s', '--image', 'registry.example/evsim:1', '--claim', 'sweeps', '--throttle', '3', '--mem', '2G', '--time', '30');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const y = readFileSync(join(out, 'k8s', 'job.yaml'), 'utf8');
    for (const line of ['completionMode: Indexed', 'completions: 4', 'parallelism: 3', `command: ["evsim","sweep","run","${out}"]`, 'claimName: "sweeps"', `mountPath: "${out}"`, 'memory: "2Gi"', 'activeDeadlineSeconds: 3600']) expect(y).toContain(line);
    expect(existsSync(join(out, 'plan.json'))).toBe(true);
  });
});

const which = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
const missing = ['sbatch', 'squeue', 'slurmctld', 'slurmd', 'munged'].filter((c) => !which(c));
const skip = process.getuid?.() !== 0 ? 'needs root (munged runs as the munge user)' : missing.length ? `${missing.join(', ')} not installed (scripts/slurm-local.sh install)` : '';

describe.skipIf(skip !== '')(`sweep on a real single-node Slurm${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const cluster = join(tmp, 'cluster');
  let env: NodeJS.ProcessEnv = {};
  let started = false;
  beforeAll(() => {
    buildDist();
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'slurm-local.sh'), 'start', cluster], { encoding: 'utf8' });
    started = true; // stop whatever part of it started, even when start failed
    if (r.status !== 0) throw new Error(`slurm-local.sh start failed (${r.status}):\n${r.stdout}${r.stderr}`);
    env = { ...process.env, SLURM_CONF: join(cluster, 'slurm.conf'), CI: '' };
  }, 120_000);
  afterAll(() => {
    if (started) spawnSync('bash', [join(ROOT, 'scripts', 'slurm-local.sh'), 'stop', cluster], { encoding: 'utf8' });
  });

  const evsim = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'evsim.js'), ...a], { cwd: tmp, encoding: 'utf8', env });
  /** Wait until squeue no longer lists the jobs `ids`. */
  const waitFor = (ids: string[]): void => {
    const deadline = Date.now() + 90_000; // wall-clock ok: test timeout of the poll
    for (;;) {
      const q = spawnSync('squeue', ['-h', '-j', ids.join(',')], { encoding: 'utf8', env });
      if (q.status === 0 && q.stdout.trim() === '') return;
      if (Date.now() > deadline) throw new Error(`jobs ${ids.join(', ')} still queued after 90 s:\n${q.stdout}${q.stderr}`); // wall-clock ok
      spawnSync('sleep', ['0.25']);
    }
  };
  /** Submit DIR's array, wait until squeue no longer lists it; returns the job id. */
  const submitAndWait = (dir: string): string => {
    const s = spawnSync('sbatch', ['--parsable', join(dir, 'slurm', 'sweep.sbatch')], { encoding: 'utf8', env });
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    const id = s.stdout.trim().split(';')[0]!;
    waitFor([id]);
    return id;
  };
  /** The jobcomp records of array job `id`, waiting (briefly) until all `n` are written. */
  const jobcomp = (id: string, n: number): Record<string, string>[] => {
    const file = join(cluster, 'log', 'jobcomp.txt');
    for (let i = 0; ; i++) {
      const recs = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => Object.fromEntries(l.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
            .filter((r) => r.ArrayJobId === id)
        : [];
      if (recs.length >= n || i > 40) return recs;
      spawnSync('sleep', ['0.25']);
    }
  };

  it('the emitted array gives the local sweep’s index and aggregate; resubmitting skips finished runs', () => {
    const dir = join(tmp, 'slurm-sweep');
    const e = evsim('sweep', SPEC, '--emit', 'slurm', '--out', dir, '--throttle', '2', '--time', '10', '--mem', '512M');
    expect(e.stderr).toBe('');
    expect(e.status).toBe(0);
    expect(e.stdout).toContain(`sbatch ${join(dir, 'slurm', 'sweep.sbatch')}`);
    const script = readFileSync(join(dir, 'slurm', 'sweep.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3%2\n');
    expect(script).toContain(`#SBATCH --output=${dir}/slurm/logs/%A_%a.out\n`);

    const id = submitAndWait(dir);
    const recs = jobcomp(id, 4);
    expect(recs.map((r) => r.ArrayTaskId).sort()).toEqual(['0', '1', '2', '3']);
    for (const r of recs) expect([r.ArrayTaskId, r.JobState, r.ExitCode]).toEqual([r.ArrayTaskId, 'COMPLETED', '0:0']);
    const logs = readdirSync(join(dir, 'slurm', 'logs')).filter((f) => f.startsWith(`${id}_`));
    expect(logs).toHaveLength(4);
    for (const f of logs) expect(readFileSync(join(dir, 'slurm', 'logs', f), 'utf8')).toMatch(/^sweep run \d \([0-9a-f]{16}\): done\n$/);

    const c = evsim('sweep', 'collect', dir);
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/^sweep collect: 4 runs: 4 done, 0 failed, 0 pending/);
    const local = join(tmp, 'local');
    const l = evsim('sweep', SPEC, '--jobs', '1', '--out', local, '--quiet');
    expect(l.status).toBe(0);
    expect(readFileSync(join(dir, 'aggregate.csv'), 'utf8')).toBe(readFileSync(join(local, 'aggregate.csv'), 'utf8'));
    expect(dropLastColumn(readFileSync(join(dir, 'index.csv'), 'utf8'))).toBe(dropLastColumn(readFileSync(join(local, 'index.csv'), 'utf8')));
    // the tasks, two at a time, shared one city cache (each writes a temporary file and renames it):
    // the same files as the local sweep's, byte for byte, and no temporary left behind
    const cached = readdirSync(join(dir, 'cache')).sort();
    expect(cached.length).toBeGreaterThan(0);
    expect(cached).toEqual(readdirSync(join(local, 'cache')).sort());
    for (const f of cached) expect(readFileSync(join(dir, 'cache', f)).equals(readFileSync(join(local, 'cache', f))), f).toBe(true);

    // two array tasks of two runs each (--tasks 2: --shard i/2) give the same results
    const sharded = join(tmp, 'slurm-sharded');
    expect(evsim('sweep', SPEC, '--emit', 'slurm', '--out', sharded, '--tasks', '2').status).toBe(0);
    const sid = submitAndWait(sharded);
    expect(jobcomp(sid, 2).map((r) => r.ExitCode)).toEqual(['0:0', '0:0']);
    expect(evsim('sweep', 'collect', sharded).status).toBe(0);
    expect(readFileSync(join(sharded, 'aggregate.csv'), 'utf8')).toBe(readFileSync(join(local, 'aggregate.csv'), 'utf8'));
    expect(dropLastColumn(readFileSync(join(sharded, 'index.csv'), 'utf8'))).toBe(dropLastColumn(readFileSync(join(local, 'index.csv'), 'utf8')));

    // resubmission through submit.sh: the array skips every run, then the dependent collect job runs
    rmSync(join(dir, 'index.csv'));
    const sub = spawnSync(join(dir, 'slurm', 'submit.sh'), [], { encoding: 'utf8', env });
    expect(sub.status, sub.stderr).toBe(0);
    const m = /^submitted array job (\d+) \(4 runs\) and collect job (\d+);/.exec(sub.stdout);
    expect(m, sub.stdout).not.toBeNull();
    const [again, collectJob] = [m![1]!, m![2]!];
    waitFor([again, collectJob]);
    const againRecs = jobcomp(again, 4);
    expect(againRecs).toHaveLength(4);
    for (const r of againRecs) expect(r.ExitCode).toBe('0:0');
    for (const f of readdirSync(join(dir, 'slurm', 'logs')).filter((x) => x.startsWith(`${again}_`))) expect(readFileSync(join(dir, 'slurm', 'logs', f), 'utf8')).toMatch(/^sweep run \d \([0-9a-f]{16}\): done before, skipped\n$/);
    expect(readFileSync(join(dir, 'slurm', 'logs', `collect_${collectJob}.out`), 'utf8')).toMatch(/^sweep collect: 4 runs: 4 done, 0 failed, 0 pending/);
    expect(dropLastColumn(readFileSync(join(dir, 'index.csv'), 'utf8'))).toBe(dropLastColumn(readFileSync(join(local, 'index.csv'), 'utf8')));
  }, 180_000);
});
