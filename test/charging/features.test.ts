/** The feature registry: built-in features, computing them into a batch, and adding one. */
import { describe, expect, it } from 'vitest';
import { computeFeatures, featureDef, listFeatures, registerFeature } from '../../src/charging/features.js';
import { choiceBatchFrom } from '../../src/charging/testing.js';

describe('feature registry', () => {
  it('lists unique names, each with a unit and a description', () => {
    const fs = listFeatures();
    expect(fs.length).toBeGreaterThanOrEqual(10);
    expect(new Set(fs.map((f) => f.name)).size).toBe(fs.length);
    for (const f of fs) {
      expect(f.unit.length).toBeGreaterThan(0);
      expect(f.description.length).toBeGreaterThan(5);
    }
    expect(() => featureDef('nope')).toThrow(/unknown feature "nope"/);
  });

  it('computes features in the requested order, float32, padding rows 0', () => {
    const names = ['travel_time_min', 'distance_km', 'expected_wait_min', 'free_chargers', 'queue_length', 'occupancy', 'rank', 'soc'];
    const { batch } = choiceBatchFrom(
      {
        K: 3,
        stations: [
          { chargerKW: [22, 22], plugged: 1, expectedWaitS: 0 },
          { chargerKW: [11], plugged: 1, queue: 2, expectedWaitS: 5400 },
        ],
        evs: [{ soc: 0.5, travelTimeS: [90, 30], lengthM: [1500, 500] }],
      },
      names,
    );
    const F = names.length;
    expect(batch.K).toBe(2);
    const row = (k: number) => Array.from(batch.features.subarray(k * F, (k + 1) * F));
    expect(row(0)).toEqual([0.5, 0.5, 90, 0, 2, 3, 0, 0.5]); // station 1 (nearest)
    expect(row(1)).toEqual([1.5, 1.5, 0, 1, 0, 0.5, 1, 0.5]); // station 0
  });

  it('takes a new feature without touching the simulation', () => {
    registerFeature({ name: 'test_minutes_per_kw', unit: 'min/kW', description: 'travel minutes per rated kW', compute: (v) => v.travelTimeS / 60 / v.ratedKW });
    expect(() => registerFeature({ name: 'test_minutes_per_kw', unit: '', description: '', compute: () => 0 })).toThrow(/already registered/);
    const { batch } = choiceBatchFrom({ stations: [{ chargerKW: [20] }], evs: [{ soc: 0.5, travelTimeS: [600] }] }, ['test_minutes_per_kw']);
    expect(batch.features[0]).toBeCloseTo(0.5, 6);
    const out = new Float32Array(batch.n * batch.K);
    computeFeatures(batch, [featureDef('test_minutes_per_kw')], out);
    expect(out[0]).toBeCloseTo(0.5, 6);
  });
});
