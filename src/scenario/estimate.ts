/**
 * Up-front cost estimate of a run, from the validated scenario and what opening its files told us
 * (src/scenario/files.ts), before anything is built: the memory the run would allocate (routing
 * tables, fleet, per-minute station samples, events log) and the number of events it would
 * process (trips, charging sessions, minute ticks × stations, ledger blocks of every stack). Over
 * a hard limit the run is refused (exit 2, one line with the number and the knob to change;
 * `--force` runs anyway); over a soft limit one warning line goes to stderr. The formulas, their
 * constants and the limits are in DOCS (section "Cost estimate"); they are deliberately simple
 * upper-range figures, measured on the shipped scenarios, not a model of the simulator.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { UserError } from '../core/errors.js';
import { checkScenarioFiles, type ScenarioFacts } from './files.js';
import type { Scenario } from './scenario.js';

/** Planning figure: events per wall-clock second of a run (measured 40,000–550,000 on the shipped scenarios, 2-core VM). */
export const EVENTS_PER_SECOND = 200_000;
/** Road trips per EV and simulated day are at most 2 + 2·otherTripProb; events per trip measured on Monaco: 8.2. */
export const EVENTS_PER_TRIP = 9;
/** Bytes per EV of the trips fleet (state arrays, day plans, sessions). */
export const BYTES_PER_EV = 200;
/** JavaScript-heap bytes per direct arrival (poisson/replay): its EV, ideal model object, session
 * (measured: 1,090 bytes per arrival once the simulation is set up, 1e6 poisson arrivals). */
export const BYTES_PER_ARRIVAL = 1200;
/** Bytes per road node of the graph and the routing workspace (CSR arrays both ways, Dijkstra state). */
export const BYTES_PER_NODE = 120;
/** Trees built at once by buildTrees (src/city/routing.ts BLOCK): the staging block. */
const TREE_BLOCK = 16;
/** Largest number of direct arrivals: the arrival list is a JavaScript array (V8 aborts near 1.7e8 doubles). */
export const MAX_ARRIVALS = 50_000_000;

/** Seconds per road node and tree of the routing tables (bench: ~6 ms per tree on a 150×150 grid = 0.27 µs). */
export const ROUTING_SECONDS_PER_NODE_TREE = 3e-7;

/** Share of os.totalmem() above which a run is refused / warned about. */
export const MEMORY_HARD_SHARE = 0.8;
export const MEMORY_SOFT_SHARE = 0.5;
/** Estimated run time (s) above which a run is refused / warned about. */
export const TIME_HARD_S = 24 * 3600;
export const TIME_SOFT_S = 60;

export interface CostPart {
  /** what it is, e.g. "routing tables" */
  what: string;
  /** bytes or events */
  amount: number;
  /** the scenario field to change to make it smaller */
  knob: string;
}

export interface CostEstimate {
  /** road nodes (undefined: an OSM map not read yet) */
  nodes: number | undefined;
  stations: number;
  places: number;
  memory: CostPart[];
  events: CostPart[];
  totalBytes: number;
  totalEvents: number;
  /** seconds to build the routing tables: 2 × (stations + places) trees × nodes × ROUTING_SECONDS_PER_NODE_TREE */
  routingSeconds: number;
  /** routingSeconds + totalEvents / EVENTS_PER_SECOND */
  seconds: number;
}

/** Road nodes of a synthetic city (exact), of an OSM city when its map was read, else undefined. */
function nodeCount(sc: Scenario, facts?: ScenarioFacts): number | undefined {
  const c = sc.city;
  if (c.type === 'grid') return c.rows * c.cols;
  if (c.type === 'radial') return 1 + c.rings * c.spokes;
  if (c.type === 'osm') return facts?.nodes;
  return 0;
}

/** Routing-table bytes: four tables (station to/from, place to/from), each n × K × (Float32 time + Float32 length). */
export function routingTableBytes(nodes: number, stations: number, places: number): number {
  return 2 * nodes * (stations + places) * 8;
}

/** Bytes of buildTrees' staging block while a table is built (two Float32 arrays of BLOCK × n). */
function routingStagingBytes(nodes: number, stations: number, places: number): number {
  return 2 * 4 * Math.min(TREE_BLOCK, Math.max(stations, places)) * nodes;
}

/** Ledger block-like events of one backend over `duration` seconds, with the knob that sets their rate. */
function ledgerParts(stack: string, role: string, backend: string, p: Record<string, unknown>, duration: number, nodes: number, field: string): CostPart[] {
  const num = (k: string, d: number) => (typeof p[k] === 'number' ? (p[k] as number) : d);
  const out: CostPart[] = [];
  if (backend === 'qbft') {
    const period = num('blockPeriodS', 5);
    const n = num('validators', nodes);
    // every block: PRE-PREPARE, PREPARE and COMMIT among the validators
    out.push({ what: `stack ${stack} ${role}: ${fmtNum(duration / period)} QBFT blocks (blockPeriodS ${period} s, ${n} validators)`, amount: (duration / period) * 3 * n, knob: `${field}.blockPeriodS` });
  } else if (backend === 'pow') {
    const interval = num('blockIntervalS', 600);
    out.push({ what: `stack ${stack} ${role}: ${fmtNum(duration / interval)} PoW blocks (blockIntervalS ${interval} s, ${nodes} nodes)`, amount: (duration / interval) * 2 * nodes, knob: `${field}.blockIntervalS` });
  } else if (backend === 'tangle') {
    const interval = num('milestoneIntervalS', 60);
    out.push({ what: `stack ${stack} ${role}: ${fmtNum(duration / interval)} Tangle milestones (milestoneIntervalS ${interval} s, ${nodes} nodes)`, amount: (duration / interval) * nodes, knob: `${field}.milestoneIntervalS` });
  }
  const chain = p.chain as { backend?: unknown; params?: unknown } | undefined;
  if (chain && typeof chain === 'object' && typeof chain.backend === 'string' && chain.params && typeof chain.params === 'object') {
    out.push(...ledgerParts(stack, `${role} chain`, chain.backend, chain.params as Record<string, unknown>, duration, nodes, `${field}.chain.params`));
  }
  return out;
}

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1e6) return x.toExponential(1).replace('e+', 'e');
  return String(Math.round(x));
}

function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  return `${(b / 2 ** 20).toFixed(0)} MiB`;
}

function fmtSeconds(s: number): string {
  if (s >= 86400) return `${(s / 86400).toFixed(1)} days`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 60) return `${(s / 60).toFixed(0)} min`;
  return `${s.toFixed(0)} s`;
}

/** Estimate the memory and events of a run (see the module comment). */
export function estimateCost(sc: Scenario, facts?: ScenarioFacts): CostEstimate {
  const nodes = nodeCount(sc, facts);
  const city = sc.city.type !== 'none';
  const stations = city ? sc.stations.list.length + (sc.stations.generate?.count ?? 0) + (facts?.mapStations ?? 0) : 1;
  const places = city && nodes !== undefined ? Math.min((sc.city as { places: number }).places, nodes) : 0;
  const days = Math.ceil(sc.duration / 86400);
  const minutes = Math.ceil(sc.duration / 60);
  const memory: CostPart[] = [];
  const events: CostPart[] = [];

  if (city && nodes !== undefined) {
    const cityKnob = sc.city.type === 'grid' ? 'city.rows/city.cols' : sc.city.type === 'radial' ? 'city.rings/city.spokes' : 'city.bbox';
    memory.push({ what: `routing tables (${fmtNum(nodes)} road nodes × (${stations} stations + ${places} places))`, amount: routingTableBytes(nodes, stations, places) + routingStagingBytes(nodes, stations, places), knob: `${cityKnob}, city.places or the number of stations` });
    memory.push({ what: `road graph (${fmtNum(nodes)} nodes)`, amount: nodes * BYTES_PER_NODE, knob: cityKnob });
  }
  let arrivals = 0;
  let sessionMinutes = 0;
  const d = sc.demand;
  if (d.type === 'trips') {
    memory.push({ what: `fleet (${fmtNum(sc.fleet.size)} EVs)`, amount: sc.fleet.size * BYTES_PER_EV, knob: 'fleet.size' });
    const trips = sc.fleet.size * days * (2 + 2 * d.otherTripProb);
    events.push({ what: `trips (${fmtNum(sc.fleet.size)} EVs × ${days} days)`, amount: trips * EVENTS_PER_TRIP, knob: 'fleet.size' });
  } else if (d.type === 'poisson') {
    arrivals = (d.arrivalsPerHour * sc.duration) / 3600;
    sessionMinutes = ((d.meanEnergyKWh / sc.station.powerKW) * 60) / sc.site.periodMinutes;
  } else if (d.type === 'hub') {
    const peak = d.hourlyProfile ? Math.max(...d.hourlyProfile) : 1;
    arrivals = (d.arrivalsPerHour * peak * sc.duration) / 3600;
    sessionMinutes = 60 / sc.site.periodMinutes; // a DC session: well under an hour
  } else {
    arrivals = facts?.replaySessions ?? 0;
    sessionMinutes = 60 / sc.site.periodMinutes;
  }
  if (arrivals > 0) {
    memory.push({ what: `${fmtNum(arrivals)} arrivals`, amount: arrivals * BYTES_PER_ARRIVAL, knob: d.type === 'poisson' || d.type === 'hub' ? 'demand.arrivalsPerHour or duration' : 'duration' });
    // one event per allocation period of a plugged EV, plus arrival, energy-done, departure
    events.push({ what: `${fmtNum(arrivals)} charging sessions`, amount: arrivals * (3 + sessionMinutes), knob: d.type === 'poisson' || d.type === 'hub' ? 'demand.arrivalsPerHour or duration' : 'duration' });
  }
  events.push({ what: `minute ticks (${fmtNum(minutes)} minutes × ${stations} stations)`, amount: minutes * Math.max(1, stations), knob: 'duration' });
  if (sc.output.stationsCsv) memory.push({ what: `per-minute station samples (${fmtNum(minutes)} minutes × ${stations} stations)`, amount: minutes * stations * 16, knob: 'duration or output.stationsCsv' });

  const ledgerNodes = (s: Scenario['stacks'][number]) => s.network.nodes;
  for (const s of sc.stacks) {
    const base = (b: string, role: 'records' | 'payments') => {
      const inline = sc.ledger.stacks !== 'all' && sc.ledger.stacks.some((e) => typeof e !== 'string' && e.name === s.name);
      return inline ? `ledger.stacks[${(sc.ledger.stacks as unknown[]).findIndex((e) => typeof e !== 'string' && (e as { name: string }).name === s.name)}].${role}.params` : `ledger.backends.${b}`;
    };
    events.push(...ledgerParts(s.name, 'records', s.records.backend, s.records.params, sc.duration, ledgerNodes(s), base(s.records.backend, 'records')));
    if (!s.shared) events.push(...ledgerParts(s.name, 'payments', s.payments.backend, s.payments.params, sc.duration, ledgerNodes(s), base(s.payments.backend, 'payments')));
  }
  const totalEvents = events.reduce((a, p) => a + p.amount, 0);
  // the stacks run one after the other; city memory is shared, ledger memory is not counted here
  if (sc.output.eventsLog) memory.push({ what: 'events log', amount: totalEvents * 18, knob: 'output.eventsLog' });
  const totalBytes = memory.reduce((a, p) => a + p.amount, 0);
  const routingSeconds = nodes === undefined ? 0 : 2 * (stations + places) * nodes * ROUTING_SECONDS_PER_NODE_TREE;
  return { nodes, stations, places, memory, events, totalBytes, totalEvents, routingSeconds, seconds: routingSeconds + totalEvents / EVENTS_PER_SECOND };
}

export interface CostCheckOptions {
  /** run anyway over the hard limits (they become warnings) */
  force?: boolean;
  /** machine memory in bytes (default os.totalmem()) */
  totalMemBytes?: number;
  /** V8 heap limit in bytes (default v8.getHeapStatistics().heap_size_limit) */
  heapLimitBytes?: number;
}

const largest = (parts: CostPart[]) => parts.reduce((a, p) => (p.amount > a.amount ? p : a), parts[0]!);

/**
 * Compare an estimate with the machine: throws a UserError (one line each) over a hard limit
 * unless `force`; returns warning lines (soft limits, and hard ones when forced).
 */
export function checkCost(sc: Scenario, est: CostEstimate, opts: CostCheckOptions = {}): string[] {
  const total = opts.totalMemBytes ?? os.totalmem();
  const hard: string[] = [];
  const soft: string[] = [];
  const arrivals = est.memory.find((p) => p.what.endsWith(' arrivals'));
  if (arrivals && arrivals.amount / BYTES_PER_ARRIVAL > MAX_ARRIVALS) {
    // not overridable: the run would abort in V8
    throw new UserError([
      `${sc.file}: ${arrivals.knob}: the run would have ${fmtNum(arrivals.amount / BYTES_PER_ARRIVAL)} arrivals; at most ${fmtNum(MAX_ARRIVALS)} (lower ${arrivals.knob})`,
    ]);
  }
  if (arrivals) {
    // JavaScript objects live in V8's heap, whose limit is usually far below the machine's memory
    const heap = opts.heapLimitBytes ?? v8.getHeapStatistics().heap_size_limit;
    if (arrivals.amount > 0.9 * heap) {
      throw new UserError([
        `${sc.file}: ${arrivals.knob}: ${fmtNum(arrivals.amount / BYTES_PER_ARRIVAL)} arrivals need ~${fmtBytes(arrivals.amount)} of JavaScript heap, over 90 % of Node's heap limit ${fmtBytes(heap)}; lower ${arrivals.knob}, or raise the limit with NODE_OPTIONS=--max-old-space-size=${Math.ceil((arrivals.amount / 0.9) / 2 ** 20)}`,
      ]);
    }
  }
  if (est.memory.length) {
    const big = largest(est.memory);
    const line = `estimated memory ${fmtBytes(est.totalBytes)} (${Math.round((100 * est.totalBytes) / total)} % of this machine's ${fmtBytes(total)}), mostly ${big.what}: ${fmtBytes(big.amount)}; reduce ${big.knob}`;
    if (est.totalBytes > MEMORY_HARD_SHARE * total) hard.push(`${sc.file}: ${line}, or pass --force`);
    else if (est.totalBytes > MEMORY_SOFT_SHARE * total) soft.push(`${sc.file}: warning: ${line}`);
  }
  const big = largest(est.events);
  const eventsS = est.totalEvents / EVENTS_PER_SECOND;
  const line =
    est.routingSeconds > eventsS
      ? `estimated run time ~${fmtSeconds(est.seconds)}, mostly building the routing tables (${2 * (est.stations + est.places)} trees over ${fmtNum(est.nodes ?? 0)} road nodes: ~${fmtSeconds(est.routingSeconds)}); reduce the city size, city.places or the number of stations`
      : `estimated run time ~${fmtSeconds(est.seconds)}: ${fmtNum(est.totalEvents)} events at ${fmtNum(EVENTS_PER_SECOND)} events/s, mostly ${big.what}: ${fmtNum(big.amount)} events; reduce ${big.knob}`;
  if (est.seconds > TIME_HARD_S) hard.push(`${sc.file}: ${line}, or pass --force`);
  else if (est.seconds > TIME_SOFT_S) soft.push(`${sc.file}: warning: ${line}`);
  if (hard.length && !opts.force) throw new UserError(hard);
  return [...hard.map((l) => l.replace(`${sc.file}: `, `${sc.file}: warning (--force): `).replace(/, or pass --force$/, '')), ...soft];
}

/**
 * The routing-table check of an OSM city whose node count is known only once its map is parsed:
 * called by the city build (src/simulation/world.ts) before building the tables. Refuses (exit 2)
 * tables that cannot fit in this machine's memory at all.
 */
export function checkRoutingTables(sc: Scenario, nodes: number, stations: number, places: number, totalMemBytes = os.totalmem()): void {
  const bytes = routingTableBytes(nodes, stations, places) + routingStagingBytes(nodes, stations, places);
  if (bytes > MEMORY_HARD_SHARE * totalMemBytes || nodes * Math.max(stations, places) > 2 ** 32 - 1) {
    throw new UserError([
      `${sc.file}: the routing tables would take ${fmtBytes(bytes)} (${fmtNum(nodes)} road nodes × (${stations} stations + ${places} places)), over ${Math.round(100 * MEMORY_HARD_SHARE)} % of this machine's ${fmtBytes(totalMemBytes)}; reduce city.bbox, city.places or the number of stations`,
    ]);
  }
}

/**
 * Everything `run` and `validate` check before building anything: the files (src/scenario/files.ts)
 * and the cost. Returns the warning lines for stderr; throws a UserError for problems.
 */
export async function preflight(sc: Scenario, opts: { map?: boolean; force?: boolean } = {}): Promise<string[]> {
  const facts = await checkScenarioFiles(sc, { map: opts.map });
  return [...facts.warnings, ...checkCost(sc, estimateCost(sc, facts), { force: opts.force })];
}
