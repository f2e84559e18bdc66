// LZ4 frame interop with the reference implementation: Debian's `lz4` CLI decodes every frame we
// write, and we decode every frame it writes (all block sizes, linked blocks, block checksums,
// content size, skippable and concatenated frames).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LZ4_BLOCK_SIZES, lz4Compress, lz4Decompress, lz4FrameBlocks, lz4FrameHeader, lz4FrameTrailer } from '../../host/node/core/codec.js';
import { xxh32 } from '../../host/node/core/checksum.js';
import { randomBytes, textLikeBytes } from '../../vectors/prng.mjs';
import { requireTool } from '../support/reference-tools.js';

const lz4Cli = requireTool('lz4', 'lz4', 'LZ4 frame interop with the lz4 CLI');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-lz4-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `lz4 -d` of a frame, through stdin/stdout. */
function cliDecode(frame: Uint8Array): Buffer {
  const r = spawnSync('lz4', ['-d', '-c'], { input: frame, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`lz4 -d failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

let seq = 0;
/** What `lz4 <flags>` writes for `data` (from a file, so --content-size can know the size). */
function cliEncode(data: Uint8Array, flags: string[]): Buffer {
  const input = join(dir, `in-${seq++}`);
  writeFileSync(input, data);
  const r = spawnSync('lz4', [...flags, '-c', input], { maxBuffer: 1 << 30 });
  rmSync(input);
  if (r.status !== 0) throw new Error(`lz4 ${flags.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Compressible bytes (PRNG-chosen words) and incompressible bytes, from the vectors' PRNG. */
const textLike = (n: number, seed: number): Uint8Array => textLikeBytes(seed, n);
const noise = (n: number, seed: number): Uint8Array => randomBytes(seed, n);

/** Inputs: random bytes, compressible text, runs, or a mix (so raw and compressed blocks meet). */
const inputArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 70_000 }),
  fc.tuple(fc.integer({ min: 0, max: 300_000 }), fc.integer()).map(([n, s]) => textLike(n, s)),
  fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 255 })).map(([n, b]) => new Uint8Array(n).fill(b)),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 80_000 }), fc.integer({ min: 0, max: 150_000 }), fc.integer())
    .map(([rnd, n, s]) => Buffer.concat([rnd, textLike(n, s), rnd])),
);

const optionsArb = fc.record({
  blockSize: fc.constantFrom(...LZ4_BLOCK_SIZES),
  contentChecksum: fc.boolean(),
  blockChecksum: fc.boolean(),
  contentSize: fc.boolean(),
});

describe.skipIf(!lz4Cli)('frames we write decode byte-exact with `lz4 -d`', () => {
  it('random and compressible inputs, every block size, with and without checksums (fast-check)', () => {
    fc.assert(
      fc.property(inputArb, optionsArb, (data, options) => {
        const frame = lz4Compress(data, options);
        expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
        expect(Buffer.compare(Buffer.from(lz4Decompress(frame)), Buffer.from(data))).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('a 6 MiB input in 64 KiB blocks and in 4 MiB blocks', () => {
    const data = Buffer.concat([textLike(5 << 20, 7), Buffer.from(noise(1 << 20, 5))]);
    for (const blockSize of [65536, 4194304] as const) {
      const frame = lz4Compress(data, { blockSize, blockChecksum: true });
      expect(frame.length).toBeLessThan(data.length * 0.8); // the 5 MiB of text compresses
      expect(Buffer.compare(cliDecode(frame), data)).toBe(0);
    }
  });

  it('an incompressible block is stored raw (high bit of the block size set)', () => {
    const data = noise(1000, 1);
    const frame = lz4Compress(data, { blockSize: 65536, contentSize: false, contentChecksum: false });
    // magic 4 + FLG + BD + HC = 7, then the block size word.
    const word = Buffer.from(frame).readUInt32LE(7);
    expect(word >>> 31).toBe(1);
    expect(word & 0x7fffffff).toBe(1000);
    expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
  });

  it('the empty input', () => {
    for (const options of [{}, { contentSize: false, contentChecksum: false }]) {
      const frame = lz4Compress(new Uint8Array(0), options);
      expect(cliDecode(frame).length).toBe(0);
      expect(lz4Decompress(frame).length).toBe(0);
    }
  });

  it('the block-range API: header ++ blocks(range 1) ++ blocks(range 2) ++ trailer is one valid frame', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 400_000 }), fc.integer()).map(([n, s]) => textLike(n, s)),
        fc.constantFrom(65536, 262144),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (data, blockSize, splitBlocks, blockChecksum) => {
          const opts = { blockSize: blockSize as 65536 | 262144, blockChecksum };
          const mid = Math.min(data.length, splitBlocks * blockSize);
          const frame = Buffer.concat([
            lz4FrameHeader(data.length, opts),
            lz4FrameBlocks(data.subarray(0, mid), opts),
            lz4FrameBlocks(data.subarray(mid), opts),
            lz4FrameTrailer(xxh32(data), opts),
          ]);
          expect(Buffer.compare(frame, Buffer.from(lz4Compress(data, opts)))).toBe(0);
          expect(Buffer.compare(cliDecode(frame), Buffer.from(data))).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe.skipIf(!lz4Cli)('compression ratio', () => {
  it('is within 2% of `lz4 -1` on real JavaScript (typescript.js from node_modules, 4 MiB blocks)', () => {
    // Deterministic: a fixed file, a deterministic encoder on both sides (no timing involved).
    const file = join(process.cwd(), 'node_modules', 'typescript', 'lib', 'typescript.js');
    const data = readFileSync(file).subarray(0, 8 << 20);
    const ours = lz4Compress(data).length;
    const reference = cliEncode(data, ['-1']).length;
    expect(ours / reference).toBeLessThanOrEqual(1.02);
  });
});

describe.skipIf(!lz4Cli)('we decode byte-exact what `lz4` writes', () => {
  const corpus = Buffer.concat([textLike(700_000, 3), noise(300_000, 2), textLike(500_000, 9)]);
  const cases: string[][] = [
    ['-1'],
    ['-9'],
    ['-BD'],
    ['-BX'],
    ['--content-size'],
    ['-B4'],
    ['-B5'],
    ['-B6'],
    ['-B7'],
    ['-BD', '-B4'],
    ['-BD', '-BX', '-B4', '--content-size'],
    ['-9', '-BD', '-B5'],
    ['--no-frame-crc'],
    ['-12', '-BD', '-B4'],
  ];
  for (const flags of cases) {
    it(`lz4 ${flags.join(' ')}`, () => {
      const frame = cliEncode(corpus, flags);
      expect(Buffer.compare(Buffer.from(lz4Decompress(frame)), corpus)).toBe(0);
    });
  }

  it('random inputs and random flag sets (fast-check)', () => {
    const flagsArb = fc.record({
      level: fc.constantFrom('-1', '-3', '-9'),
      linked: fc.boolean(),
      blockChecksum: fc.boolean(),
      contentSize: fc.boolean(),
      noFrameCrc: fc.boolean(),
      block: fc.constantFrom('-B4', '-B5', '-B6', '-B7'),
    });
    fc.assert(
      fc.property(inputArb, flagsArb, (data, f) => {
        const flags = [f.level, f.block];
        if (f.linked) flags.push('-BD');
        if (f.blockChecksum) flags.push('-BX');
        if (f.contentSize) flags.push('--content-size');
        if (f.noFrameCrc) flags.push('--no-frame-crc');
        const frame = cliEncode(data, flags);
        expect(Buffer.compare(Buffer.from(lz4Decompress(frame)), Buffer.from(data))).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('a 5 MiB input with linked 64 KiB blocks (-BD -B4), so matches cross block boundaries', () => {
    const data = textLike(5 << 20, 11);
    const frame = cliEncode(data, ['-BD', '-B4', '-BX']);
    expect(Buffer.compare(Buffer.from(lz4Decompress(frame)), Buffer.from(data))).toBe(0);
  });

  it('concatenated frames and skippable frames', () => {
    const a = textLike(100_000, 1);
    const b = noise(5000, 3);
    const skippable = (n: number, payload: number): Buffer => {
      const h = Buffer.alloc(8 + payload, 0xab);
      h.writeUInt32LE(0x184d2a50 + n, 0);
      h.writeUInt32LE(payload, 4);
      return h;
    };
    const stream = Buffer.concat([
      skippable(0, 10),
      cliEncode(a, ['-BD']),
      skippable(15, 0),
      cliEncode(b, ['-BX', '-B4']),
      Buffer.from(lz4Compress(a)),
      skippable(7, 3),
    ]);
    const expected = Buffer.concat([a, b, a]);
    expect(Buffer.compare(cliDecode(stream), expected)).toBe(0); // the reference agrees on the stream
    expect(Buffer.compare(Buffer.from(lz4Decompress(stream)), expected)).toBe(0);
  });

  it('the legacy format (`lz4 -l`), alone and followed by a standard frame', () => {
    const data = Buffer.concat([textLike(9 << 20, 13), noise(100_000, 4)]); // more than one 8 MiB legacy block
    const legacy = cliEncode(data, ['-l']);
    expect(legacy.readUInt32LE(0)).toBe(0x184c2102);
    expect(Buffer.compare(Buffer.from(lz4Decompress(legacy)), data)).toBe(0);
    const small = textLike(1000, 1);
    const stream = Buffer.concat([cliEncode(small, ['-l']), cliEncode(small, ['-BX'])]);
    expect(Buffer.compare(cliDecode(stream), Buffer.concat([small, small]))).toBe(0);
    expect(Buffer.compare(Buffer.from(lz4Decompress(stream)), Buffer.concat([small, small]))).toBe(0);
  });

  it('a frame written by `lz4` to a file (as the store keeps objects)', () => {
    const data = textLike(123_456, 5);
    const file = join(dir, 'object.lz4');
    writeFileSync(join(dir, 'object'), data);
    const r = spawnSync('lz4', ['-f', '-q', join(dir, 'object'), file]);
    expect(r.status).toBe(0);
    expect(Buffer.compare(Buffer.from(lz4Decompress(readFileSync(file))), Buffer.from(data))).toBe(0);
  });
});
