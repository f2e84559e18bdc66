/**
 * ForgeError: every failure Forge reports carries one category, the context
 * needed to act on it, and suggestions a user can follow.
 *
 * Categorisation looks at errno codes, io_uring CQE results (negative errno),
 * Win32 error codes and error classes — never at message text, which changes
 * between platforms and Node versions.
 */
import { LINUX_ERRNO, WIN32_ERRORS } from './errno-tables.js';

export { LINUX_ERRNO, WIN32_ERRORS } from './errno-tables.js';

/**
 * The nine categories; every error maps to exactly one. `storage`: the disk or quota is full (ENOSPC,
 * EDQUOT, SQLITE_FULL) — nothing is wrong with the data, there is no room for more. `integrity`: stored
 * data is damaged (a corrupt index database, an object whose content does not match its name).
 */
export type ErrorCategory = 'network' | 'filesystem' | 'storage' | 'integrity' | 'configuration' | 'validation' | 'dependency' | 'timeout' | 'unknown';

export const ERROR_CATEGORIES: readonly ErrorCategory[] = [
  'network',
  'filesystem',
  'storage',
  'integrity',
  'configuration',
  'validation',
  'dependency',
  'timeout',
  'unknown',
];

/** Where and when an error happened. */
export interface ErrorContext {
  /** The file or directory involved, if any. */
  file?: string;
  /** The operation, e.g. `batchRead`, `put`, `watch`. */
  operation?: string;
  /** ISO-8601 time the error was created. */
  timestamp: string;
  /** `process.platform`. */
  platform: string;
  /** The I/O backend in use, if any. */
  backend?: string;
  /** How many retries had been made when this error was raised. */
  retryCount: number;
  /** For timeouts: how long was waited, in ms. */
  durationMs?: number;
  /** The errno/Win32 code name (`ENOENT`, `ERROR_ACCESS_DENIED`), if known. */
  code?: string;
  /** The numeric errno/Win32 code, if known. */
  errno?: number;
  /** Anything else worth recording (object hash, field name, …). */
  [key: string]: unknown;
}

/** Optional parts of a {@link ForgeError}: cause, context, suggestions, retryability. */
export interface ForgeErrorOptions {
  cause?: unknown;
  context?: Partial<ErrorContext>;
  /** Replaces the category's default suggestions. */
  suggestions?: string[];
  /** Overrides the category's default retryability. */
  retryable?: boolean;
}

const DEFAULT_SUGGESTIONS: Record<ErrorCategory, string[]> = {
  network: ['Check that the address is reachable and the port is free, then retry.'],
  filesystem: [
    'Check that the path exists and that this user may read and write it.',
    'Run `forge doctor` to check limits (open files, inotify watches) and free space.',
  ],
  storage: [
    'Free space on the disk that holds the store (or raise the quota); nothing recorded so far is lost.',
    'Run `forge gc --dry-run` to see what old versions could be removed.',
  ],
  integrity: [
    'Stored data is damaged: run `forge verify` to find what is affected, then `forge verify --repair`.',
    'If the index is damaged, `forge index rebuild` recovers what the objects can tell.',
  ],
  configuration: ['Fix the listed fields in forge.config.json, FORGE_* variables or flags.', 'Run `forge doctor` to validate the configuration.'],
  validation: ['The data did not pass a check; run `forge verify` to find and repair damaged objects.'],
  dependency: ['Reinstall dependencies with `npm ci` (native packages: koffi, better-sqlite3).', 'Set FORGE_IO_BACKEND=fallback to run without native I/O.'],
  timeout: ['The operation took too long; retry, or raise the timeout if the system is busy.'],
  unknown: ['Re-run with --debug (or FORGE_LOG_LEVEL=debug) and report the log if it persists.'],
};

/** Categories whose failures are usually transient. */
const RETRYABLE_BY_DEFAULT: Record<ErrorCategory, boolean> = {
  network: true,
  filesystem: false,
  storage: false,
  integrity: false,
  configuration: false,
  validation: false,
  dependency: false,
  timeout: true,
  unknown: false,
};

/** Filesystem errno names that are transient (busy, interrupted, out of handles for now). */
const TRANSIENT_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETXTBSY', 'ECANCELED']);

/**
 * SQLite primary result codes (better-sqlite3 reports them, or their extended forms such as
 * `SQLITE_BUSY_SNAPSHOT`, as `err.code`) → category. Busy and locked mean another connection
 * holds a lock: transient, so retryable. Codes not listed (SQLITE_ERROR, MISUSE, ABORT, INTERRUPT, …)
 * are `unknown`: bugs or deliberate cancels (shutdown interrupts queries), never worth a retry.
 */
const SQLITE_PRIMARY: Readonly<Record<string, ErrorCategory>> = {
  SQLITE_BUSY: 'filesystem',
  SQLITE_LOCKED: 'filesystem',
  SQLITE_PROTOCOL: 'filesystem',
  SQLITE_IOERR: 'filesystem',
  SQLITE_CANTOPEN: 'filesystem',
  SQLITE_PERM: 'filesystem',
  SQLITE_READONLY: 'filesystem',
  SQLITE_AUTH: 'filesystem',
  SQLITE_NOMEM: 'filesystem',
  SQLITE_FULL: 'storage',
  SQLITE_CORRUPT: 'integrity',
  SQLITE_NOTADB: 'integrity',
  SQLITE_FORMAT: 'integrity',
  SQLITE_CONSTRAINT: 'validation',
  SQLITE_MISMATCH: 'validation',
  SQLITE_TOOBIG: 'validation',
  SQLITE_RANGE: 'validation',
  SQLITE_NOLFS: 'dependency',
};
/** SQLite primary codes that are transient (another connection holds the lock). */
const SQLITE_TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_PROTOCOL']);

/** `SQLITE_BUSY_SNAPSHOT` → `SQLITE_BUSY`; undefined for a code that is not SQLite's. */
function sqlitePrimary(code: string): string | undefined {
  return /^SQLITE_[A-Z]+/.exec(code)?.[0];
}

/** Whether a code names a transient condition (EAGAIN, EBUSY, EMFILE, SQLITE_BUSY, SQLITE_LOCKED, …). */
export function isTransientCode(code: string): boolean {
  if (TRANSIENT_CODES.has(code)) return true;
  const primary = sqlitePrimary(code);
  return primary !== undefined && SQLITE_TRANSIENT.has(primary);
}

/**
 * The error type of every Forge API.
 *
 * @example
 * ```ts
 * try { await store.get(hash); }
 * catch (e) {
 *   if (e instanceof ForgeError && e.category === 'validation') console.error(e.suggestions());
 * }
 * ```
 */
export class ForgeError extends Error {
  override readonly name = 'ForgeError';
  readonly category: ErrorCategory;
  readonly context: ErrorContext;
  private readonly _suggestions: string[];
  private readonly _retryable: boolean;

  constructor(category: ErrorCategory, message: string, options: ForgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.category = category;
    this.context = {
      timestamp: new Date().toISOString(),
      platform: process.platform,
      retryCount: 0,
      ...options.context,
    };
    this._suggestions = options.suggestions && options.suggestions.length > 0 ? options.suggestions : DEFAULT_SUGGESTIONS[category];
    const code = this.context.code;
    this._retryable = options.retryable ?? (RETRYABLE_BY_DEFAULT[category] || (category === 'filesystem' && code !== undefined && isTransientCode(code)));
  }

  /** The errno/Win32/SQLite code name (`ENOENT`, `SQLITE_BUSY`), if known; the same as `context.code`. */
  get code(): string | undefined {
    return this.context.code;
  }

  /** Whether retrying the same operation may succeed. */
  isRetryable(): boolean {
    return this._retryable;
  }

  /** What the user can do about it; never empty. */
  suggestions(): string[] {
    return [...this._suggestions];
  }

  /** A copy with more context (e.g. the retry count), keeping category and cause. */
  withContext(extra: Partial<ErrorContext>): ForgeError {
    return new ForgeError(this.category, this.message, {
      cause: this.cause,
      context: { ...this.context, ...extra },
      suggestions: this._suggestions,
      retryable: this._retryable,
    });
  }

  /** A plain record for structured logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      category: this.category,
      message: this.message,
      context: this.context,
      suggestions: this.suggestions(),
      retryable: this.isRetryable(),
      cause: this.cause instanceof Error ? { name: this.cause.name, message: this.cause.message } : this.cause,
    };
  }
}

// ---------------------------------------------------------------- errno tables (numbers → names: errno-tables.ts)

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'ENETDOWN',
  'ENETUNREACH',
  'ENETRESET',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ENOTCONN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPROTO',
  'ESHUTDOWN',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIME', 'ERR_TIMEOUT', 'ABORT_ERR_TIMEOUT']);
const DEPENDENCY_CODES = new Set(['ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND', 'ERR_DLOPEN_FAILED']);
const VALIDATION_CODES = new Set(['EILSEQ', 'EBADMSG', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);
const CONFIG_CODES = new Set(['ERR_FORGE_CONFIG']);
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** The category of an errno-style code name. Unknown names are `unknown`. */
export function categoryOfCode(code: string): ErrorCategory {
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (NETWORK_CODES.has(code)) return 'network';
  if (DEPENDENCY_CODES.has(code)) return 'dependency';
  if (VALIDATION_CODES.has(code)) return 'validation';
  if (CONFIG_CODES.has(code)) return 'configuration';
  if (STORAGE_CODES.has(code)) return 'storage';
  const primary = sqlitePrimary(code);
  if (primary !== undefined) return SQLITE_PRIMARY[primary] ?? 'unknown';
  if (/^E[A-Z0-9]+$/.test(code)) return 'filesystem'; // EOF included
  return 'unknown';
}

/** A code input for {@link categorize}: a CQE result, an errno, or a Win32 code. */
export type CodeInput = { kind: 'cqe'; res: number } | { kind: 'errno'; errno: number } | { kind: 'win32'; code: number };

function nameOf(input: CodeInput): string | undefined {
  switch (input.kind) {
    case 'cqe':
      return input.res < 0 ? LINUX_ERRNO[-input.res] : undefined;
    case 'errno':
      return LINUX_ERRNO[Math.abs(input.errno)];
    case 'win32':
      return WIN32_ERRORS[input.code];
  }
}

function isCodeInput(x: unknown): x is CodeInput {
  return (
    typeof x === 'object' &&
    x !== null &&
    'kind' in x &&
    ((x as CodeInput).kind === 'cqe' || (x as CodeInput).kind === 'errno' || (x as CodeInput).kind === 'win32')
  );
}

/**
 * Maps anything thrown to exactly one category.
 *
 * @example
 * ```ts
 * categorize({ kind: 'cqe', res: -2 });      // 'filesystem' (ENOENT)
 * categorize({ kind: 'win32', code: 5 });    // 'filesystem' (ERROR_ACCESS_DENIED)
 * categorize(Object.assign(new Error(), { code: 'ECONNRESET' })); // 'network'
 * ```
 */
export function categorize(err: unknown): ErrorCategory {
  if (err instanceof ForgeError) return err.category;
  if (isCodeInput(err)) {
    const name = nameOf(err);
    return name === undefined ? 'unknown' : categoryOfCode(name);
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; errno?: unknown; name?: unknown };
    if (typeof e.code === 'string') {
      const c = categoryOfCode(e.code);
      if (c !== 'unknown') return c;
    }
    if (typeof e.errno === 'number' && e.errno !== 0) {
      const name = LINUX_ERRNO[Math.abs(e.errno)];
      if (name !== undefined) return categoryOfCode(name);
    }
    if (e.name === 'TimeoutError') return 'timeout';
    if (e.name === 'AbortError') return 'timeout';
    // WebAssembly.RuntimeError/CompileError/LinkError (no DOM lib here, so by class name).
    if (e.name === 'RuntimeError' || e.name === 'CompileError' || e.name === 'LinkError') return 'dependency';
    if (err instanceof TypeError || err instanceof RangeError) return 'validation';
    if (err instanceof SyntaxError) return 'validation';
  }
  return 'unknown';
}

/**
 * Wraps anything thrown into a ForgeError, keeping the original as `cause`.
 *
 * @example
 * ```ts
 * try { await fs.readFile(p); } catch (e) { throw toForgeError(e, { file: p, operation: 'read' }); }
 * ```
 */
export function toForgeError(err: unknown, context: Partial<ErrorContext> = {}, message?: string): ForgeError {
  if (err instanceof ForgeError) return Object.keys(context).length ? err.withContext(context) : err;
  let code: string | undefined;
  let errno: number | undefined;
  if (isCodeInput(err)) {
    code = nameOf(err);
    errno = err.kind === 'cqe' ? -err.res : err.kind === 'errno' ? Math.abs(err.errno) : err.code;
  } else if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; errno?: unknown };
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.errno === 'number') errno = Math.abs(e.errno);
    if (code === undefined && errno !== undefined) code = LINUX_ERRNO[errno];
  }
  const category = categorize(err);
  const base = message ?? (err instanceof Error ? err.message : code !== undefined ? code : safeString(err));
  const where = context.file !== undefined ? ` (${context.operation ?? 'operation'} on ${context.file})` : '';
  return new ForgeError(category, `${base}${where}`, {
    cause: err,
    context: { ...context, ...(code !== undefined ? { code } : {}), ...(errno !== undefined ? { errno } : {}) },
    suggestions: suggestionsForCode(code, context.file),
  });
}

/** String(x), except for values that refuse conversion (e.g. objects without a prototype). */
function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}

/** Specific advice for common codes; falls back to the category defaults. */
function suggestionsForCode(code: string | undefined, file: string | undefined): string[] | undefined {
  const f = file ?? 'the path';
  switch (code) {
    case 'ENOENT':
      return [`${f} does not exist: check the path, or create it first.`];
    case 'EACCES':
    case 'EPERM':
      return [`Permission denied on ${f}: check its owner and mode (ls -l), or run as a user that may access it.`];
    case 'EMFILE':
    case 'ENFILE':
      return ['Too many open files: lower maxFileHandles or raise the limit with `ulimit -n`.'];
    case 'ENOSPC':
      return ['No space left (or no inotify watches left): free disk space, or raise fs.inotify.max_user_watches.'];
    case 'EROFS':
      return [`${f} is on a read-only filesystem: choose a writable location.`];
    case 'EISDIR':
      return [`${f} is a directory, not a file.`];
    case 'ENOTDIR':
      return [`A component of ${f} is not a directory.`];
    case 'ENAMETOOLONG':
      return ['The path is too long for this filesystem: shorten it.'];
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return [
        'Another connection holds a lock on the index database: retry once it finishes (retry.maxAttempts and retry.maxDelayMs set how long Forge waits).',
      ];
    default:
      return undefined;
  }
}

/** A timeout error whose message states how long was waited. */
export function timeoutError(operation: string, durationMs: number, context: Partial<ErrorContext> = {}): ForgeError {
  return new ForgeError('timeout', `${operation} timed out after ${durationMs} ms`, {
    context: { ...context, operation, durationMs, code: 'ETIMEDOUT' },
  });
}
