/**
 * forge-io: platform-native batch file I/O, a debounced tree watcher and a
 * verified content-addressed store, with a WebAssembly compute core.
 *
 * Each area adds its public names below, in its own block.
 */

// errors
export { ForgeError, categorize, toForgeError, timeoutError, ERROR_CATEGORIES } from './base/errors.js';
export type { ErrorCategory, ErrorContext, ForgeErrorOptions, CodeInput } from './base/errors.js';

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
} from './base/platform-io.js';

// core (sha256, xxh32, lz4, fastcdc, coalescer)
export { sha256, sha256Batch, xxh32, Sha256Stream } from './core/checksum.js';
export { CoreInstance, loadCore, loadCoreAsync, defaultCore, coreModule } from './core/loader.js';
export {
  lz4Compress, lz4Decompress, lz4CompressBlock, lz4DecompressBlock,
  lz4FrameHeader, lz4FrameBlocks, lz4FrameTrailer,
  LZ4_BLOCK_SIZES, DEFAULT_LZ4_BLOCK_SIZE, DEFAULT_LZ4_MAX_SIZE,
} from './core/codec.js';
export type { Lz4FrameOptions, Lz4DecompressOptions, Lz4BlockSize, CodecError } from './core/codec.js';
export { cdcCutPoints, DEFAULT_CDC } from './core/chunker.js';
export type { CdcOptions } from './core/chunker.js';
export { Coalescer } from './core/events.js';

// platform I/O (createPlatformIO, ResourceManager)
export { createPlatformIO, getSelectionReport, parseBackendName, MIN_IO_URING_KERNEL } from './io/select.js';
export type { CreatePlatformIOOptions, SelectedPlatformIO, SelectionReport, BackendRejection, ProbeOverrides } from './io/select.js';
export { ResourceManager, HandleGuard } from './base/resources.js';
export type { ResourceManagerOptions, ResourceStats, AcquireOptions, IoLogger } from './base/resources.js';
export { FallbackBackend, createFallbackBackend } from './io/fallback-backend.js';
export type { FallbackBackendOptions } from './io/fallback-backend.js';
// io_uring names are types only here: the module loads koffi, so it is imported lazily by the selector.
export type { IoUringBackend, IoUringBackendOptions, IoUringStats } from '../native/linux/io-uring-backend.js';

// watcher
export { watch, watchTree, watcherKindFor } from './io/watch.js';
export type { WatcherKind } from './io/watch.js';
export { compileIgnore, DEFAULT_IGNORES } from './watch/ignore.js';
export type { IgnoreMatcher } from './watch/ignore.js';

// blob store and index
export { BlobStore } from './store/blob-store.js';
export type { BlobStoreOptions, PutResult, PutManyItem, PutManyResult, GetManyResult, GetOptions, BlobStat } from './store/blob-store.js';
export type { VerifyOptions, VerifyReport, VerifyProblem, VerifyProgress, ProblemKind } from './store/verify.js';
export type { GcOptions, GcReport } from './store/gc.js';
export type { HasherName } from './store/hasher.js';
export { encodeManifest, decodeManifest, MANIFEST_MAGIC } from './store/chunking.js';
export type { Manifest, ManifestChunk } from './store/chunking.js';
export { objectPath, isHash } from './store/object-path.js';
export { Index } from './index-db/index.js';
export type {
  VersionRecord,
  VersionKind,
  AddVersionInput,
  BlobRecord,
  IndexStats,
  IndexOptions,
  PruneOptions,
  PruneResult,
} from './index-db/index.js';
export { ConnectionPool } from './index-db/pool.js';
export type { PoolOptions, Lease } from './index-db/pool.js';
export { SCHEMA_VERSION } from './index-db/migrations.js';
/** Cached prepared statements for borrowed index connections (safe on Node >= 24 with better-sqlite3 12). */
export { stmt as preparedStatement, retainSqliteObjects } from './index-db/statements.js';

// hardening (retry, config, logging, metrics, shutdown)
export { withRetry, backoffDelays, setRetryDefaults, retryDefaults, MAX_ATTEMPTS } from './base/retry.js';
export type { RetryPolicy, RetryLogger } from './base/retry.js';
export {
  loadConfig,
  loadConfigOrExit,
  mergeConfigSources,
  formatConfigReport,
  validateConfig,
  assertValidConfig,
  formatConfigIssues,
  ConfigError,
  ForgeConfigSchema,
  configJsonSchema,
  CONFIG_FIELDS,
  IO_BACKENDS,
  envName,
  flagName,
  validRange,
  DEFAULT_CONFIG_FILE,
} from './runtime/config/index.js';
export type { ForgeConfig, ForgeConfigInput, ConfigField, ConfigIssue, LoadConfigOptions, LoadedConfig, ValidationResult } from './runtime/config/index.js';
export { createLogger, ForgeLogger, errorRecord, LOG_LEVELS, LOG_LEVEL_VALUES, DEFAULT_SLOW_OPERATION_MS } from './runtime/logging.js';
export type { LogLevel, LoggerOptions, LogSink, OperationRecorder, TimedContext } from './runtime/logging.js';
export { RotatingFileSink, DEFAULT_ROTATE_BYTES, DEFAULT_LOG_MAX_FILES } from './runtime/rotating-file.js';
export type { RotatingFileOptions } from './runtime/rotating-file.js';
export { Metrics, DEFAULT_LATENCY_BUCKETS } from './runtime/metrics.js';
export type { MetricsOptions } from './runtime/metrics.js';
export { startMetricsServer, parseHostPort, isLoopbackHost, DEFAULT_METRICS_ADDRESS } from './runtime/metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './runtime/metrics-server.js';
export { Shutdown, SHUTDOWN_PHASES, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './runtime/shutdown.js';
export type { ShutdownComponent, ShutdownLogger, ShutdownOptions, ShutdownPhase, ShutdownReport, PhaseReport } from './runtime/shutdown.js';
export { EXIT_CODES, exitCodeName } from './base/exit-codes.js';
export type { ExitCode, ExitCodeName } from './base/exit-codes.js';
