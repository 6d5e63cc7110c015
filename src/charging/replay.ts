/**
 * Replaying recorded charging sessions from a CSV (for example ACN-Data): each row gives an
 * arrival and a departure (ISO 8601 date-times), the energy delivered (taken as the energy
 * requested) and the charger it used. Times become simulated seconds after the scenario's start.
 */
import { readFileSync } from 'node:fs';
import { parseCsvWithLines } from '../core/csv.js';
import { UserError } from '../core/errors.js';

export interface ReplayColumns {
  arrivalColumn: string;
  departureColumn: string;
  energyColumn: string;
  chargerColumn: string;
  idColumn: string;
}

export interface ReplayRecord {
  id: string;
  arrival: number;
  departure: number;
  energyKWh: number;
  charger: string;
}

/** Largest energy one replayed session may carry, kWh (five times the largest EV battery). */
export const MAX_SESSION_KWH = 1000;

/** RFC 4180 rows of a replay file, blank lines skipped (src/core/csv.ts). */
export function parseCsv(text: string): string[][] {
  return parseCsvWithLines(text).rows;
}
export { parseCsvWithLines };

/**
 * Read the sessions of `file`; `startEpochS` is the scenario's start (UTC epoch seconds), and
 * `horizonS` (optional) its duration: rows arriving before the start are skipped, and a file with
 * no row inside [start, start + horizon) is refused. Every problem is a UserError naming the file,
 * the line and the column.
 */
export function readReplaySessions(file: string, cols: ReplayColumns, startEpochS: number, horizonS = Infinity): ReplayRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError([`${file}: cannot read the sessions file (demand.file) (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  const { rows, lines } = parseCsvWithLines(text);
  if (rows.length < 1) throw new UserError([`${file}: empty sessions file (expected a header line and one line per session)`]);
  const header = rows[0]!;
  const col = (field: keyof ReplayColumns) => {
    const name = cols[field];
    const i = header.indexOf(name);
    if (i < 0) throw new UserError([`${file}: demand.${field}: column "${name}" not found; columns: ${header.join(', ')}`]);
    return i;
  };
  const ia = col('arrivalColumn');
  const id = col('departureColumn');
  const ie = col('energyColumn');
  const ic = col('chargerColumn');
  const ii = col('idColumn');
  if (rows.length < 2) throw new UserError([`${file}: has a header but no sessions (expected one line per session after the header)`]);
  const out: ReplayRecord[] = [];
  let latest = -Infinity;
  let latestText = '';
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const where = `${file}: line ${lines[r]}`;
    if (row.length < header.length) {
      const missing = header.slice(row.length).filter((h) => [cols.arrivalColumn, cols.departureColumn, cols.energyColumn, cols.chargerColumn, cols.idColumn].includes(h));
      throw new UserError([
        `${where}: has ${row.length} of the header's ${header.length} columns; missing ${missing.length ? missing.join(', ') : header.slice(row.length).join(', ')}`,
      ]);
    }
    const a = Date.parse(row[ia]!);
    const d = Date.parse(row[id]!);
    const e = Number(row[ie]);
    if (!Number.isFinite(a)) throw new UserError([`${where}: ${cols.arrivalColumn}: not an ISO 8601 date-time (got ${JSON.stringify(row[ia])})`]);
    if (!Number.isFinite(d) || d < a) throw new UserError([`${where}: ${cols.departureColumn}: must be a date-time not before the arrival (got ${JSON.stringify(row[id])})`]);
    if (row[ie]!.trim() === '' || !Number.isFinite(e) || e < 0 || e > MAX_SESSION_KWH)
      throw new UserError([`${where}: ${cols.energyColumn}: must be a number of kWh in [0, ${MAX_SESSION_KWH}] (got ${JSON.stringify(row[ie])})`]);
    if (a > latest) {
      latest = a;
      latestText = row[ia]!;
    }
    const arrival = a / 1000 - startEpochS;
    if (arrival < 0) continue; // before the scenario starts
    out.push({ id: row[ii]!, arrival, departure: d / 1000 - startEpochS, energyKWh: e, charger: row[ic]! });
  }
  const startIso = new Date(startEpochS * 1000).toISOString();
  if (out.length === 0)
    throw new UserError([`${file}: all ${rows.length - 1} sessions arrive before the scenario's start ${startIso} (latest arrival ${latestText}); set start (and duration) to cover them`]);
  if (!out.some((x) => x.arrival < horizonS))
    throw new UserError([`${file}: none of the ${rows.length - 1} sessions arrives within the scenario's start ${startIso} + duration ${horizonS} s; set start (and duration) to cover them`]);
  // deterministic order: by arrival, then file order
  return out.map((x, i) => [x, i] as const).sort((p, q) => p[0].arrival - q[0].arrival || p[1] - q[1]).map((p) => p[0]);
}

/** Distinct charger ids in sorted order (one charger per recorded id). */
export function replayChargerIds(recs: readonly ReplayRecord[]): string[] {
  return [...new Set(recs.map((r) => r.charger))].sort();
}
