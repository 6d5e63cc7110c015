/**
 * Golden tests: small, fast scenarios whose complete results folders (every file except
 * timing.json, which holds wall-clock figures) are saved under test/golden/expected/<name>/ and
 * compared byte for byte. After an intended change of the results, regenerate them with
 *
 *   REGEN=1 npx vitest run test/golden
 *
 * and review the diff of test/golden/expected/ before committing it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXPECTED = join(HERE, 'expected');
const REGEN = process.env.REGEN === '1';
const GOLDEN = ['grid-trips', 'mmc-short', 'acn-short'];

const tmp = mkdtempSync(join(tmpdir(), 'evsim-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Files under dir (relative, '/'-separated, sorted), timing.json left out. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== 'timing.json')
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

async function runQuiet(argv: string[]): Promise<number> {
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await main(argv);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('golden results folders', () => {
  it.each(GOLDEN)('%s: every results file is byte-identical to its saved copy in test/golden/expected/', async (name) => {
    const out = join(tmp, name);
    expect(await runQuiet(['run', join(HERE, 'scenarios', `${name}.yaml`), '--quiet', '--out', out])).toBe(0);
    const got = tree(out);
    expect(got.length).toBeGreaterThan(2);
    const want = join(EXPECTED, name);
    if (REGEN) {
      rmSync(want, { recursive: true, force: true });
      mkdirSync(want, { recursive: true });
      for (const f of got) cpSync(join(out, f), join(want, f));
    }
    expect(existsSync(want), `no saved results for ${name}; run REGEN=1 npx vitest run test/golden`).toBe(true);
    expect(got).toEqual(tree(want));
    for (const f of got) {
      const a = readFileSync(join(out, f));
      const b = readFileSync(join(want, f));
      // a text diff on failure; byte equality is what is asserted
      if (!a.equals(b)) expect(a.toString('utf8'), `${name}/${f} (REGEN=1 npx vitest run test/golden rewrites it)`).toBe(b.toString('utf8'));
      expect(a.equals(b), `${name}/${f}`).toBe(true);
    }
  });

  it('the saved golden files stay small (under 1 MB in all)', () => {
    let bytes = 0;
    for (const name of GOLDEN) for (const f of tree(join(EXPECTED, name))) bytes += readFileSync(join(EXPECTED, name, f)).length;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(1_000_000);
  });
});
