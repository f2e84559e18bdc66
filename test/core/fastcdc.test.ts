// FastCDC from the core: bounds, agreement with an independent JS reference, mean chunk size,
// and locality of edits (one inserted byte leaves later chunks unchanged).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cdcCutPoints } from '../../host/node/core/chunker.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { randomBytes } from '../../vectors/prng.mjs';
// @ts-expect-error: plain-JS reference implementation (scripts/), no type declarations
import { fastcdcRef } from '../../scripts/vectors/fastcdc-ref.mjs';

const reference = fastcdcRef as (data: Uint8Array, min: number, avg: number, max: number) => number[];

/** Deterministic random bytes from the vectors' PRNG (fast-check would be slow at these sizes). */
const noise = (n: number, seed: number): Uint8Array => randomBytes(seed, n);

const paramsArb = fc.tuple(fc.integer({ min: 6, max: 13 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([bits, minDiv, maxMul]) => {
  const avg = 1 << bits;
  return { min: Math.max(64, avg >> minDiv), avg, max: avg << maxMul };
});

function sizesOf(cuts: number[]): number[] {
  return cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
}

describe('FastCDC cut points', () => {
  it('respect min and max, ascend and end at the data length (fast-check)', () => {
    fc.assert(
      fc.property(paramsArb, fc.integer({ min: 0, max: 200_000 }), fc.integer(), (p, n, seed) => {
        const data = noise(n, seed);
        const cuts = cdcCutPoints(data, p);
        if (n === 0) {
          expect(cuts).toEqual([]);
          return;
        }
        expect(cuts[cuts.length - 1]).toBe(n);
        const sizes = sizesOf(cuts);
        const bad = sizes.findIndex((s, i) => s <= 0 || s > p.max || (i < sizes.length - 1 && s < p.min));
        expect(bad, `chunk ${bad} has size ${sizes[bad]}`).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });

  it('equal the independent JS reference (scripts/vectors/fastcdc-ref.mjs) on random and repetitive data (fast-check)', () => {
    fc.assert(
      fc.property(
        paramsArb,
        fc.oneof(
          fc.uint8Array({ maxLength: 20_000 }),
          fc.tuple(fc.integer({ min: 0, max: 150_000 }), fc.integer()).map(([n, s]) => noise(n, s)),
          fc.tuple(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 255 })).map(([n, b]) => new Uint8Array(n).fill(b)),
        ),
        (p, data) => {
          expect(cdcCutPoints(data, p)).toEqual(reference(data, p.min, p.avg, p.max));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('are deterministic', () => {
    const data = noise(1 << 20, 42);
    expect(cdcCutPoints(data)).toEqual(cdcCutPoints(Buffer.from(data)));
  });

  it('mean chunk size on random data is within ±15% of avg (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(1024, 2048, 4096), fc.constantFrom(2, 4), (seed, avg, div) => {
        const data = noise(1 << 20, seed);
        const cuts = cdcCutPoints(data, { min: avg / div, avg, max: avg * 4 });
        const sizes = sizesOf(cuts).slice(0, -1); // the last chunk is cut by the end of the data
        const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
        expect(mean).toBeGreaterThanOrEqual(avg * 0.85);
        expect(mean).toBeLessThanOrEqual(avg * 1.15);
      }),
      { numRuns: 100 },
    );
  });

  it('mean chunk size with the defaults (16/64/256 KiB) on 32 MiB of random data is within ±15% of 64 KiB', () => {
    const cuts = cdcCutPoints(noise(32 << 20, 7));
    const sizes = sizesOf(cuts).slice(0, -1);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(Math.abs(mean / 65536 - 1)).toBeLessThanOrEqual(0.15);
  });

  it('inserting one byte near the start of a 4 MiB random buffer leaves >= 90% of later chunks unchanged (fast-check)', () => {
    const base = noise(4 << 20, 12345);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 255 }), fc.integer(), (at, byte, seed) => {
        // A different buffer per run: xor the base with a per-run word stream.
        const data = Buffer.from(base);
        let x = seed >>> 0 || 1;
        for (let i = 0; i < data.length; i += 4096) {
          x ^= x << 13;
          x >>>= 0;
          x ^= x >>> 17;
          x ^= x << 5;
          x >>>= 0;
          data[i] = data[i]! ^ (x & 0xff);
        }
        const edited = Buffer.concat([data.subarray(0, at), Buffer.from([byte]), data.subarray(at)]);
        const before = cdcCutPoints(data);
        const after = new Set(cdcCutPoints(edited));
        // Chunks of the original that start after the insertion point, and whether the same
        // chunk (shifted by the inserted byte) is a chunk of the edited buffer.
        let later = 0;
        let unchanged = 0;
        for (let i = 0; i < before.length; i++) {
          const start = i === 0 ? 0 : before[i - 1]!;
          if (start <= at) continue;
          later++;
          if ((start === 0 || after.has(start + 1)) && after.has(before[i]! + 1)) unchanged++;
        }
        expect(later).toBeGreaterThan(10);
        expect(unchanged / later).toBeGreaterThanOrEqual(0.9);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects bad parameters with a validation ForgeError', () => {
    const data = new Uint8Array(10);
    for (const p of [{ min: 10 }, { min: 100_000, avg: 65536 }, { avg: 1.5 }, { max: 2 ** 31 }]) {
      expect(() => cdcCutPoints(data, p)).toThrow(ForgeError);
    }
    expect(() => cdcCutPoints('text' as unknown as Uint8Array)).toThrow(ForgeError);
  });

  it('small inputs are one chunk', () => {
    expect(cdcCutPoints(new Uint8Array(100))).toEqual([100]);
    expect(cdcCutPoints(new Uint8Array(16384))).toEqual([16384]);
  });
});
