/**
 * The `evsim` command line: run, validate, schema.
 * Exit codes: 0 ok; 1 internal error (stack trace only with EVSIM_DEBUG=1); 2 bad input, one line
 * per problem naming the file or option, the field and what is allowed; 3 a ledger's integrity
 * audit found problems; 130 interrupted (SIGINT/SIGTERM), nothing saved. A run owns its results
 * folder (src/output/folder.ts): checked first, written into a temporary sibling, swapped in whole.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isSafeName, SAFE_NAME_RULE } from '../core/names.js';
import { buildCity } from '../simulation/world.js';
import type { StationChoicePolicy } from '../charging/choice.js';
import { writeComparison, writeManifest, writeResults } from '../output/output.js';
import { loadParquetWriter } from '../output/parquet.js';
import { abortOut, commitOut, prepareOut } from '../output/folder.js';
import { scenarioHash, type ManifestIdentity } from '../output/manifest.js';
import { comparisonCsv, comparisonTable, compareSides, DEFAULT_SPEC, loadCompareSpec, loadSide } from '../output/compare.js';
import { LedgerLoadRun } from '../simulation/ledgerLoad.js';
import { formatRegistries } from '../simulation/registries.js';
import { optimumText, scenarioOptimum } from '../simulation/optimumRun.js';
import { loadScenario, resolveScenarioPath, scenarioJsonSchema, UserError, type Scenario } from '../scenario/scenario.js';
import type { DayForecaster } from '../charging/gridLoad.js';
import { SHIPPED_STACK_NAMES, SHIPPED_STACKS } from '../ledger/stacks.js';
import { preflight } from '../scenario/estimate.js';
import { Simulation, type Summary } from '../simulation/simulation.js';
import { comparisonText } from './present.js';
import type { AllocationBatchPolicy } from '../charging/allocationBatch.js';
import type { AiSummary } from '../ai/allocation.js';
import { ProgressView, progressMode } from './progress.js';
import { cityJson, GeometryRecorder } from '../report/geometry.js';
import { CITY_JSON, REPORT_FILE } from '../report/files.js';
import { writeFileAtomic } from '../output/output.js';
import { assertInside } from '../output/folder.js';
import type { CityCacheOptions } from '../simulation/cityCache.js';
import { registerSweep } from './sweepCommand.js';

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

export function summaryTable(s: Summary, cityOnly = false, width = 100): string {
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
    ...mobileRows(s),
    ['events', `${s.events}`],
  ];
  if (cityOnly) rows[0]![1] += ' — city figures of the first stack; the ledgers below';
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => wrapValue(`  ${k.padEnd(w)}  `, v, width)).join('\n');
}

/** The mobile chargers' lines (scenario block `mobile` only; docs/mobile.md). */
function mobileRows(s: Summary): [string, string][] {
  const m = s.mobile;
  if (!m) return [];
  return [
    ['mobile chargers', `${m.vans} vans in ${m.groups} groups (${m.dispatch}): ${m.requests} requests, ${m.served} served, ${m.abandoned} abandoned, response mean ${fmt(m.meanResponseSeconds / 60)} min, utilisation ${fmt(m.vanUtilizationPct)} %`],
    ['lightweight chain', `${m.chain.blocks} blocks, ${m.chain.rejectedBlocks} rejected, ${m.chain.compactions} compactions; stored: parent ${m.storage.parentMeanBytes} B, SPV member ${m.storage.spvMeanBytes} B (means), provider ${m.storage.providerLiveBytes + m.storage.providerArchiveBytes} B; billing ${m.billing.problems === 0 && m.auditProblems === 0 ? 'ok' : `${m.billing.problems + m.auditProblems} problem(s)`}`],
  ];
}

/** `head` + `value`, wrapped after ", " or "; " so no line is longer than `width` (when possible). */
export function wrapValue(head: string, value: string, width = 100): string {
  const room = Math.max(20, width - head.length);
  const parts = value.split(/(?<=[,;] )/);
  const lines: string[] = [];
  let cur = '';
  for (const p of parts) {
    if (cur && (cur + p).trimEnd().length > room) {
      lines.push(cur.trimEnd());
      cur = p;
    } else cur += p;
  }
  lines.push(cur.trimEnd());
  const pad = ' '.repeat(head.length);
  return lines.map((l, i) => (i === 0 ? head : pad) + l).join('\n');
}

export interface RunOutcome {
  summaries: Summary[];
  outDir: string;
  /** files written, relative to outDir */
  files: string[];
}

/** Set by SIGINT/SIGTERM; the run stops at the next check (between chunks of simulated time or stacks). */
export interface AbortFlag {
  signal: string | null;
}

export interface RunOptions {
  progress?: ProgressView;
  abort?: AbortFlag;
  /** one-line notices (removed leftovers); default: stderr */
  notice?: (line: string) => void;
  /** where a --set was applied, for messages: "file (with --set)" */
  where?: string;
  /** write city.json (the replay's geometry) and report.html with the results (`run --report`) */
  report?: boolean;
  /** load / store the built city in this cache (src/simulation/cityCache.ts); default: no cache */
  cityCache?: CityCacheOptions;
}

class Interrupted extends Error {}

/** Let pending signal handlers run (the simulation itself never yields). */
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export const SEED_MAX = 2 ** 32 - 1;

/** Names used as path segments: the scenario name (results/<name>/) and every stack name. */
export function nameProblems(sc: Scenario, where: string = sc.file): string[] {
  const bad: string[] = [];
  if (!isSafeName(sc.name)) bad.push(`${where}: name: must be a safe folder name: ${SAFE_NAME_RULE} (got ${JSON.stringify(sc.name)})`);
  sc.stacks.forEach((s, i) => {
    if (!isSafeName(s.name)) bad.push(`${where}: ledger.stacks[${i}].name: must be a safe folder name: ${SAFE_NAME_RULE} (got ${JSON.stringify(s.name)})`);
  });
  return bad;
}

export function evsimVersion(root: string): string {
  return String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
}

/**
 * Run a scenario once per ledger stack on the same city (built once), with the same seeds: one
 * results folder per stack (DIR/<stack>/) plus comparison.csv/.md when there are several stacks,
 * or the results directly in DIR for a single stack. Every stack is set up once before any runs
 * (a bad parameter fails before anything is simulated); everything is written into a temporary
 * folder that replaces DIR as a whole at the end (see src/output/folder.ts).
 */
export async function runScenario(sc: Scenario, outArg: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const where = opts.where ?? sc.file;
  const names = nameProblems(sc, where);
  if (names.length) throw new UserError(names);
  const progress = opts.progress ?? new ProgressView('off');
  const abort = opts.abort ?? { signal: null };
  const notice = opts.notice ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const root = packageRoot();
  const multi = sc.stacks.length > 1;
  const folder = prepareOut(outArg, multi ? 'comparison' : 'run', (l) => {
    progress.clear();
    notice(l);
  });
  const id: ManifestIdentity = { evsimVersion: evsimVersion(root), scenarioName: sc.name, scenarioSha256: scenarioHash(sc, root), seed: sc.seed, models: {} };
  const completed: string[] = [];
  let during = 'the city build';
  const check = () => {
    if (abort.signal) throw new Interrupted(abort.signal);
  };
  try {
    const summaries: Summary[] = [];
    const files: string[] = [];
    progress.phase(`building the city (${sc.city.type}${sc.city.type === 'osm' ? ` ${sc.city.file}` : ''})`);
    await yieldToEventLoop();
    check();
    const t0 = wallNow();
    // load: ledger only, no city; each phase of the build is shown and lets a signal in
    const city =
      sc.demand.type === 'load'
        ? null
        : await buildCity(sc, async (phase) => {
            progress.phase(`building the city: ${phase}`);
            await yieldToEventLoop();
            check();
          }, opts.cityCache);
    const t1 = wallNow();
    // learned policies: load their models (a missing or corrupt model is a user error)
    const learned = await learnedParts(sc);
    for (const [k, v] of Object.entries(learned.ai?.models ?? {})) id.models[k] = v.sha256;
    if (sc.policy.stationChoice === 'learned' || sc.policy.allocation === 'learned') Object.assign(id.models, await learnedModelHashes(sc));
    // set every stack up before running any: a bad parameter fails before anything is simulated
    progress.phase('setting up the ledger stacks');
    sc.stacks.forEach((stack, i) => {
      try {
        if (city === null) new LedgerLoadRun(sc, stack);
        else new Simulation(sc, city, {}, stack, learned);
      } catch (e) {
        if (e instanceof RangeError) throw new UserError([`${where}: ledger.stacks[${i}] (${stack.name}): ${e.message}`]);
        throw e;
      }
    });
    for (const [i, stack] of sc.stacks.entries()) {
      during = `the start of stack ${stack.name} (${i + 1} of ${sc.stacks.length})`;
      await yieldToEventLoop();
      check();
      during = `stack ${stack.name} (${i + 1} of ${sc.stacks.length})`;
      progress.stack(i + 1, sc.stacks.length, stack.name);
      const s0 = wallNow();
      // fresh learned policies per stack (a learned choice counts its decisions per run)
      // city.json (--report or output.geometry): a read-only observer of the fleet's positions
      const geometry = city !== null && (opts.report || sc.output.geometry === true) ? new GeometryRecorder() : null;
      const sim = city === null ? new LedgerLoadRun(sc, stack) : new Simulation(sc, city, geometry ?? {}, stack, i === 0 ? learned : await learnedParts(sc));
      if (geometry && sim instanceof Simulation) geometry.attach(sim);
      const s1 = wallNow();
      const result = await sim.runAsync({
        onProgress: (t, h, e) => {
          progress.update(t, h, e);
          check();
        },
      });
      const s2 = wallNow();
      const dir = multi ? join(folder.tmp, stack.name) : folder.tmp;
      if (sc.output.parquet) await loadParquetWriter();
      const written = writeResults(
        dir,
        result,
        () => {
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
        },
        folder.tmp,
        { parquet: sc.output.parquet },
      );
      if (geometry && city) {
        writeFileAtomic(assertInside(folder.tmp, join(dir, CITY_JSON)), cityJson(geometry.geometry(city)));
        written.push(CITY_JSON);
      }
      writeManifest(dir, multi ? 'comparison-stack' : 'run', id, written, { stack: stack.name }, folder.tmp);
      written.push('manifest.json');
      for (const f of written) files.push(multi ? `${stack.name}/${f}` : f);
      summaries.push(result.summary);
      completed.push(stack.name);
    }
    if (multi) {
      const top = writeComparison(folder.tmp, summaries, folder.tmp);
      writeManifest(folder.tmp, 'comparison', id, top, { stacks: sc.stacks.map((s) => s.name) }, folder.tmp);
      files.push(...top, 'manifest.json');
    }
    if (opts.report) {
      // the report of the complete folder, inside it, swapped in with the rest (not in the manifest)
      during = 'the report';
      progress.phase('writing the report');
      const { writeReport } = await import('../report/report.js'); // vega loads only when a report is written
      await writeReport(folder.tmp, join(folder.tmp, REPORT_FILE));
      files.push(REPORT_FILE);
    }
    during = 'the last write';
    await yieldToEventLoop();
    check();
    progress.clear();
    commitOut(folder);
    return { summaries, outDir: folder.out, files };
  } catch (e) {
    progress.clear();
    abortOut(folder);
    if (e instanceof Interrupted) {
      const kept = folder.before === 'nothing' ? `${folder.out} was not created` : `${folder.out} is unchanged`;
      throw new UserError(
        [`evsim: interrupted by ${e.message} at ${during}; completed: ${completed.length ? completed.join(', ') : 'nothing'}; nothing was saved (${kept})`],
        130,
      );
    }
    throw e;
  }
}

/** Shipped stacks for `run --help`: name and description (or the records/payments pair). */
export function stacksHelp(): string {
  const w = Math.max(...SHIPPED_STACKS.map((s) => s.name.length));
  const lines = SHIPPED_STACKS.map((s) => {
    const d = (s as { description?: unknown }).description;
    const text = typeof d === 'string' && d.trim() ? d.trim() : `records on ${s.records.backend}, payments on ${s.payments.backend}`;
    // wrapped with a hanging indent inside 78 columns, so the help's own wrapping leaves it alone
    const indent = ' '.repeat(w + 4);
    const out: string[] = [];
    let line = `  ${s.name.padEnd(w)}  `;
    for (const word of text.split(/\s+/)) {
      if (line.length + word.length > 78 && line.trim().length > 0 && line.length > indent.length) {
        out.push(line.trimEnd());
        line = indent;
      }
      line += `${word} `;
    }
    out.push(line.trimEnd());
    return out.join('\n');
  });
  return `Shipped ledger stacks (--ledger, or ledger.stacks in the scenario):\n${lines.join('\n')}`;
}

let pipesGuarded = false;
/** A reader that goes away early (`evsim schema | head -1`) ends the output quietly: no EPIPE trace. */
export function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}

function collectSets(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** The learned parts a scenario names (TF.js is loaded only when one is named). */
async function learnedParts(sc: Scenario): Promise<{ allocation?: AllocationBatchPolicy; stationChoice?: StationChoicePolicy; ai?: AiSummary; loadForecaster?: DayForecaster }> {
  const out: { allocation?: AllocationBatchPolicy; stationChoice?: StationChoicePolicy; ai?: AiSummary; loadForecaster?: DayForecaster } = {};
  if (sc.policy.allocation === 'learned') {
    const { loadLearnedParts } = await import('../ai/allocation.js');
    Object.assign(out, await loadLearnedParts(sc));
  }
  if (sc.policy.stationChoice === 'learned') {
    const { loadLearnedChoice } = await import('../ai/choiceModel.js');
    Object.assign(out, await loadLearnedChoice(sc));
  }
  // site.exchange lp: the HiGHS solver of the exchange step, loaded once (the simulation's solves are synchronous)
  if (sc.site.exchange === 'lp') await (await import('../optimum/optimum.js')).highs();
  // the forecast tariff's TF.js load forecaster (docs/tariffs.md); its hash joins `ai`
  if (sc.tariff.type === 'forecast' && sc.tariff.source === 'model' && sc.tariff.model && sc.grid) {
    const { loadForecastParts } = await import('../ai/loadForecast.js');
    const { readGridLoad } = await import('../charging/gridLoad.js');
    const grid = readGridLoad(resolveScenarioPath(sc, sc.grid.load), sc.grid.load);
    const p = await loadForecastParts(sc, sc.tariff.model, grid, sc.grid.dayStartUtcHour);
    out.loadForecaster = p.forecaster;
    out.ai = out.ai ? { ...out.ai, models: { ...out.ai.models, ...p.ai.models } } : p.ai;
  }
  return out;
}

/** sha256 of each learned model a scenario names, for manifest.json. */
async function learnedModelHashes(sc: Scenario): Promise<Record<string, string>> {
  const { modelSha256 } = await import('../ai/runtime.js');
  const out: Record<string, string> = {};
  for (const kind of ['stationChoice', 'allocation'] as const) {
    const rel = sc.policy.models[kind];
    if (sc.policy[kind] === 'learned' && rel) out[kind] = modelSha256(isAbsolute(rel) ? rel : resolve(sc.baseDir, rel));
  }
  if (sc.tariff.type === 'forecast' && sc.tariff.source === 'model' && sc.tariff.model) {
    const rel = sc.tariff.model;
    out.loadForecast = modelSha256(isAbsolute(rel) ? rel : resolve(sc.baseDir, rel));
  }
  return out;
}

/** Exit codes of `evsim compare` (0: nothing regressed; 2: bad input, as everywhere). */
export const COMPARE_EXIT = { regressed: 4, incomparable: 5 } as const;

/** `evsim train <kind>`: one trainer per learned policy kind (config file, optional --out). */
const TRAINERS: Record<string, (config: string, out: string | undefined) => Promise<void>> = {
  'station-choice': async (config, out) => {
    const { choiceTrainingMethod, trainStationChoiceEs } = await import('../simulation/trainChoiceEs.js');
    if (choiceTrainingMethod(config) === 'es') {
      const r = await trainStationChoiceEs(config, { log: (l: string) => void process.stderr.write(`${l}\n`), now: wallNow, ...(out === undefined ? {} : { output: out }) });
      process.stdout.write(`${r.dir}: sha256 ${r.sha256}; validation objective ${r.initValidation.toFixed(3)} → ${r.bestValidation.toFixed(3)} min (iteration ${r.bestIteration}); ${r.days} days, ${r.wallSeconds.toFixed(1)} s\n`);
      return;
    }
    const { trainStationChoice } = await import('../ai/trainChoice.js');
    const { runEpisode } = await import('../simulation/episodes.js');
    await trainStationChoice(config, runEpisode, { log: (l: string) => void process.stderr.write(`${l}\n`), ...(out === undefined ? {} : { output: out }) });
  },
  allocation: async (config, out) => {
    const { trainAllocation } = await import('../simulation/trainAllocation.js');
    const r = await trainAllocation(config, (l) => void process.stderr.write(`${l}\n`), wallNow, out === undefined ? {} : { out });
    process.stdout.write(`model: ${r.dir} (sha256 ${r.sha256}, ${r.samples} ${r.samplesUnit ?? 'samples'}, ${r.wallSeconds.toFixed(1)} s)\n`);
  },
  // the forecast tariff's day-ahead grid load forecaster (docs/tariffs.md)
  'load-forecast': async (config, out) => {
    const { trainLoadForecast } = await import('../ai/loadForecast.js');
    const r = await trainLoadForecast(config, { log: (l) => void process.stderr.write(`${l}\n`), ...(out === undefined ? {} : { output: out }) });
    process.stdout.write(`model: ${r.dir} (sha256 ${r.sha256}, test MAPE ${r.mapeModel.toFixed(2)} % vs seasonal naive ${r.mapeNaive168.toFixed(2)} % (168 h), ${r.mapeNaive24.toFixed(2)} % (24 h), ${r.wallSeconds.toFixed(1)} s)\n`);
  },
};

export async function main(argv: string[]): Promise<number> {
  guardPipes();
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
          .option('out', { type: 'string', describe: 'results folder (default: results/<scenario name>/); replaced as a whole by each run' })
          .option('seed', { type: 'string', describe: `override the scenario seed (an integer from 0 to ${SEED_MAX})` })
          .option('set', { type: 'string', describe: 'override a field: --set fleet.size=500 (repeatable)' })
          .option('ledger', { type: 'string', describe: `ledger stacks to compare: all, or a comma-separated list (${SHIPPED_STACK_NAMES.join(',')})` })
          .option('quiet', { type: 'boolean', default: false, describe: 'print only where the results went (one line)' })
          .option('progress', { type: 'boolean', describe: 'show progress on stderr (default: when stderr is a terminal and CI is not set)' })
          .option('force', { type: 'boolean', default: false, describe: 'run even when the cost estimate exceeds this machine' })
          .option('report', { type: 'boolean', default: false, describe: `also write ${REPORT_FILE} (charts and the city replay) and ${CITY_JSON} into the results folder` })
          .option('cache-dir', { type: 'string', describe: 'keep the built city in this folder and reuse it (default: no city cache)' })
          .epilogue(stacksHelp()),
      async (args) => {
        const file = args.file ?? join(root, DEFAULT_SCENARIO);
        let seed: number | undefined;
        if (args.seed !== undefined) {
          const raw = String(args.seed).trim();
          seed = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
          if (!Number.isSafeInteger(seed) || seed > SEED_MAX) {
            throw new UserError([`--seed: must be an integer from 0 to ${SEED_MAX} (got ${/^-?[0-9.e+]+$/i.test(raw) ? raw : JSON.stringify(raw)})`]);
          }
        }
        if (args.out !== undefined && String(args.out).trim() === '') {
          throw new UserError([`--out '': must name a folder (got an empty string)`]);
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
        const sc = loadScenario(file, { overrides: sets, seed });
        const where = sets.length ? `${file} (with --set)` : file;
        const names = nameProblems(sc, where);
        if (names.length) throw new UserError(names);
        for (const w of await preflight(sc, { force: args.force })) process.stderr.write(`${w}\n`);
        const outArg = args.out ?? join('results', sc.name);
        const progress = new ProgressView(progressMode({ quiet: args.quiet, progress: args.progress }));
        const abort: AbortFlag = { signal: null };
        const onSignal = (sig: NodeJS.Signals) => {
          abort.signal = sig;
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        let r: RunOutcome;
        try {
          const cacheDir = args['cache-dir'];
          if (cacheDir !== undefined && String(cacheDir).trim() === '') throw new UserError([`--cache-dir '': must name a folder (got an empty string)`]);
          const cityCache = cacheDir === undefined ? undefined : { dir: resolve(String(cacheDir)), evsimVersion: evsimVersion(root) };
          r = await runScenario(sc, outArg, { progress, abort, where, report: args.report, ...(cityCache ? { cityCache } : {}) });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        const multi = r.summaries.length > 1;
        const where2 = `results: ${r.outDir}/ (${r.files.length} files${multi ? `, ${r.summaries.length} stacks; full comparison in comparison.md` : ''})`;
        if (!args.quiet) {
          if (!multi) process.stdout.write(`${summaryTable(r.summaries[0]!)}\n`);
          else process.stdout.write(`${summaryTable(r.summaries[0]!, true)}\n\n${comparisonText(r.summaries)}`);
          process.stdout.write(`  ${where2}\n`);
        } else process.stdout.write(`${where2}\n`);
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
          .option('set', { type: 'string', describe: 'override a field (validated too; repeatable)' })
          .option('force', { type: 'boolean', default: false, describe: 'report cost-estimate refusals as warnings' }),
      async (args) => {
        const sets = collectSets(args.set);
        const sc = loadScenario(args.file, { overrides: sets });
        const names = nameProblems(sc, sets.length ? `${args.file} (with --set)` : args.file);
        if (names.length) throw new UserError(names);
        for (const w of await preflight(sc, { map: true, force: args.force })) process.stderr.write(`${w}\n`);
        await learnedParts(sc); // a learned policy's model must load
        process.stdout.write(`${args.file}: ok (scenario ${sc.name}, ${sc.demand.type} demand, ${sc.city.type} city)\n`);
      },
    )
    .command(
      'optimum <file>',
      'the offline (hindsight) optimum of a replay scenario: maximum energy, minimum peak or minimum cost',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('set', { type: 'string', describe: 'override a field (repeatable)' })
          .option('goal', { choices: ['energy', 'peak', 'cost'] as const, default: 'energy' as const, describe: 'energy: max energy; peak / cost: the least peak / energy-plus-demand cost that delivers --share of it' })
          .option('share', { type: 'number', default: 1, describe: 'share of the deliverable energy the peak and cost goals must deliver (0..1)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
      async (args) => {
        if (!(args.share >= 0 && args.share <= 1)) throw new UserError([`--share: must be a number from 0 to 1 (got ${args.share})`]);
        const sets = collectSets(args.set);
        const sc = loadScenario(args.file, { overrides: sets });
        const r = await scenarioOptimum(sc, args.goal, args.share);
        process.stdout.write(args.json ? `${JSON.stringify(r, null, 2)}\n` : `${optimumText(r)}\n`);
      },
    )
    .command(
      'compare <base> <cand>',
      'compare two results folders (runs, comparisons, sweeps or repeated runs) metric by metric; exit 4 on a regression, 5 on missing or incomparable metrics',
      (y) =>
        y
          .positional('base', { type: 'string', demandOption: true, describe: 'the reference results folder' })
          .positional('cand', { type: 'string', demandOption: true, describe: 'the candidate results folder' })
          .option('metrics', { type: 'string', describe: 'rules file (YAML: metrics[] with match, kind, direction, abs, rel, factor, alpha, minSamples; ignore[]); default: every deterministic metric must be equal' })
          .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as const, describe: 'output format' })
          .option('all', { type: 'boolean', default: false, describe: 'list unchanged metrics too (table format)' }),
      (args) => {
        const spec = args.metrics === undefined ? DEFAULT_SPEC : loadCompareSpec(args.metrics);
        const base = loadSide(String(args.base));
        const cand = loadSide(String(args.cand));
        const c = compareSides(base, cand, spec);
        if (args.format === 'csv') process.stdout.write(comparisonCsv(c));
        else if (args.format === 'json') process.stdout.write(`${JSON.stringify({ base: base.dir, cand: cand.dir, counts: c.counts, rows: c.rows }, null, 2)}\n`);
        else process.stdout.write(`${comparisonTable(c, base, cand, args.all)}\n`);
        exitCode = c.counts.regressed > 0 ? COMPARE_EXIT.regressed : c.counts.missing + c.counts.incomparable > 0 ? COMPARE_EXIT.incomparable : 0;
      },
    )
    .command(
      'train <kind> [config]',
      `train a learned policy from a YAML config (kinds: ${Object.keys(TRAINERS).join(', ')})`,
      (y) =>
        y
          .positional('kind', { type: 'string', demandOption: true, describe: `what to train: ${Object.keys(TRAINERS).join(' | ')}` })
          .positional('config', { type: 'string', describe: 'training config (default: training/<kind>.yaml)' })
          .option('out', { type: 'string', describe: "model folder (default: the config's out)" }),
      async (args) => {
        const kind = String(args.kind);
        const trainer = TRAINERS[kind];
        if (!trainer) throw new UserError([`evsim train: unknown kind ${JSON.stringify(kind)}; allowed: ${Object.keys(TRAINERS).join(', ')}`]);
        const config = args.config ?? join(root, 'training', `${kind}.yaml`);
        await trainer(config, args.out);
      },
    )
    .command(
      'report <dir>',
      'write one self-contained HTML report (charts, city replay) of a results folder: a run, a comparison or a sweep',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'a results folder of evsim run (or evsim sweep)' })
          .option('out', { type: 'string', describe: `the HTML file (default: DIR/${REPORT_FILE})` }),
      async (args) => {
        if (args.out !== undefined && String(args.out).trim() === '') throw new UserError([`--out '': must name a file (got an empty string)`]);
        const { writeReport } = await import('../report/report.js');
        const r = await writeReport(String(args.dir), args.out === undefined ? undefined : String(args.out));
        process.stdout.write(`report: ${r.path} (${r.kind}, ${(r.bytes / 1e6).toFixed(2)} MB)\n`);
      },
    )
    .command(
      'evaluate [config]',
      'run every policy over held-out seeds and cases; write the policy × scenario table (CSV, Markdown)',
      (y) =>
        y
          .positional('config', { type: 'string', describe: 'evaluation config (default: evaluation/default.yaml)' })
          .option('out', { type: 'string', describe: 'results folder (default: results/evaluation/); replaced as a whole' })
          .option('quiet', { type: 'boolean', default: false, describe: 'print only where the results went (one line)' })
          .option('progress', { type: 'boolean', describe: 'show progress on stderr (default: when stderr is a terminal and CI is not set)' }),
      async (args) => {
        const { evaluateToFolder, overviewText, DEFAULT_EVAL_CONFIG, DEFAULT_EVAL_OUT } = await import('./evaluate.js');
        if (args.out !== undefined && String(args.out).trim() === '') throw new UserError([`--out '': must name a folder (got an empty string)`]);
        const abort: AbortFlag = { signal: null };
        const onSignal = (sig: NodeJS.Signals) => {
          abort.signal = sig;
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const r = await evaluateToFolder(args.config ?? join(root, DEFAULT_EVAL_CONFIG), {
            out: args.out ?? DEFAULT_EVAL_OUT,
            progress: progressMode({ quiet: args.quiet, progress: args.progress }),
            root,
            abort,
          });
          const where = `results: ${r.outDir}/ (${r.files.length} files; full tables in evaluation.md)`;
          if (!args.quiet) process.stdout.write(`${overviewText(readFileSync(join(r.outDir, 'evaluation.md'), 'utf8'))}\n  ${where}\n`);
          else process.stdout.write(`${where}\n`);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
  registerSweep(parser, root, (c) => (exitCode = c));
  parser
    .command('list', 'list the registered parts: policies, features, demand models, ledger backends and stacks', {}, () => {
      process.stdout.write(formatRegistries().join('\n') + '\n');
    })
    .command('schema', 'print the JSON Schema of scenario files', {}, () => {
      process.stdout.write(JSON.stringify(scenarioJsonSchema(), null, 2) + '\n');
    })
    .demandCommand(1, 'name a command: run, validate, sweep, evaluate, compare, report, optimum, train, list or schema')
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
