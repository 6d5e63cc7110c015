/**
 * manifest.json: the identity of a results folder. It names the results schema version, the evsim
 * version, the validated scenario's hash, the seed, the stack(s), the models used, and every file
 * with its sha256 and size. It holds no wall-clock figure (those are in timing.json, which the
 * manifest deliberately does not list), so the same run gives a byte-identical manifest.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Scenario } from '../scenario/scenario.js';
import { assertInside } from './folder.js';

/**
 * Version of the results layout (manifest.json, summary.json fields, CSV columns). Bumped when a
 * file is added, removed or renamed, a column or field is removed, renamed or changes meaning or
 * unit; adding a field to a JSON object or a column at the end of a CSV does not bump it.
 */
export const RESULTS_SCHEMA_VERSION = 1;

/** JSON with object keys sorted (by UTF-16 code unit), no whitespace; undefined members dropped. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
    return v === undefined ? 'null' : JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

const posix = (p: string) => p.split(sep).join('/');

/**
 * The validated scenario as it is hashed: without `file` and `baseDir` (where it was read from);
 * any absolute path inside evsim's package becomes `<evsim>/...` (the default EV model table), and
 * any inside the scenario's folder becomes relative to it, so the same scenario hashes the same in
 * every checkout.
 */
export function scenarioForHash(sc: Scenario, packageRoot: string): unknown {
  const { file: _file, baseDir, ...rest } = sc;
  const inside = (root: string, p: string) => {
    const r = relative(root, p);
    return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : null;
  };
  const map = (v: unknown): unknown => {
    if (typeof v === 'string' && isAbsolute(v)) {
      const inPkg = inside(packageRoot, v);
      if (inPkg !== null) return `<evsim>/${posix(inPkg)}`;
      const inBase = inside(baseDir, v);
      if (inBase !== null) return posix(inBase);
      return v;
    }
    if (Array.isArray(v)) return v.map(map);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)]));
    return v;
  };
  // policy.models and policy.tfBackend affect only learned policies: left out of the hash
  // otherwise, so scenarios that use none keep the hash they had before these fields existed.
  // Likewise the calculating phase's fields (information, statusInterval, waitForReservation,
  // reservationTimeout) while it uses no ledger (information live, no waiting).
  let policy: Record<string, unknown> = rest.policy;
  if (rest.policy.allocation !== 'learned' && rest.policy.stationChoice !== 'learned') {
    const { models: _m, tfBackend: _b, ...p } = policy;
    policy = p;
  }
  if (rest.policy.information === 'live' && !rest.policy.waitForReservation) {
    const { information: _i, statusInterval: _s, waitForReservation: _w, reservationTimeout: _t, ...p } = policy;
    policy = p;
  }
  return map(omitLaterDefaults({ ...rest, policy }));
}

/**
 * Fields added after results schema version 1, left out of the hash while they hold their default
 * (the behaviour from before they existed), so a scenario that does not use them keeps its hash.
 * A field set to anything else is hashed as usual.
 */
export const LATER_FIELDS: readonly { path: readonly string[]; default: unknown }[] = [
  { path: ['output', 'parquet'], default: false },
  { path: ['site', 'exchange'], default: 'none' },
];

function omitLaterDefaults(v: Record<string, unknown>): Record<string, unknown> {
  let out = v;
  for (const f of LATER_FIELDS) {
    const parents: Record<string, unknown>[] = [];
    let cur: unknown = out;
    for (const k of f.path.slice(0, -1)) {
      if (!cur || typeof cur !== 'object') break;
      parents.push(cur as Record<string, unknown>);
      cur = (cur as Record<string, unknown>)[k];
    }
    const last = f.path[f.path.length - 1]!;
    if (parents.length !== f.path.length - 1 || !cur || typeof cur !== 'object' || !(last in cur)) continue;
    if (JSON.stringify((cur as Record<string, unknown>)[last]) !== JSON.stringify(f.default)) continue;
    // rebuild the path without the field (copies only along the path)
    const { [last]: _omit, ...leaf } = cur as Record<string, unknown>;
    let rebuilt: Record<string, unknown> = leaf;
    for (let i = parents.length - 1; i >= 0; i--) rebuilt = { ...parents[i]!, [f.path[i]!]: rebuilt };
    out = rebuilt;
  }
  return out;
}

export function sha256Hex(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

export function scenarioHash(sc: Scenario, packageRoot: string): string {
  return sha256Hex(canonicalJson(scenarioForHash(sc, packageRoot)));
}

export interface FileEntry {
  path: string;
  bytes: number;
  sha256: string;
}

/** sha256 and size of a file, read in 1 MiB chunks. */
export function fileEntry(root: string, rel: string): FileEntry {
  const abs = assertInside(root, join(root, rel));
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(abs, 'r');
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { path: posix(rel), bytes: statSync(abs).size, sha256: h.digest('hex') };
}

export interface ManifestIdentity {
  evsimVersion: string;
  scenarioName: string;
  scenarioSha256: string;
  seed: number;
  /** name → sha256 of each model file a run used (none yet) */
  models: Record<string, string>;
}

export type ManifestKind = 'run' | 'comparison' | 'comparison-stack';

export interface Manifest {
  schemaVersion: number;
  kind: ManifestKind;
  evsim: string;
  scenario: { name: string; sha256: string };
  seed: number;
  /** the stack of a run folder; absent in a comparison's top folder */
  stack?: string;
  /** the stacks of a comparison, in run order, each with its folder's manifest hash */
  stacks?: { name: string; manifest: string; sha256: string }[];
  models: Record<string, string>;
  files: FileEntry[];
}

const byPath = (a: FileEntry, b: FileEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Build the manifest of folder `dir` listing `files` (relative to dir; timing.json is never listed). */
export function buildManifest(
  dir: string,
  kind: ManifestKind,
  id: ManifestIdentity,
  files: readonly string[],
  stack: { stack: string } | { stacks: string[] },
): Manifest {
  const listed = files.filter((f) => f !== 'timing.json' && f !== 'manifest.json').map((f) => fileEntry(dir, f)).sort(byPath);
  const m: Manifest = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    kind,
    evsim: id.evsimVersion,
    scenario: { name: id.scenarioName, sha256: id.scenarioSha256 },
    seed: id.seed,
    models: { ...id.models },
    files: listed,
  };
  if ('stack' in stack) m.stack = stack.stack;
  else m.stacks = stack.stacks.map((name) => ({ name, manifest: `${name}/manifest.json`, sha256: fileEntry(dir, `${name}/manifest.json`).sha256 }));
  // fixed key order
  const { schemaVersion, evsim, scenario, seed, models, files: fl } = m;
  return { schemaVersion, kind, evsim, scenario, seed, ...(m.stack !== undefined ? { stack: m.stack } : {}), ...(m.stacks ? { stacks: m.stacks } : {}), models, files: fl };
}

export function manifestJson(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}
