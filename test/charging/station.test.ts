/** The station queue: FIFO order, give-up removal, charger assignment, queue length, blocking. */
import { describe, expect, it } from 'vitest';
import { allocationPolicyEntry, SiteAllocator } from '../../src/charging/allocationBatch.js';
import { idealModel, type EvModel } from '../../src/charging/evModels.js';
import { Session, Station, type ChargerKind, type StationDef } from '../../src/charging/station.js';

const dcCar = idealModel('dc-car', 60, 100);
const acOnly: EvModel = { ...idealModel('ac-only', 40, 11), dcMaxKW: 0 };

function station(kw: number[], kinds: ChargerKind[] = kw.map(() => 'AC')) {
  const def: StationDef = { id: 0, name: 't', node: 0, lat: 0, lon: 0, origin: 'test', chargerKW: kw, chargerKind: kinds };
  const plugged: number[] = [];
  let handle = 0;
  const st = new Station(def, Infinity, 60, new SiteAllocator(allocationPolicyEntry('fcfs').create({ incrementKW: 1, energyBound: false })), {
    scheduleDone: () => handle++,
    cancel: () => undefined,
    plugged: (s) => plugged.push(s.sessionId),
    record: () => undefined,
    powerChanged: () => undefined,
  });
  return { st, plugged };
}
let nextId = 0;
const session = (model: EvModel = dcCar) => new Session(nextId++, nextId, model, 0, 0, 20, 0.8, 0.2, 1e9, false);

describe('station queue', () => {
  it('plugs in at once while a charger is free, then queues in FIFO order', () => {
    const { st, plugged } = station([22, 22]);
    const [a, b, c, d] = [session(), session(), session(), session()];
    expect(st.arrive(a, 0)).toBe(true);
    expect(st.arrive(b, 1)).toBe(true);
    expect(st.arrive(c, 2)).toBe(false);
    expect(st.arrive(d, 3)).toBe(false);
    expect(st.queueLength).toBe(2);
    expect(st.queued(0)).toBe(c);
    st.unplug(b, 10);
    expect(plugged).toEqual([a.sessionId, b.sessionId, c.sessionId]);
    expect(c.charger).toBe(b.charger);
    expect(c.pluggedAt).toBe(10);
    expect(st.queueLength).toBe(1);
    st.unplug(a, 20);
    expect(plugged.at(-1)).toBe(d.sessionId);
    expect(st.queueLength).toBe(0);
  });

  it('a queued EV that gives up leaves the queue and keeps the others in order', () => {
    const { st, plugged } = station([22]);
    const [a, b, c, d] = [session(), session(), session(), session()];
    st.arrive(a, 0);
    st.arrive(b, 1);
    st.arrive(c, 2);
    st.arrive(d, 3);
    st.leaveQueue(c);
    expect(st.queueLength).toBe(2);
    expect(() => st.leaveQueue(c)).toThrow(/not queued/);
    st.unplug(a, 5);
    st.unplug(b, 6);
    expect(plugged).toEqual([a.sessionId, b.sessionId, d.sessionId]);
  });

  it('assigns the free charger that gives the EV the most power, ties to the lower index', () => {
    const { st } = station([11, 50, 50], ['AC', 'DC', 'DC']);
    const car = session(dcCar);
    st.arrive(car, 0);
    expect(car.charger).toBe(1);
    expect(car.kind).toBe('DC');
    const ac = session(acOnly);
    st.arrive(ac, 0);
    expect(ac.charger).toBe(0); // cannot use DC
    expect(st.freeChargers()).toBe(1);
  });

  it('a head that cannot use the free charger blocks the queue (strict FIFO)', () => {
    const { st, plugged } = station([11, 50], ['AC', 'DC']);
    const [x, y] = [session(acOnly), session(dcCar)];
    st.arrive(x, 0); // AC
    st.arrive(y, 0); // DC
    const [head, behind] = [session(acOnly), session(dcCar)];
    expect(st.arrive(head, 1)).toBe(false);
    expect(st.arrive(behind, 1)).toBe(false);
    st.unplug(y, 5); // the DC charger frees: the AC-only head cannot use it, so nobody plugs
    expect(st.queueLength).toBe(2);
    expect(plugged).toEqual([x.sessionId, y.sessionId]);
    st.unplug(x, 6); // the AC charger frees: head plugs, then behind takes the DC charger
    expect(plugged).toEqual([x.sessionId, y.sessionId, head.sessionId, behind.sessionId]);
    expect(st.queueLength).toBe(0);
  });

  it('allocates power on plug-in through the batched allocator', () => {
    const { st } = station([22, 22]);
    const a = session();
    st.arrive(a, 0);
    expect(a.powerKW).toBe(22);
    expect(st.totalKW).toBe(22);
  });
});

describe('station reservations (EVs heading here after a choice)', () => {
  it('counts heading EVs, releases them on arrival, and ignores unknown releases', () => {
    const { st } = station([22]);
    st.reserve(7, 100, 1800);
    st.reserve(8, 200, 900);
    st.reserve(9, 300, 600);
    expect(st.heading).toBe(3);
    st.release(8);
    expect(st.heading).toBe(2);
    st.release(8);
    st.release(42);
    expect(st.heading).toBe(2);
    st.release(7);
    st.release(9);
    expect(st.heading).toBe(0);
  });

  it('the reservation-aware wait counts heading EVs that arrive earlier, less the work done meanwhile', () => {
    const { st } = station([22, 22]);
    expect(st.expectedWaitAtS(600, 0)).toBe(0);
    st.reserve(1, 100, 3600);
    expect(st.expectedWaitAtS(600, 0)).toBe(0); // one of two chargers taken
    st.reserve(2, 200, 3600);
    // two EVs ahead on two chargers: (3600 + 3600) / 2 − 600 s of driving
    expect(st.expectedWaitAtS(600, 0)).toBe(3000);
    // arriving before them: nobody ahead
    expect(st.expectedWaitAtS(50, 0)).toBe(0);
    // arriving after everyone is done
    expect(st.expectedWaitAtS(5000, 0)).toBe(0);
    // the plain estimate ignores reservations
    expect(st.expectedWaitS()).toBe(0);
  });
});
