/**
 * Planning a sweep: every run of the expansion resolved into a validated scenario (the base file
 * with the run's overrides, exactly as `--set` applies them), its content id, and the sweep folder
 * (sweep.yaml, manifest.json, plan.json) that later steps (run one, collect) read.
 *
 * Run id: the first 16 hex digits of sha256(canonical JSON of {evsim version, the resolved scenario
 * as manifest.json hashes it}). The same resolved scenario under the same evsim version always gets
 * the same id, so a finished run is found again and skipped; any change (a parameter, a field of
 * the base file, the evsim version) gives a new id. Data files named by the scenario (the OSM
 * extract, tables) are not hashed into the id (as in manifest.json).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { canonicalJson, scenarioForHash, sha256Hex } from '../output/manifest.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';
import { cellText, expandSpec, type ExpandedRun, type Factor, type SweepSpec } from './spec.js';

export const SWEEP_SCHEMA_VERSION = 1;

export interface PlannedRun extends ExpandedRun {
  id: string;
}

export interface Plan {
  schemaVersion: number;
  kind: 'sweep-plan';
  evsim: string;
  /** absolute path of the base scenario (runs re-read it and check their id) */
  base: string;
  /** sha256 of the spec text (sweep.yaml) */
  specSha256: string;
  factors: Factor[];
  references: { factor: string; level: string }[];
  runs: PlannedRun[];
}

export function runId(sc: Scenario, evsimVersion: string, packageRoot: string): string {
  return sha256Hex(canonicalJson({ evsim: evsimVersion, scenario: scenarioForHash(sc, packageRoot) })).slice(0, 16);
}

/** A run's scenario from the base file and its overrides (validated like `--set`). */
export function resolveRun(base: string, run: Pick<ExpandedRun, 'overrides' | 'seed'>): Scenario {
  return loadScenario(base, { overrides: run.overrides, seed: run.seed });
}

function describeRun(r: ExpandedRun): string {
  const p = Object.entries(r.params).map(([k, v]) => `${k}=${cellText(v)}`);
  return [...p, `replication=${r.replication}`].join(', ');
}

/**
 * Expand and resolve every run; all problems (one line each, naming the spec, the run and the
 * field) are collected and thrown together before anything is written.
 */
export function planSweep(spec: SweepSpec, evsimVersion: string, packageRoot: string): { plan: Plan; scenarios: Scenario[] } {
  if (!existsSync(spec.baseFile)) throw new UserError([`${spec.file}: base: no such scenario file ${spec.baseFile}`]);
  const expanded = expandSpec(spec);
  const bad: string[] = [];
  const runs: PlannedRun[] = [];
  const scenarios: Scenario[] = [];
  const ids = new Map<string, number>();
  for (const r of expanded) {
    let sc: Scenario;
    try {
      sc = resolveRun(spec.baseFile, r);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      for (const l of e.lines) if (!bad.includes(`${spec.file}: run ${r.index} (${describeRun(r)}): ${l}`)) bad.push(`${spec.file}: run ${r.index} (${describeRun(r)}): ${l}`);
      if (bad.length > 20) break;
      continue;
    }
    if (sc.stacks.length !== 1) {
      bad.push(`${spec.file}: ledger: the base scenario runs ${sc.stacks.length} ledger stacks (${sc.stacks.map((s) => s.name).join(', ')}); a sweep run runs one: list the stacks to compare in the spec's ledger list, e.g. ledger: [none, central]`);
      break;
    }
    const id = runId(sc, evsimVersion, packageRoot);
    const dup = ids.get(id);
    if (dup !== undefined) {
      bad.push(`${spec.file}: run ${r.index} (${describeRun(r)}) resolves to the same scenario as run ${dup}; two runs would share one result (a varied field that has no effect, or repeated values)`);
      if (bad.length > 20) break;
      continue;
    }
    ids.set(id, r.index);
    runs.push({ ...r, id });
    scenarios.push(sc);
  }
  if (bad.length) throw new UserError(bad.slice(0, 20).concat(bad.length > 20 ? [`${spec.file}: ... and more problems`] : []));
  const plan: Plan = {
    schemaVersion: SWEEP_SCHEMA_VERSION,
    kind: 'sweep-plan',
    evsim: evsimVersion,
    base: resolve(spec.baseFile),
    specSha256: sha256Hex(spec.text),
    factors: spec.factors,
    references: spec.references,
    runs,
  };
  return { plan, scenarios };
}

/** What decides whether two plans are the same sweep: the runs (ids, parameters, seeds) and the statistics asked for. */
function planIdentity(p: Plan): string {
  return canonicalJson({ factors: p.factors, references: p.references, runs: p.runs.map((r) => [r.index, r.id, r.params, r.replication, r.seed]) });
}

function gitCommit(root: string): string | null {
  try {
    const r = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function readPlan(dir: string): Plan {
  const p = join(dir, 'plan.json');
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(p, 'utf8')) as Plan;
  } catch (e) {
    throw new UserError([`${dir}: not a sweep folder (cannot read plan.json: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  if (plan.kind !== 'sweep-plan' || plan.schemaVersion !== SWEEP_SCHEMA_VERSION) throw new UserError([`${p}: not a sweep plan of this evsim (kind ${JSON.stringify(plan.kind)}, schema ${plan.schemaVersion})`]);
  return plan;
}

export interface PrepareResult {
  /** the plan now in DIR */
  plan: Plan;
  /** a plan was there and is the same */
  resumed: boolean;
  /** ids of runs in DIR/runs/ that the (changed) plan no longer lists */
  orphans: string[];
}

/**
 * Create or reopen the sweep folder. A new or empty DIR gets sweep.yaml, manifest.json, plan.json
 * and runs/. A DIR holding a sweep with the same plan is resumed. A DIR holding a different plan is
 * refused (exit 2) unless allowChanged, in which case the new plan replaces the old (runs whose id
 * is unchanged are reused; the others stay in runs/ but are left out of the index). Anything else
 * in DIR (a non-empty folder without a sweep manifest) is refused.
 */
export function prepareSweepDir(dir: string, spec: SweepSpec, plan: Plan, root: string, opts: { allowChanged?: boolean } = {}): PrepareResult {
  const abs = resolve(dir);
  let resumed = false;
  let orphans: string[] = [];
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new UserError([`--out ${dir}: is a file, not a folder; name a new or empty folder`]);
    const entries = readdirSync(abs);
    if (entries.length > 0) {
      let kind: unknown;
      try {
        kind = JSON.parse(readFileSync(join(abs, 'manifest.json'), 'utf8')).kind;
      } catch {
        kind = undefined;
      }
      if (kind !== 'sweep') throw new UserError([`--out ${dir}: is not empty and holds no evsim sweep (no manifest.json of kind sweep); name a new or empty folder`]);
      const old = readPlan(abs);
      if (planIdentity(old) === planIdentity(plan)) resumed = true;
      else if (!opts.allowChanged) {
        const oldIds = new Set(old.runs.map((r) => r.id));
        const same = plan.runs.filter((r) => oldIds.has(r.id)).length;
        throw new UserError([
          `--out ${dir}: holds a sweep with another plan (${old.runs.length} runs there, ${plan.runs.length} now, ${same} in common); old and new results are not mixed silently: pass --allow-changed to replace the plan (finished runs with unchanged ids are kept), or use another --out`,
        ]);
      }
      if (!resumed) {
        const keep = new Set(plan.runs.map((r) => r.id));
        const runsDir = join(abs, 'runs');
        orphans = existsSync(runsDir) ? readdirSync(runsDir).filter((e) => /^[0-9a-f]{16}$/.test(e) && !keep.has(e)).sort() : [];
      }
    }
  } else {
    try {
      mkdirSync(abs, { recursive: false });
    } catch (e) {
      throw new UserError([`--out ${dir}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? String(e)}); its parent folder must exist`]);
    }
  }
  mkdirSync(join(abs, 'runs'), { recursive: true });
  if (!resumed) {
    writeAtomic(join(abs, 'sweep.yaml'), spec.text);
    writeAtomic(join(abs, 'plan.json'), JSON.stringify(plan, null, 1) + '\n');
    const manifest = {
      schemaVersion: SWEEP_SCHEMA_VERSION,
      kind: 'sweep',
      evsim: plan.evsim,
      git: gitCommit(root),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      spec: { file: 'sweep.yaml', sha256: plan.specSha256 },
      base: plan.base,
      runs: plan.runs.length,
    };
    writeAtomic(join(abs, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  // stale temporary files of writers that died
  for (const e of readdirSync(abs)) if (/\.tmp-\d+$/.test(e)) rmSync(join(abs, e), { force: true });
  return { plan, resumed, orphans };
}
