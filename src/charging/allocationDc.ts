/**
 * Allocation policies for DC fast-charging hubs (tapering curves, a site cap, a queue), aimed at
 * the mean time in system: an EV leaves when it reaches its target, so the allocation decides who
 * leaves soonest and frees a charger for the queue.
 *
 * - `srpt`: shortest remaining charging time first — the SRPT rule of single-server queueing
 *   (optimal for the mean response time there; Schrage 1968), with the taper taken into account:
 *   a session's key is its remaining charging time at full available power, i.e. the exact time
 *   along its own DC curve from its state of charge to its target at min(charger rating, site
 *   cap) (evModels.chargeTimeS). In key order each session gets min(its limit now, cap left) —
 *   its limit now already being min(charger rating, curve power at its SoC), so power a tapering
 *   EV cannot take goes on to the next one.
 * - `max-acceptance`: taper-aware greedy — power first where the curve can absorb it: sessions
 *   in descending order of their limit now (curve power at SoC ∧ charger rating), ties by the
 *   shorter remaining time; keeps the site's draw high when many EVs are in their taper.
 * - `srpt-energy`: least remaining energy first (SRPT by energy, taper ignored), the naive
 *   counterpart of `srpt`.
 * All three are greedy fills in a sort order: 0 ≤ rate ≤ limit, Σ ≤ cap, work-conserving; on a
 * site with an electrical network each session gets the largest rate that keeps it feasible
 * (as the sorted policies of allocation.ts).
 *
 * The taper-aware key needs a session's model, state of charge, target and charger rating: the
 * simulation's sessions (station.ts Session) carry them (`TaperSessionView`). A view without them
 * (plain test objects of other settings) falls back to remainingKWh / maxKW, the flat-curve time.
 * Tie-breaks: (key, pluggedAt, sessionId, row) — deterministic, independent of the sort algorithm.
 */
import type { AllocationBatch, AllocationBatchPolicy } from './allocationBatch.js';
import type { PluggedSessionView } from './allocation.js';
import { chargeTimeS, type ChargerKind, type EvModel } from './evModels.js';

/** What the taper-aware policies read of a session (station.ts Session implements it). */
export interface TaperSessionView extends PluggedSessionView {
  readonly model: EvModel;
  readonly soc: number;
  readonly targetSoc: number;
  readonly kind: ChargerKind;
  /** rating of the charger it is plugged into (kW) */
  readonly ratedKW: number;
}

export function isTaperView(s: PluggedSessionView): s is TaperSessionView {
  const t = s as Partial<TaperSessionView>;
  return t.model !== undefined && typeof t.soc === 'number' && typeof t.targetSoc === 'number' && typeof t.ratedKW === 'number';
}

/**
 * Remaining charging time (s) of a session at full available power: along its DC curve from its
 * SoC to its target at min(charger rating, capKW) for a taper view; remainingKWh / maxKW for any
 * other view. 0 with no energy left; Infinity when it cannot charge.
 */
export function remainingChargeS(s: PluggedSessionView, capKW: number): number {
  if (!(s.remainingKWh > 1e-9)) return 0;
  if (isTaperView(s)) {
    const kw = Math.min(s.ratedKW, capKW > 0 ? capKW : 0);
    return s.targetSoc > s.soc ? chargeTimeS(s.model, s.soc, Math.min(1, s.targetSoc), kw, s.kind) : 0;
  }
  return s.maxKW > 0 ? (s.remainingKWh / s.maxKW) * 3600 : Infinity;
}

export type DcAllocationName = 'srpt' | 'max-acceptance' | 'srpt-energy';

/** A greedy fill over one sort key per session (ascending), per site of a batch. */
export class GreedyKeyAllocation implements AllocationBatchPolicy {
  private key = new Float64Array(16);
  private order = new Int32Array(16);
  private rates = new Float64Array(16);
  private pl = new Float64Array(16);
  private id = new Float64Array(16);
  private readonly cmp = (a: number, b: number): number => {
    const k = this.key;
    return k[a]! < k[b]! ? -1 : k[a]! > k[b]! ? 1 : this.pl[a]! - this.pl[b]! || this.id[a]! - this.id[b]! || a - b;
  };

  constructor(readonly name: DcAllocationName) {}

  allocateBatch(b: AllocationBatch, out: Float64Array): void {
    for (let j = 0; j < b.nSites; j++) {
      const o = b.offset[j]!;
      const n = b.offset[j + 1]! - o;
      if (this.key.length < n) {
        this.key = new Float64Array(n * 2);
        this.order = new Int32Array(n * 2);
        this.rates = new Float64Array(n * 2);
        this.pl = new Float64Array(n * 2);
        this.id = new Float64Array(n * 2);
      }
      const cap = b.capKW[j]! > 0 ? b.capKW[j]! : 0;
      const views = b.sessions(j);
      for (let i = 0; i < n; i++) {
        const r = o + i;
        const s = views[i]!;
        let k: number;
        if (this.name === 'srpt') k = remainingChargeS(s, cap);
        else if (this.name === 'srpt-energy') k = b.remainingKWh[r]!;
        else k = -b.maxKW[r]! + remainingChargeS(s, cap) * 1e-9; // descending limit, then shorter time
        this.key[i] = Number.isNaN(k) ? Infinity : k;
        this.pl[i] = b.pluggedAt[r]!;
        this.id[i] = b.sessionId[r]!;
        this.order[i] = i;
      }
      const ord = this.order.subarray(0, n);
      if (n > 1) ord.sort(this.cmp);
      const rates = this.rates;
      for (let i = 0; i < n; i++) rates[i] = 0;
      const net = b.network(j);
      let left = cap;
      for (let k = 0; k < n; k++) {
        const i = ord[k]!;
        const r = o + i;
        const u = b.remainingKWh[r]! > 1e-9 && b.maxKW[r]! > 0 ? b.maxKW[r]! : 0;
        const x = net ? net.maxFeasibleKW(i, rates, Math.min(u, left)) : Math.min(u, left);
        rates[i] = x > 0 ? x : 0;
        left -= rates[i]!;
        if (left < 0) left = 0;
      }
      for (let i = 0; i < n; i++) out[o + i] = rates[i]!;
    }
  }
}
