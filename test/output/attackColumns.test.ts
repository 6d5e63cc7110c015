/**
 * The comparison table's attack columns: present only when a stack ran a ledger attack, and on the
 * shipped parasite-chain scenario they say what docs/ledgers/tangle.md reports — without the
 * coordinator the honest payment survives q = 0.2 and is orphaned at q = 0.6; with milestones it
 * survives q = 0.6, decided by the first milestone.
 */
import { describe, expect, it } from 'vitest';
import { comparisonMarkdown, comparisonRows } from '../../src/output/output.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { LedgerLoadRun } from '../../src/simulation/ledgerLoad.js';
import { Simulation } from '../../src/simulation/simulation.js';
import { buildCity } from '../../src/simulation/world.js';
import { scenarioPath } from '../helpers.js';

describe('comparison attack columns', () => {
  it('tangle-parasite: orphaned only at q = 0.6 without the coordinator', async () => {
    const sc = loadScenario(scenarioPath('faults/tangle-parasite.yaml'));
    const summaries = sc.stacks.map((st) => new LedgerLoadRun(sc, st).run().summary);
    const [head, ...rows] = comparisonRows(summaries);
    const col = (n: string) => head!.indexOf(n);
    expect(col('attack_share')).toBeGreaterThan(0);
    const by = Object.fromEntries(rows.map((r) => [String(r[0]), r]));
    expect(by['no-coordinator-q0.2']![col('attack_orphaned')]).toBe(0);
    expect(by['no-coordinator-q0.6']![col('attack_orphaned')]).toBe(1);
    expect(by['coordinator-q0.6']![col('attack_orphaned')]).toBe(0);
    expect(by['coordinator-q0.6']![col('attack_by_milestone')]).toBe(1);
    for (const r of rows) expect(r[col('attack_decided')]).toBe(1);
    expect(comparisonMarkdown(summaries)).toContain('attack_orphaned');
  });
  it('no attack columns without an attack', async () => {
    const sc = loadScenario(scenarioPath('validation/mmc.yaml'));
    const city = await buildCity(sc);
    const s = new Simulation(sc, city, {}, sc.stacks[0]).run().summary;
    expect(comparisonRows([s])[0]).not.toContain('attack_share');
  });
});
