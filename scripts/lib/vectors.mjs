// The vector areas: every scripts/vectors/<name>.mjs that exports `generate` is one area, stored
// as vectors/<name>.json. An area module exports:
//   name, description
//   generate(): Promise<case[]>     JSON-serialisable cases; expected outputs from independent tools
//   expected(case)                  the expected output, JSON-comparable
//   check(api, case)                the output through an API shaped like world core's interfaces
//                                   (the direct loader's bindings or the jco bindings)
//   checkNative(core, case)         the output through NativeCore (wasm2c build), async
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const vectorsDir = join(root, 'vectors');
const areasDir = join(root, 'scripts', 'vectors');

/** Every area module, by name. */
export async function loadAreas() {
  const areas = new Map();
  for (const f of readdirSync(areasDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    const mod = await import(pathToFileURL(join(areasDir, f)).href);
    if (typeof mod.generate === 'function') areas.set(mod.name, mod);
  }
  return areas;
}

/** The stored vectors of an area (null when its JSON file does not exist yet). */
export function readVectors(name) {
  const file = join(vectorsDir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}
