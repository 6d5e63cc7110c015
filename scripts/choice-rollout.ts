/**
 * How much could station choice alone change a congested day, knowing the day? The one-step
 * hindsight rollout of a hand-written policy (src/simulation/choiceRollout.ts) on each seed,
 * against that policy on the same seed (common random numbers), as the evaluation measures travel
 * + wait per session. The rollout is a real simulated schedule, so the best achievable figure lies
 * between the LP lower bound (`evsim evaluate`, bound) and the rollout's.
 *
 *   npm run build && node dist/scripts/choice-rollout.js [--scenario scenarios/monaco.yaml]
 *     [--seeds 1-5] [--base min-total-time] [--max-candidates N] [--passes N] [--set path=value]...
 *
 * Prints one Markdown row per seed and the mean paired difference with its 95 % CI (Student t,
 * n − 1 df). Cost: about (decisions × candidates) simulated days per seed; Monaco (1,000 EVs,
 * ~130 decisions): 10–25 s per seed on the 2-core machine.
 */
import { CHOICE_POLICY_NAMES } from '../src/charging/choice.js';
import { UserError } from '../src/core/errors.js';
import { meanCi, pairedDiff } from '../src/core/stats.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { choiceRollout } from '../src/simulation/choiceRollout.js';
import { EPISODE_OVERRIDES } from '../src/simulation/episodes.js';
import { buildCity } from '../src/simulation/world.js';
import { parseSeeds, runScript } from './args.js';

const USAGE = `usage: node dist/scripts/choice-rollout.js [--scenario scenarios/monaco.yaml] [--seeds 1-5]
       [--base min-total-time] [--max-candidates N] [--passes N] [--set path=value]...
The one-step hindsight rollout of a hand-written station-choice policy on each seed (each decision
in turn tries every candidate in a whole simulated day; it knows the day, so it bounds what station
choice can do, it is not a policy). Prints a Markdown table: travel + wait per session, base vs
rollout, and the mean paired difference with its 95 % CI. Cost: about decisions × candidates
simulated days per seed. --passes N (default 1) adds up to N − 1 passes of hindsight local search
over the day's choices (each decision tries every other candidate with all others as they stand),
each about as costly as the first; it stops when a pass changes nothing.
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let scenario = 'scenarios/monaco.yaml';
  let seeds = parseSeeds('1-5', 'choice-rollout');
  let base = 'min-total-time';
  let maxCandidates = Infinity;
  let passes = 1;
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[++i];
    if (v === undefined) throw new UserError([`choice-rollout: ${a} needs a value`]);
    if (a === '--scenario') scenario = v;
    else if (a === '--seeds') seeds = parseSeeds(v, 'choice-rollout');
    else if (a === '--base') base = v;
    else if (a === '--max-candidates') maxCandidates = Number(v);
    else if (a === '--passes') passes = Number(v);
    else if (a === '--set') sets.push(v);
    else throw new UserError([`choice-rollout: unknown option ${a} (allowed: --scenario, --seeds, --base, --max-candidates, --passes, --set)`]);
  }
  if (!(CHOICE_POLICY_NAMES as readonly string[]).includes(base)) throw new UserError([`choice-rollout: --base ${base}: a hand-written policy (${CHOICE_POLICY_NAMES.join(' | ')})`]);
  if (!(maxCandidates >= 1)) throw new UserError([`choice-rollout: --max-candidates: a number >= 1`]);
  if (!(Number.isInteger(passes) && passes >= 1)) throw new UserError([`choice-rollout: --passes: an integer >= 1 (got ${passes})`]);
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `${scenario}${sets.length ? ` (${sets.join(', ')})` : ''}, base policy ${base}, seeds ${seeds.join(', ')}${Number.isFinite(maxCandidates) ? `, first ${maxCandidates} candidates` : ''}${passes > 1 ? `, up to ${passes} passes` : ''}`,
    '',
    '| seed | decisions | base: travel + wait, min | rollout | Δ | Δ % | abandoned (base → rollout) | decisions changed | days simulated | after each pass |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const b: number[] = [];
  const r: number[] = [];
  for (const seed of seeds) {
    const sc = loadScenario(scenario, { overrides: [...EPISODE_OVERRIDES, ...sets, `policy.stationChoice=${base}`], seed });
    const city = await buildCity(sc);
    const res = choiceRollout(sc, city, base, { maxCandidates, passes });
    b.push(res.base.travelWaitMin);
    r.push(res.rollout.travelWaitMin);
    const d = res.rollout.travelWaitMin - res.base.travelWaitMin;
    lines.push(
      `| ${seed} | ${res.base.decisions} | ${f(res.base.travelWaitMin)} | ${f(res.rollout.travelWaitMin)} | ${f(d)} | ${((100 * d) / res.base.travelWaitMin).toFixed(1)} % | ${res.base.abandoned} → ${res.rollout.abandoned} | ${res.changed} | ${res.days} | ${res.passes.map(f).join(' → ')} |`,
    );
    process.stderr.write(`seed ${seed}: ${f(res.base.travelWaitMin)} → ${f(res.rollout.travelWaitMin)} min\n`);
  }
  const d = pairedDiff(r, b);
  const mb = meanCi(b).mean;
  lines.push('', `Mean: base ${f(mb)}, rollout ${f(meanCi(r).mean)} min; paired Δ ${f(d.mean)}${seeds.length > 1 ? ` [${f(d.lo)}, ${f(d.hi)}]` : ' (one seed: no CI)'} min (${((100 * d.mean) / mb).toFixed(1)} % of the base's mean).`);
  process.stdout.write(lines.join('\n') + '\n');
}

await runScript(main);
