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
import type { SiteConstraintModel } from '../charging/siteNetwork.js';
import { ALLOCATION_POLICY_NAMES } from '../charging/allocationBatch.js';
import { CHOICE_POLICY_NAMES } from '../charging/choice.js';
import { DISPATCH_POLICY_NAMES } from '../charging/dispatch.js';
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
/** Longest duration anywhere in a scenario: 3660 days (ten years). Beyond it no run is practical
 * and the per-minute station samples alone would not fit in memory. */
export const MAX_DURATION_S = 3660 * 86400;
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
      if (s > MAX_DURATION_S) {
        ctx.addIssue({ code: 'custom', message: `must be a duration ${opts.positive ? '> 0' : `>= ${opts.min ?? 0} s`} and <= 3660d (${MAX_DURATION_S} s)` });
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
    /** price response (docs/tariffs.md): an EV that wants to charge but need not (the leg keeps it
     * at or above minSoc) drives on instead when a published price within `lookahead` is lower
     * by enough to save at least minSavings on its charge; absent = off (no default object) */
    priceResponse: z
      .strictObject({
        lookahead: duration({ min: 0 }).default(4 * 3600),
        /** $ (tariff currency) the EV must save on its charge to defer */
        minSavings: z.number().min(0).default(0.5),
        /** defer only when the state of charge after the leg is at least this (and fleet.reserveSoc) */
        minSoc: frac().default(0.15),
      })
      .optional(),
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
  /** each EV repeats its day plan every day (next departure: the next day's first-departure time after it is home); no default, so existing scenarios keep their hash */
  repeatDaily: z.boolean().optional(),
});
const DemandPoisson = z.strictObject({
  type: z.literal('poisson'),
  arrivalsPerHour: positive(),
  meanEnergyKWh: positive(),
  energyDistribution: z.enum(['exponential', 'fixed']).default('exponential'),
});
/** a DC fast-charging hub: Poisson arrivals of real EV models (fleet.models, DC curves) at the one
 * station, each arriving at a state of charge drawn from arrivalSoc and leaving when it reaches a
 * target drawn from targetSoc (src/simulation/demandModels.ts) */
const SocRange = (min: number, max: number) => z.strictObject({ min: frac().default(min), max: frac().default(max) }).prefault({});
const DemandHub = z.strictObject({
  type: z.literal('hub'),
  arrivalsPerHour: positive(),
  /** optional 24 multipliers of arrivalsPerHour, one per hour of the day (non-homogeneous Poisson, by thinning) */
  hourlyProfile: z.array(z.number().min(0)).length(24).optional(),
  arrivalSoc: SocRange(0.1, 0.4),
  targetSoc: SocRange(0.7, 0.9),
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
const Demand = z.discriminatedUnion('type', [DemandTrips, DemandPoisson, DemandHub, DemandReplay, DemandLoad]);

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
    /** the site's electrical network (single-site scenarios, city.type none): EVSEs with phases and
     * pilot rates, current constraints (src/charging/siteNetwork.ts); null = only capKW */
    network: z
      .strictObject({
        /** site network file, e.g. ../data/sites/caltech-acn.json (relative to the scenario) */
        file: z.string().min(1),
        /** transformer cap (kW) from which the file's primary/secondary limits follow */
        transformerKW: positive().max(100_000),
        /** three-phase (phasor magnitudes) or linear (conservative, |coefficients|) */
        model: z.enum(['three-phase', 'linear'] as const satisfies readonly SiteConstraintModel[]).default('three-phase'),
        /** continuous pilots from 0 to each EVSE's largest rate (acnportal basic_evse) instead of its
         * discrete allowed rates */
        continuous: z.boolean().default(false),
      })
      .nullable()
      .default(null),
    /** demand charges: `optimal-available` holds every site to the target max(peakFloorKW, peak
     * so far, least constant power finishing every plugged EV) under any allocation policy
     * (src/charging/peakControl.ts); `none` or absent: the cap and network only */
    peakControl: z.enum(['none', 'optimal-available']).optional(),
    /** with peakControl or peak-aware: a site power (kW) the target never goes below (absent = 0) */
    peakFloorKW: z.number().min(0).max(100_000).optional(),
    /** with peakControl or peak-aware: q, the target uses q × the Optimal-Available level (qOA; absent = 1) */
    peakLevelFactor: z.number().min(1).max(10).optional(),
    /** with peakControl or peak-aware: a learned forecast of the day's later arrivals added to the
     * target's level (a folder written by `evsim train allocation` with `objective: peak-forecast`, relative to the scenario; absent = none);
     * its fitted q is used unless peakLevelFactor is set */
    peakModel: z.string().min(1).optional(),
    /** `lp`: after the allocation policy, an exchange step at every allocation of a site with an
     * electrical network — one small LP (HiGHS) that moves power between the sessions so that
     * more of it passes the network (src/optimum/exchange.ts); `none` or absent: the policy's
     * rates as they are */
    exchange: z.enum(['none', 'lp']).optional(),
  })
  .prefault({});

const Policy = z
  .strictObject({
    /** names from the registries in src/charging/choice.ts and src/charging/allocationBatch.ts */
    /** the registry's names, plus `learned`: the TF.js model of policy.models.stationChoice
     * (src/ai/choiceModel.ts), resolved in src/ai since charging cannot import ai */
    stationChoice: z.enum([...CHOICE_POLICY_NAMES, 'learned']).default('min-total-time'),
    /** the registry's names, plus `learned` (a TF.js model, policy.models.allocation; resolved
     * by src/ai/allocation.ts loadLearnedParts) */
    allocation: z.enum([...ALLOCATION_POLICY_NAMES, 'learned']).default('fcfs'),
    /** model folders of learned policies (model.json + weights.bin), relative to the scenario */
    models: z
      .strictObject({
        stationChoice: z.string().min(1).optional(),
        allocation: z.string().min(1).optional(),
      })
      .prefault({}),
    /** TensorFlow.js backend of learned policies: auto (tensorflow, else wasm, else cpu) or one */
    tfBackend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    candidates: posInt().max(1000).default(10),
    /** round-robin increment (kW) */
    incrementKW: positive().default(1),
    /** what a vehicle knows when it chooses a station (src/simulation/calculating.ts): `live`
     * (stations as they are now) or `ledger` (only what is final on the records ledger: the
     * stations' station-status records and the other EVs' reservations) */
    information: z.enum(['live', 'ledger']).default('live'),
    /** `ledger` information: each station submits a station-status record at every multiple of
     * this interval at which its queue, plugged EVs or free chargers changed since its last one */
    statusInterval: duration({ min: 1, positive: true }).default(300),
    /** coupling of the calculating phase: an EV stays in `calculating` until its reservation is
     * final on the records ledger (or reservationTimeout has passed), then goes */
    waitForReservation: z.boolean().default(false),
    /** a waiting EV goes anyway after this long (0 = waits forever) */
    reservationTimeout: duration().default(600),
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
    // the forecast tariff (docs/tariffs.md): each day's 24 hourly prices from a day-ahead forecast of
    // the grid load of the scenario's `grid` block, price = base × clamp((F_h / mean F)^k, min, max)
    z.strictObject({
      type: z.literal('forecast'),
      /** where the day-ahead loads come from: the TF.js forecaster (`model`), the actual loads
       * (perfect foresight), or a seasonal-naive forecast (same hour a week / a day before) */
      source: z.enum(['model', 'actual', 'seasonal-naive-168', 'seasonal-naive-24']).default('model'),
      /** forecaster folder (model.json + weights.bin), relative to the scenario; needed for source model */
      model: z.string().min(1).optional(),
      basePricePerKWh: z.number().min(0).default(0.3),
      exponent: z.number().min(0).max(20).default(2),
      minFactor: z.number().min(0).default(0.5),
      maxFactor: z.number().min(0).default(2),
      /** a TOU tariff whose mean price over each day the forecast tariff matches (base is then
       * set per day; basePricePerKWh is ignored) */
      calibrate: z
        .strictObject({
          file: z.string().min(1),
          utcOffsetHours: z.number().min(-14).max(14).default(0),
          dst: z.enum(['none', 'us']).default('none'),
        })
        .optional(),
    }),
  ])
  .prefault({ type: 'flat' });

/** the grid the tariff part measures against (docs/tariffs.md): hourly system load; absent = none */
const Grid = z.strictObject({
  /** hourly grid load CSV (date_time UTC, `cleaned demand (MW)`), relative to the scenario */
  load: z.string().min(1),
  /** UTC hour at which a tariff day starts and its forecast is issued (8 = local midnight PST) */
  dayStartUtcHour: z.number().int().min(0).max(23).default(8),
  /** the system's peak hours of a day: its `peakHours` hours of highest actual load */
  peakHours: z.number().int().min(1).max(23).default(4),
});

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
    /** also write sessions/stations/ledger tables as Parquet next to their CSVs */
    parquet: z.boolean().default(false),
    /** write city.json (road network, stations, EV positions at each transition) for the report's replay; no default, so the scenario hash of scenarios without it is unchanged */
    geometry: z.boolean().optional(),
  })
  .prefault({});


// ---- mobile chargers (docs/mobile.md) -----------------------------------------------------------
/** Mobile chargers on a lightweight chain (src/simulation/mobile.ts, src/ledger/lightchain.ts).
 * Optional with no default object: absent, nothing changes (outputs, scenario hash). */
const Mobile = z.strictObject({
  /** number of vans (mobile chargers) */
  vans: posInt().max(65535),
  /** van battery, usable kWh */
  batteryKWh: positive().max(10_000).default(100),
  /** charging power from a van to an EV, kW (constant; capped by the EV's DC or AC maximum) */
  powerKW: positive().max(1000).default(50),
  /** the van's own driving consumption, kWh/km */
  consumptionKWhPerKm: z.number().min(0).max(5).default(0.3),
  /** energy a van keeps for driving; it never serves below it */
  reserveKWh: z.number().min(0).default(10),
  /** a van with less than this to give (or than the request) is not sent */
  minServiceKWh: z.number().min(0).default(5),
  /** after its last job, a van below this share of its battery drives to its depot to recharge */
  rechargeBelow: frac().default(0.3),
  /** depot charging power, kW */
  depotPowerKW: positive().max(10_000).default(150),
  /** depots (van v at depot v mod count), nearest road node to each; default: the city's stations */
  depots: z.array(z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })).min(1).optional(),
  /** share of the EVs that need to charge which request a van instead of driving to a station */
  share: frac().default(0.2),
  /** a request no van has been assigned to after this long is abandoned (the EV drives on); 0 = never */
  maxWait: duration().default(3600),
  dispatch: z.enum(DISPATCH_POLICY_NAMES).default('nearest-idle'),
  /** vans per group (van v in group floor(v / groupSize); its first van is the parent, a full node) */
  groupSize: posInt().max(65535).default(4),
  /** vans send the charge profiles of the last interval to their parent every profileInterval */
  profileInterval: duration({ min: 60 }).default(900),
  /** each parent builds its group's block every blockInterval */
  blockInterval: duration({ min: 60 }).default(3600),
  /** live-chain bytes of a group above which the provider compacts it into a charge-list block; "none" never */
  compactBytes: z.union([z.literal('none'), z.number().int().min(1024)]).default(65536),
  /** cellular links between vans and the provider: lognormal one-way latency per link, bandwidth */
  network: z
    .strictObject({
      latencyMeanMs: z.number().min(0).default(80),
      latencySdMs: z.number().min(0).default(40),
      bandwidthMbps: positive().default(10),
    })
    .prefault({}),
  faults: z
    .strictObject({
      /** the parent of `group` halves the energy of the first profile of its `atBlock`-th block (1-based) */
      tamper: z.strictObject({ group: nonNegInt(), atBlock: posInt() }).optional(),
    })
    .optional(),
});

// ---- roaming between utilities (docs/roaming.md; src/roaming/, src/simulation/roaming.ts) -------

const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const RoamingUtility = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  /** the first digits of every CIN the utility issues (names its AAA node); prefix-free among utilities */
  cinPrefix: z.string().regex(/^[0-9]{1,8}$/),
  /** service area: bbox [minLon, minLat, maxLon, maxLat] or polygon [[lon, lat], ...] (>= 3 vertices) */
  area: z.union([z.strictObject({ bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]) }), z.strictObject({ polygon: z.array(LonLat).min(3) })]),
  /** price per kWh the utility bills its own customers at its own stations (p_i) */
  pricePerKWh: z.number().min(0),
  /** price per kWh it bills its own customers for charging at another utility (c_i; default pricePerKWh) */
  roamingPricePerKWh: z.number().min(0).optional(),
});
const Roaming = z.strictObject({
  /** consortium: invoices and settlements on a consortium chain; clearing-house: a central roaming
   * hub (fee, settlement delay); none: an EV is refused outside its home utility's stations */
  mode: z.enum(['consortium', 'clearing-house', 'none']).default('consortium'),
  utilities: z.array(RoamingUtility).min(2).max(32),
  /** the charging-rules-and-policy database: visited utility × home utility price (default: the visited utility's pricePerKWh) */
  contracts: z
    .array(z.strictObject({ visited: z.string(), home: z.string(), pricePerKWh: z.number().min(0), loadFactor: z.number().min(0).default(0) }))
    .default([]),
  /** the consortium chain: any chain-capable ledger backend, its parameters (over ledger.backends.<backend>) and node count */
  chain: z
    .strictObject({
      backend: z.enum(BACKEND_LIST.filter((b) => b.capabilities.chain).map((b) => b.name) as [BackendName, ...BackendName[]]).default('qbft'),
      params: z.record(z.string(), z.unknown()).default({}),
      nodes: z.number().int().min(1).max(64).default(4),
    })
    .prefault({}),
  clearingHouse: z
    .strictObject({
      feePct: z.number().min(0).max(100).default(5),
      settlementDelay: duration().default(172800),
      /** where the hub sits (lon, lat); default: the first utility's site */
      site: LonLat.optional(),
    })
    .prefault({}),
  /** a visiting profile (VCPD) expires this long after it was stored (0 = never) */
  profileTtl: duration().default(86400),
  /** a visiting profile is deleted when the EV is seen in another area */
  expireOnLeave: z.boolean().default(true),
  /** θ: what a driver values a charged kWh at (consumer surplus) */
  willingnessToPay: z.number().min(0).default(0.6),
  network: z
    .strictObject({
      accessMs: z.number().min(0).default(50),
      fiberUsPerKm: z.number().min(0).default(5),
      linkMs: z.number().min(0).default(1),
      processingMs: z.number().min(0).default(2),
      bandwidthMbps: z.number().positive().default(100),
    })
    .prefault({}),
});

/** Cross-field checks of the roaming block (ids, prefixes, contracts, chain parameters). */
function roamingLines(sc: z.output<typeof ScenarioSchema>, where: string): string[] {
  const r = sc.roaming;
  if (!r) return [];
  const out: string[] = [];
  if (sc.demand.type !== 'trips') out.push(`${where}: roaming: needs demand.type "trips" (EVs with homes that drive between areas) (got "${sc.demand.type}")`);
  const ids = new Map<string, number>();
  r.utilities.forEach((u, i) => {
    if (ids.has(u.id)) out.push(`${where}: roaming.utilities[${i}].id: "${u.id}" appears twice`);
    ids.set(u.id, i);
    if ('bbox' in u.area && (u.area.bbox[0] >= u.area.bbox[2] || u.area.bbox[1] >= u.area.bbox[3]))
      out.push(`${where}: roaming.utilities[${i}].area.bbox: must be [minLon, minLat, maxLon, maxLat] with min < max (got ${JSON.stringify(u.area.bbox)})`);
    r.utilities.forEach((o, j) => {
      if (j !== i && o.cinPrefix.startsWith(u.cinPrefix) && (j > i || o.cinPrefix !== u.cinPrefix))
        out.push(`${where}: roaming.utilities[${j}].cinPrefix: "${o.cinPrefix}" starts with utility ${u.id}'s prefix "${u.cinPrefix}" (prefixes must be prefix-free)`);
    });
  });
  const pairs = new Set<string>();
  r.contracts.forEach((c, i) => {
    for (const k of ['visited', 'home'] as const)
      if (!ids.has(c[k])) out.push(`${where}: roaming.contracts[${i}].${k}: unknown utility "${c[k]}"; allowed: ${[...ids.keys()].join(' | ')}`);
    if (c.visited === c.home) out.push(`${where}: roaming.contracts[${i}]: visited and home are both "${c.home}" (a contract is between two utilities)`);
    if (pairs.has(`${c.visited}/${c.home}`)) out.push(`${where}: roaming.contracts[${i}]: a second contract for visited "${c.visited}", home "${c.home}"`);
    pairs.add(`${c.visited}/${c.home}`);
  });
  const b = r.chain.backend;
  const base = (sc.ledger.backends as Record<string, Record<string, unknown>>)[b] ?? {};
  const parsed = BACKENDS[b].params.safeParse({ ...base, ...r.chain.params });
  if (!parsed.success) out.push(...issueLines(where, { ...base, ...r.chain.params }, parsed.error.issues, BACKENDS[b].params, ['roaming', 'chain', 'params']));
  else {
    r.chain.params = parsed.data as Record<string, unknown>;
    const v = r.chain.params.validators;
    if (b === 'qbft' && typeof v === 'number' && v > r.chain.nodes) out.push(`${where}: roaming.chain.params.validators: must be <= roaming.chain.nodes (${r.chain.nodes}) (got ${v})`);
  }
  return out;
}

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
  /** grid load and peak hours (tariff part, docs/tariffs.md); optional, no default */
  grid: Grid.optional(),
  ledger: Ledger,
  output: Output,
  mobile: Mobile.optional(),
  /** roaming between utilities (docs/roaming.md); absent = off */
  roaming: Roaming.optional(),
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

/** Unwrap defaults, optionals, pipes (and unions, by the raw value's shape) down to a concrete schema. */
function unwrap(schema: any, rawHere: unknown): any {
  let cur = schema;
  for (;;) {
    const def = cur?._zod?.def;
    if (!def) return undefined;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') cur = def.innerType;
    else if (def.type === 'pipe') cur = def.in;
    else if (def.type === 'union') {
      const options: any[] = def.options;
      const disc = rawHere !== null && typeof rawHere === 'object' ? (rawHere as Record<string, unknown>).type : undefined;
      const kindOf = (o: any) => unwrap(o, undefined)?._zod?.def?.type;
      const match =
        options.find((o) => disc !== undefined && o._zod?.def?.shape?.type?._zod?.def?.values?.includes(disc)) ??
        (Array.isArray(rawHere) ? options.find((o) => kindOf(o) === 'array') : undefined) ??
        (rawHere !== null && typeof rawHere === 'object' && !Array.isArray(rawHere) && disc === undefined
          ? options.find((o) => kindOf(o) === 'object')
          : undefined);
      if (!match) return undefined;
      cur = match;
    } else return cur;
  }
}

/** The object schema at `path` of `schema` (walking the definition along the raw value), if any. */
function objectSchemaAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): any {
  let cur: any = unwrap(schema, raw);
  for (let i = 0; i < path.length; i++) {
    const def = cur?._zod?.def;
    if (def?.type === 'object') cur = def.shape[path[i] as string];
    else if (def?.type === 'array') cur = def.element;
    else if (def?.type === 'record') cur = def.valueType;
    else return undefined;
    cur = unwrap(cur, getPath(raw, path.slice(0, i + 1)));
  }
  return cur?._zod?.def?.type === 'object' ? cur : undefined;
}

function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  const obj = objectSchemaAt(schema, path, raw);
  return obj ? Object.keys(obj._zod.def.shape) : [];
}

/** The fields of the object at `path` that have no default and are not optional. */
function requiredKeys(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  const obj = objectSchemaAt(schema, path, raw);
  if (!obj) return [];
  return Object.entries(obj._zod.def.shape as Record<string, any>)
    .filter(([, f]) => !['default', 'prefault', 'optional'].includes(f?._zod?.def?.type))
    .map(([k]) => k);
}

const STACK_FORM = '{name, records: {backend, params}, payments: {backend, params}, network}';

/**
 * Turn zod issues into one line each: `where: path: problem (got value)`. `schema` is the
 * definition the issues came from (for the allowed keys of unknown fields); `prefix` is where its
 * root sits in the scenario (for a backend's params inside a stack). Exported for the other YAML
 * inputs validated the same way (compare rules, evaluation configs, sweep specs).
 */
export function issueLines(where: string, raw: unknown, issues: z.core.$ZodIssue[], schema: z.ZodType = ScenarioSchema, prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const is of issues) {
    const path = is.path;
    if (is.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, path, raw);
      for (const key of is.keys) {
        lines.push(
          `${where}: ${fmtPath([...prefix, ...path, key])}: unknown field; allowed here: ${allowed.join(', ') || '(none)'}`,
        );
      }
      continue;
    }
    const value = getPath(raw, path);
    if (is.code === 'invalid_union' && schema === ScenarioSchema && path[0] === 'ledger' && path[1] === 'stacks' && is.errors?.length) {
      // Explain the entry that is wrong, in the branch of the union its shape picked.
      const branch = (b: z.core.$ZodIssue[] | undefined) => (b ?? []).map((i) => ({ ...i, path: [...path, ...i.path] }));
      if (path.length === 2 && Array.isArray(value)) {
        lines.push(...issueLines(where, raw, branch(is.errors[1]), schema, prefix));
        continue;
      }
      if (path.length === 3 && typeof value === 'string') {
        lines.push(`${where}: ${fmtPath(path)}: unknown stack ${fmtValue(value)}; shipped stacks: ${SHIPPED_STACK_NAMES.join(', ')} (or an inline stack ${STACK_FORM})`);
        continue;
      }
      if (path.length === 3 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        lines.push(...issueLines(where, raw, branch(is.errors[1]), schema, prefix));
        continue;
      }
    }
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
        what = `must be ${is.inclusive ? '<=' : '<'} ${String(is.maximum)}${is.origin === 'array' ? ' items' : ''}`;
        break;
      case 'invalid_value':
        what = `allowed: ${is.values.map((v) => String(v)).join(' | ')}`;
        break;
      case 'invalid_union': {
        const opts = (is as { options?: unknown[] }).options;
        if (opts) what = `allowed: ${opts.map(String).join(' | ')}`;
        else if (schema === ScenarioSchema && path[0] === 'ledger' && path[1] === 'stacks')
          what =
            path.length === 2
              ? `must be "all" or a list of stacks (shipped: ${SHIPPED_STACK_NAMES.join(', ')})`
              : `must be a shipped stack (${SHIPPED_STACK_NAMES.join(', ')}) or ${STACK_FORM}`;
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
    lines.push(`${where}: ${fmtPath([...prefix, ...path])}: ${what} (got ${fmtValue(value)})`);
  }
  return lines;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Set `value` at a dotted path (`fleet.size`, `stations.list[0].lat`), creating objects on the way.
 * A list index must address an existing entry or the next one (index = current length appends);
 * anything beyond is refused with one line. The paths of list entries created here are pushed to
 * `created` (so that validation can name what a new entry still needs).
 */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown, created?: (string | number)[][]): void {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m || FORBIDDEN_KEYS.has(m[1]!)) throw new UserError([`--set ${path}: not a field path (use dots, e.g. fleet.size=500)`]);
    keys.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) keys.push(Number(idx[1]));
  }
  let cur: any = obj;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (typeof k === 'number') {
      // cur is the list (made below when missing)
      if (!Array.isArray(cur)) throw new UserError([`--set ${path}: ${fmtPath(keys.slice(0, i))} is not a list, so it takes no [index]`]);
      const len = cur.length;
      if (!Number.isSafeInteger(k) || k > len) {
        const list = fmtPath(keys.slice(0, i));
        throw new UserError([
          `--set ${path}: index ${k} is beyond the list ${list} (length ${len}); use ${len === 0 ? '0' : `0..${len - 1} to change an entry or ${len}`} to append one`,
        ]);
      }
      if (k === len && i < keys.length - 1) created?.push(keys.slice(0, i + 1));
    }
    if (i === keys.length - 1) break;
    const next = keys[i + 1]!;
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof next === 'number' ? [] : {};
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
/**
 * The parsed document of a scenario file's text, memoised by the text (a sweep resolves the same
 * base file hundreds of times; parsing it is most of that): each call gets its own deep copy, so
 * nothing downstream can change the memo. Parse errors are not memoised (they throw each time).
 */
const parsedMemo = new Map<string, unknown>();
function parsedText(text: string, json: boolean): unknown {
  const key = (json ? 'j' : 'y') + text;
  let v = parsedMemo.get(key);
  if (v === undefined && !parsedMemo.has(key)) {
    v = json ? JSON.parse(text) : parseYaml(text);
    if (parsedMemo.size >= 16) parsedMemo.clear();
    parsedMemo.set(key, v);
  }
  return structuredClone(v);
}

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
    raw = parsedText(text, extname(file).toLowerCase() === '.json');
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

/**
 * Issue lines, where the required fields missing from a list entry that `--set` created are one
 * line for the entry (naming every required field) instead of one "is required" line each.
 */
function newEntryLines(where: string, raw: unknown, issues: z.core.$ZodIssue[], created: (string | number)[][]): string[] {
  const missing = new Map<string, { path: (string | number)[]; fields: string[] }>();
  const rest: z.core.$ZodIssue[] = [];
  for (const is of issues) {
    const entry = created.find((c) => c.length === is.path.length - 1 && c.every((k, i) => k === is.path[i]));
    if (entry && is.code === 'invalid_type' && getPath(raw, is.path) === undefined) {
      const key = fmtPath(entry);
      const m = missing.get(key) ?? { path: entry, fields: [] };
      m.fields.push(String(is.path[is.path.length - 1]));
      missing.set(key, m);
    } else rest.push(is);
  }
  const lines: string[] = [];
  for (const [key, m] of missing) {
    const req = requiredKeys(ScenarioSchema, m.path, raw);
    const ex = m.fields.map((f) => `--set ${key}.${f}=...`).join(' ');
    lines.push(`${where}: ${key}: the new entry made by --set lacks ${m.fields.join(', ')} (required fields: ${req.join(', ')}); add ${ex}`);
  }
  return [...lines, ...issueLines(where, raw, rest)];
}

/**
 * Upper bounds on magnitudes that the schema's types leave open (see DOCS: every bound, its value
 * and why). Kept out of the schema blocks that other sections own; one line each.
 */
export const LIMITS = Object.freeze({
  /** poisson arrivals per hour at the one station: 100,000 (28 per second) */
  arrivalsPerHour: 100_000,
  /** energy of one session (poisson mean, replayed rows), kWh: larger than any EV battery (~200 kWh) x 5 */
  energyKWh: 1000,
  /** power of one charger, kW (megawatt truck chargers are 3.75 MW) */
  chargerKW: 10_000,
});

function magnitudeLines(sc: z.output<typeof ScenarioSchema>, where: string): string[] {
  const out: string[] = [];
  const d = sc.demand;
  if (d.type === 'poisson') {
    if (d.arrivalsPerHour > LIMITS.arrivalsPerHour)
      out.push(`${where}: demand.arrivalsPerHour: must be <= ${LIMITS.arrivalsPerHour} (got ${d.arrivalsPerHour})`);
    if (d.meanEnergyKWh > LIMITS.energyKWh) out.push(`${where}: demand.meanEnergyKWh: must be <= ${LIMITS.energyKWh} kWh (got ${d.meanEnergyKWh})`);
  }
  if (d.type === 'hub') {
    if (d.arrivalsPerHour > LIMITS.arrivalsPerHour)
      out.push(`${where}: demand.arrivalsPerHour: must be <= ${LIMITS.arrivalsPerHour} (got ${d.arrivalsPerHour})`);
    for (const k of ['arrivalSoc', 'targetSoc'] as const)
      if (d[k].min > d[k].max) out.push(`${where}: demand.${k}.min: must be <= demand.${k}.max (got ${d[k].min} > ${d[k].max})`);
    if (d.arrivalSoc.max >= d.targetSoc.min)
      out.push(`${where}: demand.arrivalSoc.max: must be < demand.targetSoc.min, so that every EV needs energy (got ${d.arrivalSoc.max} >= ${d.targetSoc.min})`);
    if (d.hourlyProfile && !d.hourlyProfile.some((v) => v > 0)) out.push(`${where}: demand.hourlyProfile: at least one hour must be > 0`);
  }
  if (d.type === 'replay' && d.maxKW > LIMITS.chargerKW) out.push(`${where}: demand.maxKW: must be <= ${LIMITS.chargerKW} kW (got ${d.maxKW})`);
  const kw = (path: string, v: number) => {
    if (v > LIMITS.chargerKW) out.push(`${where}: ${path}: must be <= ${LIMITS.chargerKW} kW (got ${v})`);
  };
  kw('station.powerKW', sc.station.powerKW);
  sc.stations.list.forEach((s, i) => kw(`stations.list[${i}].powerKW`, s.powerKW));
  if (sc.stations.generate) kw('stations.generate.powerKW', sc.stations.generate.powerKW);
  kw('stations.mapDefaults.acPowerKW', sc.stations.mapDefaults.acPowerKW);
  kw('stations.mapDefaults.dcPowerKW', sc.stations.mapDefaults.dcPowerKW);
  if (sc.site.network && sc.city.type !== 'none') {
    out.push(`${where}: site.network: a site electrical network describes one site; it needs city.type none (got city.type ${sc.city.type})`);
  }
  if (sc.site.exchange === 'lp') {
    if (!sc.site.network) out.push(`${where}: site.exchange: "lp" exchanges power between the sessions of a site electrical network; it needs site.network (got null)`);
    if (sc.policy.allocation === 'uncontrolled') out.push(`${where}: site.exchange: "lp" needs an allocation policy that keeps the site's limits (policy.allocation "uncontrolled" ignores them)`);
    if (sc.policy.allocation === 'peak-aware')
      out.push(`${where}: site.exchange: "lp" cannot go inside policy.allocation "peak-aware" (its site target would not bind the exchange); use site.peakControl: optimal-available with llf instead`);
  }
  return out;
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
  const created: (string | number)[][] = [];
  for (const s of sets) {
    const [path, value] = parseOverride(s);
    setPath(obj, path, value, created);
  }
  if (opts.seed !== undefined) obj.seed = opts.seed;
  const where = sets.length ? `${file} (with --set)` : file;
  const r = ScenarioSchema.safeParse(obj);
  if (!r.success) throw new UserError(newEntryLines(where, obj, r.error.issues, created));
  const sc = r.data;
  const extra: string[] = [];
  extra.push(...magnitudeLines(sc, where));
  if (sc.fleet.initialSoc.min > sc.fleet.initialSoc.max)
    extra.push(`${where}: fleet.initialSoc.min: must be <= fleet.initialSoc.max (got ${sc.fleet.initialSoc.min} > ${sc.fleet.initialSoc.max})`);
  if (sc.fleet.chargeThreshold >= sc.fleet.targetSoc)
    extra.push(`${where}: fleet.chargeThreshold: must be < fleet.targetSoc (got ${sc.fleet.chargeThreshold} >= ${sc.fleet.targetSoc})`);
  const cityType = sc.city.type;
  if (sc.policy.stationChoice === 'learned' && sc.policy.models.stationChoice === undefined) {
    extra.push(`${where}: policy.models.stationChoice: is required when policy.stationChoice is "learned" (a model folder with model.json and weights.bin)`);
  }
  if (sc.demand.type === 'trips' && cityType === 'none')
    extra.push(`${where}: city.type: demand.type "trips" needs a road network; allowed: osm | grid | radial (got "none")`);
  if (sc.demand.type !== 'trips' && cityType !== 'none')
    extra.push(`${where}: city.type: demand.type "${sc.demand.type}" models EVs arriving directly at one station; allowed: none (got ${fmtValue(cityType)})`);
  if (sc.city.type === 'osm' && sc.city.bbox && (sc.city.bbox[0] >= sc.city.bbox[2] || sc.city.bbox[1] >= sc.city.bbox[3]))
    extra.push(`${where}: city.bbox: must be [minLon, minLat, maxLon, maxLat] with min < max (got ${fmtValue(sc.city.bbox)})`);
  if ((sc.demand.type === 'poisson' || sc.demand.type === 'hub') && sc.station.chargers === undefined)
    extra.push(`${where}: station.chargers: is required for demand.type "${sc.demand.type}" (an integer >= 1)`);
  if (sc.demand.type === 'hub' && sc.station.kind !== 'DC')
    extra.push(`${where}: station.kind: demand.type "hub" is a DC fast-charging hub; allowed: DC (got ${fmtValue(sc.station.kind)})`);
  if (sc.mobile) {
    if (sc.demand.type !== 'trips') extra.push(`${where}: mobile: mobile chargers drive on a road network; needs demand.type "trips" (got ${fmtValue(sc.demand.type)})`);
    const groups = Math.ceil(sc.mobile.vans / sc.mobile.groupSize);
    const t = sc.mobile.faults?.tamper;
    if (t && t.group >= groups) extra.push(`${where}: mobile.faults.tamper.group: must be a group of the scenario, 0..${groups - 1} (got ${t.group})`);
    if (sc.mobile.blockInterval < sc.mobile.profileInterval)
      extra.push(`${where}: mobile.blockInterval: must be >= mobile.profileInterval (${sc.mobile.profileInterval} s; got ${sc.mobile.blockInterval} s)`);
  }
  extra.push(...roamingLines(sc, where));
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
  const seen = new Set<string>();
  const push = (line: string) => {
    // a problem of ledger.backends.X shows once, however many stacks use X
    if (!seen.has(line)) errors.push(line);
    seen.add(line);
  };
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
        // field paths anchored at the stack entry; unknown keys list the backend's own parameters
        const prefix = typeof entry === 'string' ? ['ledger', 'backends', ref.backend] : ['ledger', 'stacks', i, role, 'params'];
        for (const line of issueLines(where, merged, r.error.issues, BACKENDS[ref.backend].params, prefix)) push(line);
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
        for (const line of issueLines(where, { ...sc.ledger.network, ...netOverride }, r.error.issues, NetworkConfigSchema, prefix)) push(line);
      } else network = r.data;
    }
    // cross-field checks against the stack's network
    const nodes = network.nodes;
    const netField = netOverride && 'nodes' in netOverride ? `ledger.stacks[${i}].network.nodes` : 'ledger.network.nodes';
    for (const role of ['records', 'payments'] as const) {
      const ref = def[role];
      const rb = role === 'records' ? records : payments;
      const field = (k: string) =>
        typeof entry !== 'string' && ref.params && k in ref.params ? `ledger.stacks[${i}].${role}.params.${k}` : `ledger.backends.${rb.backend}.${k}`;
      // a backend's own parameters, and those of the chain inside Lightning / Flash
      const check = (backend: string, p: Record<string, unknown>, field: (k: string) => string) => {
        const nodeIndex = (k: string) => {
          const v = p[k];
          if (typeof v === 'number' && v >= nodes)
            push(`${where}: ${field(k)}: must be a ledger node id 0..${nodes - 1} (${netField} = ${nodes}) (got ${v})`);
        };
        if (backend === 'qbft') {
          const n = typeof p.validators === 'number' ? p.validators : nodes;
          if (typeof p.validators === 'number' && p.validators > nodes)
            push(`${where}: ${field('validators')}: must be <= the ledger network's nodes (${netField} = ${nodes}) (got ${p.validators})`);
          const crashed = Array.isArray(p.crashed) ? (p.crashed as { validator: number }[]) : [];
          crashed.forEach((c, j) => {
            if (c.validator >= n)
              push(`${where}: ${field('crashed')}[${j}].validator: must be a validator index 0..${n - 1} (${n} validators) (got ${c.validator})`);
          });
        }
        if (backend === 'central') nodeIndex('serverNode');
        if (backend === 'tangle') {
          nodeIndex('coordinatorNode');
          const atk = p.attack as { node?: unknown } | undefined;
          if (atk && typeof atk === 'object' && typeof atk.node === 'number' && atk.node >= nodes)
            push(`${where}: ${field('attack')}.node: must be a ledger node id 0..${nodes - 1} (${netField} = ${nodes}) (got ${atk.node})`);
        }
        if (backend === 'lightning') nodeIndex('hubNode');
        const chain = p.chain as { backend?: unknown; params?: unknown } | undefined;
        if (chain && typeof chain === 'object' && typeof chain.backend === 'string' && chain.params && typeof chain.params === 'object') {
          check(chain.backend, chain.params as Record<string, unknown>, (k) => `${field('chain')}.params.${k}`);
        }
      };
      check(rb.backend, rb.params, field);
    }
    out.push({ name: def.name, records, payments, shared, network });
  });
  return out;
}

/** Resolve a path written in a scenario relative to the scenario's folder. */
export function resolveScenarioPath(sc: Scenario, p: string): string {
  return isAbsolute(p) ? p : resolve(sc.baseDir, p);
}
