import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, oneLine, ROOT } from './helpers.js';

const ACN = join(ROOT, 'scenarios', 'validation', 'acn-caltech-2019-03.yaml');

describe('evsim optimum', () => {
  it('prints the hindsight maximum energy of the Caltech month under a 10 kW cap, as JSON too', async () => {
    const o = await cli('optimum', ACN, '--set', 'site.capKW=10', '--json');
    expect(o.code, o.stderr).toBe(0);
    const r = JSON.parse(o.stdout);
    expect(r.sessions).toBe(954);
    expect(r.requestedKWh).toBeCloseTo(8900.5, 0);
    // 6.6 kW per EV (demand.maxKW); ACN-Sim's Offline_CM: 59.17 % with 6.656 kW
    expect(r.energyPct).toBeGreaterThan(59.0);
    expect(r.energyPct).toBeLessThan(59.2);
    const t = await cli('optimum', ACN, '--set', 'site.capKW=10');
    expect(t.stdout).toMatch(/max energy {3}5,2\d\d\.\d kWh \(59\.1\d % of requested\)/);
  });

  it('a scenario without recorded sessions, or a bad share, is one line and exit 2', async () => {
    const o = await cli('optimum', join(ROOT, 'scenarios', 'validation', 'mmc.yaml'));
    expect(o.code).toBe(2);
    expect(oneLine(o)).toMatch(/demand\.type: the offline optimum needs recorded sessions; allowed: replay \(got poisson\)$/);
    const s = await cli('optimum', ACN, '--goal', 'peak', '--share', '2');
    expect(s.code).toBe(2);
    expect(oneLine(s)).toBe('--share: must be a number from 0 to 1 (got 2)');
  });
});
