/**
 * forge-io: platform-native batch file I/O, a debounced tree watcher and a
 * verified content-addressed store, with a WebAssembly compute core.
 *
 * Each area adds its public names below, in its own block.
 */

// errors
export { ForgeError, categorize, toForgeError, timeoutError, ERROR_CATEGORIES } from './errors.js';
export type { ErrorCategory, ErrorContext, ForgeErrorOptions, CodeInput } from './errors.js';

// platform I/O interface
export type {
  PlatformIO,
  BackendName,
  WriteOp,
  ReadResult,
  WriteResult,
  Change,
  ChangeKind,
  WatchOptions,
  WatchHandle,
  WatchStats,
} from './platform-io.js';

// core (sha256, xxh32, lz4, fastcdc, coalescer)

// platform I/O (createPlatformIO, ResourceManager)

// watcher

// blob store and index

// hardening (retry, config, logging, metrics, shutdown)
