/**
 * `evsim train allocation` on the CI-sized config (training/allocation-tiny.yaml: two training
 * days, one cap, a 16-unit MLP, a two-day held-out check): it completes, the same config gives
 * the same sha256 twice, and the model reaches a stated quality on held-out days it never saw.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelSha256 } from '../../src/ai/runtime.js';
import { loadTrainConfig, trainAllocation } from '../../src/simulation/trainAllocation.js';
import { cli, oneLine, ROOT } from '../cli/helpers.js';

const TINY = join(ROOT, 'training', 'allocation-tiny.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-train-alloc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('evsim train allocation (tiny config)', () => {
  it('is reproducible (same sha256 twice) and beats LLF on held-out days at >= 90 % of the optimum', async () => {
    const a = await trainAllocation(TINY, () => {}, () => 0, { out: join(tmp, 'a') });
    const b = await trainAllocation(TINY, () => {}, () => 0, { out: join(tmp, 'b') });
    expect(a.sha256).toBe(b.sha256);
    expect(modelSha256(join(tmp, 'a'))).toBe(a.sha256);
    expect(a.samples).toBeGreaterThan(1000);
    const row = a.heldOut[0]!;
    expect(row.setting).toBe('three-phase 20 kW');
    const opt = row.optimumKWh!;
    expect(row.kWh.learned! / opt).toBeGreaterThanOrEqual(0.9);
    expect(row.kWh.learned!).toBeGreaterThan(row.kWh.llf!);
    expect(row.kWh.learned! / opt).toBeLessThanOrEqual(1 + 1e-6); // the optimum is an upper bound
    const card = readFileSync(join(tmp, 'a', 'model-card.md'), 'utf8');
    expect(card).toContain(a.sha256);
    // the residual gate was fitted on the training days and stored in the model's metadata
    expect(card).toMatch(/## Residual gate \(fitted on the training days\)[\s\S]*\| network \| \d+\.\d \| \d+\.\d \| (0|1) \|/);
    const meta = JSON.parse(readFileSync(join(tmp, 'a', 'model.json'), 'utf8')).userDefinedMetadata.evsim;
    expect([0, 1]).toContain(meta.gate.network);
    expect(card).toMatch(/\| three-phase 20 kW \| \d+\.\d \|/);
    for (const f of ['model.json', 'weights.bin']) expect(existsSync(join(tmp, 'a', f))).toBe(true);
  });

  it('the shipped config trains on days before the held-out scenario starts', () => {
    const { cfg } = loadTrainConfig(join(ROOT, 'training', 'allocation.yaml'));
    const held = readFileSync(join(ROOT, 'training', 'allocation-heldout.yaml'), 'utf8');
    const start = /^start: "([^"]+)"/m.exec(held)![1]!;
    expect(Date.parse(cfg.trainUntil)).toBeLessThanOrEqual(Date.parse(start));
  });

  it('a bad config or kind is a one-line user error (exit 2)', async () => {
    const kind = await cli('train', 'nonsense');
    expect(kind.code).toBe(2);
    expect(oneLine(kind)).toMatch(/unknown kind "nonsense"; allowed: .*allocation/);
    const missing = await cli('train', 'allocation', join(tmp, 'none.yaml'));
    expect(missing.code).toBe(2);
    expect(oneLine(missing)).toMatch(/none\.yaml: cannot read the training config/);
  });
});
