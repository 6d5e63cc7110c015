/**
 * Paired evaluation of the allocation policies on the DC fast-charging hub (common random
 * numbers: every policy runs the same seeds, so arrivals, models and states of charge are the
 * same and only the allocation differs).
 *
 *   npm run build && node dist/scripts/eval-hub.js [--scenario scenarios/dc-hub.yaml]
 *     [--seeds 1-20] [--policies fcfs,equal-share,...,learned] [--model models/allocation-dc-hub]
 *     [--set path=value]...
 *
 * Per policy: mean over seeds of the hub's mean time in system (every arrival: served, gave up,
 * or still there at the horizon; summary.json `hub`), mean wait, abandoned EVs. Then, against the
 * best hand-written policy (lowest mean time in system over the seeds), the paired difference per
 * seed with its mean and 95 % CI (Student t, n − 1 df; src/core/stats.ts). Prints Markdown.
 * Evaluation seeds are 1–100; the hub trainer refuses them (training/allocation-dc-hub.yaml).
 */
import { loadLearnedParts } from '../src/ai/allocation.js';
import { UserError } from '../src/core/errors.js';
import { meanCi, pairedDiff } from '../src/core/stats.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { Simulation } from '../src/simulation/simulation.js';
import { buildCity } from '../src/simulation/world.js';
import { parseSeeds, runScript } from './args.js';

const HAND = ['fcfs', 'equal-share', 'llf', 'edf', 'need-proportional', 'srpt-energy', 'max-acceptance', 'srpt'];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let scenario = 'scenarios/dc-hub.yaml';
  let seeds = parseSeeds('1-20', 'eval-hub');
  let policies = [...HAND, 'learned'];
  let model = 'models/allocation-dc-hub';
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[++i];
    if (v === undefined) throw new UserError([`eval-hub: ${a} needs a value`]);
    if (a === '--scenario') scenario = v;
    else if (a === '--seeds') seeds = parseSeeds(v, 'eval-hub');
    else if (a === '--policies') policies = v.split(',');
    else if (a === '--model') model = v;
    else if (a === '--set') sets.push(v);
    else throw new UserError([`eval-hub: unknown option ${a} (allowed: --scenario, --seeds, --policies, --model, --set)`]);
  }
  const tis: Record<string, number[]> = {};
  const wait: Record<string, number[]> = {};
  const ab: Record<string, number[]> = {};
  for (const p of policies) {
    tis[p] = [];
    wait[p] = [];
    ab[p] = [];
    for (const seed of seeds) {
      const over = [...sets, `policy.allocation=${p}`];
      if (p === 'learned') over.push(`policy.models.allocation=${model.startsWith('/') ? model : `../${model}`}`);
      const sc = loadScenario(scenario, { overrides: over, seed });
      const parts = await loadLearnedParts(sc);
      const city = await buildCity(sc);
      const r = new Simulation(sc, city, {}, undefined, parts).run();
      const h = r.summary.hub!;
      tis[p]!.push(h.meanTimeInSystemSeconds / 60);
      wait[p]!.push(h.meanWaitAllSeconds / 60);
      ab[p]!.push(h.abandoned);
    }
    process.stderr.write(`${p}: ${meanCi(tis[p]!).mean.toFixed(2)} min\n`);
  }
  const hand = policies.filter((p) => p !== 'learned');
  const best = hand.reduce((a, b) => (meanCi(tis[b]!).mean < meanCi(tis[a]!).mean ? b : a));
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `${scenario}${sets.length ? ` (${sets.join(', ')})` : ''}, seeds ${seeds[0]}–${seeds[seeds.length - 1]} (${seeds.length}); best hand-written: ${best}`,
    '',
    '| policy | time in system, min [95 % CI] | wait, min | abandoned | Δ time in system vs best [95 % CI] | Δ % | Δ abandoned [95 % CI] |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const p of policies) {
    const m = meanCi(tis[p]!);
    const d = pairedDiff(tis[p]!, tis[best]!);
    const da = pairedDiff(ab[p]!, ab[best]!);
    const rel = (100 * d.mean) / meanCi(tis[best]!).mean;
    lines.push(
      `| ${p} | ${f(m.mean)} [${f(m.lo)}, ${f(m.hi)}] | ${f(meanCi(wait[p]!).mean)} | ${f(meanCi(ab[p]!).mean)} | ` +
        (p === best ? '— | — | — |' : `${f(d.mean)} [${f(d.lo)}, ${f(d.hi)}] | ${rel >= 0 ? '+' : ''}${rel.toFixed(1)} % | ${f(da.mean)} [${f(da.lo)}, ${f(da.hi)}] |`),
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await runScript(main);
