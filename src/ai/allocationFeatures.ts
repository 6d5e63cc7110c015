/**
 * Per-session features of the learned allocation policy (`learned`), computed the same way in
 * the simulation (from an AllocationBatch) and in training (along the offline optimum's
 * trajectory, src/ai/trainAllocation.ts). One row per plugged session; every feature is a float
 * in a bounded range (clipped as stated), so the model never sees an unbounded input.
 *
 * | # | name            | definition (unit)                                                      | normalisation, clip |
 * |---|-----------------|------------------------------------------------------------------------|---------------------|
 * | 0 | hoursLeft       | (deadline − now) / 3600, at least 0 (h)                                 | / 10, [0, 3]        |
 * | 1 | remainingKWh    | energy still requested (kWh)                                            | / 10, [0, 10]       |
 * | 2 | needRatio       | remainingKWh / max(hoursLeft, period h) / maxKW (required power share)  | [0, 3]              |
 * | 3 | laxityHours     | hoursLeft − remainingKWh / maxKW (h; maxKW 0: −3 after scaling)         | / 10, [−3, 3]       |
 * | 4 | maxKW           | the session's power limit now (kW)                                      | / 10, [0, 10]       |
 * | 5 | phase30         | 1 when the session's EVSE is on the 30° phase (network sites), else 0   |                     |
 * | 6 | phaseM90        | 1 on the −90° phase                                                    |                     |
 * | 7 | phase150        | 1 on the 150° phase                                                    |                     |
 * | 8 | siteActive      | sessions at the site with energy still to take                          | / 50, [0, 10]       |
 * | 9 | siteNeedRatio   | Σ need kW of the site / site kW (need = min(remaining/hours, maxKW))    | [0, 10]             |
 * |10 | needShare       | need_i / Σ need of the site (0 when Σ = 0)                              | [0, 1]              |
 * |11 | hourSin         | sin(2π · UTC hour of day / 24) of the scenario's wall clock             | [−1, 1]             |
 * |12 | hourCos         | cos(2π · UTC hour of day / 24)                                          | [−1, 1]             |
 * |13 | laxityRank      | rank of laxityHours among the site's active sessions / (active − 1)     | [0, 1], 0 = least   |
 * |14 | phaseNeedShare  | Σ need on the same phase / Σ need of the site (0 without a network)     | [0, 1]              |
 *
 * "site kW" is the site's aggregate cap when finite, else the transformer kW of its network, else
 * the sum of its sessions' maxKW. A session with no energy left (remainingKWh ≤ 1e-9 kWh) is not
 * active: it counts in no aggregate and its row is all zeros apart from features 0, 4, 11, 12.
 */

import type { AllocationBatch } from '../charging/allocationBatch.js';
import { isTaperView, remainingChargeS } from '../charging/allocationDc.js';

export const ALLOCATION_FEATURES = [
  'hoursLeft',
  'remainingKWh',
  'needRatio',
  'laxityHours',
  'maxKW',
  'phase30',
  'phaseM90',
  'phase150',
  'siteActive',
  'siteNeedRatio',
  'needShare',
  'hourSin',
  'hourCos',
  'laxityRank',
  'phaseNeedShare',
] as const;
export const N_ALLOCATION_FEATURES = ALLOCATION_FEATURES.length;

/** One site's sessions at one instant (rows r0 .. r0 + n − 1 of the arrays). */
export interface SiteRows {
  /** simulated seconds since the scenario start */
  now: number;
  /** the scenario start, UTC epoch seconds (for the hour of day) */
  startEpochS: number;
  periodS: number;
  /** site kW for the aggregates (see above); Infinity or ≤ 0: the sum of maxKW */
  siteKW: number;
  n: number;
  r0: number;
  deadline: ArrayLike<number>;
  remainingKWh: ArrayLike<number>;
  maxKW: ArrayLike<number>;
  /** phase of each row (0: 30°, 1: −90°, 2: 150°, −1: none), indexed like the rows */
  phase: ArrayLike<number>;
}

/** Phase index (0: 30°, 1: −90°, 2: 150°, −1: other) of an angle given by its cos and sin. */
export function phaseIndex(cos: number, sin: number): number {
  const deg = Math.round((Math.atan2(sin, cos) * 180) / Math.PI);
  if (deg === 30) return 0;
  if (deg === -90 || deg === 270) return 1;
  if (deg === 150) return 2;
  return -1;
}

const clip = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Scratch for siteFeatures (grown as needed). */
export class FeatureScratch {
  need = new Float64Array(16);
  lax = new Float64Array(16);
  order: number[] = [];
  grow(n: number): void {
    if (this.need.length < n) {
      this.need = new Float64Array(n * 2);
      this.lax = new Float64Array(n * 2);
    }
  }
}

/** Write the features of the site's rows into out[(row0 + i) * F + f], i = 0 .. n − 1. */
export function siteFeatures(s: SiteRows, out: Float32Array, row0: number, scratch: FeatureScratch): void {
  const F = N_ALLOCATION_FEATURES;
  const n = s.n;
  scratch.grow(n);
  const { need, lax } = scratch;
  const periodH = s.periodS / 3600;
  const hod = (((s.startEpochS + s.now) % 86400) + 86400) % 86400 / 3600;
  const hs = Math.sin((2 * Math.PI * hod) / 24);
  const hc = Math.cos((2 * Math.PI * hod) / 24);
  let active = 0;
  let needSum = 0;
  let maxSum = 0;
  const phaseNeed = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const r = s.r0 + i;
    const rem = s.remainingKWh[r]!;
    const mk = s.maxKW[r]!;
    maxSum += mk;
    const hoursLeft = Math.max(0, s.deadline[r]! - s.now) / 3600;
    if (rem > 1e-9) {
      active++;
      const nd = Math.min(rem / Math.max(hoursLeft, periodH), mk);
      need[i] = nd;
      needSum += nd;
      lax[i] = mk > 0 ? hoursLeft - rem / mk : -30;
      const p = s.phase[r]!;
      if (p >= 0) phaseNeed[p]! += nd;
    } else {
      need[i] = 0;
      lax[i] = Infinity;
    }
  }
  const siteKW = s.siteKW > 0 && s.siteKW < Infinity ? s.siteKW : Math.max(maxSum, 1e-9);
  // laxity rank among the active rows (ties by row order)
  const order = scratch.order;
  order.length = 0;
  for (let i = 0; i < n; i++) if (s.remainingKWh[s.r0 + i]! > 1e-9) order.push(i);
  order.sort((a, b) => lax[a]! - lax[b]! || a - b);
  for (let i = 0; i < n; i++) {
    const r = s.r0 + i;
    const o = (row0 + i) * F;
    const rem = s.remainingKWh[r]!;
    const mk = s.maxKW[r]!;
    const hoursLeft = Math.max(0, s.deadline[r]! - s.now) / 3600;
    out[o + 0] = clip(hoursLeft / 10, 0, 3);
    out[o + 4] = clip(mk / 10, 0, 10);
    out[o + 11] = hs;
    out[o + 12] = hc;
    if (!(rem > 1e-9)) {
      for (const f of [1, 2, 3, 5, 6, 7, 8, 9, 10, 13, 14]) out[o + f] = 0;
      continue;
    }
    out[o + 1] = clip(rem / 10, 0, 10);
    out[o + 2] = mk > 0 ? clip(rem / Math.max(hoursLeft, periodH) / mk, 0, 3) : 3;
    out[o + 3] = clip(lax[i]! / 10, -3, 3);
    const p = s.phase[r]!;
    out[o + 5] = p === 0 ? 1 : 0;
    out[o + 6] = p === 1 ? 1 : 0;
    out[o + 7] = p === 2 ? 1 : 0;
    out[o + 8] = clip(active / 50, 0, 10);
    out[o + 9] = clip(needSum / siteKW, 0, 10);
    out[o + 10] = needSum > 0 ? need[i]! / needSum : 0;
    out[o + 14] = p >= 0 && needSum > 0 ? phaseNeed[p]! / needSum : 0;
  }
  for (let k = 0; k < order.length; k++) out[(row0 + order[k]!) * F + 13] = order.length > 1 ? k / (order.length - 1) : 0;
}

// ---- DC hub features (the hub's own learned allocation, src/ai/allocationHub.ts) -------------
/**
 * Per-session features of the DC-hub allocation model. One row per plugged session of a site;
 * "remaining charge time" is remainingChargeS (src/charging/allocationDc.ts): along the EV's own
 * DC curve from its SoC to its target at min(charger rating, site cap) — the SRPT key.
 *
 * | # | name                | definition (unit)                                                    | clip    |
 * |---|---------------------|----------------------------------------------------------------------|---------|
 * | 0 | remainingChargeH    | remaining charge time at full available power (h)                    | [0, 2]  |
 * | 1 | remainingChargeRank | its rank (ascending) among the site's active sessions / (active − 1) | [0, 1]  |
 * | 2 | acceptance          | limit now / charger rating (how much of the rating the curve takes)  | [0, 1]  |
 * | 3 | maxKWShare          | limit now / site kW                                                  | [0, 1]  |
 * | 4 | remainingKWh50      | energy still wanted / 50 kWh                                         | [0, 2]  |
 * | 5 | soc                 | state of charge (0 for a view without one)                           | [0, 1]  |
 * | 6 | siteDemandRatio     | Σ limits of the active sessions / site kW                            | [0, 5]  |
 * | 7 | siteActive10        | active sessions / 10                                                 | [0, 5]  |
 * | 8 | pluggedH            | time since plug-in (h)                                               | [0, 2]  |
 * | 9 | slackH              | (deadline − now) / 3600 − remainingChargeH                           | [−2, 2] |
 * Site kW: the cap when finite, else Σ limits. A session with no energy left is inactive: all
 * zeros but features 5 and 8.
 */
export const HUB_FEATURES = [
  'remainingChargeH',
  'remainingChargeRank',
  'acceptance',
  'maxKWShare',
  'remainingKWh50',
  'soc',
  'siteDemandRatio',
  'siteActive10',
  'pluggedH',
  'slackH',
] as const;
export const N_HUB_FEATURES = HUB_FEATURES.length;

/** Scratch of hubSiteFeatures. */
export class HubFeatureScratch {
  t = new Float64Array(16);
  order: number[] = [];
}

/** Write the hub features of site j of batch b into out[(row0 + i) * N_HUB_FEATURES + f]. */
export function hubSiteFeatures(b: AllocationBatch, j: number, out: Float32Array | Float64Array, row0: number, sc: HubFeatureScratch): void {
  const F = N_HUB_FEATURES;
  const o = b.offset[j]!;
  const n = b.offset[j + 1]! - o;
  if (sc.t.length < n) sc.t = new Float64Array(n * 2);
  const views = b.sessions(j);
  const cap = b.capKW[j]!;
  let sumMax = 0;
  let active = 0;
  const order = sc.order;
  order.length = 0;
  for (let i = 0; i < n; i++) {
    const r = o + i;
    if (b.remainingKWh[r]! > 1e-9) {
      active++;
      sumMax += b.maxKW[r]!;
      sc.t[i] = remainingChargeS(views[i]!, cap);
      order.push(i);
    } else sc.t[i] = 0;
  }
  const siteKW = cap > 0 && cap < Infinity ? cap : Math.max(sumMax, 1e-9);
  order.sort((a, c) => sc.t[a]! - sc.t[c]! || a - c);
  for (let i = 0; i < n; i++) {
    const r = o + i;
    const v = views[i]!;
    const k = (row0 + i) * F;
    const soc = isTaperView(v) ? v.soc : 0;
    for (let f = 0; f < F; f++) out[k + f] = 0;
    out[k + 5] = clip(soc, 0, 1);
    out[k + 8] = clip((b.now - b.pluggedAt[r]!) / 3600, 0, 2);
    if (!(b.remainingKWh[r]! > 1e-9)) continue;
    const mk = b.maxKW[r]!;
    const rated = isTaperView(v) && v.ratedKW > 0 ? v.ratedKW : Math.max(mk, 1e-9);
    const tH = Number.isFinite(sc.t[i]!) ? sc.t[i]! / 3600 : 2;
    out[k + 0] = clip(tH, 0, 2);
    out[k + 2] = clip(mk / rated, 0, 1);
    out[k + 3] = clip(mk / siteKW, 0, 1);
    out[k + 4] = clip(b.remainingKWh[r]! / 50, 0, 2);
    out[k + 6] = clip(sumMax / siteKW, 0, 5);
    out[k + 7] = clip(active / 10, 0, 5);
    out[k + 9] = clip((b.deadline[r]! - b.now) / 3600 - tH, -2, 2);
  }
  for (let q = 0; q < order.length; q++) out[(row0 + order[q]!) * F + 1] = order.length > 1 ? q / (order.length - 1) : 0;
}
