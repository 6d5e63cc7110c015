import { describe, expect, it } from 'vitest';
import { ALLOCATION_POLICY_NAMES } from '../../src/charging/allocationBatch.js';
import { CHOICE_POLICY_NAMES } from '../../src/charging/choice.js';
import { BACKEND_NAMES } from '../../src/ledger/registry.js';
import { SHIPPED_STACK_NAMES } from '../../src/ledger/stacks.js';
import { DEMAND_MODEL_NAMES } from '../../src/simulation/index.js';
import { cli } from './helpers.js';

describe('evsim list', () => {
  it('prints every registered part under its scenario field, from the registries', async () => {
    const o = await cli('list');
    expect(o.code).toBe(0);
    const blocks = new Map<string, string[]>();
    let cur = '';
    for (const l of o.stdout.trimEnd().split('\n')) {
      if (!l.startsWith(' ')) blocks.set((cur = l.replace(/:$/, '')), []);
      else blocks.get(cur)!.push(l.trim().split(/\s+/)[0]!);
    }
    expect(blocks.get('policy.stationChoice')).toEqual([...CHOICE_POLICY_NAMES, 'learned']);
    expect(blocks.get('policy.allocation')).toEqual([...ALLOCATION_POLICY_NAMES, 'learned']);
    expect(blocks.get('demand.type')).toEqual([...DEMAND_MODEL_NAMES]);
    expect(blocks.get('ledger backends (ledger.backends.<name>)')).toEqual([...BACKEND_NAMES]);
    expect(blocks.get('ledger stacks (--ledger, ledger.stacks)')).toEqual([...SHIPPED_STACK_NAMES]);
  });
});
