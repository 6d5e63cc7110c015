/** The scenario's roaming block: one-line errors naming the file, the field path and what is allowed. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { ROAMING_INVOICE_BODY_BYTES, ROAMING_SETTLEMENT_BODY_BYTES, TX_KIND_DEFS, TxCodec, signedTxBytes } from '../../src/ledger/tx.js';
import type { LedgerTx } from '../../src/ledger/ledger.js';
import { scenarioPath } from '../helpers.js';

const FILE = scenarioPath('roaming-liechtenstein.yaml');
function errors(sets: string[]): string[] {
  try {
    loadScenario(FILE, { overrides: sets });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message.split('\n');
  }
  return [];
}

describe('roaming validation', () => {
  it('the shipped scenario is valid, and a scenario without roaming has none', () => {
    expect(loadScenario(FILE).roaming!.mode).toBe('consortium');
    expect(loadScenario(scenarioPath('liechtenstein-10k.yaml')).roaming).toBeUndefined();
  });
  it.each([
    [['roaming.mode=sideways'], /roaming-liechtenstein\.yaml \(with --set\): roaming\.mode: .*consortium.*clearing-house.*none/],
    [['roaming.contracts.0.visited=nowhere'], /roaming\.contracts\[0\]\.visited: unknown utility "nowhere"; allowed: unterland \| oberland/],
    [['roaming.contracts.1.visited=oberland', 'roaming.contracts.1.home=unterland'], /roaming\.contracts\[1\]: a second contract for visited "oberland", home "unterland"/],
    [['roaming.contracts.0.home=oberland'], /roaming\.contracts\[0\]: visited and home are both "oberland"/],
    [['roaming.utilities.1.cinPrefix="42315"'], /roaming\.utilities\[1\]\.cinPrefix: "42315" starts with utility unterland's prefix "4231"/],
    [['roaming.utilities.1.cinPrefix="42a"'], /roaming\.utilities\[1\]\.cinPrefix: must match .*0-9.*\(got "42a"\)/],
    [['roaming.utilities.1.id=unterland'], /roaming\.utilities\[1\]\.id: "unterland" appears twice/],
    [['roaming.utilities.1.area.bbox=[9.6,47.0,9.5,47.3]'], /roaming\.utilities\[1\]\.area\.bbox: must be \[minLon, minLat, maxLon, maxLat\] with min < max/],
    [['roaming.chain.backend=lightning'], /roaming\.chain\.backend: /],
    [['roaming.chain.params.blockPeriodS=-1'], /roaming\.chain\.params\.blockPeriodS: /],
    [['roaming.chain.params.validators=9'], /roaming\.chain\.params\.validators: must be <= roaming\.chain\.nodes \(4\) \(got 9\)/],
    [['roaming.clearingHouse.feePct=150'], /roaming\.clearingHouse\.feePct: /],
    [['roaming.profileTtl=soon'], /roaming\.profileTtl: expected/],
    [['roaming.utilities.0.pricePerKWh=-1'], /roaming\.utilities\[0\]\.pricePerKWh: /],
  ])('%s', (sets, re) => {
    const lines = errors(sets);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => re.test(l)), lines.join('\n')).toBe(true);
    for (const l of lines) expect(l).not.toMatch(/\n|at .*\.ts:/);
  });
  it('--set knobs for prices and contracts reach the scenario', () => {
    const sc = loadScenario(FILE, { overrides: ['roaming.utilities.0.pricePerKWh=0.5', 'roaming.contracts.0.pricePerKWh=0.2', 'roaming.contracts.0.loadFactor=1'] });
    expect(sc.roaming!.utilities[0]!.pricePerKWh).toBe(0.5);
    expect(sc.roaming!.contracts[0]).toMatchObject({ pricePerKWh: 0.2, loadFactor: 1 });
  });
});

describe('roaming transaction kinds', () => {
  it('codes 6 and 7, optional, fixed sizes; encode → decode round trip', () => {
    const inv = TX_KIND_DEFS.find((d) => d.name === 'roaming-invoice')!;
    const set = TX_KIND_DEFS.find((d) => d.name === 'roaming-settlement')!;
    expect([inv.code, inv.optional, set.code, set.optional]).toEqual([6, true, 7, true]);
    expect(signedTxBytes('roaming-invoice')).toBe(ROAMING_INVOICE_BODY_BYTES + 96);
    expect(signedTxBytes('roaming-settlement')).toBe(ROAMING_SETTLEMENT_BODY_BYTES + 96);
    const codec = TxCodec.fromConfig({ mode: 'modeled' }, 1);
    const tx: LedgerTx = { id: 3, kind: 'roaming-invoice', sessionId: 9, ev: 1, station: 4, energyKWh: 0, amount: 0, powerKW: 0, soc: NaN, submittedAt: 12.5, payload: [0, 20.25, 6.075] };
    const body = codec.encode(tx);
    expect(body.length).toBe(ROAMING_INVOICE_BODY_BYTES);
    expect(codec.decode(body).payload).toEqual([0, 20.25, 6.075]);
    const st: LedgerTx = { ...tx, id: 4, kind: 'roaming-settlement', ev: 0, station: 1, payload: [3, 6.075] };
    expect(codec.decode(codec.encode(st))).toMatchObject({ kind: 'roaming-settlement', ev: 0, station: 1, payload: [3, 6.075] });
  });
});
