/**
 * One run of a sweep, by index: the step `--jobs` workers (and later `evsim sweep run DIR --index
 * I`, a Slurm array task, a Kubernetes indexed job) perform. It reads only the sweep folder.
 *
 * DIR/runs/<id>/ holds the run's usual results (written by the run command's own atomic folder
 * swap: summary.json, sessions.csv, ..., manifest.json, timing.json), then scenario.json (the
 * resolved scenario, canonical JSON), then run.json, the completion marker, written last. A run is
 * done only when run.json says so and every file its manifest lists is present with its size; a
 * folder without it (a killed worker) is removed and the run starts again. A failed run leaves
 * DIR/runs/<id>/failed.json (its one-line error) and is retried only with --rerun-failed.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { canonicalJson, scenarioForHash } from '../output/manifest.js';
import type { Scenario } from '../scenario/scenario.js';
import { resolveRun, runId, writeAtomic, type Plan, type PlannedRun } from './plan.js';

const wallNow = () => performance.now() / 1000; // wall-clock ok: run wall time for index.csv only

export type RunStatus = 'done' | 'failed' | 'pending';

export interface RunRecord {
  index: number;
  id: string;
  status: RunStatus;
  wallSeconds: number | null;
  error: string | null;
  /** this call did not run it: it was already done (or failed, without --rerun-failed) */
  skipped?: boolean;
}

/** Runs a resolved scenario into a results folder (the run command's runScenario). */
export type Runner = (sc: Scenario, outDir: string) => Promise<void>;

export const runDir = (dir: string, id: string) => join(dir, 'runs', id);

function readJson(p: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readFileSync(p, 'utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Every file listed by the run's manifest exists with its recorded size. */
function filesComplete(folder: string): boolean {
  const m = readJson(join(folder, 'manifest.json'));
  if (!m || !Array.isArray(m.files)) return false;
  for (const f of m.files as { path?: unknown; bytes?: unknown }[]) {
    if (typeof f.path !== 'string') return false;
    try {
      if (statSync(join(folder, f.path)).size !== f.bytes) return false;
    } catch {
      return false;
    }
  }
  return existsSync(join(folder, 'scenario.json'));
}

/** The state of a run in the sweep folder. */
export function runState(dir: string, run: PlannedRun): RunRecord {
  const folder = runDir(dir, run.id);
  const done = readJson(join(folder, 'run.json'));
  if (done && done.status === 'done' && done.id === run.id && filesComplete(folder)) {
    return { index: run.index, id: run.id, status: 'done', wallSeconds: typeof done.wallSeconds === 'number' ? done.wallSeconds : null, error: null };
  }
  const failed = readJson(join(folder, 'failed.json'));
  if (failed && failed.id === run.id) {
    return { index: run.index, id: run.id, status: 'failed', wallSeconds: typeof failed.wallSeconds === 'number' ? failed.wallSeconds : null, error: String(failed.error ?? 'failed') };
  }
  return { index: run.index, id: run.id, status: 'pending', wallSeconds: null, error: null };
}

/** Record a failure (also used by the pool when a worker process dies mid-run). */
export function recordFailure(dir: string, run: PlannedRun, error: string, wallSeconds: number | null): RunRecord {
  const folder = runDir(dir, run.id);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeAtomic(join(folder, 'failed.json'), JSON.stringify({ id: run.id, index: run.index, status: 'failed', error, wallSeconds }, null, 2) + '\n');
  return { index: run.index, id: run.id, status: 'failed', wallSeconds, error };
}

/**
 * Run plan.runs[index] unless it is done (or failed, unless rerunFailed). Errors of the run become
 * its failed.json and a 'failed' record; an interruption (UserError with exit code 130) is
 * rethrown, leaving the run pending.
 */
export async function executeRun(dir: string, plan: Plan, index: number, runner: Runner, packageRoot: string, opts: { rerunFailed?: boolean } = {}): Promise<RunRecord> {
  const run = plan.runs[index];
  if (!run) throw new UserError([`--index ${index}: the sweep has runs 0..${plan.runs.length - 1}`]);
  const state = runState(dir, run);
  if (state.status === 'done' || (state.status === 'failed' && !opts.rerunFailed)) return { ...state, skipped: true };
  const folder = runDir(dir, run.id);
  rmSync(folder, { recursive: true, force: true }); // incomplete (a killed worker) or failed before
  const t0 = wallNow();
  try {
    const sc = resolveRun(plan.base, run);
    const id = runId(sc, plan.evsim, packageRoot);
    if (id !== run.id) throw new UserError([`${plan.base}: the base scenario (or evsim) changed since the sweep was planned (run ${index} now resolves to id ${id}, planned ${run.id}); plan again (rerun the sweep with --allow-changed)`]);
    await runner(sc, folder);
    writeAtomic(join(folder, 'scenario.json'), canonicalJson(scenarioForHash(sc, packageRoot)) + '\n');
    const wallSeconds = wallNow() - t0;
    writeAtomic(join(folder, 'run.json'), JSON.stringify({ id: run.id, index, status: 'done', params: run.params, replication: run.replication, seed: run.seed, wallSeconds }, null, 2) + '\n');
    return { index, id: run.id, status: 'done', wallSeconds, error: null };
  } catch (e) {
    if (e instanceof UserError && e.exitCode === 130) {
      rmSync(folder, { recursive: true, force: true });
      throw e;
    }
    const msg = e instanceof UserError ? e.lines.join(' | ') : `internal error: ${(e as Error).message}`;
    return recordFailure(dir, run, msg, wallNow() - t0);
  }
}
