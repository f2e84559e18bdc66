// Gives every exported function exactly one export name. Binaryen's optimizer merges functions
// with identical bodies, so post-return functions that all free one list end up as ONE function
// under many names; some hosts (wasm3) keep only a few names per function and would lose the
// rest. Each extra name gets a tiny distinct function that calls the shared one. Runs after
// optimization (the optimizer would merge the thunks again).
import binaryen from 'binaryen';
import { sharedFunctionExports } from './wasm-exports.mjs';

/**
 * Returns `bytes` with one function per function export (unchanged when already so).
 * @param {Uint8Array} bytes a WebAssembly module
 * @returns {{ bytes: Uint8Array, thunks: number }}
 */
export function distinctExports(bytes) {
  if (sharedFunctionExports(bytes).length === 0) return { bytes, thunks: 0 };
  const mod = binaryen.readBinary(bytes);
  mod.setFeatures(binaryen.Features.All);
  const byTarget = new Map();
  for (let i = 0, n = mod.getNumExports(); i < n; i++) {
    const info = binaryen.getExportInfo(mod.getExportByIndex(i));
    if (info.kind !== binaryen.ExternalFunction) continue;
    byTarget.set(info.value, [...(byTarget.get(info.value) ?? []), info.name]);
  }
  let thunks = 0;
  for (const [target, names] of byTarget) {
    if (names.length < 2) continue;
    const fn = binaryen.getFunctionInfo(mod.getFunction(target));
    const params = binaryen.expandType(fn.params);
    for (const name of names.slice(1)) {
      const thunk = `${target}$${++thunks}`;
      const args = params.map((t, i) => mod.local.get(i, t));
      mod.addFunction(thunk, fn.params, fn.results, [], mod.call(target, args, fn.results));
      mod.removeExport(name);
      mod.addFunctionExport(thunk, name);
    }
  }
  if (!mod.validate()) throw new Error('distinct-exports: the rewritten module does not validate');
  const out = mod.emitBinary();
  mod.dispose();
  return { bytes: out, thunks };
}
