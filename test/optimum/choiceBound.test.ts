import { describe, expect, it } from 'vitest';
import { choiceBound, travelFloorMin, type ChoiceRequest } from '../../src/optimum/choiceBound.js';
import { metricValues } from '../../src/simulation/evaluate.js';
import { ChoiceRequestLog, runChoiceBound } from '../../src/simulation/choiceBound.js';
import { EPISODE_OVERRIDES } from '../../src/simulation/episodes.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { buildCity, createSimulation } from '../../src/simulation/index.js';
import { ROOT } from '../cli/helpers.js';
import { join } from 'node:path';

const req = (decidedAtS: number, station: number[], travelS: number[], chargeS: number[]): ChoiceRequest => ({ decidedAtS, station, travelS, chargeS });

describe('station-choice lower bound (hand-checked cases)', () => {
  it('one charger, two EVs: the second starts when the first has left (LP 60 + 600 s ≤ the true 60 + 660 s)', async () => {
    // slots of 60 s; both arrive at 60 s and need 600 s. A start in slot u occupies slots
    // u+1 … u+9, so any 9 consecutive start slots hold at most one EV: best is slot 1 and slot 10.
    const requests = [req(0, [0], [60], [600]), req(0, [0], [60], [600])];
    const b = await choiceBound({ requests, chargers: [1], horizonS: 3600, maxWaitS: 0, slotS: 60 });
    expect(b.requests).toBe(2);
    expect(b.travelFloorMin).toBeCloseTo(1, 12);
    expect(b.lpBoundMin * 60 * 2).toBeCloseTo(660, 6);
    expect(b.lpDropShare).toBeCloseTo(0, 9);
    // two chargers: no wait at all, the bound is the travel floor
    const two = await choiceBound({ requests, chargers: [2], horizonS: 3600, maxWaitS: 0, slotS: 60 });
    expect(two.lpBoundMin).toBeCloseTo(1, 9);
  });

  it('with a 300 s patience the second EV gives up: cost travel + patience, exactly the true optimum', async () => {
    const requests = [req(0, [0], [60], [600]), req(0, [0], [60], [600])];
    const b = await choiceBound({ requests, chargers: [1], horizonS: 3600, maxWaitS: 300, slotS: 60 });
    expect(b.lpBoundMin * 60 * 2).toBeCloseTo(60 + 360, 6);
    expect(b.lpDropShare).toBeCloseTo(0.5, 9);
  });

  it('two stations: the second EV drives to the farther free one (60 + 180 s)', async () => {
    const requests = [req(0, [0, 1], [60, 180], [600, 600]), req(0, [0, 1], [60, 180], [600, 600])];
    const b = await choiceBound({ requests, chargers: [1, 1], horizonS: 3600, maxWaitS: 0, slotS: 60 });
    expect(b.lpBoundMin * 60 * 2).toBeCloseTo(240, 6);
    expect(travelFloorMin(requests)).toBeCloseTo(1, 12);
  });

  it('on a simulated day: floor ≤ travel, LP ≤ travel + wait of the same run, and deterministic', async () => {
    const sc = loadScenario(join(ROOT, 'scenarios', 'monaco.yaml'), { overrides: [...EPISODE_OVERRIDES, 'fleet.size=400', 'policy.stationChoice=min-total-time-reserved', 'seed=3'] });
    const city = await buildCity(sc);
    const once = async () => {
      const log = new ChoiceRequestLog();
      const r = createSimulation(sc, city, { observers: [log] }).run();
      return { m: metricValues(r), b: await runChoiceBound(log, r.sessions, r.summary.simulatedSeconds, sc.fleet.maxWait, 600) };
    };
    const a = await once();
    expect(a.b.requests).toBeGreaterThan(10);
    expect(a.b.travelFloorMin).toBeLessThanOrEqual(a.m.travel_min + 1e-9);
    expect(a.b.lpBoundMin).toBeGreaterThanOrEqual(a.b.travelFloorMin - 1e-9);
    expect(a.b.lpBoundMin).toBeLessThanOrEqual(a.m.travel_wait_min + 1e-9);
    expect(a.m.travel_min + a.m.wait_min).toBeCloseTo(a.m.travel_wait_min, 9);
    expect(await once()).toEqual(a);
  });
});
