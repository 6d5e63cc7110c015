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
import { loadChoicePolicy } from '../src/ai/choiceModel.js';
import { initTf, type TfBackendName } from '../src/ai/runtime.js';
import { SessionStatus } from '../src/charging/station.js';
import { runEpisode } from '../src/simulation/episodes.js';
import type { SimResult } from '../src/simulation/simulation.js';

const HAND = ['nearest', 'min-total-time', 'min-total-time-reserved'] as const;
const POLICIES = [...HAND, 'learned'] as const;

/** two-sided 95 % t quantiles for 1..30 degrees of freedom */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export function t975(df: number): number {
  return df <= 30 ? T975[df - 1]! : 1.96;
}

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

function meanCi(d: number[]): { mean: number; lo: number; hi: number } {
  const n = d.length;
  const m = d.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)) : 0;
  const h = n > 1 ? (t975(n - 1) * sd) / Math.sqrt(n) : NaN;
  return { mean: m, lo: m - h, hi: m + h };
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
