// Loads the direct loader (host/node/core/*.ts) from plain Node scripts: transpiles those files
// and base/errors.ts with its errno tables (no type check; tsc does that) into a temp dir and imports them. Scripts use
// this instead of dist/ so they never run a stale build of the loader.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Transpiles the loader into a fresh temp dir; returns `{ dir, importModule(name), cleanup() }`
 * where `importModule('core/checksum')` imports host/node/core/checksum.ts's transpiled copy.
 */
export function transpileLoader() {
  const dir = mkdtempSync(join(tmpdir(), 'forge-loader-'));
  const files = [
    ...readdirSync(join(root, 'host', 'node', 'core'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => join('core', f)),
    join('base', 'errors.ts'),
    join('base', 'errno-tables.ts'),
  ];
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(join(root, 'host', 'node', f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: f,
    }).outputText;
    const dest = join(dir, 'host', 'node', f.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  // The copy cannot find build/ by walking up from the temp dir.
  process.env.FORGE_CORE_WASM ??= join(root, 'build', 'forge-core.wasm');
  process.env.FORGE_CORE_SIMD_WASM ??= join(root, 'build', 'forge-core-simd.wasm');
  return {
    dir,
    importModule: (name) => import(pathToFileURL(join(dir, 'host', 'node', `${name}.js`)).href),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A core instance of the `kind` module ('scalar' or 'simd') from a transpiled loader, loaded with
 * FORGE_CORE set for that one call; returns it with the module the loader says it loaded.
 */
export async function loadCoreAs(loader, kind) {
  const { loadCore, coreInfo } = await loader.importModule('core/loader');
  const before = process.env.FORGE_CORE;
  process.env.FORGE_CORE = kind;
  try {
    return { core: loadCore(), loaded: coreInfo().module };
  } finally {
    if (before === undefined) delete process.env.FORGE_CORE;
    else process.env.FORGE_CORE = before;
  }
}
