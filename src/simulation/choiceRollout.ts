/**
 * A hindsight rollout of a hand-written station-choice policy: how much better could the day's
 * decisions have been, knowing the day? It complements the LP lower bound (src/optimum/choiceBound.ts)
 * from the other side: the rollout's decisions are a real, simulated schedule, so the best
 * achievable travel + wait lies between the LP bound and the rollout's figure.
 *
 * Method (one-step rollout of a base policy, Bertsekas' policy improvement, with the day known):
 * the decisions of a day are numbered in the order the simulation makes them (batch by batch,
 * then by position in the batch; the simulation is deterministic, so a sequence of choices
 * reproduces a day exactly). Decisions d = 0, 1, … are fixed one at a time: for decision d, with
 * decisions 0..d−1 fixed as chosen before, every candidate k of d is tried in a whole simulated
 * day in which every later decision is the base policy's, and d keeps the candidate whose day has
 * the lowest objective (the base policy's own candidate on ties). Each step can only lower the
 * objective of the day it keeps (the base candidate's day is among those tried), so the result is
 * never worse than the base policy on that day. It costs Σ_d (candidates of d − 1) simulated days.
 *
 * Further passes (`passes` > 1) are a hindsight local search over the whole day's choices: the
 * day's choices as they stand are all forced, and each decision d in turn tries every other
 * candidate with every other decision as it stands (by index: a forced sequence always reproduces
 * one real simulated day, whatever its decisions mean after a change), and takes the first
 * candidate whose day is strictly better (first improvement). Each pass costs about as much as the first; the search stops
 * early when a pass changes nothing. It is a local optimum in hindsight, not the global optimum.
 *
 * This is not a policy a vehicle could run (it knows every later arrival of the day, the seed's
 * demand); it measures how much a choice of station, by itself, can change the day.
 *
 * Objective: the evaluation's travel + wait, minutes per session (systemObjective with no
 * abandonment penalty: travel to the station + wait until plug-in or give-up, over sessions that
 * reached a station), as in `evsim evaluate`'s `travel_wait_min`.
 */
import type { ChoiceBatch, StationChoicePolicy } from '../charging/choice.js';
import { makeStationChoice } from '../charging/choice.js';
import { Rng } from '../core/random.js';
import type { Scenario } from '../scenario/scenario.js';
import { createSimulation } from './simulation.js';
import { systemObjective } from './trainChoiceEs.js';
import type { City } from './world.js';

/** The base policy, except for the decisions `forced` names (index → candidate; -1: the base's). */
class ForcedChoice implements StationChoicePolicy {
  readonly name: string;
  readonly features?: readonly string[];
  /** per decision of the day, in order: candidates, and the candidate taken */
  readonly count: number[] = [];
  readonly taken: number[] = [];
  private baseOut = new Int32Array(16);

  constructor(
    private readonly base: StationChoicePolicy,
    private readonly forced: readonly number[],
  ) {
    this.name = base.name;
    this.features = base.features;
  }

  decideBatch(b: ChoiceBatch, out: Int32Array): void {
    if (this.baseOut.length < b.n) this.baseOut = new Int32Array(b.n);
    this.base.decideBatch(b, this.baseOut);
    for (let i = 0; i < b.n; i++) {
      const d = this.count.length;
      const cnt = b.count[i]!;
      const f = d < this.forced.length ? this.forced[d]! : -1;
      const pick = f >= 0 && f < cnt ? f : this.baseOut[i]!;
      this.count.push(cnt);
      this.taken.push(pick);
      out[i] = pick;
    }
  }
}

/** One simulated day: travel + wait per session (min), abandoned and all sessions, decisions. */
export interface RolloutDay {
  travelWaitMin: number;
  abandoned: number;
  sessions: number;
  decisions: number;
}

export interface RolloutResult {
  /** the base policy's day */
  base: RolloutDay;
  /** the rollout's day */
  rollout: RolloutDay;
  /** decisions whose candidate differs from the base policy's in the same state (first pass) */
  changed: number;
  /** simulated days run */
  days: number;
  /** travel + wait per session (min) after each pass run (the first is the one-step rollout) */
  passes: number[];
}

/**
 * The one-step hindsight rollout of `baseName` (a hand-written policy of CHOICE_POLICIES) on one
 * day (`sc` with its seed, on `city`). `maxCandidates` limits the candidates tried per decision
 * to the first n (candidates come nearest first) besides the base policy's own, to bound the cost
 * on large days.
 */
export function choiceRollout(sc: Scenario, city: City, baseName: string, opts: { maxCandidates?: number; passes?: number } = {}): RolloutResult {
  const maxK = opts.maxCandidates ?? Infinity;
  const nPasses = opts.passes ?? 1;
  let days = 0;
  /** one simulated day with these decisions forced (read while the day runs, synchronously) */
  const run = (forced: readonly number[]): RolloutDay & { count: number[]; taken: number[] } => {
    // the random policy's draws come from its own seeded stream, the same in every day
    const rng = new Rng('rollout', `${sc.seed}/rollout/${baseName}`);
    const p = new ForcedChoice(makeStationChoice(baseName, () => rng.next()), forced);
    days++;
    const o = systemObjective(createSimulation(sc, city, { stationChoice: p }).run(), 0);
    return { travelWaitMin: o.travelWaitMin, abandoned: o.abandoned, sessions: o.sessions, decisions: p.count.length, count: p.count, taken: p.taken };
  };
  const first = run([]);
  let cur = first;
  const fixed: number[] = [];
  let changed = 0;
  for (let d = 0; d < cur.decisions; d++) {
    const cnt = Math.min(cur.count[d]!, maxK);
    const baseK = cur.taken[d]!;
    let best = baseK;
    for (let k = 0; k < cnt; k++) {
      if (k === baseK) continue;
      fixed.push(k);
      const t = run(fixed);
      fixed.pop();
      if (t.travelWaitMin < cur.travelWaitMin) {
        cur = t;
        best = k;
      }
    }
    if (best !== baseK) changed++;
    fixed.push(best);
  }
  const passes = [cur.travelWaitMin];
  // later passes: local search with every decision of the current day forced
  for (let pass = 1; pass < nPasses; pass++) {
    let moved = false;
    for (let d = 0; d < cur.decisions; d++) {
      const cnt = Math.min(cur.count[d]!, maxK);
      const own = cur.taken[d]!;
      for (let k = 0; k < cnt; k++) {
        if (k === own) continue;
        const forced = cur.taken.slice();
        forced[d] = k;
        const t = run(forced);
        if (t.travelWaitMin < cur.travelWaitMin) {
          cur = t;
          moved = true;
          break;
        }
      }
    }
    passes.push(cur.travelWaitMin);
    if (!moved) break;
  }
  const day = ({ travelWaitMin, abandoned, sessions, decisions }: RolloutDay): RolloutDay => ({ travelWaitMin, abandoned, sessions, decisions });
  return { base: day(first), rollout: day(cur), changed, days, passes };
}
