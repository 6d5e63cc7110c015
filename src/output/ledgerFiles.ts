/**
 * Ledger results files beyond ledger.csv (whose writer is in output.ts): blocks.csv, one row per
 * block (or Tangle milestone) of every chain backend of the run — a channel backend contributes its
 * underlying chain's blocks. Written only when the run keeps its ledger ports (output.ledgerCsv)
 * and at least one backend has blocks. Numbers in JavaScript's shortest round-trip form.
 */
import { join } from 'node:path';
import type { SimResult } from '../simulation/simulation.js';

/** Columns of ledger.csv (see docs/ledgers/contract.md, "ledger.csv"). */
export const LEDGER_CSV_COLUMNS = [
  'tx_id', 'kind', 'backend', 'role', 'session_id', 'ev_id', 'station_id', 'energy_kwh', 'amount', 'fee',
  'submitted_s', 'final_s', 'latency_s', 'status', 'reason', 'bytes',
] as const;

/** Columns of blocks.csv. */
export const BLOCKS_CSV_COLUMNS = ['role', 'backend', 'chain', 'unit', 'height', 'time_s', 'interval_s', 'producer', 'tx_count', 'bytes', 'status'] as const;

/** A CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What output.ts's atomic writer offers. */
export interface FileWriter {
  write(s: string): void;
  close(): void;
  abort(): void;
}

/** Writes blocks.csv into `dir` when there is anything to write; returns the names written. */
export function writeLedgerFiles(dir: string, r: SimResult, open: (path: string) => FileWriter): string[] {
  const ports = r.ledgerPorts ?? [];
  const logs = ports.map((p) => ({ port: p, log: p.ledger.blockLog?.() })).filter((x) => x.log !== undefined && x.log.rows.length > 0);
  if (logs.length === 0) return [];
  const w = open(join(dir, 'blocks.csv'));
  try {
    w.write(`${BLOCKS_CSV_COLUMNS.join(',')}\n`);
    for (const { port, log } of logs) {
      if (log === undefined) continue;
      let chunk = '';
      // interval: time since the previous canonical block (blank for the first and for stale ones)
      let prev = NaN;
      for (const b of log.rows) {
        const interval = b.canonical && !Number.isNaN(prev) ? String(b.time - prev) : '';
        if (b.canonical) prev = b.time;
        chunk += `${port.role},${port.ledger.backend},${log.backend},${log.unit},${b.height},${b.time},${interval},${b.producer},${b.txCount},${b.bytes},${b.canonical ? 'canonical' : 'stale'}\n`;
      }
      w.write(chunk);
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
  return ['blocks.csv'];
}
