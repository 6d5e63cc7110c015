/**
 * How much could the DC hub's allocation change one day if it were tuned to that very day? A
 * hindsight search: on each evaluation seed, evolution strategies over the hub MLP's parameters
 * (src/ai/allocationHub.ts; the shipped model as the start) are run on that seed's day alone,
 * and the best day found among every candidate simulated is kept. It knows the day (the same
 * arrivals, models and states of charge are scored again and again), so it is not a policy a hub
 * could run; it is an optimistic figure for what a per-instant allocation rule of this family can
 * reach on that day: in-sample, and the minimum over thousands of simulated variants, so it also
 * profits from the day's sensitivity to small changes. Compared, paired per seed, with srpt-energy
 * (the best hand-written policy on these seeds).
 *
 *   npm run build && node dist/scripts/hub-hindsight.js [--seeds 1-10] [--iterations 100]
 *     [--scenario scenarios/dc-hub.yaml] [--model models/allocation-dc-hub] [--abandon-penalty MIN] [--set path=value]...
 *
 * Objective: the plain mean time in system (what the evaluation reports; an EV that gives up counts
 * until it leaves, so a day with more give-ups can score lower), or with --abandon-penalty M each
 * give-up counted M minutes more (the trainer's abandonPenaltyMin); the table reports the plain
 * mean and the give-ups of the day kept. Each iteration: 8 antithetic
 * pairs, σ 0.1, Adam 0.05 (the trainer's settings, src/simulation/trainAllocationHub.ts), noise
 * from the stream "<seed>/hindsight/<t>", then the new mean. For comparison, as many days again
 * with plain random perturbations of the start (σ 0.1, stream "<seed>/hindsight/random", no ES
 * step): their sd is the day's sensitivity to small changes of the rule, their minimum what
 * selection among that many variants finds by itself. Cost: 34 days per iteration per seed, a
 * hub day ≈ 0.05 s on the 2-core machine.
 */
import { HubAllocationPolicy, mlpFromParams, mlpOfModel, mlpParamCount } from '../src/ai/allocationHub.js';
import { initTf, loadModel } from '../src/ai/runtime.js';
import { allocationPolicyEntry, type AllocationBatchPolicy } from '../src/charging/allocationBatch.js';
import { UserError } from '../src/core/errors.js';
import { Rng } from '../src/core/random.js';
import { meanCi, pairedDiff } from '../src/core/stats.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { antitheticSample, EsAdam } from '../src/simulation/es.js';
import { Simulation } from '../src/simulation/simulation.js';
import { buildCity } from '../src/simulation/world.js';
import { parseSeeds, runScript } from './args.js';

const USAGE = `usage: node dist/scripts/hub-hindsight.js [--seeds 1-10] [--iterations 100]
       [--scenario scenarios/dc-hub.yaml] [--model models/allocation-dc-hub] [--abandon-penalty MIN] [--set path=value]...
Per seed, evolution strategies over the hub MLP on that seed's day alone (in hindsight: not a
policy), keeping the best day found, and as many random perturbations of the start; paired
against srpt-energy. Prints a Markdown table.
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let scenario = 'scenarios/dc-hub.yaml';
  let model = 'models/allocation-dc-hub';
  let seeds = parseSeeds('1-10', 'hub-hindsight');
  let iterations = 100;
  let penaltyMin = 0;
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[++i];
    if (v === undefined) throw new UserError([`hub-hindsight: ${a} needs a value`]);
    if (a === '--scenario') scenario = v;
    else if (a === '--model') model = v;
    else if (a === '--seeds') seeds = parseSeeds(v, 'hub-hindsight');
    else if (a === '--iterations') iterations = Number(v);
    else if (a === '--abandon-penalty') penaltyMin = Number(v);
    else if (a === '--set') sets.push(v);
    else throw new UserError([`hub-hindsight: unknown option ${a} (allowed: --scenario, --model, --seeds, --iterations, --abandon-penalty, --set)`]);
  }
  if (!(Number.isInteger(iterations) && iterations >= 1)) throw new UserError([`hub-hindsight: --iterations: an integer >= 1 (got ${iterations})`]);
  if (!(penaltyMin >= 0)) throw new UserError([`hub-hindsight: --abandon-penalty: minutes >= 0 (got ${penaltyMin})`]);
  await initTf('cpu'); // only to read the model files; the MLP runs in float64 JavaScript
  const mlp0 = mlpOfModel(await loadModel(model));
  const sizes = mlp0.sizes;
  const P = mlpParamCount(sizes);
  const theta0 = new Float64Array(P);
  let o = 0;
  for (let k = 0; k < mlp0.w.length; k++) {
    theta0.set(mlp0.w[k]!, o);
    o += mlp0.w[k]!.length;
    theta0.set(mlp0.b[k]!, o);
    o += mlp0.b[k]!.length;
  }
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `${scenario}${sets.length ? ` (${sets.join(', ')})` : ''}, start ${model}, ${iterations} ES iterations per seed, seeds ${seeds.join(', ')}; searched for the lowest ${penaltyMin > 0 ? `time in system with each give-up counted ${penaltyMin} min more` : 'plain time in system'}; the table shows the plain time in system`,
    '',
    '| seed | srpt-energy: time in system, min | abandoned | start model | ES: best found on the day | abandoned | Δ vs srpt-energy | random perturbations of the start: mean ± sd | their best | Δ vs srpt-energy | days simulated |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const ref: number[] = [];
  const best: number[] = [];
  const rand: number[] = [];
  for (const seed of seeds) {
    const sc = loadScenario(scenario, { overrides: [...sets], seed });
    if (sc.demand.type !== 'hub') throw new UserError([`${scenario}: demand.type: needs a hub scenario (got ${sc.demand.type})`]);
    const city = await buildCity(sc);
    let days = 0;
    const day = (pol: AllocationBatchPolicy) => {
      days++;
      const h = new Simulation(sc, city, {}, undefined, { allocation: pol }).run().summary.hub!;
      const tis = h.meanTimeInSystemSeconds / 60;
      // what the search minimises: the plain mean, or with each give-up counted `penaltyMin` more
      return { tis, abandoned: h.abandoned, obj: h.arrivals ? tis + (penaltyMin * h.abandoned) / h.arrivals : 0 };
    };
    const srpt = day(allocationPolicyEntry('srpt-energy').create({ incrementKW: 1, energyBound: false }));
    const score = (th: Float64Array) => day(new HubAllocationPolicy(mlpFromParams(sizes, th)));
    const theta = Float64Array.from(theta0);
    const start = score(theta);
    let top = start;
    const adam = new EsAdam(P, 0.05);
    const cand = new Float64Array(P);
    for (let t = 1; t <= iterations; t++) {
      const rng = new Rng('hindsight', `${seed}/hindsight/${t}`);
      const { eps, fit } = await antitheticSample(theta, rng, 8, 0.1, (c) => {
        const r = score(c);
        if (r.obj < top.obj) top = r;
        return r.obj;
      });
      adam.step(theta, t, eps, fit, 0.1);
      const r = score(theta);
      if (r.obj < top.obj) top = r;
    }
    // the same number of days as plain random perturbations of the start (σ 0.1, no ES steps):
    // their spread is the day's sensitivity to small changes of the rule, their minimum what
    // selection alone finds
    const rngR = new Rng('hindsight', `${seed}/hindsight/random`);
    const nRand = iterations * 17;
    const rs: number[] = [];
    let topR = start;
    for (let j = 0; j < nRand; j++) {
      for (let i = 0; i < P; i++) cand[i] = theta0[i]! + 0.1 * rngR.normal();
      const r = score(cand);
      rs.push(r.tis);
      if (r.obj < topR.obj) topR = r;
    }
    const rm = meanCi(rs).mean;
    const rsd = Math.sqrt(rs.reduce((a, x) => a + (x - rm) ** 2, 0) / (rs.length - 1));
    ref.push(srpt.tis);
    rand.push(topR.tis);
    best.push(top.tis);
    const d = top.tis - srpt.tis;
    lines.push(`| ${seed} | ${f(srpt.tis)} | ${srpt.abandoned} | ${f(start.tis)} | ${f(top.tis)} | ${top.abandoned} | ${f(d)} (${((100 * d) / srpt.tis).toFixed(1)} %) | ${f(rm)} ± ${f(rsd)} | ${f(topR.tis)} | ${f(topR.tis - srpt.tis)} (${((100 * (topR.tis - srpt.tis)) / srpt.tis).toFixed(1)} %) | ${days} |`);
    process.stderr.write(`seed ${seed}: srpt-energy ${f(srpt.tis)}, best found ${f(top.tis)} min\n`);
  }
  const d = pairedDiff(best, ref);
  const dr = pairedDiff(rand, ref);
  const m = meanCi(ref).mean;
  const ci = (x: { lo: number; hi: number }) => (seeds.length > 1 ? ` [${f(x.lo)}, ${f(x.hi)}]` : ' (one seed: no CI)');
  lines.push(
    '',
    `Mean: srpt-energy ${f(m)} min; ES best found ${f(meanCi(best).mean)} min, paired Δ ${f(d.mean)}${ci(d)} min (${((100 * d.mean) / m).toFixed(1)} %); best random perturbation ${f(meanCi(rand).mean)} min, paired Δ ${f(dr.mean)}${ci(dr)} min (${((100 * dr.mean) / m).toFixed(1)} %).`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

await runScript(main);
