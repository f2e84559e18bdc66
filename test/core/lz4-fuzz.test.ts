// Hostile input: random mutations and truncations of valid LZ4 frames (ours and the CLI's) must
// decode to the right bytes or fail with a validation ForgeError naming a codec error. Never a
// trap, never a raw RuntimeError, never more output than maxSize, and the instance keeps
// working without its memory growing.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../host/node/core/loader.js';
import { CODEC_ERRORS, lz4Compress, lz4CompressBlock, lz4Decompress, lz4DecompressBlock } from '../../host/node/core/codec.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { requireTool } from '../support/reference-tools.js';

function textLike(n: number, seed: number): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma', '\n', '{}', '()', ' => ', 'const ', 'x'];
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  while (i < n) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = words[x % words.length]!;
    for (let j = 0; j < w.length && i < n; j++) out[i++] = w.charCodeAt(j);
    if (x % 7 === 0 && i < n) out[i++] = x >>> 24; // some noise so blocks mix literals and matches
  }
  return out;
}

const core = loadCore();
const lz4Cli = requireTool('lz4', 'lz4', 'LZ4 fuzzing of frames written by the lz4 CLI');

// Valid frames to mutate: ours with every option, and the CLI's (linked blocks, block checksums).
const originals: { data: Uint8Array; frame: Uint8Array }[] = [];
for (const [i, n] of [0, 1, 100, 5000, 70_000, 200_000].entries()) {
  const data = textLike(n, i + 1);
  originals.push({ data, frame: lz4Compress(data, { blockSize: 65536, blockChecksum: i % 2 === 0 }, core) });
  originals.push({ data, frame: lz4Compress(data, { contentSize: false, contentChecksum: i % 2 === 1 }, core) });
  for (const flags of lz4Cli ? [['-BD', '-B4'], ['-BX', '-B4', '--content-size'], ['-BD', '--no-frame-crc', '-B4'], ['-l']] : []) {
    const r = spawnSync('lz4', [...flags, '-c'], { input: data });
    if (r.status !== 0) throw new Error(`lz4 failed: ${r.stderr.toString()}`);
    originals.push({ data, frame: new Uint8Array(r.stdout) });
  }
}

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x0f, 0xf0) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(frame: Uint8Array, muts: Mutation[]): Uint8Array {
  let f = Buffer.from(frame);
  for (const m of muts) {
    if (f.length === 0) break;
    const at = m.at % f.length;
    if (m.kind === 'flip') f[at] = f[at]! ^ m.xor;
    else if (m.kind === 'set') f[at] = m.value;
    else if (m.kind === 'truncate') f = f.subarray(0, at);
    else if (m.kind === 'insert') f = Buffer.concat([f.subarray(0, at), m.bytes, f.subarray(at)]);
    else f = Buffer.concat([f.subarray(0, at), f.subarray(at + m.count)]);
  }
  return f;
}

/** Decodes and checks: the original bytes, or a validation ForgeError with a codec error. */
function decodeChecked(input: Uint8Array, expected: Uint8Array | undefined, maxSize: number): void {
  let out: Uint8Array;
  try {
    out = lz4Decompress(input, { maxSize }, core);
  } catch (e) {
    expect(e).toBeInstanceOf(ForgeError);
    const fe = e as ForgeError;
    expect(fe.category, fe.message).toBe('validation');
    expect(CODEC_ERRORS).toContain(fe.context.codecError);
    return;
  }
  expect(out.length).toBeLessThanOrEqual(maxSize);
  // A mutation the checksums cannot see (e.g. in a frame without checksums) may decode to other
  // bytes; with a content checksum it must be the original.
  if (expected) expect(Buffer.compare(Buffer.from(out), Buffer.from(expected))).toBe(0);
}

describe('LZ4 decoding of hostile input', () => {
  it('random mutations and truncations of valid frames: the right bytes or a codec error (fast-check, 1500 runs)', () => {
    const before = core.memory.buffer.byteLength;
    fc.assert(
      fc.property(fc.nat({ max: originals.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (which, muts) => {
        const { data, frame } = originals[which]!;
        const bad = mutate(frame, muts);
        // Only frames with a content checksum (FLG bit 2) promise the original bytes.
        const standard = Buffer.from(frame).readUInt32LE(0) === 0x184d2204;
        const checked = standard && frame[4]! & 0x04 && Buffer.compare(bad.subarray(0, 7), Buffer.from(frame.subarray(0, 7))) === 0;
        decodeChecked(bad, checked ? data : undefined, data.length + 64);
      }),
      { numRuns: 1500 },
    );
    expect(core.poisoned).toBe(false);
    // Failed decodes free what they allocated: memory does not keep growing.
    expect(core.memory.buffer.byteLength - before).toBeLessThanOrEqual(8 << 20);
  });

  it('pure garbage, with and without a valid-looking header, at small limits (fast-check, 1000 runs)', () => {
    const header = Buffer.from(lz4Compress(new Uint8Array(0), { contentSize: false, contentChecksum: false }, core).subarray(0, 7));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), fc.integer({ min: 0, max: 5000 }), (junk, withHeader, maxSize) => {
        const input = withHeader ? Buffer.concat([header, junk]) : junk;
        decodeChecked(input, undefined, maxSize);
      }),
      { numRuns: 1000 },
    );
    expect(core.poisoned).toBe(false);
  });

  it('the output never exceeds maxSize: a too-large error instead (fast-check, 200 runs)', () => {
    fc.assert(
      fc.property(fc.nat({ max: originals.length - 1 }), fc.nat(), (which, cut) => {
        const { data, frame } = originals[which]!;
        if (data.length === 0) return;
        const maxSize = cut % data.length; // strictly smaller than the content
        try {
          lz4Decompress(frame, { maxSize }, core);
          expect.unreachable('decoded more than maxSize');
        } catch (e) {
          expect((e as ForgeError).context.codecError).toBe('too-large');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a header claiming a huge content size fails fast without allocating it', () => {
    const frame = Buffer.from(lz4Compress(textLike(1000, 1), {}, core));
    // Content size field at bytes 6..13; the header checksum (byte 14) will not match...
    frame.writeBigUInt64LE(1n << 40n, 6);
    expect(() => lz4Decompress(frame, {}, core)).toThrow(ForgeError);
    const before = core.memory.buffer.byteLength;
    try {
      lz4Decompress(frame, {}, core);
    } catch (e) {
      expect((e as ForgeError).context.codecError).toBe('checksum-mismatch');
    }
    expect(core.memory.buffer.byteLength).toBe(before);
  });

  it('errors name the failure: bad-magic, truncated, checksum-mismatch, unsupported', () => {
    const frame = Buffer.from(lz4Compress(textLike(5000, 2), { blockChecksum: true }, core));
    const kind = (input: Uint8Array): unknown => {
      try {
        lz4Decompress(input, {}, core);
      } catch (e) {
        return (e as ForgeError).context.codecError;
      }
      return 'ok';
    };
    expect(kind(Buffer.from('not a frame at all'))).toBe('bad-magic');
    expect(kind(new Uint8Array(0))).toBe('truncated');
    expect(kind(frame.subarray(0, frame.length - 3))).toBe('truncated');
    const flipped = Buffer.from(frame);
    flipped[20] ^= 1;
    expect(kind(flipped)).toBe('checksum-mismatch');
    const v2 = Buffer.from(frame);
    v2[4] = (v2[4]! & 0x3f) | 0x80; // version 10
    expect(kind(v2)).toBe('unsupported');
    expect(kind(Buffer.concat([frame, Buffer.from([1, 2])]))).toBe('truncated');
    expect(kind(frame)).toBe('ok');
  });

  it('raw blocks: garbage never traps, valid blocks round-trip (fast-check, 1000 runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), fc.integer({ min: 0, max: 10_000 }), (bytes, valid, maxSize) => {
        if (valid) {
          const block = lz4CompressBlock(bytes, core);
          expect(Buffer.compare(Buffer.from(lz4DecompressBlock(block, {}, core)), Buffer.from(bytes))).toBe(0);
          return;
        }
        try {
          const out = lz4DecompressBlock(bytes, { maxSize }, core);
          expect(out.length).toBeLessThanOrEqual(maxSize);
        } catch (e) {
          expect((e as ForgeError).category).toBe('validation');
          expect(['corrupt', 'too-large']).toContain((e as ForgeError).context.codecError);
        }
      }),
      { numRuns: 1000 },
    );
    expect(core.poisoned).toBe(false);
  });
});
