/**
 * How the daemon runs one recording batch: transient errors are retried with backoff (withRetry);
 * a full disk (category `storage`: ENOSPC, EDQUOT, SQLITE_FULL) is waited out with growing pauses,
 * logged each time, for at most `storageWaitMs` (unbounded for the daemon, 0 for `--once`). What
 * cannot be recorded ends in an error, never in a daemon that runs on without recording.
 */
import { statfsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForgeError, toForgeError } from '../base/errors.js';
import { withRetry } from '../base/retry.js';

export interface BatchRetryOptions {
  log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  /** Aborts waiting (shutdown). */
  signal?: AbortSignal;
  /** How long a full disk is waited out before the batch fails (default: forever). */
  storageWaitMs?: number;
  /** First pause while the disk is full (default 1000 ms); doubles up to `maxStorageDelayMs` (default 30 s). */
  storageDelayMs?: number;
  maxStorageDelayMs?: number;
  /** The store: an SQLite I/O error while its filesystem has no room left is a full disk too. */
  storeDir?: string;
}

/** Free bytes below which an I/O error on the store is taken for a full disk. */
const FULL_BELOW_BYTES = 64 * 1024;

/**
 * Whether `err` means the disk is full: category `storage`, or an SQLite I/O error (SQLite reports
 * a full disk under WAL as SQLITE_IOERR_SHMSIZE or _WRITE) while the store's filesystem is out of space.
 */
export function isDiskFull(err: ForgeError, storeDir?: string): boolean {
  if (err.category === 'storage') return true;
  const code = String(err.code ?? err.context.code ?? '');
  if (storeDir === undefined || !code.startsWith('SQLITE_IOERR')) return false;
  try {
    const st = statfsSync(storeDir);
    return st.bavail * st.bsize < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

/** The disk-full error a batch ends with when it gave up waiting. */
export function diskFullError(operation: string, cause: ForgeError, waitedMs: number): ForgeError {
  return new ForgeError('storage', `disk full: ${operation} could not be recorded (${cause.message})`, {
    cause,
    context: { operation, code: cause.code ?? cause.context.code ?? 'ENOSPC', waitedMs },
    suggestions: [
      'Free space on the disk that holds the store (or raise the quota), then run forge watch again: it catches up.',
      'Run `forge gc --dry-run` to see what old versions could be removed.',
    ],
  });
}

/**
 * A `runBatch` for {@link HistoryRecorder}.
 *
 * @example
 * ```ts
 * const runBatch = batchRunner({ log, signal: shutdown.signal });
 * new HistoryRecorder(root, io, store, index, log, { walk, runBatch });
 * ```
 */
export function batchRunner(opts: BatchRetryOptions): <T>(operation: string, fn: () => Promise<T>) => Promise<T> {
  const limit = opts.storageWaitMs ?? Number.POSITIVE_INFINITY;
  return async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    let waited = 0;
    let delay = opts.storageDelayMs ?? 1000;
    let full = false;
    for (;;) {
      try {
        const out = await withRetry(() => fn(), { operation, ...(opts.signal ? { signal: opts.signal } : {}) });
        if (full) opts.log.info({ operation, waitedMs: waited }, `space is free again: ${operation} recorded`);
        return out;
      } catch (e) {
        const fe = toForgeError(e, { operation });
        if (!isDiskFull(fe, opts.storeDir)) throw fe;
        if (waited >= limit || opts.signal?.aborted) throw diskFullError(operation, fe, waited);
        full = true;
        opts.log.warn(
          { operation, code: fe.code ?? fe.context.code, waitedMs: waited, retryInMs: delay },
          `disk full: ${operation} waits ${delay} ms for free space, then retries`,
        );
        try {
          await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
        } catch {
          throw diskFullError(operation, fe, waited);
        }
        waited += delay;
        delay = Math.min(delay * 2, opts.maxStorageDelayMs ?? 30_000);
      }
    }
  };
}
