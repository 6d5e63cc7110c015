/**
 * One listing of the registries of policy, demand and ledger parts (name + description; units for
 * features), for the CLI to print and for documentation. Decides nothing.
 */
import { ALLOCATION_POLICIES } from '../charging/allocationBatch.js';
import { CHOICE_POLICIES } from '../charging/choice.js';
import { DISPATCH_POLICIES } from '../charging/dispatch.js';
import { listFeatures } from '../charging/features.js';
import { listBackends } from '../ledger/registry.js';
import { listStacks } from '../ledger/stacks.js';
import { DEMAND_MODELS, type DemandType } from './demandModels.js';

export interface RegistryEntry {
  name: string;
  description: string;
  unit?: string;
}

export interface Registries {
  stationChoice: RegistryEntry[];
  allocation: RegistryEntry[];
  features: RegistryEntry[];
  demand: RegistryEntry[];
  backends: RegistryEntry[];
  stacks: RegistryEntry[];
  /** mobile chargers' dispatch policies (mobile.dispatch; docs/mobile.md) */
  dispatch: RegistryEntry[];
}

export function listRegistries(): Registries {
  return {
    stationChoice: [
      ...CHOICE_POLICIES.map(({ name, description }) => ({ name, description })),
      // resolved by the ai layer (src/ai/choiceModel.ts) from policy.models.stationChoice
      { name: 'learned', description: 'a TensorFlow.js wait predictor scores the candidates (policy.models.stationChoice; docs/ai.md)' },
    ],
    allocation: [
      ...ALLOCATION_POLICIES.map(({ name, description }) => ({ name, description })),
      // resolved by the ai layer (src/ai/allocation.ts) from policy.models.allocation
      { name: 'learned', description: 'a TensorFlow.js model weights each session, progressive filling allocates (policy.models.allocation; docs/ai.md)' },
    ],
    features: listFeatures().map(({ name, unit, description }) => ({ name, unit, description })),
    demand: (Object.keys(DEMAND_MODELS) as DemandType[]).map((name) => ({ name, description: DEMAND_MODELS[name].description })),
    backends: listBackends().map((b) => ({ name: b.name, description: `(${b.capabilities.join(', ')}) ${b.description}` })),
    stacks: listStacks().map((st) => ({ name: st.name, description: `${st.description} [records: ${st.records}, payments: ${st.payments}]` })),
    dispatch: Object.values(DISPATCH_POLICIES).map(({ name, description }) => ({ name, description })),
  };
}

/** The listing as text lines ("kind: name — description"), for a CLI `list` command. */
export function formatRegistries(r: Registries = listRegistries()): string[] {
  const out: string[] = [];
  const block = (title: string, es: RegistryEntry[]) => {
    out.push(`${title}:`);
    for (const e of es) out.push(`  ${e.name.padEnd(20)} ${e.unit ? `[${e.unit}] ` : ''}${e.description}`);
  };
  block('policy.stationChoice', r.stationChoice);
  block('policy.allocation', r.allocation);
  block('station-choice features', r.features);
  block('demand.type', r.demand);
  block('ledger backends (ledger.backends.<name>)', r.backends);
  block('ledger stacks (--ledger, ledger.stacks)', r.stacks);
  block('mobile.dispatch', r.dispatch);
  return out;
}
