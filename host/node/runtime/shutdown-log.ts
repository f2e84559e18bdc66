/**
 * How the shutdown coordinator writes its lines: a broken log sink must never stop a shutdown,
 * a crash cleanup or the exit, so every write here swallows the sink's own failure.
 */
import { toForgeError } from '../base/errors.js';
import type { ShutdownLogger } from './shutdown-types.js';

/**
 * An info/warn line, or nothing when the sink throws.
 *
 * @example
 * ```ts
 * sayTo(logger, 'warn', { timeoutMs }, 'shutdown did not finish in time');
 * ```
 */
export function sayTo(logger: ShutdownLogger | undefined, level: 'info' | 'warn', obj: object, msg: string): void {
  try {
    logger?.[level](obj, msg);
  } catch {
    // Nothing to report it to.
  }
}

/**
 * An error record (category, context, suggestions), or nothing when the sink throws.
 *
 * @example
 * ```ts
 * logErrorTo(logger, err, { component: 'store', operation: 'stop (resources)' });
 * ```
 */
export function logErrorTo(logger: ShutdownLogger | undefined, err: unknown, context: Record<string, unknown>): void {
  if (!logger) return;
  try {
    if (logger.logError) logger.logError(err, context);
    else {
      const fe = toForgeError(err, context);
      logger.error({ category: fe.category, context: fe.context, suggestions: fe.suggestions() }, fe.message);
    }
  } catch {
    // A broken log sink must not stop shutdown or crash cleanup.
  }
}
