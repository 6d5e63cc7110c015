/**
 * A run owns its results folder. Everything is written into a fresh sibling temporary folder
 * (`.<name>.evsim-tmp-<pid>` next to --out) that is swapped in as a whole once every file is
 * complete (old folder renamed away to `.<name>.evsim-old-<pid>`, new one renamed in, old one
 * deleted), so a results folder always holds exactly one run's files. The checks before a run
 * refuse a --out that is not a folder, cannot be written, is not empty without being an evsim
 * result, or is an evsim result of another kind; they never create folders recursively through
 * mkdir -p (which hangs on /proc).
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.js';

/** A single run (one stack), a comparison of stacks (one folder per stack inside) or an evaluation. */
export type ResultsKind = 'run' | 'comparison' | 'evaluation';

const KIND_WORDS: Record<string, string> = {
  run: 'a single run',
  comparison: 'a comparison of ledger stacks',
  'comparison-stack': 'one stack folder of a comparison',
  evaluation: 'an evaluation (evsim evaluate)',
};

/** `.<name>.evsim-tmp-<pid>` / `.<name>.evsim-old-<pid>` */
export const LEFTOVER_PATTERN = /^\.(.+)\.evsim-(tmp|old)-(\d+)$/;

/** Throws unless `p` resolves to `root` or a path inside it. */
export function assertInside(root: string, p: string): string {
  const abs = resolve(p);
  const r = relative(resolve(root), abs);
  if (r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
    throw new Error(`refusing to write ${abs}: outside the results folder ${resolve(root)}`);
  }
  return abs;
}

/** Is a process with this id alive (or owned by someone else, hence alive)? */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface OutFolder {
  /** the results folder (absolute) */
  out: string;
  /** the temporary folder everything is written into */
  tmp: string;
  /** what --out held before: nothing, an empty folder, or an evsim result of the same kind */
  before: 'nothing' | 'empty' | 'result';
  /** ancestor folders this run created (removed again if the run does not complete) */
  created: string[];
}

function codeOf(e: unknown): string {
  const c = (e as NodeJS.ErrnoException).code;
  if (c === 'EACCES' || c === 'EPERM') return 'permission denied';
  if (c === 'EROFS') return 'read-only file system';
  if (c === 'ENOENT') return 'no such folder';
  if (c === 'ENOTDIR') return 'a path component is not a folder';
  if (c === 'ENOSPC') return 'no space left';
  return c ?? String(e);
}

interface ManifestView {
  kind?: unknown;
  schemaVersion?: unknown;
  files?: { path?: unknown }[];
  stacks?: { name?: unknown }[];
}

function readManifest(dir: string): ManifestView | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestView;
    return m && typeof m.kind === 'string' && typeof m.schemaVersion === 'number' ? m : null;
  } catch {
    return null;
  }
}

/**
 * Entries of an evsim results folder that its manifest does not account for (files someone put
 * there): a run replaces the folder as a whole, so it refuses to delete them. Paths relative to dir.
 */
export function unlistedEntries(dir: string, prefix = ''): string[] {
  const m = readManifest(dir);
  // report.html (evsim report / run --report) is derived from the listed files, like timing.json not listed
  const known = new Set(['manifest.json', 'timing.json', 'report.html']);
  for (const f of m?.files ?? []) if (typeof f.path === 'string') known.add(f.path);
  const stacks = new Set((m?.stacks ?? []).map((x) => x.name).filter((x): x is string => typeof x === 'string'));
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && stacks.has(e.name)) out.push(...unlistedEntries(join(dir, e.name), `${prefix}${e.name}/`));
    else if (!(e.isFile() && known.has(e.name))) out.push(`${prefix}${e.name}${e.isDirectory() ? '/' : ''}`);
  }
  return out;
}

/** A folder whose manifest is readable and whose listed files (and stack folders) all exist. */
function isCompleteResult(dir: string): boolean {
  const m = readManifest(dir);
  if (!m) return false;
  for (const f of m.files ?? []) if (typeof f.path !== 'string' || !existsSync(join(dir, f.path))) return false;
  for (const st of m.stacks ?? []) if (typeof st.name !== 'string' || !isCompleteResult(join(dir, st.name))) return false;
  return true;
}

/**
 * Remove the leftovers of dead runs in `parent` (temporary and old folders whose process is gone),
 * one notice line each. A dead run's old folder whose results folder is missing (it died between
 * the two renames of the swap) is renamed back instead. Returns whether `name` was restored.
 */
export function cleanLeftovers(parent: string, name: string, notice: (line: string) => void): boolean {
  let siblings: string[] = [];
  try {
    siblings = readdirSync(parent);
  } catch {
    return false; // no parent yet, or unreadable: nothing to clean
  }
  let restored = false;
  // old folders first, so that a restore happens before the matching tmp folder is removed
  const found = siblings
    .map((e) => ({ e, m: LEFTOVER_PATTERN.exec(e) }))
    .filter((x): x is { e: string; m: RegExpExecArray } => x.m !== null && !pidAlive(Number(x.m[3])))
    .sort((a, b) => (a.m[2] === b.m[2] ? 0 : a.m[2] === 'old' ? -1 : 1));
  for (const { e, m } of found) {
    const path = join(parent, e);
    const target = join(parent, m[1]!);
    if (m[2] === 'old' && !existsSync(target) && isCompleteResult(path)) {
      try {
        renameSync(path, target);
        notice(`evsim: restored ${target} from ${path}, left by a run that died while replacing it (process ${m[3]})`);
        if (m[1] === name) restored = true;
        continue;
      } catch {
        /* fall through: remove it */
      }
    }
    try {
      rmSync(path, { recursive: true, force: true });
      notice(`evsim: removed ${path}, left over by an interrupted run (process ${m[3]} is gone)`);
    } catch (err) {
      notice(`evsim: could not remove ${path}, left over by an interrupted run (${codeOf(err)})`);
    }
  }
  return restored;
}

/**
 * Check --out and create its temporary sibling folder; throws a one-line UserError naming --out
 * when the folder cannot be used. `notice` gets one line per leftover of a dead run it removed.
 */
export function prepareOut(outArg: string, kind: ResultsKind, notice: (line: string) => void): OutFolder {
  const fail = (why: string): never => {
    throw new UserError([`--out ${outArg === '' ? "''" : outArg}: ${why}`]);
  };
  if (outArg.trim() === '') fail('must name a folder (got an empty string)');
  let out = resolve(outArg);
  let before: OutFolder['before'] = 'nothing';
  const examine = () => {
    try {
      return lstatSync(out);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(`cannot be examined (${codeOf(e)})`);
      return undefined;
    }
  };
  let st = examine();
  if (st?.isSymbolicLink()) {
    try {
      out = realpathSync(out);
      st = statSync(out);
    } catch (e) {
      fail(`is a link that leads nowhere usable (${codeOf(e)})`);
    }
  }
  if (cleanLeftovers(dirname(out), basename(out), notice)) st = examine();
  if (st) {
    if (st!.isFile()) fail('is a file, not a folder; name a new or empty folder');
    if (!st!.isDirectory()) fail('is a device or special file, not a folder; name a new or empty folder');
    let entries: string[] = [];
    try {
      entries = readdirSync(out);
    } catch (e) {
      fail(`cannot be read (${codeOf(e)})`);
    }
    if (entries.length === 0) before = 'empty';
    else {
      const k = readManifest(out)?.kind as string | undefined;
      if (k === undefined) fail('is not empty and holds no evsim results (no manifest.json); name a new or empty folder, or remove it first');
      if (k !== kind) fail(`holds ${KIND_WORDS[k!] ?? `evsim results of kind "${k}"`}; this run writes ${KIND_WORDS[kind]}; use another folder or remove it first`);
      const extra = unlistedEntries(out);
      if (extra.length) {
        const shown = extra.slice(0, 3).join(', ') + (extra.length > 3 ? ` and ${extra.length - 3} more` : '');
        fail(`holds files that are not part of its evsim results (${shown}); a run replaces the folder as a whole, so move them away first`);
      }
      before = 'result';
    }
    const cwd = resolve(process.cwd());
    const r = relative(out, cwd);
    if (r === '' || !(r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r))) {
      fail('is the working directory or contains it; a run replaces its folder as a whole; name another folder');
    }
  }
  const parent = dirname(out);
  if (parent === out) fail('cannot be the root of the file system');

  // create missing ancestors one level at a time (mkdir -p hangs on /proc)
  const missing: string[] = [];
  let p = parent;
  for (;;) {
    try {
      const s = statSync(p);
      if (!s.isDirectory()) fail(`${p} is not a folder`);
      break;
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (e instanceof UserError) throw e;
      if (c !== 'ENOENT') fail(`cannot reach ${p} (${codeOf(e)})`);
      missing.push(p);
      const up = dirname(p);
      if (up === p) fail(`cannot reach ${p} (no such folder)`);
      p = up;
    }
  }
  const created: string[] = [];
  const undo = () => {
    for (const d of [...created].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* not empty any more: leave it */
      }
    }
  };
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
      created.push(d);
    } catch (e) {
      undo();
      const c = (e as NodeJS.ErrnoException).code;
      fail(`cannot create the folder ${d} (${c === 'ENOENT' ? 'its file system does not allow new folders' : codeOf(e)})`);
    }
  }
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (e) {
    undo();
    fail(`cannot write in ${parent} (${codeOf(e)})`);
  }

  const tmp = join(parent, `.${basename(out)}.evsim-tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
  } catch (e) {
    undo();
    const c = (e as NodeJS.ErrnoException).code;
    fail(`cannot create a folder in ${parent} (${c === 'ENOENT' ? 'its file system does not allow new folders' : codeOf(e)})`);
  }
  return { out, tmp, before, created };
}

/** Swap the complete temporary folder in place of --out. */
export function commitOut(f: OutFolder): void {
  if (f.before === 'nothing') {
    renameSync(f.tmp, f.out);
    return;
  }
  const old = join(dirname(f.out), `.${basename(f.out)}.evsim-old-${process.pid}`);
  rmSync(old, { recursive: true, force: true });
  renameSync(f.out, old);
  try {
    renameSync(f.tmp, f.out);
  } catch (e) {
    renameSync(old, f.out);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

/** Remove the temporary folder (and ancestors this run created); --out stays as it was. */
export function abortOut(f: OutFolder): void {
  rmSync(f.tmp, { recursive: true, force: true });
  for (const d of [...f.created].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      /* not empty: leave it */
    }
  }
}
