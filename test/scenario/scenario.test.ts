/**
 * Scenario files: the shipped scenarios validate, durations parse, every kind of user error is one
 * line `FILE: field.path: problem (got VALUE)`, `--set` overrides, defaults, and the committed JSON
 * Schema for editors (scenarios/scenario.schema.json) is up to date.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ALLOCATION_POLICY_NAMES } from '../../src/charging/allocationBatch.js';
import {
  loadScenario,
  parseDuration,
  parseOverride,
  resolveScenarioPath,
  scenarioJsonSchema,
  setPath,
  UserError,
  validateScenario,
  type Scenario,
} from '../../src/scenario/scenario.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = join(ROOT, 'scenarios');
const MONACO = join(SCENARIOS, 'monaco.yaml');
const SCHEMA_FILE = join(SCENARIOS, 'scenario.schema.json');

/** scenarios/*.yaml, scenarios/validation/*.yaml and scenarios/faults/*.yaml, whatever is there when the tests run. */
function shippedScenarios(): string[] {
  const list = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.ya?ml$/i.test(f))
          .sort()
          .map((f) => join(dir, f))
      : [];
  return [...list(SCENARIOS), ...list(join(SCENARIOS, 'validation')), ...list(join(SCENARIOS, 'faults'))];
}

const tmp = mkdtempSync(join(tmpdir(), 'evsim-scenario-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
}

/** The UserError lines thrown by `fn`, or a test failure if it does not throw one. */
function userErrorLines(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.exitCode).toBe(2);
    for (const l of e.lines) expect(l, 'one line per problem').not.toContain('\n');
    return e.lines;
  }
  throw new Error('expected a UserError, but the scenario was accepted');
}

/** A valid base: a small grid city with the default trip demand (and its generated stations). */
const BASE = { city: { type: 'grid', rows: 5, cols: 5 }, stations: { generate: { count: 2 } } };

/** Problems of `raw` (merged over BASE section by section), validated as file "s.yaml". */
function problems(raw: Record<string, unknown>): string[] {
  return userErrorLines(() => validateScenario({ ...BASE, ...raw }, 's.yaml'));
}

// ---------------------------------------------------------------------------------------------

describe('shipped scenarios', () => {
  const files = shippedScenarios();

  it('include scenarios/monaco.yaml', () => {
    expect(files).toContain(MONACO);
  });

  describe.each(files.map((f) => [relative(ROOT, f), f] as const))('%s', (_name, file) => {
    it('validates', () => {
      const sc = loadScenario(file);
      expect(sc.file).toBe(file);
      expect(sc.name).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(sc.duration).toBeGreaterThan(0);
    });

    it('names files that exist', () => {
      const sc: Scenario = loadScenario(file);
      const refs: [string, string][] = [];
      if (sc.city.type === 'osm') refs.push(['city.file', sc.city.file]);
      if (sc.demand.type === 'replay') refs.push(['demand.file', sc.demand.file]);
      if (sc.demand.type === 'trips') refs.push(['fleet.models', sc.fleet.models]);
      if (sc.tariff.type === 'tou') refs.push(['tariff.file', sc.tariff.file]);
      for (const [field, p] of refs) {
        expect(existsSync(resolveScenarioPath(sc, p)), `${field}: ${p} (from ${file})`).toBe(true);
      }
    });

    // Required on monaco.yaml and scenarios/validation/*.yaml; on any other file, if present, it
    // must be the first line and point at the schema.
    const required = file === MONACO || dirname(file) === join(SCENARIOS, 'validation') || dirname(file) === join(SCENARIOS, 'faults');
    it(`${required ? 'starts' : 'if it names the schema, starts'} with the yaml-language-server schema comment`, () => {
      const text = readFileSync(file, 'utf8');
      if (!required && !text.includes('yaml-language-server')) return;
      const rel = relative(dirname(file), SCHEMA_FILE).split('\\').join('/');
      const want = `# yaml-language-server: $schema=${rel.startsWith('.') ? rel : `./${rel}`}`;
      expect(text.split('\n')[0], `first line of ${file} should be: ${want}`).toBe(want);
    });
  });
});

describe('durations', () => {
  it.each([
    ['90', 90],
    [90, 90],
    ['90s', 90],
    ['30m', 1800],
    ['30min', 1800],
    ['36h', 36 * 3600],
    ['30d', 30 * 86400],
    ['1.5h', 5400],
    ['500ms', 0.5],
    [' 2 h ', 7200],
  ] as const)('%j → %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['3 weeks', '', 'h', '1e3', '-5', '.5h', '5 x', 'Infinity'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNaN();
  });

  it('are accepted in scenario fields', () => {
    const sc = validateScenario({ ...BASE, duration: '36h', fleet: { maxWait: '30m', decisionTime: 90 } }, 's.yaml');
    expect(sc.duration).toBe(129600);
    expect(sc.fleet.maxWait).toBe(1800);
    expect(sc.fleet.decisionTime).toBe(90);
  });

  it('bad duration → one line', () => {
    expect(problems({ duration: '3 weeks' })).toEqual([
      's.yaml: duration: expected seconds or a duration such as 90s, 30m, 36h, 30d (got "3 weeks")',
    ]);
    expect(problems({ fleet: { maxWait: true } })).toEqual([
      's.yaml: fleet.maxWait: expected seconds or a duration such as 90s, 30m, 36h, 30d (got true)',
    ]);
    expect(problems({ duration: 0 })).toEqual(['s.yaml: duration: must be a duration > 0 (got 0)']);
    expect(problems({ fleet: { maxWait: -1 } })).toEqual(['s.yaml: fleet.maxWait: must be a duration >= 0 s (got -1)']);
  });
});

describe('one line per problem: FILE: field.path: problem (got VALUE)', () => {
  it('the base used below is valid', () => {
    expect(() => validateScenario(BASE, 's.yaml')).not.toThrow();
  });

  it('unknown key: names the path and lists the allowed keys', () => {
    expect(problems({ bogus: 1 })).toEqual([
      's.yaml: bogus: unknown field; allowed here: name, description, seed, duration, start, city, stations, station, site, fleet, demand, policy, tariff, grid, ledger, output, mobile, roaming',
    ]);
    expect(problems({ fleet: { sise: 500 } })).toEqual([
      's.yaml: fleet.sise: unknown field; allowed here: size, models, initialSoc, chargeThreshold, targetSoc, reserveSoc, maxWait, decisionTime, deadlineSlack, priceResponse',
    ]);
  });

  it('unknown key inside a discriminated union lists the keys of the chosen variant', () => {
    expect(problems({ city: { type: 'grid', rowz: 5 } })).toEqual([
      's.yaml: city.rowz: unknown field; allowed here: type, rows, cols, spacingM, speedKph, arterialEvery, arterialSpeedKph, places',
    ]);
  });

  it('unknown key inside a list item', () => {
    expect(problems({ stations: { list: [{ lat: 43.7, lon: 7.4, colour: 'red' }] } })).toEqual([
      's.yaml: stations.list[0].colour: unknown field; allowed here: name, lat, lon, chargers, powerKW, kind',
    ]);
  });

  it('wrong type', () => {
    expect(problems({ fleet: { size: 'abc' } })).toEqual(['s.yaml: fleet.size: expected number (got "abc")']);
    expect(problems({ name: 5 })).toEqual(['s.yaml: name: expected string (got 5)']);
    expect(problems({ fleet: 5 })).toEqual(['s.yaml: fleet: expected object (got 5)']);
    expect(problems({ output: { eventsLog: 'yes' } })).toEqual(['s.yaml: output.eventsLog: expected boolean (got "yes")']);
  });

  it('not an integer', () => {
    expect(problems({ fleet: { size: 1.5 } })).toEqual(['s.yaml: fleet.size: expected an integer (got 1.5)']);
  });

  it('not a finite number (YAML .nan / .inf) shows the value, not null', () => {
    expect(problems({ fleet: { size: NaN } })).toEqual(['s.yaml: fleet.size: must be a finite number (got NaN)']);
    expect(problems({ fleet: { chargeThreshold: Infinity } })).toEqual([
      's.yaml: fleet.chargeThreshold: must be a finite number (got Infinity)',
    ]);
  });

  it('out of range: below the minimum', () => {
    expect(problems({ fleet: { size: 0 } })).toEqual(['s.yaml: fleet.size: must be >= 1 (got 0)']);
    expect(problems({ seed: -1 })).toEqual(['s.yaml: seed: must be >= 0 (got -1)']);
    expect(problems({ site: { capKW: 0 } })).toEqual(['s.yaml: site.capKW: must be > 0 (got 0)']);
  });

  it('out of range: above the maximum', () => {
    expect(problems({ fleet: { chargeThreshold: 1.5 } })).toEqual(['s.yaml: fleet.chargeThreshold: must be <= 1 (got 1.5)']);
    expect(problems({ seed: 2 ** 32 })).toEqual(['s.yaml: seed: must be <= 4294967295 (got 4294967296)']);
    expect(problems({ stations: { list: [{ lat: 91, lon: 0 }] } })).toEqual([
      's.yaml: stations.list[0].lat: must be <= 90 (got 91)',
    ]);
  });

  it('bad enum lists the allowed values', () => {
    expect(problems({ policy: { stationChoice: 'closest' } })).toEqual([
      's.yaml: policy.stationChoice: allowed: nearest | min-total-time | min-total-time-reserved | random | learned (got "closest")',
    ]);
    expect(problems({ policy: { allocation: 'lottery' } })).toEqual([
      `s.yaml: policy.allocation: allowed: ${[...ALLOCATION_POLICY_NAMES, 'learned'].join(' | ')} (got "lottery")`,
    ]);
  });

  it('bad discriminator lists the allowed types', () => {
    expect(problems({ city: { type: 'moon' } })).toEqual(['s.yaml: city.type: allowed: osm | grid | radial | none (got "moon")']);
    expect(problems({ city: { rows: 5 } })).toEqual(['s.yaml: city.type: allowed: osm | grid | radial | none (got nothing)']);
    expect(problems({ tariff: { type: 'free' } })).toEqual(['s.yaml: tariff.type: allowed: flat | tou | forecast (got "free")']);
  });

  it('missing required field', () => {
    expect(
      problems({ city: { type: 'none' }, station: { chargers: 4 }, demand: { type: 'poisson', meanEnergyKWh: 20 } }),
    ).toEqual(['s.yaml: demand.arrivalsPerHour: is required (number) (got nothing)']);
    expect(problems({ tariff: { type: 'tou' } })).toEqual(['s.yaml: tariff.file: is required (string) (got nothing)']);
  });

  it('bad format', () => {
    expect(problems({ start: 'yesterday' })).toEqual([
      's.yaml: start: must be an ISO 8601 date-time such as 2026-03-09T00:00:00Z (got "yesterday")',
    ]);
    expect(problems({ name: 'my scenario' })).toEqual(['s.yaml: name: must match /^[A-Za-z0-9._-]+$/ (got "my scenario")']);
  });

  describe('cross-field rules', () => {
    it('initialSoc.min > max', () => {
      expect(problems({ fleet: { initialSoc: { min: 0.9, max: 0.2 } } })).toEqual([
        's.yaml: fleet.initialSoc.min: must be <= fleet.initialSoc.max (got 0.9 > 0.2)',
      ]);
    });

    it('chargeThreshold >= targetSoc', () => {
      expect(problems({ fleet: { chargeThreshold: 0.8, targetSoc: 0.8 } })).toEqual([
        's.yaml: fleet.chargeThreshold: must be < fleet.targetSoc (got 0.8 >= 0.8)',
      ]);
      // against the default targetSoc (0.8)
      expect(problems({ fleet: { chargeThreshold: 0.9 } })).toEqual([
        's.yaml: fleet.chargeThreshold: must be < fleet.targetSoc (got 0.9 >= 0.8)',
      ]);
    });

    it('trips demand with city none', () => {
      expect(problems({ city: { type: 'none' }, demand: { type: 'trips' } })).toEqual([
        's.yaml: city.type: demand.type "trips" needs a road network; allowed: osm | grid | radial (got "none")',
      ]);
      // an empty file: trip demand by default, no city by default
      expect(userErrorLines(() => validateScenario({}, 'empty.yaml'))).toEqual([
        'empty.yaml: city.type: demand.type "trips" needs a road network; allowed: osm | grid | radial (got "none")',
      ]);
    });

    it('station demand with a road network', () => {
      expect(problems({ demand: { type: 'poisson', arrivalsPerHour: 3, meanEnergyKWh: 10 }, station: { chargers: 2 } })).toEqual([
        's.yaml: city.type: demand.type "poisson" models EVs arriving directly at one station; allowed: none (got "grid")',
      ]);
    });

    it('poisson demand needs station.chargers', () => {
      expect(problems({ city: { type: 'none' }, demand: { type: 'poisson', arrivalsPerHour: 3, meanEnergyKWh: 10 } })).toEqual([
        's.yaml: station.chargers: is required for demand.type "poisson" (an integer >= 1)',
      ]);
    });

    it('several cross-field problems → one line each', () => {
      const lines = problems({ city: { type: 'none' }, fleet: { initialSoc: { min: 0.9, max: 0.2 }, chargeThreshold: 0.9 } });
      expect(lines).toHaveLength(3);
    });
  });

  it('several problems at once → one line each', () => {
    const lines = problems({
      bogus: 1,
      fleet: { size: 0, targetSoc: 2 },
      policy: { stationChoice: 'closest' },
      city: { type: 'grid', rows: 1 },
    });
    expect([...lines].sort()).toEqual(
      [
        's.yaml: bogus: unknown field; allowed here: name, description, seed, duration, start, city, stations, station, site, fleet, demand, policy, tariff, grid, ledger, output, mobile, roaming',
        's.yaml: fleet.size: must be >= 1 (got 0)',
        's.yaml: fleet.targetSoc: must be <= 1 (got 2)',
        's.yaml: policy.stationChoice: allowed: nearest | min-total-time | min-total-time-reserved | random | learned (got "closest")',
        's.yaml: city.rows: must be >= 2 (got 1)',
      ].sort(),
    );
  });
});

describe('reading files', () => {
  it('YAML syntax error → one line naming the file and the position', () => {
    const f = writeTmp('syntax.yaml', 'fleet: [1, 2\nseed: 3\n');
    const lines = userErrorLines(() => loadScenario(f));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${escapeRe(f)}: not valid YAML: .*line 2, column 1$`));
  });

  it('duplicate YAML key → one line', () => {
    const f = writeTmp('dup.yaml', 'seed: 1\nseed: 2\n');
    const lines = userErrorLines(() => loadScenario(f));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${escapeRe(f)}: not valid YAML: Map keys must be unique`));
  });

  it('JSON syntax error → one line', () => {
    const f = writeTmp('bad.json', '{"seed": 1,}');
    const lines = userErrorLines(() => loadScenario(f));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${escapeRe(f)}: not valid JSON: `));
  });

  it('JSON scenarios are accepted', () => {
    const f = writeTmp('ok.json', JSON.stringify({ ...BASE, seed: 9 }));
    const sc = loadScenario(f);
    expect(sc.seed).toBe(9);
    expect(sc.name).toBe('ok');
  });

  it('missing file → one line', () => {
    const f = join(tmp, 'no-such-scenario.yaml');
    expect(userErrorLines(() => loadScenario(f))).toEqual([`${f}: cannot read scenario file (no such file)`]);
  });

  it('a file that is not a mapping → one line', () => {
    const f = writeTmp('list.yaml', '- 1\n- 2\n');
    expect(userErrorLines(() => loadScenario(f))).toEqual([`${f}: (top level): expected a mapping of fields (got [1,2])`]);
  });

  it('problems in a file name the file', () => {
    const f = writeTmp('two.yaml', 'city: { type: grid }\nfleet:\n  size: 0\npolicy:\n  allocation: nope\n');
    expect(userErrorLines(() => loadScenario(f))).toEqual([
      `${f}: fleet.size: must be >= 1 (got 0)`,
      `${f}: policy.allocation: allowed: ${[...ALLOCATION_POLICY_NAMES, 'learned'].join(' | ')} (got "nope")`,
    ]);
  });
});

describe('--set overrides', () => {
  const load = (...overrides: string[]) => loadScenario(MONACO, { overrides });

  it('fleet.size=500', () => {
    expect(load('fleet.size=500').fleet.size).toBe(500);
  });

  it('seed=7', () => {
    expect(load('seed=7').seed).toBe(7);
  });

  it('duration=36h', () => {
    expect(load('duration=36h').duration).toBe(36 * 3600);
  });

  it('policy.allocation=edf', () => {
    expect(load('policy.allocation=edf').policy.allocation).toBe('edf');
  });

  it('list index paths: stations.list[0].lat=...', () => {
    const sc = load('stations.list[0].lat=43.74', 'stations.list[0].lon=7.42', 'stations.list[0].powerKW=150');
    expect(sc.stations.list).toEqual([{ lat: 43.74, lon: 7.42, chargers: 2, powerKW: 150, kind: 'AC' }]);
  });

  it('later overrides win, other fields are kept', () => {
    const sc = load('fleet.size=5', 'fleet.size=6');
    expect(sc.fleet.size).toBe(6);
    expect(sc.fleet.initialSoc).toEqual({ min: 0.25, max: 0.95 }); // from monaco.yaml
    expect(sc.fleet.maxWait).toBe(1800);
  });

  it('--seed option wins over the file', () => {
    expect(loadScenario(MONACO, { seed: 42 }).seed).toBe(42);
  });

  it('values are read as YAML', () => {
    expect(parseOverride('fleet.size=500')).toEqual(['fleet.size', 500]);
    expect(parseOverride('output.eventsLog=true')).toEqual(['output.eventsLog', true]);
    expect(parseOverride('name=my-run')).toEqual(['name', 'my-run']);
    expect(parseOverride('start=2026-01-01T00:00:00Z')).toEqual(['start', '2026-01-01T00:00:00Z']);
    expect(parseOverride('fleet.initialSoc={min: 0.1, max: 0.5}')).toEqual(['fleet.initialSoc', { min: 0.1, max: 0.5 }]);
    expect(parseOverride('site.capKW=')).toEqual(['site.capKW', null]);
    expect(parseOverride('name=[1,2')).toEqual(['name', '[1,2']); // not YAML: taken as text
  });

  it('setPath creates objects and lists on the way (a new list entry only at the end)', () => {
    const o: Record<string, unknown> = {};
    setPath(o, 'a.b[0].c', 3);
    setPath(o, 'a.b[1].c', 4);
    expect(o).toEqual({ a: { b: [{ c: 3 }, { c: 4 }] } });
    expect(userErrorLines(() => setPath(o, 'a.b[3].c', 5))).toEqual(['--set a.b[3].c: index 3 is beyond the list a.b (length 2); use 0..1 to change an entry or 2 to append one']);
  });

  it('invalid override value: same line format, marked (with --set), exit code 2', () => {
    expect(userErrorLines(() => load('fleet.size=abc'))).toEqual([`${MONACO} (with --set): fleet.size: expected number (got "abc")`]);
    expect(userErrorLines(() => load('policy.allocation=lottery'))).toEqual([
      `${MONACO} (with --set): policy.allocation: allowed: ${[...ALLOCATION_POLICY_NAMES, 'learned'].join(' | ')} (got "lottery")`,
    ]);
    expect(userErrorLines(() => load('fleet.sise=5'))).toEqual([
      `${MONACO} (with --set): fleet.sise: unknown field; allowed here: size, models, initialSoc, chargeThreshold, targetSoc, reserveSoc, maxWait, decisionTime, deadlineSlack, priceResponse`,
    ]);
    expect(userErrorLines(() => load('duration=3 weeks'))).toEqual([
      `${MONACO} (with --set): duration: expected seconds or a duration such as 90s, 30m, 36h, 30d (got "3 weeks")`,
    ]);
  });

  it('malformed override → one line', () => {
    expect(userErrorLines(() => load('fleet.size'))).toEqual(['--set fleet.size: expected path=value, e.g. --set fleet.size=500']);
    expect(userErrorLines(() => load('=5'))).toEqual(['--set =5: expected path=value, e.g. --set fleet.size=500']);
    expect(userErrorLines(() => load('fleet..size=5'))).toEqual(['--set fleet..size: not a field path (use dots, e.g. fleet.size=500)']);
  });

  it('cannot reach the object prototype', () => {
    expect(userErrorLines(() => load('__proto__.polluted=1'))).toEqual([
      '--set __proto__.polluted: not a field path (use dots, e.g. fleet.size=500)',
    ]);
    expect(userErrorLines(() => load('constructor.prototype.polluted=1'))).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('overrides do not change the file contents read next time', () => {
    load('fleet.size=5');
    expect(loadScenario(MONACO).fleet.size).toBe(1000);
  });
});

describe('defaults', () => {
  it('are applied', () => {
    const f = writeTmp('minimal.yaml', 'city:\n  type: grid\n');
    const sc = loadScenario(f);
    expect(sc.name).toBe('minimal');
    expect(sc.seed).toBe(1);
    expect(sc.duration).toBe(86400);
    expect(sc.start).toBe('2026-03-09T00:00:00Z');
    expect(sc.city).toEqual({
      type: 'grid',
      rows: 100,
      cols: 100,
      spacingM: 200,
      speedKph: 40,
      arterialEvery: 10,
      arterialSpeedKph: 70,
      places: 200,
    });
    expect(sc.stations).toEqual({ fromMap: true, mapDefaults: { chargers: 2, acPowerKW: 22, dcPowerKW: 50 }, list: [] });
    expect(sc.fleet).toMatchObject({
      size: 1000,
      initialSoc: { min: 0.2, max: 0.9 },
      chargeThreshold: 0.3,
      targetSoc: 0.8,
      reserveSoc: 0.05,
      maxWait: 1800,
      decisionTime: 0,
      deadlineSlack: 0.5,
    });
    expect(sc.demand).toMatchObject({ type: 'trips', workerShare: 0.75, workDepartMean: 8 * 3600 });
    expect(sc.policy).toEqual({ stationChoice: 'min-total-time', allocation: 'fcfs', candidates: 10, incrementKW: 1, models: {}, tfBackend: 'auto', information: 'live', statusInterval: 300, waitForReservation: false, reservationTimeout: 600 });
    expect(sc.site).toEqual({ capKW: null, periodMinutes: 1, network: null });
    expect(sc.tariff).toEqual({ type: 'flat', pricePerKWh: 0.3 });
    expect(sc.ledger).toMatchObject({ stacks: ['none'], coupling: { waitForStart: false, waitForPayment: false } });
    expect(sc.stacks.map((x) => x.name)).toEqual(['none']);
    expect(sc.output).toEqual({ eventsLog: false, stationsCsv: true, ledgerCsv: true, parquet: false });
    expect(sc.baseDir).toBe(tmp);
  });

  it('list items and generated stations get their defaults', () => {
    const sc = validateScenario(
      { city: { type: 'grid' }, stations: { list: [{ lat: 1, lon: 2 }], generate: { count: 3 } } },
      's.yaml',
    );
    expect(sc.stations.list).toEqual([{ lat: 1, lon: 2, chargers: 2, powerKW: 22, kind: 'AC' }]);
    expect(sc.stations.generate).toEqual({ count: 3, rule: 'farthest-point', chargers: 4, powerKW: 50, kind: 'DC' });
  });

  it('the default EV model table is found wherever the scenario file lives', () => {
    const sc = loadScenario(writeTmp('elsewhere.yaml', 'city: { type: grid }\n'));
    const models = resolveScenarioPath(sc, sc.fleet.models);
    expect(isAbsolute(sc.fleet.models)).toBe(true);
    expect(existsSync(models)).toBe(true);
    expect(models).toBe(join(ROOT, 'data', 'ev-specs', 'fleet-nl-popular.json'));
    // a table named in the file stays relative to the file
    const own = loadScenario(writeTmp('own.yaml', 'city: { type: grid }\nfleet: { models: my-fleet.json }\n'));
    expect(resolveScenarioPath(own, own.fleet.models)).toBe(join(tmp, 'my-fleet.json'));
  });

  it('poisson demand defaults', () => {
    const sc = validateScenario(
      { city: { type: 'none' }, station: { chargers: 3 }, demand: { type: 'poisson', arrivalsPerHour: 4, meanEnergyKWh: 12 } },
      's.yaml',
    );
    expect(sc.demand).toEqual({ type: 'poisson', arrivalsPerHour: 4, meanEnergyKWh: 12, energyDistribution: 'exponential' });
    expect(sc.station).toEqual({ chargers: 3, powerKW: 22, kind: 'AC' });
  });
});

describe('JSON Schema for editors', () => {
  it('scenarios/scenario.schema.json is up to date', () => {
    const want = JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
    const have = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, 'utf8') : '(missing)';
    expect(
      have === want,
      'scenarios/scenario.schema.json is out of date with src/scenario/scenario.ts; regenerate it with `npm run schema`',
    ).toBe(true);
  });

  it('describes the top-level fields, forbids unknown ones and lists enum values', () => {
    const s = scenarioJsonSchema() as {
      $schema: string;
      properties: Record<string, any>;
      additionalProperties: boolean;
    };
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(s.properties)).toEqual([
      'name', 'description', 'seed', 'duration', 'start', 'city', 'stations', 'station', 'site', 'fleet', 'demand',
      'policy', 'tariff', 'grid', 'ledger', 'output', 'mobile', 'roaming',
    ]);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.policy.properties.stationChoice.enum).toEqual(['nearest', 'min-total-time', 'min-total-time-reserved', 'random', 'learned']);
    expect(s.properties.seed).toMatchObject({ type: 'integer', minimum: 0, default: 1 });
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
