// The core module itself: zero imports, one export name per function, and the contract check
// passes on the built tree.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreWasmPath, exportName } from '../../host/node/core/loader.js';
import { sharedFunctionExports, wasmExports } from '../../scripts/lib/wasm-exports.mjs';
import { requireTool } from '../support/reference-tools.js';

const objdump = requireTool('wasm-objdump', 'wabt', 'the export-section reader checked against wasm-objdump');

describe('build/forge-core.wasm', () => {
  const bytes = readFileSync(coreWasmPath());
  const module = new WebAssembly.Module(bytes);

  it('imports nothing (runs in any WebAssembly host, wasm2c included)', () => {
    expect(WebAssembly.Module.imports(module)).toEqual([]);
  });

  it('exports memory, cabi_realloc and the Canonical-ABI names', () => {
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(names).toContain('memory');
    expect(names).toContain('cabi_realloc');
    expect(names).toContain(exportName('checksum', 'sha256'));
    expect(names).toContain(`cabi_post_${exportName('checksum', 'sha256')}`);
    // No AssemblyScript-style names leaked past the transform.
    expect(names.filter((n) => n.includes('__'))).toEqual([]);
  });

  it('exports each function under exactly one name (hosts such as wasm3 keep only a few names per function)', () => {
    const funcs = wasmExports(bytes).filter((e) => e.kind === 'func');
    expect(funcs.length).toBe(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').length);
    expect(sharedFunctionExports(bytes)).toEqual([]);
    expect(new Set(funcs.map((e) => e.index)).size).toBe(funcs.length);
    // Every post-return export is there, one per function that returns through the return area.
    expect(funcs.filter((e) => e.name.startsWith('cabi_post_')).length).toBeGreaterThanOrEqual(10);
  });

  it('finds a shared function when there is one (the check can fail)', () => {
    // (module (func $f) (export "a" (func $f)) (export "b" (func $f)))
    const twoNames = Uint8Array.from([
      0,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0,
      1,
      4,
      1,
      0x60,
      0,
      0, // type: () -> ()
      3,
      2,
      1,
      0, // func 0 of type 0
      7,
      9,
      2,
      1,
      0x61,
      0,
      0,
      1,
      0x62,
      0,
      0, // exports "a", "b" -> func 0
      10,
      4,
      1,
      2,
      0,
      0x0b, // body
    ]);
    expect(WebAssembly.validate(twoNames)).toBe(true);
    expect(sharedFunctionExports(twoNames)).toEqual([[0, ['a', 'b']]]);
  });

  it.skipIf(!objdump)('the export reader agrees with wasm-objdump', () => {
    const r = spawnSync('wasm-objdump', ['-x', '-j', 'Export', coreWasmPath()], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const listed = [...r.stdout.matchAll(/^ - (func|memory|table|global)\[(\d+)\].*-> "(.*)"$/gm)].map((m) => ({
      name: m[3],
      kind: m[1],
      index: Number(m[2]),
    }));
    expect(listed.length).toBe(WebAssembly.Module.exports(module).length);
    expect(wasmExports(bytes)).toEqual(listed);
  });
});
