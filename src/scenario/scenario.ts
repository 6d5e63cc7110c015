/**
 * Scenario files: one zod definition gives the TypeScript types, the validator (with defaults) and
 * the JSON Schema for editors (`evsim schema`). YAML (the `yaml` package) and JSON are accepted.
 *
 * Every user error becomes one line: `FILE: field.path: what is wrong (got VALUE); allowed: ...`.
 * Relative file paths inside a scenario are resolved against the scenario file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { ALLOCATION_NAMES } from '../charging/allocation.js';
import { NetworkConfigSchema } from '../ledger/network.js';
import { BACKEND_LIST, BACKEND_NAMES, BACKENDS, type BackendName } from '../ledger/registry.js';
import { SHIPPED_STACK_NAMES, shippedStack, type StackDef } from '../ledger/stacks.js';
import { CodecConfigSchema } from '../ledger/tx.js';
import { LoadParamsShape } from '../ledger/load.js';

// ---- durations ----------------------------------------------------------------------------------

const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/;
const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** Parse seconds (a number) or a string like "90", "90s", "30m", "36h", "30d"; NaN if invalid. */
export function parseDuration(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = DURATION_RE.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * UNIT_S[m[2] ?? 's']!;
}

const DURATION_HELP = 'seconds or a duration such as 90s, 30m, 36h, 30d';
function duration(opts: { min?: number; positive?: boolean } = {}) {
  return z
    .union([z.number(), z.string()], { error: `expected ${DURATION_HELP}` })
    .transform((v, ctx) => {
      const s = parseDuration(v);
      if (!Number.isFinite(s)) {
        ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HELP}` });
        return z.NEVER;
      }
      if (opts.positive && !(s > 0)) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration > 0' });
        return z.NEVER;
      }
      if (s < (opts.min ?? 0)) {
        ctx.addIssue({ code: 'custom', message: `must be a duration >= ${opts.min ?? 0} s` });
        return z.NEVER;
      }
      return s;
    });
}

const frac = () => z.number().min(0).max(1);
const posInt = () => z.number().int().min(1);
const nonNegInt = () => z.number().int().min(0);
const positive = () => z.number().positive();

// ---- definition ---------------------------------------------------------------------------------

const ChargerKind = z.enum(['AC', 'DC']);

const StationSpec = z.strictObject({
  name: z.string().optional(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  chargers: posInt().default(2),
  powerKW: positive().default(22),
  kind: ChargerKind.default('AC'),
});

const GenerateSpec = z.strictObject({
  count: posInt(),
  /** placement rule: see README "Generated stations". */
  rule: z.enum(['farthest-point', 'uniform']).default('farthest-point'),
  chargers: posInt().default(4),
  powerKW: positive().default(50),
  kind: ChargerKind.default('DC'),
});

const StationsSection = z
  .strictObject({
    /** take amenity=charging_station from the map (osm cities only) */
    fromMap: z.boolean().default(true),
    /** what to assume for map stations whose tags say nothing (see README) */
    mapDefaults: z
      .strictObject({
        chargers: posInt().default(2),
        acPowerKW: positive().default(22),
        dcPowerKW: positive().default(50),
      })
      .prefault({}),
    list: z.array(StationSpec).default([]),
    generate: GenerateSpec.optional(),
  })
  .prefault({});

const CityOsm = z.strictObject({
  type: z.literal('osm'),
  file: z.string().min(1),
  /** keep only map data inside [minLon, minLat, maxLon, maxLat] (degrees) */
  bbox: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90), z.number().min(-180).max(180), z.number().min(-90).max(90)]).optional(),
  /** number of activity places (work and other destinations), drawn among road nodes */
  places: posInt().max(5000).default(200),
});
const CityGrid = z.strictObject({
  type: z.literal('grid'),
  rows: z.number().int().min(2).max(2000).default(100),
  cols: z.number().int().min(2).max(2000).default(100),
  spacingM: positive().default(200),
  speedKph: positive().default(40),
  arterialEvery: nonNegInt().default(10),
  arterialSpeedKph: positive().default(70),
  places: posInt().max(5000).default(200),
});
const CityRadial = z.strictObject({
  type: z.literal('radial'),
  rings: posInt().max(1000).default(20),
  spokes: z.number().int().min(3).max(1000).default(24),
  ringSpacingM: positive().default(400),
  speedKph: positive().default(40),
  places: posInt().max(5000).default(200),
});
const CityNone = z.strictObject({ type: z.literal('none') });
const City = z.discriminatedUnion('type', [CityOsm, CityGrid, CityRadial, CityNone]);

const Fleet = z
  .strictObject({
    size: posInt().max(10_000_000).default(1000),
    /** EV model table (JSON), relative to the scenario file; default: evsim's data/ev-specs/fleet-nl-popular.json */
    models: z.string().default('../data/ev-specs/fleet-nl-popular.json'),
    initialSoc: z.strictObject({ min: frac().default(0.2), max: frac().default(0.9) }).prefault({}),
    chargeThreshold: frac().default(0.3),
    targetSoc: frac().default(0.8),
    reserveSoc: frac().default(0.05),
    /** give up waiting after this long (0 = never give up) */
    maxWait: duration().default(1800),
    /** time spent in the `calculating` state before choosing a station */
    decisionTime: duration().default(0),
    /** planned departure = plug-in estimate + expected charging time x (1 + slack) */
    deadlineSlack: z.number().min(0).default(0.5),
  })
  .prefault({});

const DemandTrips = z.strictObject({
  type: z.literal('trips'),
  workerShare: frac().default(0.75),
  workDepartMean: duration().default(8 * 3600),
  workDepartSd: duration().default(3600),
  workDwellMean: duration().default(8.5 * 3600),
  workDwellSd: duration().default(3600),
  otherTripProb: frac().default(0.4),
  otherDepartMean: duration().default(11 * 3600),
  otherDepartSd: duration().default(2.5 * 3600),
  otherDwellMean: duration().default(3600),
  otherDwellSd: duration().default(1800),
});
const DemandPoisson = z.strictObject({
  type: z.literal('poisson'),
  arrivalsPerHour: positive(),
  meanEnergyKWh: positive(),
  energyDistribution: z.enum(['exponential', 'fixed']).default('exponential'),
});
const DemandReplay = z.strictObject({
  type: z.literal('replay'),
  /** CSV of recorded sessions, relative to the scenario file */
  file: z.string().min(1),
  arrivalColumn: z.string().default('arrival_utc'),
  departureColumn: z.string().default('departure_utc'),
  energyColumn: z.string().default('energy_delivered_kwh'),
  chargerColumn: z.string().default('station_id'),
  idColumn: z.string().default('session_id'),
  /** max power per EV (kW), ideal battery without taper */
  maxKW: positive().default(6.6),
});
/** ledger-only load (no city): transactions at a chosen arrival process, see src/ledger/load.ts */
const DemandLoad = z.strictObject({ type: z.literal('load'), ...LoadParamsShape }).refine((d) => Object.values(d.kinds).some((w) => (w ?? 0) > 0), {
  message: 'at least one kind must have a weight > 0',
  path: ['kinds'],
});
const Demand = z.discriminatedUnion('type', [DemandTrips, DemandPoisson, DemandReplay, DemandLoad]);

const SingleStation = z
  .strictObject({
    chargers: posInt().max(100_000).optional(),
    powerKW: positive().default(22),
    kind: ChargerKind.default('AC'),
  })
  .prefault({});

const Site = z
  .strictObject({
    /** aggregate power cap per station site in kW; null = none */
    capKW: positive().nullable().default(null),
    /** re-allocation period in minutes (also on every arrival and departure) */
    periodMinutes: z.number().int().min(1).max(1440).default(1),
  })
  .prefault({});

const Policy = z
  .strictObject({
    stationChoice: z.enum(['nearest', 'min-total-time', 'random']).default('min-total-time'),
    allocation: z.enum(ALLOCATION_NAMES as unknown as [string, ...string[]]).default('fcfs'),
    candidates: posInt().max(1000).default(10),
    /** round-robin increment (kW) */
    incrementKW: positive().default(1),
  })
  .prefault({});

const Tariff = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('flat'), pricePerKWh: z.number().min(0).default(0.3) }),
    z.strictObject({
      type: z.literal('tou'),
      file: z.string().min(1),
      utcOffsetHours: z.number().min(-14).max(14).default(0),
      /** daylight-saving rule on top of the offset: none, or US (2nd Sunday of March – 1st Sunday of November) */
      dst: z.enum(['none', 'us']).default('none'),
    }),
  ])
  .prefault({ type: 'flat' });

const BackendRefSchema = z.strictObject({
  backend: z.enum(BACKEND_NAMES),
  /** overrides on top of ledger.backends.<backend>, validated by the backend's schema */
  params: z.record(z.string(), z.unknown()).optional(),
});
const StackInline = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/),
  records: BackendRefSchema,
  payments: BackendRefSchema,
  /** overrides on top of ledger.network for this stack (validated as a network section) */
  network: z.record(z.string(), z.unknown()).optional(),
});

const Ledger = z
  .strictObject({
    /** stacks to run, one city day each: "all" (every shipped stack), or a list of shipped stack
     * names and inline {name, records, payments} definitions */
    stacks: z.union([z.literal('all'), z.array(z.union([z.enum(SHIPPED_STACK_NAMES), StackInline])).min(1)]).default(['none']),
    /** charging starts only once the session-start record is final; the EV leaves only once its
     * payment is final (both off = optimistic) */
    coupling: z
      .strictObject({
        waitForStart: z.boolean().default(false),
        waitForPayment: z.boolean().default(false),
        /** a plugged EV whose session-start record is not final after this long gives up (0 = waits forever) */
        startTimeout: duration().default(1800),
        /** an EV waiting for its payment to be final leaves after this long anyway (0 = waits forever) */
        paymentTimeout: duration().default(1800),
      })
      .prefault({}),
    network: NetworkConfigSchema.prefault({}),
    codec: CodecConfigSchema.prefault({}),
    /** default parameters of each registered backend (derived from src/ledger/registry.ts; `none` has none) */
    backends: z
      .strictObject(Object.fromEntries(BACKEND_LIST.filter((b) => b.name !== 'none').map((b) => [b.name, b.params.prefault({})])))
      .prefault({}),
  })
  .prefault({});

const Output = z
  .strictObject({
    /** write events.csv with every state transition */
    eventsLog: z.boolean().default(false),
    stationsCsv: z.boolean().default(true),
    /** write ledger.csv (one row per transaction) */
    ledgerCsv: z.boolean().default(true),
  })
  .prefault({});

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  description: z.string().optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  duration: duration({ positive: true }).default(86400),
  /** wall-clock date of t = 0 (UTC, ISO 8601), for tariffs and replayed data */
  start: z.iso.datetime({ offset: true }).default('2026-03-09T00:00:00Z'),
  city: City.prefault({ type: 'none' }),
  stations: StationsSection,
  station: SingleStation,
  site: Site,
  fleet: Fleet,
  demand: Demand.prefault({ type: 'trips' }),
  policy: Policy,
  tariff: Tariff,
  ledger: Ledger,
  output: Output,
});

/** A stack with its backends' parameters merged and validated. */
export interface ResolvedBackend {
  backend: BackendName;
  params: Record<string, unknown>;
}
export interface ResolvedStack {
  name: string;
  records: ResolvedBackend;
  payments: ResolvedBackend;
  /** records and payments share one backend instance */
  shared: boolean;
  /** the network model of this stack (ledger.network with the stack's overrides) */
  network: z.output<typeof NetworkConfigSchema>;
}

export type Scenario = z.output<typeof ScenarioSchema> & { name: string; baseDir: string; file: string; stacks: ResolvedStack[] };
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** JSON Schema (draft 2020-12) of the scenario file, generated from the same definition. */
export function scenarioJsonSchema(): object {
  return z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' });
}

// ---- loading, overrides, errors -----------------------------------------------------------------

export { UserError };

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function fmtPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(top level)';
}

function fmtValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // JSON would say null
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  // Walk the definition along `path` to list the allowed keys at that level.
  let cur: any = schema;
  for (let i = 0; i <= path.length; i++) {
    for (;;) {
      const def = cur?._zod?.def;
      if (!def) return [];
      if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable')
        cur = def.innerType;
      else if (def.type === 'pipe') cur = def.in;
      else if (def.type === 'union') {
        const disc = getPath(raw, [...path.slice(0, i), 'type']);
        const match = def.options.find((o: any) => o._zod?.def?.shape?.type?._zod?.def?.values?.includes(disc));
        if (!match) return [];
        cur = match;
      } else break;
    }
    if (i === path.length) break;
    const def = cur._zod.def;
    if (def.type === 'object') cur = def.shape[path[i] as string];
    else if (def.type === 'array') cur = def.element;
    else return [];
  }
  const def = cur?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/** Turn zod issues into one line each: `where: path: problem (got value)`. */
function issueLines(where: string, raw: unknown, issues: z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const is of issues) {
    const path = is.path;
    if (is.code === 'unrecognized_keys') {
      const allowed = allowedKeys(ScenarioSchema, path, raw);
      for (const key of is.keys) {
        lines.push(
          `${where}: ${fmtPath([...path, key])}: unknown field; allowed here: ${allowed.join(', ') || '(none)'}`,
        );
      }
      continue;
    }
    const value = getPath(raw, path);
    let what: string;
    switch (is.code) {
      case 'invalid_type':
        what = value === undefined ? `is required (${is.expected})` : `expected ${is.expected === 'int' ? 'an integer' : is.expected}`;
        break;
      case 'too_small':
        what = `must be ${is.inclusive ? '>=' : '>'} ${String(is.minimum)}${is.origin === 'array' ? ' items' : ''}`;
        if (is.origin === 'string') what = `must have at least ${String(is.minimum)} characters`;
        break;
      case 'too_big':
        what = `must be ${is.inclusive ? '<=' : '<'} ${String(is.maximum)}`;
        break;
      case 'invalid_value':
        what = `allowed: ${is.values.map((v) => String(v)).join(' | ')}`;
        break;
      case 'invalid_union': {
        const opts = (is as { options?: unknown[] }).options;
        if (opts) what = `allowed: ${opts.map(String).join(' | ')}`;
        else if (path[0] === 'ledger' && path[1] === 'stacks')
          what =
            path.length === 2
              ? `must be "all" or a list of stacks`
              : `must be a shipped stack (${SHIPPED_STACK_NAMES.join(', ')}) or {name, records: {backend, params}, payments: {backend, params}, network}`;
        else what = is.message;
        break;
      }
      case 'invalid_format':
        what = is.format === 'regex' ? `must match ${String((is as { pattern?: unknown }).pattern)}` : `must be ${is.format === 'datetime' ? 'an ISO 8601 date-time such as 2026-03-09T00:00:00Z' : `a valid ${is.format}`}`;
        break;
      case 'not_multiple_of':
        what = `must be a multiple of ${String(is.divisor)}`;
        break;
      default:
        what = is.message;
    }
    if (is.code === 'invalid_type' && is.expected === 'number' && typeof value === 'number') what = 'must be a finite number';
    lines.push(`${where}: ${fmtPath(path)}: ${what} (got ${fmtValue(value)})`);
  }
  return lines;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Set `value` at a dotted path (`fleet.size`, `stations.list[0].lat`), creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m || FORBIDDEN_KEYS.has(m[1]!)) throw new UserError([`--set ${path}: not a field path (use dots, e.g. fleet.size=500)`]);
    keys.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  let cur: any = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof keys[i + 1] === 'number' ? [] : {};
    cur = cur[k];
  }
  cur[keys[keys.length - 1]!] = value;
}

/** Parse one `path=value` override; the value is read as a YAML scalar/flow value. */
export function parseOverride(spec: string): [string, unknown] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UserError([`--set ${spec}: expected path=value, e.g. --set fleet.size=500`]);
  const path = spec.slice(0, eq).trim();
  const text = spec.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    value = text;
  }
  return [path, value ?? null];
}

export interface LoadOptions {
  overrides?: string[];
  seed?: number;
}

/** Read a YAML/JSON scenario file, apply overrides and validate; throws UserError on any problem. */
export function loadScenario(file: string, opts: LoadOptions = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError([`${file}: cannot read scenario file (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`]);
  }
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0]!.replace(/:\s*$/, '') : (e as Error).message;
    throw new UserError([`${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${msg}`]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError([`${file}: (top level): expected a mapping of fields (got ${fmtValue(raw)})`]);
  }
  return validateScenario(raw as Record<string, unknown>, file, opts);
}

/** Absolute path of evsim's default EV model table (found from this file, in sim/ or dist/sim/). */
function defaultFleetModels(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const f = join(dir, 'data', 'ev-specs', 'fleet-nl-popular.json');
    if (existsSync(f)) return f;
    dir = dirname(dir);
  }
  return resolve('data/ev-specs/fleet-nl-popular.json');
}

export function validateScenario(raw: Record<string, unknown>, file: string, opts: LoadOptions = {}): Scenario {
  const obj = structuredClone(raw);
  const sets = opts.overrides ?? [];
  for (const s of sets) {
    const [path, value] = parseOverride(s);
    setPath(obj, path, value);
  }
  if (opts.seed !== undefined) obj.seed = opts.seed;
  const where = sets.length ? `${file} (with --set)` : file;
  const r = ScenarioSchema.safeParse(obj);
  if (!r.success) throw new UserError(issueLines(where, obj, r.error.issues));
  const sc = r.data;
  const extra: string[] = [];
  if (sc.fleet.initialSoc.min > sc.fleet.initialSoc.max)
    extra.push(`${where}: fleet.initialSoc.min: must be <= fleet.initialSoc.max (got ${sc.fleet.initialSoc.min} > ${sc.fleet.initialSoc.max})`);
  if (sc.fleet.chargeThreshold >= sc.fleet.targetSoc)
    extra.push(`${where}: fleet.chargeThreshold: must be < fleet.targetSoc (got ${sc.fleet.chargeThreshold} >= ${sc.fleet.targetSoc})`);
  const cityType = sc.city.type;
  if (sc.demand.type === 'trips' && cityType === 'none')
    extra.push(`${where}: city.type: demand.type "trips" needs a road network; allowed: osm | grid | radial (got "none")`);
  if (sc.demand.type !== 'trips' && cityType !== 'none')
    extra.push(`${where}: city.type: demand.type "${sc.demand.type}" models EVs arriving directly at one station; allowed: none (got ${fmtValue(cityType)})`);
  if (sc.city.type === 'osm' && sc.city.bbox && (sc.city.bbox[0] >= sc.city.bbox[2] || sc.city.bbox[1] >= sc.city.bbox[3]))
    extra.push(`${where}: city.bbox: must be [minLon, minLat, maxLon, maxLat] with min < max (got ${fmtValue(sc.city.bbox)})`);
  if (sc.demand.type === 'poisson' && sc.station.chargers === undefined)
    extra.push(`${where}: station.chargers: is required for demand.type "poisson" (an integer >= 1)`);
  const stacks = resolveStacks(sc, obj, where, extra);
  if (extra.length) throw new UserError(extra);
  const baseDir = dirname(resolve(file));
  // The default model table is evsim's own, wherever the scenario file lives.
  if (getPath(obj, ['fleet', 'models']) === undefined) sc.fleet.models = defaultFleetModels();
  const name = sc.name ?? basename(file).replace(/\.(ya?ml|json)$/i, '');
  return { ...sc, name, baseDir, file, stacks };
}

function resolveStacks(sc: z.output<typeof ScenarioSchema>, raw: unknown, where: string, errors: string[]): ResolvedStack[] {
  const list = sc.ledger.stacks === 'all' ? [...SHIPPED_STACK_NAMES] : sc.ledger.stacks;
  const out: ResolvedStack[] = [];
  const names = new Set<string>();
  list.forEach((entry, i) => {
    const def: StackDef = typeof entry === 'string' ? shippedStack(entry)! : (entry as StackDef);
    if (names.has(def.name)) errors.push(`${where}: ledger.stacks[${i}]: stack name "${def.name}" appears twice`);
    names.add(def.name);
    const resolveRef = (role: 'records' | 'payments'): ResolvedBackend => {
      const ref = def[role];
      const base = (sc.ledger.backends as Record<string, Record<string, unknown>>)[ref.backend] ?? {};
      const merged = { ...base, ...(ref.params ?? {}) };
      const r = BACKENDS[ref.backend].params.safeParse(merged);
      if (!r.success) {
        const prefix = typeof entry === 'string' ? ['ledger', 'backends', ref.backend] : ['ledger', 'stacks', i, role, 'params'];
        const rawHere = typeof entry === 'string' ? getPath(raw, prefix) : getPath(raw, prefix);
        for (const line of issueLines(where, rawHere ?? merged, r.error.issues)) {
          // re-anchor the field path at the stack entry
          errors.push(line.replace(`${where}: `, `${where}: ${fmtPath(prefix)}.`));
        }
        return { backend: ref.backend, params: merged };
      }
      return { backend: ref.backend, params: r.data as Record<string, unknown> };
    };
    const records = resolveRef('records');
    const payments = resolveRef('payments');
    const shared = records.backend === payments.backend && JSON.stringify(records.params) === JSON.stringify(payments.params);
    let network = sc.ledger.network;
    const netOverride = typeof entry === 'string' ? undefined : (entry as { network?: Record<string, unknown> }).network;
    if (netOverride) {
      const r = NetworkConfigSchema.safeParse({ ...sc.ledger.network, ...netOverride });
      if (!r.success) {
        const prefix = ['ledger', 'stacks', i, 'network'];
        for (const line of issueLines(where, getPath(raw, prefix) ?? netOverride, r.error.issues)) {
          errors.push(line.replace(`${where}: `, `${where}: ${fmtPath(prefix)}.`));
        }
      } else network = r.data;
    }
    out.push({ name: def.name, records, payments, shared, network });
  });
  return out;
}

/** Resolve a path written in a scenario relative to the scenario's folder. */
export function resolveScenarioPath(sc: Scenario, p: string): string {
  return isAbsolute(p) ? p : resolve(sc.baseDir, p);
}
