/**
 * createSimulation with injected parts, batched decisions and allocations, and the registries the
 * scenario schema is derived from.
 */
import { describe, expect, it } from 'vitest';
import { allocationPolicyEntry, type AllocationBatch, type AllocationBatchPolicy } from '../../src/charging/allocationBatch.js';
import { MinTotalTimeChoice, type ChoiceBatch, type StationChoicePolicy } from '../../src/charging/choice.js';
import { EvState } from '../../src/charging/ev.js';
import { PRIORITY } from '../../src/core/priorities.js';
import { loadScenario, scenarioJsonSchema } from '../../src/scenario/scenario.js';
import { createSimulation, DEMAND_MODEL_NAMES, ledgerProtocol, listRegistries, type ProtocolFactory, type SimResult } from '../../src/simulation/index.js';
import { buildCity } from '../../src/simulation/world.js';
import { scenarioPath } from '../helpers.js';

const SMALL = ['fleet.size=400', 'duration=14h', 'site.capKW=40'];

async function setup(overrides: string[] = []) {
  const sc = loadScenario(scenarioPath('monaco.yaml'), { overrides: [...SMALL, ...overrides] });
  return { sc, city: await buildCity(sc) };
}
const strip = (r: SimResult) => JSON.stringify({ ...r.summary, events: 0 });

describe('createSimulation', () => {
  it('injected policies equal to the named ones give the same run; the summary names them', async () => {
    const { sc, city } = await setup();
    const named = createSimulation(sc, city).run();
    const injected = createSimulation(sc, city, {
      stationChoice: new MinTotalTimeChoice(),
      allocation: allocationPolicyEntry('fcfs').create({ incrementKW: 1, energyBound: false }),
    }).run();
    expect(named.summary.sessions.count).toBeGreaterThan(20);
    expect(JSON.stringify(injected.summary)).toBe(JSON.stringify(named.summary));
    expect(injected.sessions.map((s) => s.station)).toEqual(named.sessions.map((s) => s.station));
  });

  it('decides all EVs of one instant in one batch, in the order they entered calculating', async () => {
    // commutes clipped to 04:00 and low batteries: many EVs need a station at the same instant
    const { sc, city } = await setup(['demand.workDepartMean=1h', 'fleet.initialSoc.min=0.1', 'fleet.initialSoc.max=0.25']);
    const entered: { t: number; ev: number }[] = [];
    const batches: { t: number; evs: number[] }[] = [];
    const sim = createSimulation(sc, city, {
      observers: [
        {
          transition: (t, ev, _from, to) => {
            if (to === EvState.calculating) entered.push({ t, ev });
          },
          decided: (b: ChoiceBatch) => batches.push({ t: b.now, evs: Array.from(b.ev.subarray(0, b.n)) }),
        },
      ],
    });
    const r = sim.run();
    expect(new Set(batches.map((b) => b.t)).size).toBe(batches.length); // one batch per instant
    expect(batches.some((b) => b.evs.length > 1)).toBe(true);
    for (const b of batches) {
      const order = entered.filter((e) => e.t === b.t).map((e) => e.ev);
      expect(b.evs).toEqual(order.filter((ev) => b.evs.includes(ev)));
    }
    const decided = batches.reduce((a, b) => a + b.evs.length, 0);
    expect(decided).toBeGreaterThanOrEqual(r.sessions.length);
    expect(decided + r.summary.fleet.noStationReachable).toBeGreaterThanOrEqual(entered.length);
    expect(PRIORITY.TRIP < PRIORITY.DECIDE && PRIORITY.DECIDE < PRIORITY.TICK).toBe(true);
  });

  it('with a decision time, decides each EV that long after it entered calculating', async () => {
    const { sc, city } = await setup(['fleet.decisionTime=45', 'demand.workDepartMean=1h', 'fleet.initialSoc.max=0.25']);
    const entered = new Map<number, number>();
    let checked = 0;
    createSimulation(sc, city, {
      observers: [
        {
          transition: (t, ev, _f, to) => void (to === EvState.calculating && entered.set(ev, t)),
          decided: (b) => {
            for (let i = 0; i < b.n; i++, checked++) expect(b.now).toBe(entered.get(b.ev[i]!)! + 45);
          },
        },
      ],
    }).run();
    expect(checked).toBeGreaterThan(10);
  });

  it('uses an injected choice policy for every decision', async () => {
    const { sc, city } = await setup(['policy.candidates=4']);
    let calls = 0;
    const chosen: number[] = [];
    const farthest: StationChoicePolicy = {
      name: 'farthest-of-k',
      features: ['travel_time_min'],
      decideBatch(b, out) {
        calls++;
        for (let i = 0; i < b.n; i++) {
          out[i] = b.count[i]! - 1;
          chosen.push(b.station[i * b.K + b.count[i]! - 1]!);
          expect(b.features[(i * b.K + out[i]!) * b.nFeatures]).toBeCloseTo(b.travelTimeS[i * b.K + out[i]!]! / 60, 3);
        }
      },
    };
    const r = createSimulation(sc, city, { stationChoice: farthest }).run();
    expect(calls).toBeGreaterThan(0);
    expect(r.summary.policy.stationChoice).toBe('farthest-of-k');
    expect(r.sessions.map((s) => s.station)).toEqual(chosen);
  });

  it('rejects a choice outside the candidates with a clear error', async () => {
    const { sc, city } = await setup();
    const bad: StationChoicePolicy = { name: 'bad', decideBatch: (b, out) => out.fill(99, 0, b.n) };
    expect(() => createSimulation(sc, city, { stationChoice: bad }).run()).toThrow(/station choice "bad" chose candidate 99/);
  });

  it('re-allocates all sites of a tick in one allocation call, sites ascending', async () => {
    const { sc, city } = await setup();
    const inner = allocationPolicyEntry('fcfs').create({ incrementKW: 1, energyBound: false });
    const calls: { now: number; sites: number[] }[] = [];
    const spy: AllocationBatchPolicy = {
      name: 'spy-fcfs',
      allocateBatch(b: AllocationBatch, out) {
        calls.push({ now: b.now, sites: Array.from(b.site.subarray(0, b.nSites)) });
        inner.allocateBatch(b, out);
      },
    };
    const r = createSimulation(sc, city, { allocation: spy }).run();
    const named = createSimulation(sc, city).run();
    expect(strip(r).replace('spy-fcfs', 'fcfs')).toBe(strip(named));
    const multi = calls.filter((c) => c.sites.length > 1);
    expect(multi.length).toBeGreaterThan(0);
    for (const c of multi) {
      expect(c.now % 60).toBe(0); // only the minute tick batches several sites
      expect([...c.sites].sort((a, b) => a - b)).toEqual(c.sites);
    }
  });

  it('takes an injected charging protocol', async () => {
    const { sc, city } = await setup();
    let plugged = 0;
    const counting: ProtocolFactory = (ctx) => {
      const p = ledgerProtocol(ctx);
      return { ...p, plugged: (s) => (plugged++, p.plugged(s)), record: p.record.bind(p), chargingEnded: p.chargingEnded.bind(p), finish: p.finish.bind(p), summary: p.summary.bind(p), ports: p.ports.bind(p), wallClock: p.wallClock.bind(p) };
    };
    const r = createSimulation(sc, city, { protocol: counting }).run();
    expect(plugged).toBe(r.sessions.filter((s) => !Number.isNaN(s.pluggedAt)).length);
    expect(plugged).toBeGreaterThan(0);
  });
});

describe('registries', () => {
  it('the scenario schema enums are the registries', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, { properties?: Record<string, { enum?: string[] }>; oneOf?: { properties: { type: { const: string } } }[] }> };
    const reg = listRegistries();
    // plus "learned" (resolved in src/ai from policy.models.*, not a registry entry)
    expect(schema.properties.policy!.properties!.stationChoice!.enum).toEqual([...reg.stationChoice.map((e) => e.name).filter((n) => n !== 'learned'), 'learned']);
    expect(schema.properties.policy!.properties!.allocation!.enum).toEqual([...reg.allocation.map((e) => e.name).filter((n) => n !== 'learned'), 'learned']);
    expect(schema.properties.demand!.oneOf!.map((o) => o.properties.type.const)).toEqual(DEMAND_MODEL_NAMES);
    for (const kind of Object.values(reg)) for (const e of kind) expect(e.description.length).toBeGreaterThan(5);
    expect(reg.features.every((f) => f.unit)).toBe(true);
  });
});

describe('runAsync', () => {
  it('gives the event loop a turn between chunks and the same results as run()', async () => {
    const { sc, city } = await setup();
    const sync = createSimulation(sc, city).run();
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const chunks: number[] = [];
    const asyncResult = await createSimulation(sc, city).runAsync({ progressChunks: 50, onProgress: (t) => chunks.push(t) });
    clearInterval(timer);
    expect(chunks).toHaveLength(50);
    expect(turns).toBeGreaterThan(0); // timers ran while the simulation was in progress
    expect(JSON.stringify(asyncResult.summary)).toBe(JSON.stringify(sync.summary));
    expect(asyncResult.sessions.map((s) => [s.station, s.deliveredKWh])).toEqual(sync.sessions.map((s) => [s.station, s.deliveredKWh]));
  });
});
