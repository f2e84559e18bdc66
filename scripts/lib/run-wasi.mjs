// Runs build/forge-core-cli.wasm under Node's node:wasi (preview 1), with stdin/stdout/stderr
// the process's own and the filesystem root preopened as "/":
//   node scripts/lib/run-wasi.mjs <command> [args…]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wasm = process.env.FORGE_CLI_WASM ?? join(root, 'build', 'forge-core-cli.wasm');
const wasi = new WASI({
  version: 'preview1',
  args: ['forge-core-cli', ...process.argv.slice(2)],
  preopens: { '/': '/', '.': process.cwd() },
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(wasm));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
