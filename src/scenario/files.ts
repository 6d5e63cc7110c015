/**
 * The files a scenario refers to — the OpenStreetMap extract (city.file), the EV model table
 * (fleet.models), the TOU tariff (tariff.file) and the recorded sessions (demand.file) — opened
 * and checked with the very loaders the run uses, so that `evsim validate` saying "ok" means the
 * run will start, and the run reports the same one line per problem (exit 2).
 *
 * Every problem is one line `SCENARIO: field: FILE: what is wrong`; all problems of a scenario are
 * reported together.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { readOsm, type OsmData } from '../city/osm.js';
import { extractStations, snapStations } from '../city/osmStations.js';
import { buildRoadNetwork, type RoadNetwork } from '../city/roads.js';
import { loadEvModels } from '../charging/evModels.js';
import { readReplaySessions, replayChargerIds } from '../charging/replay.js';
import { loadTariff } from '../charging/tariff.js';
import { readGridLoad } from '../charging/gridLoad.js';
import { resolveScenarioPath, type Scenario } from './scenario.js';
import { scenarioSiteNetwork } from './site.js';

/** What opening the files told us, for the cost estimate (src/scenario/estimate.ts). */
export interface ScenarioFacts {
  /** road nodes and edges of the OSM city after city.bbox and the largest strongly connected component */
  nodes?: number;
  edges?: number;
  /** charging stations tagged on the map (before snapping), when stations.fromMap */
  mapStations?: number;
  /** replayed sessions inside the scenario's time window */
  replaySessions?: number;
  /** EV models in fleet.models */
  models?: number;
  /** non-fatal findings, one line each (e.g. overlapping tariff entries) */
  warnings: string[];
}

function firstLine(e: unknown): string {
  if (e instanceof UserError) return e.lines[0] ?? '';
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

/**
 * Read the scenario's OSM map (clipped to city.bbox) and build its drivable road network; the run
 * (src/simulation/world.ts) builds its city through this function too. Throws one UserError line
 * naming city.file (unreadable or corrupt map) or city.bbox (no drivable road inside it).
 */
export async function loadCityMap(sc: Scenario): Promise<{ osm: OsmData; net: RoadNetwork }> {
  if (sc.city.type !== 'osm') throw new TypeError('loadCityMap: not an osm city');
  const file = resolveScenarioPath(sc, sc.city.file);
  const bbox = sc.city.bbox;
  let osm: OsmData;
  try {
    osm = await readOsm(file, bbox ? { bbox } : {});
  } catch (e) {
    throw new UserError([`${sc.file}: city.file: ${firstLine(e)}`]);
  }
  try {
    return { osm, net: buildRoadNetwork(osm) };
  } catch (e) {
    if (/no drivable roads/.test(firstLine(e))) {
      throw new UserError([
        bbox
          ? `${sc.file}: city.bbox: the map ${sc.city.file} has no drivable road inside [${bbox.join(', ')}] ([minLon, minLat, maxLon, maxLat]); widen or remove city.bbox`
          : `${sc.file}: city.file: the map ${sc.city.file} has no drivable road (highway=motorway … residential, service); use an extract with roads`,
      ]);
    }
    throw new UserError([`${sc.file}: city.file: ${firstLine(e)}`]);
  }
}

export interface CheckFilesOptions {
  /** also read the OSM map and build its road network (validate: yes; run: no, the city build does it next) */
  map?: boolean;
}

/**
 * Open and check every file the scenario refers to; throws one UserError with one line per
 * problem. Returns what was learnt (node counts, sessions) for the cost estimate.
 */
export async function checkScenarioFiles(sc: Scenario, opts: CheckFilesOptions = {}): Promise<ScenarioFacts> {
  const problems: string[] = [];
  const facts: ScenarioFacts = { warnings: [] };
  const attempt = <T>(field: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      for (const l of e.lines) problems.push(`${sc.file}: ${field}: ${l}`);
      return undefined;
    }
  };
  /** a check whose UserError lines already name the file and field */
  const attempt2 = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(...e.lines);
    }
  };
  const notEmpty = (field: string, p: string) => {
    // a directory or a special file would otherwise be read as garbage or hang
    try {
      const st = statSync(p);
      if (!st.isFile()) problems.push(`${sc.file}: ${field}: ${p}: not a regular file`);
      return st.isFile();
    } catch {
      return true; // the loader reports the unreadable file in its own words
    }
  };

  if (sc.demand.type === 'trips' || sc.demand.type === 'hub') {
    const p = resolveScenarioPath(sc, sc.fleet.models);
    if (notEmpty('fleet.models', p)) {
      const models = attempt('fleet.models', () => loadEvModels(p));
      if (models) {
        facts.models = models.length;
        if (!models.some((m) => m.weight > 0)) problems.push(`${sc.file}: fleet.models: ${p}: every model has weight 0; at least one weight must be > 0`);
      }
    }
  }
  if (sc.tariff.type === 'tou') {
    const p = resolveScenarioPath(sc, sc.tariff.file);
    if (notEmpty('tariff.file', p)) {
      const t = attempt('tariff.file', () => loadTariff({ ...sc.tariff, file: p } as Parameters<typeof loadTariff>[0]));
      if (t) facts.warnings.push(...t.warnings.map((w) => `${sc.file}: tariff.file: warning: ${w}`));
    }
  }
  // the forecast tariff and its grid (docs/tariffs.md)
  if (sc.tariff.type === 'forecast') {
    const tf = sc.tariff;
    if (!sc.grid) problems.push(`${sc.file}: tariff: type forecast needs a grid block (grid.load: the hourly grid load CSV)`);
    if (tf.source === 'model' && tf.model === undefined) problems.push(`${sc.file}: tariff.model: needed for source model (a load forecaster folder, e.g. ../models/load-forecast-caiso)`);
    if (tf.source === 'model' && tf.model !== undefined) {
      const dir = resolveScenarioPath(sc, tf.model);
      for (const f of ['model.json', 'weights.bin']) {
        if (!existsSync(join(dir, f))) {
          problems.push(`${sc.file}: tariff.model: ${dir}: no ${f} (expected a load forecaster folder written by evsim train load-forecast, e.g. ../models/load-forecast-caiso)`);
          break;
        }
      }
    }
    if (tf.minFactor > tf.maxFactor) problems.push(`${sc.file}: tariff.minFactor: must be <= tariff.maxFactor (got ${tf.minFactor} > ${tf.maxFactor})`);
    if (tf.calibrate) {
      const p = resolveScenarioPath(sc, tf.calibrate.file);
      if (notEmpty('tariff.calibrate.file', p)) attempt('tariff.calibrate.file', () => loadTariff({ type: 'tou', ...tf.calibrate!, file: p }));
    }
  }
  if (sc.grid) {
    const g = sc.grid;
    const p = resolveScenarioPath(sc, g.load);
    if (notEmpty('grid.load', p)) {
      const load = attempt('grid.load', () => readGridLoad(p, g.load));
      if (load) {
        const first = load.startEpoch;
        const last = load.startEpoch + load.mw.length * 3600;
        const t0 = Date.parse(sc.start) / 1000;
        // the first day starts at or before `start`; forecasts need 168 h before it; the last day ends after the horizon
        const day0 = Math.floor((t0 - g.dayStartUtcHour * 3600) / 86400) * 86400 + g.dayStartUtcHour * 3600;
        const dayEnd = day0 + Math.ceil((t0 + sc.duration - day0) / 86400) * 86400;
        if (day0 - 168 * 3600 < first || dayEnd > last) {
          const iso = (t: number) => new Date(t * 1000).toISOString();
          problems.push(`${sc.file}: start: the run's tariff days ${iso(day0)} … ${iso(dayEnd)} (and the 168 h before) must lie inside grid.load ${g.load} (${iso(first)} … ${iso(last)})`);
        }
      }
    }
  }
  if (sc.demand.type === 'replay') {
    const d = sc.demand;
    const p = resolveScenarioPath(sc, d.file);
    if (notEmpty('demand.file', p)) {
      const recs = attempt('demand.file', () => readReplaySessions(p, d, Date.parse(sc.start) / 1000, sc.duration));
      if (recs) {
        facts.replaySessions = recs.filter((r) => r.arrival < sc.duration).length;
        if (sc.site.network) attempt2(() => scenarioSiteNetwork(sc, replayChargerIds(recs)));
      }
    }
  }
  if (sc.site.network && sc.demand.type !== 'replay') attempt2(() => scenarioSiteNetwork(sc, sc.station.chargers ?? 1));
  if (opts.map && sc.city.type === 'osm') {
    try {
      const { osm, net } = await loadCityMap(sc);
      facts.nodes = net.graph.nodeCount;
      facts.edges = net.graph.edgeCount;
      if (sc.stations.fromMap) facts.mapStations = snapStations(net.graph, extractStations(osm)).length;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push(...e.lines);
    }
  }
  if (sc.city.type !== 'none' && sc.stations.list.length === 0 && !sc.stations.generate) {
    const onMap = sc.city.type === 'osm' && sc.stations.fromMap ? facts.mapStations : 0;
    if (onMap === 0) {
      // the same line as the city build's (src/simulation/world.ts)
      problems.push(`${sc.file}: stations: the city has no charging station; add stations.list or stations.generate`);
    }
  }
  if (problems.length) throw new UserError(problems);
  return facts;
}
