/**
 * Retry for the transient errors of platform I/O, on top of base/retry.ts's `withRetry` (its backoff,
 * its process-wide defaults and observer): EAGAIN/EWOULDBLOCK, EINTR, EBUSY, and EMFILE/ENFILE that
 * still happen after the handle queue (fds held outside Forge's budget). Every other error, even
 * one marked retryable (a file that changed during a safe read: ECHANGED is the caller's decision),
 * fails at once.
 */
import { toForgeError, type ForgeError } from '../../node/base/errors.js';
import { withRetry } from '../../node/base/retry.js';

/** The codes platform I/O retries. */
export const TRANSIENT_IO_CODES: ReadonlySet<string> = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR', 'EBUSY', 'EMFILE', 'ENFILE']);

/** True when `err` is one of {@link TRANSIENT_IO_CODES}. */
export function isTransientIo(err: ForgeError): boolean {
  return TRANSIENT_IO_CODES.has(String(err.context.code));
}

/**
 * Runs `fn`, retrying it with backoff while it fails with a transient I/O code; the last error
 * carries the retries made (`context.retryCount`).
 *
 * @example
 * ```ts
 * const data = await retryIo(() => fsp.readFile(p), 'readAll', { file: p, backend: 'fallback' });
 * ```
 */
export async function retryIo<T>(fn: () => Promise<T>, operation: string, context: { file?: string; backend?: string } = {}): Promise<T> {
  let final: ForgeError | undefined;
  const out = await withRetry(
    async () => {
      try {
        return { value: await fn() };
      } catch (e) {
        const err = toForgeError(e, { operation, ...context });
        if (isTransientIo(err)) throw err;
        final = err; // not transient: out of the retry loop at once
        return undefined;
      }
    },
    { operation: `${operation}${context.backend ? ` (${context.backend})` : ''}` },
  );
  if (final !== undefined || out === undefined) throw final;
  return out.value;
}

/**
 * The slots of a batch that failed with a transient code, each run again by `redo(i)` with
 * backoff (concurrently); the others are returned as they are.
 *
 * @example
 * ```ts
 * results = await retrySlots(results, (i) => readOne(paths[i]), 'batchRead');
 * ```
 */
export async function retrySlots<T extends { ok: true } | { ok: false; error: ForgeError }>(
  results: T[],
  redo: (i: number) => Promise<T>,
  operation: string,
): Promise<T[]> {
  const again = results.flatMap((r, i) => (!r.ok && isTransientIo(r.error) ? [i] : []));
  if (again.length === 0) return results;
  await Promise.all(
    again.map(async (i) => {
      try {
        results[i] = await retryIo(async () => {
          const r = await redo(i);
          if (!r.ok && isTransientIo(r.error)) throw r.error;
          return r;
        }, operation);
      } catch (e) {
        results[i] = { ok: false, error: toForgeError(e, { operation }) } as T;
      }
    }),
  );
  return results;
}
