// Which core module the direct loader picks: the SIMD build where WebAssembly.validate accepts it,
// the scalar one with FORGE_CORE=scalar or where SIMD does not validate; FORGE_CORE=simd fails
// clearly when the SIMD module cannot run. Real files and the real engine; the process-wide choice
// is checked in child processes that load the package entry from dist/.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreWasmPath, selectCoreModule } from '../../host/node/core/loader.js';
import { ForgeError } from '../../host/node/base/errors.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'forge-core-select-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `coreInfo()` and one sha256Batch through dist/'s `forge-io/core` entry in a fresh process. */
function childChoice(env: Record<string, string>) {
  const script = `
    const m = await import(${JSON.stringify(join(root, 'dist', 'host', 'node', 'core-entry.js'))});
    try {
      const d = m.sha256Batch([new Uint8Array(100), new Uint8Array(100).fill(1), new Uint8Array(3)]);
      console.log(JSON.stringify({ ...m.coreInfo(), digests: d.map((x) => Buffer.from(x).toString('hex')) }));
    } catch (e) { console.log(JSON.stringify({ error: e.message, category: e.category })); }`;
  const clean = { ...process.env };
  delete clean.FORGE_CORE;
  delete clean.FORGE_CORE_WASM;
  delete clean.FORGE_CORE_SIMD_WASM;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}
const want = [new Uint8Array(100), new Uint8Array(100).fill(1), new Uint8Array(3)].map((b) => createHash('sha256').update(b).digest('hex'));

describe('core module selection', () => {
  it('picks the SIMD module by default on an engine that validates it (Node 20: V8 has SIMD)', () => {
    const info = selectCoreModule({});
    expect(info.module).toBe('simd');
    expect(info.path).toBe(coreWasmPath('simd'));
    expect(info.reason).toMatch(/validates WebAssembly SIMD/);
    expect(selectCoreModule({ FORGE_CORE: 'auto' }).module).toBe('simd');
  });

  it('FORGE_CORE=scalar forces the portable module; FORGE_CORE=simd requires the SIMD one', () => {
    expect(selectCoreModule({ FORGE_CORE: 'scalar' })).toMatchObject({ module: 'scalar', path: coreWasmPath('scalar'), reason: 'FORGE_CORE=scalar' });
    expect(selectCoreModule({ FORGE_CORE: 'SIMD' })).toMatchObject({ module: 'simd', reason: 'FORGE_CORE=simd' });
  });

  it('rejects an unknown FORGE_CORE value with a configuration ForgeError', () => {
    const err = (() => {
      try {
        selectCoreModule({ FORGE_CORE: 'avx' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).category).toBe('configuration');
    expect((err as ForgeError).message).toMatch(/FORGE_CORE=avx/);
  });

  it('the process-wide choice: coreInfo() reports it and sha256Batch is right on each', () => {
    const auto = childChoice({});
    expect(auto).toMatchObject({ module: 'simd', digests: want });
    expect(childChoice({ FORGE_CORE: 'scalar' })).toMatchObject({ module: 'scalar', digests: want });
    expect(childChoice({ FORGE_CORE: 'simd' })).toMatchObject({ module: 'simd', digests: want });
  });

  it('falls back to scalar when the SIMD module does not validate, and FORGE_CORE=simd then fails clearly', () => {
    // A truncated SIMD module: WebAssembly.validate (the real one) rejects it, as an engine without SIMD would.
    const broken = join(dir, 'forge-core-simd.wasm');
    writeFileSync(broken, readFileSync(coreWasmPath('simd')).subarray(0, 4000));
    const fallback = childChoice({ FORGE_CORE_SIMD_WASM: broken });
    expect(fallback).toMatchObject({ module: 'scalar', digests: want });
    expect(fallback.reason).toMatch(/does not validate/);
    const required = childChoice({ FORGE_CORE_SIMD_WASM: broken, FORGE_CORE: 'simd' });
    expect(required.category).toBe('dependency');
    expect(required.error).toMatch(/FORGE_CORE=simd, but this engine does not validate/);
  });

  it('falls back to scalar when no SIMD module was built; FORGE_CORE=simd then names the missing file', () => {
    const missing = join(dir, 'absent', 'forge-core-simd.wasm');
    const fallback = childChoice({ FORGE_CORE_SIMD_WASM: missing });
    expect(fallback).toMatchObject({ module: 'scalar', digests: want });
    const required = childChoice({ FORGE_CORE_SIMD_WASM: missing, FORGE_CORE: 'simd' });
    expect(required.category).toBe('dependency');
    expect(required.error).toMatch(/absent/);
  });
});
