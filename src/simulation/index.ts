/**
 * The simulation layer's programmatic API: createSimulation and the Simulation it returns, the
 * parts that may be injected, and the registries. See docs/simulation.md for an example.
 */
export { createSimulation, Simulation } from './simulation.js';
export type * from './types.js';
export { ledgerProtocol, LedgerProtocol, type ChargingProtocol, type ProtocolContext, type ProtocolFactory } from './protocol.js';
export { DEMAND_MODELS, DEMAND_MODEL_NAMES, type DemandContext, type DemandModelEntry } from './demandModels.js';
export { formatRegistries, listRegistries, type Registries, type RegistryEntry } from './registries.js';
export { buildCity, type City } from './world.js';
