/**
 * Derives data/ev-specs/fleet-nl-popular.json, the vehicle mix the simulator loads at run time
 * (src/charging/evModels.ts: loadEvModels), from two real, MIT-licensed sources copied into data/ev-specs/:
 *
 *   - ev2gym-nl-popular.json (StavrosOrf/EV2Gym · ev2gym/data/ev_specs.json · 2ec280fcc1a9):
 *     13 popular Dutch EV models with registration counts -> the fleet weights;
 *   - open-ev-data-kilowattapp-2025-04.json (KilowattApp/open-ev-data · data/ev-data.json ·
 *     32d7dc59e7b8): per-variant usable battery, consumption (kWh/100 km), AC/DC limits and DC
 *     charging curves -> the physics. Attribution required: "Open EV Data
 *     (https://github.com/KilowattApp/open-ev-data)".
 *
 * Matching (deterministic, no randomness, no clock):
 *   1. Brand: the longest Open EV Data brand name that prefixes the ev2gym name ("Volkswagen ID.3"
 *      -> brand "Volkswagen", model part "ID.3"); brand names compare case-insensitively.
 *   2. Model: lower-cased whitespace tokens of the ev2gym model part must be a prefix of the Open
 *      EV Data model tokens, ignoring an "e-" prefix on the first token on either side ("Niro"
 *      matches "e-Niro" and "Niro EV"; "208" matches "e-208" but not "e-2008"; "Golf" matches
 *      "e-Golf"). Variants are all entries that match.
 *   3. Variant choice: let d* be the smallest |usable_battery_size - ev2gym battery_capacity|
 *      over the matches; keep the matches within d* + 2 kWh; among those order by
 *        a. not a suspected placeholder first (see below),
 *        b. |battery delta|, c. |DC max - ev2gym max_dc_charge_power|,
 *        d. |AC max - ev2gym max_ac_charge_power|, e. model-specific curve before default curve,
 *        f. id (string order),
 *      and take the first. The chosen id, the number of candidates and the deltas are recorded.
 *   Placeholder: about 570 of the 1,321 Open EV Data entries carry dc_charger.max_power exactly
 *   equal to usable_battery_size (a 1C stand-in, usually with a synthetic 4-5 point curve and
 *   often AC power equal to the battery size too). Such an entry is only chosen when no real
 *   entry lies within the battery band; it is then flagged placeholderSuspect: true.
 *   ev2gym models with no name match are left out and listed in `dropped`.
 *
 * Units in the output: kWh, kWh/km (= average_consumption / 100), kW; dcCurve is [[soc 0..1, kW]]
 * sorted by soc (percentage / 100), exact duplicates removed.
 *
 * Run from the repository root (Node 20 cannot run .ts directly; compile this one file):
 *   npx tsc --outDir /tmp/evsim-build-fleet --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2022 --types node --strict --skipLibCheck scripts/build-fleet.ts \
 *   && node /tmp/evsim-build-fleet/scripts/build-fleet.js
 * or, after `npm run build`: node dist/scripts/build-fleet.js. The output is byte-for-byte
 * reproducible; test/charging/evModels.test.ts checks the committed file against buildFleet().
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const EV2GYM_FILE = 'data/ev-specs/ev2gym-nl-popular.json';
export const OED_FILE = 'data/ev-specs/open-ev-data-kilowattapp-2025-04.json';
export const FLEET_FILE = 'data/ev-specs/fleet-nl-popular.json';
/** Width of the battery band (kWh) above the nearest match within which other variants compete. */
export const BATTERY_BAND_KWH = 2;

export interface FleetModel {
  name: string;
  weight: number;
  usableBatteryKWh: number;
  consumptionKWhPerKm: number;
  acMaxKW: number;
  acPhases: number | null;
  dcMaxKW: number | null;
  dcCurve: [number, number][];
  isDefaultCurve: boolean | null;
  source: {
    ev2gymName: string;
    openEvDataId: string;
    brand: string;
    model: string;
    variant: string | null;
    releaseYear: number | null;
    candidates: number;
    batteryDeltaKWh: number;
    placeholderSuspect: boolean;
  };
  ev2gym: { batteryKWh: number; acMaxKW: number; dcMaxKW: number; registrations: number };
}

export interface FleetFile {
  description: string;
  attribution: string;
  generatedBy: string;
  sources: Record<string, { file: string; repository: string; path: string; commit: string; sha256_16: string; licence: string }>;
  selection: string;
  units: Record<string, string>;
  models: FleetModel[];
  dropped: { name: string; reason: string }[];
}

interface OedEntry {
  id: string;
  brand: string;
  model: string;
  variant?: string | null;
  release_year?: number | null;
  usable_battery_size: number;
  energy_consumption?: { average_consumption?: number };
  ac_charger?: { usable_phases?: number; max_power?: number } | null;
  dc_charger?: {
    max_power?: number;
    charging_curve?: { percentage: number; power: number }[];
    is_default_charging_curve?: boolean;
  } | null;
}

interface Ev2gymEntry {
  number_of_registrations: number;
  battery_capacity: number;
  max_ac_charge_power: number;
  max_dc_charge_power: number;
}

const round6 = (x: number): number => Number(x.toFixed(6));

function tokens(s: string): string[] {
  const t = s.toLowerCase().trim().split(/\s+/).filter((x) => x.length > 0);
  if (t.length > 0 && t[0]!.startsWith('e-') && t[0]!.length > 2) t[0] = t[0]!.slice(2);
  return t;
}

function isPlaceholder(e: OedEntry): boolean {
  return e.dc_charger?.max_power !== undefined && e.dc_charger.max_power === e.usable_battery_size;
}

export function sha256Prefix(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Pure derivation; `hashes` are the sha256 prefixes of the two inputs (recorded, not checked). */
export function buildFleet(ev2gymRaw: unknown, oedRaw: unknown, hashes: { ev2gym: string; oed: string }): FleetFile {
  const ev2gym = ev2gymRaw as Record<string, Ev2gymEntry>;
  const oed = oedRaw as { brands: { name: string }[]; data: OedEntry[] };
  if (typeof ev2gym !== 'object' || ev2gym === null) throw new Error(`${EV2GYM_FILE}: expected an object of models`);
  if (!Array.isArray(oed?.data) || !Array.isArray(oed?.brands)) throw new Error(`${OED_FILE}: expected {brands[], data[]}`);
  const brandNames = [...new Set(oed.brands.map((b) => b.name))].sort((a, b) => b.length - a.length || a.localeCompare(b));

  const models: FleetModel[] = [];
  const dropped: { name: string; reason: string }[] = [];
  for (const [name, spec] of Object.entries(ev2gym)) {
    const brand = brandNames.find((b) => name.toLowerCase().startsWith(b.toLowerCase() + ' '));
    if (!brand) {
      dropped.push({ name, reason: 'no Open EV Data brand prefixes the name' });
      continue;
    }
    const want = tokens(name.slice(brand.length));
    const matches = oed.data.filter((e) => {
      if (e.brand.toLowerCase() !== brand.toLowerCase()) return false;
      if (!(e.usable_battery_size > 0)) return false;
      const have = tokens(e.model);
      return want.length <= have.length && want.every((w, i) => have[i] === w);
    });
    if (matches.length === 0) {
      dropped.push({ name, reason: `no ${brand} entry whose model name starts with "${want.join(' ')}"` });
      continue;
    }
    const dBat = (e: OedEntry) => Math.abs(e.usable_battery_size - spec.battery_capacity);
    const dStar = Math.min(...matches.map(dBat));
    const band = matches.filter((e) => dBat(e) <= dStar + BATTERY_BAND_KWH + 1e-9);
    const key = (e: OedEntry): (number | string)[] => [
      isPlaceholder(e) ? 1 : 0,
      dBat(e),
      Math.abs((e.dc_charger?.max_power ?? 0) - spec.max_dc_charge_power),
      Math.abs((e.ac_charger?.max_power ?? 0) - spec.max_ac_charge_power),
      e.dc_charger?.is_default_charging_curve === true ? 1 : 0,
      e.id,
    ];
    band.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      for (let i = 0; i < ka.length; i++) {
        const x = ka[i]!;
        const y = kb[i]!;
        if (x < y) return -1;
        if (x > y) return 1;
      }
      return 0;
    });
    const e = band[0]!;
    const curvePts = (e.dc_charger?.charging_curve ?? [])
      .map((p) => [round6(p.percentage / 100), p.power] as [number, number])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const curve: [number, number][] = [];
    for (const p of curvePts) {
      const last = curve[curve.length - 1];
      if (!last || last[0] !== p[0] || last[1] !== p[1]) curve.push(p);
    }
    const cons = e.energy_consumption?.average_consumption;
    if (!(typeof cons === 'number' && cons > 0)) {
      dropped.push({ name, reason: `chosen variant ${e.id} has no average_consumption` });
      continue;
    }
    const dcMax = e.dc_charger?.max_power;
    models.push({
      name,
      weight: spec.number_of_registrations,
      usableBatteryKWh: e.usable_battery_size,
      consumptionKWhPerKm: round6(cons / 100),
      acMaxKW: e.ac_charger?.max_power ?? 0,
      acPhases: e.ac_charger?.usable_phases ?? null,
      dcMaxKW: typeof dcMax === 'number' && dcMax > 0 ? dcMax : null,
      dcCurve: curve,
      isDefaultCurve: e.dc_charger ? e.dc_charger.is_default_charging_curve === true : null,
      source: {
        ev2gymName: name,
        openEvDataId: e.id,
        brand: e.brand,
        model: e.model,
        variant: e.variant ? e.variant : null,
        releaseYear: e.release_year ?? null,
        candidates: matches.length,
        batteryDeltaKWh: round6(e.usable_battery_size - spec.battery_capacity),
        placeholderSuspect: isPlaceholder(e),
      },
      ev2gym: {
        batteryKWh: spec.battery_capacity,
        acMaxKW: spec.max_ac_charge_power,
        dcMaxKW: spec.max_dc_charge_power,
        registrations: spec.number_of_registrations,
      },
    });
  }

  return {
    description:
      'EV fleet mix for evsim: 13 popular Dutch models (weights = registrations, EV2Gym) with battery, consumption, AC/DC limits and DC charging curve of the best-matching Open EV Data variant.',
    attribution:
      'Open EV Data (https://github.com/KilowattApp/open-ev-data), MIT with attribution; EV2Gym (https://github.com/StavrosOrf/EV2Gym), MIT.',
    generatedBy: 'scripts/build-fleet.ts',
    sources: {
      ev2gym: {
        file: EV2GYM_FILE,
        repository: 'StavrosOrf/EV2Gym',
        path: 'ev2gym/data/ev_specs.json',
        commit: '2ec280fcc1a9',
        sha256_16: hashes.ev2gym,
        licence: 'MIT',
      },
      openEvData: {
        file: OED_FILE,
        repository: 'KilowattApp/open-ev-data',
        path: 'data/ev-data.json',
        commit: '32d7dc59e7b8',
        sha256_16: hashes.oed,
        licence: 'MIT with attribution requirement: "Open EV Data (https://github.com/KilowattApp/open-ev-data)"',
      },
    },
    selection:
      `brand prefix + model-token prefix match (ignoring a leading "e-"); among matches within ${BATTERY_BAND_KWH} kWh of the nearest usable battery: ` +
      'non-placeholder (dc max != usable battery) first, then nearest battery, nearest DC max, nearest AC max (vs ev2gym), model-specific curve, id',
    units: {
      usableBatteryKWh: 'kWh',
      consumptionKWhPerKm: 'kWh/km (Open EV Data average_consumption / 100)',
      acMaxKW: 'kW',
      dcMaxKW: 'kW (null = no DC charging)',
      dcCurve: '[[state of charge 0..1, kW], ...]',
      weight: 'ev2gym number_of_registrations (relative)',
    },
    models,
    dropped,
  };
}

function main(): void {
  const root = process.cwd();
  let ev2gymBytes: Buffer;
  let oedBytes: Buffer;
  try {
    ev2gymBytes = readFileSync(join(root, EV2GYM_FILE));
    oedBytes = readFileSync(join(root, OED_FILE));
  } catch (err) {
    throw new Error(`build-fleet: run from the repository root (${(err as Error).message})`);
  }
  const fleet = buildFleet(JSON.parse(ev2gymBytes.toString('utf8')), JSON.parse(oedBytes.toString('utf8')), {
    ev2gym: sha256Prefix(ev2gymBytes),
    oed: sha256Prefix(oedBytes),
  });
  writeFileSync(join(root, FLEET_FILE), serializeFleet(fleet));
  for (const m of fleet.models) {
    const s = m.source;
    process.stdout.write(
      `${m.name.padEnd(17)} w=${String(m.weight).padStart(6)} ${String(m.usableBatteryKWh).padStart(5)} kWh ` +
        `${m.consumptionKWhPerKm} kWh/km AC ${m.acMaxKW} DC ${m.dcMaxKW} <- ${s.brand} ${s.model} ${s.variant ?? ''} (${s.releaseYear}) ${s.openEvDataId}` +
        `${s.placeholderSuspect ? ' [placeholder?]' : ''}\n`,
    );
  }
  if (fleet.dropped.length) process.stdout.write(`dropped: ${fleet.dropped.map((d) => d.name).join(', ')}\n`);
  process.stdout.write(`wrote ${FLEET_FILE} (${fleet.models.length} models)\n`);
}

/** Stable serialisation: 2-space JSON, curve points kept on one line each, trailing newline. */
export function serializeFleet(f: FleetFile): string {
  return JSON.stringify(f, null, 2).replace(/\[\s+(-?[\d.e+-]+),\s+(-?[\d.e+-]+)\s+\]/g, '[$1, $2]') + '\n';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
