/**
 * The tariff of one run and what the tariff part measures (docs/tariffs.md).
 *
 * - Static tariffs (flat, tou) are loaded as before. The forecast tariff (`tariff.type: forecast`)
 *   is a ScheduleTariff (src/charging/tariff.ts) whose prices are published one day at a time: the
 *   first day (the one containing `start`; days begin at grid.dayStartUtcHour) when the run is
 *   built, every later day by a `tariff-publish` event at the day's first instant, PRIORITY.LEDGER
 *   (it changes only the tariff, which no priority-0 event reads). Each publication makes exactly
 *   one forecaster call (the TF.js model: one forward pass) for the day's 24 hours, from loads
 *   before the day only, and applies the price rule `forecastPrices`.
 * - Every charge record is priced through a metering wrapper: it bins the record's energy by UTC
 *   hour (EV load profile, peak-hour share, load coincident with the system peak) and sums the
 *   revenue; for the forecast tariff it re-prices the record independently from the published day
 *   list and counts mismatches (the integrity audit: prices charged equal the published schedule).
 * - The fleet's price response (`fleet.priceResponse`, src/simulation/fleet.ts) reads prices through
 *   `priceAt` and `minPriceWithin`, which never look past the published hours.
 * summary.json gets `tariff` only when the tariff is `forecast` or the price response is on.
 */
import { actualForecaster, mape, naiveForecaster, readGridLoad, type DayForecaster, type GridLoad } from '../charging/gridLoad.js';
import { forecastPrices, loadTariff, meanHourlyPrice, ScheduleTariff, type Tariff } from '../charging/tariff.js';
import type { Session } from '../charging/station.js';
import { UserError } from '../core/errors.js';
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import { resolveScenarioPath, type Scenario } from '../scenario/scenario.js';

const DAY = 86400;

export interface TariffSummary {
  kind: string;
  name: string;
  /** forecast tariffs: where the day-ahead loads came from */
  source?: string;
  /** forecaster calls (one per published day) */
  forecastCalls?: number;
  days?: { start: string; pricesPerKWh: number[]; forecastMW: number[]; actualMW: number[]; mapePct: number; peakHourHits: number }[];
  /** MAPE (%) of the published days' forecasts against the actual loads */
  forecastMapePct?: number;
  /** mean over days of |top-k forecast hours ∩ top-k actual hours| / k */
  peakHourHitRate?: number;
  /** mean price ($/kWh) over the run's hours (time-weighted) and per kWh charged */
  meanPricePerKWh: number;
  pricePerKWhCharged: number;
  revenue: number;
  evEnergyKWh: number;
  /** EV energy by hour of the tariff day (hour 0 starts at grid.dayStartUtcHour; UTC hour
   * otherwise), kWh */
  evEnergyByHourKWh: number[];
  /** largest hourly EV energy of the run (= the hour's mean kW) */
  evPeakHourKW: number;
  /** with a grid: EV energy in each day's grid.peakHours hours of highest actual system load */
  peakHourEnergyKWh?: number;
  peakHourSharePct?: number;
  /** with a grid: mean over days of the EV load (hour-mean kW) in the system's peak hour */
  evKWAtSystemPeak?: number;
  /** EVs that deferred a charge for a cheaper hour (fleet.priceResponse), decisions */
  deferrals?: number;
  /** forecast tariff with price response: price-response decisions taken, and the share (%) that
   * the same rule on the perfect-foresight schedule (the price rule applied to the actual loads)
   * would have taken the same way: the decision efficiency (docs/tariffs.md) */
  decisions?: number;
  decisionEfficiencyPct?: number;
  /** charge records whose price differs from the published schedule; sessions whose total differs */
  auditMismatches: number;
}

export class TariffRun {
  /** what the protocol prices records with (the metering wrapper) */
  readonly tariff: Tariff;
  private readonly base: Tariff;
  private readonly schedule: ScheduleTariff | null = null;
  private readonly grid: GridLoad | null = null;
  private readonly forecaster: DayForecaster | null = null;
  private readonly calibrate: Tariff | null = null;
  private readonly startEpoch: number;
  private readonly dayStartS: number;
  /** EV energy per UTC hour of the run, kWh: index = epoch hour − firstHour */
  private readonly evKWh: Float64Array;
  private readonly firstHour: number;
  private revenue = 0;
  private mismatches = 0;
  private auditLines: string[] = [];
  deferrals = 0;
  /** forecaster calls of this run (one per published day) */
  private forecastCalls = 0;
  /** the perfect-foresight schedule (the rule on the actual loads), for the decision efficiency only */
  private readonly shadow: ScheduleTariff | null = null;
  private decisions = 0;
  private agreed = 0;
  private readonly kPublish: number;

  constructor(
    private readonly sc: Scenario,
    private readonly kernel: Kernel,
    forecaster?: DayForecaster,
  ) {
    this.startEpoch = Date.parse(sc.start) / 1000;
    this.dayStartS = (sc.grid?.dayStartUtcHour ?? 0) * 3600;
    this.firstHour = Math.floor(this.startEpoch / 3600);
    this.evKWh = new Float64Array(Math.ceil((this.startEpoch + sc.duration) / 3600) - this.firstHour + 1);
    if (sc.grid) this.grid = readGridLoad(resolveScenarioPath(sc, sc.grid.load), sc.grid.load);
    const t = sc.tariff;
    if (t.type === 'forecast') {
      if (!this.grid) throw new UserError([`${sc.file}: tariff: type forecast needs a grid block (grid.load: the hourly grid load CSV)`]);
      if (t.minFactor > t.maxFactor) throw new UserError([`${sc.file}: tariff.minFactor: must be <= tariff.maxFactor (got ${t.minFactor} > ${t.maxFactor})`]);
      if (t.source === 'model') {
        if (!forecaster) throw new UserError([`${sc.file}: tariff.source: "model" needs its forecaster loaded first (loadForecastParts in src/ai/loadForecast.ts, then createSimulation(sc, city, { loadForecaster }))`]);
        this.forecaster = forecaster;
      } else if (t.source === 'actual') this.forecaster = actualForecaster(this.grid);
      else this.forecaster = naiveForecaster(this.grid, t.source === 'seasonal-naive-24' ? 24 : 168);
      if (t.calibrate) this.calibrate = loadTariff({ type: 'tou', ...t.calibrate, file: resolveScenarioPath(sc, t.calibrate.file) });
      this.shadow = new ScheduleTariff('perfect foresight (evaluation only)');
      this.schedule = new ScheduleTariff(`forecast (${t.source}${t.calibrate ? `, mean-matched to ${t.calibrate.file}` : `, base ${t.basePricePerKWh} $/kWh`}, k ${t.exponent})`);
      this.base = this.schedule;
    } else {
      this.base = loadTariff(t.type === 'tou' ? { ...t, file: resolveScenarioPath(sc, t.file) } : t);
    }
    this.kPublish = kernel.register('tariff-publish', () => this.publishDay(this.startEpoch + kernel.now));
    if (this.schedule) {
      const day0 = this.dayOf(this.startEpoch);
      this.publishDay(day0);
    }
    // metered only where summary.json gets the tariff section (other runs price exactly as before)
    this.tariff = t.type === 'forecast' || sc.fleet.priceResponse ? this.meter(this.base) : this.base;
  }

  /** Start (epoch) of the tariff day containing epoch t. */
  private dayOf(t: number): number {
    return Math.floor((t - this.dayStartS) / DAY) * DAY + this.dayStartS;
  }

  private publishDay(dayStart: number): void {
    const g = this.grid!;
    const t = this.sc.tariff;
    if (t.type !== 'forecast') return;
    const h0 = (dayStart - g.startEpoch) / 3600;
    if (h0 < 168 || h0 + 24 > g.mw.length) throw new UserError([`${this.sc.file}: start: tariff day ${new Date(dayStart * 1000).toISOString()} (and the 168 h before) is outside grid.load ${g.label}`]);
    const f = this.forecaster!.forecastDay(h0);
    this.forecastCalls++;
    const calib = this.calibrate ? meanHourlyPrice(this.calibrate, dayStart) : undefined;
    const prices = forecastPrices(f, { basePricePerKWh: t.basePricePerKWh, exponent: t.exponent, minFactor: t.minFactor, maxFactor: t.maxFactor }, calib);
    const actual = g.mw.slice(h0, h0 + 24);
    this.schedule!.publish(dayStart, prices, f, actual);
    const rule = { basePricePerKWh: t.basePricePerKWh, exponent: t.exponent, minFactor: t.minFactor, maxFactor: t.maxFactor };
    this.shadow!.publish(dayStart, forecastPrices(actual, rule, calib), actual, actual);
    const next = dayStart + DAY - this.startEpoch;
    if (next < this.sc.duration) this.kernel.schedule(next, PRIORITY.LEDGER, this.kPublish);
  }

  /** The tariff wrapped so that every priced record is metered (and, for a schedule, audited). */
  private meter(inner: Tariff): Tariff {
    const self = this;
    return {
      name: inner.name,
      kind: inner.kind,
      warnings: inner.warnings,
      priceAt: (t) => inner.priceAt(t),
      demandChargeAt: (t) => inner.demandChargeAt(t),
      nextChangeAfter: (t) => inner.nextChangeAfter(t),
      cost(t0: number, durationS: number, kW: number): number {
        const c = inner.cost(t0, durationS, kW);
        self.revenue += c;
        let t = t0;
        const end = t0 + durationS;
        let check = 0;
        while (t < end) {
          const hour = Math.floor(t / 3600);
          const next = Math.min(end, (hour + 1) * 3600);
          self.evKWh[hour - self.firstHour]! += (kW * (next - t)) / 3600;
          if (self.schedule) check += self.publishedPrice(hour) * kW * (next - t);
          t = next;
        }
        if (self.schedule && !(Math.abs(check / 3600 - c) <= 1e-9 * Math.max(1, Math.abs(c)))) {
          self.mismatches++;
          if (self.auditLines.length < 5) self.auditLines.push(`tariff: record at ${t0} priced ${c}, the published schedule gives ${check / 3600}`);
        }
        return c;
      },
    };
  }

  /** The price of an hour from the published day list (the audit's independent lookup). */
  private publishedPrice(hour: number): number {
    for (const d of this.schedule!.days) {
      const i = hour - d.startEpoch / 3600;
      if (i >= 0 && i < d.prices.length) return d.prices[i]!;
    }
    return NaN;
  }

  /** Price ($/kWh) at simulated time t. */
  priceAt(t: number): number {
    return this.base.priceAt(this.startEpoch + t);
  }

  /** Lowest price over [t, t + lookahead) of simulated time, looking only at published prices. */
  minPriceWithin(t: number, lookaheadS: number, schedule = this.schedule): number {
    let e = this.startEpoch + t;
    const end = e + lookaheadS;
    let m = Infinity;
    if (schedule) {
      const until = Math.min(end, schedule.publishedUntil);
      while (e < until) {
        const p = schedule.publishedPriceAt(e);
        if (p < m) m = p;
        e = (Math.floor(e / 3600) + 1) * 3600;
      }
      return m;
    }
    while (e < end) {
      const p = this.base.priceAt(e);
      if (p < m) m = p;
      e = this.base.nextChangeAfter(e);
    }
    return m;
  }

  /** A price-response decision under the published prices: would the perfect-foresight schedule
   * (same rule, same published span) have decided the same? */
  decided(t: number, lookaheadS: number, needKWh: number, minSavings: number, deferred: boolean): void {
    if (!this.shadow) return;
    const saving = (this.shadow.priceAt(this.startEpoch + t) - this.minPriceWithin(t, lookaheadS, this.shadow)) * needKWh;
    const would = saving >= minSavings && saving > 0;
    this.decisions++;
    if (would === deferred) this.agreed++;
  }

  /** Sessions' totals against the metered records (every session's price is the sum of its records). */
  private auditSessions(sessions: readonly Session[]): void {
    let total = 0;
    for (const s of sessions) total += s.price;
    if (!(Math.abs(total - this.revenue) <= 1e-6 * Math.max(1, Math.abs(this.revenue)))) {
      this.mismatches++;
      this.auditLines.push(`tariff: sessions' prices sum to ${total}, the priced records to ${this.revenue}`);
    }
  }

  /** Audit findings (appended to the ledger audit, so a mismatch makes `evsim run` exit 3). */
  get audit(): readonly string[] {
    return this.auditLines;
  }

  summary(sessions: readonly Session[]): TariffSummary | undefined {
    const sc = this.sc;
    if (sc.tariff.type !== 'forecast' && !sc.fleet.priceResponse) return undefined;
    this.auditSessions(sessions);
    const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
    const r3 = (x: number) => Math.round(x * 1e3) / 1e3;
    const byHour = new Array<number>(24).fill(0);
    let total = 0;
    let peak = 0;
    for (let j = 0; j < this.evKWh.length; j++) {
      const h = this.firstHour + j;
      const e = this.evKWh[j]!;
      byHour[(((h * 3600 - this.dayStartS) / 3600) % 24 + 24) % 24]! += e;
      total += e;
      if (e > peak) peak = e;
    }
    // time-mean price over the run
    let ps = 0;
    const t0 = this.startEpoch;
    for (let t = 0; t < sc.duration; t += 3600) ps += this.base.cost(t0 + t, Math.min(3600, sc.duration - t), 1);
    const out: TariffSummary = {
      kind: sc.tariff.type,
      name: this.base.name,
      meanPricePerKWh: r6(ps / (sc.duration / 3600)),
      pricePerKWhCharged: total > 0 ? r6(this.revenue / total) : 0,
      revenue: r3(this.revenue),
      evEnergyKWh: r3(total),
      evEnergyByHourKWh: byHour.map(r3),
      evPeakHourKW: r3(peak),
      auditMismatches: this.mismatches,
    };
    if (sc.tariff.type === 'forecast') {
      out.source = sc.tariff.source;
      out.forecastCalls = this.forecastCalls;
    }
    if (this.grid && sc.grid) {
      const k = sc.grid.peakHours;
      const g = this.grid;
      let peakE = 0;
      let atPeak = 0;
      let nDays = 0;
      const topK = (v: ArrayLike<number>) => Array.from(v, (x, i) => [x, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map((p) => p[1]);
      for (let d = this.dayOf(t0); d < t0 + sc.duration; d += DAY) {
        const h0 = (d - g.startEpoch) / 3600;
        if (h0 < 0 || h0 + 24 > g.mw.length) continue;
        const top = topK(g.mw.subarray(h0, h0 + 24));
        const ev = (i: number) => this.evKWh[d / 3600 + i - this.firstHour] ?? 0;
        for (const i of top) peakE += ev(i);
        atPeak += ev(top[0]!);
        nDays++;
      }
      out.peakHourEnergyKWh = r3(peakE);
      out.peakHourSharePct = total > 0 ? r3((100 * peakE) / total) : 0;
      out.evKWAtSystemPeak = nDays ? r3(atPeak / nDays) : 0;
      if (this.schedule) {
        const days = this.schedule.days;
        const f = new Float64Array(days.length * 24);
        const a = new Float64Array(days.length * 24);
        let hits = 0;
        out.days = days.map((d, j) => {
          f.set(d.forecastMW, j * 24);
          a.set(d.actualMW, j * 24);
          const ta = new Set(topK(d.actualMW));
          const h = topK(d.forecastMW).filter((i) => ta.has(i)).length;
          hits += h / k;
          return {
            start: new Date(d.startEpoch * 1000).toISOString(),
            pricesPerKWh: Array.from(d.prices, r6),
            forecastMW: Array.from(d.forecastMW, (x) => Math.round(x)),
            actualMW: Array.from(d.actualMW),
            mapePct: r3(mape(d.forecastMW, d.actualMW)),
            peakHourHits: h,
          };
        });
        out.forecastMapePct = r3(mape(f, a));
        out.peakHourHitRate = r3(hits / days.length);
      }
    }
    if (sc.fleet.priceResponse) out.deferrals = this.deferrals;
    if (sc.fleet.priceResponse && this.shadow) {
      out.decisions = this.decisions;
      out.decisionEfficiencyPct = this.decisions ? r3((100 * this.agreed) / this.decisions) : 100;
    }
    return out;
  }
}
