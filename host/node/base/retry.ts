/**
 * Retry with exponential backoff for transient failures.
 *
 * - At most 5 attempts (the first call plus up to 4 retries); `maxAttempts` may lower it.
 * - Delays are `initialDelayMs * factor^(n-1)`, capped at `maxDelayMs`, and never
 *   decrease, even with jitter (jitter, off by default, only shortens a delay
 *   down to the previous one).
 * - Only errors whose ForgeError `isRetryable()` is true are retried (network,
 *   timeout, transient filesystem codes such as EAGAIN/EBUSY/EMFILE); anything
 *   else is thrown at once.
 * - An `AbortSignal` stops it, also during a backoff sleep.
 * - `attemptTimeoutMs` bounds each attempt; its error says how long was waited.
 * - Each attempt is logged at debug with `attempt` and the `delayMs` waited before it
 *   (0 for the first); each failure that will be retried is logged at warn with
 *   `attempt`, `delayMs` (the wait before the next one), `operation`, `category`.
 *
 * @example
 * ```ts
 * const data = await withRetry(() => fetchChunk(id), { operation: 'fetchChunk', logger: log, signal });
 * ```
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { ForgeError, timeoutError, toForgeError } from './errors.js';

/** The hard ceiling on attempts. */
export const MAX_ATTEMPTS = 5;

/** Where retry attempts are reported (pino's logger satisfies it). */
export interface RetryLogger {
  /** Reports a failed attempt that will be retried. */
  warn(obj: object, msg?: string): void;
  /** Reports retry details at debug level, when supported. */
  debug?(obj: object, msg?: string): void;
}

/** How {@link withRetry} retries: attempts and capped exponential backoff. */
export interface RetryPolicy {
  /** Total attempts including the first, 1..5. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap on any delay. Default 5000 ms. */
  maxDelayMs?: number;
  /** Growth factor, >= 1. Default 2. */
  factor?: number;
  /** 0..1: fraction by which a delay may be randomly shortened (never below the previous delay). Default 0. */
  jitter?: number;
  /** Stops retrying (and the current sleep) when aborted. */
  signal?: AbortSignal;
  /** Per-attempt time limit in ms; a timed-out attempt counts as a retryable timeout. */
  attemptTimeoutMs?: number;
  /** Name used in logs and errors. Default `operation`. */
  operation?: string;
  logger?: RetryLogger;
  /** Random source for jitter (tests). Default Math.random. */
  random?: () => number;
  /** Sleep function (tests). Default timers/promises setTimeout with the signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry sleep. */
  onRetry?: (info: { attempt: number; delayMs: number; error: ForgeError }) => void;
}

/** A retry the process-wide observer hears of: the operation, the attempt that failed, its error and the wait. */
export interface RetryEvent {
  operation: string;
  attempt: number;
  delayMs: number;
  error: ForgeError;
}

/**
 * Process-wide defaults for every `withRetry` call that does not set them itself: the daemon sets
 * them once from its config (`retry.*`), and its logger and metrics hear of every retry through them.
 */
export interface RetryDefaults {
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  logger?: RetryLogger;
  /** Hears of every retry of every call (after the call's own `onRetry`). */
  onRetry?: (event: RetryEvent) => void;
}

let defaults: RetryDefaults = {};

/** Sets the process-wide retry defaults (replacing earlier ones); returns the previous ones. */
export function setRetryDefaults(next: RetryDefaults): RetryDefaults {
  const prev = defaults;
  resolve({
    ...(next.maxAttempts !== undefined ? { maxAttempts: next.maxAttempts } : {}),
    ...(next.initialDelayMs !== undefined ? { initialDelayMs: next.initialDelayMs } : {}),
    ...(next.maxDelayMs !== undefined ? { maxDelayMs: next.maxDelayMs } : {}),
  });
  defaults = { ...next };
  return prev;
}

/** The process-wide retry defaults now in force. */
export function retryDefaults(): Readonly<RetryDefaults> {
  return defaults;
}

interface ResolvedPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: number;
}

function resolve(policy: RetryPolicy): ResolvedPolicy {
  const p = {
    maxAttempts: policy.maxAttempts ?? MAX_ATTEMPTS,
    initialDelayMs: policy.initialDelayMs ?? 100,
    maxDelayMs: policy.maxDelayMs ?? 5000,
    factor: policy.factor ?? 2,
    jitter: policy.jitter ?? 0,
  };
  const bad: string[] = [];
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1 || p.maxAttempts > MAX_ATTEMPTS)
    bad.push(`maxAttempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${p.maxAttempts}`);
  if (!(p.initialDelayMs >= 0) || !Number.isFinite(p.initialDelayMs)) bad.push(`initialDelayMs must be a finite number >= 0, got ${p.initialDelayMs}`);
  if (!(p.maxDelayMs >= p.initialDelayMs) || !Number.isFinite(p.maxDelayMs))
    bad.push(`maxDelayMs must be finite and >= initialDelayMs (${p.initialDelayMs}), got ${p.maxDelayMs}`);
  if (!(p.factor >= 1) || !Number.isFinite(p.factor)) bad.push(`factor must be a finite number >= 1, got ${p.factor}`);
  if (!(p.jitter >= 0 && p.jitter <= 1)) bad.push(`jitter must be from 0 to 1, got ${p.jitter}`);
  if (bad.length) throw new ForgeError('validation', `invalid retry policy: ${bad.join('; ')}`, { context: { operation: 'withRetry' } });
  return p;
}

/**
 * The delays (ms) slept before retries 1..maxAttempts-1 for a policy: non-decreasing, each <= maxDelayMs.
 *
 * @example
 * ```ts
 * backoffDelays({ initialDelayMs: 100, maxDelayMs: 500 }); // [100, 200, 400, 500]
 * ```
 */
export function backoffDelays(policy: RetryPolicy = {}): number[] {
  const p = resolve(policy);
  const random = policy.random ?? Math.random;
  const out: number[] = [];
  let prev = 0;
  for (let i = 0; i < p.maxAttempts - 1; i++) {
    const base = Math.min(p.maxDelayMs, p.initialDelayMs * p.factor ** i);
    const jittered = p.jitter > 0 ? base * (1 - p.jitter * random()) : base;
    const d = Math.min(p.maxDelayMs, Math.max(prev, Math.round(jittered)));
    out.push(d);
    prev = d;
  }
  return out;
}

function abortedError(operation: string, attempts: number, reason: unknown): ForgeError {
  return new ForgeError('timeout', `${operation} aborted after ${attempts} attempt(s)`, {
    cause: reason,
    retryable: false,
    context: { operation, retryCount: Math.max(0, attempts - 1), attempts, code: 'ABORT_ERR' },
    suggestions: ['The operation was cancelled (shutdown or caller abort); run it again if still needed.'],
  });
}

async function runAttempt<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  attempt: number,
  operation: string,
  timeoutMs: number | undefined,
  outer: AbortSignal | undefined,
): Promise<T> {
  if (timeoutMs === undefined) return fn(attempt, outer);
  const ac = new AbortController();
  const onOuter = (): void => ac.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = timeoutError(operation, timeoutMs, { retryCount: attempt - 1 });
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(attempt, ac.signal), timeout]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * Calls `fn` until it succeeds, a non-retryable error occurs, the attempts run
 * out, or `signal` aborts. `fn` receives the attempt number (1-based) and a
 * signal that aborts on the caller's abort or the attempt timeout.
 * The error thrown is a ForgeError whose `context.attempts` says how many calls were made
 * (`context.retryCount` = attempts - 1) and `context.maxAttempts` the limit in force.
 *
 * @example
 * ```ts
 * await withRetry((n) => io.writeAll(ops), { operation: 'writeAll', maxDelayMs: 2000, logger: log });
 * ```
 */
export async function withRetry<T>(fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T> | T, callPolicy: RetryPolicy = {}): Promise<T> {
  const policy: RetryPolicy = {
    ...(defaults.maxAttempts !== undefined ? { maxAttempts: defaults.maxAttempts } : {}),
    ...(defaults.initialDelayMs !== undefined ? { initialDelayMs: defaults.initialDelayMs } : {}),
    ...(defaults.maxDelayMs !== undefined ? { maxDelayMs: defaults.maxDelayMs } : {}),
    ...(defaults.logger !== undefined ? { logger: defaults.logger } : {}),
    ...callPolicy,
  };
  const p = resolve(policy);
  const delays = backoffDelays(policy);
  const operation = policy.operation ?? 'operation';
  const signal = policy.signal;
  const sleep = policy.sleep ?? ((ms: number, s?: AbortSignal) => sleepTimer(ms, undefined, { signal: s }));
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(operation, attempt - 1, signal.reason);
    policy.logger?.debug?.({ operation, attempt, delayMs: waited, maxAttempts: p.maxAttempts }, `${operation}: attempt ${attempt}`);
    let err: ForgeError;
    try {
      return await runAttempt(async (n, s) => fn(n, s), attempt, operation, policy.attemptTimeoutMs, signal);
    } catch (e) {
      if (signal?.aborted) throw abortedError(operation, attempt, signal.reason);
      // `attempts` (calls made so far) travels with the error, so a final failure says how often it was tried.
      err = toForgeError(e, { operation }).withContext({ retryCount: attempt - 1, attempts: attempt, maxAttempts: p.maxAttempts });
    }
    if (!err.isRetryable() || attempt >= p.maxAttempts) {
      if (err.isRetryable())
        policy.logger?.warn({ operation, attempt, category: err.category, gaveUp: true }, `${operation}: giving up after ${attempt} attempt(s)`);
      throw err;
    }
    const delayMs = delays[attempt - 1] ?? p.maxDelayMs;
    policy.logger?.warn(
      { operation, attempt, nextAttempt: attempt + 1, delayMs, category: err.category, message: err.message },
      `${operation}: attempt ${attempt} failed (${err.category}); retrying in ${delayMs} ms`,
    );
    policy.onRetry?.({ attempt, delayMs, error: err });
    defaults.onRetry?.({ operation, attempt, delayMs, error: err });
    waited = delayMs;
    try {
      await sleep(delayMs, signal);
    } catch (e) {
      if (signal?.aborted) throw abortedError(operation, attempt, signal.reason);
      throw e;
    }
  }
}
