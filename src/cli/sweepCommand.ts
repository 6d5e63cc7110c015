/**
 * `evsim sweep SPEC [--out DIR] [--jobs N] [--dry-run] [--rerun-failed] [--allow-changed]
 * [--no-cache] [--cache-dir D]`: plan the runs of a sweep spec (src/study/spec.ts), run those not
 * yet done in worker processes (src/cli/sweepWorker.ts), collect index.csv, aggregate.csv and
 * paired.csv. Exit codes: 0 every run done; 2 bad input (spec, options, folder); 10 + n when n
 * runs failed (at most 110); 130 interrupted (finished runs are kept; the same command resumes).
 * `--emit slurm|k8s` plans the sweep and writes scheduler files instead of running it
 * (src/study/emit.ts). The same steps one by one, for schedulers: `sweep plan SPEC --out DIR`,
 * `sweep run DIR --index I` (or `--shard i/n`, or $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX), `sweep collect DIR`.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import { pidAlive } from '../output/folder.js';
import { loadSweepSpec, cellText } from '../study/spec.js';
import { planSweep, prepareSweepDir, readPlan } from '../study/plan.js';
import { executeRun, runState, type Runner } from '../study/execute.js';
import { endWorkers, forkWorkers, runSweep, sweepExitCode } from '../study/sweep.js';
import { collectSweep } from '../study/collect.js';
import { checkPartition, checkPath, k8sName, parseMem, parseSlurmTime, parseTasks, parseThrottle, slurmHms, writeK8s, writeSlurm } from '../study/emit.js';
import { evsimVersion, packageRoot, runScenario, type AbortFlag } from './main.js';
import { ProgressView } from './progress.js';

/** The runner of sweep runs: the run command's runScenario, quiet, with the city cache. */
export function sweepRunner(cacheDir: string | null, abort: AbortFlag): Runner {
  return async (sc, outDir) => {
    const version = evsimVersion(packageRoot());
    await runScenario(sc, outDir, {
      progress: new ProgressView('off'),
      abort,
      notice: () => {},
      ...(cacheDir ? { cityCache: { dir: cacheDir, evsimVersion: version, memo: true } } : {}),
    });
  };
}

/** Create `dir`'s missing parent folders one level at a time (never mkdir -p, which hangs on /proc). */
function makeParents(dir: string, what: string): void {
  const missing: string[] = [];
  for (let p = dirname(resolve(dir)); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw new UserError([`${what} ${dir}: cannot create the folder ${d} (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
    }
  }
}

/** DIR/lock: the pid of the sweep process working in DIR; a second live one is refused. */
function takeLock(dir: string): () => void {
  const p = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(p, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(p, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(p, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) throw new UserError([`--out ${dir}: another evsim sweep (process ${pid}) is working in this folder; wait for it or stop it`]);
      rmSync(p, { force: true }); // left by a sweep that died
    }
  }
  throw new UserError([`--out ${dir}: cannot take the folder's lock file ${p}`]);
}

export function registerSweep(parser: Argv<object>, root: string, setExit: (code: number) => void): void {
  parser.command(
    'sweep <spec> [target]',
    'run a sweep: a base scenario varied over grid, zip, sample, policy and ledger lists, with replications (or: sweep plan SPEC --out DIR | sweep run DIR --index I | --shard i/n | sweep collect DIR)',
    (y) =>
      y
        .positional('spec', { type: 'string', demandOption: true, describe: 'sweep spec (YAML), or plan | run | collect' })
        .positional('target', { type: 'string', describe: 'with plan: the spec; with run and collect: the sweep folder' })
        .option('index', { type: 'string', describe: 'sweep run: the run index (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)' })
        .option('shard', { type: 'string', describe: 'sweep run: i/n runs every run whose index is i modulo n' })
        .option('out', { type: 'string', describe: 'sweep folder (default: results/sweeps/<spec name>/); rerunning resumes it' })
        .option('jobs', { type: 'string', describe: 'worker processes (default: the cores, os.availableParallelism(); 0: run in this process)' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'list the runs (and which are done) and write nothing' })
        .option('rerun-failed', { type: 'boolean', default: false, describe: 'run again the runs that failed before' })
        .option('allow-changed', { type: 'boolean', default: false, describe: 'replace the plan of a sweep folder whose spec (or base scenario) changed' })
        .option('cache', { type: 'boolean', default: true, describe: 'city cache (--no-cache: build the city in every run)' })
        .option('cache-dir', { type: 'string', describe: 'city cache folder (default: DIR/cache/)' })
        .option('emit', { type: 'string', describe: 'plan the sweep and write scheduler files instead of running it: slurm (DIR/slurm/sweep.sbatch, collect.sbatch, submit.sh) or k8s (DIR/k8s/job.yaml)' })
        .option('throttle', { type: 'string', describe: 'with --emit: at most N runs at once (Slurm %N, Kubernetes parallelism)' })
        .option('time', { type: 'string', describe: 'with --emit: time limit per run (Slurm forms: minutes, HH:MM:SS, D-HH:MM:SS)' })
        .option('mem', { type: 'string', describe: 'with --emit: memory per run, e.g. 2G (K, M, G, T; megabytes without a suffix)' })
        .option('partition', { type: 'string', describe: 'with --emit slurm: the Slurm partition' })
        .option('tasks', { type: 'string', describe: 'with --emit slurm: M array tasks, task i running every M-th run (--shard i/M) to share one process start (default: one task per run)' })
        .option('image', { type: 'string', describe: 'with --emit k8s (required): the container image, with evsim on its PATH' })
        .option('claim', { type: 'string', describe: 'with --emit k8s (required): the PersistentVolumeClaim (ReadWriteMany) holding the sweep folder' })
        .option('quiet', { type: 'boolean', default: false, describe: 'print only the last line' })
        .option('progress', { type: 'boolean', describe: 'progress bar on stderr (default: when stderr is a terminal and CI is not set)' }),
    async (args) => {
      const sub = String(args.spec);
      if (sub === 'plan' || sub === 'run' || sub === 'collect') {
        if (args.target === undefined) throw new UserError([`evsim sweep ${sub}: name ${sub === 'plan' ? 'the spec file' : 'the sweep folder'}`]);
        await stepCommand(sub, String(args.target), args, root, setExit);
        return;
      }
      if (args.target !== undefined) throw new UserError([`evsim sweep: unexpected argument ${JSON.stringify(args.target)}; allowed: sweep SPEC, sweep plan SPEC, sweep run DIR, sweep collect DIR`]);
      for (const o of ['index', 'shard'] as const) if (args[o] !== undefined) throw new UserError([`--${o}: only for evsim sweep run DIR`]);
      const emit = emitOptions(args);
      const specFile = String(args.spec);
      let jobs = os.availableParallelism();
      if (args.jobs !== undefined) {
        const raw = String(args.jobs).trim();
        jobs = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(jobs) || jobs > 1024) throw new UserError([`--jobs: must be an integer from 0 to 1024 (got ${JSON.stringify(raw)})`]);
      }
      if (args.out !== undefined && String(args.out).trim() === '') throw new UserError([`--out '': must name a folder (got an empty string)`]);
      if (args['cache-dir'] !== undefined && String(args['cache-dir']).trim() === '') throw new UserError([`--cache-dir '': must name a folder (got an empty string)`]);
      if (args['cache-dir'] !== undefined && args.cache === false) throw new UserError([`--cache-dir: contradicts --no-cache; give one of them`]);
      if (emit && args['dry-run']) throw new UserError([`--dry-run: contradicts --emit; give one of them`]);
      if (emit && args.jobs !== undefined) throw new UserError([`--jobs: not with --emit (the scheduler runs one run per task); use --throttle N to limit runs at once`]);
      const spec = loadSweepSpec(specFile);
      const version = evsimVersion(root);
      let workerPath: string | undefined;
      if (jobs > 0 && !emit && !args['dry-run']) {
        workerPath = join(root, 'dist', 'src', 'cli', 'sweepWorker.js');
        if (!existsSync(workerPath)) throw new UserError([`--jobs ${jobs}: the compiled sweep worker ${workerPath} is missing; run \`npm run build\` first, or use --jobs 0 (runs in this process)`]);
      }
      // the workers load their modules while the plan is built; ended on any error before the pool takes them
      const prefork = workerPath ? forkWorkers(workerPath, jobs) : [];
      try {
        await sweepWithPlan();
      } finally {
        endWorkers(prefork);
      }
      async function sweepWithPlan(): Promise<void> {
        const { plan } = planSweep(spec, version, root);
        const out = resolve(args.out ?? join('results', 'sweeps', basename(specFile, extname(specFile))));
        if (emit) {
          emitFiles(emit, spec, plan, out, specFile, args, root);
          return;
        }
        if (args['dry-run']) {
          const there = existsSync(join(out, 'plan.json'));
          const params = plan.factors.map((f) => f.name);
          const lines = [['run', 'id', ...params, 'replication', 'seed', ...(there ? ['state'] : [])].join('\t')];
          for (const r of plan.runs) lines.push([String(r.index), r.id, ...params.map((p) => cellText(r.params[p])), String(r.replication), String(r.seed), ...(there ? [runState(out, r).status] : [])].join('\t'));
          process.stdout.write(`${lines.join('\n')}\n${plan.runs.length} runs (${plan.factors.length} varied parameters, ${spec.replications} replications); nothing written\n`);
          return;
        }
        makeParents(out, '--out');
        if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError([`--out ${out}: is a file, not a folder; name a new or empty folder`]);
        const prep = prepareSweepDir(out, spec, plan, root, { allowChanged: args['allow-changed'] });
        const unlock = takeLock(out);
        const abort: AbortFlag = { signal: null };
        const onSignal = (sig: NodeJS.Signals) => (abort.signal = sig);
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          if (prep.orphans.length) process.stderr.write(`evsim sweep: the plan changed; ${prep.orphans.length} earlier run(s) stay in ${join(out, 'runs')} but are left out of the index\n`);
          const cacheDir = args.cache === false ? null : resolve(args['cache-dir'] ?? join(out, 'cache'));
          const tty = process.stderr.isTTY === true;
          const showProgress = !args.quiet && (args.progress === true || (args.progress === undefined && tty && !process.env.CI));
          const r = await runSweep(out, plan, {
            jobs,
            rerunFailed: args['rerun-failed'],
            ...(workerPath ? { workerPath } : {}),
            runner: sweepRunner(cacheDir, abort),
            cacheDir,
            packageRoot: root,
            progress: showProgress,
            abort,
            prefork,
          });
          const c = r.collected;
          const files = ['index.csv', 'aggregate.csv', ...(plan.references.length ? ['paired.csv'] : [])].join(', ');
          if (!args.quiet && c.failed > 0) {
            for (const rec of c.records.filter((x) => x.status === 'failed').slice(0, 5)) process.stderr.write(`evsim sweep: run ${rec.index} (${rec.id}) failed: ${rec.error}\n`);
            if (c.failed > 5) process.stderr.write(`evsim sweep: ... and ${c.failed - 5} more failed runs (index.csv lists them)\n`);
          }
          process.stdout.write(`sweep: ${plan.runs.length} runs: ${c.done} done, ${c.failed} failed, ${c.pending} pending (${r.ran} run now, ${r.skipped} already there); results: ${out}/ (${files})\n`);
          if (r.interrupted) throw new UserError([`evsim sweep: interrupted by ${abort.signal}; ${c.done} finished runs are kept in ${out}; run the same command again to resume`], 130);
          if (c.pending > 0) throw new UserError([`evsim sweep: internal error: ${c.pending} runs did not run (the worker processes ended early; see the lines above); run the same command again to resume`], 1);
          setExit(sweepExitCode(c.failed));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          unlock();
        }
      }
    },
  );
}

interface EmitArgs {
  emit?: string | undefined;
  throttle?: string | undefined;
  time?: string | undefined;
  mem?: string | undefined;
  partition?: string | undefined;
  tasks?: string | undefined;
  image?: string | undefined;
  claim?: string | undefined;
}

interface EmitChoice {
  kind: 'slurm' | 'k8s';
  throttle: number | null;
  timeSecs: number | null;
  mem: { slurm: string; k8s: string } | null;
  partition: string | null;
  tasks: string | null;
  image: string | null;
  claim: string | null;
}

/** --emit and its options, validated before anything is planned or written. */
function emitOptions(args: EmitArgs): EmitChoice | null {
  const only = ['throttle', 'time', 'mem', 'partition', 'tasks', 'image', 'claim'] as const;
  if (args.emit === undefined) {
    for (const o of only) if (args[o] !== undefined) throw new UserError([`--${o}: only with --emit slurm or --emit k8s`]);
    return null;
  }
  const kind = args.emit;
  if (kind !== 'slurm' && kind !== 'k8s') throw new UserError([`--emit: allowed: slurm, k8s (got ${JSON.stringify(kind)})`]);
  if (kind === 'slurm') for (const o of ['image', 'claim'] as const) if (args[o] !== undefined) throw new UserError([`--${o}: only with --emit k8s`]);
  if (kind === 'k8s') {
    for (const o of ['partition', 'tasks'] as const) if (args[o] !== undefined) throw new UserError([`--${o}: only with --emit slurm`]);
    for (const o of ['image', 'claim'] as const) if (args[o] === undefined || String(args[o]).trim() === '') throw new UserError([`--emit k8s: --${o} is required (${o === 'image' ? 'the container image, with evsim on its PATH' : 'the PersistentVolumeClaim holding the sweep folder'})`]);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(String(args.claim)) || String(args.claim).length > 253) throw new UserError([`--claim: expected a Kubernetes object name (lower case letters, digits, - and .) (got ${JSON.stringify(args.claim)})`]);
    if (/\s/.test(String(args.image))) throw new UserError([`--image: an image reference has no spaces (got ${JSON.stringify(args.image)})`]);
  }
  return {
    kind,
    throttle: args.throttle !== undefined ? parseThrottle(String(args.throttle)) : null,
    timeSecs: args.time !== undefined ? parseSlurmTime(String(args.time)) : null,
    mem: args.mem !== undefined ? parseMem(String(args.mem)) : null,
    partition: args.partition !== undefined ? checkPartition(String(args.partition)) : null,
    tasks: args.tasks !== undefined ? String(args.tasks) : null,
    image: args.image !== undefined ? String(args.image) : null,
    claim: args.claim !== undefined ? String(args.claim) : null,
  };
}

/** Plan the sweep folder (as `sweep plan`) and write the scheduler files; print how to submit. */
function emitFiles(e: EmitChoice, spec: ReturnType<typeof loadSweepSpec>, plan: ReturnType<typeof planSweep>['plan'], out: string, specFile: string, args: { cache?: boolean | undefined; 'cache-dir'?: string | undefined; 'allow-changed'?: boolean | undefined }, root: string): void {
  checkPath(out, '--out');
  const tasks = e.tasks !== null ? parseTasks(e.tasks, plan.runs.length) : null; // needs the plan's size; before anything is written
  const runArgs: string[] = [];
  if (args.cache === false) runArgs.push('--no-cache');
  if (args['cache-dir'] !== undefined) runArgs.push('--cache-dir', checkPath(resolve(String(args['cache-dir'])), '--cache-dir'));
  makeParents(out, '--out');
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError([`--out ${out}: is a file, not a folder; name a new or empty folder`]);
  prepareSweepDir(out, spec, plan, root, { allowChanged: args['allow-changed'] ?? false });
  const name = basename(specFile, extname(specFile));
  const common = { dir: out, runs: plan.runs.length, throttle: e.throttle, runArgs };
  if (e.kind === 'slurm') {
    const node = checkPath(process.execPath, 'node');
    const evsimBin = checkPath(join(root, 'bin', 'evsim.js'), 'evsim');
    const workdir = checkPath(process.cwd(), 'the current folder');
    const w = writeSlurm({ ...common, name: `evsim-${name}`.replace(/[^A-Za-z0-9_.-]/g, '_'), node, evsimBin, workdir, time: e.timeSecs !== null ? slurmHms(e.timeSecs) : null, mem: e.mem?.slurm ?? null, partition: e.partition, tasks });
    process.stdout.write(`sweep: ${plan.runs.length} runs planned in ${out}/; Slurm array script ${w.script}\nsubmit:   sbatch ${w.script}\nthen:     ${node} ${evsimBin} sweep collect ${out}\nor both:  ${w.submit}   (the collect job waits for the array: --dependency=afterany)\n`);
    return;
  }
  const p = writeK8s({ ...common, name: k8sName(name), image: e.image!, claim: e.claim!, mem: e.mem?.k8s ?? null }, e.timeSecs);
  process.stdout.write(`sweep: ${plan.runs.length} runs planned in ${out}/; Kubernetes Indexed Job ${p}\nsubmit:   kubectl apply -f ${p}\nthen:     evsim sweep collect ${out}   (where the claim ${e.claim} is mounted)\n`);
}

interface StepArgs {
  out?: string | undefined;
  index?: string | undefined;
  shard?: string | undefined;
  cache?: boolean | undefined;
  'cache-dir'?: string | undefined;
  'rerun-failed'?: boolean | undefined;
  'allow-changed'?: boolean | undefined;
  quiet?: boolean | undefined;
}

/**
 * The three steps as commands, for schedulers (Slurm job arrays, Kubernetes indexed jobs, GNU
 * parallel): `plan SPEC --out DIR` writes the sweep folder; `run DIR --index I` (or `--shard i/n`)
 * runs one run (or every n-th) in this process; `collect DIR` writes index, aggregate, paired.
 */
async function stepCommand(sub: 'plan' | 'run' | 'collect', target: string, args: StepArgs, root: string, setExit: (code: number) => void): Promise<void> {
  const version = evsimVersion(root);
  if (sub === 'plan') {
    const spec = loadSweepSpec(target);
    const { plan } = planSweep(spec, version, root);
    const out = resolve(args.out ?? join('results', 'sweeps', basename(target, extname(target))));
    makeParents(out, '--out');
    const prep = prepareSweepDir(out, spec, plan, root, { allowChanged: args['allow-changed'] ?? false });
    process.stdout.write(`sweep plan: ${plan.runs.length} runs (indices 0..${plan.runs.length - 1}) in ${out}/${prep.resumed ? ' (unchanged)' : ''}\n`);
    return;
  }
  const dir = resolve(target);
  const plan = readPlan(dir);
  if (sub === 'collect') {
    const c = collectSweep(dir, plan);
    process.stdout.write(`sweep collect: ${plan.runs.length} runs: ${c.done} done, ${c.failed} failed, ${c.pending} pending; ${dir}/ (index.csv, aggregate.csv${plan.references.length ? ', paired.csv' : ''})\n`);
    setExit(sweepExitCode(c.failed));
    return;
  }
  const N = plan.runs.length;
  let indices: number[];
  const int = (raw: string, what: string, max: number) => {
    const v = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isSafeInteger(v) || v > max) throw new UserError([`${what}: must be an integer from 0 to ${max} (got ${JSON.stringify(raw)})`]);
    return v;
  };
  if (args.shard !== undefined) {
    if (args.index !== undefined) throw new UserError(['--shard: give --index or --shard, not both']);
    const m = /^([^/]+)\/([^/]+)$/.exec(args.shard);
    if (!m) throw new UserError([`--shard: expected i/n, e.g. 0/4 (got ${JSON.stringify(args.shard)})`]);
    const n = int(m[2]!, '--shard n', 1_000_000);
    if (n < 1) throw new UserError([`--shard: n must be at least 1 (got ${JSON.stringify(args.shard)})`]);
    const i = int(m[1]!, '--shard i', n - 1);
    indices = plan.runs.map((r) => r.index).filter((x) => x % n === i);
  } else {
    const env = process.env.SLURM_ARRAY_TASK_ID !== undefined ? ['$SLURM_ARRAY_TASK_ID', process.env.SLURM_ARRAY_TASK_ID] : process.env.JOB_COMPLETION_INDEX !== undefined ? ['$JOB_COMPLETION_INDEX', process.env.JOB_COMPLETION_INDEX] : null;
    const raw = args.index ?? env?.[1];
    if (raw === undefined) throw new UserError(['evsim sweep run: name the run with --index I or --shard i/n (or set SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)']);
    indices = [int(raw, args.index !== undefined ? '--index' : env![0]!, N - 1)];
  }
  const cacheDir = args.cache === false ? null : resolve(args['cache-dir'] ?? join(dir, 'cache'));
  const abort: AbortFlag = { signal: null };
  const onSignal = (sig: NodeJS.Signals) => (abort.signal = sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = 0;
  try {
    const runner = sweepRunner(cacheDir, abort);
    for (const i of indices) {
      const rec = await executeRun(dir, plan, i, runner, root, { rerunFailed: args['rerun-failed'] ?? false });
      if (rec.status === 'failed') {
        failed++;
        process.stderr.write(`evsim sweep: run ${i} (${rec.id}) failed: ${rec.error}\n`);
      }
      if (!args.quiet) process.stdout.write(`sweep run ${i} (${rec.id}): ${rec.skipped ? `${rec.status} before, skipped` : rec.status}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  setExit(sweepExitCode(failed));
}
