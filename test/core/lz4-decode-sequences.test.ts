// The block decoder's shortcut (short literals + short match at offset >= 8, copied in whole
// words) against a byte-by-byte reference, on hand-built blocks: every literal/match length and
// offset the shortcut takes, the ones it hands to the general path (offsets 1..7, long lengths),
// and offsets reaching before the output (corrupt).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lz4DecompressBlock } from '../../host/node/core/codec.js';
import { ForgeError } from '../../host/node/base/errors.js';

interface Seq {
  literals: number[];
  matchLen: number; // >= 4
  offset: number; // >= 1
}

function pushLength(out: number[], n: number): void {
  while (n >= 255) {
    out.push(255);
    n -= 255;
  }
  out.push(n);
}

/** Encodes sequences and final literals as one LZ4 block. */
function encode(seqs: Seq[], last: number[]): Uint8Array {
  const out: number[] = [];
  for (const s of seqs) {
    const l = s.literals.length;
    const m = s.matchLen - 4;
    out.push((Math.min(l, 15) << 4) | Math.min(m, 15));
    if (l >= 15) pushLength(out, l - 15);
    out.push(...s.literals, s.offset & 0xff, s.offset >> 8);
    if (m >= 15) pushLength(out, m - 15);
  }
  out.push(Math.min(last.length, 15) << 4);
  if (last.length >= 15) pushLength(out, last.length - 15);
  out.push(...last);
  return Uint8Array.from(out);
}

/** Reference decode: byte by byte, as the format defines it; undefined if an offset reaches before the start. */
function reference(seqs: Seq[], last: number[]): Uint8Array | undefined {
  const out: number[] = [];
  for (const s of seqs) {
    out.push(...s.literals);
    if (s.offset > out.length) return undefined;
    for (let i = 0; i < s.matchLen; i++) out.push(out[out.length - s.offset]!);
  }
  out.push(...last);
  return Uint8Array.from(out);
}

const byte = fc.integer({ min: 0, max: 255 });
const seqArb: fc.Arbitrary<Seq> = fc.record({
  literals: fc.oneof(fc.array(byte, { maxLength: 14 }), fc.array(byte, { minLength: 15, maxLength: 300 })),
  matchLen: fc.oneof(fc.integer({ min: 4, max: 18 }), fc.integer({ min: 19, max: 600 })),
  offset: fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 8, max: 24 }), fc.integer({ min: 25, max: 2000 })),
});

describe('LZ4 block decoding, sequence by sequence', () => {
  it('equals the byte-by-byte reference, or is corrupt exactly when an offset reaches before the output (fast-check, 400 runs)', () => {
    fc.assert(
      fc.property(
        fc.array(byte, { minLength: 1, maxLength: 40 }),
        fc.array(seqArb, { maxLength: 60 }),
        fc.array(byte, { minLength: 0, maxLength: 80 }),
        (first, seqs, last) => {
          // A first literal run so most offsets are valid; some still reach too far back.
          const all: Seq[] = seqs.length ? [{ ...seqs[0]!, literals: [...first, ...seqs[0]!.literals] }, ...seqs.slice(1)] : [];
          const block = encode(all, last);
          const want = reference(all, last);
          if (want === undefined) {
            expect(() => lz4DecompressBlock(block)).toThrow(ForgeError);
            return;
          }
          expect(Buffer.from(lz4DecompressBlock(block)).equals(Buffer.from(want))).toBe(true);
          // Exactly enough room, and one byte too little (an error, never a partial result).
          expect(Buffer.from(lz4DecompressBlock(block, { maxSize: want.length })).equals(Buffer.from(want))).toBe(true);
          if (want.length > 0) expect(() => lz4DecompressBlock(block, { maxSize: want.length - 1 })).toThrow(ForgeError);
        },
      ),
      { numRuns: 400 },
    );
  });
});
