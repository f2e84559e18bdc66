// xxh32 of the core against published values, hash-wasm and a plain-JS reference written from
// the xxHash specification (doc/xxhash_spec.md), independent of the core's code.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createXXHash32 } from 'hash-wasm';
import { xxh32 } from '../../host/node/core/checksum.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { randomBytes } from '../../vectors/prng.mjs';

const P1 = 0x9e3779b1,
  P2 = 0x85ebca77,
  P3 = 0xc2b2ae3d,
  P4 = 0x27d4eb2f,
  P5 = 0x165667b1;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

/** xxHash32, straight from the spec: 4 accumulators over 16-byte stripes, then the tail. */
function referenceXxh32(data: Uint8Array, seed: number): number {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let i = 0;
  let acc: number;
  if (len >= 16) {
    const v = [(seed + P1 + P2) >>> 0, (seed + P2) >>> 0, seed >>> 0, (seed - P1) >>> 0];
    for (; i + 16 <= len; i += 16) {
      for (let l = 0; l < 4; l++) v[l] = mul(rotl((v[l]! + mul(dv.getUint32(i + 4 * l, true), P2)) >>> 0, 13), P1);
    }
    acc = (rotl(v[0]!, 1) + rotl(v[1]!, 7) + rotl(v[2]!, 12) + rotl(v[3]!, 18)) >>> 0;
  } else {
    acc = (seed + P5) >>> 0;
  }
  acc = (acc + len) >>> 0;
  for (; i + 4 <= len; i += 4) acc = mul(rotl((acc + mul(dv.getUint32(i, true), P3)) >>> 0, 17), P4);
  for (; i < len; i++) acc = mul(rotl((acc + mul(data[i]!, P5)) >>> 0, 11), P1);
  acc = mul(acc ^ (acc >>> 15), P2);
  acc = mul(acc ^ (acc >>> 13), P3);
  return (acc ^ (acc >>> 16)) >>> 0;
}

const ascii = (s: string) => new TextEncoder().encode(s);

describe('xxh32 (core, direct loader)', () => {
  // Published values (xxHash's own test suite / python-xxhash documentation).
  it.each([
    ['', 0, 0x02cc5d05],
    ['a', 0, 0x550d7456],
    ['abc', 0, 0x32d153ff],
    ['Nobody inspects the spammish repetition', 0, 0xe2293b2f],
  ])('xxh32(%j, %i) = published value', (s, seed, want) => {
    expect(xxh32(ascii(s), seed)).toBe(want);
  });

  it('the plain-JS reference reproduces the published values', () => {
    expect(referenceXxh32(ascii(''), 0)).toBe(0x02cc5d05);
    expect(referenceXxh32(ascii('Nobody inspects the spammish repetition'), 0)).toBe(0xe2293b2f);
  });

  it('equals hash-wasm and the plain-JS reference on random inputs and seeds', async () => {
    const hashers = new Map<number, Awaited<ReturnType<typeof createXXHash32>>>();
    const cases = fc.sample(
      fc.record({
        size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 70_000 })),
        seed: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
        dataSeed: fc.integer({ min: 1, max: 0xffffffff }),
      }),
      { numRuns: 150 },
    );
    for (const { size, seed, dataSeed } of cases) {
      const data = randomBytes(dataSeed, size);
      let h = hashers.get(seed);
      if (!h) hashers.set(seed, (h = await createXXHash32(seed)));
      h.init();
      h.update(data);
      const want = parseInt(h.digest('hex'), 16);
      const got = xxh32(data, seed);
      expect(got).toBe(want);
      expect(referenceXxh32(data, seed)).toBe(want);
    }
  });

  it('rejects a bad seed or non-bytes with ForgeError(validation)', () => {
    expect(() => xxh32(new Uint8Array(1), -1)).toThrow(ForgeError);
    expect(() => xxh32(new Uint8Array(1), 2 ** 32)).toThrow(/seed/);
    expect(() => xxh32([1, 2] as unknown as Uint8Array)).toThrow(ForgeError);
  });
});
