/**
 * Screenshots of a report for the documentation (docs/img/report-*.png), taken in Debian's
 * headless Chromium through puppeteer-core:
 *
 *   npx evsim run --out /tmp/monaco --report
 *   npm run build && node dist/scripts/report-screenshots.js /tmp/monaco/report.html docs/img
 *
 * Writes report-comparison.png (the comparison charts), report-run.png (the first run charts) and
 * report-replay.png (the replay at 12:00 and at 18:00).
 */
/// <reference lib="dom" />
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const [file, outDir = 'docs/img'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/scripts/report-screenshots.js REPORT.html [OUTDIR]\n');
  process.exit(2);
}
const browser = await puppeteer.launch({ executablePath: process.env.EVSIM_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1240, height: 900, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
  const shot = async (selector: string, name: string, maxHeight = 760) => {
    const el = await page.$(selector);
    if (!el) return;
    const box = (await el.boundingBox())!;
    await page.screenshot({ path: join(outDir, name), clip: { x: box.x, y: box.y, width: Math.min(box.width, 1240), height: Math.min(box.height, maxHeight) } });
    process.stdout.write(`${join(outDir, name)}\n`);
  };
  await shot('.charts', 'report-comparison.png');
  await shot('.charts:nth-of-type(2), h2 ~ .charts ~ .charts', 'report-run.png');
  const setMinute = (m: number) =>
    page.evaluate((v) => {
      const s = document.getElementById('replay-slider') as HTMLInputElement;
      s.value = String(v);
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, m);
  await setMinute(18 * 60);
  await shot('#replay', 'report-replay.png', 900);
} finally {
  await browser.close();
}
