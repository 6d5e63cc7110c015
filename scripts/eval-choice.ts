/**
 * Paired evaluation of the station-choice policies (common random numbers: every policy runs the
 * same seeds, so the city day, fleet and demand are the same and only the choices differ).
 *
 *   npm run build && node dist/scripts/eval-choice.js [--model models/station-choice-monaco]
 *     [--seeds 1-10] [--backend wasm] [--case NAME=SCENARIO[:SET,SET...]]...
 *
 * Default cases: monaco, helsinki (held-out city), monaco with fleet.size=200 (uncongested).
 * Per run and session (sessions whose EV reached its station):
 *   travel + wait = travel to the station + (plug-in − arrival), or for an EV that gave up
 *   (leaving − arrival), or for one still queued at the horizon (horizon − arrival).
 * Per case: means over seeds for nearest, min-total-time, min-total-time-reserved and learned;
 * then the paired difference learned − best hand-written (best = lowest mean travel + wait over
 * the seeds) per seed with its mean and 95 % confidence interval (t-distribution, n − 1 df), for
 * travel + wait (min), abandoned sessions and demand met (%). Prints a Markdown table.
 */
import { meanCi } from '../src/core/stats.js';
import { loadChoicePolicy } from '../src/ai/choiceModel.js';
import { initTf, type TfBackendName } from '../src/ai/runtime.js';
import { SessionStatus } from '../src/charging/station.js';
import { runEpisode } from '../src/simulation/episodes.js';
import type { SimResult } from '../src/simulation/simulation.js';

const HAND = ['nearest', 'min-total-time', 'min-total-time-reserved'] as const;
const POLICIES = [...HAND, 'learned'] as const;

export interface RunMetrics {
  travelWaitMin: number;
  abandoned: number;
  demandMetPct: number;
  sessions: number;
  fragile: number;
  tied: number;
}

export function metricsOf(r: SimResult): RunMetrics {
  const horizon = r.summary.simulatedSeconds;
  let sum = 0;
  let n = 0;
  for (const s of r.sessions) {
    if (Number.isNaN(s.arrivedAt)) continue;
    const until = !Number.isNaN(s.pluggedAt) ? s.pluggedAt : s.status === SessionStatus.abandoned ? s.unpluggedAt : horizon;
    sum += (s.travelS > 0 ? s.travelS : 0) + (until - s.arrivedAt);
    n++;
  }
  const info = r.summary.policy.stationChoiceInfo;
  return {
    travelWaitMin: n ? sum / n / 60 : 0,
    abandoned: r.summary.sessions.abandoned,
    demandMetPct: r.summary.sessions.demandMetPct,
    sessions: r.summary.sessions.count,
    fragile: Number(info?.fragileDecisions ?? 0),
    tied: Number(info?.tiedDecisions ?? 0),
  };
}

interface Case {
  name: string;
  scenario: string;
  set: string[];
}

function parseArgs(argv: string[]): { model: string; seeds: number[]; backend: TfBackendName; cases: Case[] } {
  let model = 'models/station-choice-monaco';
  let seeds = [1, 10];
  let backend: TfBackendName = 'wasm';
  const cases: Case[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1] ?? '';
    if (a === '--model') model = v;
    else if (a === '--seeds') seeds = v.split('-').map(Number);
    else if (a === '--backend') backend = v as TfBackendName;
    else if (a === '--case') {
      const [name, rest] = v.split('=');
      const [scenario, sets] = (rest ?? '').split(':');
      cases.push({ name: name!, scenario: scenario!, set: sets ? sets.split(',') : [] });
    } else continue;
    i++;
  }
  const [a, b] = seeds;
  if (!(Number.isInteger(a) && Number.isInteger(b) && a! <= b!)) {
    process.stderr.write(`--seeds: expected FIRST-LAST, e.g. 1-10 (got ${seeds.join('-')})\n`);
    process.exit(2);
  }
  const list = Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
  if (!cases.length) {
    cases.push(
      { name: 'monaco', scenario: 'scenarios/monaco.yaml', set: [] },
      { name: 'helsinki (held out)', scenario: 'scenarios/helsinki.yaml', set: [] },
      { name: 'monaco, 200 EVs (uncongested)', scenario: 'scenarios/monaco.yaml', set: ['fleet.size=200'] },
    );
  }
  return { model, seeds: list, backend, cases };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await initTf(args.backend);
  const f2 = (x: number) => x.toFixed(2);
  const lines: string[] = [];
  lines.push(`model ${args.model}, backend ${info.backend}, seeds ${args.seeds[0]}–${args.seeds[args.seeds.length - 1]} (${args.seeds.length})`, '');
  for (const c of args.cases) {
    const per: Record<string, RunMetrics[]> = {};
    for (const p of POLICIES) {
      per[p] = [];
      for (const seed of args.seeds) {
        const policy = p === 'learned' ? await loadChoicePolicy(args.model, info) : null;
        const r = await runEpisode(c.scenario, seed, [...c.set, ...(policy ? [] : [`policy.stationChoice=${p}`])], policy);
        per[p]!.push(metricsOf(r));
      }
      process.stderr.write(`${c.name}: ${p} done\n`);
    }
    const mean = (p: string, k: keyof RunMetrics) => per[p]!.reduce((a, m) => a + m[k], 0) / args.seeds.length;
    const best = [...HAND].sort((a, b) => mean(a, 'travelWaitMin') - mean(b, 'travelWaitMin'))[0]!;
    lines.push(`### ${c.name} (${c.scenario}${c.set.length ? ` --set ${c.set.join(' ')}` : ''})`, '');
    lines.push('| policy | travel + wait (min) | abandoned | demand met (%) | sessions |', '|---|---|---|---|---|');
    for (const p of POLICIES) lines.push(`| ${p}${p === best ? ' (best hand-written)' : ''} | ${f2(mean(p, 'travelWaitMin'))} | ${f2(mean(p, 'abandoned'))} | ${f2(mean(p, 'demandMetPct'))} | ${f2(mean(p, 'sessions'))} |`);
    lines.push('');
    const rows: [string, keyof RunMetrics][] = [
      ['travel + wait (min)', 'travelWaitMin'],
      ['abandoned sessions', 'abandoned'],
      ['demand met (pp)', 'demandMetPct'],
    ];
    lines.push(`| learned − ${best} (paired, per seed) | mean | 95 % CI | relative |`, '|---|---|---|---|');
    for (const [label, k] of rows) {
      const d = args.seeds.map((_, i) => per.learned![i]![k] - per[best]![i]![k]);
      const ci = meanCi(d);
      const rel = mean(best, k) !== 0 ? `${((100 * ci.mean) / mean(best, k)).toFixed(1)} %` : '–';
      lines.push(`| ${label} | ${f2(ci.mean)} | [${f2(ci.lo)}, ${f2(ci.hi)}] | ${rel} |`);
    }
    const mtt = args.seeds.map((_, i) => per.learned![i]!.travelWaitMin - per['min-total-time']![i]!.travelWaitMin);
    const cm = meanCi(mtt);
    lines.push(`| travel + wait vs min-total-time | ${f2(cm.mean)} | [${f2(cm.lo)}, ${f2(cm.hi)}] | ${((100 * cm.mean) / mean('min-total-time', 'travelWaitMin')).toFixed(1)} % |`);
    lines.push('', `learned: fragile decisions ${per.learned!.reduce((a, m) => a + m.fragile, 0)}, tied decisions ${per.learned!.reduce((a, m) => a + m.tied, 0)} over all seeds`, '');
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
