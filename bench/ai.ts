/**
 * Inference cost of the learned policies (the target: at most 25 µs per decision,
 * amortised over the batches a simulation makes), on the backend `initTf('auto')` picks:
 * - station choice, synthetic batches: the shipped model scoring the K = 10 candidates of n
 *   deciding EVs in one forward pass (batch built with the testing view, so the features are the
 *   simulation's); best of 5 repetitions of 200 calls (50 for n = 256);
 * - station choice, amortised in a simulated day (the figure the target is about): one day of
 *   each `dayScenarios` entry (seed 1, learned policy) with the policy's `decideBatch` timed
 *   (feature tensor, forward pass, readback, scoring; the batch's features are built by the
 *   simulation before), summed over the day's batches and divided by its decisions, with the
 *   distribution of batch sizes the simulation produced. The model warms up when it loads
 *   (LearnedChoice.warmUp; that time is reported apart, as loadMs), so the day's calls are not
 *   the process's first.
 * - station choice, one EV per batch (nearly every batch of a simulation, see docs/ai.md, Inference cost):
 *   p10 / median / p90 of 20,000 single timed calls; on a shared machine the p10 is the closest
 *   to the undisturbed cost.
 * - allocation: the shipped model weighting n plugged sessions in one predict call.
 * Run directly after `npm run build`:
 *   node dist/bench/ai.js [--quick]     (--quick: Monaco day only, not grid-100k)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { N_ALLOCATION_FEATURES } from '../src/ai/allocationFeatures.js';
import { loadChoicePolicy } from '../src/ai/choiceModel.js';
import { initTf, loadModel, tf } from '../src/ai/runtime.js';
import type { ChoiceBatch } from '../src/charging/choice.js';
import { choiceBatchFrom } from '../src/charging/testing.js';
import { runEpisode } from '../src/simulation/episodes.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

function best(reps: number, calls: number, f: () => void): number {
  let b = Infinity;
  for (let c = 0; c < calls; c++) f(); // warm-up, untimed
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) f();
    b = Math.min(b, (performance.now() - t0) / calls);
  }
  return b; // ms per call
}

export interface ChoiceDayBench {
  scenario: string;
  batches: number;
  decisions: number;
  /** batch size → number of batches, ascending size */
  batchSizes: [number, number][];
  /** share of decisions taken in batches of one EV */
  singleShare: number;
  msDecideTotal: number;
  /** the amortised figure: decideBatch wall time over the day / decisions */
  usPerDecision: number;
  /** the same in process CPU time (less disturbed by other processes on a shared machine) */
  cpuUsPerDecision: number;
  /** loading the model folder, its warm-up passes included (LearnedChoice.warmUp), ms */
  loadMs: number;
}

export interface AiBench {
  backend: string;
  choice: { decisions: number; msPerCall: number; usPerDecision: number }[];
  /** one EV per batch (the simulation's usual case): quantiles of 20,000 single timed calls, µs;
   * p10 approximates the undisturbed cost on a shared machine */
  choiceSingle: { p10: number; p50: number; p90: number };
  choiceDays: ChoiceDayBench[];
  allocation: { sessions: number; msPerCall: number; usPerSession: number }[];
}

const MODEL = join(ROOT, 'models', 'station-choice-monaco');

/** One simulated day with the learned policy, its decideBatch timed per batch. */
async function choiceDay(scenario: string): Promise<ChoiceDayBench> {
  const l0 = performance.now(); // wall-clock ok (benchmark)
  const policy = await loadChoicePolicy(MODEL);
  const loadMs = performance.now() - l0; // wall-clock ok (benchmark)
  const sizes = new Map<number, number>();
  let ms = 0;
  let cpuUs = 0;
  const inner = policy.decideBatch.bind(policy);
  policy.decideBatch = (b: ChoiceBatch, out: Int32Array) => {
    sizes.set(b.n, (sizes.get(b.n) ?? 0) + 1);
    const c0 = process.cpuUsage();
    const t0 = performance.now(); // wall-clock ok (benchmark)
    inner(b, out);
    ms += performance.now() - t0; // wall-clock ok (benchmark)
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
  };
  await runEpisode(join(ROOT, 'scenarios', scenario), 1, [], policy);
  const batchSizes = [...sizes.entries()].sort((a, b) => a[0] - b[0]);
  const decisions = batchSizes.reduce((a, [n, c]) => a + n * c, 0);
  return {
    scenario,
    batches: batchSizes.reduce((a, [, c]) => a + c, 0),
    decisions,
    batchSizes,
    singleShare: decisions ? (sizes.get(1) ?? 0) / decisions : 0,
    msDecideTotal: ms,
    usPerDecision: decisions ? (ms * 1000) / decisions : 0,
    cpuUsPerDecision: decisions ? cpuUs / decisions : 0,
    loadMs,
  };
}

export async function benchAi(opts: { dayScenarios?: string[] } = {}): Promise<AiBench> {
  const info = await initTf('auto');
  const choice = await loadChoicePolicy(MODEL, info);
  const K = 10;
  const stations = Array.from({ length: K }, (_, s) => ({ chargerKW: [50, 50], queue: s % 3, plugged: 2 }));
  const out: AiBench = { backend: info.backend, choice: [], choiceSingle: { p10: 0, p50: 0, p90: 0 }, choiceDays: [], allocation: [] };
  for (const n of [1, 2, 16, 256]) {
    const evs = Array.from({ length: n }, (_, i) => ({ soc: 0.2 + (i % 5) * 0.05, travelTimeS: stations.map((_, s) => 120 + 60 * s + (i % 7) * 10) }));
    const { batch } = choiceBatchFrom({ K, stations, evs }, choice.features);
    const picks = new Int32Array(n);
    const ms = best(5, n >= 256 ? 50 : 200, () => choice.decideBatch(batch, picks));
    out.choice.push({ decisions: n, msPerCall: ms, usPerDecision: (ms * 1000) / n });
  }
  {
    const { batch } = choiceBatchFrom({ K, stations, evs: [{ soc: 0.3, travelTimeS: stations.map((_, s) => 120 + 60 * s) }] }, choice.features);
    const picks = new Int32Array(1);
    for (let i = 0; i < 2000; i++) choice.decideBatch(batch, picks);
    const ts = new Float64Array(20000);
    for (let i = 0; i < ts.length; i++) {
      const t0 = performance.now(); // wall-clock ok (benchmark)
      choice.decideBatch(batch, picks);
      ts[i] = (performance.now() - t0) * 1000; // wall-clock ok (benchmark)
    }
    ts.sort();
    const q = (f: number) => ts[Math.floor(f * ts.length)]!;
    out.choiceSingle = { p10: q(0.1), p50: q(0.5), p90: q(0.9) };
  }
  for (const s of opts.dayScenarios ?? ['monaco.yaml', 'grid-100k.yaml']) out.choiceDays.push(await choiceDay(s));
  const model = await loadModel(join(ROOT, 'models', 'allocation-caltech'));
  for (const n of [1, 16, 54]) {
    const x = new Float32Array(n * N_ALLOCATION_FEATURES).map((_, i) => ((i * 7919) % 101) / 101);
    const ms = best(5, 50, () => {
      const t = tf.tensor2d(x, [n, N_ALLOCATION_FEATURES]);
      const y = model.predict(t) as tf.Tensor;
      y.dataSync();
      t.dispose();
      y.dispose();
    });
    out.allocation.push({ sessions: n, msPerCall: ms, usPerSession: (ms * 1000) / n });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(await benchAi(quick ? { dayScenarios: ['monaco.yaml'] } : {}), null, 1));
}
