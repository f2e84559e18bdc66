// Builds the two core modules from core/index.ts (asconfig.json, target "release"):
//   build/forge-core.wasm       scalar, the portable module (wasm2c, wasm3, any engine)
//   build/forge-core-simd.wasm  the same sources with `--enable simd`: code under
//                               `if (ASC_FEATURE_SIMD)` (4-lane SHA-256 batches) is compiled in
// and checks that each imports nothing (it must run in any WebAssembly host) and that each
// exported function has one export name. The scalar module must contain no SIMD instruction.
//   node scripts/build-core.mjs [--debug]
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

/** Builds one variant; `simd` adds `--enable simd` and writes build/forge-core-simd.*. */
async function build(simd) {
  const base = target === 'release' ? 'build/forge-core' : 'build/forge-core.debug';
  const out = simd ? `${base.replace('forge-core', 'forge-core-simd')}.wasm` : `${base}.wasm`;
  const { error } = await asc.main(
    [
      'core/index.ts',
      '--config',
      'asconfig.json',
      '--target',
      target,
      // The transform gives exports their Canonical-ABI names (an absolute path: asc resolves
      // relative transform paths against its own package, not the config file).
      '--transform',
      join(root, 'scripts', 'cabi-transform.mjs'),
      ...(simd ? ['--enable', 'simd', '--outFile', out, '--textFile', out.replace(/\.wasm$/, '.wat')] : []),
    ],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) fail(`asc failed (${out}): ${error.message}`);

  // One export name per function (post-return functions with equal bodies were merged).
  const { bytes, thunks } = distinctExports(readFileSync(join(root, out)));
  if (thunks) {
    writeFileSync(join(root, out), bytes);
    const text = binaryen.readBinary(bytes);
    text.setFeatures(binaryen.Features.All);
    writeFileSync(join(root, out.replace(/\.wasm$/, '.wat')), text.emitText());
    text.dispose();
  }
  const shared = sharedFunctionExports(bytes);
  if (shared.length) fail(`${out}: functions exported under several names: ${JSON.stringify(shared)}`);
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length !== 0) {
    fail(`${out} must have zero imports, found: ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  }
  const wat = readFileSync(join(root, out.replace(/\.wasm$/, '.wat')), 'utf8');
  const vectorOps = (wat.match(/\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./g) ?? []).length;
  if (!simd && vectorOps) fail(`${out} contains ${vectorOps} SIMD instructions; the portable module must have none`);
  if (simd && !vectorOps) fail(`${out} contains no SIMD instruction: the ASC_FEATURE_SIMD code was not compiled in`);
  const exports = WebAssembly.Module.exports(module);
  console.log(`build-core: ${out}: ${exports.length} exports (${thunks} post-return thunks), 0 imports, ${vectorOps} SIMD instructions`);
}

function fail(message) {
  console.error(`build-core: ${message}`);
  process.exit(1);
}

await build(false);
await build(true);
