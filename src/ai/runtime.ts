/**
 * The TensorFlow.js runtime of evsim's learned policies.
 *
 * Backend choice (`initTf`), in this order unless one is asked for:
 *   1. `tensorflow` — `@tensorflow/tfjs-node` (native libtensorflow), an optionalDependency used
 *      only when it loads (its install script downloads libtensorflow, which fails where only the
 *      npm registry is reachable, so it is usually absent);
 *   2. `wasm` — `@tensorflow/tfjs-backend-wasm`, SIMD on, single thread, its .wasm files loaded
 *      from the installed package's dist/ folder (never a URL);
 *   3. `cpu` — `@tensorflow/tfjs-backend-cpu`, plain JavaScript.
 * Versions are pinned exactly in package.json; `runtimeInfo()` reports the backend, the TF.js
 * version and whether SIMD is on, for summary.json and model cards.
 *
 * Models are stored as `model.json` (topology + weights manifest) and `weights.bin` (float32,
 * little-endian) by a small file IOHandler (`tf.loadLayersModel('file://…')` exists only in
 * tfjs-node). A model's identity is `modelSha256`: sha256 of model.json's bytes, a newline, and
 * weights.bin's bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../core/errors.js';

export { tf, tfl };

export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';
export const TF_BACKENDS: readonly TfBackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface RuntimeInfo {
  backend: TfBackendName;
  tfjsVersion: string;
  simd: boolean;
  /** why a preferred backend was not used (empty when the first choice loaded) */
  fallbacks: string[];
}

let current: RuntimeInfo | null = null;

function wasmDist(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/**
 * Initialise TF.js once per process. `prefer`: 'auto' (tensorflow → wasm → cpu) or one backend
 * (falls back down the same list if it cannot load, noting why in `fallbacks`).
 */
export async function initTf(prefer: 'auto' | TfBackendName = 'auto'): Promise<RuntimeInfo> {
  if (current && (prefer === 'auto' || current.backend === prefer)) return current;
  tf.enableProdMode();
  const order: TfBackendName[] = prefer === 'auto' ? [...TF_BACKENDS] : [prefer, ...TF_BACKENDS.filter((b) => b !== prefer)];
  const fallbacks: string[] = [];
  for (const b of order) {
    try {
      if (b === 'tensorflow') {
        // optional native backend: registers itself as 'tensorflow' when it loads
        await import('@tensorflow/tfjs-node' as string);
      } else if (b === 'wasm') {
        const d = wasmDist();
        setWasmPaths({
          'tfjs-backend-wasm.wasm': join(d, 'tfjs-backend-wasm.wasm'),
          'tfjs-backend-wasm-simd.wasm': join(d, 'tfjs-backend-wasm-simd.wasm'),
          'tfjs-backend-wasm-threaded-simd.wasm': join(d, 'tfjs-backend-wasm-threaded-simd.wasm'),
        });
        setThreadsCount(1);
      }
      if (!(await tf.setBackend(b))) throw new Error(`backend ${b} did not initialise`);
      await tf.ready();
      const simd = b === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : false;
      current = { backend: b, tfjsVersion: tf.version_core, simd, fallbacks };
      return current;
    } catch (e) {
      fallbacks.push(`${b}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${fallbacks.join('; ')})`);
}

export function runtimeInfo(): RuntimeInfo | null {
  return current;
}

// ---- model files ---------------------------------------------------------------------------------

/** sha256 of model.json's bytes + "\n" + weights.bin's bytes, hex. */
export function modelSha256(dir: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(dir, 'model.json')));
  h.update('\n');
  h.update(readFileSync(join(dir, 'weights.bin')));
  return h.digest('hex');
}

/** A TF.js IOHandler that saves to and loads from a folder (model.json + weights.bin). */
export function fileHandler(dir: string): tf.io.IOHandler {
  return {
    async save(art: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!art.weightData || !art.weightSpecs) throw new Error('model has no weights to save');
      const weights = tf.io.CompositeArrayBuffer.join(art.weightData);
      const json = {
        format: art.format ?? 'layers-model',
        generatedBy: art.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        modelTopology: art.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
        ...(art.trainingConfig ? { trainingConfig: art.trainingConfig } : {}),
        ...(art.userDefinedMetadata ? { userDefinedMetadata: art.userDefinedMetadata } : {}),
      };
      mkdirSync(dir, { recursive: true });
      // write both beside their final names, then rename: a reader never sees half a model
      const tmpJ = join(dir, `.model.json.tmp-${process.pid}`);
      const tmpW = join(dir, `.weights.bin.tmp-${process.pid}`);
      writeFileSync(tmpW, Buffer.from(weights));
      writeFileSync(tmpJ, JSON.stringify(json, null, 1) + '\n');
      renameSync(tmpW, join(dir, 'weights.bin'));
      renameSync(tmpJ, join(dir, 'model.json'));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(art) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: {
        modelTopology?: object;
        weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
        format?: string;
        generatedBy?: string;
        trainingConfig?: tf.io.TrainingConfig;
        userDefinedMetadata?: Record<string, unknown>;
      };
      let bin: Buffer;
      try {
        json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
        bin = readFileSync(join(dir, 'weights.bin'));
      } catch (e) {
        throw new UserError([`${dir}: cannot read the model (model.json + weights.bin): ${(e as Error).message.split('\n')[0]}`]);
      }
      const manifest = json.weightsManifest;
      if (!json.modelTopology || !manifest || manifest.length !== 1 || manifest[0]!.paths.length !== 1) {
        throw new UserError([`${dir}/model.json: expected a layers model with one weights file (modelTopology, weightsManifest[0].paths = ['weights.bin'])`]);
      }
      const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
      return {
        modelTopology: json.modelTopology,
        weightSpecs: manifest[0]!.weights,
        weightData,
        format: json.format,
        generatedBy: json.generatedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
      };
    },
  };
}

export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(fileHandler(dir));
}

// ---- inference -----------------------------------------------------------------------------------

/**
 * The layers of a model that is a plain chain (a `Sequential` model: each layer takes the previous
 * layer's single output), Input layers left out; null for any other topology.
 */
export function chainLayers(model: tfl.LayersModel): tfl.layers.Layer[] | null {
  if (!(model instanceof tfl.Sequential)) return null;
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * Direct kernel calls for a chain of Dense layers whose activations the fused matMul kernel
 * applies itself (relu, linear): per layer ONE `_FusedMatMul` kernel call (matMul + bias +
 * activation), on tensors kept in the kernel's own rank-3 layout ([1, rows, F] input, [1, F, units]
 * kernels, reshaped once at load), so a forward pass is one input tensor, one kernel call per
 * layer and one readback. `tf.fused.matMul` (what a Dense layer's `call` runs) wraps the same
 * kernel call in three reshapes, a custom-gradient scope and a tidy per layer, which cost about
 * 2/3 of a 10-row pass; the kernel, its inputs and so its float32 outputs are the same, bit for
 * bit (test/ai/choice.test.ts compares them with `model.predict`). Only on the backends whose
 * `_FusedMatMul` takes rank-3 inputs (wasm, cpu); `denseKernels` returns null for others.
 */
export class DenseKernels {
  private constructor(
    private readonly kernels: tf.Tensor[],
    private readonly biases: (tf.Tensor | null)[],
    private readonly activations: ('relu' | 'linear')[],
    private readonly inputs: number,
  ) {}

  /** null unless every layer is a Dense layer with a fused activation and the backend is wasm or cpu. */
  static from(chain: readonly tfl.layers.Layer[] | null): DenseKernels | null {
    if (!chain || chain.length === 0) return null;
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') return null;
    const kernels: tf.Tensor[] = [];
    const biases: (tf.Tensor | null)[] = [];
    const acts: ('relu' | 'linear')[] = [];
    for (const l of chain) {
      if (l.getClassName() !== 'Dense') return null;
      const cfg = l.getConfig() as { activation?: unknown; useBias?: boolean };
      const act = cfg.activation;
      if (act !== 'relu' && act !== 'linear') return null;
      const w = l.getWeights();
      const k = w[0];
      if (!k || k.rank !== 2) return null;
      kernels.push(tf.reshape(k, [1, k.shape[0]!, k.shape[1]!]));
      biases.push(cfg.useBias === false ? null : (w[1] ?? null));
      acts.push(act);
    }
    for (let j = 1; j < kernels.length; j++) if (kernels[j]!.shape[1] !== kernels[j - 1]!.shape[2]) return null;
    return new DenseKernels(kernels, biases, acts, kernels[0]!.shape[1]!);
  }

  /** The chain's outputs for the first `rows` rows of x (rows × F, row-major); F must be the
   * chain's input width. All tensors of the pass are disposed before it returns. */
  run(x: Float32Array, rows: number, F: number): Float32Array {
    if (F !== this.inputs) throw new Error(`forward pass: ${F} features, the model reads ${this.inputs}`);
    const eng = tf.engine();
    let y: tf.Tensor = tf.tensor3d(x.subarray(0, rows * F), [1, rows, F], 'float32');
    for (let j = 0; j < this.kernels.length; j++) {
      const b = this.biases[j];
      const ins: tf.NamedTensorMap = b ? { a: y, b: this.kernels[j]!, bias: b } : { a: y, b: this.kernels[j]! };
      const attrs: tf.NamedAttrMap = { transposeA: false, transposeB: false, activation: this.activations[j]! };
      const next = eng.runKernel('_FusedMatMul', ins, attrs) as tf.Tensor;
      y.dispose();
      y = next;
    }
    const out = y.dataSync() as Float32Array;
    y.dispose();
    return out;
  }
}

/**
 * The model's outputs for the first `rows` rows of `x` (rows × F, row-major, float32): one input
 * tensor, one forward pass, one readback, all intermediate tensors freed.
 *
 * With `fast` (DenseKernels.from(chain)) the pass is one fused kernel call per layer (see
 * DenseKernels). Otherwise, for a chain model (`chain` from chainLayers) it calls each layer's own
 * `call` (the same TF.js kernels, e.g. one fused matMul + bias + activation per Dense layer, as
 * `model.predict`, so the outputs are identical). Both bypass two costs of `model.predict` that
 * dominate small inputs: predict cuts its input into batches of 32 rows (one forward pass and one
 * concat per 32 rows) and runs the symbolic-graph executor (feed dicts, input-spec checks, name
 * scopes) around each. Other topologies use `model.predict` with one batch of all rows.
 */
export function forwardRows(model: tfl.LayersModel, chain: readonly tfl.layers.Layer[] | null, x: Float32Array, rows: number, F: number, fast: DenseKernels | null = null): Float32Array {
  if (fast) return fast.run(x, rows, F);
  return tf.tidy(() => {
    const input = tf.tensor2d(x.subarray(0, rows * F), [rows, F], 'float32');
    let y: tf.Tensor;
    if (chain) {
      y = input;
      for (const l of chain) y = l.call(y, { training: false }) as tf.Tensor;
    } else {
      y = model.predict(input, { batchSize: Math.max(1, rows) }) as tf.Tensor;
    }
    return y.dataSync() as Float32Array;
  });
}

/**
 * A seeded MLP as a TF.js sequential model: ReLU hidden layers `hidden_1…` of the given widths,
 * then a linear output layer; Glorot-uniform kernels seeded seed, seed + 1, … per layer, zero
 * biases, so the same arguments give the same initial weights in every process.
 */
export function seededMlp(o: { name: string; inputs: number; hidden: readonly number[]; output: { name: string; units: number }; seed: number }): tfl.LayersModel {
  const m = tfl.sequential({ name: o.name });
  o.hidden.forEach((u, j) => {
    m.add(
      tfl.layers.dense({
        name: `hidden_${j + 1}`,
        units: u,
        activation: 'relu',
        ...(j === 0 ? { inputShape: [o.inputs] } : {}),
        kernelInitializer: tfl.initializers.glorotUniform({ seed: o.seed + j }),
        biasInitializer: 'zeros',
      }),
    );
  });
  m.add(tfl.layers.dense({ name: o.output.name, units: o.output.units, kernelInitializer: tfl.initializers.glorotUniform({ seed: o.seed + o.hidden.length }), biasInitializer: 'zeros' }));
  return m;
}
