// The decoder's output bound: past the caller's maxSize or the core's largest buffer (one
// allocator block, 1 GiB - 64 bytes) decoding answers `too-large`; it never traps. These decode
// up to 1 GiB for real (~10 s each, ~2.5 GB of memory), each on its own core instance so the
// grown memory is released afterwards.
import { describe, expect, it } from 'vitest';
import {
  bindings,
  CORE_MAX_OUTPUT,
  DEFAULT_LZ4_MAX_SIZE,
  lz4Decompress,
  lz4DecompressBlock,
  lz4FrameBlocks,
  lz4FrameHeader,
} from '../../host/node/core/codec.js';
import { CoreInstance } from '../../host/node/core/loader.js';

const MiB4 = 4 << 20;
const opts = { blockSize: MiB4, contentSize: false, contentChecksum: false } as const;

/**
 * A frame of `size` zero bytes: the same compressed 4 MiB block repeated, then a raw tail block.
 * Built by hand from pieces so that no encoder has to hold the whole input.
 */
function zeroFrame(size: number, core: CoreInstance): Uint8Array {
  const header = lz4FrameHeader(0, opts, core);
  const block = lz4FrameBlocks(new Uint8Array(MiB4), opts, core); // u32 size + compressed block
  const full = Math.floor(size / MiB4);
  const tail = size - full * MiB4;
  const out = new Uint8Array(header.length + full * block.length + (tail ? 4 + tail : 0) + 4);
  let at = 0;
  out.set(header, at);
  at += header.length;
  for (let i = 0; i < full; i++) {
    out.set(block, at);
    at += block.length;
  }
  if (tail) {
    new DataView(out.buffer).setUint32(at, (tail | 0x80000000) >>> 0, true); // stored raw
    at += 4 + tail; // zeros already
  }
  // End mark: the last four bytes are already 0.
  return out;
}

/** The codec-error of a WIT-level call (a CodecFailure carries it as `payload`). */
function witKind(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { payload?: string }).payload ?? `threw: ${(e as Error).message}`;
  }
}

function kindOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const err = e as { context?: { codecError?: string }; message: string };
    return err.context?.codecError ?? `threw: ${err.message}`;
  }
}

describe('lz4Decompress output bound', () => {
  it('a frame of 1 GiB + 1 bytes under the default maxSize is too-large, not a trap, and the instance stays usable', () => {
    const core = new CoreInstance();
    const frame = zeroFrame(DEFAULT_LZ4_MAX_SIZE + 1, core);
    expect(kindOf(() => lz4Decompress(frame, {}, core))).toBe('too-large');
    expect(core.poisoned).toBe(false);
    const small = zeroFrame(1000, core);
    expect(lz4Decompress(small, {}, core)).toEqual(new Uint8Array(1000));
    // The WIT function itself (what jco and other embedders call) with max-size 2^64-1: the
    // core bounds its output on its own.
    expect(witKind(() => bindings(core).lz4FrameDecompress(frame, 2n ** 64n - 1n))).toBe('too-large');
    expect(core.poisoned).toBe(false);
  });

  it("a frame of exactly the core's largest output (1 GiB - 64) decodes under the default: the growth near 1 GiB does not trap", () => {
    const core = new CoreInstance();
    const out = lz4Decompress(zeroFrame(CORE_MAX_OUTPUT, core), {}, core);
    expect(out.length).toBe(CORE_MAX_OUTPUT);
    expect(out[CORE_MAX_OUTPUT - 1]).toBe(0);
  });

  it('a header declaring 3 GiB with a 4 GiB maxSize is too-large at once', () => {
    const core = new CoreInstance();
    const header = lz4FrameHeader(3 * 2 ** 30, { ...opts, contentSize: true }, core);
    const frame = new Uint8Array(header.length + 4);
    frame.set(header);
    expect(kindOf(() => lz4Decompress(frame, { maxSize: 4 * 2 ** 30 }, core))).toBe('too-large');
  });
});

describe('lz4DecompressBlock output bound', () => {
  it('a block expanding past 1 GiB with maxSize 2^32-1 is too-large, not a trap', () => {
    // Hand-made block: literal 0x00, then a match at offset 1 of 4 + 15 + 255*k + r bytes, which
    // is > 1 GiB; the required 5-literal tail is never reached.
    const k = 4_300_000; // 255 * k > 2^30
    const block = new Uint8Array(1 + 1 + 2 + k + 1 + 6);
    let at = 0;
    block[at++] = 0x1f; // 1 literal, match length 15 + extension
    block[at++] = 0x00;
    block[at++] = 0x01;
    block[at++] = 0x00; // offset 1
    block.fill(0xff, at, at + k);
    at += k;
    block[at++] = 0x00; // end of the length extension
    block[at++] = 0x50; // 5 literals
    const core = new CoreInstance();
    expect(kindOf(() => lz4DecompressBlock(block, { maxSize: 2 ** 32 - 1 }, core))).toBe('too-large');
    expect(witKind(() => bindings(core).lz4BlockDecompress(block, 2 ** 32 - 1))).toBe('too-large');
    expect(core.poisoned).toBe(false);
  });
});
