/**
 * ResourceManager: a budget of open file handles with a FIFO queue.
 *
 * Every I/O backend takes its descriptors through one of these (io_uring: one
 * handle per file in flight; fallback: one per open), so Forge never holds more
 * than `maxHandles` files open, and callers over the budget wait in arrival
 * order instead of failing with EMFILE. Waiting is never silent: each queued
 * acquisition bumps `stats().queuedTotal`, emits `queued` and logs at debug.
 */
import { EventEmitter } from 'node:events';
import { ForgeError, timeoutError } from './errors.js';

/** The logging surface Forge's I/O uses (pino's logger satisfies it). */
export interface IoLogger {
  /** Logs at debug level. */
  debug(obj: Record<string, unknown>, msg?: string): void;
  /** Logs at info level, when supported. */
  info?(obj: Record<string, unknown>, msg?: string): void;
  /** Logs at warn level, when supported. */
  warn?(obj: Record<string, unknown>, msg?: string): void;
}

/** Options of a {@link ResourceManager}. */
export interface ResourceManagerOptions {
  /** Most handles held at once (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
  /** A name for logs and errors (default `handles`). */
  name?: string;
}

/** A snapshot of a {@link ResourceManager}'s handle budget. */
export interface ResourceStats {
  limit: number;
  inUse: number;
  /** Highest `inUse` seen (since creation or {@link ResourceManager.resetPeak}). */
  peak: number;
  /** Acquisitions waiting now. */
  queued: number;
  /** Acquisitions that ever had to wait. */
  queuedTotal: number;
  acquiredTotal: number;
}

/** Options of an acquisition: a timeout and an abort signal. */
export interface AcquireOptions {
  /** Reject with a `timeout` ForgeError after waiting this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Handles held by one caller. Released exactly once: by `using`/`await using`,
 * or by `release()`; further calls do nothing.
 *
 * @example
 * ```ts
 * const guard = await rm.acquire(2);
 * try { await copy(a, b); } finally { guard.release(); }
 * ```
 */
export class HandleGuard implements Disposable, AsyncDisposable {
  private released = false;
  /** @internal */
  constructor(
    private readonly owner: ResourceManager,
    readonly count: number,
  ) {}

  get isReleased(): boolean {
    return this.released;
  }

  /** Gives the handles back; later calls do nothing. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner['give'](this);
  }

  /** Releases the handles (for `using`). */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Releases the handles (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

interface Waiter {
  count: number;
  resolve: (g: HandleGuard) => void;
  reject: (e: unknown) => void;
  cleanup?: () => void;
}

const DEFAULT_MAX_HANDLES = 1024;

/**
 * A handle budget with a FIFO wait queue.
 *
 * @example
 * ```ts
 * const rm = new ResourceManager({ maxHandles: 64 });
 * {
 *   using guard = await rm.acquire();   // waits (FIFO) when 64 are in use
 *   const fh = await fs.promises.open(p);
 *   try { ... } finally { await fh.close(); }
 * } // guard released here
 * await rm.shutdown(1000);
 * ```
 */
export class ResourceManager extends EventEmitter {
  readonly limit: number;
  readonly name: string;
  private inUse = 0;
  private peak = 0;
  private queuedTotal = 0;
  private acquiredTotal = 0;
  private readonly waiters: Waiter[] = [];
  private waitHead = 0;
  private readonly held = new Set<HandleGuard>();
  private readonly logger: IoLogger | undefined;
  private stopped = false;

  constructor(options: ResourceManagerOptions = {}) {
    super();
    const max = options.maxHandles ?? DEFAULT_MAX_HANDLES;
    if (!Number.isInteger(max) || max < 1) {
      throw new ForgeError('configuration', `maxHandles must be an integer >= 1, got ${String(max)}`, {
        context: { operation: 'ResourceManager', field: 'maxHandles' },
        suggestions: ['Set maxHandles (or FORGE_MAX_FILE_HANDLES) to a positive integer, e.g. 1024.'],
      });
    }
    this.limit = max;
    this.name = options.name ?? 'handles';
    this.logger = options.logger;
  }

  /** Current counters. */
  stats(): ResourceStats {
    return {
      limit: this.limit,
      inUse: this.inUse,
      peak: this.peak,
      queued: this.waiters.length - this.waitHead,
      queuedTotal: this.queuedTotal,
      acquiredTotal: this.acquiredTotal,
    };
  }

  /** Handles free right now (ignoring waiters). */
  get available(): number {
    return this.limit - this.inUse;
  }

  /** Restarts peak tracking from the handles in use now. */
  resetPeak(): void {
    this.peak = this.inUse;
  }

  /** Takes `count` handles now if they are free and nobody is waiting; otherwise undefined. */
  tryAcquire(count = 1): HandleGuard | undefined {
    this.check(count);
    if (this.waitHead < this.waiters.length || this.inUse + count > this.limit) return undefined;
    return this.grant(count);
  }

  /** Takes `count` handles, waiting in FIFO order while the budget is exhausted. */
  acquire(count = 1, options: AcquireOptions = {}): Promise<HandleGuard> {
    try {
      this.check(count);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.waitHead >= this.waiters.length && this.inUse + count <= this.limit) {
      return Promise.resolve(this.grant(count));
    }
    return new Promise<HandleGuard>((resolve, reject) => {
      const w: Waiter = { count, resolve, reject };
      const cleanups: Array<() => void> = [];
      if (options.timeoutMs !== undefined) {
        const t = setTimeout(() => this.dropWaiter(w, timeoutError(`acquire ${this.name}`, options.timeoutMs!)), options.timeoutMs);
        cleanups.push(() => clearTimeout(t));
      }
      if (options.signal) {
        const sig = options.signal;
        const abortError = (): ForgeError =>
          new ForgeError('timeout', `acquire ${this.name}: aborted`, { cause: sig.reason, context: { operation: 'acquire' } });
        const onAbort = (): void => this.dropWaiter(w, abortError());
        if (sig.aborted) {
          // Not queued yet, so there is nothing to drop: reject here (dropWaiter would leave it pending forever).
          cleanups.forEach((c) => c());
          return reject(abortError());
        }
        sig.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => sig.removeEventListener('abort', onAbort));
      }
      w.cleanup = () => cleanups.forEach((c) => c());
      this.waiters.push(w);
      this.queuedTotal++;
      const s = this.stats();
      this.logger?.debug({ resource: this.name, ...s, want: count }, 'handle budget exhausted: queued');
      this.emit('queued', s);
    });
  }

  /** Runs `fn` while holding `count` handles. */
  async withHandles<T>(fn: () => Promise<T>, count = 1): Promise<T> {
    const g = await this.acquire(count);
    try {
      return await fn();
    } finally {
      g.release();
    }
  }

  /**
   * Rejects every waiter with a ForgeError, refuses new acquisitions, waits up
   * to `timeoutMs` for held guards to come back, then releases the rest.
   */
  async shutdown(timeoutMs = 1000): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      const pending = this.waiters.splice(this.waitHead);
      this.waiters.length = 0;
      this.waitHead = 0;
      for (const w of pending) {
        w.cleanup?.();
        w.reject(new ForgeError('unknown', `${this.name}: shut down while waiting for a handle`, { context: { operation: 'acquire' }, retryable: false }));
      }
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inUse > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (this.inUse > 0) {
      this.logger?.warn?.({ resource: this.name, inUse: this.inUse }, 'shutdown: force-releasing handles still held');
      for (const g of [...this.held]) g.release();
    }
  }

  get isShutdown(): boolean {
    return this.stopped;
  }

  private check(count: number): void {
    if (this.stopped) throw new ForgeError('unknown', `${this.name}: resource manager is shut down`, { context: { operation: 'acquire' } });
    if (!Number.isInteger(count) || count < 1 || count > this.limit) {
      throw new ForgeError('validation', `cannot acquire ${count} ${this.name}: the budget is ${this.limit}`, {
        context: { operation: 'acquire' },
        suggestions: [`Ask for 1..${this.limit} handles, or raise maxHandles.`],
      });
    }
  }

  private grant(count: number): HandleGuard {
    this.inUse += count;
    this.acquiredTotal++;
    if (this.inUse > this.peak) this.peak = this.inUse;
    const g = new HandleGuard(this, count);
    this.held.add(g);
    return g;
  }

  /** Called by HandleGuard.release(). */
  private give(g: HandleGuard): void {
    if (!this.held.delete(g)) return;
    this.inUse -= g.count;
    this.drain();
  }

  private drain(): void {
    while (this.waitHead < this.waiters.length) {
      const w = this.waiters[this.waitHead]!;
      if (this.inUse + w.count > this.limit) break; // strict FIFO: no overtaking
      this.waiters[this.waitHead++] = undefined as unknown as Waiter;
      w.cleanup?.();
      w.resolve(this.grant(w.count));
    }
    if (this.waitHead > 1024 && this.waitHead * 2 > this.waiters.length) {
      this.waiters.splice(0, this.waitHead);
      this.waitHead = 0;
    }
  }

  private dropWaiter(w: Waiter, err: ForgeError): void {
    const i = this.waiters.indexOf(w, this.waitHead);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    w.cleanup?.();
    w.reject(err);
    this.drain(); // the next waiter may fit now
  }
}
