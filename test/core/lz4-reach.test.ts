// The compressor's match reach: an offset is at most 65535 (16 bits). In a block of at most
// 65536 bytes every earlier position is within reach, so the compressor leaves the distance test
// out there; in a longer block (256 KiB, 4 MiB) it must refuse a candidate 65536 or more bytes
// back. The reference `lz4` CLI decodes every frame (an offset past 65535 would not fit its 16
// bits and decode wrong), on both core modules.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lz4Compress, type Lz4BlockSize } from '../../host/node/core/codec.js';
import { coreWasmPath, loadCore } from '../../host/node/core/loader.js';
import { randomBytes, textLikeBytes } from '../../vectors/prng.mjs';
import { requireTool } from '../support/reference-tools.js';

const lz4Cli = requireTool('lz4', 'lz4', 'LZ4 match reach checked with the lz4 CLI');
const cores = (['scalar', 'simd'] as const).map((kind) => ({ kind, core: loadCore(new WebAssembly.Module(readFileSync(coreWasmPath(kind)))) }));

function cliDecode(frame: Uint8Array): Buffer {
  const r = spawnSync('lz4', ['-d', '-c'], { input: frame, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`lz4 -d failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

/** `run` random bytes, then random filler, then the same `run` bytes again `distance` bytes after the first, then `tail` random bytes. */
function repeatAt(seed: number, run: number, distance: number, tail: number): Uint8Array {
  const out = randomBytes(seed, distance + run + tail);
  out.copyWithin(distance, 0, run);
  return out;
}

describe.each(cores)('LZ4 match reach, $kind module', ({ core }) => {
  it.skipIf(!lz4Cli)('a repeat 65535 bytes back is matched, one 65536 or more bytes back is not (256 KiB and 4 MiB blocks)', () => {
    for (const blockSize of [262144, 4194304] as const) {
      const sizes = [65534, 65535, 65536, 65537].map((d) => {
        const data = repeatAt(41, 4096, d, 100);
        const frame = lz4Compress(data, { blockSize }, core);
        expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
        return frame.length;
      });
      // Within reach the second copy costs a few bytes; out of reach it is stored as literals.
      expect(sizes[1]!).toBeLessThan(sizes[2]! - 3000);
      expect(sizes[0]!).toBeLessThan(sizes[3]! - 3000);
    }
  });

  it.skipIf(!lz4Cli)('Property: inputs around the 64 KiB block size and repeats around the 65535-byte reach decode with lz4 -d (100 runs)', () => {
    const input = fc.oneof(
      // Sizes at the boundary of the short-block path (65536) in 64 KiB and 256 KiB blocks.
      fc
        .tuple(fc.integer({ min: 65536 - 16, max: 65536 + 16 }), fc.integer({ min: 1, max: 1 << 30 }), fc.boolean())
        .map(([n, seed, text]) => (text ? textLikeBytes(seed, n) : randomBytes(seed, n))),
      // A repeat at a distance around the reach, in a block longer than 64 KiB.
      fc
        .tuple(fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 4, max: 300 }), fc.integer({ min: 65530, max: 65540 }), fc.integer({ min: 0, max: 20 }))
        .map(([seed, run, d, tail]) => repeatAt(seed, run, d, tail)),
    );
    fc.assert(
      fc.property(input, fc.constantFrom<Lz4BlockSize>(65536, 262144), (data, blockSize) => {
        const frame = lz4Compress(data, { blockSize }, core);
        expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});
