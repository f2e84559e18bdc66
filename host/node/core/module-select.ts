/**
 * The two builds of the core and which one a thread loads: the SIMD module where the engine validates
 * it, else the portable scalar one (`FORGE_CORE=scalar` forces it, `FORGE_CORE=simd` requires SIMD).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '../base/errors.js';

/** The two builds of the core: `scalar` runs in any WebAssembly engine, `simd` needs WebAssembly SIMD. */
export type CoreModuleKind = 'scalar' | 'simd';

const WASM_FILE: Record<CoreModuleKind, string> = { scalar: 'forge-core.wasm', simd: 'forge-core-simd.wasm' };
const WASM_ENV: Record<CoreModuleKind, string> = { scalar: 'FORGE_CORE_WASM', simd: 'FORGE_CORE_SIMD_WASM' };

/**
 * Finds build/forge-core.wasm (or, for `'simd'`, build/forge-core-simd.wasm) from this file, in the
 * source tree or in dist/. FORGE_CORE_WASM / FORGE_CORE_SIMD_WASM name the files instead.
 */
export function coreWasmPath(kind: CoreModuleKind = 'scalar'): string {
  const env = process.env[WASM_ENV[kind]];
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', WASM_FILE[kind]);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ForgeError('dependency', `build/${WASM_FILE[kind]} not found`, {
    context: { operation: 'loadCore', file: `build/${WASM_FILE[kind]}` },
    suggestions: [
      'Build the core with `npm run build:core` (or `npm ci`, which builds everything).',
      `Or point ${WASM_ENV[kind]} at a ${WASM_FILE[kind]} file.`,
    ],
  });
}

/** Which core module this thread loads, and why (see `selectCoreModule`). */
export interface CoreInfo {
  /** The module loaded: `simd` (build/forge-core-simd.wasm) or `scalar` (build/forge-core.wasm). */
  module: CoreModuleKind;
  /** Its file. */
  path: string;
  /** Why this one: e.g. `FORGE_CORE=scalar`, or `this engine does not validate WebAssembly SIMD`. */
  reason: string;
}

/**
 * Chooses the core module: the SIMD build when the engine validates it (`WebAssembly.validate`),
 * else the scalar one. The environment variable FORGE_CORE overrides the choice: `scalar` forces
 * the portable module, `simd` requires the SIMD one and fails (ForgeError `dependency`) when it is
 * missing or the engine cannot run it; unset or `auto` chooses.
 *
 * @example
 * ```ts
 * const { module, reason } = selectCoreModule();
 * console.log(`forge core: ${module} (${reason})`);
 * ```
 */
export function selectCoreModule(env: Record<string, string | undefined> = process.env): CoreInfo & { bytes: Uint8Array } {
  const want = (env.FORGE_CORE ?? '').trim().toLowerCase() || 'auto';
  if (want !== 'auto' && want !== 'scalar' && want !== 'simd') {
    throw new ForgeError('configuration', `FORGE_CORE=${env.FORGE_CORE} is not a core module`, {
      context: { operation: 'loadCore', setting: 'FORGE_CORE', value: env.FORGE_CORE ?? '' },
      suggestions: [
        'Set FORGE_CORE to `simd` (require the SIMD module), `scalar` (the portable module) or `auto` (the default: SIMD where the engine supports it).',
      ],
    });
  }
  const scalar = (reason: string) => {
    const path = coreWasmPath('scalar');
    return { module: 'scalar' as const, path, reason, bytes: readModule(path) };
  };
  if (want === 'scalar') return scalar('FORGE_CORE=scalar');
  let path: string;
  let bytes: Uint8Array;
  try {
    path = coreWasmPath('simd');
    bytes = readModule(path);
  } catch (cause) {
    if (want === 'simd') throw cause;
    return scalar(`no SIMD module to load (${(cause as Error).message})`);
  }
  if (WebAssembly.validate(bytes))
    return { module: 'simd', path, reason: want === 'simd' ? 'FORGE_CORE=simd' : 'the engine validates WebAssembly SIMD', bytes };
  if (want === 'simd') {
    throw new ForgeError('dependency', `FORGE_CORE=simd, but this engine does not validate ${path} (WebAssembly SIMD)`, {
      context: { operation: 'loadCore', file: path, setting: 'FORGE_CORE' },
      suggestions: [
        'Unset FORGE_CORE (or set it to `scalar`) to use the portable module.',
        'Rebuild the core with `npm run build:core` if the file is damaged.',
      ],
    });
  }
  return scalar(`this engine does not validate ${path} (WebAssembly SIMD)`);
}

function readModule(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ForgeError('dependency', `cannot read the core module ${path}`, {
      cause,
      context: { operation: 'loadCore', file: path },
      suggestions: ['Rebuild the core with `npm run build:core`.'],
    });
  }
}
