/**
 * Frames whose blocks are stored uncompressed, for stores opened with `compression: 'none'`.
 * The LZ4 frame format allows it (a block size with its high bit set means "stored as is"), so
 * such an object is a standard LZ4 frame like any other: same header, content size, xxh32
 * content checksum, and `lz4 -d` decodes it. Putting costs one xxh32 pass instead of
 * compression; reading decodes it as a copy.
 *
 * Made here in one pass with one call into the core (the content checksum): the header and
 * trailer are a few bytes of arithmetic, and asking the core for each (two more calls and
 * their buffers) cost about as much as the checksum of a 4 KiB object.
 */
import { ForgeError } from '../../base/errors.js';
import type { CoreBindings, FrameOptions } from '../core-bindings.js';

/** The high bit of a block size: the block's bytes are stored uncompressed. */
const STORED = 0x80000000;
const MAGIC = 0x184d2204;
const BLOCK_SIZE_ID: Readonly<Record<number, number>> = { 65536: 4, 262144: 5, 1048576: 6, 4194304: 7 };

// xxHash32 primes.
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/**
 * xxh32 (seed 0) of `b[start, end)` for fewer than 16 bytes (no stripes): the frame header
 * checksum covers 2 or 10 descriptor bytes.
 */
function xxh32Short(b: Uint8Array, start: number, end: number): number {
  let h = (P5 + (end - start)) | 0;
  let p = start;
  for (; p + 4 <= end; p += 4) {
    const w = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    h = Math.imul(rotl((h + Math.imul(w, P3)) | 0, 17), P4);
  }
  for (; p < end; p++) h = Math.imul(rotl((h + Math.imul(b[p]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Frames are cut from slabs of this size (one allocation per slab, not per frame); larger frames get their own buffer. */
const SLAB = 256 << 10;
let slab = new Uint8Array(0);
let slabAt = 0;

/**
 * `n` bytes no other frame uses. A slab stays alive while any frame cut from it does, so it
 * holds at most SLAB bytes more than the frames themselves.
 */
function take(n: number): Uint8Array {
  if (n > SLAB >> 2) return new Uint8Array(n);
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(SLAB);
    slabAt = 0;
  }
  const out = slab.subarray(slabAt, slabAt + n);
  slabAt += (n + 7) & ~7; // each frame starts 8-byte aligned
  return out;
}

/**
 * One LZ4 frame of `data` with every block stored uncompressed, in one buffer of its own (a copy:
 * the caller may reuse `data` once this returns, and the checksum always matches what is written).
 *
 * @example
 * ```ts
 * const frame = storedFrame(coreBindings(), data, DEFAULT_FRAME_OPTIONS); // `lz4 -dc` gives data back
 * ```
 */
export function storedFrame(core: CoreBindings, data: Uint8Array, options: FrameOptions): Uint8Array {
  const bs = options.blockSize;
  const bsId = BLOCK_SIZE_ID[bs];
  if (bsId === undefined) {
    throw new ForgeError('validation', `LZ4 block size must be 64 KiB, 256 KiB, 1 MiB or 4 MiB, got ${bs}`, {
      context: { operation: 'stored frame', field: 'blockSize' },
      suggestions: ['Use one of 65536, 262144, 1048576 or 4194304.'],
    });
  }
  const blocks = Math.ceil(data.length / bs);
  const perBlock = options.blockChecksum ? 8 : 4;
  const headerLen = 7 + (options.contentSize ? 8 : 0);
  const out = take(headerLen + blocks * perBlock + data.length + (options.contentChecksum ? 8 : 4));
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, MAGIC, true);
  out[4] = 0x60 | (options.blockChecksum ? 0x10 : 0) | (options.contentSize ? 0x08 : 0) | (options.contentChecksum ? 0x04 : 0);
  out[5] = bsId << 4;
  if (options.contentSize) dv.setBigUint64(6, BigInt(data.length), true);
  out[headerLen - 1] = (xxh32Short(out, 4, headerLen - 1) >>> 8) & 0xff;
  let at = headerLen;
  for (let off = 0; off < data.length; off += bs) {
    const block = data.subarray(off, Math.min(data.length, off + bs));
    dv.setUint32(at, (block.length | STORED) >>> 0, true);
    out.set(block, at + 4);
    at += 4 + block.length;
    if (options.blockChecksum) {
      dv.setUint32(at, core.xxh32(block, 0), true);
      at += 4;
    }
  }
  dv.setUint32(at, 0, true); // end mark
  if (options.contentChecksum) dv.setUint32(at + 4, core.xxh32(data, 0), true);
  return out;
}
