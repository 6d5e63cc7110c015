/**
 * paired.csv when the reference factor is part of a zip: the zip's lists vary together, so the
 * zipped partners of the reference are not held fixed when finding the reference run (they always
 * differ from it); factors outside the zip still are.
 */
import { describe, expect, it } from 'vitest';
import { parseCsvRows } from '../../src/core/csv.js';
import { pairedDiff } from '../../src/core/stats.js';
import { pairedCsv, type Collected } from '../../src/study/collect.js';
import type { Plan, PlannedRun } from '../../src/study/plan.js';

describe('paired.csv with a zipped reference factor', () => {
  // zip: tariff.type [tou, forecast] with tariff.k [0, 1]; grid: fleet.size [10, 20]; 3 replications
  const runs: PlannedRun[] = [];
  const values: Map<string, number>[] = [];
  for (const size of [10, 20])
    for (const [type, k] of [['tou', 0], ['forecast', 1]] as const)
      for (let rep = 0; rep < 3; rep++) {
        const index = runs.length;
        runs.push({ index, id: `r${index}`, params: { 'tariff.type': type, 'tariff.k': k, 'fleet.size': size }, replication: rep, seed: rep + 1, overrides: [] });
        // metric: size + rep, plus 5 + rep for the forecast tariff
        values.push(new Map([['m', size + rep + (type === 'forecast' ? 5 + rep : 0)]]));
      }
  const plan: Plan = {
    schemaVersion: 1, kind: 'sweep-plan', evsim: 'test', base: '/x.yaml', specSha256: '',
    factors: [{ name: 'tariff.type', source: 'zip' }, { name: 'tariff.k', source: 'zip' }, { name: 'fleet.size', source: 'grid' }],
    references: [{ factor: 'tariff.type', level: 'tou' }],
    runs,
  };
  const c: Collected = { records: [], metrics: ['m'], values, done: runs.length, failed: 0, pending: 0 };

  it('pairs each forecast run with the tou run of the same fleet size and replication', () => {
    const [head, ...rows] = parseCsvRows(pairedCsv(plan, c));
    const col = (n: string) => head!.indexOf(n);
    expect(rows.length).toBe(2); // one per fleet size
    const expected = pairedDiff([5, 6, 7], [0, 0, 0]);
    for (const r of rows) {
      expect(r[col('tariff.type')]).toBe('forecast');
      expect(Number(r[col('n')])).toBe(3);
      expect(Number(r[col('mean_diff')])).toBeCloseTo(expected.mean, 9);
    }
    expect(rows.map((r) => r[col('fleet.size')]).sort()).toEqual(['10', '20']);
  });
});
