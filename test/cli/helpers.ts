/** Shared by the CLI tests: run main(argv) in-process capturing stdout/stderr; run the built CLI. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const GOLDEN_SCENARIOS = join(ROOT, 'test', 'golden', 'scenarios');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(...argv: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture(err));
  let code: number;
  try {
    code = await main(argv);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** One line on stderr, no stack trace; returns it. */
export function oneLine(o: Outcome): string {
  expect(o.stderr).not.toContain('    at ');
  expect(o.stderr.endsWith('\n'), o.stderr).toBe(true);
  const ls = o.stderr.slice(0, -1).split('\n');
  expect(ls, o.stderr).toHaveLength(1);
  return ls[0]!;
}

/** Build dist/ from the current sources so subprocesses run what is tested. */
export function buildDist(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}
