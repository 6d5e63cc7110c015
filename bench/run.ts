/**
 * `npm run bench`: kernel throughput, routing micro-benchmarks, and wall time / peak memory of the
 * shipped city scenarios (each run in its own process through the CLI, exactly as a user runs it),
 * plus a fleet-size sweep on the synthetic grid to show that cost grows no worse than linearly.
 *
 *   npm run bench                 everything (about 2 minutes on the reference machine)
 *   npm run bench -- --quick      kernel, routing and monaco only
 *
 * Figures go to stdout as a Markdown table and to results/bench/bench.json. Targets from the
 * issue are checked and reported (PASS/FAIL); the exit code is 1 if a target is missed, so CI can
 * gate on it. Benchmarks measure wall time — they are never unit tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchKernel } from './kernel.js';
import { benchRouting } from './routing.js';
import { benchCentral } from './ledger-central.js';
import { benchPowBlocks } from './ledger-pow.js';
import { benchQbft } from './ledger-qbft.js';
import { benchLightning } from './ledger-lightning.js';
import { benchTangle } from './ledger-tangle.js';
import { benchAi } from './ai.js';
import { benchHubInference, benchLearnedCity } from './learned.js';
import { benchCityCache, benchMachineCapacity, benchSweep } from './sweep.js';
import { benchMobileScenario, benchPaths, benchSpv } from './mobile.js';
import { benchRoaming } from './roaming.js';
import { benchTariff, type TariffBench } from './tariff.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'evsim.js');

interface ScenarioRun {
  scenario: string;
  overrides: string[];
  wallSeconds: number;
  runSeconds: number;
  citySeconds: number;
  peakRssMB: number;
  events: number;
  sessions: number;
}

function runScenario(file: string, overrides: string[] = []): ScenarioRun {
  const out = mkdtempSync(join(os.tmpdir(), 'evsim-bench-'));
  const args = [BIN, 'run', join(ROOT, 'scenarios', file), '--quiet', '--out', out, ...overrides.flatMap((o) => ['--set', o])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`evsim run ${file} failed: ${r.stderr}`);
  const timing = JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  return {
    scenario: file,
    overrides,
    wallSeconds: timing.wallSeconds.total,
    runSeconds: timing.wallSeconds.run,
    citySeconds: timing.wallSeconds.city,
    peakRssMB: timing.peakRssMB,
    events: summary.events,
    sessions: summary.sessions.count,
  };
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const checks: { what: string; value: string; target: string; pass: boolean }[] = [];
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`# evsim benchmarks\n\nmachine: ${machine}\n`);

  const runs: ScenarioRun[] = [];
  let learnedCity: ReturnType<typeof benchLearnedCity> | null = null;
  const show = (r: ScenarioRun) =>
    console.log(`${r.scenario} ${r.overrides.join(' ')}: ${r.wallSeconds.toFixed(2)} s wall (city ${r.citySeconds.toFixed(2)} s, run ${r.runSeconds.toFixed(2)} s), ${r.peakRssMB.toFixed(0)} MB peak, ${r.events} events`);
  runs.push(runScenario('monaco.yaml', ['ledger.stacks=[none]']));
  show(runs.at(-1)!);
  if (!quick) {
    const li = runScenario('liechtenstein-10k.yaml');
    runs.push(li);
    show(li);
    // every ledger stack on the same 10k city day, against the none ledger (target: at most 2x)
    for (const stack of ['central', 'pow', 'nakamoto', 'qbft', 'qbft-lightning', 'tangle-flash']) {
      const r = runScenario('liechtenstein-10k.yaml', [`ledger.stacks=[${stack}]`]);
      runs.push(r);
      show(r);
      checks.push({ what: `liechtenstein-10k ${stack} / none wall time`, value: (r.wallSeconds / li.wallSeconds).toFixed(2), target: '<= 2', pass: r.wallSeconds <= 2 * li.wallSeconds });
    }
    checks.push({ what: 'liechtenstein-10k wall time', value: `${li.wallSeconds.toFixed(1)} s`, target: '<= 15 s', pass: li.wallSeconds <= 15 });
    checks.push({ what: 'liechtenstein-10k peak memory', value: `${li.peakRssMB.toFixed(0)} MB`, target: '<= 1536 MB', pass: li.peakRssMB <= 1536 });
    const sweep: ScenarioRun[] = [];
    // the sweep keeps the load per station constant (stations scale with the fleet), so that it
    // measures the simulator's cost, not a city that tips into saturation at larger fleets
    for (const n of [25_000, 50_000, 100_000]) {
      const r = runScenario('grid-100k.yaml', n === 100_000 ? [] : [`fleet.size=${n}`, `stations.generate.count=${(400 * n) / 100_000}`]);
      sweep.push(r);
      runs.push(r);
      show(r);
    }
    const g = sweep.at(-1)!;
    checks.push({ what: 'grid-100k wall time', value: `${g.wallSeconds.toFixed(1)} s`, target: '<= 150 s', pass: g.wallSeconds <= 150 });
    // linear scaling: the whole run (city build included) for 4x the fleet may cost at most 4x
    // (+10 % for noise); the simulation phase alone is reported too: its cost per event grows
    // slowly with the number of pending events (heap depth, caches, young-generation GC)
    const ratio = g.wallSeconds / sweep[0]!.wallSeconds;
    checks.push({ what: 'grid wall time 100k / 25k EVs', value: ratio.toFixed(2), target: '<= 4.4 (linear: 4)', pass: ratio <= 4.4 });
    // both learned policies on the same city day (bench/learned.ts), heuristic and learned runs
    // alternating; the heuristic run of the sweep above is not reused (it ran earlier, under
    // possibly different load)
    const lc = benchLearnedCity(runScenario, 1);
    for (const r of lc.learned) console.log(`grid-100k.yaml with both learned policies: ${r.wallSeconds.toFixed(2)} s wall (city ${r.citySeconds.toFixed(2)} s, run ${r.runSeconds.toFixed(2)} s)`);
    console.log(`grid-100k learned / heuristic: ${lc.ratio.toFixed(2)} (simulation phase ${lc.runRatio.toFixed(2)})`);
    checks.push({ what: 'grid-100k both learned policies / heuristics wall time', value: lc.ratio.toFixed(2), target: '<= 1.5', pass: lc.ratio <= 1.5 });
    learnedCity = lc;
    const perEvent = (r: ScenarioRun) => (r.runSeconds / r.events) * 1e6;
    console.log(
      `simulation phase, microseconds per event: ${sweep.map((r) => perEvent(r).toFixed(2)).join(' / ')} (25k / 50k / 100k EVs); run-phase ratio 100k/25k = ${(g.runSeconds / sweep[0]!.runSeconds).toFixed(2)}`,
    );
  }

  // mobile chargers (bench/mobile.ts): the month-long scenario against vans and fleet
  const mobileRuns = benchMobileScenario(runScenario, quick ? [{ vans: 12, fleet: 2000 }] : undefined);
  for (const r of mobileRuns) console.log(`mobile-chargers.yaml, ${r.vans} vans, ${r.fleet} EVs, 30 days: ${r.wallSeconds.toFixed(2)} s wall (run ${r.runSeconds.toFixed(2)} s), ${r.events} events`);

  // sweeps (child processes) and the city cache (liechtenstein-10k built in this process, so after
  // every scenario run whose peak memory is reported)
  const sweep = benchSweep(quick ? 20 : 200);
  console.log(`sweep of ${sweep.runs} Monaco runs (none ledger): ${JSON.stringify(sweep)}`);
  // what two processes at once get from this machine: the ceiling of any sweep's efficiency here
  const capacity = await benchMachineCapacity();
  console.log(`machine, two processes at once (capacity 1 = two independent cores): ${capacity.kernels.map((c) => `${c.name} ${c.capacity.toFixed(2)}`).join(', ')}`);
  const ceiling = Math.min(...capacity.kernels.filter((c) => c.name !== 'chain').map((c) => c.capacity));
  checks.push({ what: `sweep of ${sweep.runs} Monaco runs: parallel efficiency, jobs 2 (this machine's two-process capacity on throughput-bound kernels: ${ceiling.toFixed(2)})`, value: sweep.efficiency.toFixed(2), target: '>= 0.9', pass: sweep.efficiency >= 0.9 });
  checks.push({ what: `sweep of ${sweep.runs} Monaco runs with the city cache vs separate runs`, value: `${sweep.cacheSpeedup.toFixed(2)} x`, target: '>= 3 x', pass: sweep.cacheSpeedup >= 3 });
  const cache = await benchCityCache();
  console.log(`city cache, ${cache.scenario}: ${JSON.stringify(cache)}`);
  checks.push({ what: 'liechtenstein-10k cached city load (best of 5)', value: `${cache.loadSecondsBest.toFixed(3)} s`, target: '<= 0.3 s', pass: cache.loadSecondsBest <= 0.3 });

  // micro-benchmarks last: they grow this process, and Linux carries a parent's peak RSS over
  // into children it spawns (ru_maxrss survives fork and exec), which would inflate the
  // scenarios' peak-memory figures
  // best of five 5M-event runs: throughput benchmarks on a shared machine are disturbed by other
  // processes only downwards, so the best run is the least disturbed; the median is reported too
  const kr = Array.from({ length: 5 }, () => benchKernel(100_000, 5_000_000)).sort((a, b) => b.eventsPerSecond - a.eventsPerSecond);
  const k = { best: kr[0]!, median: kr[2]!, runs: kr.map((r) => r.eventsPerSecond) };
  console.log(`kernel (hold model, 100,000 pending): best ${(k.best.eventsPerSecond / 1e6).toFixed(2)} M events/s, median ${(k.median.eventsPerSecond / 1e6).toFixed(2)} M`);
  checks.push({ what: 'kernel events/s, 100k pending (best of 5)', value: `${(k.best.eventsPerSecond / 1e6).toFixed(2)} M`, target: '>= 3 M', pass: k.best.eventsPerSecond >= 3e6 });

  const routing = await benchRouting({ side: 150, roots: 600 });
  console.log(`routing: ${JSON.stringify(routing)}`);

  // ledger micro-benchmarks: simulated work per wall second
  const central = await benchCentral(1_000_000);
  console.log(`central, 1,000,000 transactions: ${JSON.stringify(central)}`);
  const pow = benchPowBlocks(100_000, 100);
  console.log(`pow, 100,000 blocks with 100 miners: ${JSON.stringify(pow)}`);
  const qbft = await benchQbft({ days: 1, validators: 7 });
  console.log(`qbft, one day at a 1 s block period with 7 validators: ${JSON.stringify(qbft)}`);
  const lightning = await benchLightning();
  console.log(`lightning, 1,000,000 hub payments: ${JSON.stringify(lightning)}`);
  const tangle = await benchTangle();
  console.log(`tangle, 1,000,000 transactions with MCMC tip selection: ${JSON.stringify(tangle)}`);
  checks.push({ what: 'tangle 1,000,000 txs (MCMC) wall time', value: `${Number(tangle.wallSeconds).toFixed(1)} s`, target: '< 60 s', pass: Number(tangle.wallSeconds) < 60 });
  const ai = await benchAi(quick ? { dayScenarios: ['monaco.yaml'] } : {});
  console.log(`learned policies, inference per batch (${ai.backend}): ${JSON.stringify(ai)}`);
  const a54 = ai.allocation.at(-1)!;
  console.log(`learned station choice, one EV per batch, µs per call: p10 ${ai.choiceSingle.p10.toFixed(1)}, median ${ai.choiceSingle.p50.toFixed(1)}, p90 ${ai.choiceSingle.p90.toFixed(1)}`);
  for (const d of ai.choiceDays) {
    checks.push({ what: `learned station choice, µs per decision amortised over a ${d.scenario} day (${d.decisions} decisions in ${d.batches} batches, K = 10; CPU time ${d.cpuUsPerDecision.toFixed(1)} µs)`, value: d.usPerDecision.toFixed(1), target: '<= 25', pass: d.usPerDecision <= 25 });
  }
  checks.push({ what: `learned allocation, µs per session (${a54.sessions} per batch)`, value: a54.usPerSession.toFixed(1), target: '<= 25', pass: a54.usPerSession <= 25 });
  // roaming between utilities (bench/roaming.ts): cost against the same runs without roaming
  const roaming = await benchRoaming(quick ? [2000] : [2000, 5000, 10000]);
  for (const r of roaming) console.log(`roaming-liechtenstein ${r.fleet} EVs, ${r.mode}: ${r.wallSeconds.toFixed(2)} s (${r.overhead.toFixed(2)} x no roaming), ${r.roamingSessions} roaming sessions`);
  const rc = roaming.filter((r) => r.fleet === roaming.at(-1)!.fleet && r.mode === 'clearing-house')[0]!;
  checks.push({ what: `roaming-liechtenstein ${rc.fleet} EVs, clearing-house / no roaming wall time`, value: rc.overhead.toFixed(2), target: '<= 1.5', pass: rc.overhead <= 1.5 });
  const hub = await benchHubInference();
  console.log(`DC hub learned allocation over a simulated day: ${JSON.stringify(hub)}`);
  checks.push({ what: `DC hub learned allocation, µs per decision (amortised over a day, ${hub.decisions} decisions)`, value: hub.usPerDecision.toFixed(2), target: '<= 25', pass: hub.usPerDecision <= 25 });

  const spv = benchSpv();
  console.log(`mobile chargers, SPV verification µs: ${JSON.stringify(spv)}`);
  const paths = await benchPaths();
  console.log(`mobile chargers, paths.ts point-to-point on Monaco: ${JSON.stringify(paths)}`);
  const mobile = { spv, paths, runs: mobileRuns };

  // the tariff part (bench/tariff.ts): forecaster inference per day, price response on 10,000 EVs
  let tariff: TariffBench | null = null;
  if (!quick) {
    tariff = await benchTariff(3);
    console.log(`tariff: ${JSON.stringify(tariff)}`);
    checks.push({ what: 'load forecaster inference per simulated day', value: `${tariff.forecastMsPerDay.toFixed(2)} ms`, target: '<= 10 ms', pass: tariff.forecastMsPerDay <= 10 });
    checks.push({ what: 'liechtenstein-10k price-response decisions (none deferring) vs off, simulation phase', value: `${tariff.decideOverheadPct.toFixed(1)} %`, target: '<= 25 %', pass: tariff.decideOverheadPct <= 25 });
  }
  console.log('\n| check | measured | target | |\n|---|---|---|---|');
  for (const c of checks) console.log(`| ${c.what} | ${c.value} | ${c.target} | ${c.pass ? 'PASS' : 'FAIL'} |`);
  const dir = join(ROOT, 'results', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bench.json'), JSON.stringify({ machine, kernel: k, sweep, machineCapacity: capacity, cityCache: cache, routing, ledger: { central, pow, qbft, lightning, tangle }, ai, hub, roaming, learnedCity, mobile, tariff, runs, checks }, null, 2) + '\n');
  console.log(`\nwritten: results/bench/bench.json`);
  return checks.every((c) => c.pass) ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
});
