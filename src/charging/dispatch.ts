/**
 * Dispatch policies of mobile chargers (vans): which van serves an EV's request
 * (src/simulation/mobile.ts; docs/mobile.md). A policy sees plain arrays, one entry per candidate
 * van that has the energy to serve the request after its queued jobs, and returns the index of
 * the chosen candidate or -1 (the request waits for a van to become free).
 *
 *   nearest-idle      among vans with nothing to do now (idle, not recharging), the one with the
 *                     shortest travel time to the EV; none idle → wait
 *   earliest-arrival  among all vans, the one that would arrive first, counting what it still has
 *                     to do: max(now, readyAt) + travel from where it will then be
 *
 * Ties go to the lower van index (candidates are given in ascending van order).
 */
export interface DispatchCandidates {
  count: number;
  van: Int32Array;
  /** 1 when the van has no current or queued job and is not recharging */
  idle: Uint8Array;
  /** when the van is free to drive to a new job (now for an idle van) */
  readyAt: Float64Array;
  /** travel time from where it is free to the EV, s */
  travelS: Float64Array;
}

export interface DispatchPolicy {
  readonly name: string;
  readonly description: string;
  /** only idle vans are candidates (the caller may skip the others' travel times) */
  readonly idleOnly: boolean;
  choose(c: DispatchCandidates, now: number): number;
}

const nearestIdle: DispatchPolicy = {
  name: 'nearest-idle',
  description: 'the idle van with the shortest travel time to the EV; none idle: the request waits',
  idleOnly: true,
  choose(c) {
    let best = -1;
    for (let i = 0; i < c.count; i++) {
      if (!c.idle[i] || !Number.isFinite(c.travelS[i]!)) continue;
      if (best < 0 || c.travelS[i]! < c.travelS[best]!) best = i;
    }
    return best;
  },
};

const earliestArrival: DispatchPolicy = {
  name: 'earliest-arrival',
  description: 'the van that would arrive first, counting its queued jobs and recharge',
  idleOnly: false,
  choose(c, now) {
    let best = -1;
    let bestAt = Infinity;
    for (let i = 0; i < c.count; i++) {
      const at = Math.max(now, c.readyAt[i]!) + c.travelS[i]!;
      if (at < bestAt) {
        bestAt = at;
        best = i;
      }
    }
    return best;
  },
};

export const DISPATCH_POLICIES: Readonly<Record<string, DispatchPolicy>> = {
  'nearest-idle': nearestIdle,
  'earliest-arrival': earliestArrival,
};
export const DISPATCH_POLICY_NAMES = Object.keys(DISPATCH_POLICIES) as [string, ...string[]];
