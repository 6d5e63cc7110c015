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
import { PeakControlledAllocation, type PeakForecastModel } from './peakControl.js';
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
  /** true for a policy whose allocation of a site where nothing binds (no electrical network and
   * the sessions' limits sum to at most the cap) is every session at its limit — any feasible,
   * work-conserving policy, e.g. a weighted progressive filling. The allocator then leaves such
   * sites out of the policy's batch and gives their sessions their limits itself (exactly what the
   * policy would give), and calls the policy only when some site is constrained. Set by the
   * learned policies, whose per-call cost is a model evaluation. */
  readonly skipsUnconstrained?: boolean;
  /** Write out[r] (kW) for every session row of the batch. Synchronous; may keep state. */
  allocateBatch(batch: AllocationBatch, out: Float64Array): void;
}

/** Sessions with at most this much energy left count as done for skipsUnconstrained (the learned
 * policies' own threshold: they give such a session weight 0). */
export const UNCONSTRAINED_EPS_KWH = 1e-9;

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
  /** scenario site.peakFloorKW (peak-aware: a site power its target never goes below; default 0) */
  peakFloorKW?: number;
  /** scenario site.peakLevelFactor (peak-aware: q of qOA; default 1) */
  peakLevelFactor?: number;
  /** scenario site.peakModel, loaded (peak-aware: the learned forecast added to its level) */
  peakForecast?: { model: PeakForecastModel; startEpochS: number };
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
  {
    name: 'peak-aware',
    description: 'llf under an Optimal-Available site power target, max(peak so far, least constant power finishing every plugged EV) (demand charges)',
    create: (ctx: AllocationContext) => new PeakControlledAllocation('peak-aware', perSite('llf')(ctx), { floorKW: ctx.peakFloorKW ?? 0, levelFactor: ctx.peakLevelFactor ?? 1, ...(ctx.peakForecast ? { forecast: ctx.peakForecast } : {}) }),
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
    if (this.policy.skipsUnconstrained === true) this.allocateConstrained();
    else this.policy.allocateBatch(this, this.rates);
    const enforce = this.policy.ignoresLimits !== true;
    for (let j = 0; j < m; j++) sites[j]!.applyAllocation(this.rates, this.offset[j]!, now, enforce);
    this.one.length = 0;
    this.sites = [];
  }

  private sub: SubBatch | null = null;

  /** skipsUnconstrained: sites where nothing binds get their limits; the rest go to the policy
   * as one compacted batch (same site order, same rows). */
  private allocateConstrained(): void {
    const sub = (this.sub ??= new SubBatch(this));
    sub.reset();
    for (let j = 0; j < this.nSites; j++) {
      const o = this.offset[j]!;
      const e = this.offset[j + 1]!;
      let sum = 0;
      for (let q = o; q < e; q++) if (this.remainingKWh[q]! > UNCONSTRAINED_EPS_KWH && this.maxKW[q]! > 0) sum += this.maxKW[q]!;
      if (this.sites[j]!.networkView === null && sum <= this.capKW[j]!) {
        for (let q = o; q < e; q++) this.rates[q] = this.remainingKWh[q]! > UNCONSTRAINED_EPS_KWH && this.maxKW[q]! > 0 ? this.maxKW[q]! : 0;
      } else sub.addSite(j);
    }
    if (sub.nSites === 0) return;
    this.policy.allocateBatch(sub, sub.rates);
    sub.scatter(this.rates);
  }

  private reserve(n: number): void {
    this.sessionId = growI32(this.sessionId, n);
    this.pluggedAt = growF64(this.pluggedAt, n);
    this.deadline = growF64(this.deadline, n);
    this.remainingKWh = growF64(this.remainingKWh, n);
    this.maxKW = growF64(this.maxKW, n);
  }
}

/** The constrained sites of a SiteAllocator's batch, compacted (SiteAllocator.allocateConstrained). */
class SubBatch implements AllocationBatch {
  nSites = 0;
  nSessions = 0;
  site: Int32Array = new Int32Array(8);
  capKW: Float64Array = new Float64Array(8);
  periodS: Float64Array = new Float64Array(8);
  offset: Int32Array = new Int32Array(9);
  sessionId: Int32Array = new Int32Array(16);
  pluggedAt: Float64Array = new Float64Array(16);
  deadline: Float64Array = new Float64Array(16);
  remainingKWh: Float64Array = new Float64Array(16);
  maxKW: Float64Array = new Float64Array(16);
  rates: Float64Array = new Float64Array(16);
  /** site j of the sub-batch is site from[j] of the parent; its rows start at row0[j] there */
  private from: Int32Array = new Int32Array(8);
  private row0: Int32Array = new Int32Array(8);

  constructor(private readonly parent: SiteAllocator) {}

  get now(): number {
    return this.parent.now;
  }

  reset(): void {
    this.nSites = 0;
    this.nSessions = 0;
    this.offset[0] = 0;
  }

  addSite(j: number): void {
    const p = this.parent;
    const m = this.nSites;
    this.site = growI32(this.site, m + 1);
    this.capKW = growF64(this.capKW, m + 1);
    this.periodS = growF64(this.periodS, m + 1);
    this.offset = growI32(this.offset, m + 2);
    this.from = growI32(this.from, m + 1);
    this.row0 = growI32(this.row0, m + 1);
    this.site[m] = p.site[j]!;
    this.capKW[m] = p.capKW[j]!;
    this.periodS[m] = p.periodS[j]!;
    this.from[m] = j;
    const o = p.offset[j]!;
    const n = p.offset[j + 1]! - o;
    this.row0[m] = o;
    let r = this.nSessions;
    const need = r + n;
    this.sessionId = growI32(this.sessionId, need);
    this.pluggedAt = growF64(this.pluggedAt, need);
    this.deadline = growF64(this.deadline, need);
    this.remainingKWh = growF64(this.remainingKWh, need);
    this.maxKW = growF64(this.maxKW, need);
    this.rates = growF64(this.rates, need);
    for (let q = o; q < o + n; q++, r++) {
      this.sessionId[r] = p.sessionId[q]!;
      this.pluggedAt[r] = p.pluggedAt[q]!;
      this.deadline[r] = p.deadline[q]!;
      this.remainingKWh[r] = p.remainingKWh[q]!;
      this.maxKW[r] = p.maxKW[q]!;
      this.rates[r] = 0;
    }
    this.nSessions = r;
    this.nSites = m + 1;
    this.offset[m + 1] = r;
  }

  sessions(j: number): readonly PluggedSessionView[] {
    return this.parent.sessions(this.from[j]!);
  }

  network(j: number): SiteNetworkView | null {
    return this.parent.network(this.from[j]!);
  }

  /** copy the policy's rates back into the parent's rows */
  scatter(out: Float64Array): void {
    for (let j = 0; j < this.nSites; j++) {
      const o = this.offset[j]!;
      const n = this.offset[j + 1]! - o;
      const p0 = this.row0[j]!;
      for (let i = 0; i < n; i++) out[p0 + i] = this.rates[o + i]!;
    }
  }
}
