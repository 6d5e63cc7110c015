/**
 * The DC hub's learned allocation: the JavaScript forward pass equals TF.js predict on the same
 * model (float32 rounding), the TF.js model round-trips the MLP, and the shipped model loads and
 * is recognised by its metadata.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubModelOf, hubModelProblem, initParams, isHubModel, mlpFromParams, mlpOfModel, MlpRunner } from '../../src/ai/allocationHub.js';
import { N_HUB_FEATURES } from '../../src/ai/allocationFeatures.js';
import { initTf, loadModel, tf } from '../../src/ai/runtime.js';
import { ROOT } from '../helpers.js';

describe('hub allocation model', () => {
  it('the JavaScript forward pass matches TF.js predict', async () => {
    await initTf('cpu');
    const sizes = [N_HUB_FEATURES, 8, 1];
    const mlp = mlpFromParams(sizes, initParams(sizes, 9).map((x, i) => x + (i % 5) * 0.01));
    const model = hubModelOf(mlp);
    const n = 64;
    const x = Float32Array.from({ length: n * N_HUB_FEATURES }, (_, i) => ((i * 7919) % 101) / 50 - 0.5);
    const y = (model.predict(tf.tensor2d(x, [n, N_HUB_FEATURES])) as tf.Tensor).dataSync();
    const back = mlpOfModel(model);
    const run = new MlpRunner(back);
    for (let r = 0; r < n; r++) expect(run.run(x, r * N_HUB_FEATURES)).toBeCloseTo(y[r]!, 5);
    expect(back.sizes).toEqual(sizes);
    expect(isHubModel(model)).toBe(true);
    expect(hubModelProblem(model)).toBeNull();
  });

  it('the shipped model is a hub model', async () => {
    await initTf('cpu');
    const m = await loadModel(join(ROOT, 'models', 'allocation-dc-hub'));
    expect(isHubModel(m)).toBe(true);
    expect(hubModelProblem(m)).toBeNull();
    expect(mlpOfModel(m).sizes).toEqual([N_HUB_FEATURES, 8, 1]);
  });
});
