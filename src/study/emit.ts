/**
 * Scheduler files for a planned sweep folder (`evsim sweep SPEC --emit slurm|k8s`): a Slurm job
 * array script (one array task per run, `evsim sweep run DIR --index $SLURM_ARRAY_TASK_ID`), a
 * dependent collect job and a submit script; or a Kubernetes Indexed Job manifest (one completion
 * per run; `evsim sweep run DIR` reads $JOB_COMPLETION_INDEX). Every path in them is absolute, so
 * they work from any submit folder. The files only call the same `sweep run` / `sweep collect`
 * steps a local sweep uses; they hold no results.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';

export interface EmitCommon {
  /** the sweep folder (absolute) */
  dir: string;
  /** number of runs in the plan */
  runs: number;
  /** job name (Slurm --job-name, Kubernetes metadata.name) */
  name: string;
  /** at most this many runs at once (Slurm %N, Kubernetes parallelism); null: no limit (Slurm), all (k8s) */
  throttle: number | null;
  /** extra arguments of `sweep run` (e.g. --no-cache, --cache-dir D) */
  runArgs: string[];
}

export interface SlurmEmit extends EmitCommon {
  /** absolute path of the node executable and of evsim's bin/evsim.js */
  node: string;
  evsimBin: string;
  /** the folder the tasks cd into (the folder --emit ran in) */
  workdir: string;
  time: string | null;
  mem: string | null;
  partition: string | null;
  /** array tasks: null, one run per task; M < runs, task i runs `--shard i/M` (every M-th run) */
  tasks: number | null;
}

export interface K8sEmit extends EmitCommon {
  image: string;
  claim: string;
  mem: string | null;
}

/** Slurm's --time forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. Returns seconds. */
export function parseSlurmTime(raw: string): number {
  const s = raw.trim();
  const bad = () => new UserError([`--time: expected minutes, HH:MM:SS or D-HH:MM:SS (Slurm's forms), e.g. 01:30:00 (got ${JSON.stringify(raw)})`]);
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(s);
  if (!m) throw bad();
  const [, d, a, b, c] = m;
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  let secs: number;
  if (d !== undefined) secs = n(d) * 86400 + n(a) * 3600 + n(b) * 60 + n(c);
  else if (c !== undefined) secs = n(a) * 3600 + n(b) * 60 + n(c);
  else if (b !== undefined) secs = n(a) * 60 + n(b);
  else secs = n(a) * 60;
  if ((b !== undefined && n(b) > 59) || (c !== undefined && n(c) > 59) || secs <= 0) throw bad();
  return secs;
}

/** Memory as Slurm's --mem takes it: an integer with an optional K, M, G or T suffix (default M). */
export function parseMem(raw: string): { slurm: string; k8s: string } {
  const m = /^([1-9][0-9]*)([KMGT]?)$/i.exec(raw.trim());
  if (!m) throw new UserError([`--mem: expected a positive integer with an optional K, M, G or T suffix (megabytes without one), e.g. 2G (got ${JSON.stringify(raw)})`]);
  const unit = (m[2] || 'M').toUpperCase();
  return { slurm: `${m[1]}${unit}`, k8s: `${m[1]}${unit}i` };
}

export function parseThrottle(raw: string): number {
  const v = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(v) || v < 1 || v > 100000) throw new UserError([`--throttle: must be an integer from 1 to 100000 (got ${JSON.stringify(raw)})`]);
  return v;
}

export function parseTasks(raw: string, runs: number): number | null {
  const v = /^[0-9]+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(v) || v < 1 || v > runs) throw new UserError([`--tasks: must be an integer from 1 to the number of runs, ${runs} (got ${JSON.stringify(raw)})`]);
  return v === runs ? null : v;
}

export function checkPartition(raw: string): string {
  if (!/^[A-Za-z0-9_.,-]+$/.test(raw)) throw new UserError([`--partition: expected a Slurm partition name (letters, digits, _ . - and commas) (got ${JSON.stringify(raw)})`]);
  return raw;
}

/** A Kubernetes object name (RFC 1123 label): lower case letters, digits and -, at most 63. */
export function k8sName(raw: string): string {
  const s = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52).replace(/-+$/, '');
  return `evsim-${s || 'sweep'}`;
}

/** Paths go into #SBATCH lines and shell words: refuse what neither can carry safely. */
export function checkPath(path: string, what: string): string {
  if (/[\s%'"\\$`]/.test(path)) throw new UserError([`${what} ${path}: the scheduler files cannot name a path with spaces, quotes, backslashes, $, \` or % (Slurm's output patterns); use another folder`]);
  return path;
}

const q = (s: string) => `'${s}'`;

/** One folder level (never mkdir -p); the parent (the sweep folder) exists. */
function mkdirOne(d: string): void {
  try {
    mkdirSync(d);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Seconds as Slurm's [D-]HH:MM:SS. */
export function slurmHms(secs: number): string {
  const d = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d > 0 ? `${d}-` : ''}${p(h)}:${p(m)}:${p(s)}`;
}

export function slurmArrayScript(o: SlurmEmit): string {
  const logs = join(o.dir, 'slurm', 'logs');
  const lines = [
    '#!/bin/bash',
    `# evsim sweep: ${o.runs} runs of ${o.dir} as a Slurm job array (written by evsim sweep --emit slurm).`,
    o.tasks === null ? '# Each array task runs one run; finished runs are skipped, so resubmitting resumes the sweep.' : `# Array task i runs the runs whose index is i modulo ${o.tasks} (--shard i/${o.tasks}); finished runs are skipped, so resubmitting resumes the sweep.`,
    `# Then: ${o.node} ${o.evsimBin} sweep collect ${o.dir}   (or submit with ${join(o.dir, 'slurm', 'submit.sh')}, which queues it)`,
    `#SBATCH --job-name=${o.name}`,
    `#SBATCH --array=0-${(o.tasks ?? o.runs) - 1}${o.throttle !== null ? `%${o.throttle}` : ''}`,
    `#SBATCH --output=${logs}/%A_%a.out`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    ...(o.time !== null ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem !== null ? [`#SBATCH --mem=${o.mem}`] : []),
    ...(o.partition !== null ? [`#SBATCH --partition=${o.partition}`] : []),
    'set -euo pipefail',
    `cd ${q(o.workdir)}`,
    `exec ${q(o.node)} ${q(o.evsimBin)} sweep run ${q(o.dir)} ${o.tasks === null ? '--index "$SLURM_ARRAY_TASK_ID"' : `--shard "$SLURM_ARRAY_TASK_ID/${o.tasks}"`}${o.runArgs.map((a) => ` ${q(a)}`).join('')}`,
    '',
  ];
  return lines.join('\n');
}

export function slurmCollectScript(o: SlurmEmit): string {
  return [
    '#!/bin/bash',
    `# evsim sweep collect for ${o.dir}: index.csv, aggregate.csv (and paired.csv) once the array is done.`,
    `#SBATCH --job-name=${o.name}-collect`,
    `#SBATCH --output=${join(o.dir, 'slurm', 'logs')}/collect_%j.out`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    ...(o.partition !== null ? [`#SBATCH --partition=${o.partition}`] : []),
    'set -euo pipefail',
    `cd ${q(o.workdir)}`,
    `exec ${q(o.node)} ${q(o.evsimBin)} sweep collect ${q(o.dir)}`,
    '',
  ].join('\n');
}

export function slurmSubmitScript(o: SlurmEmit): string {
  const s = join(o.dir, 'slurm');
  return [
    '#!/bin/bash',
    '# Submit the array and a collect job that starts after every array task ended (afterany).',
    '# Extra arguments go to both sbatch calls (e.g. --account=A).',
    'set -euo pipefail',
    `id=$(sbatch --parsable "$@" ${q(join(s, 'sweep.sbatch'))})`,
    'id=${id%%;*}',
    `cid=$(sbatch --parsable "$@" --dependency=afterany:"$id" ${q(join(s, 'collect.sbatch'))})`,
    'cid=${cid%%;*}',
    `echo "submitted array job $id (${o.runs} runs${o.tasks !== null ? ` in ${o.tasks} tasks` : ''}) and collect job $cid; logs in ${join(s, 'logs')}/"`,
    '',
  ].join('\n');
}

/** Writes DIR/slurm/{sweep.sbatch, collect.sbatch, submit.sh} and DIR/slurm/logs/. */
export function writeSlurm(o: SlurmEmit): { script: string; submit: string } {
  const s = join(o.dir, 'slurm');
  mkdirOne(s);
  mkdirOne(join(s, 'logs')); // Slurm does not create the --output folder
  const script = join(s, 'sweep.sbatch');
  const submit = join(s, 'submit.sh');
  writeFileSync(script, slurmArrayScript(o));
  writeFileSync(join(s, 'collect.sbatch'), slurmCollectScript(o));
  writeFileSync(submit, slurmSubmitScript(o));
  chmodSync(submit, 0o755);
  return { script, submit };
}

/**
 * The Indexed Job. Assumptions (documented in the manifest and docs/studies.md): the image has
 * `evsim` on its PATH; the claim is a ReadWriteMany volume holding the sweep folder, mounted at the
 * same absolute path as on the planning machine (plan.json names the base scenario by absolute
 * path, so it must be reachable in the pod at that path too, e.g. inside the same volume).
 */
export function k8sJob(o: K8sEmit, timeSecs: number | null): string {
  const parallelism = o.throttle === null ? o.runs : Math.min(o.throttle, o.runs);
  const j = (s: string) => JSON.stringify(s);
  const lines = [
    `# evsim sweep: ${o.runs} runs of ${o.dir} as a Kubernetes Indexed Job (written by evsim sweep --emit k8s).`,
    '# Each completion index runs one run: `evsim sweep run DIR` reads $JOB_COMPLETION_INDEX.',
    `# Assumes: the image has evsim on its PATH; the claim ${o.claim} (ReadWriteMany) holds the sweep folder and`,
    `# the base scenario at the same absolute paths as where the sweep was planned (mounted at ${o.dir}).`,
    `# Then: evsim sweep collect ${o.dir}  (in any pod or machine that mounts the claim)`,
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${o.name}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${o.runs}`,
    `  parallelism: ${parallelism}`,
    `  backoffLimitPerIndex: 1`,
    `  maxFailedIndexes: ${o.runs}`,
    ...(timeSecs !== null ? [`  activeDeadlineSeconds: ${timeSecs * Math.ceil(o.runs / parallelism)}`] : []),
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: run',
    `          image: ${j(o.image)}`,
    `          command: ${JSON.stringify(['evsim', 'sweep', 'run', o.dir, ...o.runArgs])}`,
    `          workingDir: ${j(o.dir)}`,
    ...(o.mem !== null ? ['          resources:', `            requests: { cpu: "1", memory: ${j(o.mem)} }`, `            limits: { memory: ${j(o.mem)} }`] : ['          resources:', '            requests: { cpu: "1" }']),
    '          volumeMounts:',
    '            - name: sweep',
    `              mountPath: ${j(o.dir)}`,
    '      volumes:',
    '        - name: sweep',
    '          persistentVolumeClaim:',
    `            claimName: ${j(o.claim)}`,
    '',
  ];
  return lines.join('\n');
}

export function writeK8s(o: K8sEmit, timeSecs: number | null): string {
  const d = join(o.dir, 'k8s');
  mkdirOne(d);
  const p = join(d, 'job.yaml');
  writeFileSync(p, k8sJob(o, timeSecs));
  return p;
}
