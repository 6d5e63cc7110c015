import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED, EvState, IllegalTransition, STATE_NAMES, transition } from '../../src/charging/ev.js';
import { vehicleLimitKW } from '../../src/charging/evModels.js';
import { SessionStatus, type Station } from '../../src/charging/station.js';
import type { Settlement } from '../../src/ledger/ledger.js';
import { writeResults } from '../../src/output/output.js';
import { runShipped } from '../helpers.js';

const SMALL = ['fleet.size=300', 'duration=12h', 'output.eventsLog=true'];

/** Checks every grant against charger rating, vehicle curve and site cap. */
function limitChecker(capKW: number) {
  const problems: string[] = [];
  let checks = 0;
  return {
    problems,
    get checks() {
      return checks;
    },
    allocated(st: Station) {
      let sum = 0;
      for (const s of st.plugged) {
        checks++;
        sum += s.powerKW;
        const charger = st.def.chargerKW[s.charger]!;
        const vehicle = vehicleLimitKW(s.model, s.soc, s.kind);
        if (s.powerKW < 0) problems.push(`negative power ${s.powerKW}`);
        if (s.powerKW > charger + 1e-9) problems.push(`session ${s.sessionId}: ${s.powerKW} kW > charger ${charger} kW`);
        if (s.powerKW > vehicle + 1e-9) problems.push(`session ${s.sessionId}: ${s.powerKW} kW > vehicle ${vehicle} kW`);
        if (st.occupant[s.charger] !== s) problems.push(`session ${s.sessionId}: charger ${s.charger} not held`);
      }
      if (sum > capKW + 1e-9) problems.push(`station ${st.def.id}: ${sum} kW > cap ${capKW} kW`);
    },
  };
}

describe('city day (Monaco, real network)', () => {
  it('conserves energy, respects every power limit and makes only legal transitions', async () => {
    const checker = limitChecker(60);
    const recordEnergy = new Map<number, number>();
    const settled = (s: Settlement) => {
      if (s.tx.kind === 'charge') recordEnergy.set(s.tx.sessionId, (recordEnergy.get(s.tx.sessionId) ?? 0) + s.tx.energyKWh);
    };
    const { result } = await runShipped('monaco.yaml', [...SMALL, 'site.capKW=60', 'policy.allocation=equal-share'], {
      allocated: (st) => checker.allocated(st),
      settled,
    });
    expect(checker.checks).toBeGreaterThan(100);
    expect(checker.problems.slice(0, 5)).toEqual([]);
    const sessions = result.sessions;
    expect(sessions.length).toBeGreaterThan(20);
    let completed = 0;
    for (const s of sessions) {
      if (Number.isNaN(s.socStart)) continue;
      // energy delivered equals the state-of-charge gain times capacity
      expect(Math.abs(s.deliveredKWh - (s.soc - s.socStart) * s.model.capacityKWh)).toBeLessThan(1e-6);
      expect(s.deliveredKWh).toBeLessThanOrEqual(s.requestedKWh + 1e-6);
      if (s.status === SessionStatus.completed) {
        completed++;
        // the per-minute charge records add up to the session's meter total
        expect(Math.abs((recordEnergy.get(s.sessionId) ?? 0) - s.deliveredKWh)).toBeLessThan(1e-6);
        expect(s.soc).toBeCloseTo(s.targetSoc, 9);
      }
    }
    expect(completed).toBeGreaterThan(5);
    // every recorded transition is in the table, and each EV's log is a connected path
    const log = result.log!;
    expect(log.n).toBeGreaterThan(500);
    const last = new Map<number, number>();
    for (let i = 0; i < log.n; i++) {
      const from = log.from[i]!;
      const to = log.to[i]!;
      expect((ALLOWED[from]! >> to) & 1, `${STATE_NAMES[from]} -> ${STATE_NAMES[to]}`).toBe(1);
      const prev = last.get(log.ev[i]!);
      expect(prev ?? EvState.idle).toBe(from);
      last.set(log.ev[i]!, to);
    }
    // all six states are visited
    const visited = new Set<number>();
    for (let i = 0; i < log.n; i++) visited.add(log.to[i]!);
    for (const st of [EvState.idle, EvState.driving, EvState.calculating, EvState.go, EvState.charging]) expect(visited.has(st)).toBe(true);
  });

  it('the transition table rejects illegal moves', () => {
    const st = new Uint8Array(1);
    expect(() => transition(st, 0, EvState.charging)).toThrow(IllegalTransition); // idle -> charging
    transition(st, 0, EvState.driving);
    expect(() => transition(st, 0, EvState.waiting)).toThrow(IllegalTransition);
    transition(st, 0, EvState.idle);
    transition(st, 0, EvState.calculating);
    expect(() => transition(st, 0, EvState.charging)).toThrow(IllegalTransition);
    // exhaustive: exactly the pairs of the documented diagram are legal
    const legal = ['idle>driving', 'idle>calculating', 'idle>go', 'driving>idle', 'calculating>go', 'calculating>driving', 'go>waiting', 'go>charging', 'waiting>charging', 'waiting>driving', 'waiting>idle', 'charging>driving', 'charging>idle'];
    const got: string[] = [];
    for (let f = 0; f < 6; f++) for (let t = 0; t < 6; t++) if ((ALLOWED[f]! >> t) & 1) got.push(`${STATE_NAMES[f]}>${STATE_NAMES[t]}`);
    expect(got.sort()).toEqual(legal.sort());
  });

  it('EVs that wait too long give up and are counted', async () => {
    const { result } = await runShipped('monaco.yaml', ['fleet.size=600', 'duration=12h', 'fleet.maxWait=5m']);
    const s = result.summary.sessions;
    expect(s.abandoned).toBeGreaterThan(0);
    for (const x of result.sessions) {
      if (x.status === SessionStatus.abandoned) expect(x.unpluggedAt - x.arrivedAt).toBeCloseTo(300, 6);
    }
    expect(s.completed + s.abandoned + s.incomplete).toBe(s.count);
  });
});

function resultFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) if (f !== 'timing.json') out[f] = readFileSync(join(dir, f), 'utf8');
  return out;
}

describe('determinism', () => {
  it('same scenario and seed give byte-identical results files; another seed differs', async () => {
    const dirs: string[] = [];
    for (const seed of [3, 3, 4]) {
      const { result } = await runShipped('monaco.yaml', [...SMALL, `seed=${seed}`]);
      const dir = mkdtempSync(join(tmpdir(), 'evsim-det-'));
      writeResults(dir, result, () => ({}));
      dirs.push(dir);
    }
    const [a, b, c] = dirs.map(resultFiles);
    expect(Object.keys(a!)).toEqual(['events.csv', 'ledger.csv', 'sessions.csv', 'stations.csv', 'summary.json']);
    expect(b).toEqual(a);
    expect(c!['sessions.csv']).not.toEqual(a!['sessions.csv']);
    expect(c!['summary.json']).not.toEqual(a!['summary.json']);
  });
});

describe('ACN-Data replay (Caltech, March 2019)', () => {
  it('replays all 954 sessions; uncapped, each gets min(request, 6.6 kW x stay)', async () => {
    const { result } = await runShipped('validation/acn-caltech-2019-03.yaml', ['policy.allocation=uncontrolled']);
    expect(result.summary.sessions.count).toBe(954);
    expect(result.summary.sessions.abandoned).toBe(0);
    expect(result.summary.sessions.meanWaitSeconds).toBe(0);
    expect(result.summary.sessions.energyRequestedKWh).toBeCloseTo(8900.522, 2);
    for (const s of result.sessions) {
      const feasible = Math.min(s.requestedKWh, (6.6 * (s.deadline - s.arrivedAt)) / 3600);
      expect(s.deliveredKWh).toBeCloseTo(feasible, 6);
      expect(s.unpluggedAt).toBe(s.deadline); // leaves at the recorded departure
    }
  });

  it('with a site cap: no overload, and deadline-aware policies meet more demand than FCFS', async () => {
    const met: Record<string, number> = {};
    for (const policy of ['fcfs', 'edf', 'llf']) {
      const checker = limitChecker(30);
      const { result } = await runShipped('validation/acn-caltech-2019-03.yaml', [`policy.allocation=${policy}`, 'site.capKW=30'], {
        allocated: (st) => checker.allocated(st),
      });
      expect(checker.problems.slice(0, 3)).toEqual([]);
      expect(result.summary.stations.peakKW).toBeLessThanOrEqual(30 + 1e-6);
      met[policy] = result.summary.sessions.demandMetPct;
    }
    expect(met.edf!).toBeGreaterThan(met.fcfs!);
    expect(met.llf!).toBeGreaterThan(met.fcfs!);
    expect(met.fcfs!).toBeLessThan(100);
  });
});
