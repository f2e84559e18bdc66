#!/usr/bin/env node
// The `forge` command: the CLI is compiled TypeScript in dist/ (built by `npm ci` through `prepare`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/host/node/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('forge: the compiled CLI is missing (dist/host/node/cli/main.js).\n  hint: run `npm ci` (or `npm run build`) in the forge-io directory first.\n');
  process.exit(70);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
