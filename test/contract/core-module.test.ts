// The core module itself: zero imports, and the contract check passes on the built tree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreWasmPath, exportName } from '../../host/node/core/loader.js';

describe('build/forge-core.wasm', () => {
  const module = new WebAssembly.Module(readFileSync(coreWasmPath()));

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
});
