import { UserError } from '../src/core/errors.js';

/**
 * Seed lists of the scripts' --seeds option: ranges and single seeds, comma-separated ("1-5,8").
 */
export function parseSeeds(s: string, script: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) for (let i = Number(m[1]); i <= Number(m[2]); i++) out.push(i);
    else if (/^\d+$/.test(part)) out.push(Number(part));
    else throw new UserError([`${script}: --seeds ${s}: expected a list like 1-5,8`]);
  }
  return out;
}

/**
 * Run a script's main: a UserError (bad arguments or input) is printed as its lines on stderr with
 * exit status 2, never a stack trace; any other error propagates.
 */
export async function runScript(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    for (const l of e.lines) process.stderr.write(`${l}\n`);
    process.exitCode = 2;
  }
}
