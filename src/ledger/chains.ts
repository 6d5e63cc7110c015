/**
 * The chain-capable part of the backend registry (src/ledger/registry.ts adds the channel
 * backends and is the one list the rest of the code reads). Each backend is registered exactly
 * once, in one of the two lists; this part sits below the channel backends so that a channel
 * backend can name its underlying chain as any registered chain backend without an import cycle.
 *
 * A backend entry: name, one-line description, the zod schema of its parameters (defaults included;
 * it also feeds the scenario schema and its JSON Schema), capabilities and the factory.
 *   capabilities.chain    it can carry records and host payment channels (be a channel's chain)
 *   capabilities.channel  it is a payment-channel backend and needs an underlying chain
 */
import { z } from 'zod';
import { NoneLedger, type Ledger, type LedgerContext } from './ledger.js';
import { CentralParamsSchema, createCentralLedger } from './backends/central.js';
import { PowParamsSchema, createPowLedger } from './backends/pow.js';
import { QbftParamsSchema, createQbftLedger } from './backends/qbft.js';
import { TangleParamsSchema, createTangleLedger } from './backends/tangle.js';

export interface BackendCapabilities {
  /** can carry records/payments itself and be the chain under a channel backend */
  readonly chain: boolean;
  /** a payment-channel backend: needs an underlying chain (params.chain) */
  readonly channel: boolean;
  /** its parameters have an optional `confirmations` that a channel backend may set (funding depth) */
  readonly confirmationsParam?: boolean;
}

export interface BackendDef<N extends string = string> {
  readonly name: N;
  readonly description: string;
  /** parameters, defaults applied on parse (input: what a scenario writes) */
  readonly params: z.ZodType<Record<string, unknown>, Record<string, unknown>>;
  readonly capabilities: BackendCapabilities;
  /** create from parameters (parsed or not: every factory parses them again) */
  create(ctx: LedgerContext, params: Record<string, unknown>): Ledger;
}

/** Typed entry: the factory's parameter type is the schema's input type. */
export function backend<N extends string, S extends z.ZodType<Record<string, unknown>, Record<string, unknown>>>(d: {
  name: N;
  description: string;
  params: S;
  capabilities: BackendCapabilities;
  create: (ctx: LedgerContext, params: z.input<S>) => Ledger;
}): BackendDef<N> {
  return d as BackendDef<N>;
}

export const NoneParamsSchema = z.strictObject({});

export const CHAIN_BACKENDS = [
  backend({
    name: 'none',
    description: 'ideal ledger: every transaction final at the instant it is submitted (the zero point)',
    params: NoneParamsSchema,
    capabilities: { chain: true, channel: false },
    create: (ctx) => new NoneLedger(ctx),
  }),
  backend({
    name: 'central',
    description: "a charge-point operator's central database (M/M/c server behind the network)",
    params: CentralParamsSchema,
    capabilities: { chain: true, channel: false },
    create: createCentralLedger,
  }),
  backend({
    name: 'pow',
    description: 'proof-of-work chain: scheduled-miner billing chain (Jeong et al.) or Nakamoto consensus',
    params: PowParamsSchema,
    capabilities: { chain: true, channel: false, confirmationsParam: true },
    create: createPowLedger,
  }),
  backend({
    name: 'qbft',
    description: 'permissioned QBFT chain (Quorum / Besu, Inglese et al.)',
    params: QbftParamsSchema,
    capabilities: { chain: true, channel: false },
    create: createQbftLedger,
  }),
  backend({
    name: 'tangle',
    description: 'IOTA-like Tangle DAG with tip selection and milestones (Strugar et al.)',
    params: TangleParamsSchema,
    capabilities: { chain: true, channel: false },
    create: createTangleLedger,
  }),
] as const;

export type ChainName = (typeof CHAIN_BACKENDS)[number]['name'];
export const CHAIN_NAMES = CHAIN_BACKENDS.map((b) => b.name) as [ChainName, ...ChainName[]];

export function chainBackend(name: ChainName): BackendDef<ChainName> {
  const d = CHAIN_BACKENDS.find((b) => b.name === name);
  if (d === undefined) throw new RangeError(`ledger: unknown chain backend ${name}`);
  return d;
}

/**
 * The chain under a channel backend: `{ backend, params }`, backend any chain-capable backend
 * (validated: a channel backend or an unknown name is an error listing the allowed names), params
 * validated by that backend's schema (defaults applied).
 */
const chainOption = (b: BackendDef<ChainName>) => z.strictObject({ backend: z.literal(b.name), params: b.params.prefault({}) });
type ChainOption = ReturnType<typeof chainOption>;
const CHAIN_OPTIONS = CHAIN_BACKENDS.map(chainOption) as [ChainOption, ...ChainOption[]];

export const ChainRefSchema = z.discriminatedUnion('backend', CHAIN_OPTIONS);

export interface ChainRef {
  readonly backend: ChainName;
  readonly params: Record<string, unknown>;
}

/** Create the chain named by a (parsed) reference. */
export function createChain(ctx: LedgerContext, ref: ChainRef): Ledger {
  return chainBackend(ref.backend).create(ctx, ref.params);
}
