// The direct loader's mechanics: memory growth, traps, callee-owned arguments, instances.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultCore, exportName, loadCore, postExportName } from '../../host/node/core/loader.js';
import { bindings, sha256 } from '../../host/node/core/checksum.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { randomBytes } from '../../vectors/prng.mjs';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('direct loader', () => {
  it('names exports the way the Canonical ABI does', () => {
    expect(exportName('checksum', 'sha256-batch')).toBe('forge:core/checksum@0.1.0#sha256-batch');
    expect(postExportName('codec', 'lz4-frame-compress')).toBe('cabi_post_forge:core/codec@0.1.0#lz4-frame-compress');
  });

  it('keeps working when linear memory grows between calls (views are refreshed)', () => {
    const core = loadCore();
    const small = randomBytes(1, 1000);
    expect(hex(sha256(small, core))).toBe(nodeSha(small));
    const before = core.memory.buffer.byteLength;
    const big = randomBytes(2, 24 << 20);
    expect(hex(sha256(big, core))).toBe(nodeSha(big));
    expect(core.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(hex(sha256(small, core))).toBe(nodeSha(small));
    expect(hex(bindings(core).sha256Batch([small, big.subarray(0, 5000)])[1]!)).toBe(nodeSha(big.subarray(0, 5000)));
  });

  it('turns a trap into ForgeError and poisons the instance; defaultCore() replaces it', () => {
    const core = defaultCore();
    const update = core.export('checksum', 'sha256-stream-update');
    let err: unknown;
    try {
      update(12345, 0, 0); // no such stream: the core traps (unreachable)
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).category).toBe('unknown');
    expect((err as ForgeError).cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(core.poisoned).toBe(true);
    const fresh = defaultCore();
    expect(fresh).not.toBe(core);
    expect(hex(sha256(new Uint8Array(0)))).toBe(nodeSha(new Uint8Array(0)));
  });

  it('callee-owned arguments (the jco way) are freed by the core', () => {
    const core = loadCore();
    const sha = core.export('checksum', 'sha256');
    const post = core.post('checksum', 'sha256');
    const data = randomBytes(3, 300_000);
    const once = () => {
      const ptr = core.allocBytes(data);
      const ret = sha(ptr, data.length) as number;
      const out = core.copyList(ret, 1);
      post(ret);
      return out;
    };
    expect(hex(once())).toBe(nodeSha(data));
    const before = core.memory.buffer.byteLength;
    for (let i = 0; i < 100; i++) once();
    expect(core.memory.buffer.byteLength).toBe(before);
  });

  it('instances have separate memories and streams', () => {
    const a = loadCore(),
      b = loadCore();
    expect(a.memory).not.toBe(b.memory);
    const sa = bindings(a).sha256StreamNew();
    const sb = bindings(b).sha256StreamNew();
    bindings(a).sha256StreamUpdate(sa, new Uint8Array([1, 2, 3]));
    expect(hex(bindings(b).sha256StreamFinish(sb))).toBe(nodeSha(new Uint8Array(0)));
    expect(hex(bindings(a).sha256StreamFinish(sa))).toBe(nodeSha(new Uint8Array([1, 2, 3])));
  });

  it('reports an unknown export as a dependency ForgeError', () => {
    expect(() => loadCore().export('checksum', 'no-such-function')).toThrow(ForgeError);
  });
});
