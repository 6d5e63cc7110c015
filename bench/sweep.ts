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
 *   With GNU time (/usr/bin/time) also the CPU seconds of each sweep (CLI and workers), the cores
 *   the one-worker sweep keeps busy, the two-worker sweep's use of the two cores, and the ceiling
 *   of the efficiency with that CPU time, T(jobs 1) / CPU(jobs 2).
 *   Targets: efficiency ≥ 0.9; speed-up ≥ 3.
 *
 * - machine capacity (benchMachineCapacity): what two processes at once get from the machine,
 *   on three small kernels, to read the efficiency against.
 *
 *   npm run build && node dist/bench/sweep.js [--quick] [--runs N] [--no-sweep] [--no-separate]
 *   (--no-separate: skip the N separate runs, so no cache speed-up; efficiency only)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * What two processes at once get from this machine, measured on three small JavaScript kernels:
 *   chain   a dependent integer multiply-add chain (latency-bound: one result per few cycles),
 *   stream  repeated passes over a 512 KiB Float64Array (throughput-bound; fits a 1 MiB L2),
 *   alloc   short-lived objects (the young-generation allocate-and-collect cycle of a simulation).
 * Each kernel runs in one process alone, then in two processes started together; capacity =
 * T(alone) / mean T(two at once): 1.0 when the two vCPUs are independent cores, about 0.5 when
 * they are two hardware threads of one core or time-share one (so two processes get one
 * process's throughput). A sweep of throughput-bound runs cannot reach a parallel efficiency above
 * the stream/alloc capacity, whatever the sweep does; the chain kernel shows the cores themselves
 * are there.
 */
export interface MachineCapacity {
  /** per kernel: seconds alone, seconds with two at once (mean of the two), capacity */
  kernels: { name: string; aloneSeconds: number; twoSeconds: number; capacity: number }[];
}

const KERNELS: Record<string, string> = {
  chain: 'let x = 0; for (let i = 0; i < 3e8; i++) x = (x * 1103515245 + 12345) | 0; r = x;',
  stream: 'const a = new Float64Array(1 << 16); let s = 0; for (let k = 0; k < 6000; k++) for (let i = 0; i < a.length; i++) { a[i] = a[i] * 0.5 + i; s += a[i]; } r = s;',
  alloc: 'let arr = []; for (let k = 0; k < 6e6; k++) { arr.push({ a: k, b: [k] }); if (arr.length > 1e5) arr = []; } r = arr.length;',
};

function timeKernels(name: string, copies: number): Promise<number[]> {
  // inside a function, so the loop variables are locals (a script's top-level ones are slow globals)
  const code = `(() => { let r; const t0 = performance.now(); ${KERNELS[name]} process.stdout.write(String((performance.now() - t0) / 1000) + ' ' + String(r).length); })();`;
  return Promise.all(
    Array.from({ length: copies }, () =>
      new Promise<number>((res, rej) => {
        const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d) => (out += String(d)));
        c.on('exit', (code) => (code === 0 ? res(Number(out.split(' ')[0])) : rej(new Error(`bench: kernel ${name} exited ${code}`))));
      }),
    ),
  );
}

export async function benchMachineCapacity(): Promise<MachineCapacity> {
  const kernels: MachineCapacity['kernels'] = [];
  for (const name of Object.keys(KERNELS)) {
    // best of 3 for each, alone and two at once
    let alone = Infinity;
    let two = Infinity;
    for (let rep = 0; rep < 3; rep++) {
      alone = Math.min(alone, (await timeKernels(name, 1))[0]!);
      const t = await timeKernels(name, 2);
      two = Math.min(two, (t[0]! + t[1]!) / 2);
    }
    kernels.push({ name, aloneSeconds: alone, twoSeconds: two, capacity: alone / two });
  }
  return { kernels };
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
  /** CPU seconds (user + system, the CLI and its workers; GNU time; null without it) */
  cpuSecondsJobs1: number | null;
  cpuSecondsJobs2: number | null;
  /** cores kept busy by the one-worker sweep: CPU / wall (above 1: V8's GC and JIT threads and
   * the parent use the second core) */
  coresBusyJobs1: number | null;
  /** share of the two cores the two-worker sweep kept busy: CPU / (2 × wall) */
  utilisationJobs2: number | null;
  /** the efficiency T(jobs 1) / (2 T(jobs 2)) the two-worker sweep would reach with both cores
   * busy all the time and its CPU time unchanged: T(jobs 1) / CPU(jobs 2) */
  efficiencyCeiling: number | null;
}

const GNU_TIME = '/usr/bin/time';

/** Run the CLI; returns the CPU seconds (user + system) of it and its worker processes when GNU
 * time is installed (it reports the children's rusage), else null. */
function evsim(args: string[]): number | null {
  const timed = existsSync(GNU_TIME);
  const cmd = timed ? GNU_TIME : process.execPath;
  const argv = timed ? ['-f', 'EVSIM-CPU %U %S', process.execPath, BIN, ...args] : [BIN, ...args];
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) throw new Error(`evsim ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const m = /EVSIM-CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return m ? Number(m[1]) + Number(m[2]) : null;
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
    const cpu1 = evsim(['sweep', spec, '--out', join(dir, 'j1'), '--jobs', '1', '--quiet']);
    const jobs1Seconds = now() - t;
    t = now();
    const cpu2 = evsim(['sweep', spec, '--out', join(dir, 'j2'), '--jobs', '2', '--quiet']);
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
      cpuSecondsJobs1: cpu1,
      cpuSecondsJobs2: cpu2,
      coresBusyJobs1: cpu1 === null ? null : cpu1 / jobs1Seconds,
      utilisationJobs2: cpu2 === null ? null : cpu2 / (2 * jobs2Seconds),
      efficiencyCeiling: cpu2 === null ? null : jobs1Seconds / cpu2,
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
  const m = await benchMachineCapacity();
  console.log(`machine, two processes at once: ${m.kernels.map((k) => `${k.name} ${k.capacity.toFixed(2)} (${k.aloneSeconds.toFixed(2)} s alone, ${k.twoSeconds.toFixed(2)} s two at once)`).join('; ')}`);
  if (!process.argv.includes('--no-sweep')) {
    const s = benchSweep(runs, !process.argv.includes('--no-separate'));
    console.log(JSON.stringify(s, null, 2));
  }
}
