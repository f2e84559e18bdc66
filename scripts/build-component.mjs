// build/forge-core.wasm -> build/forge-core.component.wasm (world `core` of wit/forge.wit)
// -> gen/jco/ (jco-transpiled ESM bindings, used by the contract tests and vectors:check);
// the same for the SIMD module: build/forge-core-simd.wasm -> build/forge-core-simd.component.wasm
// -> gen/jco-simd/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentNew } from '@bytecodealliance/jco';
import { embedWorld } from './embed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// jco's JS entry run by this node (not node_modules/.bin/jco: on Windows that is a .cmd shim execFile cannot run).
const jco = join(root, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');

for (const [name, jcoDir] of [
  ['forge-core', 'jco'],
  ['forge-core-simd', 'jco-simd'],
]) {
  const core = join(root, 'build', `${name}.wasm`);
  const embedded = join(root, 'build', `${name}.embed.wasm`);
  const component = join(root, 'build', `${name}.component.wasm`);
  const outDir = join(root, 'gen', jcoDir);

  const withWit = await embedWorld(readFileSync(core), join(root, 'wit'), 'core');
  writeFileSync(embedded, withWit);
  // componentNew validates the module against the world: a missing export or a wrong
  // signature fails here.
  writeFileSync(component, await componentNew(withWit));
  console.log(`build-component: ${component}`);

  // Transpile next to the output and swap it in, so readers (tests running meanwhile) never see
  // an empty directory for long.
  const staging = `${outDir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync(process.execPath, [jco, 'transpile', component, '-o', staging, '--name', 'forge-core', '-q'], { stdio: 'inherit' });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  console.log(`build-component: jco bindings -> ${outDir}`);
}
