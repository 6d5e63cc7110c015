/**
 * The calculating phase on the ledger (src/simulation/calculating.ts, src/charging/ledgerView.ts):
 * policy.information, station-status and reservation records, waitForReservation.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LedgerStationView } from '../../src/charging/ledgerView.js';
import { UserError } from '../../src/core/errors.js';
import { main } from '../../src/cli/main.js';
import type { LedgerTx } from '../../src/ledger/ledger.js';
import { RESERVATION_BODY_BYTES, signedTxBytes, STATUS_BODY_BYTES, TxCodec } from '../../src/ledger/tx.js';
import { loadScenario, type Scenario } from '../../src/scenario/scenario.js';
import { createSimulation, type SimResult } from '../../src/simulation/simulation.js';
import type { ChoiceBatch } from '../../src/charging/choice.js';
import { buildCity, type City } from '../../src/simulation/world.js';
import { scenarioPath } from '../helpers.js';

const FILE = scenarioPath('ledger-information.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'evsim-information-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let city: City;
const load = (overrides: string[] = []) => loadScenario(FILE, { overrides });
beforeAll(async () => {
  city = await buildCity(load());
});

/** One stack of the scenario, in-process; `decided` sees every batch with the live stations. */
function run(sc: Scenario, stack: string, decided?: (b: ChoiceBatch, live: (s: number) => { queue: number; plugged: number }) => void): SimResult {
  const st = sc.stacks.find((s) => s.name === stack)!;
  expect(st, stack).toBeDefined();
  const sim = createSimulation(sc, city, {
    stack: st,
    observers: decided
      ? [{ decided: (b) => decided(b, (s) => ({ queue: sim.stations[s]!.queueLength, plugged: sim.stations[s]!.plugged.length })) }]
      : [],
  });
  return sim.run();
}

describe('scenario fields', () => {
  const oneLine = (overrides: string[]): string => {
    try {
      load(overrides);
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      const lines = (e as UserError).lines;
      expect(lines).toHaveLength(1);
      return lines[0]!;
    }
    throw new Error('no error');
  };
  it('a bad value is one line naming the field and what is allowed', () => {
    expect(oneLine(['policy.information=chain'])).toBe(`${FILE} (with --set): policy.information: allowed: live | ledger (got "chain")`);
    expect(oneLine(['policy.statusInterval=0'])).toMatch(/: policy\.statusInterval: must be a duration > 0/);
    expect(oneLine(['policy.waitForReservation=maybe'])).toMatch(/: policy\.waitForReservation: expected boolean/);
    expect(oneLine(['policy.reservationTimeout=-1'])).toMatch(/: policy\.reservationTimeout: must be a duration >= 0 s/);
  });
  it('defaults: live information, no waiting, 5 min status interval, 10 min timeout', () => {
    const sc = loadScenario(scenarioPath('validation/mmc.yaml'));
    expect(sc.policy).toMatchObject({ information: 'live', waitForReservation: false, statusInterval: 300, reservationTimeout: 600 });
  });
});

describe('transaction kinds', () => {
  const codec = new TxCodec({ mode: 'modeled', signCostS: 50e-6, verifyCostS: 120e-6, seed: 3 });
  const base = { id: 9, sessionId: 12, ev: 40, station: 2, energyKWh: 0, amount: 0, powerKW: 0, soc: NaN, submittedAt: 3600.25 };
  it('reservation: 42-byte body, 138 signed, round trip, signed by the EV', () => {
    const tx: LedgerTx = { ...base, kind: 'reservation', payload: [4000.5, 1234.75] };
    const body = codec.encode(tx);
    expect(body.length).toBe(RESERVATION_BODY_BYTES);
    expect(signedTxBytes('reservation')).toBe(138);
    expect(body[1]).toBe(4);
    expect(codec.decode(body)).toEqual(tx);
    const s = codec.sign(tx);
    expect(s.size).toBe(138);
    expect(codec.verify(s)).toBe(true);
    expect(codec.verify({ ...s, tx: { ...tx, payload: [4000.5, 1234.5] } })).toBe(false);
  });
  it('station-status: 38-byte body, 134 signed, round trip, signed by the station', () => {
    const tx: LedgerTx = { ...base, kind: 'station-status', sessionId: 0, ev: 2, payload: [3, 2, 0, 5400.5] };
    const body = codec.encode(tx);
    expect(body.length).toBe(STATUS_BODY_BYTES);
    expect(signedTxBytes('station-status')).toBe(134);
    expect(codec.decode(body)).toEqual(tx);
    const s = codec.sign(tx);
    expect(codec.verify(s)).toBe(true);
    // the station's key signs it, not the EV's of the same id
    expect(Buffer.from(s.signature).equals(Buffer.from(codec.signBytes('station', 2, body)))).toBe(true);
    expect(Buffer.from(s.signature).equals(Buffer.from(codec.signBytes('ev', 2, body)))).toBe(false);
    expect(() => codec.encode({ ...tx, payload: [3, 2] })).toThrow(RangeError);
  });
});

describe('LedgerStationView', () => {
  const station = { chargers: 2, bestRatedKW: () => ({ kw: 50, kind: 'DC' as const }) };
  it('is empty until a status is final, then shows that status (stale) and final reservations', () => {
    const v = new LedgerStationView(station);
    expect([v.queueLength, v.plugged.length, v.freeChargers(), v.heading, v.expectedWaitS()]).toEqual([0, 0, 2, 0, 0]);
    v.applyStatus({ at: 600, queueLength: 1, plugged: 2, freeChargers: 0, workAheadS: 3000 });
    expect([v.queueLength, v.plugged.length, v.freeChargers(), v.expectedWaitS()]).toEqual([1, 2, 0, 1500]);
    // an older status does not replace it
    v.applyStatus({ at: 300, queueLength: 0, plugged: 0, freeChargers: 2, workAheadS: 0 });
    expect(v.queueLength).toBe(1);
    v.addReservation(900, 1200); // after the status: heading
    v.addReservation(500, 1200); // before it: already in its figures
    expect(v.heading).toBe(1);
    expect(v.expectedWaitAtS(1000, 700)).toBe((3000 + 1200) / 2 - 300);
    v.applyStatus({ at: 960, queueLength: 2, plugged: 2, freeChargers: 0, workAheadS: 4000 });
    expect(v.heading).toBe(0);
  });
});

describe('a city day with information: ledger', () => {
  it('policies under ledger see stale queues; under live never', () => {
    let staleL = 0;
    let rowsL = 0;
    run(load(), 'central', (b, live) => {
      for (let i = 0; i < b.n; i++)
        for (let k = 0; k < b.count[i]!; k++) {
          const r = i * b.K + k;
          rowsL++;
          const l = live(b.station[r]!);
          if (b.queueLength[r] !== l.queue || b.plugged[r] !== l.plugged) staleL++;
        }
    });
    let staleLive = 0;
    let rowsLive = 0;
    run(load(['policy.information=live']), 'central', (b, live) => {
      for (let i = 0; i < b.n; i++)
        for (let k = 0; k < b.count[i]!; k++) {
          const r = i * b.K + k;
          rowsLive++;
          const l = live(b.station[r]!);
          if (b.queueLength[r] !== l.queue || b.plugged[r] !== l.plugged) staleLive++;
        }
    });
    expect(rowsL).toBeGreaterThan(50);
    expect(rowsLive).toBeGreaterThan(50);
    expect(staleL).toBeGreaterThan(0);
    expect(staleLive).toBe(0);
  });

  it('slow finality shows in the calculating phase: nakamoto and pow wait longer than qbft and central, only nakamoto times out', () => {
    const sc = load();
    const c = Object.fromEntries(['central', 'qbft', 'pow', 'nakamoto'].map((s) => [s, run(sc, s).summary.calculating!]));
    for (const s of Object.values(c)) {
      expect(s.reservationsSubmitted).toBeGreaterThan(10);
      expect(s.decisions).toBeGreaterThanOrEqual(s.reservationsSubmitted);
    }
    expect(c.central!.meanCalculatingSeconds).toBeLessThan(c.qbft!.meanCalculatingSeconds);
    expect(c.qbft!.meanCalculatingSeconds).toBeLessThan(60);
    expect(c.pow!.meanCalculatingSeconds).toBeGreaterThan(10 * c.qbft!.meanCalculatingSeconds);
    expect(c.nakamoto!.meanCalculatingSeconds).toBeGreaterThan(c.pow!.meanCalculatingSeconds);
    expect(c.central!.reservationTimeouts).toBe(0);
    expect(c.qbft!.reservationTimeouts).toBe(0);
    expect(c.nakamoto!.reservationTimeouts).toBeGreaterThan(0.5 * c.nakamoto!.reservationsSubmitted);
    // a timed-out EV waited exactly reservationTimeout
    expect(c.nakamoto!.maxCalculatingSeconds).toBeCloseTo(600, 6);
  });

  it('live information with waitForReservation: reservations are submitted and waited for; without: as before', () => {
    const waiting = run(load(['policy.information=live']), 'central').summary;
    expect(waiting.calculating!.reservationsSubmitted).toBeGreaterThan(10);
    expect(waiting.calculating!.statusRecordsSubmitted).toBe(0);
    expect(waiting.calculating!.meanCalculatingSeconds).toBeGreaterThan(0);
    const plain = run(load(['policy.information=live', 'policy.waitForReservation=false']), 'central').summary;
    expect(plain.calculating).toBeUndefined();
    expect(Object.keys(plain.ledger.backends[0]!.byKind)).toEqual(['session-start', 'charge', 'session-end', 'payment']);
  });

  it('same seed, same outputs; reservations and station-status records are rows of ledger.csv', async () => {
    const outs = [join(tmp, 'a'), join(tmp, 'b')];
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const out of outs) expect(await main(['run', FILE, '--ledger', 'central', '--quiet', '--out', out])).toBe(0);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    for (const f of ['summary.json', 'ledger.csv', 'sessions.csv']) {
      expect(readFileSync(join(outs[0]!, f), 'utf8'), f).toBe(readFileSync(join(outs[1]!, f), 'utf8'));
    }
    const rows = readFileSync(join(outs[0]!, 'ledger.csv'), 'utf8').trim().split('\n');
    const head = rows[0]!.split(',');
    const kind = head.indexOf('kind');
    const bytes = head.indexOf('bytes');
    const res = rows.filter((r) => r.split(',')[kind] === 'reservation');
    const status = rows.filter((r) => r.split(',')[kind] === 'station-status');
    expect(res.length).toBeGreaterThan(5);
    expect(status.length).toBeGreaterThan(5);
    expect(res.every((r) => r.split(',')[bytes] === '138')).toBe(true);
    const summary = JSON.parse(readFileSync(join(outs[0]!, 'summary.json'), 'utf8'));
    expect(summary.ledger.backends[0].byKind.reservation).toBe(res.length);
    expect(summary.calculating.reservationsSubmitted).toBe(res.length);
  });
});
