/**
 * Slurm overhead per array task (issue 9 §7; target ≤ 1 s beyond the run itself on the local
 * cluster). Not part of `npm run bench`: it needs root and Slurm (scripts/slurm-local.sh install).
 *
 * Starts a single-node cluster in a temporary folder (scripts/slurm-local.sh start; stopped at the
 * end, also on failure), plans N runs (default 8) of the small golden grid city (6 h, ledger none),
 * and times, with the wall clock around the processes:
 *   local     `evsim sweep run DIR --index i` for i = 0 … N−1, one process after the other;
 *   slurm     the emitted array with --throttle 1 (one task at a time), from `sbatch` until squeue
 *             no longer lists the job (polled every 0.1 s), into a fresh sweep folder.
 * Per task:   run        the mean of the runs' own wall times (index.csv wall_s, the Slurm sweep);
 *             beyond run (T(slurm) − Σ run wall) / N: Slurm's scheduling, launch and teardown plus
 *                        the node process start (module loading, plan read) and the run folder;
 *             slurm only (T(slurm) − T(local)) / N: what Slurm adds to the same processes run locally;
 *             jobcomp    mean(End − Start) − mean run, from the jobcomp file (1 s resolution).
 * And the same with --tasks 2 (two array tasks of N/2 runs each, --shard i/2): beyond run per run.
 * The polling interval (0.1 s) bounds the error on T(slurm). Both sweeps build their own city cache
 * in their first run.
 *
 *   npm run build && node dist/bench/slurm.js [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'evsim.js');
const SCRIPT = join(ROOT, 'scripts', 'slurm-local.sh');
const now = () => performance.now() / 1000; // wall-clock ok: benchmark timing

function must(r: ReturnType<typeof spawnSync>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${String(r.stdout)}${String(r.stderr)}`);
  return String(r.stdout);
}

const argv = process.argv.slice(2);
const ri = argv.indexOf('--runs');
const N = ri >= 0 ? Number(argv[ri + 1]) : 8;
if (!Number.isSafeInteger(N) || N < 2 || N % 2 !== 0) {
  process.stderr.write(`bench/slurm: --runs must be an even integer >= 2 (got ${JSON.stringify(argv[ri + 1])})\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/slurm: needs root (munged runs as the munge user) and Slurm (scripts/slurm-local.sh install)\n');
  process.exit(2);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'evsim-bench-slurm-'));
chmodSync(tmp, 0o755);
const cluster = join(tmp, 'cluster');
try {
  must(spawnSync('bash', [SCRIPT, 'start', cluster], { encoding: 'utf8' }), 'slurm-local.sh start');
  const env = { ...process.env, SLURM_CONF: join(cluster, 'slurm.conf'), CI: '' };
  const spec = join(tmp, 'spec.yaml');
  writeFileSync(spec, `base: ${join(ROOT, 'test', 'golden', 'scenarios', 'grid-trips.yaml')}\nseed: 9\nreplications: ${N / 2}\nset: { duration: 6h }\ngrid: { fleet.size: [20, 40] }\nledger: [none]\n`);
  const evsim = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a], { cwd: tmp, encoding: 'utf8', env });

  const local = join(tmp, 'local');
  must(evsim('sweep', 'plan', spec, '--out', local), 'sweep plan');
  const t0 = now();
  for (let i = 0; i < N; i++) must(evsim('sweep', 'run', local, '--index', String(i), '--quiet'), `sweep run ${i}`);
  const tLocal = now() - t0;

  /** Emit DIR's array (extra --emit options), submit it, wait; returns the job id, the time, Σ run wall. */
  const slurmSweep = (dir: string, extra: string[]): { id: string; t: number; sumRun: number } => {
    must(evsim('sweep', spec, '--emit', 'slurm', '--out', dir, '--throttle', '1', ...extra), 'sweep --emit slurm');
    const t1 = now();
    const id = must(spawnSync('sbatch', ['--parsable', join(dir, 'slurm', 'sweep.sbatch')], { encoding: 'utf8', env }), 'sbatch').trim().split(';')[0]!;
    for (;;) {
      const q = spawnSync('squeue', ['-h', '-j', id], { encoding: 'utf8', env });
      if (q.status === 0 && q.stdout.trim() === '') break;
      if (now() - t1 > 600) throw new Error(`array job ${id} still queued after 600 s`);
      spawnSync('sleep', ['0.1']);
    }
    const t = now() - t1;
    must(evsim('sweep', 'collect', dir), 'sweep collect');
    const [head, ...rows] = readFileSync(join(dir, 'index.csv'), 'utf8').trimEnd().split('\n');
    const wallCol = head!.split(',').indexOf('wall_s');
    return { id, t, sumRun: rows.reduce((a, r) => a + Number(r.split(',')[wallCol]), 0) };
  };
  const { id, t: tSlurm, sumRun } = slurmSweep(join(tmp, 'slurm'), []);
  const sharded = slurmSweep(join(tmp, 'slurm-tasks'), ['--tasks', '2']);

  spawnSync('sleep', ['1']); // let slurmctld write the last jobcomp records
  const recs = readFileSync(join(cluster, 'log', 'jobcomp.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`ArrayJobId=${id} `))
    .map((l) => Object.fromEntries(l.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
  const bad = recs.filter((r) => r.ExitCode !== '0:0');
  if (recs.length !== N || bad.length) throw new Error(`jobcomp: ${recs.length} records of ${N}, ${bad.length} with a nonzero exit code`);
  const span = recs.map((r) => (Date.parse(`${r.EndTime}Z`) - Date.parse(`${r.StartTime}Z`)) / 1000);
  const meanSpan = span.reduce((a, b) => a + b, 0) / N;

  must(evsim('sweep', 'collect', local), 'sweep collect (local)');
  const [lh, ...lrows] = readFileSync(join(local, 'index.csv'), 'utf8').trimEnd().split('\n');
  const lc = lh!.split(',').indexOf('wall_s');
  const sumLocal = lrows.reduce((a, r) => a + Number(r.split(',')[lc]), 0);
  const f = (x: number) => x.toFixed(3);
  const lines = [
    `Slurm overhead per array task: ${N} runs of grid-trips (6 h, ledger none), one task at a time (--throttle 1), ${os.availableParallelism()} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    '| figure | seconds |',
    '|---|---|',
    `| T(local): ${N} \`sweep run --index i\` processes in a row | ${f(tLocal)} |`,
    `| T(slurm): sbatch until the array left squeue | ${f(tSlurm)} |`,
    `| run (mean of index.csv wall_s) | ${f(sumRun / N)} |`,
    `| beyond run per task: (T(slurm) − Σ run) / N | ${f((tSlurm - sumRun) / N)} |`,
    `| slurm only per task: (T(slurm) − T(local)) / N | ${f((tSlurm - tLocal) / N)} |`,
    `| local process start per task: (T(local) − Σ run of the local sweep) / N | ${f((tLocal - sumLocal) / N)} |`,
    `| jobcomp: mean(End − Start) − mean run (1 s resolution) | ${f(meanSpan - sumRun / N)} |`,
    `| --tasks 2 (${N / 2} runs per task): T(slurm) | ${f(sharded.t)} |`,
    `| --tasks 2: beyond run per run: (T − Σ run) / N | ${f((sharded.t - sharded.sumRun) / N)} |`,
    '',
    `target: beyond run ≤ 1 s per task: ${(tSlurm - sumRun) / N <= 1 ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  spawnSync('bash', [SCRIPT, 'stop', cluster], { encoding: 'utf8' });
  rmSync(tmp, { recursive: true, force: true });
}
