/**
 * Validation that catches user mistakes up front (docs/validation.md): bounds on magnitudes and `--set`
 * list indices, one line per new list entry, messages inside inline stacks, cross-field ledger
 * checks, the files a scenario refers to (checkScenarioFiles, with the run's own loaders) and the
 * up-front cost estimate (estimateCost / checkCost). Every case is one line naming the file or the
 * field, exit code 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { loadEvModels } from '../../src/charging/evModels.js';
import { readReplaySessions } from '../../src/charging/replay.js';
import { checkScenarioFiles } from '../../src/scenario/files.js';
import { checkCost, checkRoutingTables, estimateCost, routingTableBytes, TIME_HARD_S } from '../../src/scenario/estimate.js';
import { loadScenario, MAX_DURATION_S, validateScenario, type Scenario } from '../../src/scenario/scenario.js';
import { SHIPPED_STACK_NAMES } from '../../src/ledger/stacks.js';
import { buildCity } from '../../src/simulation/world.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MONACO = join(ROOT, 'scenarios', 'monaco.yaml');
const MMC = join(ROOT, 'scenarios', 'validation', 'mmc.yaml');
const ACN = join(ROOT, 'scenarios', 'validation', 'acn-caltech-2019-03.yaml');
const QBFT_CRASH = join(ROOT, 'scenarios', 'faults', 'qbft-crash.yaml');

const tmp = mkdtempSync(join(tmpdir(), 'evsim-validation-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function writeTmp(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
}

function lines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.exitCode).toBe(2);
    for (const l of e.lines) expect(l).not.toContain('\n');
    return e.lines;
  }
  throw new Error('expected a UserError, but it was accepted');
}
async function linesAsync(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.exitCode).toBe(2);
    return e.lines;
  }
  throw new Error('expected a UserError, but it was accepted');
}
const load = (file: string, ...overrides: string[]) => loadScenario(file, { overrides });
const GRID = { city: { type: 'grid', rows: 5, cols: 5 }, stations: { generate: { count: 2 } } };

describe('bounds on magnitudes', () => {
  it('duration: 1e308 is refused with the allowed range', () => {
    expect(lines(() => validateScenario({ ...GRID, duration: 1e308 }, 's.yaml'))).toEqual([
      `s.yaml: duration: must be a duration > 0 and <= 3660d (${MAX_DURATION_S} s) (got 1e+308)`,
    ]);
    expect(validateScenario({ ...GRID, duration: '3660d' }, 's.yaml').duration).toBe(MAX_DURATION_S);
  });

  it('demand.arrivalsPerHour=1e308 and meanEnergyKWh=1e300 are refused together', () => {
    expect(lines(() => load(MMC, 'demand.arrivalsPerHour=1e308', 'demand.meanEnergyKWh=1e300'))).toEqual([
      `${MMC} (with --set): demand.arrivalsPerHour: must be <= 100000 (got 1e+308)`,
      `${MMC} (with --set): demand.meanEnergyKWh: must be <= 1000 kWh (got 1e+300)`,
    ]);
  });

  it('charger power beyond 10 MW is refused', () => {
    expect(lines(() => validateScenario({ ...GRID, stations: { generate: { count: 2, powerKW: 1e9 } } }, 's.yaml'))).toEqual([
      's.yaml: stations.generate.powerKW: must be <= 10000 kW (got 1000000000)',
    ]);
  });
});

describe('--set list indices and new entries', () => {
  it('an index far beyond the list is one line, before anything is allocated', () => {
    expect(lines(() => load(MMC, 'stations.list[99999999].lat=43.7'))).toEqual([
      '--set stations.list[99999999].lat: index 99999999 is beyond the list stations.list (length 0); use 0 to append one',
    ]);
  });

  it('stations.list[5] on an empty list: one line, not five "is required"', () => {
    expect(lines(() => load(MONACO, 'stations.list[5].lat=43.7'))).toHaveLength(1);
  });

  it('a new entry missing its required fields: one line naming them; with lat and lon it loads', () => {
    expect(lines(() => load(MONACO, 'stations.list[0].lat=43.73'))).toEqual([
      `${MONACO} (with --set): stations.list[0]: the new entry made by --set lacks lon (required fields: lat, lon); add --set stations.list[0].lon=...`,
    ]);
    const sc = load(MONACO, 'stations.list[0].lat=43.73', 'stations.list[0].lon=7.42');
    expect(sc.stations.list).toEqual([{ lat: 43.73, lon: 7.42, chargers: 2, powerKW: 22, kind: 'AC' }]);
    // a bad value in the new entry is still its own line
    expect(lines(() => load(MONACO, 'stations.list[0].lat=91', 'stations.list[0].lon=7.42'))).toEqual([
      `${MONACO} (with --set): stations.list[0].lat: must be <= 90 (got 91)`,
    ]);
  });
});

describe('messages inside ledger.stacks', () => {
  it("an unknown key in an inline stack's params lists the backend's own keys", () => {
    const l = lines(() => load(MONACO, 'ledger.stacks=[{name: x, records: {backend: qbft, params: {foo: 1}}, payments: {backend: central}}]'));
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/^.* \(with --set\): ledger\.stacks\[0\]\.records\.params\.foo: unknown field; allowed here: validators, blockPeriodS, /);
    expect(l[0]).not.toContain('fleet');
  });

  it('an error inside an inline entry names the entry and the field', () => {
    expect(lines(() => load(MONACO, 'ledger.stacks=[none, {name: x, records: {backend: qbft}, payments: {backend: centrl}}]'))).toEqual([
      `${MONACO} (with --set): ledger.stacks[1].payments.backend: allowed: none | central | pow | qbft | tangle | lightning | flash (got "centrl")`,
    ]);
  });

  it('an unknown stack name lists the shipped names', () => {
    expect(lines(() => load(MONACO, 'ledger.stacks=[qbft, nonee]'))).toEqual([
      `${MONACO} (with --set): ledger.stacks[1]: unknown stack "nonee"; shipped stacks: ${SHIPPED_STACK_NAMES.join(', ')} (or an inline stack {name, records: {backend, params}, payments: {backend, params}, network})`,
    ]);
  });
});

describe('cross-field ledger checks', () => {
  it('more QBFT validators than ledger nodes', () => {
    expect(lines(() => load(QBFT_CRASH, 'ledger.backends.qbft.validators=12'))).toEqual([
      `${QBFT_CRASH} (with --set): ledger.backends.qbft.validators: must be <= the ledger network's nodes (ledger.network.nodes = 7) (got 12)`,
    ]);
  });

  it('a crashed validator index beyond the validators, and an inline network override, reported together', () => {
    const l = lines(() =>
      load(QBFT_CRASH, 'ledger.stacks[1].records.params.crashed[0].validator=9', 'ledger.stacks[2].network={nodes: 4}'),
    );
    expect(l).toContain(`${QBFT_CRASH} (with --set): ledger.stacks[1].records.params.crashed[0].validator: must be a validator index 0..6 (7 validators) (got 9)`);
    expect(l).toContain(`${QBFT_CRASH} (with --set): ledger.backends.qbft.validators: must be <= the ledger network's nodes (ledger.stacks[2].network.nodes = 4) (got 7)`);
  });

  it('a hub / server / coordinator node beyond the network', () => {
    expect(lines(() => load(MONACO, 'ledger.stacks=[central]', 'ledger.backends.central.serverNode=10'))).toEqual([
      `${MONACO} (with --set): ledger.backends.central.serverNode: must be a ledger node id 0..9 (ledger.network.nodes = 10) (got 10)`,
    ]);
    // the chain inside Lightning is checked too
    expect(lines(() => load(MONACO, 'ledger.stacks=[qbft-lightning]', 'ledger.backends.lightning.chain={backend: qbft, params: {validators: 20}}'))).toEqual([
      `${MONACO} (with --set): ledger.backends.lightning.chain.params.validators: must be <= the ledger network's nodes (ledger.network.nodes = 10) (got 20)`,
    ]);
  });
});

describe('files a scenario refers to', () => {
  it('the shipped replay scenario passes and reports its sessions', async () => {
    const facts = await checkScenarioFiles(load(ACN));
    expect(facts.replaySessions).toBeGreaterThan(900);
  });

  it('fleet.models missing, empty or corrupt: one line naming the field and the file', async () => {
    const empty = writeTmp('empty.json', '');
    const corrupt = writeTmp('corrupt.json', '{"models": [');
    const none = writeTmp('none.json', '{"models": []}');
    for (const [f, what] of [
      [join(tmp, 'missing.json'), 'cannot read fleet file (ENOENT)'],
      [empty, 'fleet file is empty'],
      [corrupt, 'invalid JSON'],
      [none, 'models must be a non-empty array'],
    ] as const) {
      const l = await linesAsync(checkScenarioFiles(load(MONACO, `fleet.models=${f}`)));
      expect(l).toHaveLength(1);
      expect(l[0]).toContain(`${MONACO}: fleet.models: ${f}: ${what}`);
    }
    // the run's loader throws the same kind of error (exit 2, not an internal error)
    expect(lines(() => loadEvModels(empty))[0]).toContain('fleet file is empty');
  });

  it('tariff.file missing, or leaving a day uncovered', async () => {
    const weekdays = writeTmp(
      'weekdays.json',
      JSON.stringify({ name: 'w', schedule: [{ id: 'w', effective_start: '01-01', effective_end: '12-31', dow_mask: 'WEEKDAYS', times: [0], tariffs: [0.2] }] }),
    );
    const l = await linesAsync(checkScenarioFiles(load(ACN, `tariff.file=${weekdays}`)));
    expect(l).toEqual([`${ACN}: tariff.file: tariff file ${weekdays}: schedule has no entry covering 01-01 on a Sun (check effective_start/effective_end/dow_mask)`]);
    const m = await linesAsync(checkScenarioFiles(load(ACN, `tariff.file=${join(tmp, 'nope.json')}`)));
    expect(m[0]).toContain(`${ACN}: tariff.file: tariff file ${join(tmp, 'nope.json')}: (whole file) cannot be read (ENOENT)`);
  });

  it('replay CSV: header only, every row before start, 1e300 kWh, short row — each one line', async () => {
    const H = 'session_id,station_id,arrival_utc,departure_utc,energy_delivered_kwh\n';
    const row = (e: string) => `a,b,2019-03-01T14:20:00Z,2019-03-01T15:20:00Z,${e}\n`;
    const cases: [string, string, string[], string][] = [
      ['header.csv', H, [], 'has a header but no sessions'],
      ['early.csv', H + row('4'), ['start=2019-04-01T00:00:00Z'], "all 1 sessions arrive before the scenario's start 2019-04-01T00:00:00.000Z"],
      ['huge.csv', H + row('1e300'), [], 'line 2: energy_delivered_kwh: must be a number of kWh in [0, 1000] (got "1e300")'],
      ['short.csv', H + row('4') + '\nc,d,2019-03-01T14:20:00Z\n', [], 'line 4: has 3 of the header\'s 5 columns; missing departure_utc, energy_delivered_kwh'],
    ];
    for (const [name, text, sets, what] of cases) {
      const f = writeTmp(name, text);
      const l = await linesAsync(checkScenarioFiles(load(ACN, `demand.file=${f}`, ...sets)));
      expect(l).toEqual([expect.stringContaining(`${ACN}: demand.file: ${f}: ${what}`)]);
    }
    // the run reads the sessions with the same loader: a header-only file no longer gives a 0-charger site
    const f = join(tmp, 'header.csv');
    expect(lines(() => readReplaySessions(f, load(ACN).demand as never, 0))[0]).toContain('has a header but no sessions');
    await expect(buildCity(load(ACN, `demand.file=${f}`))).rejects.toBeInstanceOf(UserError);
  });

  it('city.bbox with no drivable road: validate and the run give the same line', async () => {
    const sc = load(MONACO, 'city.bbox=[0,0,1,1]');
    const v = await linesAsync(checkScenarioFiles(sc, { map: true }));
    expect(v).toEqual([
      `${MONACO}: city.bbox: the map ../data/osm/monaco-2026-03.osm.pbf has no drivable road inside [0, 0, 1, 1] ([minLon, minLat, maxLon, maxLat]); widen or remove city.bbox`,
    ]);
    expect(await linesAsync(buildCity(sc))).toEqual(v);
    // without map: true (what run does before the city build) the map is not read
    await expect(checkScenarioFiles(sc)).resolves.toBeDefined();
  });

  it('a synthetic city without stations is reported by validate, as the run would', async () => {
    const sc = validateScenario({ city: { type: 'grid', rows: 5, cols: 5 } }, 's.yaml');
    expect(await linesAsync(checkScenarioFiles(sc))).toEqual(['s.yaml: stations: the city has no charging station; add stations.list or stations.generate']);
    expect(await linesAsync(buildCity(sc))).toEqual(['s.yaml: stations: the city has no charging station; add stations.list or stations.generate']);
  });
});

describe('cost estimate', () => {
  const GiB = 2 ** 30;
  const grid = (rows: number, cols: number, extra: Record<string, unknown> = {}): Scenario =>
    validateScenario({ city: { type: 'grid', rows, cols, ...extra }, stations: { generate: { count: 10 } } }, 's.yaml');

  it('routing-table bytes match what the city build allocates', async () => {
    const sc = grid(12, 9, { places: 30 });
    const city = await buildCity(sc);
    const actual = city.stationTo!.byteLength + city.stationFrom!.byteLength + city.placeTo!.byteLength + city.placeFrom!.byteLength;
    expect(routingTableBytes(12 * 9, 10, 30)).toBe(actual);
    const est = estimateCost(sc);
    expect(est.nodes).toBe(108);
    expect(est.stations).toBe(10);
    expect(est.places).toBe(30);
  });

  it('a 2000×2000 grid with 5000 places is refused with the number and the knob; --force makes it a warning', () => {
    const sc = grid(2000, 2000, { places: 5000 });
    const est = estimateCost(sc);
    expect(est.totalBytes).toBeGreaterThan(299 * GiB);
    const l = lines(() => checkCost(sc, est, { totalMemBytes: 24 * GiB }));
    expect(l).toHaveLength(1);
    expect(l[0]).toMatch(/^s\.yaml: estimated memory 299\.\d GiB .*routing tables \(4\.0e6 road nodes × \(10 stations \+ 5000 places\)\).*reduce city\.rows\/city\.cols, city\.places or the number of stations, or pass --force$/);
    const w = checkCost(sc, est, { totalMemBytes: 24 * GiB, force: true });
    expect(w[0]).toMatch(/^s\.yaml: warning \(--force\): estimated memory/);
  });

  it('a 2000×2000 grid and a 1000×1000 radial city warn about the routing build time', () => {
    for (const sc of [grid(2000, 2000), validateScenario({ city: { type: 'radial', rings: 1000, spokes: 1000 }, stations: { generate: { count: 10 } } }, 's.yaml')]) {
      const w = checkCost(sc, estimateCost(sc), { totalMemBytes: 1024 * GiB });
      expect(w).toEqual([expect.stringMatching(/^s\.yaml: warning: estimated run time ~\d+ min, mostly building the routing tables \(420 trees over (1\.0e6|4\.0e6) road nodes: ~\d+ min\); reduce the city size/)]);
    }
  });

  it('a microsecond QBFT block period is refused naming blockPeriodS', () => {
    const sc = load(MONACO, 'ledger.stacks=[qbft]', 'ledger.backends.qbft.blockPeriodS=1e-6');
    const est = estimateCost(sc, { nodes: 0, warnings: [] });
    expect(est.seconds).toBeGreaterThan(TIME_HARD_S);
    expect(lines(() => checkCost(sc, est))).toEqual([expect.stringMatching(/monaco\.yaml: estimated run time ~\d+\.\d days: .* events .*mostly stack qbft records: 8\.6e10 QBFT blocks .*reduce ledger\.backends\.qbft\.blockPeriodS, or pass --force$/)]);
  });

  it('fleet.size=10000000 warns with the number of events; the shipped scenarios pass silently', () => {
    const sc = load(MONACO, 'fleet.size=10000000', 'ledger.stacks=[none]');
    const w = checkCost(sc, estimateCost(sc, { nodes: 10_000, warnings: [] }), { totalMemBytes: 64 * GiB });
    expect(w).toEqual([expect.stringMatching(/warning: estimated run time ~\d+ min: 2\.\de8 events .*mostly trips \(1\.0e7 EVs × 1 days\).*reduce fleet\.size$/)]);
    for (const f of [MONACO, MMC, ACN]) {
      const s = load(f);
      expect(checkCost(s, estimateCost(s, { nodes: 10_000, replaySessions: 954, warnings: [] }), { totalMemBytes: 16 * GiB })).toEqual([]);
    }
  });

  it('poisson arrivals beyond the JavaScript array limit are refused even with --force', () => {
    const sc = load(MMC, 'demand.arrivalsPerHour=100000', 'duration=3660d');
    expect(lines(() => checkCost(sc, estimateCost(sc), { force: true }))[0]).toMatch(/demand\.arrivalsPerHour or duration: the run would have 8\.8e9 arrivals; at most 5\.0e7/);
  });

  it("poisson arrivals whose objects exceed Node's heap limit are refused with the NODE_OPTIONS hint", () => {
    const sc = load(MMC, 'demand.arrivalsPerHour=2000'); // 2000 h: 4e6 arrivals, ~4.5 GiB of heap
    expect(lines(() => checkCost(sc, estimateCost(sc), { heapLimitBytes: 4 * GiB, totalMemBytes: 64 * GiB }))).toEqual([
      expect.stringMatching(/demand\.arrivalsPerHour or duration: 4\.0e6 arrivals need ~4\.5 GiB of JavaScript heap, over 90 % of Node's heap limit 4\.0 GiB; .*NODE_OPTIONS=--max-old-space-size=\d+$/),
    ]);
    expect(() => checkCost(sc, estimateCost(sc), { heapLimitBytes: 16 * GiB, totalMemBytes: 64 * GiB })).not.toThrow();
  });

  it('routing tables of a parsed OSM map that cannot fit are refused before building', () => {
    const sc = load(MONACO);
    expect(lines(() => checkRoutingTables(sc, 10_000_000, 100, 5000, 16 * GiB))[0]).toMatch(/the routing tables would take 7\d\d\.\d GiB .*reduce city\.bbox, city\.places or the number of stations$/);
    expect(() => checkRoutingTables(sc, 10_000, 100, 200, 16 * GiB)).not.toThrow();
  });
});

describe('site.network', () => {
  it('needs a single-site scenario, and names charger ids the network lacks', async () => {
    const { loadScenario } = await import('../../src/scenario/scenario.js');
    const { checkScenarioFiles } = await import('../../src/scenario/files.js');
    const { UserError } = await import('../../src/core/errors.js');
    const net = 'site.network={file: ../data/sites/caltech-acn.json, transformerKW: 50}';
    let err: unknown;
    try {
      loadScenario(join(ROOT, 'scenarios', 'monaco.yaml'), { overrides: [net] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as InstanceType<typeof UserError>).lines.join('\n')).toMatch(/site\.network: .*needs city\.type none \(got city\.type osm\)/);
    // the replayed sessions' charger ids are all Caltech EVSEs
    const ok = loadScenario(ACN, { overrides: ['site.network={file: ../../data/sites/caltech-acn.json, transformerKW: 50}'] });
    await expect(checkScenarioFiles(ok)).resolves.toBeDefined();
    // a network file that does not exist
    const bad = loadScenario(ACN, { overrides: ['site.network={file: ../../data/sites/nope.json, transformerKW: 50}'] });
    await expect(checkScenarioFiles(bad)).rejects.toThrow(/site\.network\.file: .*nope\.json: file not found/);
  });
});
