/**
 * The handler of `evsim evaluate [CONFIG]` (registered in main.ts): loads and checks the config
 * (src/simulation/evaluateConfig.ts) before anything runs, runs it (src/simulation/evaluate.ts)
 * with progress on stderr, and writes evaluation.csv, evaluation.md, runs.csv and manifest.json
 * into a temporary folder that replaces --out as a whole (src/output/folder.ts); on an error or
 * Ctrl-C nothing is written. Prints the overview table and where the files went.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import os from 'node:os';
import { UserError } from '../core/errors.js';
import { abortOut, commitOut, prepareOut } from '../output/folder.js';
import { fileEntry, RESULTS_SCHEMA_VERSION } from '../output/manifest.js';
import { evaluationCsv, evaluationMd, runEvaluation, runsCsv, type EvaluationResult } from '../simulation/evaluate.js';
import { loadEvalConfig } from '../simulation/evaluateConfig.js';
import { ProgressView, type ProgressMode } from './progress.js';

export const DEFAULT_EVAL_CONFIG = 'evaluation/default.yaml';
export const DEFAULT_EVAL_OUT = 'results/evaluation';

const wallNow = () => performance.now() / 1000; // wall-clock ok: manifest wallSeconds and progress only

export interface EvaluateOptions {
  out: string;
  progress: ProgressMode;
  root: string;
  abort: { signal: string | null };
  notice?: (line: string) => void;
}

export interface EvaluateOutcome {
  result: EvaluationResult;
  outDir: string;
  files: string[];
  wallSeconds: number;
}

function manifestJson(r: EvaluationResult, root: string, dir: string, files: string[], wallSeconds: number): string {
  const version = String(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  const m = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    kind: 'evaluation',
    evsim: version,
    config: { file: r.config.file, name: r.config.name, sha256: r.config.sha256 },
    seeds: r.config.seeds,
    tf: r.ai,
    models: Object.fromEntries(Object.entries(r.models).map(([k, v]) => [k, { path: relative(root, v.path), sha256: v.sha256 }])),
    cases: r.cases.map((c) => ({ name: c.case.name, kind: c.case.kind, scenario: c.case.scenarioRel, set: c.case.set, n: c.seeds.length, reference: c.reference })),
    note: 'wallSeconds, node, platform and cpu vary from run to run; the csv and md files are byte-identical for the same config',
    wallSeconds,
    /** CPU seconds of this process (user + system): less sensitive than wall time to a shared machine */
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    files: files.map((f) => fileEntry(dir, f)),
  };
  return JSON.stringify(m, null, 2) + '\n';
}

/** Run an evaluation config and write its folder. */
export async function evaluateToFolder(configFile: string, o: EvaluateOptions): Promise<EvaluateOutcome> {
  const cfg = loadEvalConfig(configFile);
  const progress = new ProgressView(o.progress);
  const notice = o.notice ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const folder = prepareOut(o.out, 'evaluation', (l) => {
    progress.clear();
    notice(l);
  });
  const t0 = wallNow();
  let at = 'the start';
  try {
    const result = await runEvaluation(cfg, {
      onRun: (label, i, n) => {
        at = label;
        progress.phase(`evaluate ${i}/${n}: ${label}`);
      },
      check: async () => {
        await new Promise<void>((r) => setImmediate(r)); // let a pending signal handler run
        if (o.abort.signal) throw new UserError([`evsim: interrupted by ${o.abort.signal} at ${at}; nothing was saved (${folder.before === 'nothing' ? `${folder.out} was not created` : `${folder.out} is unchanged`})`], 130);
      },
    });
    const files: [string, string][] = [
      ['evaluation.csv', evaluationCsv(result)],
      ['evaluation.md', evaluationMd(result)],
      ['runs.csv', runsCsv(result)],
    ];
    for (const [name, text] of files) writeFileSync(join(folder.tmp, name), text);
    const wallSeconds = wallNow() - t0;
    writeFileSync(join(folder.tmp, 'manifest.json'), manifestJson(result, o.root, folder.tmp, files.map((x) => x[0]), wallSeconds));
    if (o.abort.signal) throw new UserError([`evsim: interrupted by ${o.abort.signal} at the last write; nothing was saved`], 130);
    progress.clear();
    commitOut(folder);
    return { result, outDir: folder.out, files: [...files.map((x) => x[0]), 'manifest.json'], wallSeconds };
  } catch (e) {
    progress.clear();
    abortOut(folder);
    throw e;
  }
}

/** The printed overview: evaluation.md's first table. */
export function overviewText(md: string): string {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| case |'));
  const out: string[] = [];
  for (let i = start; i >= 0 && i < lines.length && lines[i]!.startsWith('|'); i++) out.push(lines[i]!);
  return out.join('\n');
}
