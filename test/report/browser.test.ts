/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The report in a real headless browser: Debian's Chromium (/usr/bin/chromium, or EVSIM_CHROMIUM)
 * driven by puppeteer-core, no browser download. The page must load with no console error and no
 * page error, make no request other than the file itself, draw its charts (SVGs with marks) and
 * the map (road paths), and the slider must move the replay's time, EVs and station colours.
 * Skipped, with a message, only when Chromium is not installed (CI installs it: .ci/run).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { cli, GOLDEN_SCENARIOS } from '../cli/helpers.js';

const CHROMIUM = process.env.EVSIM_CHROMIUM ?? '/usr/bin/chromium';
const HAVE = existsSync(CHROMIUM);
if (!HAVE) console.warn(`test/report/browser.test.ts: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set EVSIM_CHROMIUM)`);

describe.skipIf(!HAVE)('report.html in headless Chromium', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'evsim-report-browser-'));
  const out = join(tmp, 'grid');
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];
  let url = '';

  beforeAll(async () => {
    const o = await cli('run', join(GOLDEN_SCENARIOS, 'grid-trips.yaml'), '--out', out, '--quiet', '--report');
    expect(o.code, o.stderr).toBe(0);
    url = pathToFileURL(join(out, 'report.html')).href;
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${String(e)}`));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      requests.push(r.url());
      if (r.url() === url) void r.continue();
      else void r.abort(); // nothing may leave the page
    });
    await page.goto(url, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loads with no console or page error and no request but the file itself', () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it('draws every chart: an SVG with non-empty marks in each figure', async () => {
    const figs = await page.$$eval('figure.chart', (fs) =>
      fs.map((f) => ({
        id: f.getAttribute('data-chart'),
        svg: f.querySelectorAll('svg').length,
        marks: [...f.querySelectorAll('g[class*="mark-"] path, g[class*="mark-"] line')].filter((p) => (p.getAttribute('d') ?? 'line').length > 0).length,
        width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        caption: f.querySelector('figcaption')?.textContent ?? '',
      })),
    );
    expect(figs.length).toBe(13);
    for (const f of figs) {
      expect(f.svg, f.id!).toBe(1);
      expect(f.marks, f.id!).toBeGreaterThan(0);
      expect(f.width, f.id!).toBeGreaterThan(100);
      expect(f.caption.length, f.id!).toBeGreaterThan(20);
    }
  });

  it('draws the map: road paths, the stations and the EVs', async () => {
    const m = await page.evaluate(() => {
      const roads = document.querySelector('#replay-map path.roads');
      const box = document.querySelector('#replay-map')!.getBoundingClientRect();
      return {
        roadLength: (roads as SVGPathElement | null)?.getTotalLength() ?? 0,
        stations: document.querySelectorAll('#replay-map .station').length,
        evs: document.querySelectorAll('#replay-map .ev').length,
        width: box.width,
      };
    });
    expect(m.roadLength).toBeGreaterThan(1000);
    expect(m.stations).toBe(3);
    expect(m.evs).toBe(40);
    expect(m.width).toBeGreaterThan(300);
  });

  it('the slider moves time: the clock, the EVs and the station colours change', async () => {
    const snap = () =>
      page.evaluate(() => ({
        time: document.getElementById('replay-time')!.textContent,
        counts: document.getElementById('replay-counts')!.textContent,
        evs: [...document.querySelectorAll('#replay-map .ev')].map((e) => `${e.getAttribute('cx')},${e.getAttribute('cy')},${e.getAttribute('fill')}`).join(';'),
        stations: [...document.querySelectorAll('#replay-map .station')].map((s) => s.getAttribute('data-occupancy')).join(';'),
      }));
    const setMinute = (m: number) =>
      page.evaluate((v) => {
        const s = document.getElementById('replay-slider') as HTMLInputElement;
        s.value = String(v);
        s.dispatchEvent(new Event('input', { bubbles: true }));
      }, m);
    await setMinute(0);
    const night = await snap();
    expect(night.time).toBe('00:00');
    // find a minute where stations are busy and EVs are away from home: scan the day
    const seen = new Set<string>([night.stations]);
    const evsSeen = new Set<string>([night.evs]);
    for (let m = 60; m <= 720; m += 60) {
      await setMinute(m);
      const s = await snap();
      expect(s.time).toBe(`${String(Math.floor(m / 60)).padStart(2, '0')}:00`);
      seen.add(s.stations);
      evsSeen.add(s.evs);
    }
    expect(seen.size).toBeGreaterThan(1);
    expect(evsSeen.size).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  });

  it('the play button advances the clock', async () => {
    await page.evaluate(() => {
      const s = document.getElementById('replay-slider') as HTMLInputElement;
      s.value = '0';
      s.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.click('#replay-play');
    await page.waitForFunction(() => document.getElementById('replay-time')!.textContent !== '00:00', { timeout: 5000 });
    await page.click('#replay-play');
    expect(await page.$eval('#replay-play', (b) => b.textContent)).toBe('Play');
    expect(errors).toEqual([]);
  });
});
