/**
 * Station-choice policies. A policy sees only read-only candidate views (the K stations nearest by
 * travel time that the EV can reach with its energy), never the simulation, so the AI policies of
 * a later issue plug into the same interface and every policy can be unit-tested without a city.
 *
 * - nearest:         minimum travel time.
 * - min-total-time:  minimum travel + expected wait + expected charging time.
 * - random:          uniform among the candidates (its own seeded stream "choice").
 * Ties are broken by the lower station id, so choices never depend on iteration order.
 */
export interface StationCandidateView {
  readonly station: number;
  readonly travelTimeS: number;
  readonly expectedWaitS: number;
  readonly expectedChargeS: number;
}

export interface EvView {
  readonly ev: number;
  readonly soc: number;
  readonly capacityKWh: number;
  readonly now: number;
}

export type StationChoiceName = 'nearest' | 'min-total-time' | 'random';

export interface StationChoicePolicy {
  readonly name: StationChoiceName;
  /** index into `candidates`, or -1 to choose none */
  choose(ev: EvView, candidates: readonly StationCandidateView[]): number;
}

function argmin(c: readonly StationCandidateView[], key: (v: StationCandidateView) => number): number {
  let best = -1;
  let bestKey = Infinity;
  for (let i = 0; i < c.length; i++) {
    const k = key(c[i]!);
    if (k < bestKey || (k === bestKey && best >= 0 && c[i]!.station < c[best]!.station)) {
      best = i;
      bestKey = k;
    }
  }
  return best;
}

export function makeStationChoice(name: StationChoiceName, uniform: () => number): StationChoicePolicy {
  switch (name) {
    case 'nearest':
      return { name, choose: (_ev, c) => argmin(c, (v) => v.travelTimeS) };
    case 'min-total-time':
      return { name, choose: (_ev, c) => argmin(c, (v) => v.travelTimeS + v.expectedWaitS + v.expectedChargeS) };
    case 'random':
      return { name, choose: (_ev, c) => (c.length ? Math.floor(uniform() * c.length) : -1) };
  }
}
