// Makes the compiled dist/ publishable (idempotent; `npm run build:ts` and `prepack` run it):
// - copies the WIT-generated declarations (gen/types) to dist/gen/types, where the emitted .d.ts files
//   import them from: tsc does not emit declaration inputs;
// - gives the declarations that name `WebAssembly.*` a reference to dist/host/node/webassembly.d.ts:
//   consumers without the DOM lib (Node projects) have no WebAssembly namespace, and the source tree's
//   own host/node/core/webassembly.d.ts (classes) would clash with the DOM lib's where it is present,
//   so the published one declares empty interfaces only, which merge with any other declaration;
// - keeps better-sqlite3's types out of the published API: its connections and statements become
//   opaque interfaces, so consumers need no @types/better-sqlite3 (a dev dependency only).
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const WASM_TYPES = `/** Opaque WebAssembly types for consumers without the DOM lib; they merge with it where present. */
declare namespace WebAssembly {
  interface Module {}
  interface Instance {}
  interface Memory {}
}
`;
const SQLITE_IMPORT = /^import (type )?Database from 'better-sqlite3';$/m;
const SQLITE_OPAQUE = `/** better-sqlite3 objects, opaque in the published types (forge-io does not expose its SQLite driver). */
declare namespace Database {
  interface Database { readonly __driver?: 'better-sqlite3' }
  interface Statement { readonly __driver?: 'better-sqlite3' }
}`;

function* declarations(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* declarations(p);
    else if (e.name.endsWith('.d.ts')) yield p;
  }
}

export function finishDist(base = root) {
  const dist = join(base, 'dist');
  cpSync(join(base, 'gen', 'types'), join(dist, 'gen', 'types'), { recursive: true });
  const wasmTypes = join(dist, 'host', 'node', 'webassembly.d.ts');
  writeFileSync(wasmTypes, WASM_TYPES);
  let changed = 0;
  for (const file of declarations(join(dist, 'host'))) {
    if (file === wasmTypes) continue;
    let text = readFileSync(file, 'utf8');
    const before = text;
    if (/\bWebAssembly\./.test(text) && !text.includes('webassembly.d.ts')) {
      let ref = relative(dirname(file), wasmTypes).replaceAll('\\', '/');
      if (!ref.startsWith('.')) ref = `./${ref}`;
      text = `/// <reference path="${ref}" />\n${text}`;
    }
    text = text.replace(SQLITE_IMPORT, SQLITE_OPAQUE);
    if (text !== before) {
      writeFileSync(file, text);
      changed++;
    }
  }
  return changed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = finishDist();
  console.log(`finish-dist: gen/types copied to dist/gen/types, ${n} declaration files adjusted`);
}
