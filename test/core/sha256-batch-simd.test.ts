// sha256Batch on both core modules: the SIMD one hashes four inputs per pass in i32x4 lanes
// (groups by length, pads the lanes itself, finishes a longer lane on the scalar compressor),
// the scalar one one input at a time. Expected digests come from sha256sum and node:crypto.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import binaryen from 'binaryen';
import { Sha256Stream, sha256, sha256Batch } from '../../host/node/core/checksum.js';
import { type CoreModuleKind, coreWasmPath, loadCore } from '../../host/node/core/loader.js';
import { randomBytes } from '../../vectors/prng.mjs';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sha256sum = (b: Uint8Array) => execFileSync('sha256sum', ['-b', '-'], { input: b }).toString().slice(0, 64);

const cores = Object.fromEntries(
  (['scalar', 'simd'] as CoreModuleKind[]).map((kind) => [kind, loadCore(new WebAssembly.Module(readFileSync(coreWasmPath(kind))))]),
);

describe.each(['simd', 'scalar'] as const)('sha256Batch on the %s module', (kind) => {
  const core = cores[kind]!;

  it('is the module asked for (SIMD instructions only in the SIMD build)', () => {
    const bytes = readFileSync(coreWasmPath(kind));
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mod = binaryen.readBinary(bytes);
    mod.setFeatures(binaryen.Features.All);
    const text = mod.emitText();
    mod.dispose();
    expect(/\bi32x4\.add\b/.test(text)).toBe(kind === 'simd');
  });

  it.each([0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 4096])('four equal inputs of %i bytes (padding in the lanes) = sha256sum', (size) => {
    const inputs = [0, 1, 2, 3].map((i) => randomBytes(size * 8 + i + 1, size));
    const got = sha256Batch(inputs, core).map(hex);
    expect(got).toEqual(inputs.map(sha256sum));
  });

  it('groups of 2, 3, 5 and 9 (a short group repeats a lane; one left over goes scalar) = sha256sum', () => {
    for (const n of [2, 3, 5, 9]) {
      const inputs = Array.from({ length: n }, (_, i) => randomBytes(500 + n * 10 + i, 65));
      expect(sha256Batch(inputs, core).map(hex)).toEqual(inputs.map(sha256sum));
    }
  });

  it('uneven lengths in one group, including lanes longer than one compressor call (256 KiB) = sha256sum', () => {
    const sizes = [0, 64, 4097, 300_000, 55, 56, 63, 65, 600_000, 262_144, 262_145, 1];
    const inputs = sizes.map((size, i) => randomBytes(900 + i, size));
    expect(sha256Batch(inputs, core).map(hex)).toEqual(inputs.map(sha256sum));
  });

  it('keeps the input order when it regroups inputs by length', () => {
    const sizes = [5000, 3, 70, 5000, 0, 129, 64, 4096, 1, 200, 63, 64, 5000];
    const inputs = sizes.map((size, i) => randomBytes(1200 + i, size));
    expect(sha256Batch(inputs, core).map(hex)).toEqual(inputs.map(nodeSha));
    expect(sha256Batch([], core)).toEqual([]);
  });

  it('one-shot and streaming around the 4-block schedule groups and the 256 KiB call size = sha256sum', () => {
    // The SIMD module expands the schedule of 4 consecutive blocks at once; the rest go scalar.
    for (const size of [191, 192, 255, 256, 257, 319, 320, 1023, 1024, 262_143, 262_144, 262_208, 262_400, 1_000_003]) {
      const data = randomBytes(7000 + size, size);
      const want = sha256sum(data);
      expect(hex(sha256(data, core))).toBe(want);
      const s = new Sha256Stream(core);
      for (let i = 0; i < data.length; i += 100_003) s.update(data.subarray(i, i + 100_003));
      expect(hex(s.digest())).toBe(want);
    }
  });

  it('equals node:crypto on random batches (fast-check)', () => {
    const batch = fc.array(
      fc
        .record({
          size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(0, 55, 56, 63, 64, 65, 4096), fc.integer({ min: 0, max: 20_000 })),
          seed: fc.integer({ min: 1, max: 0xffffffff }),
        })
        .map(({ size, seed }) => randomBytes(seed, size)),
      { maxLength: 23 },
    );
    fc.assert(
      fc.property(batch, (inputs) => {
        expect(sha256Batch(inputs, core).map(hex)).toEqual(inputs.map(nodeSha));
      }),
      { numRuns: 150 },
    );
  });
});
