/**
 * The documentation: README.md and every page under docs/.
 *
 * - Every relative link resolves: the file (or folder) exists, and an anchor (`page.md#anchor` or
 *   `#anchor`) is produced by a heading of the target page, with GitHub's anchor rules (lower case,
 *   punctuation dropped, spaces → hyphens, `-1`, `-2`, … for repeated headings).
 * - Every repository path named in inline code (`src/…`, `test/…`, `scenarios/…`, …) exists, so
 *   the docs cannot keep naming a folder that was moved.
 * - The README's scenario table lists every scenario file under scenarios/, and its Documentation
 *   index links every page under docs/.
 * Links and code inside fenced code blocks are not read; links inside inline code are not links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** GitHub's anchor of a heading (github-slugger): rendered text, lower-cased, punctuation removed. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images → their text
    .replace(/`([^`]*)`/g, '$1') // code spans → their content
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Lines outside fenced code blocks, with their 1-based line numbers. */
function proseLines(md: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | null = null;
  md.split('\n').forEach((text, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(text);
    if (m) {
      if (fence === null) fence = m[1]![0]!.repeat(m[1]!.length);
      else if (m[1]!.startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push({ line: i + 1, text });
  });
  return out;
}

/** Anchors produced by the headings of a Markdown document (ATX headings outside code blocks). */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text } of proseLines(md)) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline code spans and link targets of the prose (code spans are removed before links are read). */
export function scan(md: string): { links: { line: number; target: string }[]; code: { line: number; text: string }[] } {
  const links: { line: number; target: string }[] = [];
  const code: { line: number; text: string }[] = [];
  for (const { line, text } of proseLines(md)) {
    const bare = text.replace(/(`+)(.+?)\1/g, (_, _ticks, inner: string) => {
      code.push({ line, text: inner.trim() });
      return '';
    });
    for (const m of bare.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line, target: m[1]! });
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(bare);
    if (ref) links.push({ line, target: ref[1]! });
  }
  return { links, code };
}

export interface Doc {
  path: string; // relative to the repository root, with forward slashes
  text: string;
}

/** One line per broken relative link: a missing file or folder, or an anchor no heading produces. */
export function brokenLinks(docs: readonly Doc[], exists: (p: string) => boolean): string[] {
  const byPath = new Map(docs.map((d) => [d.path, d]));
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (p: string): Set<string> | undefined => {
    const d = byPath.get(p);
    if (!d) return undefined;
    let a = anchorCache.get(p);
    if (!a) anchorCache.set(p, (a = anchors(d.text)));
    return a;
  };
  const bad: string[] = [];
  for (const d of docs) {
    for (const { line, target } of scan(d.text).links) {
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // absolute URL, mailto:, …
      const hash = target.indexOf('#');
      const file = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
      const to = file === '' ? d.path : posix.normalize(posix.join(posix.dirname(d.path), file));
      const where = `${d.path}:${line}: ${target}`;
      if (to.startsWith('../') || file.startsWith('/')) {
        bad.push(`${where}: points outside the repository`);
        continue;
      }
      if (!byPath.has(to) && !exists(to)) {
        bad.push(`${where}: no such file`);
        continue;
      }
      if (anchor === null || anchor === '') continue;
      const a = anchorsOf(to);
      if (!a) bad.push(`${where}: anchor into a file that is not a Markdown page`);
      else if (!a.has(anchor)) bad.push(`${where}: no heading of ${to} produces #${anchor}`);
    }
  }
  return bad;
}

const REPO_PATH = /^(src|test|bench|scripts|scenarios|data|docs|notebooks)\/[\w.\/-]*$/;

/** One line per repository path in inline code that does not exist. */
export function missingPaths(docs: readonly Doc[], exists: (p: string) => boolean): string[] {
  const bad: string[] = [];
  for (const d of docs) {
    for (const { line, text } of scan(d.text).code) {
      if (REPO_PATH.test(text) && !exists(text.replace(/\/$/, ''))) bad.push(`${d.path}:${line}: \`${text}\` does not exist`);
      if (/(^|[\s(])(sim|agents)\//.test(text)) bad.push(`${d.path}:${line}: \`${text}\` names a folder of the old layout`);
    }
  }
  return bad;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

const rel = (p: string) => relative(ROOT, p).split('\\').join('/');
const existsInRepo = (p: string) => existsSync(join(ROOT, p));

describe('docs', () => {
  const pages = walk(join(ROOT, 'docs')).filter((p) => p.endsWith('.md')).map(rel).sort();
  const docs: Doc[] = ['README.md', ...pages].map((p) => ({ path: p, text: readFileSync(join(ROOT, p), 'utf8') }));
  const readme = docs[0]!.text;

  it('docs/ has pages', () => {
    expect(pages.length).toBeGreaterThan(0);
  });

  it('every relative link and anchor of README.md and docs/**/*.md resolves', () => {
    expect(brokenLinks(docs, existsInRepo)).toEqual([]);
  });

  it('every repository path named in inline code exists (no folder of the old layout)', () => {
    expect(missingPaths(docs, existsInRepo)).toEqual([]);
  });

  it("the README's scenario table lists every shipped scenario file", () => {
    const section = readme.slice(readme.indexOf('\n## Scenarios\n'), readme.indexOf('\n## ', readme.indexOf('\n## Scenarios\n') + 1));
    expect(section.length).toBeGreaterThan(0);
    const files = walk(join(ROOT, 'scenarios'))
      .map((p) => relative(join(ROOT, 'scenarios'), p).split('\\').join('/'))
      .filter((p) => /\.(ya?ml|json)$/.test(p) && p !== 'scenario.schema.json');
    expect(files.length).toBeGreaterThan(0);
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const listed = rows.map((l) => /^\| `([^`]+)`/.exec(l)![1]!);
    expect(listed.slice().sort()).toEqual(files.slice().sort());
    for (const r of rows) expect(r.split('|')[2]!.trim().length, r).toBeGreaterThan(10);
  });

  it("the README's Documentation index links every page under docs/", () => {
    const start = readme.indexOf('\n## Documentation\n');
    expect(start).toBeGreaterThan(0);
    const index = readme.slice(start);
    const linked = new Set(scan(index).links.map((l) => l.target.split('#')[0]!));
    for (const p of pages) expect(linked.has(p), p).toBe(true);
  });
});

describe('the checks themselves', () => {
  it('slugs follow GitHub', () => {
    expect(slug('Kernel (`src/core/kernel.ts`)')).toBe('kernel-srccorekernelts');
    expect(slug('Libraries, and why')).toBe('libraries-and-why');
    expect(slug('Overrides from the command line (`--set`)')).toBe('overrides-from-the-command-line---set');
    expect(slug('`pow` (`src/ledger/backends/pow.ts`)')).toBe('pow-srcledgerbackendspowts');
    expect(slug('Tip selection: `mcmc_walk` [see](x.md)')).toBe('tip-selection-mcmc_walk-see');
    expect([...anchors('# A\n## A\n```sh\n# not a heading\n```\n### A')]).toEqual(['a', 'a-1', 'a-2']);
  });

  it('finds a missing file, a missing anchor and a path outside, and accepts good links', () => {
    const docs: Doc[] = [
      { path: 'README.md', text: '# Top\nSee [m](docs/m.md#two), [self](#top), [web](https://x.org/a#b), `[x](nowhere.md)`.\n' },
      {
        path: 'docs/m.md',
        text:
          '# One\n## Two\n[back](../README.md#top) [gone](gone.md) [bad](#three) [up](../../x.md)\n' +
          '```md\n[in code](missing.md)\n```\n[data](../data/f.csv#x) [ref-ok]\n\n[ref-ok]: ../README.md\n[ref-bad]: nope.md\n',
      },
    ];
    const bad = brokenLinks(docs, (p) => p === 'data/f.csv');
    expect(bad).toEqual([
      'docs/m.md:3: gone.md: no such file',
      'docs/m.md:3: #three: no heading of docs/m.md produces #three',
      'docs/m.md:3: ../../x.md: points outside the repository',
      'docs/m.md:7: ../data/f.csv#x: anchor into a file that is not a Markdown page',
      'docs/m.md:10: nope.md: no such file',
    ]);
  });

  it('finds paths that do not exist and folders of the old layout', () => {
    const docs: Doc[] = [{ path: 'README.md', text: 'Uses `src/core/kernel.ts`, `src/gone.ts`, `sim/kernel.ts` and `agents/ev.ts`; `a + b` is no path.\n' }];
    expect(missingPaths(docs, (p) => p === 'src/core/kernel.ts')).toEqual([
      'README.md:1: `src/gone.ts` does not exist',
      'README.md:1: `sim/kernel.ts` names a folder of the old layout',
      'README.md:1: `agents/ev.ts` names a folder of the old layout',
    ]);
  });
});

describe('docs/architecture.md', () => {
  it('names every source file of src/ (a new file needs its line)', async () => {
    const { readdirSync, readFileSync: read } = await import('node:fs');
    const { join: j } = await import('node:path');
    const root = j(import.meta.dirname, '..');
    const doc = read(j(root, 'docs', 'architecture.md'), 'utf8');
    const missing: string[] = [];
    for (const layer of readdirSync(j(root, 'src'))) {
      for (const f of readdirSync(j(root, 'src', layer))) {
        if (!f.endsWith('.ts')) continue;
        if (!doc.includes(`\`${f}\``)) missing.push(`src/${layer}/${f}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
