/**
 * Parquet copies of the large results tables (`output.parquet: true`): sessions.parquet,
 * stations.parquet and ledger.parquet next to their CSVs, for pandas/polars/DuckDB users.
 *
 * Each is converted from the CSV just written, so the two hold the same values by construction
 * (the CSV's fixed decimals included): integer columns become INT64, decimal columns DOUBLE,
 * text columns UTF-8 strings, and an empty CSV field a null. Written with hyparquet-writer
 * (pure JavaScript, no native build; SNAPPY pages, one row group per 100,000 rows); the writer's
 * `created_by` is pinned so the files are byte-identical run after run.
 */
import { readFileSync } from 'node:fs';
import { parseCsvRows } from '../core/csv.js';

type ParquetWriteBuffer = (typeof import('hyparquet-writer'))['parquetWriteBuffer'];
let writer: ParquetWriteBuffer | null = null;

/**
 * Load the Parquet writer (once per process). It is loaded only when a scenario asks for Parquet:
 * importing it costs ~0.1 s of start-up, which every `evsim` call and sweep worker would pay.
 */
export async function loadParquetWriter(): Promise<void> {
  if (!writer) writer = (await import('hyparquet-writer')).parquetWriteBuffer;
}

export type ColumnType = 'int' | 'double' | 'string';

/** Column types of the tables that get a Parquet copy (columns not listed are strings). */
export const PARQUET_TABLES: Record<string, Record<string, ColumnType>> = {
  'sessions.csv': {
    session_id: 'int', ev_id: 'int', station_id: 'int', charger: 'int',
    decided_s: 'double', arrived_s: 'double', plugged_s: 'double', unplugged_s: 'double', wait_s: 'double', travel_s: 'double', deadline_s: 'double',
    kwh_requested: 'double', kwh_delivered: 'double', soc_start: 'double', soc_end: 'double', price: 'double',
  },
  'stations.csv': { minute: 'int', station_id: 'int', queue: 'int', plugged: 'int', power_kw: 'double' },
  'ledger.csv': {
    tx_id: 'int', session_id: 'int', ev_id: 'int', station_id: 'int', energy_kwh: 'double', amount: 'double', fee: 'double',
    submitted_s: 'double', final_s: 'double', latency_s: 'double', bytes: 'int',
  },
};

/** A CSV table (src/output/csv.ts) as its header and columns of raw strings. */
export function csvColumns(text: string): { header: string[]; columns: string[][] } {
  const rows = parseCsvRows(text);
  const header = rows[0] ?? [];
  const columns = header.map((_, j) => rows.slice(1).map((r) => r[j] ?? ''));
  return { header, columns };
}

/** The Parquet bytes of a CSV table with the given column types (after loadParquetWriter). */
export function csvToParquet(text: string, types: Record<string, ColumnType>): Uint8Array {
  if (!writer) throw new Error('parquet: loadParquetWriter() was not awaited before writing');
  const { header, columns } = csvColumns(text);
  const columnData = header.map((name, j) => {
    const raw = columns[j]!;
    const t = types[name] ?? 'string';
    if (t === 'string') return { name, data: raw, type: 'STRING' as const };
    if (t === 'int') return { name, data: raw.map((v) => (v === '' ? null : BigInt(v))), type: 'INT64' as const };
    return { name, data: raw.map((v) => (v === '' ? null : Number(v))), type: 'DOUBLE' as const };
  });
  return new Uint8Array(writer({ columnData, createdBy: 'evsim (hyparquet-writer 0.17.0)', rowGroupSize: 100_000 }));
}

/** Convert `csvPath` (a table listed in PARQUET_TABLES under `name`) to Parquet bytes. */
export function parquetOfCsvFile(csvPath: string, name: string): Uint8Array {
  const types = PARQUET_TABLES[name];
  if (!types) throw new Error(`parquet: no column types for ${name}`);
  return csvToParquet(readFileSync(csvPath, 'utf8'), types);
}
