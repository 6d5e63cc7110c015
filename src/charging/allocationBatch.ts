/**
 * Batched power allocation: one call decides the rates of every site that re-allocates at one
 * instant (all sites at an allocation tick, one site on a plug-in or departure). The batch is
 * read-only and holds the plugged sessions of all those sites as typed arrays (row layout below)
 * and, for policies written per site, the same rows as read-only session views.
 *
 *   site j (0 <= j < nSites): site[j] (station id), capKW[j], periodS[j];
 *                             its sessions are rows offset[j] .. offset[j+1]-1
 *   session row r:            sessionId[r], pluggedAt[r], deadline[r], remainingKWh[r], maxKW[r]
 *   output:                   out[r] = rate in kW for row r (out.length >= nSessions)
 * Sites are in ascending station id; a site's rows in plug-in order (the station's plugged list).
 *
 * The shipped policies (src/charging/allocation.ts) are written per site; `PerSiteAllocation`
 * runs one instance per station (so round-robin keeps its rotating start per station) over the
 * sites of a batch in order. The registry below names them for scenario files.
 */
import { z } from 'zod';
import { growF64, growI32 } from '../core/typed.js';
import { needWeights, WeightedFillPolicy } from './fill.js';
import { GreedyKeyAllocation } from './allocationDc.js';
import { makeAllocationPolicy, type AllocationPolicy, type PluggedSessionView, type SiteNetworkView, type SiteView } from './allocation.js';

export interface AllocationBatch {
  readonly now: number;
  readonly nSites: number;
  readonly site: Int32Array;
  readonly capKW: Float64Array;
  readonly periodS: Float64Array;
  readonly offset: Int32Array;
  readonly nSessions: number;
  readonly sessionId: Int32Array;
  readonly pluggedAt: Float64Array;
  readonly deadline: Float64Array;
  readonly remainingKWh: Float64Array;
  readonly maxKW: Float64Array;
  /** the rows of site j as read-only session views (same order) */
  sessions(j: number): readonly PluggedSessionView[];
  /** site j's electrical network (rates of its rows in kW, row order), or null */
  network(j: number): SiteNetworkView | null;
}

export interface AllocationBatchPolicy {
  readonly name: string;
  /** true for a policy that models no load management (uncontrolled): the site does not hold its
   * rates to the cap and network constraints. Every other policy's output is made feasible. */
  readonly ignoresLimits?: boolean;
  /** Write out[r] (kW) for every session row of the batch. Synchronous; may keep state. */
  allocateBatch(batch: AllocationBatch, out: Float64Array): void;
}

/** A per-site policy run once per site of a batch, one instance per station id. */
export class PerSiteAllocation implements AllocationBatchPolicy {
  private readonly bySite: AllocationPolicy[] = [];
  private scratch: Float64Array = new Float64Array(16);
  private readonly view: { now: number; capKW: number; periodS: number; network: SiteNetworkView | null } = { now: 0, capKW: 0, periodS: 1, network: null } satisfies SiteView;
  readonly ignoresLimits: boolean;

  constructor(
    readonly name: string,
    private readonly make: () => AllocationPolicy,
  ) {
    this.ignoresLimits = name === 'uncontrolled';
  }

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    const view = this.view;
    view.now = b.now;
    for (let j = 0; j < b.nSites; j++) {
      const id = b.site[j]!;
      const p = (this.bySite[id] ??= this.make());
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      if (this.scratch.length < n) this.scratch = new Float64Array(n * 2);
      view.capKW = b.capKW[j]!;
      view.periodS = b.periodS[j]!;
      view.network = b.network(j);
      p.allocate(view, b.sessions(j), this.scratch);
      for (let i = 0; i < n; i++) out[o + i] = this.scratch[i]!;
    }
  }
}

/** What an allocation-policy factory may use (scenario `policy.*`). */
export interface AllocationContext {
  /** round-robin increment (kW), scenario policy.incrementKW */
  incrementKW: number;
  /** apply the per-period remaining-energy bound (the simulation passes false, see allocation.ts) */
  energyBound: boolean;
}

export interface AllocationPolicyEntry {
  readonly name: string;
  readonly description: string;
  /** the scenario fields (under `policy`) the policy reads, when it has any */
  readonly params?: z.ZodType;
  create(ctx: AllocationContext): AllocationBatchPolicy;
}

const perSite = (name: Parameters<typeof makeAllocationPolicy>[0]) => (ctx: AllocationContext) =>
  new PerSiteAllocation(name, () => makeAllocationPolicy(name, { incrementKW: ctx.incrementKW, energyBound: ctx.energyBound }));

/** The registry of allocation policies; scenario `policy.allocation` is one of its names. */
export const ALLOCATION_POLICIES = [
  { name: 'uncontrolled', description: 'every EV at its physical limit, site cap ignored', create: perSite('uncontrolled') },
  { name: 'fcfs', description: 'greedy fill in plug-in order (first come, first served)', create: perSite('fcfs') },
  { name: 'equal-share', description: 'max-min fair water-filling under the site cap', create: perSite('equal-share') },
  {
    name: 'round-robin',
    description: 'increments of policy.incrementKW in turn, rotating start (ACN-Sim RoundRobin)',
    params: z.strictObject({ incrementKW: z.number().positive() }),
    create: perSite('round-robin'),
  },
  { name: 'edf', description: 'greedy fill by earliest deadline', create: perSite('edf') },
  { name: 'llf', description: 'greedy fill by least laxity', create: perSite('llf') },
  {
    name: 'need-proportional',
    description: 'weighted progressive filling, weights = power needed to finish by departure (feasible, work-conserving, phase-aware)',
    create: () => new WeightedFillPolicy('need-proportional', needWeights),
  },
  // DC fast-charging hubs (src/charging/allocationDc.ts)
  { name: 'srpt', description: 'greedy fill by shortest remaining charging time at full power along the DC curve (taper-aware SRPT)', create: () => new GreedyKeyAllocation('srpt') },
  { name: 'max-acceptance', description: 'greedy fill by the most power the curve can absorb now (taper-aware), then shortest remaining time', create: () => new GreedyKeyAllocation('max-acceptance') },
  { name: 'srpt-energy', description: 'greedy fill by least remaining energy (SRPT by energy, taper ignored)', create: () => new GreedyKeyAllocation('srpt-energy') },
] as const satisfies readonly AllocationPolicyEntry[];

export type AllocationPolicyName = (typeof ALLOCATION_POLICIES)[number]['name'];
export const ALLOCATION_POLICY_NAMES = ALLOCATION_POLICIES.map((e) => e.name) as [AllocationPolicyName, ...AllocationPolicyName[]];

export function allocationPolicyEntry(name: string): AllocationPolicyEntry {
  const e = ALLOCATION_POLICIES.find((x) => x.name === name);
  if (!e) throw new RangeError(`allocation: unknown policy "${name}"; allowed: ${ALLOCATION_POLICY_NAMES.join(' | ')}`);
  return e;
}

/** A site as the allocator sees it (implemented by Station). */
export interface AllocatableSite {
  readonly def: { readonly id: number };
  readonly capKW: number;
  readonly periodS: number;
  readonly plugged: readonly PluggedSessionView[];
  /** the site's electrical network over its plugged sessions (row order), or null */
  readonly networkView: SiteNetworkView | null;
  /** bring the sessions' maxKW up to date for an allocation at `now`; returns plugged count */
  prepareAllocation(now: number): number;
  /** apply rates[offset .. offset + plugged.length) and report the new aggregate; `enforce`:
   * hold the rates to the site's network constraints (false for a policy that ignores limits) */
  applyAllocation(rates: Float64Array, offset: number, now: number, enforce?: boolean): void;
}

/**
 * Runs an AllocationBatchPolicy over sites: builds the batch (typed rows), makes the one call,
 * and hands each site its rates, sites in the order given.
 */
export class SiteAllocator implements AllocationBatch {
  now = 0;
  nSites = 0;
  site: Int32Array = new Int32Array(8);
  capKW: Float64Array = new Float64Array(8);
  periodS: Float64Array = new Float64Array(8);
  offset: Int32Array = new Int32Array(9);
  nSessions = 0;
  sessionId: Int32Array = new Int32Array(16);
  pluggedAt: Float64Array = new Float64Array(16);
  deadline: Float64Array = new Float64Array(16);
  remainingKWh: Float64Array = new Float64Array(16);
  maxKW: Float64Array = new Float64Array(16);
  private rates: Float64Array = new Float64Array(16);
  private sites: AllocatableSite[] = [];
  private readonly one: AllocatableSite[] = [];

  constructor(readonly policy: AllocationBatchPolicy) {}

  sessions(j: number): readonly PluggedSessionView[] {
    return this.sites[j]!.plugged;
  }

  network(j: number): SiteNetworkView | null {
    return this.sites[j]!.networkView;
  }

  /** Re-allocate one site (a plug-in, departure or authorisation). */
  allocateOne(s: AllocatableSite, now: number): void {
    this.one[0] = s;
    this.allocate(this.one, now);
  }

  /** Re-allocate these sites (each with at least one plugged session) in one policy call. */
  allocate(sites: readonly AllocatableSite[], now: number): void {
    const m = sites.length;
    if (m === 0) return;
    this.now = now;
    this.site = growI32(this.site, m);
    this.capKW = growF64(this.capKW, m);
    this.periodS = growF64(this.periodS, m);
    this.offset = growI32(this.offset, m + 1);
    this.sites = sites as AllocatableSite[];
    let r = 0;
    for (let j = 0; j < m; j++) {
      const s = sites[j]!;
      const n = s.prepareAllocation(now);
      this.site[j] = s.def.id;
      this.capKW[j] = s.capKW;
      this.periodS[j] = s.periodS;
      this.offset[j] = r;
      this.reserve(r + n);
      for (const x of s.plugged) {
        this.sessionId[r] = x.sessionId;
        this.pluggedAt[r] = x.pluggedAt;
        this.deadline[r] = x.deadline;
        this.remainingKWh[r] = x.remainingKWh;
        this.maxKW[r] = x.maxKW;
        r++;
      }
    }
    this.offset[m] = r;
    this.nSites = m;
    this.nSessions = r;
    if (this.rates.length < r) this.rates = new Float64Array(r * 2);
    this.rates.fill(0, 0, r);
    this.policy.allocateBatch(this, this.rates);
    const enforce = this.policy.ignoresLimits !== true;
    for (let j = 0; j < m; j++) sites[j]!.applyAllocation(this.rates, this.offset[j]!, now, enforce);
    this.one.length = 0;
    this.sites = [];
  }

  private reserve(n: number): void {
    this.sessionId = growI32(this.sessionId, n);
    this.pluggedAt = growF64(this.pluggedAt, n);
    this.deadline = growF64(this.deadline, n);
    this.remainingKWh = growF64(this.remainingKWh, n);
    this.maxKW = growF64(this.maxKW, n);
  }
}
