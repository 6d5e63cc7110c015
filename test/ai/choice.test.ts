import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EPSILON_MIN, JS_MAX_ROWS, LearnedChoice, loadChoicePolicy, loadLearnedChoice, type ChoiceModelMeta } from '../../src/ai/choiceModel.js';
import { chainLayers, DenseKernels, forwardRows, initTf, JsDense, loadModel, seededMlp, tf, tfl } from '../../src/ai/runtime.js';
import { readTrainChoiceConfig, trainStationChoice } from '../../src/ai/trainChoice.js';
import { choiceBatchFrom, decideStations } from '../../src/charging/testing.js';
import { UserError } from '../../src/core/errors.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { runEpisode } from '../../src/simulation/episodes.js';
import { buildCity, createSimulation } from '../../src/simulation/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = join(ROOT, 'models/station-choice-monaco');

/** A model predicting a constant wait (minutes) for every candidate, over these features. */
function constantModel(features: string[], waitMin: number): LearnedChoice {
  const m = tfl.sequential({ name: 'const' });
  m.add(tfl.layers.dense({ name: 'out', units: 1, inputShape: [features.length], kernelInitializer: 'zeros', biasInitializer: 'zeros' }));
  m.getLayer('out').setWeights([tf.zeros([features.length, 1]), tf.tensor1d([waitMin])]);
  const meta: ChoiceModelMeta = { kind: 'station-choice-wait', features, chargeWeight: 1, abandonPenaltyMin: 0 };
  return new LearnedChoice(m, meta, 'test', null);
}

const two = (reservedWait0: number) => [{ chargerKW: [22], expectedWaitReservedS: reservedWait0 }, { chargerKW: [22], expectedWaitReservedS: 0 }];

describe('learned station choice: scores, tie rule, fragile decisions', () => {
  beforeAll(async () => {
    await initTf('wasm');
  });

  it('scores within epsilon of the best are tied and go to the min-total-time-reserved order', () => {
    const p = constantModel(['travel_time_min'], 5);
    // travel differs by 0.003 s = 5e-5 min < epsilon: tied; reserved wait prefers station 1
    expect(decideStations(p, { stations: two(100), evs: [{ soc: 0.5, travelTimeS: [600, 600.003] }] })).toEqual([1]);
    expect(p.stats.tied).toBe(1);
    // a gap of 0.1 s = 1.7e-3 min > epsilon: the lower score wins although reserved prefers 1
    const q = constantModel(['travel_time_min'], 5);
    expect(decideStations(q, { stations: two(100), evs: [{ soc: 0.5, travelTimeS: [600, 600.1] }] })).toEqual([0]);
    expect(q.stats.tied).toBe(0);
    expect(q.stats.fragile).toBe(0);
  });

  it('a tie that the reserved key cannot break goes to the lower station id', () => {
    const p = constantModel(['travel_time_min'], 0);
    const stations = [{ chargerKW: [22] }, { chargerKW: [22] }, { chargerKW: [22] }];
    expect(decideStations(p, { stations, evs: [{ soc: 0.5, travelTimeS: [900, 600, 600] }] })).toEqual([1]);
  });

  it('counts a decision as fragile when a gap lies within 1e-6 of epsilon', () => {
    const p = constantModel(['travel_time_min'], 0);
    const gapS = EPSILON_MIN * 60; // exactly epsilon minutes
    decideStations(p, { stations: two(0), evs: [{ soc: 0.5, travelTimeS: [600, 600 + gapS], lengthM: [6000, 6000] }, { soc: 0.5, travelTimeS: [600, 660], lengthM: [6000, 6000] }] });
    expect(p.stats.decisions).toBe(2);
    expect(p.stats.fragile).toBe(1);
    expect(p.summary().fragileDecisions).toBe(1);
  });

  it('calls the model once per batch, for all deciding EVs and candidates', () => {
    const p = constantModel(['travel_time_min', 'expected_wait_min'], 1);
    let calls = 0;
    let rows = 0;
    const orig = p.predictRows.bind(p);
    p.predictRows = (b) => {
      calls++;
      rows = b.n * b.K;
      return orig(b);
    };
    const stations = [{ chargerKW: [22] }, { chargerKW: [22] }, { chargerKW: [50] }];
    const evs = [0, 1, 2, 3].map((i) => ({ soc: 0.5, travelTimeS: [300 + i, 400, 500 - i] }));
    expect(decideStations(p, { stations, evs })).toHaveLength(4);
    expect(calls).toBe(1);
    expect(rows).toBe(12);
  });

  it('forwardRows (layer chain, one pass) gives exactly model.predict\'s outputs', async () => {
    const m = await loadModel(MODEL);
    const F = m.inputs[0]!.shape[1]!;
    const chain = chainLayers(m);
    expect(chain?.length).toBeGreaterThan(0);
    for (const rows of [1, 10, 33, 300]) {
      const x = new Float32Array(rows * F).map((_, i) => ((i * 7919) % 101) / 7);
      const t = tf.tensor2d(x, [rows, F]);
      const p = m.predict(t) as tf.Tensor;
      const want = p.dataSync();
      t.dispose();
      p.dispose();
      const before = tf.memory().numTensors;
      expect(Array.from(forwardRows(m, chain, x, rows, F))).toEqual(Array.from(want));
      expect(Array.from(forwardRows(m, null, x, rows, F))).toEqual(Array.from(want));
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('DenseKernels (one fused kernel call per layer) gives exactly model.predict\'s outputs on wasm and cpu', async () => {
    const m = await loadModel(MODEL);
    const F = m.inputs[0]!.shape[1]!;
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const fast = DenseKernels.from(chainLayers(m));
      expect(fast).not.toBeNull();
      for (const rows of [1, 10, 33, 300]) {
        const x = new Float32Array(rows * F).map((_, i) => ((i * 7919) % 101) / 7 - 3);
        const t = tf.tensor2d(x, [rows, F]);
        const p = m.predict(t) as tf.Tensor;
        const want = p.dataSync();
        t.dispose();
        p.dispose();
        const before = tf.memory().numTensors;
        expect(Array.from(forwardRows(m, null, x, rows, F, fast))).toEqual(Array.from(want));
        expect(tf.memory().numTensors).toBe(before);
      }
      expect(() => fast!.run(new Float32Array(F + 1), 1, F + 1)).toThrow(/features/);
    }
    await tf.setBackend('wasm');
    // not a chain of fused-activation Dense layers: no fast path
    const s = tfl.sequential();
    s.add(tfl.layers.dense({ units: 2, inputShape: [3], activation: 'tanh' }));
    expect(DenseKernels.from(chainLayers(s))).toBeNull();
  });

  it('JsDense (plain-JS pass) gives the kernels\' outputs bit for bit on wasm and cpu, for many shapes', async () => {
    const shapes: [number, number[]][] = [[11, [32]], [11, [64, 64]], [4, [8]], [7, [5, 3]], [64, [128]], [100, [40]], [1, [1]], [13, [33, 17]]];
    let seed = 20261202;
    const u = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      for (const [inputs, hidden] of shapes) {
        const m = seededMlp({ name: 'probe', inputs, hidden, output: { name: 'out', units: 1 }, seed: 3 });
        // random biases too (seededMlp's are zero)
        for (const l of m.layers) l.setWeights(l.getWeights().map((w) => tf.tensor(Float32Array.from(w.dataSync(), () => u() - 0.5), w.shape)));
        const chain = chainLayers(m);
        const fast = DenseKernels.from(chain)!;
        const js = JsDense.from(fast);
        expect(js?.mode).toBe(backend === 'wasm' ? 'wasm-f32' : 'cpu-f64-blocks');
        for (const rows of [1, 3, 10, 257]) {
          const x = new Float32Array(rows * inputs).map(() => (u() - 0.4) * 10 ** Math.floor(u() * 4 - 1));
          const want = new Uint32Array(fast.run(x, rows, inputs).buffer.slice(0));
          const got = js!.run(x, rows, inputs)!;
          expect(got).not.toBeNull();
          expect(Array.from(new Uint32Array(got.buffer, got.byteOffset, got.length))).toEqual(Array.from(want));
        }
        expect(() => js!.run(new Float32Array(inputs + 1), 1, inputs + 1)).toThrow(/features/);
        // a non-finite input in a used row is left to the kernels; in a skipped row it is not read
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = new Float32Array(2 * inputs);
          x[inputs + inputs - 1] = bad;
          expect(js!.run(x, 2, inputs)).toBeNull();
          expect(js!.run(x, 2, inputs, 2, Int32Array.of(1))).not.toBeNull();
        }
      }
    }
    await tf.setBackend('wasm');
    // arithmetic that is not the backend's (here: each backend's emulated on the other) fails the
    // load-time probe, so the kernels stay
    const m = seededMlp({ name: 'probe', inputs: 11, hidden: [32], output: { name: 'out', units: 1 }, seed: 1 });
    for (const l of m.layers) l.setWeights(l.getWeights().map((w) => tf.tensor(Float32Array.from(w.dataSync(), () => u() - 0.5), w.shape)));
    for (const [backend, other] of [['wasm', 'cpu'], ['cpu', 'wasm']] as const) {
      await tf.setBackend(backend);
      expect(JsDense.from(DenseKernels.from(chainLayers(m)), backend)).not.toBeNull();
      expect(JsDense.from(DenseKernels.from(chainLayers(m)), other)).toBeNull();
    }
    await tf.setBackend('wasm');
    expect(JsDense.from(null)).toBeNull();
  });

  it('the shipped station-choice model runs its forward pass in plain JS on wasm and cpu', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const p = await loadChoicePolicy(MODEL);
      expect(p.inference).toBe('js');
    }
    await tf.setBackend('wasm');
  });

  it('a batch past JS_MAX_ROWS (kernels) scores every EV bit for bit as that EV alone (plain JS)', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const p = await loadChoicePolicy(MODEL);
      expect(p.inference).toBe('js');
      let seed = 7;
      const u = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 4294967296;
      };
      const stations = Array.from({ length: 12 }, (_, j) => ({ chargerKW: [j % 3 === 0 ? 50 : 22], plugged: j % 4, queue: j % 5, expectedWaitS: 600 * (j % 5), expectedWaitReservedS: 700 * (j % 5) }));
      const evs = Array.from({ length: 9 }, () => ({ soc: 0.1 + 0.6 * u(), travelTimeS: stations.map(() => 60 + 1800 * u()) }));
      const all = choiceBatchFrom({ stations, evs }, p.features).batch;
      expect(all.n * all.K).toBeGreaterThan(JS_MAX_ROWS);
      const together = Float32Array.from(p.predictRows(all));
      for (let i = 0; i < evs.length; i++) {
        const one = choiceBatchFrom({ stations, evs: [evs[i]!] }, p.features).batch;
        expect(one.count[0]!).toBeLessThanOrEqual(JS_MAX_ROWS);
        const alone = p.predictRows(one);
        for (let k = 0; k < one.count[0]!; k++) expect(Math.fround(alone[k]!)).toBe(together[i * all.K + k]);
      }
    }
    await tf.setBackend('wasm');
  });

  it('needs no model call when no deciding EV has more than one candidate', () => {
    const p = constantModel(['travel_time_min'], 1);
    let calls = 0;
    const orig = p.predictRows.bind(p);
    p.predictRows = (b) => {
      calls++;
      return orig(b);
    };
    expect(decideStations(p, { stations: [{ chargerKW: [22] }], evs: [{ soc: 0.5, travelTimeS: [300] }] })).toEqual([0]);
    expect(calls).toBe(0);
    expect(p.stats.decisions).toBe(1);
  });

  it('the shipped model reads its features from the registry and prefers an empty station to a long queue', async () => {
    const p = await loadChoicePolicy(MODEL);
    expect(p.features.length).toBeGreaterThan(3);
    const stations = [
      { chargerKW: [22], plugged: 1, queue: 6, expectedWaitS: 6 * 3600, expectedWaitReservedS: 6 * 3600 },
      { chargerKW: [22], plugged: 0, queue: 0, expectedWaitS: 0, expectedWaitReservedS: 0 },
    ];
    expect(decideStations(p, { stations, evs: [{ soc: 0.4, travelTimeS: [300, 420] }] })).toEqual([1]);
  });
});

describe('learned station choice in a run', () => {
  it('policy.stationChoice learned needs policy.models.stationChoice (one line naming the field)', () => {
    expect(() => loadScenario(join(ROOT, 'scenarios/monaco.yaml'), { overrides: ['policy.stationChoice=learned'] })).toThrow(/policy\.models\.stationChoice: is required/);
  });

  it('loadLearnedChoice resolves the model relative to the scenario; summary reports sha256 and counts', async () => {
    const sc = loadScenario(join(ROOT, 'scenarios/monaco.yaml'), {
      overrides: ['ledger.stacks=[none]', 'fleet.size=300', 'duration=12h', 'policy.stationChoice=learned', 'policy.models.stationChoice=../models/station-choice-monaco', 'policy.tfBackend=wasm'],
    });
    const parts = await loadLearnedChoice(sc);
    expect(parts.stationChoice?.name).toBe('learned');
    const city = await buildCity(sc);
    const r = createSimulation(sc, city, parts).run();
    const info = r.summary.policy.stationChoiceInfo!;
    expect(info.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.backend).toBe('wasm');
    expect(Number(info.decisions)).toBeGreaterThan(0);
    expect(Number(info.decisions)).toBe(r.sessions.length);
    expect(await loadLearnedChoice(loadScenario(join(ROOT, 'scenarios/monaco.yaml')))).toEqual({});
  });

  it('a run with "learned" and no injected model fails naming loadLearnedChoice', async () => {
    const sc = loadScenario(join(ROOT, 'scenarios/monaco.yaml'), { overrides: ['fleet.size=50', 'policy.stationChoice=learned', 'policy.models.stationChoice=x'] });
    const city = await buildCity(sc);
    expect(() => createSimulation(sc, city)).toThrow(/loadLearnedChoice/);
  });
});

describe('learned station choice: byte-identical across processes', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  });

  it('two processes, same model and backend: identical summary.json and sessions.csv', () => {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'evsim-learned-')));
    for (const d of dirs) {
      const r = spawnSync(
        process.execPath,
        ['bin/evsim.js', 'run', 'scenarios/monaco.yaml', '--ledger', 'none', '--quiet', '--out', d, '--set', 'policy.stationChoice=learned', '--set', 'policy.models.stationChoice=../models/station-choice-monaco', '--set', 'policy.tfBackend=wasm', '--set', 'fleet.size=400'],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
    }
    const a = readFileSync(join(dirs[0]!, 'summary.json'));
    expect(JSON.parse(a.toString()).policy.stationChoiceInfo.decisions).toBeGreaterThan(0);
    expect(readFileSync(join(dirs[1]!, 'summary.json')).equals(a)).toBe(true);
    expect(readFileSync(join(dirs[1]!, 'sessions.csv')).equals(readFileSync(join(dirs[0]!, 'sessions.csv')))).toBe(true);
  });
});

describe('training the station choice (CI-sized config)', () => {
  const CI = join(ROOT, 'training/station-choice-ci.yaml');

  it('same config and backend → same sha256; the predictor beats the fluid estimate on held-out seeds', async () => {
    const d1 = mkdtempSync(join(tmpdir(), 'evsim-choice-'));
    const d2 = mkdtempSync(join(tmpdir(), 'evsim-choice-'));
    const r1 = await trainStationChoice(CI, runEpisode, { output: d1 });
    const r2 = await trainStationChoice(CI, runEpisode, { output: d2 });
    expect(r1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r2.sha256).toBe(r1.sha256);
    expect(r1.trainRows).toBeGreaterThan(100);
    expect(r1.validationRows).toBeGreaterThan(50);
    // stated quality: validation MAE below predicting the station's fluid estimate and the mean
    expect(r1.maeModel).toBeLessThan(r1.maeFluid);
    expect(r1.maeModel).toBeLessThan(r1.maeMean);
    expect(readFileSync(join(d1, 'model-card.md'), 'utf8')).toContain(r1.sha256);
    // the trained folder loads as a policy
    expect((await loadChoicePolicy(d1)).features).toEqual(readTrainChoiceConfig(CI).features);
  });

  it('an on-policy round (explore.rounds: 2) pools data collected by the first model and stays reproducible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-choice-r2-'));
    const cfg = join(dir, 'r2.yaml');
    writeFileSync(cfg, readFileSync(CI, 'utf8').replaceAll('../scenarios/', join(ROOT, 'scenarios') + '/').replace('explore: { topK: 3 }', 'explore: { topK: 3, rounds: 2, epsilon: 0.2 }'));
    const one = await trainStationChoice(CI, runEpisode, { output: join(dir, 'one') });
    const a = await trainStationChoice(cfg, runEpisode, { output: join(dir, 'a') });
    const b = await trainStationChoice(cfg, runEpisode, { output: join(dir, 'b') });
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).not.toBe(one.sha256);
    expect(a.trainRows).toBeGreaterThan(one.trainRows * 1.5);
    expect(a.maeModel).toBeLessThan(a.maeFluid);
  });

  it('refuses evaluation seeds and the held-out city (one line naming the file and field)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsim-choice-cfg-'));
    const base = readFileSync(CI, 'utf8').replace('../scenarios/monaco.yaml', join(ROOT, 'scenarios/monaco.yaml')).replace('../scenarios/monaco.yaml', join(ROOT, 'scenarios/monaco.yaml'));
    const bad = join(dir, 'seeds.yaml');
    writeFileSync(bad, base.replace('seeds: [101, 104]', 'seeds: [1, 4]'));
    expect(() => readTrainChoiceConfig(bad)).toThrow(UserError);
    expect(() => readTrainChoiceConfig(bad)).toThrow(/seeds\.yaml: episodes\.0\.seeds\.0: .*evaluation seeds/);
    const held = join(dir, 'held.yaml');
    writeFileSync(held, base.replace(join(ROOT, 'scenarios/monaco.yaml'), join(ROOT, 'scenarios/helsinki.yaml')));
    await expect(trainStationChoice(held, runEpisode, { output: join(dir, 'm') })).rejects.toThrow(/helsinki\.yaml: scenario: uses the held-out city/);
  });
});
