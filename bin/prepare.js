#!/usr/bin/env node
// The `prepare` script (run by `npm install`, and by npx when it installs evsim into its cache):
// build dist/ with TypeScript. Without TypeScript installed (`npx evsim` in a fresh clone, before
// `npm install`) it says so and succeeds instead of failing: a failing prepare step leaves npx's
// cache entry broken, and every later `npx evsim` would then fail even after `npm install`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
if (!existsSync(tsc)) {
  process.stderr.write(`evsim: TypeScript is not installed yet, so the CLI is not built; run \`npm install\` in ${root}\n`);
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
