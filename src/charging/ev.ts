/**
 * EV states and the only legal transitions between them.
 *
 *   idle ──► driving ──► idle                       ordinary trip
 *   idle ──► calculating ──► go ──► waiting ──► charging ──► driving ──► idle
 *                  │                   │  └─(gives up)──► driving
 *                  └─(no reachable station)──► driving
 *   idle ──► go                                      EV arriving directly at a station
 *                                                    (Poisson / replayed sessions)
 *   charging ──► idle, waiting ──► idle              such an EV leaving the system
 *   go ──► charging                                  a free charger and no queue
 *
 * `transition()` is the only writer of an EV's state and throws on anything not in the table, so
 * an illegal transition cannot go unnoticed; tests run whole scenarios and check every recorded
 * transition against ALLOWED.
 */
export const EvState = {
  idle: 0,
  driving: 1,
  calculating: 2,
  go: 3,
  waiting: 4,
  charging: 5,
} as const;
export type EvStateId = (typeof EvState)[keyof typeof EvState];
export const STATE_NAMES = ['idle', 'driving', 'calculating', 'go', 'waiting', 'charging'] as const;

const S = EvState;
/** ALLOWED[from] is a bit mask of the states reachable from `from`. */
export const ALLOWED: readonly number[] = (() => {
  const a = new Array<number>(6).fill(0);
  const allow = (from: number, ...to: number[]) => {
    for (const t of to) a[from]! |= 1 << t;
  };
  allow(S.idle, S.driving, S.calculating, S.go);
  allow(S.driving, S.idle);
  allow(S.calculating, S.go, S.driving);
  allow(S.go, S.waiting, S.charging);
  allow(S.waiting, S.charging, S.driving, S.idle);
  allow(S.charging, S.driving, S.idle);
  return a;
})();

export function isAllowed(from: number, to: number): boolean {
  return (ALLOWED[from]! & (1 << to)) !== 0;
}

export class IllegalTransition extends Error {}

/** Write a new state after checking the table. Returns the previous state. */
export function transition(states: Uint8Array, ev: number, to: EvStateId): number {
  const from = states[ev]!;
  if (!isAllowed(from, to)) {
    throw new IllegalTransition(`EV ${ev}: illegal transition ${STATE_NAMES[from]} -> ${STATE_NAMES[to]}`);
  }
  states[ev] = to;
  return from;
}
