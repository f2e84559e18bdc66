/**
 * Process-wide retry settings and reporting: the config's `retry.*` become the defaults of every
 * `withRetry` call in the process, and every retry is counted in `forge_retries_total{op,code}` and
 * logged at warn with its attempt number (withRetry logs through the logger given here).
 *
 * Daemon wiring (once, after the logger and metrics exist, before any I/O):
 * ```ts
 * const uninstall = installRetryReporting({ config: cfg, logger: log, metrics });
 * ```
 */
import { setRetryDefaults, type RetryDefaults, type RetryEvent, type RetryLogger } from '../base/retry.js';
import type { RetryConfig } from './config/schema.js';

/** What counts retries (a {@link Metrics} fits). */
export interface RetryRecorder {
  recordRetry(op: string, code: string): void;
}

export interface RetryReportingOptions {
  /** The validated config; only `retry` is read. */
  config: { retry: RetryConfig };
  /** Receives the warn line of every retry (a ForgeLogger fits). */
  logger?: RetryLogger;
  /** Counts every retry. */
  metrics?: RetryRecorder;
  /** Also hears of every retry (after the count). */
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Sets the process-wide retry defaults from the config and reports every retry made anywhere in the
 * process. Returns a function that restores the defaults in force before.
 *
 * @example
 * ```ts
 * const metrics = new Metrics();
 * const log = createLogger({ metrics, level: cfg.logLevel });
 * installRetryReporting({ config: cfg, logger: log, metrics });
 * await withRetry(() => index.recordBatch(batch), { operation: 'recordBatch' }); // counted + logged when retried
 * ```
 */
export function installRetryReporting(opts: RetryReportingOptions): () => void {
  const { retry } = opts.config;
  const next: RetryDefaults = {
    maxAttempts: retry.maxAttempts,
    initialDelayMs: retry.baseDelayMs,
    maxDelayMs: retry.maxDelayMs,
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    onRetry: (event) => {
      opts.metrics?.recordRetry(event.operation, event.error.code ?? event.error.category);
      opts.onRetry?.(event);
    },
  };
  const prev = setRetryDefaults(next);
  return () => void setRetryDefaults(prev);
}
