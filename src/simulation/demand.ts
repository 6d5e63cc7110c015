/**
 * Travel demand: one day plan per EV (scenario `demand.type: trips`).
 *
 * The model (an assumption, stated here and in the README; every parameter is a scenario field):
 * - a share `workerShare` of EVs commute: leave home at N(workDepartMean, workDepartSd) (clipped to
 *   04:00–12:00) for a work place, stay N(workDwellMean, workDwellSd) (clipped to 2–12 h), then
 *   with probability `otherTripProb` visit one other place for N(otherDwellMean, otherDwellSd)
 *   (clipped to 10 min–4 h) before driving home;
 * - the others leave home at N(otherDepartMean, otherDepartSd) (clipped to 06:00–20:00) for an
 *   other place, and with probability `otherTripProb` chain a second other place before home.
 * - Work and other places are drawn uniformly among the city's activity places (road nodes drawn
 *   once per city from the "city" stream); homes uniformly among all road nodes ("fleet" stream).
 * The shapes (morning commute peak, ~8.5 h work dwell, shorter midday errands) follow the common
 * structure of household travel surveys; the numbers are defaults to be calibrated, not data.
 *
 * A plan is a list of legs (destination, dwell after arrival); the first departure is absolute,
 * later ones are "arrival + dwell", so a charging detour delays the rest of the day naturally.
 */
import type { Rng } from '../core/random.js';

export interface TripParams {
  workerShare: number;
  workDepartMean: number;
  workDepartSd: number;
  workDwellMean: number;
  workDwellSd: number;
  otherTripProb: number;
  otherDepartMean: number;
  otherDepartSd: number;
  otherDwellMean: number;
  otherDwellSd: number;
}

export interface DayPlans {
  /** legs of EV i are start[i] .. start[i+1]-1 */
  start: Int32Array;
  /** destination of each leg: place index, or -1 for home */
  dest: Int32Array;
  /** dwell at the destination after arriving (s); the last leg's dwell is unused */
  dwell: Float64Array;
  firstDepart: Float64Array;
}

const clip = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const H = 3600;

export function makeDayPlans(n: number, places: number, p: TripParams, rng: Rng): DayPlans {
  const start = new Int32Array(n + 1);
  const dest: number[] = [];
  const dwell: number[] = [];
  const firstDepart = new Float64Array(n);
  const other = () => clip(rng.normal(p.otherDwellMean, p.otherDwellSd), 600, 4 * H);
  for (let i = 0; i < n; i++) {
    start[i] = dest.length;
    if (places === 0) {
      firstDepart[i] = Infinity;
      continue;
    }
    if (rng.next() < p.workerShare) {
      firstDepart[i] = clip(rng.normal(p.workDepartMean, p.workDepartSd), 4 * H, 12 * H);
      dest.push(rng.int(places));
      dwell.push(clip(rng.normal(p.workDwellMean, p.workDwellSd), 2 * H, 12 * H));
      if (rng.next() < p.otherTripProb) {
        dest.push(rng.int(places));
        dwell.push(other());
      }
    } else {
      firstDepart[i] = clip(rng.normal(p.otherDepartMean, p.otherDepartSd), 6 * H, 20 * H);
      dest.push(rng.int(places));
      dwell.push(other());
      if (rng.next() < p.otherTripProb) {
        dest.push(rng.int(places));
        dwell.push(other());
      }
    }
    dest.push(-1);
    dwell.push(0);
  }
  start[n] = dest.length;
  return { start, dest: Int32Array.from(dest), dwell: Float64Array.from(dwell), firstDepart };
}
