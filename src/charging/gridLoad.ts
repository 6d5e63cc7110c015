/**
 * Hourly grid load (system demand, MW) from the shipped CAISO file
 * (data/grid/eia-caiso-demand-2015-2019-hourly.csv, data/grid/PROVENANCE.md): one value per UTC
 * hour, strictly consecutive.
 *
 * The file's `date_time` is the UTC start of the hour ("YYYY-MM-DD HH:MM:SS"); the column read is
 * `cleaned demand (MW)` (screened and imputed by the data's authors). A missing, repeated or
 * out-of-order hour, or a value that is not a finite number > 0, is refused with a one-line error
 * naming the file, the line and the column.
 */
import { readFileSync } from 'node:fs';
import { parseCsvWithLines } from '../core/csv.js';
import { UserError } from '../core/errors.js';

export const GRID_LOAD_COLUMN = 'cleaned demand (MW)';

export interface GridLoad {
  /** epoch seconds (UTC) of the start of hour 0 */
  readonly startEpoch: number;
  /** MW, hour i starts at startEpoch + 3600 i */
  readonly mw: Float64Array;
  /** the file as named by the caller */
  readonly label: string;
}

/** Parse the CSV text; `label` names the file in error messages. */
export function parseGridLoad(text: string, label: string, column = GRID_LOAD_COLUMN): GridLoad {
  const { rows, lines } = parseCsvWithLines(text);
  const bad = (line: number, what: string): never => {
    throw new UserError([`grid load file ${label}: line ${line}: ${what}`]);
  };
  if (rows.length < 2) bad(1, 'needs a header and at least one row');
  const header = rows[0]!;
  const iT = header.indexOf('date_time');
  const iV = header.indexOf(column);
  if (iT < 0) bad(1, 'has no column "date_time"');
  if (iV < 0) bad(1, `has no column ${JSON.stringify(column)}`);
  const mw = new Float64Array(rows.length - 1);
  let start = NaN;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const line = lines[r]!;
    const ts = row[iT] ?? '';
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(ts);
    if (!m || m[5] !== '00' || m[6] !== '00') bad(line, `date_time must be "YYYY-MM-DD HH:00:00" (UTC hour start) (got ${JSON.stringify(ts)})`);
    const t = Date.UTC(Number(m![1]), Number(m![2]) - 1, Number(m![3]), Number(m![4])) / 1000;
    if (r === 1) start = t;
    else if (t !== start + (r - 1) * 3600) bad(line, `date_time ${ts} is not the hour after the previous row (hours must be consecutive, no gaps or repeats)`);
    const v = Number(row[iV]);
    if (!(row[iV] ?? '').trim() || !Number.isFinite(v) || v <= 0) bad(line, `${column} must be a finite number > 0 (got ${JSON.stringify(row[iV] ?? '')})`);
    mw[r - 1] = v;
  }
  return { startEpoch: start, mw, label };
}

export function readGridLoad(path: string, label = path): GridLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError([`grid load file ${label}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  return parseGridLoad(text, label);
}

/** Index of the hour that starts at epoch t (must be an hour start inside the file). */
export function hourIndex(g: GridLoad, t: number): number {
  return (t - g.startEpoch) / 3600;
}

/** Mean absolute percentage error (%) of `pred` against `actual` (same length, actual > 0). */
export function mape(pred: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (pred.length !== actual.length || actual.length === 0) throw new RangeError(`mape: lengths ${pred.length} and ${actual.length} (must be equal and > 0)`);
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(pred[i]! - actual[i]!) / actual[i]!;
  return (100 * s) / actual.length;
}

/**
 * Seasonal-naive forecast of the 24 hours starting at hour index h0: the load `lagHours` earlier
 * (168: same hour one week before; 24: one day before). Issued at h0, both use only hours before
 * h0 as long as lagHours ≥ hours. Needs h0 ≥ lagHours.
 */
export function seasonalNaive(g: GridLoad, h0: number, lagHours: number, hours = 24): Float64Array {
  if (h0 - lagHours < 0 || h0 + hours > g.mw.length) throw new RangeError(`seasonalNaive: hours ${h0}..${h0 + hours - 1} with lag ${lagHours} are outside the data`);
  const out = new Float64Array(hours);
  for (let i = 0; i < hours; i++) out[i] = g.mw[h0 + i - lagHours]!;
  return out;
}

/** Where the forecast tariff's day-ahead loads come from (one call per simulated day). */
export interface DayForecaster {
  /** `model` (the TF.js forecaster, src/ai/loadForecast.ts), `actual` (perfect foresight),
   * `seasonal-naive-168` or `seasonal-naive-24` */
  readonly name: string;
  /** forecast MW of the `hours` hours starting at hour index h0 of `grid`, using only hours < h0 */
  forecastDay(h0: number): Float64Array;
  /** predict calls so far */
  readonly calls: number;
}

/** Perfect foresight: the actual loads (the decision-efficiency reference, docs/tariffs.md). */
export function actualForecaster(g: GridLoad, hours = 24): DayForecaster {
  let calls = 0;
  return {
    name: 'actual',
    forecastDay(h0: number): Float64Array {
      if (h0 < 0 || h0 + hours > g.mw.length) throw new RangeError(`actual load: hours ${h0}..${h0 + hours - 1} are outside ${g.label}`);
      calls++;
      return g.mw.slice(h0, h0 + hours);
    },
    get calls() {
      return calls;
    },
  };
}

export function naiveForecaster(g: GridLoad, lagHours: 24 | 168, hours = 24): DayForecaster {
  let calls = 0;
  return {
    name: `seasonal-naive-${lagHours}`,
    forecastDay(h0: number): Float64Array {
      calls++;
      return seasonalNaive(g, h0, lagHours, hours);
    },
    get calls() {
      return calls;
    },
  };
}
