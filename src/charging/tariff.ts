/**
 * Electricity tariffs: flat ($/kWh) and time-of-use (TOU) from acnportal's tariff JSON format.
 *
 * Source of the format and of the real tariffs in data/tariffs/ (SCE TOU-EV-4 and TOU-EV-8,
 * PG&E A-10): zach401/acnportal · acnportal/signals/tariffs/tariff_schedules/ · 71802ee73894,
 * BSD-3-Clause (data/tariffs/PROVENANCE.md). A file is
 *   { name, effective?, link?, schedule: [{ id, effective_start: "MM-DD", effective_end: "MM-DD",
 *     dow_mask: "WEEKDAYS" | "WEEKENDS" | "ALL", times: [hour, ...], tariffs: [$/kWh, ...],
 *     demand_charge?: $/kW }] }
 * where block k covers local hours [times[k], times[k+1]) (the last block runs to 24:00).
 *
 * Semantics (deterministic, no wall clock: callers pass epoch seconds UTC, i.e. scenario start +
 * simulated time):
 *  - Local time = UTC + utcOffsetHours (a fixed standard offset, e.g. -8 for California), plus one
 *    hour during US daylight saving time when spec.dst = 'us' (second Sunday of March 02:00 local
 *    standard time to first Sunday of November 02:00 local daylight time; the post-2007 rule,
 *    applied to every year). Default dst = 'none'.
 *  - An entry applies on the month-days effective_start..effective_end inclusive (the range wraps
 *    the year end when start > end; "4-30" and "04-30" both parse) and on the days of its dow_mask
 *    (WEEKDAYS = Mon–Fri, WEEKENDS = Sat–Sun; holidays are not modelled). Every day of the year
 *    must be covered, or loading fails. Where entries overlap, the FIRST in file order wins and
 *    the overlap is reported in `warnings` (pge_a10_tou_aug_2019.json has two winter entries both
 *    marked ALL: its 3-block "Winter-Weekday" entry therefore applies on winter weekends too).
 *  - Block boundaries are exact fractional hours (8.5 = 08:30). acnportal itself truncates them
 *    to whole hours, picks the season from effective_start only and, on a season's start day,
 *    still applies the previous season; this module follows the file as written instead.
 *  - cost(t0, durationS, kW) is the exact integral of price × kW over [t0, t0 + durationS), split
 *    at every block, midnight and DST boundary; demand charges ($/kW, monthly peak) are not part
 *    of per-session prices but are exposed through demandChargeAt.
 *
 * A third kind, `schedule` (ScheduleTariff, below), is an hourly price list published day by day
 * while a run proceeds: the forecast tariff (`tariff.type: forecast`, docs/tariffs.md) publishes
 * each day's 24 prices from a load forecast with `forecastPrices`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../core/errors.js';

export type TariffSpec =
  | { type: 'flat'; pricePerKWh: number; name?: string }
  | { type: 'tou'; file: string; utcOffsetHours: number; dst?: 'none' | 'us' }
  /** built by the simulation from a load forecast (src/simulation/tariffRun.ts), not here */
  | { type: 'forecast'; source: string };

export interface Tariff {
  readonly name: string;
  readonly kind: 'flat' | 'tou' | 'schedule';
  /** Energy price at an instant, $/kWh. */
  priceAt(epochSecondsUtc: number): number;
  /** $ for drawing constant `kW` over [epochStartUtc, epochStartUtc + durationS). */
  cost(epochStartUtc: number, durationS: number, kW: number): number;
  /** Demand charge of the schedule entry in force, $/kW (0 for flat tariffs). */
  demandChargeAt(epochSecondsUtc: number): number;
  /** The first instant > t at which the price may change (Infinity for flat tariffs). */
  nextChangeAfter(epochSecondsUtc: number): number;
  /** Non-fatal findings at load time (e.g. overlapping schedule entries). */
  readonly warnings: readonly string[];
}

const DAY = 86400;

function checkTime(t: number, what = 'epochSecondsUtc'): void {
  if (!Number.isFinite(t)) throw new RangeError(`tariff: ${what} must be finite (got ${t})`);
}

function checkCostArgs(t0: number, durationS: number, kW: number): void {
  checkTime(t0, 'epochStartUtc');
  if (!(durationS >= 0) || !Number.isFinite(durationS)) throw new RangeError(`tariff: durationS must be finite and >= 0 (got ${durationS})`);
  if (!Number.isFinite(kW)) throw new RangeError(`tariff: kW must be finite (got ${kW})`);
}

/** Build a tariff from a scenario spec. Relative TOU file paths resolve against baseDir (default: cwd). */
export function loadTariff(spec: TariffSpec, baseDir?: string): Tariff {
  const s = spec as Partial<Record<string, unknown>> | null;
  if (typeof s !== 'object' || s === null) throw new Error('tariff spec: must be an object');
  if (s.type === 'flat') {
    const p = s.pricePerKWh;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) throw new Error(`tariff spec: pricePerKWh must be a finite number >= 0 (got ${JSON.stringify(p)})`);
    const name = typeof s.name === 'string' ? s.name : `flat ${p} $/kWh`;
    return flatTariff(p, name);
  }
  if (s.type === 'tou') {
    if (typeof s.file !== 'string' || s.file.length === 0) throw new Error('tariff spec: file must be a non-empty string');
    const off = s.utcOffsetHours;
    if (typeof off !== 'number' || !Number.isFinite(off) || off < -14 || off > 14) {
      throw new Error(`tariff spec: utcOffsetHours must be a number in [-14, 14] (got ${JSON.stringify(off)})`);
    }
    const dst = s.dst ?? 'none';
    if (dst !== 'none' && dst !== 'us') throw new Error(`tariff spec: dst must be 'none' or 'us' (got ${JSON.stringify(dst)})`);
    return touTariffFromFile(resolve(baseDir ?? process.cwd(), s.file), off, dst, s.file);
  }
  if (s.type === 'forecast') throw new UserError([`tariff.type: forecast publishes its prices while a simulation runs (src/simulation/tariffRun.ts); here only flat | tou are allowed`]);
  throw new Error(`tariff spec: type must be 'flat' or 'tou' (got ${JSON.stringify(s.type)})`);
}

export function flatTariff(pricePerKWh: number, name = `flat ${pricePerKWh} $/kWh`): Tariff {
  return Object.freeze({
    name,
    kind: 'flat' as const,
    warnings: Object.freeze([]) as readonly string[],
    priceAt(t: number): number {
      checkTime(t);
      return pricePerKWh;
    },
    cost(t0: number, durationS: number, kW: number): number {
      checkCostArgs(t0, durationS, kW);
      return (pricePerKWh * kW * durationS) / 3600;
    },
    demandChargeAt(t: number): number {
      checkTime(t);
      return 0;
    },
    nextChangeAfter(t: number): number {
      checkTime(t);
      return Infinity;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// TOU parsing

interface Entry {
  readonly id: string;
  readonly start: number; // month*32 + day
  readonly end: number;
  readonly dow: readonly boolean[]; // index = JS getUTCDay(): 0 = Sunday
  readonly blockStartS: Float64Array; // seconds since local midnight, strictly increasing, [0] = 0
  readonly prices: Float64Array;
  readonly demandCharge: number;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DOW_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MASKS: Record<string, boolean[]> = {
  WEEKDAYS: [false, true, true, true, true, true, false],
  WEEKENDS: [true, false, false, false, false, false, true],
  ALL: [true, true, true, true, true, true, true],
};

function inRange(e: Entry, md: number): boolean {
  return e.start <= e.end ? md >= e.start && md <= e.end : md >= e.start || md <= e.end;
}

/** Parse a TOU tariff from its JSON text; `label` names the file in error messages. */
export function parseTouTariff(text: string, label: string, utcOffsetHours: number, dst: 'none' | 'us' = 'none'): Tariff {
  const bad = (field: string, problem: string): never => {
    throw new UserError([`tariff file ${label}: ${field} ${problem}`.replace(/\s*\n\s*/g, ' ')]);
  };
  if (text.trim() === '') bad('(whole file)', 'is empty (expected a JSON object {name, schedule: [...]})');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    bad('(whole file)', `is not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad('(whole file)', 'must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (typeof d.name !== 'string' || d.name.length === 0) bad('name', 'must be a non-empty string');
  if (!Array.isArray(d.schedule) || d.schedule.length === 0) bad('schedule', 'must be a non-empty array');

  const parseMD = (field: string, v: unknown): number => {
    const m = typeof v === 'string' ? /^(\d{1,2})-(\d{1,2})$/.exec(v.trim()) : null;
    if (!m) bad(field, `must be "MM-DD" (got ${JSON.stringify(v)})`);
    const month = Number(m![1]);
    const day = Number(m![2]);
    if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) bad(field, `is not a calendar day (got ${JSON.stringify(v)})`);
    return month * 32 + day;
  };

  const entries: Entry[] = (d.schedule as unknown[]).map((raw, i) => {
    const f = `schedule[${i}]`;
    if (typeof raw !== 'object' || raw === null) bad(f, 'must be an object');
    const r = raw as Record<string, unknown>;
    const id = typeof r.id === 'string' ? r.id : `#${i}`;
    const start = parseMD(`${f}.effective_start`, r.effective_start);
    const end = parseMD(`${f}.effective_end`, r.effective_end);
    const dow = typeof r.dow_mask === 'string' ? MASKS[r.dow_mask] : undefined;
    if (!dow) bad(`${f}.dow_mask`, `must be "WEEKDAYS", "WEEKENDS" or "ALL" (got ${JSON.stringify(r.dow_mask)})`);
    const times = r.times;
    const tariffs = r.tariffs;
    if (!Array.isArray(times) || times.length === 0) bad(`${f}.times`, 'must be a non-empty array of hours');
    if (!Array.isArray(tariffs)) bad(`${f}.tariffs`, 'must be an array of $/kWh');
    const ts = times as unknown[];
    const ps = tariffs as unknown[];
    if (ps.length !== ts.length) bad(`${f}.tariffs`, `must have one price per entry of times (${ps.length} vs ${ts.length})`);
    const blockStartS = new Float64Array(ts.length);
    const prices = new Float64Array(ts.length);
    ts.forEach((h, k) => {
      if (typeof h !== 'number' || !Number.isFinite(h) || h < 0 || h >= 24) bad(`${f}.times[${k}]`, `must be an hour in [0, 24) (got ${JSON.stringify(h)})`);
      if (k === 0 && h !== 0) bad(`${f}.times[0]`, `must be 0 (got ${h})`);
      if (k > 0 && !((h as number) > (ts[k - 1] as number))) bad(`${f}.times[${k}]`, `must be greater than times[${k - 1}] (got ${h})`);
      blockStartS[k] = (h as number) * 3600;
      const p = ps[k];
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) bad(`${f}.tariffs[${k}]`, `must be a finite price >= 0 (got ${JSON.stringify(p)})`);
      prices[k] = p as number;
    });
    let demandCharge = 0;
    if (r.demand_charge !== undefined && r.demand_charge !== null) {
      if (typeof r.demand_charge !== 'number' || !Number.isFinite(r.demand_charge) || r.demand_charge < 0) {
        bad(`${f}.demand_charge`, `must be a finite number >= 0 (got ${JSON.stringify(r.demand_charge)})`);
      }
      demandCharge = r.demand_charge as number;
    }
    return { id, start, end, dow: dow!, blockStartS, prices, demandCharge };
  });

  // coverage and overlaps over every (month-day, weekday) combination of a leap year
  const overlaps = new Map<string, number>();
  for (let month = 1; month <= 12; month++) {
    for (let day = 1; day <= DAYS_IN_MONTH[month - 1]!; day++) {
      const md = month * 32 + day;
      for (let w = 0; w < 7; w++) {
        const hits: number[] = [];
        entries.forEach((e, i) => {
          if (e.dow[w] && inRange(e, md)) hits.push(i);
        });
        if (hits.length === 0) {
          const mmdd = `${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          bad('schedule', `has no entry covering ${mmdd} on a ${DOW_NAMES[w]} (check effective_start/effective_end/dow_mask)`);
        }
        for (const j of hits.slice(1)) {
          const key = `${hits[0]}>${j}`;
          overlaps.set(key, (overlaps.get(key) ?? 0) + 1);
        }
      }
    }
  }
  const warnings = [...overlaps].map(([key, n]) => {
    const [a, b] = key.split('>').map(Number) as [number, number];
    return (
      `tariff file ${label}: schedule[${b}] "${entries[b]!.id}" overlaps schedule[${a}] "${entries[a]!.id}" ` +
      `on ${n} (day, weekday) combinations; the first in file order (schedule[${a}]) applies there`
    );
  });

  return new TouTariff(d.name as string, entries, utcOffsetHours, dst, Object.freeze(warnings));
}

function touTariffFromFile(path: string, utcOffsetHours: number, dst: 'none' | 'us', label: string): Tariff {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError([`tariff file ${label}: (whole file) cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parseTouTariff(text, label, utcOffsetHours, dst);
}

// ---------------------------------------------------------------------------------------------
// TOU evaluation

interface Segment {
  price: number;
  demandCharge: number;
  /** First instant (UTC s) after t at which price may change. */
  until: number;
}

class TouTariff implements Tariff {
  readonly kind = 'tou' as const;
  private readonly stdOffS: number;
  private cacheDay = NaN;
  private cacheOff = NaN;
  private cacheEntry: Entry | undefined;
  private readonly dstCache = new Map<number, [number, number]>();

  constructor(
    readonly name: string,
    private readonly entries: readonly Entry[],
    utcOffsetHours: number,
    private readonly dst: 'none' | 'us',
    readonly warnings: readonly string[],
  ) {
    this.stdOffS = utcOffsetHours * 3600;
  }

  priceAt(t: number): number {
    checkTime(t);
    return this.segment(t).price;
  }

  demandChargeAt(t: number): number {
    checkTime(t);
    return this.segment(t).demandCharge;
  }

  nextChangeAfter(t: number): number {
    checkTime(t);
    return this.segment(t).until;
  }

  cost(t0: number, durationS: number, kW: number): number {
    checkCostArgs(t0, durationS, kW);
    // walk in time relative to t0 so a window inside one block costs exactly price·kW·durationS
    let tau = 0;
    let priceSeconds = 0; // $/kWh · s
    while (tau < durationS) {
      const seg = this.segment(t0 + tau);
      const rel = seg.until - t0;
      let e = rel < durationS ? rel : durationS;
      if (!(e > tau)) e = Math.min(durationS, tau + Math.max(Math.abs(t0 + tau) * Number.EPSILON, Number.MIN_VALUE)); // float edge
      priceSeconds += seg.price * (e - tau);
      tau = e;
    }
    return (priceSeconds * kW) / 3600;
  }

  /** [start, end) of US DST in UTC seconds for a year. */
  private dstWindow(year: number): [number, number] {
    let w = this.dstCache.get(year);
    if (!w) {
      const marchFirstDow = new Date(Date.UTC(year, 2, 1)).getUTCDay();
      const secondSunday = 1 + ((7 - marchFirstDow) % 7) + 7;
      const novFirstDow = new Date(Date.UTC(year, 10, 1)).getUTCDay();
      const firstSunday = 1 + ((7 - novFirstDow) % 7);
      const start = Date.UTC(year, 2, secondSunday, 2) / 1000 - this.stdOffS; // 02:00 standard
      const end = Date.UTC(year, 10, firstSunday, 2) / 1000 - (this.stdOffS + 3600); // 02:00 daylight
      w = [start, end];
      this.dstCache.set(year, w);
    }
    return w;
  }

  /** Offset (s) in force at t and the next instant the offset changes. */
  private offsetAt(t: number): [number, number] {
    if (this.dst === 'none') return [this.stdOffS, Infinity];
    const year = new Date(Math.floor(t + this.stdOffS) * 1000).getUTCFullYear();
    const [s, e] = this.dstWindow(year);
    if (t < s) return [this.stdOffS, s];
    if (t < e) return [this.stdOffS + 3600, e];
    return [this.stdOffS, this.dstWindow(year + 1)[0]];
  }

  private entryFor(dayIndex: number, off: number): Entry {
    if (dayIndex === this.cacheDay && off === this.cacheOff && this.cacheEntry) return this.cacheEntry;
    const date = new Date(dayIndex * DAY * 1000);
    const md = (date.getUTCMonth() + 1) * 32 + date.getUTCDate();
    const w = date.getUTCDay();
    const e = this.entries.find((x) => x.dow[w] && inRange(x, md));
    if (!e) throw new Error(`tariff ${this.name}: no schedule entry for ${date.toISOString().slice(0, 10)}`); // excluded at load
    this.cacheDay = dayIndex;
    this.cacheOff = off;
    this.cacheEntry = e;
    return e;
  }

  private segment(t: number): Segment {
    const [off, offUntil] = this.offsetAt(t);
    const local = t + off;
    const dayIndex = Math.floor(local / DAY);
    const sod = local - dayIndex * DAY;
    const e = this.entryFor(dayIndex, off);
    const bs = e.blockStartS;
    let k = bs.length - 1;
    while (k > 0 && bs[k]! > sod) k--;
    const nextLocal = dayIndex * DAY + (k + 1 < bs.length ? bs[k + 1]! : DAY);
    const blockUntil = nextLocal - off;
    return { price: e.prices[k]!, demandCharge: e.demandCharge, until: blockUntil < offUntil ? blockUntil : offUntil };
  }
}

// ---------------------------------------------------------------------------------------------
// Hourly schedule tariffs (the forecast tariff, docs/tariffs.md)

/**
 * An hourly price list ($/kWh per UTC hour) published in whole days while a run proceeds. Prices
 * are asked for only inside the published span [firstHourEpoch, publishedUntil); anything else is a
 * programming error (RangeError). Every published day is kept in `days` for summary.json and the
 * integrity audit (charged prices equal the published schedule).
 */
export class ScheduleTariff implements Tariff {
  readonly kind = 'schedule' as const;
  readonly warnings: readonly string[] = Object.freeze([]);
  private firstHour = NaN; // epoch / 3600 of the first published hour
  private prices: number[] = [];
  readonly days: { startEpoch: number; prices: Float64Array; forecastMW: Float64Array; actualMW: Float64Array }[] = [];

  constructor(readonly name: string) {}

  /** Publish 24 (or n) hourly prices starting at the hour `startEpoch` (must follow the last published hour). */
  publish(startEpoch: number, prices: ArrayLike<number>, forecastMW: Float64Array, actualMW: Float64Array): void {
    if (startEpoch % 3600 !== 0) throw new RangeError(`schedule tariff: a day must start on an hour (got ${startEpoch})`);
    const h = startEpoch / 3600;
    if (this.prices.length === 0) this.firstHour = h;
    else if (h !== this.firstHour + this.prices.length) throw new RangeError(`schedule tariff: day starting ${startEpoch} does not follow the published hours`);
    for (let i = 0; i < prices.length; i++) {
      const p = prices[i]!;
      if (!Number.isFinite(p) || p < 0) throw new RangeError(`schedule tariff: price ${p} of hour ${i} must be finite and >= 0`);
      this.prices.push(p);
    }
    this.days.push({ startEpoch, prices: Float64Array.from(prices), forecastMW, actualMW });
  }

  /** First instant after the published hours (NaN before the first publication). */
  get publishedUntil(): number {
    return (this.firstHour + this.prices.length) * 3600;
  }

  private index(t: number): number {
    checkTime(t);
    const i = Math.floor(t / 3600 - this.firstHour);
    if (!(i >= 0 && i < this.prices.length)) throw new RangeError(`schedule tariff ${this.name}: no price published for epoch ${t}`);
    return i;
  }

  priceAt(t: number): number {
    return this.prices[this.index(t)]!;
  }

  /** The published price of the hour containing t, or NaN when it is not published (look-ahead). */
  publishedPriceAt(t: number): number {
    const i = Math.floor(t / 3600 - this.firstHour);
    return i >= 0 && i < this.prices.length ? this.prices[i]! : NaN;
  }

  cost(t0: number, durationS: number, kW: number): number {
    checkCostArgs(t0, durationS, kW);
    let priceSeconds = 0;
    let t = t0;
    const end = t0 + durationS;
    while (t < end) {
      const next = Math.min(end, (Math.floor(t / 3600) + 1) * 3600);
      priceSeconds += this.priceAt(t) * (next - t);
      t = next;
    }
    return (priceSeconds * kW) / 3600;
  }

  demandChargeAt(t: number): number {
    checkTime(t);
    return 0;
  }

  nextChangeAfter(t: number): number {
    checkTime(t);
    return (Math.floor(t / 3600) + 1) * 3600;
  }
}

/** The price rule of the forecast tariff. */
export interface ForecastPriceRule {
  /** $/kWh of a day at its mean forecast load (before calibration) */
  basePricePerKWh: number;
  /** elasticity k of price to forecast load */
  exponent: number;
  /** clamp of the factor (forecast/mean)^k */
  minFactor: number;
  maxFactor: number;
}

/**
 * Hourly prices of one day from its forecast loads F_h (MW):
 *   factor_h = clamp((F_h / mean(F))^k, minFactor, maxFactor),   price_h = base × factor_h.
 * With `calibrateMean` (the mean of the comparator tariff's 24 hourly prices of the same day), base
 * is chosen so that the day's mean price equals it: base = calibrateMean / mean(factor). That is
 * revenue-neutral for a load that is flat over the day (an approximation: the city's EV load is
 * not flat; the measured revenue difference is reported, docs/tariffs.md).
 */
export function forecastPrices(forecastMW: ArrayLike<number>, rule: ForecastPriceRule, calibrateMean?: number): Float64Array {
  const n = forecastMW.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += forecastMW[i]!;
  m /= n;
  if (!(m > 0)) throw new RangeError(`forecastPrices: mean forecast load must be > 0 (got ${m})`);
  const f = new Float64Array(n);
  let fm = 0;
  for (let i = 0; i < n; i++) {
    const x = (forecastMW[i]! / m) ** rule.exponent;
    f[i] = x < rule.minFactor ? rule.minFactor : x > rule.maxFactor ? rule.maxFactor : x;
    fm += f[i]!;
  }
  fm /= n;
  const base = calibrateMean === undefined ? rule.basePricePerKWh : calibrateMean / fm;
  for (let i = 0; i < n; i++) f[i] = base * f[i]!;
  return f;
}

/** Time-mean of a tariff's price over the `hours` hours from startEpoch (each hour's exact integral). */
export function meanHourlyPrice(t: Tariff, startEpoch: number, hours = 24): number {
  let s = 0;
  for (let i = 0; i < hours; i++) s += t.cost(startEpoch + i * 3600, 3600, 1);
  return s / hours;
}
