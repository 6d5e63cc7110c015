/**
 * Paired evaluation of the station-choice policies: a thin wrapper around `evsim evaluate`
 * (src/simulation/evaluate.ts) for ad-hoc cases from the command line; prints evaluation.md.
 * For the shipped matrix use `evsim evaluate` (evaluation/default.yaml).
 *
 *   npm run build && node dist/scripts/eval-choice.js [--model models/station-choice-monaco]
 *     [--seeds 1-10] [--backend wasm] [--case NAME=SCENARIO[:SET,SET...]]...
 *
 * Default cases: monaco, helsinki (held-out city), monaco with fleet.size=200 (uncongested).
 * Policies: nearest, min-total-time, min-total-time-reserved and learned; reference = the
 * hand-written one with the lowest mean travel + wait. Metrics and statistics: docs/evaluation.md.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../src/core/errors.js';
import { evaluationMd, runEvaluation } from '../src/simulation/evaluate.js';
import { evalConfigFrom } from '../src/simulation/evaluateConfig.js';

function parseArgs(argv: string[]): Record<string, unknown> {
  let model = 'models/station-choice-monaco';
  let seeds = '1-10';
  let backend = 'wasm';
  const cases: Record<string, unknown>[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1] ?? '';
    if (a === '--model') model = v;
    else if (a === '--seeds') seeds = v;
    else if (a === '--backend') backend = v;
    else if (a === '--case') {
      const eq = v.indexOf('=');
      const rest = eq < 0 ? '' : v.slice(eq + 1);
      const colon = rest.indexOf(':');
      const scenario = colon < 0 ? rest : rest.slice(0, colon);
      const sets = colon < 0 ? '' : rest.slice(colon + 1);
      cases.push({ name: eq < 0 ? v : v.slice(0, eq), kind: 'choice', scenario, set: sets ? sets.split(',') : [] });
    } else continue;
    i++;
  }
  if (!cases.length) {
    cases.push(
      { name: 'monaco', kind: 'choice', scenario: 'scenarios/monaco.yaml' },
      { name: 'helsinki', kind: 'choice', scenario: 'scenarios/helsinki.yaml', heldOutCity: true },
      { name: 'monaco-200', kind: 'choice', scenario: 'scenarios/monaco.yaml', set: ['fleet.size=200'], uncongested: true },
    );
  }
  return {
    name: 'eval-choice',
    seeds,
    tfBackend: backend,
    policies: { choice: { hand: ['nearest', 'min-total-time', 'min-total-time-reserved'], learned: { model, training: ['training/station-choice.yaml', 'training/station-choice-regression.yaml'] } } },
    cases,
  };
}

try {
  const raw = parseArgs(process.argv.slice(2));
  const cfg = evalConfigFrom(raw, 'eval-choice arguments', process.cwd(), createHash('sha256').update(JSON.stringify(raw)).digest('hex'));
  const r = await runEvaluation(cfg, { onRun: (label, i, n) => void process.stderr.write(`${i}/${n} ${label}\n`) });
  process.stdout.write(evaluationMd(r));
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  for (const l of e.lines) process.stderr.write(`${l}\n`);
  process.exitCode = 2;
}
