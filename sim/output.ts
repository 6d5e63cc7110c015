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
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { SESSION_STATUS_NAMES } from '../agents/station.js';
import { STATE_NAMES } from '../agents/ev.js';
import type { SimResult } from './simulation.js';

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

/** Write every results file of one run into `dir`; summary.json last. */
export function writeResults(dir: string, r: SimResult, timing: () => Record<string, unknown>): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, data: string) => {
    writeFileAtomic(join(dir, name), data);
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
  put('timing.json', JSON.stringify(timing(), null, 2) + '\n');
  put('summary.json', JSON.stringify(r.summary, null, 2) + '\n');
  return written;
}
