/**
 * city.json: the geometry a report's city replay needs, written into a results folder only when
 * asked for (`evsim run --report`, or `output.geometry: true` in the scenario): the road network
 * (node coordinates and undirected edges), the stations, and where each EV is at each of its state
 * transitions.
 *
 * Positions are "points": road node ids 0..nodes-1, and nodes + k for station k (its own
 * coordinates). For every transition the recorder stores the point where the EV is when it enters
 * the state (`a`) and the point it is heading to while in it (`b`; equal to `a` unless it drives):
 * driving runs from its origin to its trip destination, `go` from its origin to the chosen
 * station, waiting and charging sit at the station, idle at the place it arrived at. The replay
 * interpolates a → b in a straight line over the time spent in the state (an approximation: the
 * real route follows the roads).
 *
 * The recorder is a read-only observer of the run (SimObserver): it reads the fleet's location
 * arrays and the sessions' stations at each transition and never changes the simulation, so
 * every other results file stays byte-identical with or without it.
 */
import { EvState } from '../charging/ev.js';
import type { Simulation } from '../simulation/simulation.js';
import type { SimObserver } from '../simulation/types.js';
import type { City } from '../simulation/world.js';

import { CITY_JSON } from './files.js';
export { CITY_JSON };
export const CITY_JSON_VERSION = 1;

/** The parsed city.json. */
export interface CityGeometry {
  schemaVersion: number;
  /** road nodes (WGS84 degrees, 6 decimals); empty for a city without a road network */
  nodes: { lat: number[]; lon: number[] };
  /** undirected road edges as node pairs, flattened: [a0, b0, a1, b1, ...] */
  edges: number[];
  stations: { id: number; name: string; lat: number; lon: number; chargers: number }[];
  evs: { count: number; initial: number[] };
  /** one entry per EV state transition, in the order of the run */
  tracks: { t: number[]; ev: number[]; state: number[]; a: number[]; b: number[] };
}

const r6 = (x: number) => Number(x.toFixed(6));
const r3 = (x: number) => Number(x.toFixed(3));

export class GeometryRecorder implements SimObserver {
  private sim: Simulation | null = null;
  private nodeCount = 0;
  private readonly t: number[] = [];
  private readonly ev: number[] = [];
  private readonly state: number[] = [];
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  private initial: number[] = [];

  /** Attach to the simulation it observes (after construction, before the run). */
  attach(sim: Simulation): void {
    this.sim = sim;
    const g = sim.city.graph;
    this.nodeCount = g ? g.nodeCount : 0;
    const f = sim.fleet;
    this.initial = [];
    for (let e = 0; e < f.size; e++) this.initial.push(g && f.plans ? f.nodeOf(f.locKind[e]!, f.locIdx[e]!, e) : -1);
  }

  private stationPoint(session: number): number {
    const s = this.sim!.sessions[session];
    return s ? this.nodeCount + s.station : -1;
  }

  transition(time: number, ev: number, from: number, to: number, session: number): void {
    const sim = this.sim;
    if (!sim) return;
    const f = sim.fleet;
    const graph = sim.city.graph !== null && f.plans !== null;
    const here = graph ? f.nodeOf(f.locKind[ev]!, f.locIdx[ev]!, ev) : -1;
    let a = here;
    let b = here;
    if (to === EvState.driving) {
      b = graph ? f.nodeOf(f.destKind[ev]!, f.destIdx[ev]!, ev) : -1;
    } else if (to === EvState.go) {
      b = this.stationPoint(session);
      if (from === EvState.idle && !graph) a = b; // direct arrival: it appears at the station
      if (a < 0) a = b;
    } else if (to === EvState.waiting || to === EvState.charging) {
      a = b = this.stationPoint(session);
    } else if (to === EvState.idle) {
      // arriving at a trip's destination (the fleet updates its location just after), or leaving
      // the system from a station (direct arrivals)
      a = b = from === EvState.driving ? (graph ? f.nodeOf(f.destKind[ev]!, f.destIdx[ev]!, ev) : -1) : this.stationPoint(session);
    }
    this.t.push(r3(time));
    this.ev.push(ev);
    this.state.push(to);
    this.a.push(a);
    this.b.push(b);
  }

  geometry(city: City): CityGeometry {
    const g = city.graph;
    const nodes = { lat: [] as number[], lon: [] as number[] };
    const edges: number[] = [];
    if (g) {
      for (let i = 0; i < g.nodeCount; i++) {
        nodes.lat.push(r6(g.lat[i]!));
        nodes.lon.push(r6(g.lon[i]!));
      }
      const seen = new Set<number>();
      for (let e = 0; e < g.edgeCount; e++) {
        const s = g.edgeSource[e]!;
        const t = g.edgeTarget[e]!;
        if (s === t) continue;
        const lo = Math.min(s, t);
        const hi = Math.max(s, t);
        const key = lo * g.nodeCount + hi;
        if (seen.has(key)) continue;
        seen.add(key);
        edges.push(lo, hi);
      }
    }
    return {
      schemaVersion: CITY_JSON_VERSION,
      nodes,
      edges,
      stations: city.stations.map((s) => ({ id: s.id, name: s.name, lat: r6(s.lat), lon: r6(s.lon), chargers: s.chargerKW.length })),
      evs: { count: this.initial.length, initial: this.initial },
      tracks: { t: this.t, ev: this.ev, state: this.state, a: this.a, b: this.b },
    };
  }
}

/** city.json text: compact (one line per section), deterministic. */
export function cityJson(geo: CityGeometry): string {
  const lines = Object.entries(geo).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}
