/**
 * Ledger stacks: which backend carries the charge records (session start, per-minute records,
 * session end) and which carries the payments. The shipped stacks follow the designs evsim draws
 * on (see README, "Ledger stacks"):
 *
 *   none      none / none        ideal ledger: everything final at once (the zero point)
 *   central   central / central  a charge-point operator's central database (status quo, control)
 *   pow       pow / pow          the billing chain of Jeong et al. (scheduled miner with the
 *                                longest history, mutual authentication, dual metering)
 *   nakamoto  pow / pow          proof-of-work Nakamoto consensus (Bitcoin-like)
 *   qbft      qbft / qbft        Quorum with QBFT, a record every minute, payments on the chain
 *   qbft-lightning  qbft / lightning  Inglese et al.: QBFT records, Lightning payments via a hub
 *   tangle-flash    tangle / flash    Strugar et al.: Tangle records, Flash-channel payments
 *
 * When records and payments name the same backend with the same parameters, one instance (one
 * chain) carries both.
 */
import type { BackendName } from './registry.js';

export interface BackendRef {
  backend: BackendName;
  /** overrides on top of the scenario's ledger.backends.<backend> parameters */
  params?: Record<string, unknown>;
}

export interface StackDef {
  name: string;
  /** one line, for the CLI's listing (inline stacks of a scenario have none) */
  description?: string;
  records: BackendRef;
  payments: BackendRef;
}

export const SHIPPED_STACKS: readonly StackDef[] = [
  { name: 'none', description: 'ideal ledger: everything final at once (the zero point)', records: { backend: 'none' }, payments: { backend: 'none' } },
  { name: 'central', description: "a charge-point operator's central database (status quo, control)", records: { backend: 'central' }, payments: { backend: 'central' } },
  { name: 'pow', description: 'the billing chain of Jeong et al. (scheduled miner, dual metering)', records: { backend: 'pow', params: { variant: 'billing' } }, payments: { backend: 'pow', params: { variant: 'billing' } } },
  { name: 'nakamoto', description: 'proof-of-work Nakamoto consensus (Bitcoin-like)', records: { backend: 'pow', params: { variant: 'nakamoto' } }, payments: { backend: 'pow', params: { variant: 'nakamoto' } } },
  { name: 'qbft', description: 'Quorum with QBFT: a record every minute, payments on the chain', records: { backend: 'qbft' }, payments: { backend: 'qbft' } },
  { name: 'qbft-lightning', description: 'Inglese et al.: QBFT records, Lightning payments via a hub', records: { backend: 'qbft' }, payments: { backend: 'lightning' } },
  { name: 'tangle-flash', description: 'Strugar et al.: Tangle records, Flash-channel payments', records: { backend: 'tangle' }, payments: { backend: 'flash' } },
];

export const SHIPPED_STACK_NAMES = SHIPPED_STACKS.map((s) => s.name) as [string, ...string[]];

export function shippedStack(name: string): StackDef | undefined {
  return SHIPPED_STACKS.find((s) => s.name === name);
}

/** For the CLI: every shipped stack with its description and its records / payments backends. */
export function listStacks(): { name: string; description: string; records: string; payments: string }[] {
  return SHIPPED_STACKS.map((s) => ({ name: s.name, description: s.description ?? '', records: s.records.backend, payments: s.payments.backend }));
}
