/**
 * Results files. Every file is written atomically (a temporary file in the same folder, then
 * rename), and summary.json is written last, so an interrupted run never leaves a half-written file
 * that looks complete. Numbers are formatted deterministically (fixed decimals in CSV, JavaScript's
 * shortest round-trip form in JSON): same scenario and seed → byte-identical files. Wall-clock
 * figures go to timing.json only.
 *
 * stations.csv can have millions of rows (stations × minutes); it is written through a small
 * buffered writer instead of csv-stringify (whose per-row object handling dominated the time on
 * such files); csv-stringify writes sessions.csv, whose text fields (names) may need quoting.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { assertInside } from './folder.js';
import { buildManifest, manifestJson, RESULTS_SCHEMA_VERSION, type Manifest, type ManifestIdentity, type ManifestKind } from './manifest.js';
import { COMPARISON_METRICS } from '../ledger/registry.js';
import { SESSION_STATUS_NAMES } from '../charging/station.js';
import { STATE_NAMES } from '../charging/ev.js';
import type { SimResult, Summary } from '../simulation/simulation.js';
import { LEDGER_CSV_COLUMNS, csvField, writeLedgerFiles } from './ledgerFiles.js';
import { PARQUET_TABLES, parquetOfCsvFile } from './parquet.js';

/** Buffered writer to a temporary file, renamed into place by close(). */
class AtomicWriter {
  private fd: number;
  private buf = '';
  private readonly tmp: string;
  constructor(private readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(s: string): void {
    this.buf += s;
    if (this.buf.length > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf) writeSync(this.fd, this.buf);
    this.buf = '';
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.tmp, { force: true });
  }
}

export function writeFileAtomic(path: string, data: string): void {
  const w = new AtomicWriter(path);
  try {
    w.write(data);
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

export function writeBytesAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '');
const f6 = (x: number) => (Number.isFinite(x) ? x.toFixed(6) : '');

export function sessionsCsv(r: SimResult): string {
  const rows: (string | number)[][] = [
    [
      'session_id', 'ev_id', 'ev_model', 'station_id', 'station_name', 'charger', 'status',
      'decided_s', 'arrived_s', 'plugged_s', 'unplugged_s', 'wait_s', 'travel_s', 'deadline_s',
      'kwh_requested', 'kwh_delivered', 'soc_start', 'soc_end', 'price',
    ],
  ];
  for (const s of r.sessions) {
    const st = r.stationDefs[s.station]!;
    // wait: until plugged in, or until it left the queue (abandoned); empty if neither happened
    const wait = (Number.isNaN(s.pluggedAt) ? s.unpluggedAt : s.pluggedAt) - s.arrivedAt;
    rows.push([
      s.sessionId, s.ev, r.evModelName(s.ev), s.station, st.name, s.charger >= 0 ? s.charger : '',
      SESSION_STATUS_NAMES[s.status]!,
      f3(s.decidedAt), f3(s.arrivedAt), f3(s.pluggedAt), f3(s.unpluggedAt),
      f3(wait), f3(s.travelS), f3(s.deadline),
      f6(s.requestedKWh), f6(s.deliveredKWh),
      f6(s.socStart), Number.isNaN(s.socStart) ? '' : f6(s.soc), f6(s.price),
    ]);
  }
  return stringify(rows);
}

/**
 * Write every results file of one run into `dir`; summary.json last. Every file must land inside
 * `root` (the results folder being written; `dir` itself by default), or nothing is written.
 */
export function writeResults(dir: string, r: SimResult, timing: () => Record<string, unknown>, root: string = dir, opts: { parquet?: boolean } = {}): string[] {
  assertInside(root, dir);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, data: string) => {
    writeFileAtomic(assertInside(root, join(dir, name)), data);
    written.push(name);
  };
  put('sessions.csv', sessionsCsv(r));
  if (r.samples) {
    const w = new AtomicWriter(join(dir, 'stations.csv'));
    try {
      const { minutes, stations, queue, plugged, powerKW } = r.samples;
      w.write('minute,station_id,queue,plugged,power_kw\n');
      for (let m = 0; m < minutes; m++) {
        let chunk = '';
        for (let s = 0; s < stations; s++) {
          const k = m * stations + s;
          chunk += `${m},${s},${queue[k]},${plugged[k]},${powerKW[k]!.toFixed(3)}\n`;
        }
        w.write(chunk);
      }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
    written.push('stations.csv');
  }
  if (r.log) {
    const w = new AtomicWriter(join(dir, 'events.csv'));
    try {
      const l = r.log;
      w.write('time_s,ev_id,from,to,session_id\n');
      for (let i = 0; i < l.n; i++) {
        w.write(`${l.time[i]!.toFixed(3)},${l.ev[i]},${STATE_NAMES[l.from[i]!]},${STATE_NAMES[l.to[i]!]},${l.session[i]! >= 0 ? l.session[i] : ''}\n`);
      }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
    written.push('events.csv');
  }
  if (r.ledgerPorts && r.ledgerPorts.length) {
    // ledger.csv: one row per transaction of every port; times and amounts in JavaScript's
    // shortest round-trip form (full precision); columns documented in docs/ledgers/contract.md
    const w = new AtomicWriter(join(dir, 'ledger.csv'));
    try {
      w.write(`${LEDGER_CSV_COLUMNS.join(',')}\n`);
      const num = (x: number) => (Number.isNaN(x) ? '' : String(x));
      for (const p of r.ledgerPorts) {
        const name = p.ledger.backend;
        const role = p.role;
        let chunk = '';
        p.forEachTx((t) => {
          const latency = t.status === 'pending' ? '' : num(t.settledAt - t.submittedAt);
          chunk += `${t.id},${t.kind},${name},${role},${t.sessionId},${t.ev},${t.station},${num(t.energyKWh)},${num(t.amount)},${num(t.fee)},${num(t.submittedAt)},${num(t.settledAt)},${latency},${t.status},${csvField(t.reason)},${t.bytes}\n`;
          if (chunk.length > 1 << 16) {
            w.write(chunk);
            chunk = '';
          }
        });
        w.write(chunk);
      }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
    written.push('ledger.csv');
  }
  written.push(...writeLedgerFiles(dir, r, (path) => new AtomicWriter(path)));
  if (opts.parquet) {
    for (const csv of Object.keys(PARQUET_TABLES)) {
      if (!written.includes(csv)) continue;
      const name = csv.replace(/\.csv$/, '.parquet');
      writeBytesAtomic(assertInside(root, join(dir, name)), parquetOfCsvFile(join(dir, csv), csv));
      written.push(name);
    }
  }
  put('timing.json', JSON.stringify(timing(), null, 2) + '\n');
  put('summary.json', summaryJson(r.summary));
  return written;
}

/** summary.json: the run's Summary with the results schema version first. */
export function summaryJson(s: Summary): string {
  return JSON.stringify({ schemaVersion: RESULTS_SCHEMA_VERSION, ...s }, null, 2) + '\n';
}

/** One row of the stack comparison. */
export function comparisonRows(summaries: readonly Summary[]): (string | number)[][] {
  const header = [
    'stack', 'records', 'payments', 'submitted', 'final', 'failed', 'pending', 'success_pct',
    'throughput_tps_caliper', 'committed_tps', 'latency_p50_s', 'latency_p95_s', 'latency_p99_s', 'latency_max_s',
    ...COMPARISON_METRICS.map((m) => m.column),
    'audit_problems', 'sessions', 'completed', 'abandoned', 'mean_wait_s', 'p95_wait_s', 'auth_delay_s', 'payment_hold_s',
    'start_timeouts', 'payment_timeouts',
    'utilization_pct', 'demand_met_pct',
  ];
  // the calculating phase's columns, only when some stack's run used the ledger for it
  // (policy.information ledger or policy.waitForReservation; summary.json `calculating`)
  const calc = summaries.some((s) => s.calculating !== undefined);
  if (calc) header.push(...CALCULATING_COLUMNS);
  // mobile chargers' columns, only when the scenario has a `mobile` block (summary.json `mobile`)
  const mob = summaries.some((s) => s.mobile !== undefined);
  if (mob) header.push(...MOBILE_COLUMNS);
  // roaming between utilities: only when some run had a roaming block (summary.json `roaming`)
  const roam = summaries.some((s) => s.roaming !== undefined);
  if (roam) header.push(...ROAMING_COLUMNS);
  // the tariff part's columns, only when some run has summary.json `tariff` (docs/tariffs.md)
  const tariff = summaries.some((s) => s.tariff !== undefined);
  if (tariff) header.push(...TARIFF_COLUMNS);
  // a ledger attack's outcome (the Tangle's parasite-chain and splitting attacks), only when some stack ran one
  const attack = summaries.some((s) => s.ledger.backends.some((x) => x.extra.attackShare !== undefined));
  if (attack) header.push(...ATTACK_COLUMNS);
  const rows: (string | number)[][] = [header];
  const r3 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(3)) : '');
  for (const s of summaries) {
    const b = s.ledger.backends;
    const sum = (f: (x: (typeof b)[number]) => number) => b.reduce((a, x) => a + f(x), 0);
    const max = (f: (x: (typeof b)[number]) => number) => b.reduce((a, x) => Math.max(a, f(x)), 0);
    const extra = (k: string) => sum((x) => x.extra[k] ?? 0);
    const submitted = sum((x) => x.submitted);
    const confirmed = sum((x) => x.confirmed);
    const roles = (role: string) => b.filter((x) => x.role.includes(role)).map((x) => x.backend).join('+');
    rows.push([
      s.ledger.stack, roles('records'), roles('payments'), submitted, confirmed, sum((x) => x.failed), sum((x) => x.pending),
      r3(submitted ? (100 * confirmed) / submitted : 100),
      r3(sum((x) => x.throughputTps)), r3(sum((x) => x.committedTps)),
      r3(max((x) => x.latencySeconds.p50)), r3(max((x) => x.latencySeconds.p95)), r3(max((x) => x.latencySeconds.p99)), r3(max((x) => x.latencySeconds.max)),
      ...COMPARISON_METRICS.map((m) => {
        const v = m.fold === 'sum' ? m.keys.reduce((a, k) => a + extra(k), 0) : max((x) => Math.max(0, ...m.keys.map((k) => x.extra[k] ?? 0)));
        return m.format === 'int' ? Math.round(v) : r3(v);
      }),
      s.ledger.auditProblems, s.sessions.count, s.sessions.completed, s.sessions.abandoned,
      r3(s.sessions.meanWaitSeconds), r3(s.sessions.p95WaitSeconds), r3(s.ledger.meanAuthorizationDelaySeconds), r3(s.ledger.meanPaymentHoldSeconds),
      s.ledger.startTimeouts + s.ledger.failedStarts, s.ledger.paymentTimeouts + s.ledger.failedPayments,
      r3(s.stations.utilizationPct), r3(s.sessions.demandMetPct),
      ...(calc ? calculatingCells(s, r3) : []),
      ...(mob ? mobileCells(s, r3) : []),
      ...(roam ? roamingCells(s, r3) : []),
      ...(tariff ? tariffCells(s, r3) : []),
      ...(attack ? attackCells(s, r3) : []),
    ]);
  }
  return rows;
}

/**
 * Comparison columns of a ledger attack (src/ledger/backends/tangle.ts attackMetrics): the
 * attacker's share q of the issuing rate, whether the conflict was decided and the honest
 * transaction orphaned, after how long (s from the attack), and by a milestone.
 */
export const ATTACK_COLUMNS = ['attack_share', 'attack_decided', 'attack_orphaned', 'attack_decided_after_s', 'attack_by_milestone'] as const;

function attackCells(s: Summary, r3: (x: number) => number | string): (string | number)[] {
  const x = s.ledger.backends.find((b) => b.extra.attackShare !== undefined)?.extra;
  if (x === undefined) return ATTACK_COLUMNS.map(() => '');
  const decided = x.attackDecided === 1;
  return [r3(x.attackShare!), decided ? 1 : 0, x.attackOrphaned ?? 0, decided ? r3(x.attackDecidedAfterS!) : '', x.attackDecidedByMilestone ?? 0];
}

/** Comparison columns of the calculating phase (src/simulation/calculating.ts). */
export const CALCULATING_COLUMNS = [
  'information', 'reservations', 'reservations_final', 'reservation_timeouts', 'calc_mean_s', 'calc_p95_s',
  'stale_choices_pct', 'mean_travel_wait_s',
] as const;

function calculatingCells(s: Summary, r3: (x: number) => number | string): (string | number)[] {
  const c = s.calculating;
  const travelWait = r3(s.sessions.meanTravelToStationSeconds + s.sessions.meanWaitSeconds);
  if (c === undefined) return ['live', 0, 0, 0, '', '', '', travelWait];
  return [
    c.information, c.reservationsSubmitted, c.reservationsFinal, c.reservationTimeouts,
    r3(c.meanCalculatingSeconds), r3(c.p95CalculatingSeconds), r3(c.staleChoicesPct), travelWait,
  ];
}

/** Comparison columns of the mobile chargers (src/simulation/mobile.ts, docs/mobile.md). */
export const MOBILE_COLUMNS = [
  'mobile_requests', 'mobile_served', 'mobile_abandoned', 'mobile_response_s', 'mobile_blocks', 'mobile_rejected_blocks',
  'mobile_parent_bytes', 'mobile_spv_bytes', 'mobile_provider_bytes', 'mobile_billing_problems', 'mobile_audit_problems',
] as const;

function mobileCells(s: Summary, r3: (x: number) => number | string): (string | number)[] {
  const m = s.mobile;
  if (m === undefined) return MOBILE_COLUMNS.map(() => '');
  return [
    m.requests, m.served, m.abandoned, r3(m.meanResponseSeconds), m.chain.blocks, m.chain.rejectedBlocks,
    m.storage.parentMeanBytes, m.storage.spvMeanBytes, m.storage.providerLiveBytes + m.storage.providerArchiveBytes, m.billing.problems, m.auditProblems,
  ];
}

/** Comparison columns of roaming between utilities (src/simulation/roaming.ts, docs/roaming.md). */
export const ROAMING_COLUMNS = [
  'roaming_mode', 'roaming_sessions', 'roaming_kwh', 'refusals', 'auth_first_visit_s', 'auth_cached_s', 'auth_hub_s',
  'settled', 'settle_mean_s', 'revenue_total', 'consumer_surplus', 'hub_fees', 'roaming_messages', 'roaming_audit_problems',
] as const;

function roamingCells(s: Summary, r3: (x: number) => number | string): (string | number)[] {
  const r = s.roaming;
  if (r === undefined) return ROAMING_COLUMNS.map(() => '');
  const a = r.authorization;
  return [
    r.mode, r.totals.roamingSessions, r3(r.totals.roamingKWh), r.refusals.decisions + r.refusals.atStation,
    r3(a.firstVisit.meanSeconds), r3(a.cached.meanSeconds), r3(a.hub.meanSeconds),
    r.settlement.settled, r3(r.settlement.meanSeconds), r3(r.totals.revenue), r3(r.totals.consumerSurplus), r3(r.totals.hubFees),
    r.messages.total, r.auditProblems,
  ];
}

/** Comparison columns of the tariff part (src/simulation/tariffRun.ts). */
export const TARIFF_COLUMNS = [
  'tariff_kind', 'revenue', 'price_per_kwh_charged', 'ev_energy_kwh', 'peak_hour_share_pct', 'ev_kw_at_system_peak',
  'deferrals', 'forecast_mape_pct', 'decision_efficiency_pct',
] as const;

function tariffCells(s: Summary, r3: (x: number) => number | string): (string | number)[] {
  const t = s.tariff;
  if (t === undefined) return ['', '', '', '', '', '', '', '', ''];
  const o = (x: number | undefined) => (x === undefined ? '' : r3(x));
  return [t.kind, r3(t.revenue), r3(t.pricePerKWhCharged), r3(t.evEnergyKWh), o(t.peakHourSharePct), o(t.evKWAtSystemPeak), o(t.deferrals), o(t.forecastMapePct), o(t.decisionEfficiencyPct)];
}

export function comparisonMarkdown(summaries: readonly Summary[]): string {
  const rows = comparisonRows(summaries);
  const keep = ['stack', 'records', 'payments', 'submitted', 'final', 'failed', 'success_pct', 'throughput_tps_caliper', 'latency_p50_s', 'latency_p99_s', 'blocks', 'stale_rate', 'bytes_stored_per_node', 'audit_problems', 'abandoned', 'mean_wait_s', 'auth_delay_s', 'start_timeouts', 'payment_hold_s', 'utilization_pct', 'demand_met_pct'];
  if (rows[0]!.includes('calc_mean_s')) keep.push('reservations', 'reservation_timeouts', 'calc_mean_s', 'calc_p95_s', 'mean_travel_wait_s');
  if (rows[0]!.includes('attack_share')) keep.push(...ATTACK_COLUMNS);
  if (rows[0]!.includes('tariff_kind')) keep.push('tariff_kind', 'revenue', 'peak_hour_share_pct', 'deferrals', 'decision_efficiency_pct');
  const idx = keep.map((k) => rows[0]!.indexOf(k));
  const lines = [`| ${keep.join(' | ')} |`, `|${keep.map(() => '---').join('|')}|`];
  for (const r of rows.slice(1)) lines.push(`| ${idx.map((i) => String(r[i])).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** comparison.csv and comparison.md in `dir`. */
export function writeComparison(dir: string, summaries: readonly Summary[], root: string = dir): string[] {
  assertInside(root, dir);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(assertInside(root, join(dir, 'comparison.csv')), stringify(comparisonRows(summaries)));
  writeFileAtomic(assertInside(root, join(dir, 'comparison.md')), comparisonMarkdown(summaries));
  return ['comparison.csv', 'comparison.md'];
}

/**
 * manifest.json in `dir`, listing `files` (relative to dir) with their sha256 and size; written
 * last, after every file it lists. Returns the manifest.
 */
export function writeManifest(
  dir: string,
  kind: ManifestKind,
  id: ManifestIdentity,
  files: readonly string[],
  stack: { stack: string } | { stacks: string[] },
  root: string = dir,
): Manifest {
  assertInside(root, dir);
  const m = buildManifest(dir, kind, id, files, stack);
  writeFileAtomic(assertInside(root, join(dir, 'manifest.json')), manifestJson(m));
  return m;
}
