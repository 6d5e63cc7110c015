/**
 * Same-time event order. Events at equal simulated time run by ascending priority, then in the
 * order they were scheduled (see src/core/kernel.ts). The table below is the whole contract:
 *
 *   0 LEDGER    ledger settlements: what became final at t is visible to everything else at t
 *   1 DEPARTURE an EV leaves a charger (energy done or deadline): frees the charger before
 *   2 GIVE_UP   a waiting EV gives up (after departures, so a charger freed at the same instant
 *               is taken rather than abandoned)
 *   3 ARRIVAL   an EV reaches a station (queue or plug)
 *   4 TRIP      ordinary trips: departures, arrivals at destinations; an EV that needs to charge
 *               enters `calculating` here and is queued for the next DECIDE
 *   5 DECIDE    batched station choice: every EV whose decision falls on this instant is decided
 *               in one policy call, after all trip events of the instant (so the batch is
 *               complete) and in the order the EVs entered `calculating`
 *               (src/simulation/decisions.ts)
 *   6 TICK      the per-minute tick: charge records, periodic re-allocation (all re-allocating
 *               sites in one policy call), stations.csv sample, after every state change of that
 *               instant
 */
export const PRIORITY = {
  LEDGER: 0,
  DEPARTURE: 1,
  GIVE_UP: 2,
  ARRIVAL: 3,
  TRIP: 4,
  DECIDE: 5,
  TICK: 6,
} as const;
