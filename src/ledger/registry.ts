/**
 * The typed registry of ledger backends (no class-name strings, no reflection): each entry is the
 * zod schema of the backend's parameters (defaults included; it also feeds the scenario JSON
 * Schema) and its factory.
 */
import { z } from 'zod';
import { NoneLedger, type Ledger, type LedgerContext } from './ledger.js';
import { CentralParamsSchema, createCentralLedger } from './backends/central.js';
import { PowParamsSchema, createPowLedger } from './backends/pow.js';
import { QbftParamsSchema, createQbftLedger } from './backends/qbft.js';
import { LightningParamsSchema, createLightningLedger } from './backends/lightning.js';
import { FlashParamsSchema, createFlashLedger } from './backends/flash.js';
import { TangleParamsSchema, createTangleLedger } from './backends/tangle.js';

export const NoneParamsSchema = z.strictObject({});

export const BACKENDS = {
  none: { params: NoneParamsSchema, create: (ctx: LedgerContext, _p: unknown): Ledger => new NoneLedger(ctx) },
  central: { params: CentralParamsSchema, create: createCentralLedger },
  pow: { params: PowParamsSchema, create: createPowLedger },
  qbft: { params: QbftParamsSchema, create: createQbftLedger },
  lightning: { params: LightningParamsSchema, create: createLightningLedger },
  flash: { params: FlashParamsSchema, create: createFlashLedger },
  tangle: { params: TangleParamsSchema, create: createTangleLedger },
} as const;

export type BackendName = keyof typeof BACKENDS;
export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

/** Create a backend from already-validated parameters. */
export function createBackend(name: BackendName, ctx: LedgerContext, params: unknown): Ledger {
  const entry = BACKENDS[name] as { create: (ctx: LedgerContext, p: never) => Ledger };
  return entry.create(ctx, params as never);
}
