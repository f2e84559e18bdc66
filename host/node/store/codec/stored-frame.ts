/**
 * Frames whose blocks are stored uncompressed, for stores opened with `compression: 'none'`.
 * The LZ4 frame format allows it (a block size with its high bit set means "stored as is"), so
 * such an object is a standard LZ4 frame like any other: same header, content size, xxh32
 * content checksum, and `lz4 -d` decodes it. Putting costs one xxh32 pass instead of
 * compression; reading decodes it as a copy.
 */
import type { CoreBindings, FrameOptions } from '../core-bindings.js';

/** The high bit of a block size: the block's bytes are stored uncompressed. */
const STORED = 0x80000000;

/**
 * One LZ4 frame of `data` with every block stored uncompressed, in one new buffer (a copy: the
 * caller may reuse `data` once this returns, and the checksum always matches what is written).
 *
 * @example
 * ```ts
 * const frame = storedFrame(coreBindings(), data, DEFAULT_FRAME_OPTIONS); // `lz4 -dc` gives data back
 * ```
 */
export function storedFrame(core: CoreBindings, data: Uint8Array, options: FrameOptions): Uint8Array {
  const header = core.lz4FrameHeader(data.length, options);
  const trailer = core.lz4FrameTrailer(core.xxh32(data, 0), options);
  const bs = options.blockSize;
  const blocks = Math.ceil(data.length / bs);
  const perBlock = options.blockChecksum ? 8 : 4;
  const out = new Uint8Array(header.length + blocks * perBlock + data.length + trailer.length);
  const dv = new DataView(out.buffer);
  out.set(header, 0);
  let at = header.length;
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
  out.set(trailer, at);
  return out;
}
