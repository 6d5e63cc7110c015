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
    /** the chain's input width */
    readonly inputs: number,
  ) {}

  /** Each layer's kernel (nin × nout, row-major), bias (null without one) and activation, as float32 copies. */
  layerWeights(): { nin: number; nout: number; kernel: Float32Array; bias: Float32Array | null; activation: 'relu' | 'linear' }[] {
    return this.kernels.map((k, j) => ({
      nin: k.shape[1]!,
      nout: k.shape[2]!,
      kernel: Float32Array.from(k.dataSync() as Float32Array),
      bias: this.biases[j] ? Float32Array.from(this.biases[j]!.dataSync() as Float32Array) : null,
      activation: this.activations[j]!,
    }));
  }

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
 * A forward pass of a Dense chain in plain JavaScript that reproduces the backend's float32
 * arithmetic bit for bit, so that it can stand in for the TF.js kernel calls without changing one
 * output (and so no decision, golden or model hash). A TF.js call costs tens of microseconds
 * however few rows it has (tensor creation, kernel dispatch, readback); the station-choice model
 * (11 → 32 → 1) on one EV's 10 candidate rows is ~3,800 multiply-adds, a few microseconds in JS.
 *
 * The arithmetic of each backend's `_FusedMatMul` (found by reading the kernels and checked on
 * random models of many shapes in test/ai/choice.test.ts):
 *  - wasm (XNNPACK fully-connected, no FMA in WebAssembly SIMD): per output, the accumulator
 *    starts at the bias, then for k = 0, 1, …: acc = f32(acc + f32(a_k · w_k)); then the
 *    activation clamp. (`f32` = Math.fround: a float32 sum or product computed in float64 and
 *    rounded once is the correctly rounded float32 result, as 53 ≥ 2·24 + 2.)
 *  - cpu (tfjs-backend-cpu batchMatMul): the products summed in float64 over blocks of
 *    `blockSize` (48) k's, each block's sum added into a float32 result, acc = f32(acc + sum);
 *    then acc = f32(acc + bias); then the activation.
 * Other backends (tfjs-node): not emulated (`from` returns null; the kernels run).
 *
 * Trusted only after a check: `from` runs a probe (seeded values of mixed sign and magnitude,
 * zeros, and rows of 1, 10 and 64) through both the kernels and this pass and returns null,
 * keeping the kernels, unless every output matches bit for bit.
 */
export class JsDense {
  private bufA: Float32Array;
  private bufB: Float32Array;
  private rowList = new Int32Array(0);
  /** the widest layer output: the size of a row in the scratch buffers */
  private readonly maxOut: number;

  private constructor(
    readonly mode: 'wasm-f32' | 'cpu-f64-blocks',
    /** per layer: weights transposed to [out][in] (row-major), float32 as stored */
    private readonly wT: Float32Array[],
    private readonly bias: Float32Array[],
    private readonly relu: boolean[],
    private readonly sizes: number[],
    private readonly blockSize: number,
  ) {
    this.bufA = new Float32Array(0);
    this.bufB = new Float32Array(0);
    this.maxOut = Math.max(...sizes.slice(1));
  }

  /** null unless the backend's arithmetic is one of the two above and the probe matches `kernels`
   * bit for bit. `assume` (for tests) emulates the other backend's arithmetic, which the probe must reject. */
  static from(kernels: DenseKernels | null, assume?: 'wasm' | 'cpu'): JsDense | null {
    if (!kernels) return null;
    const actual = tf.getBackend();
    if (actual !== 'wasm' && actual !== 'cpu') return null;
    const backend = assume ?? actual;
    let blockSize = 0;
    if (backend === 'cpu') {
      if (actual !== 'cpu') blockSize = 48;
      else {
        const be: object = tf.backend();
        blockSize = 'blockSize' in be ? Number(be.blockSize) : NaN;
        if (!(Number.isInteger(blockSize) && blockSize > 0)) return null;
      }
    }
    const wT: Float32Array[] = [];
    const bias: Float32Array[] = [];
    const relu: boolean[] = [];
    const sizes: number[] = [kernels.inputs];
    for (const l of kernels.layerWeights()) {
      const t = new Float32Array(l.nin * l.nout);
      for (let i = 0; i < l.nin; i++) for (let o = 0; o < l.nout; o++) t[o * l.nin + i] = l.kernel[i * l.nout + o]!;
      wT.push(t);
      bias.push(l.bias ?? new Float32Array(l.nout));
      relu.push(l.activation === 'relu');
      sizes.push(l.nout);
    }
    const js = new JsDense(backend === 'wasm' ? 'wasm-f32' : 'cpu-f64-blocks', wT, bias, relu, sizes, blockSize);
    return js.matches(kernels) ? js : null;
  }

  /** The probe: every output of this pass equals the kernels' bit for bit. */
  private matches(kernels: DenseKernels): boolean {
    const F = this.sizes[0]!;
    let s = 0x9e3779b9;
    const next = () => {
      // xorshift32: a fixed probe, the same in every process
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 4294967296;
    };
    for (const rows of [1, 10, 64]) {
      const x = new Float32Array(rows * F);
      for (let i = 0; i < x.length; i++) {
        const u = next();
        x[i] = i % 7 === 3 ? 0 : (u - 0.35) * 10 ** Math.floor(next() * 5 - 1);
      }
      const want = kernels.run(x, rows, F);
      const got = this.run(x, rows, F);
      if (!got) return false;
      const a = new Uint32Array(want.buffer, want.byteOffset, want.length);
      const b = new Uint32Array(got.buffer, got.byteOffset, got.length);
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    }
    return true;
  }

  /** The chain's outputs for the first `rows` rows of x (rows × F, row-major). The returned array
   * is this object's buffer, valid until the next call. With `count` (rows are n groups of K, of
   * which the first count[g] are used) only those rows are computed; the outputs
   * of the others are left unspecified (a batch's padding rows, which no caller reads). Each row is
   * computed on its own, as in the kernels, so skipping rows changes no other row's output.
   * null when a used row has a non-finite input (the caller then runs the kernels). */
  run(x: Float32Array, rows: number, F: number, K = 0, count: Int32Array | null = null): Float32Array | null {
    const sizes = this.sizes;
    if (F !== sizes[0]) throw new Error(`forward pass: ${F} features, the model reads ${sizes[0]}`);
    if (this.bufA.length < rows * this.maxOut) {
      this.bufA = new Float32Array(rows * this.maxOut);
      this.bufB = new Float32Array(rows * this.maxOut);
      this.rowList = new Int32Array(rows);
    }
    // the rows to compute, once for all layers
    const list = this.rowList;
    let nr = 0;
    if (count !== null && K > 0) {
      for (let r = 0; r < rows; r++) if (r % K < count[(r / K) | 0]!) list[nr++] = r;
    } else {
      for (let r = 0; r < rows; r++) list[r] = r;
      nr = rows;
    }
    // only finite inputs: the probe checks finite values, and how each backend's kernels treat a
    // NaN or an infinity in their sums and clamps is not reproduced here, so such a batch is
    // left to the kernels (the caller's fallback); the simulation's features are always finite
    for (let q = 0; q < nr; q++) {
      const ia = list[q]! * F;
      for (let k = 0; k < F; k++) {
        const v = x[ia + k]!;
        if (v - v !== 0) return null;
      }
    }
    const f32 = Math.fround;
    const bs = this.blockSize;
    const wasm = this.mode === 'wasm-f32';
    let inp = x;
    let out = this.bufA;
    for (let j = 0; j < this.wT.length; j++) {
      const nin = sizes[j]!;
      const nout = sizes[j + 1]!;
      const w = this.wT[j]!;
      const b = this.bias[j]!;
      const relu = this.relu[j]!;
      for (let q = 0; q < nr; q++) {
        const r = list[q]!;
        const ia = r * nin;
        const io = r * nout;
        // four outputs at a time: four independent accumulator chains in one loop over k, so the
        // CPU overlaps their rounding latencies; each output's own order of operations is the
        // one above, so the values are the same as one output at a time
        let o = 0;
        for (; o + 4 <= nout; o += 4) {
          const w0 = o * nin;
          const w1 = w0 + nin;
          const w2 = w1 + nin;
          const w3 = w2 + nin;
          let a0: number, a1: number, a2: number, a3: number;
          if (wasm) {
            a0 = b[o]!;
            a1 = b[o + 1]!;
            a2 = b[o + 2]!;
            a3 = b[o + 3]!;
            for (let k = 0; k < nin; k++) {
              const v = inp[ia + k]!;
              a0 = f32(a0 + f32(v * w[w0 + k]!));
              a1 = f32(a1 + f32(v * w[w1 + k]!));
              a2 = f32(a2 + f32(v * w[w2 + k]!));
              a3 = f32(a3 + f32(v * w[w3 + k]!));
            }
          } else {
            a0 = a1 = a2 = a3 = 0;
            for (let k0 = 0; k0 < nin; k0 += bs) {
              const k1 = Math.min(k0 + bs, nin);
              let s0 = 0,
                s1 = 0,
                s2 = 0,
                s3 = 0;
              for (let k = k0; k < k1; k++) {
                const v = inp[ia + k]!;
                s0 += v * w[w0 + k]!;
                s1 += v * w[w1 + k]!;
                s2 += v * w[w2 + k]!;
                s3 += v * w[w3 + k]!;
              }
              a0 = f32(a0 + s0);
              a1 = f32(a1 + s1);
              a2 = f32(a2 + s2);
              a3 = f32(a3 + s3);
            }
            a0 = f32(a0 + b[o]!);
            a1 = f32(a1 + b[o + 1]!);
            a2 = f32(a2 + b[o + 2]!);
            a3 = f32(a3 + b[o + 3]!);
          }
          out[io + o] = relu && !(a0 > 0) ? 0 : a0;
          out[io + o + 1] = relu && !(a1 > 0) ? 0 : a1;
          out[io + o + 2] = relu && !(a2 > 0) ? 0 : a2;
          out[io + o + 3] = relu && !(a3 > 0) ? 0 : a3;
        }
        for (; o < nout; o++) {
          const iw = o * nin;
          let acc: number;
          if (wasm) {
            acc = b[o]!;
            for (let k = 0; k < nin; k++) acc = f32(acc + f32(inp[ia + k]! * w[iw + k]!));
          } else {
            acc = 0;
            for (let k0 = 0; k0 < nin; k0 += bs) {
              const k1 = Math.min(k0 + bs, nin);
              let sum = 0;
              for (let k = k0; k < k1; k++) sum += inp[ia + k]! * w[iw + k]!;
              acc = f32(acc + sum);
            }
            acc = f32(acc + b[o]!);
          }
          out[io + o] = relu && !(acc > 0) ? 0 : acc;
        }
      }
      inp = out;
      out = out === this.bufA ? this.bufB : this.bufA;
    }
    return inp.subarray(0, rows * sizes[sizes.length - 1]!);
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
