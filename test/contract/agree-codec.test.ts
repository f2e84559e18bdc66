// Property: the direct loader and the jco bindings agree on interface codec (including errors).
import fc from 'fast-check';
import { describe } from 'vitest';
import { agree } from './agree.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/** Compressible bytes: a short random pattern repeated. */
const compressible = fc.tuple(bytes(40), fc.integer({ min: 0, max: 50_000 })).map(([p, n]) => {
  const out = new Uint8Array(p.length ? n : 0);
  for (let i = 0; i < out.length; i++) out[i] = p[i % p.length]!;
  return out;
});
const data = fc.oneof(bytes(3000), compressible);
const options = fc.record({
  blockSize: fc.constantFrom(65536, 262144, 1048576, 4194304),
  contentSize: fc.boolean(),
  contentChecksum: fc.boolean(),
  blockChecksum: fc.boolean(),
});

describe('contract: codec', () => {
  agree(
    'codec',
    ['lz4-block-compress', 'lz4-block-decompress'],
    fc.tuple(data, fc.boolean(), fc.integer({ min: 0, max: 30_000 })),
    (api, [d, corrupt, max]) => {
      const block = api.codec.lz4BlockCompress(d);
      if (corrupt && block.length > 1) block[block.length >> 1] ^= 0x5a;
      return [block, api.codec.lz4BlockDecompress(block, max)];
    },
  );

  agree(
    'codec',
    ['lz4-frame-compress', 'lz4-frame-decompress'],
    fc.tuple(data, options, fc.nat(), fc.integer({ min: 0, max: 30_000 })),
    (api, [d, o, cut, max]) => {
      const frame = api.codec.lz4FrameCompress(d, o);
      const input = cut % 3 === 0 ? frame.subarray(0, cut % (frame.length + 1)) : frame;
      return [frame, api.codec.lz4FrameDecompress(input, BigInt(max))];
    },
  );

  agree(
    'codec',
    ['lz4-frame-header', 'lz4-frame-blocks', 'lz4-frame-trailer'],
    fc.tuple(data, options, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 0xffffffff })),
    (api, [d, o, size, sum]) => [api.codec.lz4FrameHeader(size, o), api.codec.lz4FrameBlocks(d, o), api.codec.lz4FrameTrailer(sum, o)],
  );
});
