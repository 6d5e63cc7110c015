/**
 * The simulation side of the station-choice bound (src/optimum/choiceBound.ts): an observer that
 * logs every station-choice decision of a run (its time and every candidate's station, travel and
 * charging time, and the chargers of each candidate station), and the join of that log with the
 * run's sessions into the requests of the bound: the decisions whose EV reached its station, the
 * same sessions the metric travel_wait_min averages over. Used by `evsim evaluate` for choice
 * cases with `bound: true` (src/simulation/evaluate.ts).
 */
import type { ChoiceBatch } from '../charging/choice.js';
import type { Session } from '../charging/station.js';
import { choiceBound, type ChoiceBound, type ChoiceRequest } from '../optimum/choiceBound.js';
import type { SimObserver } from './types.js';

interface Logged extends ChoiceRequest {
  ev: number;
  chosen: number;
}

/** Logs the decisions of one run (pass it in createSimulation's parts.observers). */
export class ChoiceRequestLog implements SimObserver {
  readonly decisions: Logged[] = [];
  /** chargers per station, as the candidate rows reported them */
  readonly chargers: number[] = [];

  decided(b: ChoiceBatch, picks: Int32Array): void {
    for (let i = 0; i < b.n; i++) {
      const cnt = b.count[i]!;
      const k = picks[i]!;
      if (cnt <= 0 || k < 0) continue;
      const base = i * b.K;
      const station = new Int32Array(cnt);
      const travelS = new Float64Array(cnt);
      const chargeS = new Float64Array(cnt);
      for (let q = 0; q < cnt; q++) {
        const s = b.station[base + q]!;
        station[q] = s;
        travelS[q] = b.travelTimeS[base + q]!;
        chargeS[q] = b.expectedChargeS[base + q]!;
        this.chargers[s] = b.chargers[base + q]!;
      }
      this.decisions.push({ ev: b.ev[i]!, decidedAtS: b.now, station, travelS, chargeS, chosen: station[k]! });
    }
  }

  /** The logged decisions whose session reached its station (arrivedAt set), in decision order. */
  requests(sessions: readonly Session[]): ChoiceRequest[] {
    const arrived = new Set<string>();
    for (const s of sessions) if (!Number.isNaN(s.arrivedAt)) arrived.add(`${s.ev}@${s.decidedAt}@${s.station}`);
    return this.decisions.filter((d) => arrived.has(`${d.ev}@${d.decidedAtS}@${d.chosen}`));
  }
}

/** The bounds of one run from its log and sessions. */
export function runChoiceBound(log: ChoiceRequestLog, sessions: readonly Session[], horizonS: number, maxWaitS: number, slotS?: number): Promise<ChoiceBound> {
  const chargers = Array.from({ length: log.chargers.length }, (_, s) => log.chargers[s] ?? 0);
  return choiceBound({ requests: log.requests(sessions), chargers, horizonS, maxWaitS, ...(slotS !== undefined ? { slotS } : {}) });
}
