// Builds build/forge-core.wasm from core/index.ts (asconfig.json, target "release") and checks
// that the module imports nothing (it must run in any WebAssembly host, wasm2c included) and
// that each exported function has one export name.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import binaryen from 'binaryen';
import { distinctExports } from './lib/distinct-exports.mjs';
import { sharedFunctionExports } from './lib/wasm-exports.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv.includes('--debug') ? 'debug' : 'release';
mkdirSync(join(root, 'build'), { recursive: true });

process.chdir(root);
const { error } = await asc.main(
  [
    'core/index.ts', '--config', 'asconfig.json', '--target', target,
    // The transform gives exports their Canonical-ABI names (an absolute path: asc resolves
    // relative transform paths against its own package, not the config file).
    '--transform', join(root, 'scripts', 'cabi-transform.mjs'),
  ],
  { stdout: process.stdout, stderr: process.stderr },
);
if (error) {
  console.error(`build-core: asc failed: ${error.message}`);
  process.exit(1);
}

const out = target === 'release' ? 'build/forge-core.wasm' : 'build/forge-core.debug.wasm';
// One export name per function (post-return functions with equal bodies were merged).
const { bytes, thunks } = distinctExports(readFileSync(join(root, out)));
if (thunks) {
  writeFileSync(join(root, out), bytes);
  const text = binaryen.readBinary(bytes);
  writeFileSync(join(root, out.replace(/\.wasm$/, '.wat')), text.emitText());
  text.dispose();
}
const shared = sharedFunctionExports(bytes);
if (shared.length) {
  console.error(`build-core: functions exported under several names: ${JSON.stringify(shared)}`);
  process.exit(1);
}
const module = new WebAssembly.Module(bytes);
const imports = WebAssembly.Module.imports(module);
if (imports.length !== 0) {
  console.error(`build-core: ${out} must have zero imports, found: ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  process.exit(1);
}
const exports = WebAssembly.Module.exports(module);
console.log(`build-core: ${out}: ${exports.length} exports (${thunks} post-return thunks), 0 imports`);
