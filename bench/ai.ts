/**
 * Inference cost of the learned policies (the target: at most 25 µs per decision,
 * amortised over the batches a simulation makes), on the backend `initTf('auto')` picks:
 * - station choice: the shipped model scoring the K = 10 candidates of n deciding EVs in one
 *   predict call (batch built with the testing view, so the features are the simulation's);
 * - allocation: the shipped model weighting n plugged sessions in one predict call.
 * Best of 5 repetitions of 50 calls each, per batch size. Run directly after `npm run build`:
 *   node dist/bench/ai.js
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { N_ALLOCATION_FEATURES } from '../src/ai/allocationFeatures.js';
import { loadChoicePolicy } from '../src/ai/choiceModel.js';
import { initTf, loadModel, tf } from '../src/ai/runtime.js';
import { choiceBatchFrom } from '../src/charging/testing.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

function best(reps: number, calls: number, f: () => void): number {
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) f();
    b = Math.min(b, (performance.now() - t0) / calls);
  }
  return b; // ms per call
}

export interface AiBench {
  backend: string;
  choice: { decisions: number; msPerCall: number; usPerDecision: number }[];
  allocation: { sessions: number; msPerCall: number; usPerSession: number }[];
}

export async function benchAi(): Promise<AiBench> {
  const info = await initTf('auto');
  const choice = await loadChoicePolicy(join(ROOT, 'models', 'station-choice-monaco'), info);
  const K = 10;
  const stations = Array.from({ length: K }, (_, s) => ({ chargerKW: [50, 50], queue: s % 3, plugged: 2 }));
  const out: AiBench = { backend: info.backend, choice: [], allocation: [] };
  for (const n of [1, 16, 256]) {
    const evs = Array.from({ length: n }, (_, i) => ({ soc: 0.2 + (i % 5) * 0.05, travelTimeS: stations.map((_, s) => 120 + 60 * s + (i % 7) * 10) }));
    const { batch } = choiceBatchFrom({ K, stations, evs }, choice.features);
    const picks = new Int32Array(n);
    const ms = best(5, 50, () => choice.decideBatch(batch, picks));
    out.choice.push({ decisions: n, msPerCall: ms, usPerDecision: (ms * 1000) / n });
  }
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
  console.log(JSON.stringify(await benchAi(), null, 1));
}
