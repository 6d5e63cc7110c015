/**
 * Station-choice policies through the testing view (no simulator): every shipped policy, the
 * registry, the batch layout and the candidate set.
 */
import { describe, expect, it } from 'vitest';
import {
  CHOICE_POLICIES,
  CHOICE_POLICY_NAMES,
  makeStationChoice,
  MinTotalTimeChoice,
  NearestChoice,
  RandomChoice,
  type ChoiceBatch,
  type StationChoicePolicy,
} from '../../src/charging/choice.js';
import { idealModel } from '../../src/charging/evModels.js';
import { choiceBatchFrom, decideStations, type PlainStation } from '../../src/charging/testing.js';
import { Streams } from '../../src/core/random.js';

const three: PlainStation[] = [
  { chargerKW: [22, 22], queue: 0, expectedWaitS: 0 },
  { chargerKW: [50], chargerKind: ['DC'], expectedWaitS: 1800 },
  { chargerKW: [11], expectedWaitS: 0 },
];

describe('nearest', () => {
  it('picks the least travel time, ties by the lower station id', () => {
    const picks = decideStations(new NearestChoice(), {
      stations: three,
      evs: [
        { soc: 0.5, travelTimeS: [600, 300, 900] },
        { soc: 0.5, travelTimeS: [400, 400, 400] },
        { soc: 0.5, travelTimeS: [900, 800, 100] },
      ],
    });
    expect(picks).toEqual([1, 0, 2]);
  });
});

describe('min-total-time', () => {
  it('adds expected wait and charging time to travel', () => {
    // 18 kWh to charge. Station 1 is nearest and fastest (50 kW: 21.6 min) but has a 60 min wait:
    // 5 + 60 + 21.6 min; station 0: 10 + 0 + 49.1 min; station 2 (11 kW): 10 + 0 + 98.2 min
    const picks = decideStations(new MinTotalTimeChoice(), {
      stations: [three[0]!, { ...three[1]!, expectedWaitS: 3600 }, three[2]!],
      evs: [{ soc: 0.5, travelTimeS: [600, 300, 600] }],
    });
    expect(picks).toEqual([0]);
  });
  it('prefers the faster charger when travel and wait are equal', () => {
    const picks = decideStations(new MinTotalTimeChoice(), {
      stations: [{ chargerKW: [11] }, { chargerKW: [50], chargerKind: ['DC'] }],
      evs: [{ soc: 0.2, travelTimeS: [300, 300] }],
    });
    expect(picks).toEqual([1]);
  });
});

describe('random', () => {
  it('draws once per decision with candidates, uniformly, from its stream', () => {
    const draws: number[] = [0.99, 0.0, 0.5];
    let i = 0;
    const p = new RandomChoice(() => draws[i++]!);
    const picks = decideStations(p, {
      stations: three,
      evs: [
        { soc: 0.5, travelTimeS: [100, 200, 300] }, // candidates by travel time: 0, 1, 2
        { soc: 0.5, travelTimeS: [Infinity, Infinity, Infinity] }, // none: no draw
        { soc: 0.5, travelTimeS: [300, 200, 100] }, // 2, 1, 0
        { soc: 0.5, travelTimeS: [300, 200, 100] },
      ],
    });
    expect(picks).toEqual([2, -1, 2, 1]);
    expect(i).toBe(3);
  });
  it('is reproducible from a named stream and covers every candidate', () => {
    const run = () => {
      const rng = new Streams(7).stream('choice');
      const evs = Array.from({ length: 300 }, () => ({ soc: 0.5, travelTimeS: [100, 200, 300] }));
      return decideStations(makeStationChoice('random', () => rng.next()), { stations: three, evs });
    };
    const a = run();
    expect(run()).toEqual(a);
    for (const s of [0, 1, 2]) expect(a.filter((x) => x === s).length).toBeGreaterThan(60);
  });
});

describe('candidate set', () => {
  it('keeps the K nearest reachable stations with a usable charger, in travel-time order', () => {
    const acOnly = { ...idealModel('ac-only', 40, 11), dcMaxKW: 0 };
    const { batch, index } = choiceBatchFrom({
      K: 2,
      stations: [{ chargerKW: [22] }, { chargerKW: [50], chargerKind: ['DC'] }, { chargerKW: [11] }, { chargerKW: [11] }],
      evs: [
        // station 1 is DC only (unusable), station 3 is beyond range: 0.1 × 40 kWh / 0.18 = 22.2 km
        { soc: 0.1, model: acOnly, travelTimeS: [500, 100, 300, 50], lengthM: [5000, 1000, 3000, 30000] },
      ],
    });
    expect(index).toEqual([0]);
    expect(batch.count[0]).toBe(1); // K = 2 nearest reachable are 1 and 2; 1 is dropped
    expect(batch.station[0]).toBe(2);
    expect(batch.station[1]).toBe(-1); // padding
    expect(batch.socAtArrival[0]).toBeCloseTo(0.1 - (3 * 0.18) / 40, 12);
  });
  it('lays decisions out with row stride K and only lists EVs with candidates', () => {
    const { batch, index } = choiceBatchFrom({
      K: 3,
      stations: three,
      evs: [
        { ev: 10, soc: 0.5, travelTimeS: [Infinity, Infinity, Infinity] },
        { ev: 11, soc: 0.5, travelTimeS: [30, 20, 10] },
      ],
    });
    expect(index).toEqual([-1, 0]);
    expect(batch.n).toBe(1);
    expect(Array.from(batch.ev.subarray(0, 1))).toEqual([11]);
    expect(Array.from(batch.station.subarray(0, 3))).toEqual([2, 1, 0]);
    expect(Array.from(batch.travelTimeS.subarray(0, 3))).toEqual([10, 20, 30]);
  });
});

describe('registry', () => {
  it('names every shipped policy once, with a description, and makes it', () => {
    expect(CHOICE_POLICY_NAMES).toEqual(['nearest', 'min-total-time', 'min-total-time-reserved', 'random']);
    for (const e of CHOICE_POLICIES) {
      expect(e.description.length).toBeGreaterThan(10);
      expect(makeStationChoice(e.name, () => 0.5).name).toBe(e.name);
    }
    expect(() => makeStationChoice('closest', () => 0)).toThrow(/unknown policy "closest".*nearest \| min-total-time \| min-total-time-reserved \| random/);
  });
  it('a policy asking for features receives them in the batch', () => {
    let seen: ChoiceBatch | null = null;
    const spy: StationChoicePolicy = {
      name: 'spy',
      features: ['travel_time_min', 'queue_length'],
      decideBatch(b, out) {
        seen = b;
        out.fill(0, 0, b.n);
      },
    };
    const picks = decideStations(spy, { stations: three, evs: [{ soc: 0.5, travelTimeS: [120, 60, 180] }] });
    expect(picks).toEqual([1]);
    const b = seen! as ChoiceBatch;
    expect(b.featureNames).toEqual(['travel_time_min', 'queue_length']);
    expect(b.nFeatures).toBe(2);
    expect(Array.from(b.features.subarray(0, 6))).toEqual([1, 0, 2, 0, 3, 0]);
  });
});

describe('min-total-time-reserved', () => {
  it('uses the reservation-aware wait, so a station others are heading to loses', async () => {
    const { decideStations } = await import('../../src/charging/testing.js');
    const { makeStationChoice } = await import('../../src/charging/choice.js');
    const input = {
      stations: [
        { chargerKW: [22], expectedWaitS: 0, heading: 3, expectedWaitReservedS: 5400 },
        { chargerKW: [22], expectedWaitS: 0, heading: 0, expectedWaitReservedS: 0 },
      ],
      evs: [{ soc: 0.3, travelTimeS: [300, 900] }],
    };
    expect(decideStations(makeStationChoice('min-total-time', () => 0), input)).toEqual([0]);
    expect(decideStations(makeStationChoice('min-total-time-reserved', () => 0), input)).toEqual([1]);
  });
});
