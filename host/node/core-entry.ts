/**
 * `forge-io/core`: the WebAssembly compute core alone: SHA-256 and xxHash32, LZ4 frames and blocks,
 * FastCDC cut points and the change coalescer. It loads no native addon, no SQLite, no logger and no
 * metrics, so it is cheap to import and runs wherever WebAssembly does.
 *
 * @example
 * ```ts
 * import { sha256, lz4Compress, lz4Decompress } from 'forge-io/core';
 * const frame = lz4Compress(new TextEncoder().encode('hello'));
 * console.log(sha256(lz4Decompress(frame)));
 * ```
 *
 * @module
 */
import './base/dispose.js';

export { ForgeError } from './base/errors.js';
export type { ErrorCategory, ErrorContext, ForgeErrorOptions } from './base/errors.js';
export type { Change, ChangeKind } from './base/platform-io.js';

export { sha256, sha256Batch, xxh32, Sha256Stream } from './core/checksum.js';
export { CoreInstance, CoreArgs, coreInfo, loadCore, loadCoreAsync, selectCoreModule } from './core/loader.js';
export type { CoreFunction, CoreInfo, CoreModuleKind } from './core/loader.js';
export {
  lz4Compress,
  lz4Decompress,
  lz4CompressBlock,
  lz4DecompressBlock,
  lz4FrameHeader,
  lz4FrameBlocks,
  lz4FrameTrailer,
  LZ4_BLOCK_SIZES,
  DEFAULT_LZ4_BLOCK_SIZE,
  DEFAULT_LZ4_MAX_SIZE,
} from './core/codec.js';
export type { Lz4FrameOptions, Lz4DecompressOptions, Lz4BlockSize, CodecError } from './core/codec.js';
export { cdcCutPoints, DEFAULT_CDC } from './core/chunker.js';
export type { CdcOptions } from './core/chunker.js';
export { Coalescer } from './core/events.js';
