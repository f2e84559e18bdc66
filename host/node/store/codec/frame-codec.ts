/**
 * Object frames: their options (one standard LZ4 frame with independent
 * blocks, content size and content checksum; the compression settings that
 * write-compress.ts applies), decoding, and the codec worker pool for
 * concurrent verified reads (the same workers compress for puts).
 */
import { availableParallelism } from 'node:os';
import { ForgeError } from '../../base/errors.js';
import type { CoreBindings, FrameOptions } from '../core-bindings.js';
import { decodePool, workerScriptPath, type CodecPool } from './codec-pool.js';

export const DEFAULT_FRAME_OPTIONS: FrameOptions = {
  blockSize: 65536,
  contentSize: true,
  contentChecksum: true,
  blockChecksum: false,
};

export { DECODE_POOL_AFTER_BYTES } from './codec-pool.js';

const BLOCK_SIZES = new Set([65536, 262144, 1048576, 4194304]);
const LZ4_MAGIC = 0x184d2204;

export interface FrameCodecOptions {
  frame?: Partial<FrameOptions>;
  /** Content larger than this is compressed on worker threads (default 100,000 bytes). */
  parallelThreshold?: number;
  /** Worker threads (default: available parallelism, at most 4; 0 compresses inline). */
  workers?: number;
  /** Largest content an object may decode to (default 1 GiB). */
  maxObjectSize?: number;
}

/** What the frame header says, read without decoding. */
export interface FrameHeaderInfo {
  blockSize: number;
  contentSize: number | undefined;
  contentChecksum: boolean;
  blockChecksum: boolean;
}

/** Parses an LZ4 frame header (magic, FLG, BD, optional content size); undefined if it is not one. */
export function parseFrameHeader(bytes: Uint8Array): FrameHeaderInfo | undefined {
  if (bytes.length < 7) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== LZ4_MAGIC) return undefined;
  const flg = bytes[4]!;
  const bd = bytes[5]!;
  if (flg >> 6 !== 1) return undefined; // version 01
  const hasSize = (flg & 0x08) !== 0;
  let contentSize: number | undefined;
  if (hasSize) {
    if (bytes.length < 14) return undefined;
    contentSize = Number(dv.getBigUint64(6, true));
  }
  return {
    blockSize: 1 << (8 + 2 * ((bd >> 4) & 7)),
    contentSize,
    contentChecksum: (flg & 0x04) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
  };
}

/**
 * Frame settings and decoding of objects.
 *
 * @example
 * ```ts
 * const codec = new FrameCodec(coreBindings());
 * const content = codec.decompress(frame); // throws ForgeError('validation') on a bad frame
 * await codec.close(); // the shared codec workers stay up for other stores
 * ```
 */
export class FrameCodec {
  readonly frame: FrameOptions;
  readonly parallelThreshold: number;
  readonly workers: number;
  readonly maxObjectSize: number;
  /** Why compression is not parallel although workers were asked for, if so. */
  inlineReason: string | undefined;

  constructor(
    private readonly core: CoreBindings,
    options: FrameCodecOptions = {},
  ) {
    this.frame = { ...DEFAULT_FRAME_OPTIONS, ...options.frame };
    if (!BLOCK_SIZES.has(this.frame.blockSize)) {
      throw new ForgeError('configuration', `LZ4 block size must be 64 KiB, 256 KiB, 1 MiB or 4 MiB, got ${this.frame.blockSize}`, {
        context: { operation: 'open store', field: 'frame.blockSize' },
      });
    }
    if (!this.frame.contentSize || !this.frame.contentChecksum) {
      throw new ForgeError('configuration', 'Store frames always carry content size and content checksum', {
        context: { operation: 'open store', field: 'frame' },
        suggestions: ['Leave frame.contentSize and frame.contentChecksum at true (the on-disk format requires them).'],
      });
    }
    this.parallelThreshold = options.parallelThreshold ?? 100_000;
    this.workers = options.workers ?? Math.min(4, availableParallelism());
    this.maxObjectSize = options.maxObjectSize ?? 1 << 30;
    if (this.workers > 0 && workerScriptPath() === undefined) {
      this.inlineReason = 'compiled worker script not found (build dist/ with `npx tsc -p tsconfig.json`)';
    }
  }

  /** True when large content goes to worker threads. */
  get parallel(): boolean {
    return this.workers > 0 && this.inlineReason === undefined;
  }

  /** The content of a frame; throws ForgeError('validation') on a bad frame. */
  decompress(frame: Uint8Array): Uint8Array {
    return this.core.lz4Decompress(frame, this.maxObjectSize);
  }

  /**
   * {@link decompress} of a frame of `length` bytes that `fill(dst)` writes straight into core
   * memory; `inspect` sees the content in place first (see {@link CoreBindings.lz4DecompressFrom}).
   */
  decompressFrom(length: number, fill: (dst: Uint8Array) => number, inspect?: (content: Uint8Array) => void): Uint8Array {
    return this.core.lz4DecompressFrom(length, fill, this.maxObjectSize, inspect);
  }

  /**
   * The process's codec workers for concurrent verified reads of `frameBytes`-byte objects (the
   * same workers that compress), or undefined: when workers are off (`workers: 0`), the compiled
   * worker is missing, or no worker is up yet and concurrent reads have not yet decoded
   * {@link DECODE_POOL_AFTER_BYTES} inline. Measured on 2 cores: warm workers take 16 concurrent
   * 1 MiB gets from ~420 to ~650 MB/s on an idle machine, but starting them costs more than a
   * short burst gains (and under load from other processes they gain nothing), hence the
   * threshold; workers that puts started are warm and used at once.
   */
  decodeWorkers(frameBytes: number): CodecPool | undefined {
    if (this.workers === 0) return undefined;
    return decodePool(this.workers, frameBytes);
  }

  /** Stops using the codec workers (the shared pool stays up for the process's other stores). */
  async close(): Promise<void> {}
}
