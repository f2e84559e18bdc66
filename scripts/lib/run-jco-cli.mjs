// Runs the forge-core-cli component through its jco bindings (gen/jco-cli/, made by
// scripts/build-cli.mjs) on Node with @bytecodealliance/preview2-shim:
//   node scripts/lib/run-jco-cli.mjs <command> [args…]
// Unlike `jco run`, it lets stdout drain before exiting, so large outputs through a pipe arrive whole.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.argv[1] = 'forge-core-cli'; // the shim passes argv[1..] as the component's arguments
const mod = await import(pathToFileURL(join(root, 'gen', 'jco-cli', 'forge-core-cli.js')).href);
await mod.run.run(); // a non-zero exit status leaves through the shim's process.exit
