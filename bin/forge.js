#!/usr/bin/env node
// The `forge` command: the CLI is compiled TypeScript in dist/ (built by `npm ci` through `prepare`).
//
// `forge watch`: a stop requested while the daemon is still loading is a clean stop (exit 0), not a
// death by signal (143). This is the first statement of the process's JavaScript, before any import
// (an ESM static import would be loaded first), so only Node's own startup runs under the default
// handler. The daemon replaces this handler with its own as soon as it has one.
if (process.argv[2] === 'watch') {
  const early = Object.assign(() => process.exit(0), { forgeEarly: true });
  process.on('SIGTERM', early).on('SIGINT', early);
}

const { existsSync } = await import('node:fs');
const main = new URL('../dist/host/node/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'forge: the compiled CLI is missing (dist/host/node/cli/main.js).\n  hint: run `npm ci` (or `npm run build`) in the forge-io directory first.\n',
  );
  process.exit(70);
}
if (process.argv[2] === 'watch') {
  // The daemon's V8 flags, before the CLI's modules load (they grow the heap): a leaf module.
  const { applyDaemonV8Flags } = await import(new URL('../dist/host/node/daemon/v8-flags.js', import.meta.url).href);
  applyDaemonV8Flags('launcher');
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
