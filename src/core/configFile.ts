/**
 * Reading a YAML config file (training and similar configs) against a zod schema: one UserError
 * line naming the file and what is wrong — the file cannot be read or parsed, or the first field
 * that does not validate, with its path and zod's message (plus an optional hint for that path).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { UserError } from './errors.js';

export function readConfigFile<S extends z.ZodType>(file: string, schema: S, what = 'the training config', hint?: (path: readonly PropertyKey[]) => string): z.output<S> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError([`${file}: cannot read ${what}: ${(e as Error).message.split('\n')[0]}`]);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const is = r.error.issues[0]!;
    throw new UserError([`${file}: ${is.path.join('.') || '(top level)'}: ${is.message}${hint ? hint(is.path) : ''}`]);
  }
  return r.data;
}
