import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTariff, type Tariff, type TariffSpec } from '../../src/charging/tariff.js';
import { UserError } from '../../src/core/errors.js';

const PST = -8;
/** Epoch seconds of a local wall-clock time at a fixed UTC offset. */
const at = (y: number, mo: number, d: number, h: number, mi = 0, s = 0, off = PST): number =>
  Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - off * 3600;

const tou = (file: string, extra: Partial<Extract<TariffSpec, { type: 'tou' }>> = {}): Tariff =>
  loadTariff({ type: 'tou', file: `data/tariffs/${file}`, utcOffsetHours: PST, ...extra });

const ev4 = tou('sce_tou_ev_4_march_2019.json');
const a10 = tou('pge_a10_tou_aug_2019.json');
const ev8 = tou('sce_tou_ev_8_june_2019.json');

describe('SCE TOU-EV-4 (March 2019)', () => {
  it('has the name from the file', () => {
    expect(ev4.name).toBe('SCE TOU-EV-4');
    expect(ev4.kind).toBe('tou');
    expect(ev4.warnings).toEqual([]);
  });
  it('winter weekday blocks (Mon 2019-03-04)', () => {
    const p = (h: number, mi = 0, s = 0) => ev4.priceAt(at(2019, 3, 4, h, mi, s));
    expect(p(0)).toBe(0.06087);
    expect(p(7, 59, 59)).toBe(0.06087);
    expect(p(8)).toBe(0.07492);
    expect(p(11, 59, 59)).toBe(0.07492);
    expect(p(12)).toBe(0.0869);
    expect(p(17, 59)).toBe(0.0869);
    expect(p(18)).toBe(0.07492);
    expect(p(22, 59)).toBe(0.07492);
    expect(p(23)).toBe(0.06087);
    expect(ev4.priceAt(at(2019, 3, 1, 13))).toBe(0.0869); // Friday
  });
  it('winter weekend is flat (Sat 03-02, Sun 03-03)', () => {
    for (const h of [0, 9, 13, 19, 23]) {
      expect(ev4.priceAt(at(2019, 3, 2, h))).toBe(0.06087);
      expect(ev4.priceAt(at(2019, 3, 3, h))).toBe(0.06087);
    }
  });
  it('season boundaries are inclusive day ranges', () => {
    expect(ev4.priceAt(at(2019, 5, 31, 13))).toBe(0.0869); // Fri, last winter day
    expect(ev4.priceAt(at(2019, 6, 3, 13))).toBe(0.26668); // Mon, summer on-peak
    expect(ev4.priceAt(at(2019, 6, 1, 13))).toBe(0.05623); // Sat, summer weekend
    expect(ev4.priceAt(at(2019, 9, 30, 13))).toBe(0.26668); // Mon, last summer day
    expect(ev4.priceAt(at(2019, 10, 1, 13))).toBe(0.0869); // Tue, winter
    expect(ev4.demandChargeAt(at(2019, 3, 4, 13))).toBe(15.51);
  });
  it('local time honours US daylight saving when asked (DST began Sun 2019-03-10)', () => {
    const dst = tou('sce_tou_ev_4_march_2019.json', { dst: 'us' });
    const noon = at(2019, 3, 11, 12, 0, 0, -7); // 12:00 PDT = 19:00Z
    expect(dst.priceAt(noon)).toBe(0.0869);
    expect(ev4.priceAt(noon)).toBe(0.07492); // fixed -8: 11:00 local
    expect(dst.priceAt(at(2019, 3, 4, 12))).toBe(0.0869); // before DST both agree
    expect(ev4.priceAt(at(2019, 3, 4, 12))).toBe(0.0869);
    // the transition instant itself: 2019-03-10 02:00 PST = 10:00Z (a Sunday, flat price)
    expect(dst.nextChangeAfter(at(2019, 3, 10, 1))).toBe(Date.UTC(2019, 2, 10, 10) / 1000);
    // DST ends Sun 2019-11-03 02:00 PDT = 09:00Z
    expect(dst.nextChangeAfter(at(2019, 11, 3, 0, 30, 0, -7))).toBe(Date.UTC(2019, 10, 3, 9) / 1000);
    expect(dst.priceAt(at(2019, 11, 4, 8, 0, 0, -8))).toBe(0.07492); // Mon 08:00 PST
  });
});

describe('PG&E A-10 TOU (Aug 2019)', () => {
  it('summer weekday blocks at fractional hours (Mon 2019-08-05)', () => {
    const p = (h: number, mi = 0, s = 0) => a10.priceAt(at(2019, 8, 5, h, mi, s));
    expect(p(8, 29, 59)).toBe(0.14903);
    expect(p(8, 30)).toBe(0.1771);
    expect(p(11, 59)).toBe(0.1771);
    expect(p(12)).toBe(0.23223);
    expect(p(18)).toBe(0.1771);
    expect(p(21, 29, 59)).toBe(0.1771);
    expect(p(21, 30)).toBe(0.14903);
    expect(a10.priceAt(at(2019, 8, 3, 13))).toBe(0.14903); // Saturday
    expect(a10.demandChargeAt(at(2019, 8, 5, 13))).toBe(19.99);
  });
  it('winter (11-01..4-30, "4-30" parsed) and the overlapping ALL entries: first in file order wins', () => {
    expect(a10.priceAt(at(2019, 1, 15, 10))).toBe(0.1477); // Tue
    expect(a10.priceAt(at(2019, 1, 15, 8))).toBe(0.13064);
    expect(a10.priceAt(at(2019, 1, 15, 22))).toBe(0.13064);
    expect(a10.priceAt(at(2019, 1, 19, 10))).toBe(0.1477); // Sat: "Winter-Weekday" is marked ALL
    expect(a10.priceAt(at(2019, 4, 30, 13))).toBe(0.1477); // Tue, last winter day
    expect(a10.priceAt(at(2019, 5, 1, 13))).toBe(0.23223); // Wed, summer
    expect(a10.priceAt(at(2019, 10, 31, 13))).toBe(0.23223); // Thu, last summer day
    expect(a10.priceAt(at(2019, 11, 1, 13))).toBe(0.1477); // Fri, winter
    expect(a10.demandChargeAt(at(2019, 1, 15, 10))).toBe(11.66);
    expect(a10.warnings).toHaveLength(1);
    expect(a10.warnings[0]).toMatch(/pge_a10_tou_aug_2019\.json: schedule\[3\] "Winter-Weekend" overlaps schedule\[2\] "Winter-Weekday"/);
  });
});

describe('SCE TOU-EV-8 (June 2019)', () => {
  it('summer weekday / weekend 16-21 h peak', () => {
    expect(ev8.priceAt(at(2019, 6, 3, 15, 59, 59))).toBe(0.12597);
    expect(ev8.priceAt(at(2019, 6, 3, 16))).toBe(0.49619);
    expect(ev8.priceAt(at(2019, 6, 3, 20, 59))).toBe(0.49619);
    expect(ev8.priceAt(at(2019, 6, 3, 21))).toBe(0.12597);
    expect(ev8.priceAt(at(2019, 6, 8, 17))).toBe(0.25563); // Sat
    expect(ev8.priceAt(at(2019, 6, 8, 10))).toBe(0.12597);
    expect(ev8.priceAt(at(2019, 9, 30, 17))).toBe(0.49619); // "9-30", Mon
  });
  it('winter, all days', () => {
    expect(ev8.priceAt(at(2019, 1, 15, 7))).toBe(0.13568);
    expect(ev8.priceAt(at(2019, 1, 15, 8))).toBe(0.07724);
    expect(ev8.priceAt(at(2019, 1, 15, 16))).toBe(0.297);
    expect(ev8.priceAt(at(2019, 1, 19, 16, 30))).toBe(0.297); // Sat
    expect(ev8.priceAt(at(2019, 1, 15, 21))).toBe(0.13568);
    expect(ev8.priceAt(at(2019, 10, 1, 17))).toBe(0.297);
    expect(ev8.demandChargeAt(at(2019, 1, 15, 16))).toBe(0);
  });
});

describe('cost integral', () => {
  it('splits exactly at a block boundary', () => {
    // Mon 2019-03-04 11:00-13:00 at 10 kW: 1 h at 0.07492 + 1 h at 0.0869
    expect(ev4.cost(at(2019, 3, 4, 11), 7200, 10)).toBeCloseTo(10 * (0.07492 + 0.0869), 12);
    // A-10 08:00-09:00: half an hour each side of 08:30
    expect(a10.cost(at(2019, 8, 5, 8), 3600, 1)).toBeCloseTo(0.5 * 0.14903 + 0.5 * 0.1771, 12);
  });
  it('crosses midnight from a weekday into the weekend', () => {
    // Fri 2019-03-01 22:00 -> Sat 02:00 at 7 kW
    expect(ev4.cost(at(2019, 3, 1, 22), 4 * 3600, 7)).toBeCloseTo(7 * (0.07492 + 0.06087 + 2 * 0.06087), 12);
  });
  it('equals the sum of per-second prices over a long, arbitrary window', () => {
    const t0 = at(2019, 3, 7, 5, 17, 0);
    const dur = 40 * 3600; // Thu 05:17 -> Fri 21:17
    let sum = 0;
    for (let k = 0; k < dur; k++) sum += ev4.priceAt(t0 + k + 0.5);
    expect(ev4.cost(t0, dur, 3600)).toBeCloseTo(sum, 9);
  });
  it('is additive over adjacent windows and linear in kW (property)', () => {
    const base = at(2019, 1, 1, 0);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 365 * 86400, noNaN: true }),
        fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 3 * 86400, noNaN: true })),
        fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 3 * 86400, noNaN: true })),
        fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 350, noNaN: true })),
        (off, d1, d2, kw) => {
          for (const tf of [ev4, a10, ev8]) {
            const t0 = base + off;
            const whole = tf.cost(t0, d1 + d2, kw);
            const parts = tf.cost(t0, d1, kw) + tf.cost(t0 + d1, d2, kw);
            expect(Math.abs(whole - parts)).toBeLessThanOrEqual(1e-9 * Math.max(1, whole));
            expect(whole).toBeGreaterThanOrEqual(0);
            const lo = Math.min(0.05623, 0.07724, 0.13064);
            expect(whole).toBeGreaterThanOrEqual(((lo * kw * (d1 + d2)) / 3600) * (1 - 1e-12));
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
  it('a window inside one block costs exactly price · kW · duration', () => {
    const t = at(2019, 3, 4, 12, 0, 0) + 0.123;
    expect(ev4.cost(t, 1e-3, 11)).toBe((0.0869 * 11 * 1e-3) / 3600);
    expect(ev4.cost(t, 900, 11)).toBe((0.0869 * 11 * 900) / 3600);
  });
  it('nextChangeAfter gives the next block start', () => {
    expect(ev4.nextChangeAfter(at(2019, 3, 4, 10))).toBe(at(2019, 3, 4, 12));
    expect(a10.nextChangeAfter(at(2019, 8, 5, 7))).toBe(at(2019, 8, 5, 8, 30));
  });
  it('zero duration costs nothing; negative duration is an error', () => {
    expect(ev4.cost(at(2019, 3, 4, 11), 0, 10)).toBe(0);
    expect(() => ev4.cost(at(2019, 3, 4, 11), -1, 10)).toThrow(RangeError);
  });
});

describe('flat tariff', () => {
  it('prices and integrates a constant $/kWh', () => {
    const f = loadTariff({ type: 'flat', pricePerKWh: 0.3 });
    expect(f.kind).toBe('flat');
    expect(f.priceAt(1_551_427_200)).toBe(0.3);
    expect(f.cost(1_551_427_200, 5400, 11)).toBeCloseTo(0.3 * 11 * 1.5, 12);
    expect(f.nextChangeAfter(0)).toBe(Infinity);
    expect(f.demandChargeAt(0)).toBe(0);
    expect(loadTariff({ type: 'flat', pricePerKWh: 0.25, name: 'cheap' }).name).toBe('cheap');
  });
});

describe('errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-tariff-'));
  const good = JSON.parse(readFileSync('data/tariffs/sce_tou_ev_4_march_2019.json', 'utf8')) as {
    schedule: Record<string, unknown>[];
  };
  const write = (name: string, doc: unknown): string => {
    const p = join(dir, name);
    writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return p;
  };
  const msgOf = (spec: TariffSpec): string => {
    try {
      loadTariff(spec);
    } catch (e) {
      return (e as Error).message;
    }
    return '(no error)';
  };
  const mutate = (f: (d: typeof good) => void): typeof good => {
    const d = structuredClone(good);
    f(d);
    return d;
  };

  it.each([
    ['no-tariffs.json', mutate((d) => delete d.schedule[0]!.tariffs), 'schedule[0].tariffs'],
    ['short-tariffs.json', mutate((d) => (d.schedule[2]!.tariffs = [0.1, 0.2])), 'schedule[2].tariffs'],
    ['bad-dow.json', mutate((d) => (d.schedule[1]!.dow_mask = 'WEEKDAY')), 'schedule[1].dow_mask'],
    ['bad-date.json', mutate((d) => (d.schedule[0]!.effective_end = '13-01')), 'schedule[0].effective_end'],
    ['bad-times.json', mutate((d) => (d.schedule[0]!.times = [0, 12, 8, 18, 23])), 'schedule[0].times[2]'],
    ['bad-price.json', mutate((d) => ((d.schedule[3]!.tariffs as unknown[])[0] = 'cheap')), 'schedule[3].tariffs[0]'],
    ['gap.json', mutate((d) => (d.schedule[3]!.effective_end = '04-30')), 'schedule has no entry covering 05-01 on a Sun'],
    ['no-name.json', mutate((d) => delete (d as Record<string, unknown>).name), 'name'],
    ['broken.json', '{"name": "x", "schedule": [', 'not valid JSON'],
  ])('%s: one-line message naming the file and the field', (file, doc, field) => {
    const p = write(file, doc);
    const msg = msgOf({ type: 'tou', file: p, utcOffsetHours: PST });
    expect(msg).toContain(p);
    expect(msg).toContain(field);
    expect(msg).not.toContain('\n');
  });

  it('missing file and bad specs', () => {
    expect(msgOf({ type: 'tou', file: 'data/tariffs/nope.json', utcOffsetHours: PST })).toMatch(/^tariff file data\/tariffs\/nope\.json: .*ENOENT/);
    expect(msgOf(JSON.parse('{"type": "tou", "file": "data/tariffs/sce_tou_ev_4_march_2019.json"}'))).toMatch(/utcOffsetHours/);
    expect(msgOf({ type: 'flat', pricePerKWh: -1 })).toMatch(/pricePerKWh/);
    expect(msgOf(JSON.parse('{"type": "spot"}'))).toMatch(/type must be 'flat' or 'tou'/);
  });
});

describe('data copies match SOURCES.md', () => {
  const h = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
  it('tariffs and sessions', () => {
    expect(h('data/tariffs/sce_tou_ev_4_march_2019.json')).toBe('e424c143c33556e1');
    expect(h('data/tariffs/pge_a10_tou_aug_2019.json')).toBe('2a2e02db2b88a1b9');
    expect(h('data/tariffs/sce_tou_ev_8_june_2019.json')).toBe('f955e41e74a96bef');
    expect(h('data/sessions/acn-caltech-2019-03-sessions.csv')).toBe('03f828eba495704b');
    expect(h('data/sessions/acn-caltech-2019-03-events.json.gz')).toBe('6b688b132dc9d115');
  });
});

describe('tariff file errors are user errors (exit 2, one line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evsim-tariff-errors-'));
  const load = (name: string, text: string | null): unknown => {
    const f = join(dir, name);
    if (text !== null) writeFileSync(f, text);
    try {
      loadTariff({ type: 'tou', file: f, utcOffsetHours: 0 });
    } catch (e) {
      return e;
    }
    return undefined;
  };
  it.each([
    ['missing.json', null, /\(whole file\) cannot be read \(ENOENT\)$/],
    ['empty.json', '', /\(whole file\) is empty/],
    ['corrupt.json', '{"name": "x", "schedule": [', /\(whole file\) is not valid JSON/],
    [
      'weekends-missing.json',
      JSON.stringify({ name: 'w', schedule: [{ id: 'w', effective_start: '01-01', effective_end: '12-31', dow_mask: 'WEEKDAYS', times: [0], tariffs: [0.2] }] }),
      /schedule has no entry covering 01-01 on a Sun/,
    ],
  ])('%s', (name, text, what) => {
    const e = load(name, text);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    expect((e as UserError).lines).toHaveLength(1);
    expect((e as UserError).lines[0]).toContain(join(dir, name));
    expect((e as UserError).lines[0]).toMatch(what);
  });
});
