/**
 * The comparison as printed on a terminal: the key columns only, fitted to 100 columns (the files
 * comparison.csv and comparison.md keep the full table).
 */
import { comparisonRows } from '../output/output.js';
import type { Summary } from '../simulation/simulation.js';

interface Col {
  head: string;
  key: string;
  show: (v: string | number) => string;
}

const num = (v: string | number): string => {
  if (typeof v !== 'number') return String(v === '' ? '-' : v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return v.toFixed(a >= 1000 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
};

/** A percentage: never shown as 100 unless it is 100 (99.99 is "99.99", not "100.0"). */
const pct = (v: string | number): string => {
  if (typeof v !== 'number' || Number.isInteger(v)) return num(v);
  let d = 1;
  while (d < 3 && v < 100 && Number(v.toFixed(d)) >= 100) d++;
  return v.toFixed(d);
};

/** Key columns, most important first; the last ones go when the table would be too wide. */
const COLUMNS: Col[] = [
  { head: 'stack', key: 'stack', show: (v) => String(v) },
  { head: 'final %', key: 'success_pct', show: pct },
  { head: 'tps', key: 'throughput_tps_caliper', show: num },
  { head: 'p50 s', key: 'latency_p50_s', show: num },
  { head: 'p99 s', key: 'latency_p99_s', show: num },
  { head: 'audit', key: 'audit_problems', show: num },
  { head: 'abandoned', key: 'abandoned', show: num },
  { head: 'wait s', key: 'mean_wait_s', show: num },
  { head: 'met %', key: 'demand_met_pct', show: pct },
  { head: 'auth s', key: 'auth_delay_s', show: num },
  { head: 'MB/node', key: 'bytes_stored_per_node', show: (v) => (typeof v === 'number' ? (v / 1e6).toFixed(2) : '-') },
];

const MAX_STACK = 20;

export function comparisonText(summaries: readonly Summary[], width = 100): string {
  const rows = comparisonRows(summaries);
  const header = rows[0]!.map(String);
  const cells = COLUMNS.map((c) => {
    const i = header.indexOf(c.key);
    const vals = rows.slice(1).map((r) => {
      const s = i < 0 ? '-' : c.show(r[i]!);
      return c.key === 'stack' && s.length > MAX_STACK ? `${s.slice(0, MAX_STACK - 1)}…` : s;
    });
    const w = Math.max(c.head.length, ...vals.map((v) => v.length));
    return { c, vals, w };
  });
  // drop trailing columns until the table (2 leading spaces, 2 between columns) fits
  let n = cells.length;
  const total = (k: number) => 2 + cells.slice(0, k).reduce((a, x) => a + x.w, 0) + 2 * (k - 1);
  while (n > 1 && total(n) > width) n--;
  const used = cells.slice(0, n);
  const fmtRow = (get: (x: (typeof used)[number]) => string) =>
    `  ${used.map((x, j) => (j === 0 ? get(x).padEnd(x.w) : get(x).padStart(x.w))).join('  ')}`.trimEnd();
  const lines = [fmtRow((x) => x.c.head)];
  for (let r = 0; r < rows.length - 1; r++) lines.push(fmtRow((x) => x.vals[r]!));
  return lines.join('\n') + '\n';
}
