/**
 * The `evsim` command line: run, validate, schema.
 * User errors print one line per problem and exit with code 2; nothing else prints a stack trace
 * unless EVSIM_DEBUG=1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildCity } from '../simulation/world.js';
import { comparisonMarkdown, writeComparison, writeResults } from '../output/output.js';
import { LedgerLoadRun } from '../simulation/ledgerLoad.js';
import { loadScenario, scenarioJsonSchema, UserError, type Scenario } from '../scenario/scenario.js';
import { SHIPPED_STACK_NAMES } from '../ledger/stacks.js';
import { Simulation, type Summary } from '../simulation/simulation.js';

/** The package root (where package.json named evsim is), from this file's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'evsim') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export const DEFAULT_SCENARIO = 'scenarios/monaco.yaml';

const wallNow = () => performance.now() / 1000; // wall-clock ok: timing.json and progress only

function fmt(n: number, d = 1): string {
  return Number.isFinite(n) ? n.toFixed(d) : '-';
}

export function summaryTable(s: Summary, cityOnly = false): string {
  const rows: [string, string][] = [
    ['scenario', `${s.scenario} (seed ${s.seed}, ${fmt(s.simulatedSeconds / 3600, 1)} h simulated)`],
    ['city', Object.entries(s.city).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['fleet', `${s.fleet.size} EVs, ${s.fleet.trips} trips, ${s.fleet.stranded} stranded, ${s.fleet.noStationReachable} without reachable station`],
    ['stations', `${s.stations.count} stations, ${s.stations.chargers} chargers, utilisation ${fmt(s.stations.utilizationPct)} %, peak ${fmt(s.stations.peakKW)} kW`],
    ['sessions', `${s.sessions.count} (completed ${s.sessions.completed}, abandoned ${s.sessions.abandoned}, incomplete ${s.sessions.incomplete})`],
    ['wait', `mean ${fmt(s.sessions.meanWaitSeconds / 60)} min, p95 ${fmt(s.sessions.p95WaitSeconds / 60)} min`],
    ['travel to station', `mean ${fmt(s.sessions.meanTravelToStationSeconds / 60)} min`],
    ['energy', `${fmt(s.sessions.energyDeliveredKWh)} of ${fmt(s.sessions.energyRequestedKWh)} kWh requested (${fmt(s.sessions.demandMetPct)} %)`],
    ['policy', `choice ${s.policy.stationChoice}, allocation ${s.policy.allocation}`],
    ...(cityOnly
      ? []
      : s.ledger.backends.map(
          (b) =>
            [
              `ledger ${b.role}`,
              `${b.backend}: ${b.submitted} submitted, ${b.confirmed} final, ${b.failed} failed, latency p50 ${fmt(b.latencySeconds.p50, 3)} s p99 ${fmt(b.latencySeconds.p99, 3)} s; audit ${s.ledger.auditProblems === 0 ? 'ok' : `${s.ledger.auditProblems} problem(s)`}`,
            ] as [string, string],
        )),
    ['events', `${s.events}`],
  ];
  if (cityOnly) rows[0]![1] += ' — city figures of the first stack; the ledgers below';
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

class Progress {
  private last = 0;
  private shown = false;
  private readonly t0 = wallNow();
  constructor(
    private readonly enabled: boolean,
    private readonly label = '',
  ) {}
  update(sim: number, horizon: number, events: number): void {
    if (!this.enabled) return;
    const now = wallNow();
    const el = now - this.t0;
    if (el < 2 || now - this.last < 0.25) return; // only for runs longer than a couple of seconds
    this.last = now;
    this.shown = true;
    const f = horizon > 0 ? sim / horizon : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.');
    const eta = f > 0 ? (el * (1 - f)) / f : 0;
    process.stderr.write(
      `\r${this.label}[${bar}] ${fmt(100 * f, 0).padStart(3)}%  sim ${fmt(sim / 3600, 1)} h  ${fmt(events / el / 1e6, 2)} M events/s  ETA ${fmt(eta, 0)} s `,
    );
  }
  done(): void {
    if (this.shown) process.stderr.write('\n');
  }
}

export interface RunOutcome {
  summaries: Summary[];
  outDir: string;
  /** files written, relative to outDir */
  files: string[];
}

/**
 * Run a scenario once per ledger stack on the same city (built once), with the same seeds: one
 * results folder per stack (DIR/<stack>/) plus comparison.csv/.md when there are several stacks,
 * or the results directly in DIR for a single stack.
 */
export async function runScenario(sc: Scenario, outDir: string, quiet: boolean): Promise<RunOutcome> {
  const t0 = wallNow();
  const city = sc.demand.type === 'load' ? null : await buildCity(sc); // load: ledger only, no city
  const t1 = wallNow();
  const multi = sc.stacks.length > 1;
  const summaries: Summary[] = [];
  const files: string[] = [];
  for (const stack of sc.stacks) {
    const s0 = wallNow();
    const sim = city === null ? new LedgerLoadRun(sc, stack) : new Simulation(sc, city, {}, stack);
    const label = multi ? `${stack.name} ` : '';
    const progress = new Progress(!quiet && process.stderr.isTTY === true, label);
    const s1 = wallNow();
    const result = sim.run({ onProgress: (t, h, e) => progress.update(t, h, e) });
    progress.done();
    const s2 = wallNow();
    const dir = multi ? join(outDir, stack.name) : outDir;
    const written = writeResults(dir, result, () => {
      const s3 = wallNow();
      return {
        note: 'wall-clock figures; they vary from run to run and are kept out of every other results file',
        stack: stack.name,
        wallSeconds: { total: s3 - s0 + (t1 - t0), city: t1 - t0, setup: s1 - s0, run: s2 - s1, write: s3 - s2 },
        events: result.summary.events,
        eventsPerSecond: result.summary.events / Math.max(1e-9, s2 - s1),
        ledgerWallClock: sim.ledgerWallClock(),
        peakRssMB: process.resourceUsage().maxRSS / 1024,
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        cpu: os.cpus()[0]?.model ?? 'unknown',
      };
    });
    for (const f of written) files.push(multi ? `${stack.name}/${f}` : f);
    summaries.push(result.summary);
  }
  if (multi) files.push(...writeComparison(outDir, summaries));
  return { summaries, outDir, files };
}

function collectSets(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export async function main(argv: string[]): Promise<number> {
  const root = packageRoot();
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('evsim')
    .usage('$0 <command> [options]')
    .command(
      'run [file]',
      'run a scenario and write results',
      (y) =>
        y
          .positional('file', { type: 'string', describe: `scenario file (default: ${DEFAULT_SCENARIO})` })
          .option('out', { type: 'string', describe: 'output folder (default: results/<scenario name>/)' })
          .option('seed', { type: 'number', describe: 'override the scenario seed' })
          .option('set', { type: 'string', describe: 'override a field: --set fleet.size=500 (repeatable)' })
          .option('ledger', { type: 'string', describe: 'ledger stacks to compare: all, or a comma-separated list (none,central,pow,nakamoto,qbft)' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar and no summary table' }),
      async (args) => {
        const file = args.file ?? join(root, DEFAULT_SCENARIO);
        if (args.seed !== undefined && (!Number.isInteger(args.seed) || args.seed < 0)) {
          throw new UserError([`--seed: must be an integer >= 0 (got ${String(args.seed)})`]);
        }
        const sets = collectSets(args.set);
        if (args.ledger !== undefined) {
          const v = String(args.ledger).trim();
          if (v !== 'all') {
            const names = v.split(',').map((x) => x.trim());
            const bad = names.filter((x) => !SHIPPED_STACK_NAMES.includes(x));
            if (bad.length || names.length === 0) {
              throw new UserError([`--ledger: unknown stack ${JSON.stringify(bad[0] ?? v)}; allowed: all, or a comma-separated list of ${SHIPPED_STACK_NAMES.join(', ')} (inline stacks go in the scenario's ledger.stacks)`]);
            }
          }
          sets.push(v === 'all' ? 'ledger.stacks=all' : `ledger.stacks=[${v}]`);
        }
        const sc = loadScenario(file, { overrides: sets, seed: args.seed });
        const outDir = resolve(args.out ?? join('results', sc.name));
        const r = await runScenario(sc, outDir, args.quiet);
        if (!args.quiet) {
          if (r.summaries.length === 1) process.stdout.write(`${summaryTable(r.summaries[0]!)}\n`);
          else process.stdout.write(`${summaryTable(r.summaries[0]!, true)}\n\n${comparisonMarkdown(r.summaries)}`);
          process.stdout.write(`  results: ${r.outDir}/ (${r.files.length} files${r.summaries.length > 1 ? ', comparison.md' : ''})\n`);
        }
        for (const s of r.summaries) {
          if (s.ledger.auditProblems > 0) {
            process.stderr.write(`evsim: integrity audit of stack ${s.ledger.stack} found ${s.ledger.auditProblems} problem(s): ${s.ledger.audit[0]}\n`);
            exitCode = 3;
          }
        }
      },
    )
    .command(
      'validate <file>',
      'check a scenario file and print every problem',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('set', { type: 'string', describe: 'override a field (validated too; repeatable)' }),
      (args) => {
        const sc = loadScenario(args.file, { overrides: collectSets(args.set) });
        process.stdout.write(`${args.file}: ok (scenario ${sc.name}, ${sc.demand.type} demand, ${sc.city.type} city)\n`);
      },
    )
    .command('schema', 'print the JSON Schema of scenario files', {}, () => {
      process.stdout.write(JSON.stringify(scenarioJsonSchema(), null, 2) + '\n');
    })
    .demandCommand(1, 'name a command: run, validate or schema')
    .strictCommands()
    .strictOptions()
    .help()
    .version(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError([`evsim: ${msg}`]);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    if (e instanceof UserError) {
      for (const l of e.lines) process.stderr.write(`${l}\n`);
      exitCode = e.exitCode;
    } else {
      process.stderr.write(`evsim: internal error: ${(e as Error).message}\n`);
      if (process.env.EVSIM_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      exitCode = 1;
    }
  }
  return exitCode;
}

const isMain = process.argv[1] && resolve(process.argv[1]).replace(/\.ts$/, '.js') === fileURLToPath(import.meta.url).replace(/\.ts$/, '.js');
if (isMain) {
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
