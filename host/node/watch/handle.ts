/**
 * The machinery every watcher backend shares: the AsyncIterable of batches,
 * `ready`, `stats()`, `close()`, abort signals, and the loop that drives the
 * core's coalescer (every raw change goes through it; this file only decides
 * *when* to drain it, never how changes merge).
 */
import { Coalescer } from '../core/events.js';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { Change, WatchHandle, WatchOptions, WatchStats } from '../base/platform-io.js';

/** The core coalescer's API (host/node/core/events.ts). */
export interface CoalescerLike {
  push(changes: Change[], nowMs?: number): void;
  drain(nowMs?: number): Change[];
  flush(): Change[];
  close(): void;
}

export type CoalescerFactory = (windowMs: number) => CoalescerLike;

/** Where a backend sends what it observes. */
export interface WatchSink {
  /**
   * Raw changes, in the order observed; they go through the coalescer.
   * `observedAtMs`: when they were already queued in the OS (default: now), so
   * events read late because a backlog was being read count in the right window.
   */
  push(changes: Change[], observedAtMs?: number): void;
  /** The watched root is gone: pending changes are delivered, then the iterator ends. */
  end(): void;
  /** A fatal error: the watch closes and the iterator throws it after the queued batches. */
  fail(err: unknown): void;
}

/** A backend: scans, registers watches, turns OS events into raw changes. */
export interface WatchSource {
  /**
   * Scans and registers every watch. Throws when nothing can be watched (no
   * root, no inotify). Returns a non-fatal error when the watch is partial
   * (e.g. the inotify watch limit): `ready` rejects with it, and the watch
   * keeps running for what was registered.
   */
  start(sink: WatchSink): Promise<ForgeError | undefined>;
  stats(): WatchStats;
  /** Whether events are queued in the OS and not read yet: a window is not drained while they are. */
  backlog?(): boolean;
  /** Unregisters every watch and releases every fd. Called once. */
  close(): Promise<void>;
}

/** The core's coalescer (host/node/core/events.ts); a ForgeError (dependency) when the core cannot load. */
export function coreCoalescer(windowMs: number): CoalescerLike {
  try {
    return new Coalescer(windowMs);
  } catch (cause) {
    if (cause instanceof ForgeError) throw cause;
    throw new ForgeError('dependency', 'watch: the core coalescer could not be created', {
      cause,
      context: { operation: 'watch' },
      suggestions: ['Build the core (`npm run build:core`) so build/forge-core.wasm exists.'],
    });
  }
}

/** Validated options with defaults applied. */
export interface ResolvedWatchOptions {
  debounceMs: number;
  ignore: Array<string | RegExp>;
  followSymlinks: boolean;
  signal?: AbortSignal;
}

/** Applies defaults; bad values are a ForgeError (validation) naming the field. */
export function resolveWatchOptions(root: string, options: WatchOptions | undefined): ResolvedWatchOptions {
  const o = options ?? {};
  const bad = (field: string, problem: string): ForgeError =>
    new ForgeError('validation', `watch: option ${field} ${problem}`, {
      context: { operation: 'watch', file: root, field },
      suggestions: [`Fix ${field} in the options passed to watch().`],
    });
  if (typeof root !== 'string' || root.length === 0) throw bad('root', 'must be a non-empty path');
  const debounceMs = o.debounceMs ?? 100;
  if (typeof debounceMs !== 'number' || !Number.isFinite(debounceMs) || debounceMs < 0 || debounceMs > 0xffffffff) {
    throw bad('debounceMs', `must be a number of ms in 0..2^32-1 (got ${String(debounceMs)})`);
  }
  if (o.ignore !== undefined && !Array.isArray(o.ignore)) throw bad('ignore', 'must be an array of strings or RegExps');
  for (const p of o.ignore ?? []) {
    if (typeof p !== 'string' && !(p instanceof RegExp)) throw bad('ignore', 'must contain only strings or RegExps');
  }
  return {
    debounceMs: Math.ceil(debounceMs), // the core's windows are whole milliseconds
    ignore: [...(o.ignore ?? [])],
    followSymlinks: o.followSymlinks ?? false,
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

/** At most this many 1 ms postponements of one drain while a backlog is read. */
const MAX_POSTPONE = 25;

type Waiter = { resolve: (r: IteratorResult<Change[]>) => void; reject: (e: unknown) => void };

/**
 * A running watch over one watch source (a backend's event reader). Created by the backends; users
 * get it from `watch()` / `io.watch()`.
 *
 * @example
 * ```ts
 * const w = watch('/srv/project', { debounceMs: 50 });
 * await w.ready;
 * for await (const batch of w) console.log(batch);
 * ```
 */
export class ManagedWatchHandle implements WatchHandle {
  readonly ready: Promise<void>;
  private readonly coalescer: CoalescerLike;
  private readonly windowMs: number;
  private readonly queue: Change[][] = [];
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Drains put off in a row because the OS still had events queued. */
  private postponed = 0;
  /** Times of pushes whose windows may still be open, oldest first. */
  private readonly pushTimes: number[] = [];
  private ended = false;
  private failure: unknown;
  private closing: Promise<void> | undefined;
  private readonly onAbort = (): void => void this.close();
  private readonly signal: AbortSignal | undefined;
  private delivered = 0;

  constructor(
    private readonly source: WatchSource,
    options: ResolvedWatchOptions,
    coalescerFactory: CoalescerFactory = coreCoalescer,
    private readonly onClosed?: () => unknown,
  ) {
    this.windowMs = options.debounceMs;
    this.coalescer = coalescerFactory(options.debounceMs);
    this.signal = options.signal;
    const sink: WatchSink = {
      push: (c, at) => this.pushRaw(c, at),
      end: () => void this.close(),
      fail: (e) => {
        if (this.failure === undefined) this.failure = toForgeError(e, { operation: 'watch' });
        void this.close();
      },
    };
    this.ready = (async () => {
      if (this.signal?.aborted) {
        await this.close();
        return;
      }
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
      let warning: ForgeError | undefined;
      try {
        warning = await this.source.start(sink);
      } catch (err) {
        const fe = toForgeError(err, { operation: 'watch' });
        if (this.failure === undefined) this.failure = fe;
        await this.close();
        throw fe;
      }
      if (warning) throw warning;
    })();
    // `ready` may reject for a partial watch; a caller that never awaits it must not crash the process.
    this.ready.catch(() => undefined);
  }

  /** Counters of this watch so far. */
  stats(): WatchStats {
    return this.source.stats();
  }

  /** Batches delivered so far (for tests and diagnostics). */
  get batchesDelivered(): number {
    return this.delivered;
  }

  /** Whether close() has been called or the watch ended. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** The same as `close()`: `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.signal?.removeEventListener('abort', this.onAbort);
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      try {
        await this.source.close();
      } catch (err) {
        if (this.failure === undefined) this.failure = toForgeError(err, { operation: 'watch.close' });
      }
      // Changes still in the window are delivered, not dropped.
      const rest = this.coalescer.flush();
      this.coalescer.close();
      if (rest.length > 0) this.deliver(rest);
      this.ended = true;
      try {
        await this.onClosed?.();
      } catch (err) {
        if (this.failure === undefined) this.failure = toForgeError(err, { operation: 'watch.close' });
      }
      this.settleWaiters();
    })();
    return this.closing;
  }

  /** Iterates the coalesced change batches until the watch closes. */
  [Symbol.asyncIterator](): AsyncIterator<Change[]> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private next(): Promise<IteratorResult<Change[]>> {
    const batch = this.queue.shift();
    if (batch) return Promise.resolve({ done: false, value: batch });
    if (this.ended) return this.finalResult();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private finalResult(): Promise<IteratorResult<Change[]>> {
    if (this.failure !== undefined) {
      const f = this.failure;
      this.failure = undefined; // thrown once
      return Promise.reject(f);
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  private settleWaiters(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      const batch = this.queue.shift();
      if (batch) w.resolve({ done: false, value: batch });
      else this.finalResult().then(w.resolve, w.reject);
    }
  }

  private deliver(batch: Change[]): void {
    this.delivered++;
    const w = this.waiters.shift();
    if (w) w.resolve({ done: false, value: batch });
    else this.queue.push(batch);
  }

  private pushRaw(changes: Change[], observedAtMs?: number): void {
    if (this.closing || changes.length === 0) return;
    const now = Math.min(Date.now(), observedAtMs ?? Infinity);
    this.coalescer.push(changes, now);
    if (this.windowMs === 0) {
      this.drainNow(now);
      return;
    }
    if (this.pushTimes[this.pushTimes.length - 1] !== now) this.pushTimes.push(now);
    if (!this.timer) this.arm(now + this.windowMs);
  }

  private drainNow(now: number): void {
    const out = this.coalescer.drain(now);
    if (out.length > 0) this.deliver(out);
  }

  /**
   * The core closes a path's window `windowMs` after that path's first change,
   * and every first change happened at one of `pushTimes`: so the next window
   * to close is the earliest push time still inside its window, plus windowMs.
   */
  private arm(due: number): void {
    this.timer = setTimeout(
      () => {
        // Drain in the check phase, after this turn's poll phase: a read that already completed
        // (its events observed before the deadline) is pushed before the window is drained.
        setImmediate(() => this.onTimer());
      },
      Math.max(0, due - Date.now()),
    );
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.closing) return;
    // Events already queued in the OS belong to windows that may close now: read them first
    // (bounded, so a continuous stream cannot hold a window open indefinitely).
    if (this.postponed < MAX_POSTPONE && this.source.backlog?.()) {
      this.postponed++;
      this.arm(Date.now() + 1);
      return;
    }
    this.postponed = 0;
    const now = Date.now();
    this.drainNow(now);
    let i = 0;
    while (i < this.pushTimes.length && this.pushTimes[i]! + this.windowMs <= now) i++;
    this.pushTimes.splice(0, i);
    if (this.pushTimes.length > 0) this.arm(this.pushTimes[0]! + this.windowMs);
  }
}

/** A backend that can watch: the source its `watch()` wraps, also used by the standalone `watch()`. */
export interface WatchSourceProvider {
  /** A new, not yet started source for `root` (the handle starts and closes it). */
  createWatchSource(root: string, options: ResolvedWatchOptions): WatchSource;
}

/**
 * The watches of one backend, and the one way its `close()` closes them: every backend's `watch()`
 * opens its handles through {@link WatchSet.open}, and its `close()` calls {@link WatchSet.closeAll}
 * before releasing what the watches read through (a ring, a port, a kqueue).
 *
 * @example
 * ```ts
 * class MyBackend {
 *   private readonly watches = new WatchSet();
 *   watch(root: string, options?: WatchOptions) {
 *     const o = resolveWatchOptions(root, options);
 *     return this.watches.open(this.createWatchSource(root, o), o);
 *   }
 *   async close() { await this.watches.closeAll(); }
 * }
 * ```
 */
export class WatchSet {
  private readonly live = new Set<ManagedWatchHandle>();

  /** A handle over `source`, forgotten once it closes (a long-lived backend does not accumulate them). */
  open(source: WatchSource, options: ResolvedWatchOptions): ManagedWatchHandle {
    const handle: ManagedWatchHandle = new ManagedWatchHandle(source, options, undefined, () => this.live.delete(handle));
    this.live.add(handle);
    return handle;
  }

  /** Watches still open. */
  get size(): number {
    return this.live.size;
  }

  /** Closes every watch still open; resolves when all are closed. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.live].map((h) => h.close()));
  }
}
