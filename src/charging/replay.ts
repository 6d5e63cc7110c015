/**
 * Replaying recorded charging sessions from a CSV (for example ACN-Data): each row gives an
 * arrival and a departure (ISO 8601 date-times), the energy delivered (taken as the energy
 * requested) and the charger it used. Times become simulated seconds after the scenario's start.
 */
import { readFileSync } from 'node:fs';
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

/** Minimal RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (q) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function readReplaySessions(file: string, cols: ReplayColumns, startEpochS: number): ReplayRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError([`${file}: cannot read the sessions file (demand.file)`]);
  }
  const rows = parseCsv(text);
  if (rows.length < 1) throw new UserError([`${file}: empty sessions file`]);
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
  const out: ReplayRecord[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const a = Date.parse(row[ia] ?? '');
    const d = Date.parse(row[id] ?? '');
    const e = Number(row[ie]);
    const where = `${file}: row ${r + 1}`;
    if (!Number.isFinite(a)) throw new UserError([`${where}: ${cols.arrivalColumn}: not an ISO 8601 date-time (got ${JSON.stringify(row[ia])})`]);
    if (!Number.isFinite(d) || d < a) throw new UserError([`${where}: ${cols.departureColumn}: must be a date-time not before the arrival (got ${JSON.stringify(row[id])})`]);
    if (!Number.isFinite(e) || e < 0) throw new UserError([`${where}: ${cols.energyColumn}: must be a number >= 0 (got ${JSON.stringify(row[ie])})`]);
    const arrival = a / 1000 - startEpochS;
    if (arrival < 0) continue; // before the scenario starts
    out.push({ id: row[ii] ?? String(r), arrival, departure: d / 1000 - startEpochS, energyKWh: e, charger: row[ic] ?? '' });
  }
  // deterministic order: by arrival, then file order
  return out.map((x, i) => [x, i] as const).sort((p, q) => p[0].arrival - q[0].arrival || p[1] - q[1]).map((p) => p[0]);
}

/** Distinct charger ids in sorted order (one charger per recorded id). */
export function replayChargerIds(recs: readonly ReplayRecord[]): string[] {
  return [...new Set(recs.map((r) => r.charger))].sort();
}
