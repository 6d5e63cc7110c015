/**
 * The registry of demand models (scenario `demand.type`): each one decides who comes to charge,
 * when, and with what — it sizes and initialises the fleet and schedules the first events.
 *
 * - trips:   every EV follows a day plan on the road network (demand.ts); it detours to charge
 *            when its state of charge is low (fleet.ts, decisions.ts).
 * - poisson: EVs arrive directly at one station as a Poisson process with exponentially (or
 *            fixed) distributed energy requests: an M/M/c queue with constant power, flat curve.
 * - hub:     a DC fast-charging hub: Poisson arrivals (optionally with an hourly profile, by
 *            thinning) of real EV models (fleet.models, weighted picker, their DC curves) at the one
 *            station; each arrives at a state of charge uniform in demand.arrivalSoc, wants a target
 *            uniform in demand.targetSoc and leaves when it reaches it (time in system = wait +
 *            charge); a queued EV gives up after fleet.maxWait. Its deadline (for deadline-aware
 *            policies) is arrival + charging time alone at the best charger × (1 + fleet.deadlineSlack).
 * - replay:  recorded sessions (arrival, departure, energy, charger) are replayed at one site.
 *
 * The schema of each type's parameters lives in src/scenario/scenario.ts (layer 2, which cannot
 * import this layer); `DEMAND_MODELS` is typed as a record over exactly the schema's types, so a
 * type without a model (or a model without a type) does not compile, and a test checks the names.
 */
import type { Kernel } from '../core/kernel.js';
import { PRIORITY } from '../core/priorities.js';
import type { Streams } from '../core/random.js';
import { chargeTimeS, idealModel, loadEvModels, makeModelPicker } from '../charging/evModels.js';
import { Session, type Station } from '../charging/station.js';
import { resolveScenarioPath, type Scenario } from '../scenario/scenario.js';
import { makeDayPlans } from './demand.js';
import type { Fleet } from './fleet.js';
import { LOC_HOME } from './fleet.js';
import type { City } from './world.js';

export interface DemandContext {
  readonly sc: Scenario;
  readonly city: City;
  readonly kernel: Kernel;
  readonly streams: Streams;
  readonly fleet: Fleet;
  readonly stations: readonly Station[];
  readonly sessions: Session[];
  /** schedule the EV of session s to reach its station at `at` */
  arriveAt(s: Session, at: number): void;
}

export interface DemandModelEntry {
  readonly description: string;
  setup(ctx: DemandContext): void;
}

export type DemandType = Scenario['demand']['type'];

/** EVs of the poisson/replay modes: an ideal battery sized so that the request fills it. */
function directArrival(ctx: DemandContext, ev: number, at: number, energyKWh: number, deadline: number, leaveAtDeadline: boolean): void {
  const model = ctx.fleet.directModels[ev]!;
  const soc0 = energyKWh > 0 ? 0 : 1;
  ctx.fleet.soc[ev] = soc0;
  const s = new Session(ctx.sessions.length, ev, model, 0, at, energyKWh, 1, soc0, deadline, leaveAtDeadline);
  s.travelS = 0;
  ctx.sessions.push(s);
  ctx.fleet.sessionOf[ev] = s.sessionId;
  ctx.arriveAt(s, at);
}

export const DEMAND_MODELS: Readonly<Record<DemandType, DemandModelEntry>> = {
  trips: {
    description: 'day plans (home, work, other places) on the road network; EVs detour to charge when low',
    setup(ctx) {
      const { sc, city, fleet } = ctx;
      const d = sc.demand;
      if (d.type !== 'trips') throw new Error('demand model trips: wrong scenario demand');
      const graph = city.graph!;
      fleet.models = loadEvModels(resolveScenarioPath(sc, sc.fleet.models));
      const pick = makeModelPicker(fleet.models);
      const fleetRng = ctx.streams.stream('fleet');
      const n = sc.fleet.size;
      fleet.alloc(n);
      const { min, max } = sc.fleet.initialSoc;
      for (let i = 0; i < n; i++) {
        fleet.modelOf[i] = pick(fleetRng.next());
        fleet.home[i] = fleetRng.int(graph.nodeCount);
        fleet.soc[i] = fleetRng.uniform(min, max);
        fleet.locKind[i] = LOC_HOME;
      }
      const plans = makeDayPlans(n, city.places.length, d, ctx.streams.stream('demand'));
      fleet.plans = plans;
      for (let i = 0; i < n; i++) {
        const t = plans.firstDepart[i]!;
        if (plans.start[i + 1]! > plans.start[i]! && t < sc.duration) ctx.kernel.schedule(t, PRIORITY.TRIP, fleet.kDepart, i);
      }
    },
  },
  poisson: {
    description: 'Poisson arrivals at one station with exponential or fixed energy requests (M/M/c)',
    setup(ctx) {
      const { sc, fleet } = ctx;
      const d = sc.demand;
      if (d.type !== 'poisson') throw new Error('demand model poisson: wrong scenario demand');
      const rng = ctx.streams.stream('demand');
      const station = ctx.stations[0]!;
      const arrivals: number[] = [];
      const energies: number[] = [];
      const meanGap = 3600 / d.arrivalsPerHour;
      for (let t = rng.exp(meanGap); t < sc.duration; t += rng.exp(meanGap)) {
        arrivals.push(t);
        energies.push(d.energyDistribution === 'fixed' ? d.meanEnergyKWh : rng.exp(d.meanEnergyKWh));
      }
      fleet.alloc(arrivals.length);
      const maxKW = Math.max(...station.def.chargerKW);
      for (let i = 0; i < arrivals.length; i++) {
        const e = energies[i]!;
        fleet.directModels.push(idealModel(`ideal-${maxKW}kW`, Math.max(e, 1e-9), maxKW));
        const service = (e / maxKW) * 3600;
        directArrival(ctx, i, arrivals[i]!, e, arrivals[i]! + service * (1 + sc.fleet.deadlineSlack), false);
      }
    },
  },
  hub: {
    description: 'DC fast-charging hub: Poisson arrivals of real EV models (DC curves) at one station, arrival and target SoC drawn, leave at the target',
    setup(ctx) {
      const { sc, fleet } = ctx;
      const d = sc.demand;
      if (d.type !== 'hub') throw new Error('demand model hub: wrong scenario demand');
      const models = loadEvModels(resolveScenarioPath(sc, sc.fleet.models)).filter((m) => m.dcMaxKW > 0);
      if (models.length === 0) throw new Error(`${sc.file}: fleet.models: no model can charge on DC`);
      const pick = makeModelPicker(models);
      const arrRng = ctx.streams.stream('demand');
      const evRng = ctx.streams.stream('fleet');
      const station = ctx.stations[0]!;
      const prof = d.hourlyProfile;
      const peak = prof ? Math.max(...prof) : 1;
      const meanGap = 3600 / (d.arrivalsPerHour * peak);
      const arrivals: number[] = [];
      for (let t = arrRng.exp(meanGap); t < sc.duration; t += arrRng.exp(meanGap)) {
        // thinning: keep an arrival at t with probability profile(hour) / peak (one draw always)
        const u = arrRng.next();
        if (!prof || u * peak < prof[Math.floor(t / 3600) % 24]!) arrivals.push(t);
      }
      const n = arrivals.length;
      fleet.alloc(n);
      for (let i = 0; i < n; i++) {
        const model = models[pick(evRng.next())]!;
        const soc0 = evRng.uniform(d.arrivalSoc.min, d.arrivalSoc.max);
        const target = evRng.uniform(d.targetSoc.min, d.targetSoc.max);
        fleet.directModels.push(model);
        fleet.soc[i] = soc0;
        const at = arrivals[i]!;
        const { kw, kind } = station.bestRatedKW(model, soc0);
        const alone = kw > 0 ? chargeTimeS(model, soc0, target, kw, kind) : 0;
        const s = new Session(ctx.sessions.length, i, model, 0, at, (target - soc0) * model.capacityKWh, target, soc0, at + alone * (1 + sc.fleet.deadlineSlack), false);
        s.travelS = 0;
        ctx.sessions.push(s);
        fleet.sessionOf[i] = s.sessionId;
        ctx.arriveAt(s, at);
      }
    },
  },
  replay: {
    description: 'recorded sessions (arrival, departure, energy, charger) replayed at one site',
    setup(ctx) {
      const { sc, city, fleet } = ctx;
      const d = sc.demand;
      if (d.type !== 'replay') throw new Error('demand model replay: wrong scenario demand');
      const recs = city.replay!;
      fleet.alloc(recs.length);
      const station = ctx.stations[0]!;
      const chargerIndex = new Map(city.replayChargerIds!.map((id, i) => [id, i] as const));
      const wanted = new Int32Array(recs.length);
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!;
        wanted[i] = chargerIndex.get(r.charger)!;
        fleet.directModels.push(idealModel(`ideal-${d.maxKW}kW`, Math.max(r.energyKWh, 1e-9), d.maxKW));
        if (r.arrival < sc.duration) directArrival(ctx, i, r.arrival, r.energyKWh, r.departure, true);
      }
      station.preferredCharger = (s) => {
        const c = wanted[s.ev]!;
        return station.occupant[c] === null ? c : station.bestFreeCharger(s.model, s.soc);
      };
    },
  },
  load: {
    description: 'ledger-only load: transactions at a chosen arrival process, no city or EVs (run by LedgerLoadRun, src/simulation/ledgerLoad.ts)',
    setup() {
      throw new Error('demand.type load has no city or EVs: run it with LedgerLoadRun (src/simulation/ledgerLoad.ts), as the CLI does');
    },
  },
};

export const DEMAND_MODEL_NAMES = Object.keys(DEMAND_MODELS) as DemandType[];
