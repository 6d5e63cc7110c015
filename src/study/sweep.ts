/**
 * Running a planned sweep: the runs not yet done go to `jobs` worker processes (node:child_process
 * fork of a worker entry, one run at a time each, over IPC), or run in this process with jobs = 0.
 * A failed run does not stop the sweep; a worker that dies mid-run fails that run and is replaced.
 * Then index.csv, aggregate.csv and paired.csv are collected (src/study/collect.ts).
 *
 * Progress on a terminal: one line redrawn in place (runs done, failed, skipped, ETA).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { collectSweep, type Collected } from './collect.js';
import { executeRun, recordFailure, runState, type RunRecord, type Runner } from './execute.js';
import type { Plan } from './plan.js';

const wallNow = () => performance.now() / 1000; // wall-clock ok: progress and ETA only

export interface WorkerInit {
  type: 'init';
  dir: string;
  rerunFailed: boolean;
  cacheDir: string | null;
}
export type ToWorker = WorkerInit | { type: 'run'; index: number } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'result'; record: RunRecord } | { type: 'interrupted' };

export interface SweepRunOptions {
  jobs: number;
  rerunFailed: boolean;
  /** the worker entry (jobs ≥ 1) */
  workerPath?: string;
  /** in-process runner (jobs = 0) */
  runner?: Runner;
  cacheDir: string | null;
  packageRoot: string;
  progress: boolean;
  out?: { write(s: string): unknown; columns?: number };
  abort?: { signal: string | null };
  /** worker processes forked earlier (forkWorkers), used before forking new ones; the pool ends every one it does not use */
  prefork?: ChildProcess[];
}

/**
 * Fork `n` sweep workers now: a worker spends its first ~0.6 s loading its modules, so forking
 * them before the plan is built overlaps that with planning. They wait for the pool's init message.
 */
export function forkWorkers(workerPath: string, n: number): ChildProcess[] {
  const out: ChildProcess[] = [];
  for (let k = 0; k < n; k++) out.push(forkWorker(workerPath, n));
  return out;
}

/**
 * V8 options of a worker when the pool fills every core (jobs ≥ os.availableParallelism()): no
 * background GC or JIT threads. A process alone does part of its garbage collection and compiling
 * on threads that run on an idle core; when every core runs a worker there is no idle core, and
 * those threads only compete with the workers. Measured on the 2-core machine (40 Monaco runs per
 * process, run + write phases): one process alone 3.42 s; two at once 4.99 s each with V8's
 * threads, 4.19–4.20 s without them (alone, without them: 4.27–4.49 s). The simulation's results
 * do not depend on these options (they change when V8 collects and compiles, not what the code
 * computes). With fewer workers than cores the defaults stay.
 */
export const FULL_POOL_V8_FLAGS: readonly string[] = ['--single-threaded-gc', '--no-concurrent-recompilation', '--no-concurrent-sparkplug'];

export function workerExecArgv(jobs: number, cores = os.availableParallelism()): string[] {
  return jobs >= cores ? [...process.execArgv, ...FULL_POOL_V8_FLAGS] : [...process.execArgv];
}

function forkWorker(workerPath: string, jobs: number): ChildProcess {
  return fork(workerPath, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json', execArgv: workerExecArgv(jobs) });
}

/** End pre-forked workers that will not be used (they have had no init message). */
export function endWorkers(children: ChildProcess[]): void {
  for (const c of children.splice(0)) {
    if (c.connected) c.disconnect();
    c.kill('SIGTERM');
  }
}

export interface SweepOutcome {
  collected: Collected;
  ran: number;
  skipped: number;
  interrupted: boolean;
}

class Progress {
  private t0 = wallNow();
  private framed = false;
  constructor(
    private readonly on: boolean,
    private readonly total: number,
    private readonly out: { write(s: string): unknown; columns?: number },
  ) {}
  draw(done: number, failed: number, skipped: number, todo: number): void {
    if (!this.on) return;
    const finished = done + failed;
    const el = wallNow() - this.t0;
    const eta = finished > 0 && todo > finished ? ((todo - finished) * el) / finished : NaN;
    const w = 20;
    const frac = todo > 0 ? finished / todo : 1;
    const bar = '#'.repeat(Math.round(frac * w)).padEnd(w, '.');
    const etaText = Number.isFinite(eta) ? `ETA ${eta >= 60 ? `${Math.floor(eta / 60)}m${String(Math.round(eta % 60)).padStart(2, '0')}s` : `${Math.round(eta)}s`}` : 'ETA -';
    this.out.write(`\r\x1b[Ksweep [${bar}] ${finished}/${todo} run (${done} done, ${failed} failed), ${skipped} of ${this.total} already there; ${etaText}`);
    this.framed = true;
  }
  clear(): void {
    if (this.framed) this.out.write('\r\x1b[K');
    this.framed = false;
  }
}

export async function runSweep(dir: string, plan: Plan, opts: SweepRunOptions): Promise<SweepOutcome> {
  const abort = opts.abort ?? { signal: null };
  const states = plan.runs.map((r) => runState(dir, r));
  const todo = states.filter((s) => s.status === 'pending' || (s.status === 'failed' && opts.rerunFailed)).map((s) => s.index);
  const skipped = plan.runs.length - todo.length;
  const progress = new Progress(opts.progress, plan.runs.length, opts.out ?? process.stderr);
  let done = 0;
  let failed = 0;
  const note = (r: RunRecord) => {
    if (r.status === 'done') done++;
    else if (r.status === 'failed') failed++;
    progress.draw(done, failed, skipped, todo.length);
  };
  progress.draw(0, 0, skipped, todo.length);
  let interrupted = false;
  if (opts.jobs === 0) {
    if (!opts.runner) throw new Error('runSweep: jobs = 0 needs an in-process runner');
    for (const i of todo) {
      if (abort.signal) {
        interrupted = true;
        break;
      }
      try {
        note(await executeRun(dir, plan, i, opts.runner, opts.packageRoot, { rerunFailed: opts.rerunFailed }));
      } catch (e) {
        if ((e as { exitCode?: number }).exitCode === 130) {
          interrupted = true;
          break;
        }
        throw e;
      }
    }
  } else {
    if (!opts.workerPath) throw new Error('runSweep: jobs ≥ 1 needs a worker entry');
    interrupted = await runPool(dir, plan, todo, opts, note, abort);
  }
  progress.clear();
  const collected = collectSweep(dir, plan);
  return { collected, ran: done + failed, skipped, interrupted };
}

function runPool(dir: string, plan: Plan, todo: number[], opts: SweepRunOptions, note: (r: RunRecord) => void, abort: { signal: string | null }): Promise<boolean> {
  // runs grouped by replication (one seed, so one city): a worker keeps to its group while it has
  // runs, then takes a group nobody has started, then helps the group with most runs left; so
  // that two workers rarely build the same city at the same time
  const groups = new Map<number, number[]>();
  for (const i of todo) {
    const r = plan.runs[i]!.replication;
    const g = groups.get(r);
    if (g) g.push(i);
    else groups.set(r, [i]);
  }
  const started = new Set<number>();
  const remaining = () => {
    let n = 0;
    for (const g of groups.values()) n += g.length;
    return n;
  };
  const take = (prefer: number | null): { index: number; group: number } | undefined => {
    let g: number | null = prefer !== null && groups.get(prefer)?.length ? prefer : null;
    if (g === null) {
      for (const [k, l] of groups) {
        if (!started.has(k) && l.length) {
          g = k;
          break;
        }
      }
    }
    if (g === null) {
      let most = 0;
      for (const [k, l] of groups) {
        if (l.length > most) {
          most = l.length;
          g = k;
        }
      }
    }
    if (g === null) return undefined;
    started.add(g);
    return { index: groups.get(g)!.shift()!, group: g };
  };
  const jobs = Math.max(1, Math.min(opts.jobs, todo.length));
  let live = 0;
  let stopping = false;
  const children = new Set<ChildProcess>();
  const prefork = opts.prefork ?? [];
  return new Promise<boolean>((resolveAll) => {
    if (remaining() === 0) {
      endWorkers(prefork);
      resolveAll(false);
      return;
    }
    const poll = setInterval(() => {
      if (abort.signal && !stopping) {
        stopping = true;
        groups.clear();
        for (const c of children) c.kill('SIGTERM');
      }
    }, 100);
    const finish = () => {
      if (live === 0) {
        clearInterval(poll);
        resolveAll(stopping);
      }
    };
    const spawnOne = () => {
      live++;
      const child = prefork.shift() ?? forkWorker(opts.workerPath!, jobs);
      children.add(child);
      let current: number | null = null;
      let group: number | null = null;
      const next = () => {
        const t = stopping ? undefined : take(group);
        if (t === undefined) {
          current = null;
          child.send({ type: 'stop' } satisfies ToWorker);
          return;
        }
        current = t.index;
        group = t.group;
        child.send({ type: 'run', index: t.index } satisfies ToWorker);
      };
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') next();
        else if (m.type === 'result') {
          current = null;
          note(m.record);
          next();
        } else if (m.type === 'interrupted') current = null;
      });
      child.on('exit', (code, sig) => {
        children.delete(child);
        live--;
        if (current !== null && !stopping) {
          // the worker died mid-run (out of memory, killed): that run fails, a new worker takes over
          const run = plan.runs[current]!;
          note(recordFailure(dir, run, `worker process died (${sig ?? `exit code ${code}`}) while running it`, null));
          current = null;
          if (remaining()) spawnOne();
        }
        finish();
      });
      child.send({ type: 'init', dir, rerunFailed: opts.rerunFailed, cacheDir: opts.cacheDir } satisfies ToWorker);
    };
    for (let k = 0; k < jobs; k++) spawnOne();
    endWorkers(prefork);
  });
}

/** Exit code of a sweep: 0 when every run is done; 10 + the number of failed runs, at most 110. */
export function sweepExitCode(failed: number): number {
  return failed === 0 ? 0 : 10 + Math.min(failed, 100);
}
