// Builds build/forge-core-cli.wasm: the core as a WASI (preview 1) command, from the same core/
// sources as build/forge-core.wasm, with @assemblyscript/wasi-shim providing the WASI bindings.
// Also wraps it as a component (build/forge-core-cli.component.wasm) with the WASI adapter that
// jco ships, so component runtimes (wasmtime, jco run) can run it too, and transpiles that with jco.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { componentNew } from '@bytecodealliance/jco';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'forge-core-cli.wasm');
const componentOut = join(root, 'build', 'forge-core-cli.component.wasm');
mkdirSync(join(root, 'build'), { recursive: true });

process.chdir(root);
const { error } = await asc.main(
  [
    'core/cli/main.ts',
    '--config',
    'node_modules/@assemblyscript/wasi-shim/asconfig.json',
    '-o',
    out,
    '--optimizeLevel',
    '3',
    '--shrinkLevel',
    '0',
    '--converge',
    '--noAssert',
    '--runtime',
    'minimal',
    '--disable',
    'simd',
  ],
  { stdout: process.stdout, stderr: process.stderr },
);
if (error) {
  console.error(`build-cli: asc failed: ${error.message}`);
  process.exit(1);
}

const module = new WebAssembly.Module(readFileSync(out));
const foreign = WebAssembly.Module.imports(module).filter((i) => i.module !== 'wasi_snapshot_preview1');
if (foreign.length) {
  console.error(`build-cli: imports outside WASI preview 1: ${foreign.map((i) => `${i.module}.${i.name}`).join(', ')}`);
  process.exit(1);
}
if (!WebAssembly.Module.exports(module).some((e) => e.name === '_start')) {
  console.error('build-cli: no _start export: not a WASI command');
  process.exit(1);
}
const adapter = readFileSync(join(root, 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.command.wasm'));
writeFileSync(componentOut, await componentNew(readFileSync(out), [['wasi_snapshot_preview1', adapter]]));

// jco's ESM bindings of the component (gen/jco-cli/), which scripts/lib/run-jco-cli.mjs runs.
const jcoOut = join(root, 'gen', 'jco-cli');
const staging = `${jcoOut}.${process.pid}.tmp`;
rmSync(staging, { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'jco'), ['transpile', componentOut, '-o', staging, '--name', 'forge-core-cli', '-q'], { stdio: 'inherit' });
rmSync(jcoOut, { recursive: true, force: true });
renameSync(staging, jcoOut);
console.log(`build-cli: ${out} (WASI command), ${componentOut} (component), ${jcoOut} (jco bindings)`);
