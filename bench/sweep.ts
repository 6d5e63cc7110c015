/**
 * Benchmarks of sweeps and the city cache (issue 9 §2, §7):
 *
 * - city cache: liechtenstein-10k built once (OSM parse, SCC, 63 station and 300 place trees),
 *   written to a cache file, then loaded (best and median of 5); target: load ≤ 0.3 s.
 * - sweep: N runs of the Monaco day on the none ledger (2 station-choice policies × N/20 maxWait
 *   values × 10 replications; --quick: 20 runs, 5 replications), timed three ways, each as a user
 *   runs it (processes of bin/evsim.js, wall clock around them):
 *     separate   N `evsim run` processes one after the other (no cache),
 *     jobs 1     `evsim sweep --jobs 1` (one worker, city cache in the sweep folder),
 *     jobs 2     `evsim sweep --jobs 2`.
 *   Parallel efficiency = T(jobs 1) / (2 × T(jobs 2)), and Σ(single-run wall times of the jobs-1
 *   sweep) / (2 × T(jobs 2)); cache speed-up = T(separate) / T(jobs 1) (same number of cores).
 *   Targets: efficiency ≥ 0.9; speed-up ≥ 3.
 *
 *   npm run build && node dist/bench/sweep.js [--quick] [--runs N] [--no-sweep] [--no-separate]
 *   (--no-separate: skip the N separate runs, so no cache speed-up; efficiency only)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCsvRows } from '../src/core/csv.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { readCity, writeCity } from '../src/simulation/cityCache.js';
import { buildCity } from '../src/simulation/world.js';
import { loadSweepSpec } from '../src/study/spec.js';
import { planSweep } from '../src/study/plan.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'evsim.js');
const VERSION = String(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
const now = () => performance.now() / 1000; // wall-clock ok: benchmark timing

export interface CityCacheBench {
  scenario: string;
  buildSeconds: number;
  fileMB: number;
  loadSecondsBest: number;
  loadSecondsMedian: number;
}

export async function benchCityCache(file = 'liechtenstein-10k.yaml'): Promise<CityCacheBench> {
  const sc = loadScenario(join(ROOT, 'scenarios', file), { overrides: ['ledger.stacks=[none]'] });
  const dir = mkdtempSync(join(os.tmpdir(), 'evsim-bench-cache-'));
  try {
    const t0 = now();
    const city = await buildCity(sc);
    const buildSeconds = now() - t0;
    const opts = { dir: join(dir, 'cache'), evsimVersion: VERSION };
    writeCity(sc, opts, city);
    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = now();
      const c = readCity(sc, opts);
      loads.push(now() - a);
      if (!c) throw new Error('bench: the cache files did not read back');
    }
    const bytes = readdirSync(opts.dir).reduce((a, f) => a + statSync(join(opts.dir, f)).size, 0);
    loads.sort((x, y) => x - y);
    return { scenario: file, buildSeconds, fileMB: bytes / 1e6, loadSecondsBest: loads[0]!, loadSecondsMedian: loads[2]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SweepBench {
  runs: number;
  replications: number;
  separateSeconds: number;
  jobs1Seconds: number;
  jobs2Seconds: number;
  sumRunWallSeconds: number;
  /** Σ run wall times inside the jobs-2 sweep (two runs at once on two cores) */
  sumRunWallJobs2Seconds: number;
  /** mean run wall time with two runs at once over that of one at a time */
  runSlowdownJobs2: number;
  efficiency: number;
  efficiencyVsRunSum: number;
  cacheSpeedup: number;
  cacheSpeedupJobs2: number;
}

function evsim(args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) throw new Error(`evsim ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

export function benchSweep(runs = 200, separate = true): SweepBench {
  const replications = runs >= 200 ? 10 : 5;
  const waits = runs / (2 * replications);
  if (!Number.isInteger(waits) || waits < 1) throw new Error(`bench: --runs must be a multiple of ${2 * replications}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'evsim-bench-sweep-'));
  try {
    const spec = join(dir, 'spec.yaml');
    const values = Array.from({ length: waits }, (_, i) => `${10 + 5 * i}m`);
    writeFileSync(spec, `base: ${join(ROOT, 'scenarios', 'monaco.yaml')}\nseed: 1\nreplications: ${replications}\npolicy: { stationChoice: [nearest, min-total-time] }\ngrid: { fleet.maxWait: [${values.join(', ')}] }\nledger: [none]\n`);
    const { plan } = planSweep(loadSweepSpec(spec), VERSION, ROOT);
    // N separate runs, exactly the sweep's scenarios
    let t = now();
    for (const r of separate ? plan.runs : []) {
      const out = join(dir, 'separate');
      evsim(['run', plan.base, '--quiet', '--out', out, '--seed', String(r.seed), ...r.overrides.flatMap((o) => ['--set', o])]);
    }
    const separateSeconds = separate ? now() - t : NaN;
    t = now();
    evsim(['sweep', spec, '--out', join(dir, 'j1'), '--jobs', '1', '--quiet']);
    const jobs1Seconds = now() - t;
    t = now();
    evsim(['sweep', spec, '--out', join(dir, 'j2'), '--jobs', '2', '--quiet']);
    const jobs2Seconds = now() - t;
    const runWalls = (d: string) => {
      const [head, ...rows] = parseCsvRows(readFileSync(join(dir, d, 'index.csv'), 'utf8'));
      const col = head!.indexOf('wall_s');
      return rows.reduce((a, r) => a + Number(r[col]), 0);
    };
    const sumRunWallSeconds = runWalls('j1');
    const sumRunWallJobs2Seconds = runWalls('j2');
    return {
      runs: plan.runs.length,
      replications,
      separateSeconds,
      jobs1Seconds,
      jobs2Seconds,
      sumRunWallSeconds,
      sumRunWallJobs2Seconds,
      runSlowdownJobs2: sumRunWallJobs2Seconds / sumRunWallSeconds,
      efficiency: jobs1Seconds / (2 * jobs2Seconds),
      efficiencyVsRunSum: sumRunWallSeconds / (2 * jobs2Seconds),
      cacheSpeedup: separateSeconds / jobs1Seconds,
      cacheSpeedupJobs2: separateSeconds / jobs2Seconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : quick ? 20 : 200;
  const c = await benchCityCache();
  console.log(`city cache, ${c.scenario}: build ${c.buildSeconds.toFixed(2)} s, file ${c.fileMB.toFixed(1)} MB, load best ${c.loadSecondsBest.toFixed(3)} s (median ${c.loadSecondsMedian.toFixed(3)} s); target <= 0.3 s`);
  if (!process.argv.includes('--no-sweep')) {
    const s = benchSweep(runs, !process.argv.includes('--no-separate'));
    console.log(JSON.stringify(s, null, 2));
  }
}
