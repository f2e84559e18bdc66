/**
 * Structured JSON logging for Forge (pino), with size rotation, I/O timings and
 * slow-operation warnings.
 *
 * Every line is one JSON object with at least `timestamp` (ISO-8601), `level`
 * (`trace` | `debug` | `info` | `warn` | `error`) and `message`. An error passed
 * as the first argument (or through {@link ForgeLogger.logError}) becomes a full
 * error record: `category`, `message`, `context`, `suggestions`, `retryable`, `cause`.
 *
 * Daemon wiring (a few lines):
 * ```ts
 * const log = createLogger({ level: cfg.logLevel, file: cfg.logFile, rotateBytes: cfg.logRotateBytes,
 *                            slowOperationMs: cfg.slowOperationMs, metrics });
 * log.info({ root }, 'watching');
 * const data = await log.timed('batchRead', () => io.batchRead(paths), { backend: io.backend });
 * shutdown.register({ name: 'logs', phase: 'logs', stop: () => log.close() });
 * ```
 *
 * Flushing: the file sink writes synchronously and stderr goes through a
 * synchronous sonic-boom, so a line is in the kernel when the log call
 * returns; `flush()`/`close()` additionally fsync. Nothing is lost on
 * `process.exit()`, on signals or on crashes.
 */
import { performance } from 'node:perf_hooks';
import { humanSink } from './human-log.js';
import type { LogSink } from './log-sink.js';
import pino, { type Logger as PinoLogger } from 'pino';
import { ERROR_CATEGORIES, ForgeError, toForgeError, type ErrorCategory, type ErrorContext } from '../base/errors.js';
import { DEFAULT_LOG_MAX_FILES, DEFAULT_ROTATE_BYTES, RotatingFileSink } from './rotating-file.js';

/** The log levels, least severe first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's numeric values for the levels, for filtering and tests. */
export const LOG_LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export const DEFAULT_SLOW_OPERATION_MS = 1000;

/** Where operation timings and error counts go (implemented by {@link Metrics}). */
export interface OperationRecorder {
  /** Records one operation's outcome and duration. */
  observeOperation(op: string, backend: string, result: 'ok' | 'error', durationMs: number): void;
  /** Counts an error of `category`. */
  recordError(category: ErrorCategory): void;
}

export type { LogSink };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** Log file (rotated by size). Without it, logs go to stderr (stdout stays free for command output). */
  file?: string;
  /** Rotate before the file would exceed this many bytes. Default 100 MiB. */
  rotateBytes?: number;
  /** Rotated files kept. Default 10. */
  maxFiles?: number;
  /** A custom sink instead of file/stderr (tests, embedding). */
  destination?: LogSink;
  /** Operations slower than this log a warning. Default 1000 ms. */
  slowOperationMs?: number;
  /** Receives operation timings and error counts. */
  metrics?: OperationRecorder;
  /** Milliseconds clock for `timed` (injectable for tests). Default `performance.now`. */
  clock?: () => number;
  /** Fields added to every line (e.g. `{ component: 'daemon' }`). */
  bindings?: Record<string, unknown>;
  /**
   * Without `file`/`destination`: `human` lines on stderr (default when stderr is a TTY) or `json`
   * records (default otherwise, and with `--log-format json`).
   */
  format?: 'json' | 'human';
  /** Stacks in human lines (`--debug`). JSON records always carry them. */
  stacks?: boolean;
}

/** Context of a timed operation. */
export interface TimedContext {
  backend?: string;
  file?: string;
  [key: string]: unknown;
}

type LogArgs = [obj: unknown, msg?: string, ...rest: unknown[]];

/** A never-empty message for an error record (thrown values may carry none). */
function recordMessage(fe: ForgeError): string {
  if (fe.message.trim() !== '') return fe.message;
  const code = typeof fe.context.code === 'string' ? ` ${fe.context.code}` : '';
  const op = typeof fe.context.operation === 'string' ? ` in ${fe.context.operation}` : '';
  return `${fe.category} error${code}${op} (the thrown value had no message)`;
}

/** A plain, complete error record (what `logError` writes besides timestamp/level). */
export function errorRecord(
  err: unknown,
  context: Partial<ErrorContext> = {},
): {
  error: ForgeError;
  message: string;
  fields: Record<string, unknown>;
} {
  const fe = toForgeError(err, context);
  const j = fe.toJSON();
  return {
    error: fe,
    message: recordMessage(fe),
    fields: {
      category: fe.category,
      context: fe.context,
      suggestions: fe.suggestions(),
      retryable: fe.isRetryable(),
      ...(j.cause !== undefined ? { cause: j.cause } : {}),
      ...(fe.stack !== undefined ? { stack: fe.stack } : {}),
    },
  };
}

/**
 * Forge's logger: pino methods plus `logError`, `timed`, `flush`, `close`.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug' });
 * await log.timed('writeAll', () => io.writeAll(ops), { backend: 'io_uring' });
 * try { … } catch (e) { log.logError(e, { operation: 'put' }); }
 * ```
 */
export class ForgeLogger {
  /** The underlying pino logger (for libraries that want one). */
  readonly pino: PinoLogger;
  readonly slowOperationMs: number;
  private readonly sink: LogSink;
  private readonly ownsSink: boolean;
  private readonly metrics: OperationRecorder | undefined;
  private readonly clock: () => number;
  private closed = false;

  /** @internal use {@link createLogger}. */
  constructor(p: PinoLogger, sink: LogSink, ownsSink: boolean, opts: LoggerOptions) {
    this.pino = p;
    this.sink = sink;
    this.ownsSink = ownsSink;
    this.metrics = opts.metrics;
    this.clock = opts.clock ?? (() => performance.now());
    this.slowOperationMs = opts.slowOperationMs ?? DEFAULT_SLOW_OPERATION_MS;
  }

  get level(): LogLevel {
    return this.pino.level as LogLevel;
  }
  set level(l: LogLevel) {
    this.pino.level = l;
  }
  /** Whether lines at level `l` are written. */
  isLevelEnabled(l: LogLevel): boolean {
    return this.pino.isLevelEnabled(l);
  }

  /** Logs at trace level. */
  trace(...a: LogArgs): void {
    (this.pino.trace as (...x: unknown[]) => void)(...a);
  }
  /** Logs at debug level. */
  debug(...a: LogArgs): void {
    (this.pino.debug as (...x: unknown[]) => void)(...a);
  }
  /** Logs at info level. */
  info(...a: LogArgs): void {
    (this.pino.info as (...x: unknown[]) => void)(...a);
  }
  /** Logs at warn level. */
  warn(...a: LogArgs): void {
    (this.pino.warn as (...x: unknown[]) => void)(...a);
  }
  /** Logs at error level. */
  error(...a: LogArgs): void {
    (this.pino.error as (...x: unknown[]) => void)(...a);
  }

  /** A logger with extra fields on every line, sharing this one's sink. */
  child(bindings: Record<string, unknown>): ForgeLogger {
    return new ForgeLogger(this.pino.child(bindings), this.sink, false, {
      metrics: this.metrics,
      clock: this.clock,
      slowOperationMs: this.slowOperationMs,
    });
  }

  /**
   * Logs anything thrown as a complete error record (category, message,
   * context, suggestions) at `error` level (or `level`) and returns it as a ForgeError.
   */
  logError(err: unknown, context: Partial<ErrorContext> = {}, level: 'error' | 'warn' = 'error'): ForgeError {
    const fe = toForgeError(err, context);
    // The logMethod hook turns the Error into the full record and counts it.
    this.pino[level](fe);
    return fe;
  }

  /**
   * Runs `fn`, logs its duration at debug level, warns when it took longer than
   * the slow-operation threshold, and records the operation in the metrics.
   */
  async timed<T>(operation: string, fn: () => Promise<T> | T, ctx: TimedContext = {}): Promise<T> {
    const t0 = this.clock();
    let result: 'ok' | 'error' = 'ok';
    try {
      return await fn();
    } catch (e) {
      result = 'error';
      throw e;
    } finally {
      this.reportTiming(operation, this.clock() - t0, result, ctx);
    }
  }

  /** {@link timed} for synchronous work. */
  timedSync<T>(operation: string, fn: () => T, ctx: TimedContext = {}): T {
    const t0 = this.clock();
    let result: 'ok' | 'error' = 'ok';
    try {
      return fn();
    } catch (e) {
      result = 'error';
      throw e;
    } finally {
      this.reportTiming(operation, this.clock() - t0, result, ctx);
    }
  }

  /** Records a duration measured elsewhere (same logging/metrics as `timed`). */
  reportTiming(operation: string, rawMs: number, result: 'ok' | 'error', ctx: TimedContext = {}): void {
    const durationMs = Math.round(rawMs * 1000) / 1000;
    this.metrics?.observeOperation(operation, ctx.backend ?? 'none', result, durationMs);
    if (durationMs > this.slowOperationMs) {
      this.pino.warn(
        { ...ctx, operation, durationMs, thresholdMs: this.slowOperationMs, result },
        `slow operation: ${operation} took ${durationMs} ms (threshold ${this.slowOperationMs} ms)`,
      );
    } else if (this.pino.isLevelEnabled('debug')) {
      this.pino.debug({ ...ctx, operation, durationMs, result }, `${operation} took ${durationMs} ms`);
    }
  }

  /** Makes everything logged so far durable (lines are already in the kernel). Synchronous. */
  flush(): void {
    this.sink.flushSync?.();
  }

  /** Flushes and closes the sink this logger opened. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    if (this.ownsSink) (this.sink.close ?? this.sink.end)?.call(this.sink);
  }
}

/**
 * Creates Forge's logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info', file: '/var/log/forge/forge.log', rotateBytes: 100 * 2 ** 20 });
 * log.info({ files: 10 }, 'indexed');
 * log.close();
 * ```
 */
export function createLogger(opts: LoggerOptions = {}): ForgeLogger {
  const level = opts.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ForgeError('configuration', `log level must be one of ${LOG_LEVELS.join(', ')}, got ${String(level)}`);
  }
  let sink: LogSink;
  let owns = true;
  if (opts.destination) {
    sink = opts.destination;
    owns = false;
  } else if (opts.file) {
    sink = RotatingFileSink.open({
      file: opts.file,
      maxBytes: opts.rotateBytes ?? DEFAULT_ROTATE_BYTES,
      maxFiles: opts.maxFiles ?? DEFAULT_LOG_MAX_FILES,
    });
  } else if ((opts.format ?? (process.stderr.isTTY ? 'human' : 'json')) === 'human') {
    sink = humanSink({ stacks: opts.stacks ?? false });
  } else {
    const d = pino.destination({ dest: 2, sync: true });
    sink = { write: (l: string) => d.write(l), flushSync: () => d.flushSync(), close: () => d.end() };
  }
  const metrics = opts.metrics;
  const p = pino(
    {
      level,
      messageKey: 'message',
      base: { pid: process.pid, ...opts.bindings },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // An Error as first argument becomes a complete error record, and errors
        // logged at error level are counted by category.
        logMethod(args, method, lvl) {
          const [first, ...rest] = args as unknown[];
          if (first instanceof Error) {
            const { error, fields, message } = errorRecord(first);
            const msg = typeof rest[0] === 'string' && rest[0] !== '' ? (rest.shift() as string) : message;
            if (lvl >= LOG_LEVEL_VALUES.error) metrics?.recordError(error.category);
            return (method as (...x: unknown[]) => void).apply(this, [fields, msg, ...rest]);
          }
          if (lvl >= LOG_LEVEL_VALUES.error && first !== null && typeof first === 'object') {
            const c = (first as { category?: unknown }).category;
            if (typeof c === 'string' && (ERROR_CATEGORIES as readonly string[]).includes(c)) {
              metrics?.recordError(c as ErrorCategory);
            }
          }
          // Every line carries a `message`, even when only an object was logged.
          if (args.length === 1 && first !== null && typeof first === 'object') {
            const m = (first as { message?: unknown }).message;
            return (method as (...x: unknown[]) => void).apply(this, [first, typeof m === 'string' ? m : '']);
          }
          return (method as (...x: unknown[]) => void).apply(this, args as unknown[]);
        },
      },
    },
    sink as unknown as pino.DestinationStream,
  );
  return new ForgeLogger(p, sink, owns, opts);
}
