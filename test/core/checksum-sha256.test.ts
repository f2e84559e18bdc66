// SHA-256 of the WebAssembly core (direct loader) against node:crypto, the sha256sum CLI and
// the FIPS 180-4 example messages; streaming and batch against one-shot.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Sha256Stream, sha256, sha256Batch } from '../../host/node/core/checksum.js';
import { loadCore } from '../../host/node/core/loader.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { randomBytes } from '../../vectors/prng.mjs';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const nodeSha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sha256sum = (b: Uint8Array) => execFileSync('sha256sum', ['-b', '-'], { input: b }).toString().slice(0, 64);
const ascii = (s: string) => new TextEncoder().encode(s);

/** Sizes 0..1 MiB, weighted toward block boundaries and small inputs, plus a seed for the bytes. */
const input = fc
  .record({
    size: fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 200 }), fc.constantFrom(0, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1 << 20)),
    seed: fc.integer({ min: 1, max: 0xffffffff }),
  })
  .map(({ size, seed }) => randomBytes(seed, size));

describe('SHA-256 (core, direct loader)', () => {
  // FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values"); published constants.
  it.each([
    ['empty', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc (one block)', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['448-bit (two blocks)', 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
    [
      '896-bit',
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    ],
  ])('FIPS 180-4 example: %s', (_name, msg, want) => {
    expect(hex(sha256(ascii(msg)))).toBe(want);
  });

  it('FIPS 180-4 long message: one million "a"', () => {
    const want = 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0';
    const data = new Uint8Array(1_000_000).fill(0x61);
    expect(hex(sha256(data))).toBe(want);
    const s = new Sha256Stream();
    for (let i = 0; i < data.length; i += 999) s.update(data.subarray(i, i + 999));
    expect(hex(s.digest())).toBe(want);
  });

  it('equals node:crypto and sha256sum on random inputs 0 B..1 MiB', () => {
    fc.assert(
      fc.property(input, (data) => {
        const got = hex(sha256(data));
        expect(got).toBe(nodeSha(data));
        expect(got).toBe(sha256sum(data));
      }),
      { numRuns: 100 },
    );
  });

  it('streaming equals one-shot for arbitrary split points', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 12 }),
        (size, seed, cuts) => {
          const data = randomBytes(seed, size);
          const points = [...new Set(cuts.map((c) => c % (size + 1)))].sort((a, b) => a - b);
          const s = new Sha256Stream();
          let at = 0;
          for (const p of [...points, size]) {
            s.update(data.subarray(at, p));
            at = p;
          }
          expect(hex(s.digest())).toBe(hex(sha256(data)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('batch equals one-shot (and node:crypto)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ size: fc.integer({ min: 0, max: 9000 }), seed: fc.integer({ min: 1, max: 1e9 }) }), { maxLength: 40 }), (specs) => {
        const inputs = specs.map(({ size, seed }) => randomBytes(seed, size));
        const got = sha256Batch(inputs).map(hex);
        expect(got).toEqual(inputs.map((d) => hex(sha256(d))));
        expect(got).toEqual(inputs.map(nodeSha));
      }),
      { numRuns: 100 },
    );
  });

  it('interleaved streams stay independent, across instances too', () => {
    const a = randomBytes(1, 5000),
      b = randomBytes(2, 7000);
    const other = loadCore();
    const sa = new Sha256Stream(),
      sb = new Sha256Stream(other);
    for (let i = 0; i < 7000; i += 100) {
      if (i < 5000) sa.update(a.subarray(i, i + 100));
      sb.update(b.subarray(i, i + 100));
    }
    expect(hex(sa.digest())).toBe(nodeSha(a));
    expect(hex(sb.digest())).toBe(nodeSha(b));
  });

  it('inputs in a Buffer slice (non-zero byteOffset) hash their own bytes only', () => {
    const big = Buffer.from(randomBytes(9, 4096));
    const slice = big.subarray(100, 1100);
    expect(hex(sha256(slice))).toBe(nodeSha(slice));
  });

  it('rejects bad arguments with ForgeError(validation)', () => {
    expect(() => sha256('abc' as unknown as Uint8Array)).toThrow(ForgeError);
    expect(() => sha256Batch([new Uint8Array(1), 5 as unknown as Uint8Array])).toThrow(/inputs\[1\]/);
    const s = new Sha256Stream();
    s.digest();
    try {
      s.update(new Uint8Array(1));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ForgeError);
      expect((e as ForgeError).category).toBe('validation');
    }
  });

  it('does not leak core memory over many calls', () => {
    const core = loadCore();
    const data = randomBytes(3, 256 << 10);
    const small = randomBytes(4, 100);
    sha256(data, core);
    sha256Batch([small, data], core);
    const before = core.memory.buffer.byteLength;
    for (let i = 0; i < 40; i++) {
      sha256(data, core);
      sha256Batch([small, small, data], core);
      new Sha256Stream(core).update(data).digest();
    }
    expect(core.memory.buffer.byteLength).toBe(before);
  });
});
