// TypeScript declarations from wit/forge.wit (`jco types`), one directory per world:
// gen/types/core (what the core exports) and gen/types/host (what a platform host provides).
//   node scripts/build-types.mjs [outRoot]   (default gen/types; check-contract uses a temp dir)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// jco's JS entry run by this node (not node_modules/.bin/jco: on Windows that is a .cmd shim execFile cannot run).
const jco = join(root, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');

/** Generates the types of every world into `<outRoot>/<world>`. */
export function buildTypes(outRoot = join(root, 'gen', 'types')) {
  for (const world of ['core', 'host']) {
    const out = join(outRoot, world);
    rmSync(out, { recursive: true, force: true });
    execFileSync(process.execPath, [jco, 'types', join(root, 'wit'), '--world-name', world, '-o', out, '-q'], { stdio: 'inherit' });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outRoot = process.argv[2] ? resolve(process.argv[2]) : undefined;
  buildTypes(outRoot);
  console.log(`build-types: ${outRoot ?? join(root, 'gen', 'types')}/{core,host}`);
}
