/**
 * The store's one door to the compute core (SHA-256, xxh32, LZ4 frames, FastCDC).
 * Every other store file calls the core through here, and this file calls only
 * the public functions of core/ (checksum, codec, chunker): the core's raw
 * exports and memory are touched in core/ alone.
 */
import { defaultCore, type CoreInstance } from '../core/loader.js';
import { sha256, xxh32, Sha256Stream } from '../core/checksum.js';
import { lz4Compress, lz4Decompress, lz4DecompressFrom, lz4FrameBlocks, lz4FrameHeader, lz4FrameTrailer, type Lz4BlockSize } from '../core/codec.js';
import { cdcCutPoints } from '../core/chunker.js';
import type { HashStream } from './hash-stream.js';
import { toHex } from './hex.js';

/** LZ4 frame options (see wit/forge.wit `frame-options`). */
export interface FrameOptions {
  blockSize: Lz4BlockSize;
  contentSize: boolean;
  contentChecksum: boolean;
  blockChecksum: boolean;
}

/** FastCDC parameters in bytes. */
export interface CdcParams {
  min: number;
  avg: number;
  max: number;
}

/** What the store needs from one core instance. */
export interface CoreBindings {
  sha256(data: Uint8Array): Uint8Array;
  sha256Stream(): HashStream;
  xxh32(data: Uint8Array, seed: number): number;
  lz4Compress(data: Uint8Array, options: FrameOptions): Uint8Array;
  /** Throws ForgeError('validation') on a bad frame or one decoding past `maxSize`. */
  lz4Decompress(frame: Uint8Array, maxSize: number): Uint8Array;
  /**
   * {@link lz4Decompress} of a frame that `fill(dst)` writes straight into core memory (it returns
   * how many of the `length` bytes it wrote): no buffer for the frame, no copy in. Every frame
   * checksum is checked. `inspect(content)` (optional) sees the content while it is still in core
   * memory, e.g. to hash it in place; neither callback may call into the core. Returns a copy that
   * owns its ArrayBuffer (transferable).
   */
  lz4DecompressFrom(length: number, fill: (dst: Uint8Array) => number, maxSize: number, inspect?: (content: Uint8Array) => void): Uint8Array;
  lz4FrameHeader(contentSize: number, options: FrameOptions): Uint8Array;
  lz4FrameBlocks(data: Uint8Array, options: FrameOptions): Uint8Array;
  lz4FrameTrailer(contentChecksum: number, options: FrameOptions): Uint8Array;
  cdcCutPoints(data: Uint8Array, params: CdcParams): number[];
}

function make(core: () => CoreInstance): CoreBindings {
  return {
    sha256: (data) => sha256(data, core()),
    sha256Stream() {
      const s = new Sha256Stream(core());
      return {
        update(data) {
          s.update(data);
        },
        hex() {
          return toHex(s.digest());
        },
      };
    },
    xxh32: (data, seed) => xxh32(data, seed, core()),
    lz4Compress: (data, options) => lz4Compress(data, options, core()),
    lz4Decompress: (frame, maxSize) => lz4Decompress(frame, { maxSize }, core()),
    lz4DecompressFrom: (length, fill, maxSize, inspect) => lz4DecompressFrom(length, fill, inspect ? { maxSize, inspect } : { maxSize }, core()),
    lz4FrameHeader: (size, options) => lz4FrameHeader(size, options, core()),
    lz4FrameBlocks: (data, options) => lz4FrameBlocks(data, options, core()),
    lz4FrameTrailer: (sum, options) => lz4FrameTrailer(sum, options, core()),
    cdcCutPoints: (data, params) => cdcCutPoints(data, params, core()),
  };
}

let shared: CoreBindings | undefined;

/** Bindings on this thread's default core instance (replaced automatically if it traps). */
export function coreBindings(): CoreBindings {
  return (shared ??= make(defaultCore));
}
