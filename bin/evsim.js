#!/usr/bin/env node
// Entry point of `npx evsim`: runs the compiled CLI (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `evsim: the compiled CLI is missing (${root}dist/); run \`npm install\` in ${root} first (it builds dist/), then \`npx evsim --help\`\n` +
      'evsim: if npx itself then fails with "ENOENT ... _npx/.../package.json", its cache was left broken by an older evsim: remove ~/.npm/_npx and try again\n',
  );
  process.exit(1);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));
