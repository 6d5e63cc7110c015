/**
 * Reading a results folder for a report: what kind of folder it is (a single run, a comparison of
 * ledger stacks, a sweep) and its files as plain tables. Bad folders are user errors (one line,
 * exit 2) naming the folder and what was expected.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseCsvRows } from '../core/csv.js';
import { join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Summary } from '../simulation/types.js';
import { CITY_JSON, type CityGeometry } from './geometry.js';

export type ReportKind = 'run' | 'comparison' | 'sweep';

/** A CSV file as a header and rows of strings (RFC 4180 quoting). */
export interface Table {
  header: string[];
  rows: string[][];
}

export function parseCsv(text: string): Table {
  const out = parseCsvRows(text);
  return { header: out[0] ?? [], rows: out.slice(1) };
}

/** Column accessor of a table; throws a user error naming the file when the column is missing. */
export function column(t: Table, name: string, file: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new UserError([`${file}: column ${name}: missing (columns: ${t.header.join(', ')})`]);
  return i;
}

/** Number of a CSV cell: NaN when empty. */
export const num = (s: string | undefined): number => (s === undefined || s === '' ? NaN : Number(s));

export interface RunData {
  dir: string;
  manifest: { kind: string; evsim?: string; scenario?: { name?: string; sha256?: string }; seed?: number; stack?: string };
  summary: Summary;
  sessions: Table | null;
  stations: Table | null;
  events: Table | null;
  ledger: Table | null;
  geometry: CityGeometry | null;
}

export interface ComparisonData {
  dir: string;
  manifest: RunData['manifest'] & { stacks?: { name: string }[] };
  comparison: Table;
  stacks: RunData[];
}

export interface SweepData {
  dir: string;
  index: Table;
  aggregate: Table;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError([`${path}: ${what}: cannot be read as JSON (${(e as Error).message.split('\n')[0]})`]);
  }
}

const readTable = (path: string): Table | null => (existsSync(path) ? parseCsv(readFileSync(path, 'utf8')) : null);

/** What DIR holds; a one-line user error when it is no results folder. */
export function detectKind(dir: string): ReportKind {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new UserError([`evsim report: ${dir}: no such folder; expected a results folder of evsim run or evsim sweep`]);
  if (!statSync(abs).isDirectory()) throw new UserError([`evsim report: ${dir}: not a folder; expected a results folder of evsim run or evsim sweep`]);
  if (existsSync(join(abs, 'aggregate.csv')) && existsSync(join(abs, 'index.csv'))) return 'sweep';
  const mp = join(abs, 'manifest.json');
  if (!existsSync(mp)) throw new UserError([`evsim report: ${dir}: not an evsim results folder (no manifest.json, and no index.csv + aggregate.csv of a sweep)`]);
  const m = readJson(mp, 'manifest') as { kind?: unknown };
  if (m.kind === 'run') return 'run';
  if (m.kind === 'comparison') return 'comparison';
  if (m.kind === 'comparison-stack') throw new UserError([`evsim report: ${dir}: one stack folder of a comparison; report the comparison's top folder (its parent) instead`]);
  throw new UserError([`evsim report: ${dir}/manifest.json: kind: must be run or comparison (got ${JSON.stringify(m.kind)})`]);
}

export function readRun(dir: string): RunData {
  const abs = resolve(dir);
  const manifest = readJson(join(abs, 'manifest.json'), 'manifest') as RunData['manifest'];
  const sp = join(abs, 'summary.json');
  if (!existsSync(sp)) throw new UserError([`evsim report: ${dir}: no summary.json; the results folder is incomplete`]);
  const summary = readJson(sp, 'summary') as Summary;
  if (!summary || typeof summary !== 'object' || !summary.sessions || !summary.fleet) throw new UserError([`${sp}: sessions, fleet: missing; not an evsim summary`]);
  const gp = join(abs, CITY_JSON);
  return {
    dir: abs,
    manifest,
    summary,
    sessions: readTable(join(abs, 'sessions.csv')),
    stations: readTable(join(abs, 'stations.csv')),
    events: readTable(join(abs, 'events.csv')),
    ledger: readTable(join(abs, 'ledger.csv')),
    geometry: existsSync(gp) ? (readJson(gp, 'city geometry') as CityGeometry) : null,
  };
}

export function readComparison(dir: string): ComparisonData {
  const abs = resolve(dir);
  const manifest = readJson(join(abs, 'manifest.json'), 'manifest') as ComparisonData['manifest'];
  const cp = join(abs, 'comparison.csv');
  if (!existsSync(cp)) throw new UserError([`evsim report: ${dir}: no comparison.csv; the comparison folder is incomplete`]);
  const names = (manifest.stacks ?? []).map((s) => s.name);
  if (!names.length) throw new UserError([`${join(abs, 'manifest.json')}: stacks: must list the stacks of the comparison`]);
  return { dir: abs, manifest, comparison: parseCsv(readFileSync(cp, 'utf8')), stacks: names.map((n) => readRun(join(abs, n))) };
}

export function readSweep(dir: string): SweepData {
  const abs = resolve(dir);
  return { dir: abs, index: parseCsv(readFileSync(join(abs, 'index.csv'), 'utf8')), aggregate: parseCsv(readFileSync(join(abs, 'aggregate.csv'), 'utf8')) };
}
