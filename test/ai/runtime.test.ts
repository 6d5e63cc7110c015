import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileHandler, initTf, loadModel, modelSha256, runtimeInfo, tf, tfl } from '../../src/ai/runtime.js';

function build(seed: number): tfl.LayersModel {
  const m = tfl.sequential({ name: 'tiny' });
  m.add(tfl.layers.dense({ name: 'h', units: 8, inputShape: [3], activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }), biasInitializer: 'zeros' }));
  m.add(tfl.layers.dense({ name: 'out', units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'zeros' }));
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  return m;
}

async function train(seed: number, dir: string): Promise<string> {
  const m = build(seed);
  const xs = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [i / 64, (i % 7) / 7, ((i * 13) % 5) / 5]));
  const ys = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [Math.sin(i / 10)]));
  await m.fit(xs, ys, { epochs: 5, batchSize: 16, shuffle: false, verbose: 0 });
  await m.save(fileHandler(dir));
  xs.dispose();
  ys.dispose();
  return modelSha256(dir);
}

describe('TensorFlow.js runtime', () => {
  it('initialises the WebAssembly backend from the installed package, SIMD on', async () => {
    const info = await initTf('wasm');
    expect(info.backend).toBe('wasm');
    expect(info.simd).toBe(true);
    expect(info.tfjsVersion).toBe('4.22.0');
    expect(runtimeInfo()).toBe(info);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto falls back past the absent native backend and says why', async () => {
    const info = await initTf('auto');
    // tfjs-node is an optionalDependency that cannot install here; if it ever loads, it is used
    if (info.backend !== 'tensorflow') expect(['wasm', 'cpu']).toContain(info.backend);
  });

  it('saves and loads a model through the file handler; predictions are identical', async () => {
    await initTf('wasm');
    const dir = mkdtempSync(join(tmpdir(), 'evsim-model-'));
    await train(11, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe((3 * 8 + 8 + 8 + 1) * 4);
    const back = await loadModel(dir);
    const x = tf.tensor2d([[0.1, 0.2, 0.3], [0.9, 0.5, 0.1]]);
    const saved = await loadModel(dir);
    const a = await (back.predict(x) as tf.Tensor).data();
    const b = await (saved.predict(x) as tf.Tensor).data();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('seeded training is reproducible: same seed, same weights sha256; another seed differs', async () => {
    await initTf('wasm');
    const d1 = mkdtempSync(join(tmpdir(), 'evsim-model-'));
    const d2 = mkdtempSync(join(tmpdir(), 'evsim-model-'));
    const d3 = mkdtempSync(join(tmpdir(), 'evsim-model-'));
    const s1 = await train(5, d1);
    const s2 = await train(5, d2);
    const s3 = await train(6, d3);
    expect(s1).toMatch(/^[0-9a-f]{64}$/);
    expect(s2).toBe(s1);
    expect(s3).not.toBe(s1);
  });

  it('a missing model folder is a user error naming it', async () => {
    await initTf('wasm');
    await expect(loadModel('/nonexistent/model')).rejects.toThrow(/\/nonexistent\/model: cannot read the model/);
  });
});
