/**
 * The typed registry of ledger backends: the one list the scenario schema (ledger.backends.*,
 * stack references, their JSON Schema), the CLI's listings and the simulation read. No class-name
 * strings, no reflection. The chain-capable backends are registered in ./chains.ts (below the
 * channel backends, which name their underlying chain as any of them); this file adds the
 * payment-channel backends. See ./chains.ts for the shape of an entry and its capabilities.
 */
import { type Ledger, type LedgerContext } from './ledger.js';
import { CHAIN_BACKENDS, backend, type BackendDef } from './chains.js';
import { LightningParamsSchema, createLightningLedger } from './backends/lightning.js';
import { FlashParamsSchema, createFlashLedger } from './backends/flash.js';

export { NoneParamsSchema, CHAIN_NAMES, ChainRefSchema, createChain, type BackendCapabilities, type BackendDef, type ChainName, type ChainRef } from './chains.js';

export const BACKEND_LIST = [
  ...CHAIN_BACKENDS,
  backend({
    name: 'lightning',
    description: 'Lightning payment channels through one hub (BOLT fees, HTLCs), funded on an underlying chain',
    params: LightningParamsSchema,
    capabilities: { chain: false, channel: true },
    create: createLightningLedger,
  }),
  backend({
    name: 'flash',
    description: 'Flash channels (Strugar et al.): one deposit channel per session, opened and closed on an underlying chain',
    params: FlashParamsSchema,
    capabilities: { chain: false, channel: true },
    create: createFlashLedger,
  }),
] as const;

export type BackendName = (typeof BACKEND_LIST)[number]['name'];
export const BACKEND_NAMES = BACKEND_LIST.map((b) => b.name) as [BackendName, ...BackendName[]];

/** name → entry */
export const BACKENDS: { readonly [K in BackendName]: BackendDef<K> } = Object.fromEntries(BACKEND_LIST.map((b) => [b.name, b])) as {
  readonly [K in BackendName]: BackendDef<K>;
};

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/** Create a backend from its parameters (each factory parses them, defaults applied). */
export function createBackend(name: BackendName, ctx: LedgerContext, params: Record<string, unknown>): Ledger {
  return BACKENDS[name].create(ctx, params);
}

/** For the CLI: every backend with its description and capabilities, in registry order. */
export function listBackends(): { name: BackendName; description: string; capabilities: string[] }[] {
  return BACKEND_LIST.map((b) => ({
    name: b.name,
    description: b.description,
    capabilities: [b.capabilities.chain ? 'chain' : '', b.capabilities.channel ? 'channel' : ''].filter((x) => x !== ''),
  }));
}

/**
 * The backend-specific columns of the ledger comparison (comparison.csv / .md): each column folds
 * the named `extra` metrics of a stack's backends (LedgerSummary.extra) with `sum` or `max`. A
 * backend that reports a new figure adds its key here, and the comparison gains the column;
 * `comparisonRows` (src/output/output.ts) reads this list and hard-codes no backend.
 */
export interface ComparisonMetric {
  readonly column: string;
  readonly keys: readonly string[];
  readonly fold: 'sum' | 'max';
  /** integer (rounded) or 3 decimals */
  readonly format: 'int' | 'r3';
}

export const COMPARISON_METRICS: readonly ComparisonMetric[] = [
  { column: 'blocks', keys: ['blocks', 'chainBlocks'], fold: 'sum', format: 'int' },
  { column: 'stale_rate', keys: ['staleRate'], fold: 'max', format: 'r3' },
  { column: 'mean_block_fill', keys: ['meanBlockFill'], fold: 'max', format: 'r3' },
  { column: 'bytes_stored_per_node', keys: ['bytesStoredPerNode', 'chainBytesStoredPerNode'], fold: 'sum', format: 'int' },
  { column: 'messages', keys: ['messages'], fold: 'sum', format: 'int' },
  { column: 'bytes_sent', keys: ['bytesSent'], fold: 'sum', format: 'int' },
  { column: 'fees', keys: ['feesPaid'], fold: 'sum', format: 'r3' },
  { column: 'fees_msat', keys: ['feesMsat'], fold: 'sum', format: 'int' },
];
