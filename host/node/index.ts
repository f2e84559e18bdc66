/**
 * forge-io: platform-native batch file I/O, a debounced tree watcher and a verified content-addressed
 * store, with a WebAssembly compute core. The root entry is the whole library; `forge-io/core`,
 * `forge-io/io`, `forge-io/watch` and `forge-io/store` load only their part.
 *
 * @example
 * ```ts
 * import { BlobStore, sha256, watch } from 'forge-io';
 * ```
 *
 * @module
 */
export * from './core-entry.js';
export * from './io-entry.js';
export * from './watch-entry.js';
export * from './store-entry.js';

// runtime: retry, configuration, logging, metrics, graceful shutdown, exit codes
export { withRetry, setRetryDefaults, backoffDelays } from './base/retry.js';
export { categorize } from './base/errors.js';
export type { RetryPolicy, RetryLogger, RetryDefaults, RetryEvent } from './base/retry.js';
export { loadConfig, loadConfigOrExit, formatConfigReport, validateConfig, ConfigError, configJsonSchema } from './runtime/config/index.js';
export type {
  ForgeConfig,
  ForgeConfigInput,
  ConfigField,
  RetryConfig,
  ValidateOptions,
  ConfigIssue,
  LoadConfigOptions,
  LoadedConfig,
  ValidationResult,
} from './runtime/config/index.js';
export { createLogger, ForgeLogger, LOG_LEVELS } from './runtime/logging.js';
export type { LogLevel, LoggerOptions, LogSink, OperationRecorder, TimedContext } from './runtime/logging.js';
export { Metrics } from './runtime/metrics.js';
export type { MetricsOptions } from './runtime/metrics.js';
export { startMetricsServer } from './runtime/metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './runtime/metrics-server.js';
export { Shutdown, SHUTDOWN_PHASES } from './runtime/shutdown.js';
export type { ShutdownComponent, ShutdownLogger, ShutdownOptions, ShutdownPhase, ShutdownReport, PhaseReport } from './runtime/shutdown.js';
export { EXIT_CODES, exitCodeName } from './base/exit-codes.js';
export type { ExitCode, ExitCodeName } from './base/exit-codes.js';
