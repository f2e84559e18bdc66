/**
 * The submission scheduler under the io_uring backend: per-file SQE chains (sqe-chains.ts) queued,
 * sized and submitted onto one ring (ring.ts), their CQEs delivered through libuv's poll on the ring
 * fd (completion-loop.ts), plus plain reads of ordinary fds (the watcher's inotify fd) on the same
 * ring. The PlatformIO front is io-uring-backend.ts.
 *
 * Scheduling rules:
 * - a file in flight holds one direct-descriptor slot and one handle of the
 *   ResourceManager; the slot table is min(fileSlots, RLIMIT_NOFILE, budget);
 *   a safe read holds an ordinary fd and one handle from its open to its close;
 * - one io_uring_enter carries at most `chunkFiles` chains (32) or `chunkBytes`
 *   inline bytes (1 MiB), whole chains only, with setImmediate between chunks,
 *   so cached I/O run inline by the kernel never holds the event loop long;
 * - READ/WRITE longer than `asyncThreshold` are flagged IOSQE_ASYNC (io-wq thread);
 * - CQEs announced never exceed the CQ size.
 */
import { ForgeError } from '../../node/base/errors.js';
import { ResourceManager, type HandleGuard, type IoLogger } from '../../node/base/resources.js';
import { CompletionLoop } from './completion-loop.js';
import { Ring, addressOf } from './ring.js';
import { FileTask, SlabArena, type ChainTuning, type Outcome } from './sqe-chains.js';
import { nofileLimit } from './syscalls.js';
import { PlainReads } from './plain-reads.js';
import { TaskQueue } from './task-queue.js';
import type { DirectWriteOwner } from './direct-write-task.js';

export interface IoUringBackendOptions {
  /** Shared handle budget; one is created (maxHandles) when absent. */
  resources?: ResourceManager;
  /** Budget for a backend-owned ResourceManager (default 1024). */
  maxHandles?: number;
  logger?: IoLogger;
  /** SQ entries (default 256); the CQ gets 16×. */
  entries?: number;
  /** Direct-descriptor slots (default 1024), capped by RLIMIT_NOFILE and the handle budget. */
  fileSlots?: number;
  /** First READ size for a file of unknown size (default 32 KiB). Larger files take a STATX and a second read. */
  sizeHint?: number;
  /** Chains per io_uring_enter (default 32). */
  chunkFiles?: number;
  /** Inline bytes per io_uring_enter (default 1 MiB). */
  chunkBytes?: number;
  /**
   * READ/WRITEs of more bytes than this (default 128 KiB, at most chunkBytes) are flagged
   * IOSQE_ASYNC: a kernel io-wq thread copies them while this thread goes on.
   */
  asyncThreshold?: number;
  /** How long close() waits for work in flight before forcing (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * Batches of at most this many paths (and readAll) read regular files of at most
   * `smallSyncMaxBytes` with plain open/fstat/read/close on this thread: for a
   * file or two that is cheaper than a ring round trip (measured: docs/platforms.md). Default 4; 0 disables.
   */
  smallBatchSync?: number;
  /** Largest file the small-batch path reads synchronously (default 64 KiB); larger ones use the ring. */
  smallSyncMaxBytes?: number;
}

/** Buffers of work abandoned by a forced close: kept alive because the kernel may still write them. */
const abandoned: unknown[] = [];

/**
 * Queues, slots, chunked submission and completion of SQE chains on one ring: what the io_uring
 * backend (io-uring-backend.ts) is built on. Not used on its own.
 *
 * @example
 * ```ts
 * class Backend extends RingScheduler {
 *   readAll(p: string) { return this.run(new ReadAllTask(p, this.tuning, this, this.paths, 'readAll')); }
 * }
 * ```
 */
export abstract class RingScheduler implements DirectWriteOwner {
  readonly resources: ResourceManager;
  protected readonly ownsResources: boolean;
  protected readonly ring: Ring;
  protected readonly loop: CompletionLoop;
  protected readonly tuning: ChainTuning;
  private readonly chunkFiles: number;
  private readonly chunkBytes: number;
  private readonly closeTimeoutMs: number;
  protected readonly logger: IoLogger | undefined;
  protected readonly freeSlots: number[] = [];
  protected readonly slotCount: number;
  /** Per-slot scratch for first READs (and its address), allocated on first use and kept. */
  private readonly scratchBufs: Array<Buffer | undefined> = [];
  private readonly scratchAddrs: number[] = [];
  /** NUL-terminated paths for OPENAT/STATX. */
  protected readonly paths = new SlabArena(64 * 1024);
  /** Small read results are carved from shared slabs, as Node's Buffer pool does. */
  readonly results = new SlabArena(128 * 1024);
  readonly smallResult = 8 * 1024;
  /** Tasks waiting for their first chain (FIFO) and continuations (served first). */
  protected readonly tasks = new TaskQueue();
  /** Chains in flight. */
  protected active = 0;
  /** Rises with files that fill the size hint, falls faster with files that do not (see preferStat). */
  private largeScore = 0;
  /** READs of ordinary fds (the watcher's inotify fd) on this ring. */
  protected readonly plainReads: PlainReads;
  private reserved: HandleGuard | undefined;
  private handleWait = false;
  private pumping = false;
  /** A chunk was submitted in this turn of the event loop: the next waits for setImmediate. */
  private hot = false;
  private immediate: NodeJS.Immediate | undefined;
  protected closing: Promise<void> | undefined;
  protected closed = false;
  private idleWaiter: (() => void) | undefined;
  protected readonly counters = { chainsSubmitted: 0, enters: 0, waits: 0, directWrites: 0, directFallbacks: 0 };

  protected constructor(options: IoUringBackendOptions) {
    this.ownsResources = options.resources === undefined;
    this.resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles, logger: options.logger });
    this.logger = options.logger;
    const sizeHint = options.sizeHint ?? 32 * 1024;
    this.chunkFiles = options.chunkFiles ?? 32;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.tuning = { sizeHint, inlineLimit: Math.min(options.asyncThreshold ?? 128 * 1024, this.chunkBytes) };
    const entries = options.entries ?? 256;
    this.ring = Ring.open({ entries, cqEntries: entries * 16 });
    try {
      const rl = nofileLimit().soft;
      this.slotCount = Math.max(1, Math.min(options.fileSlots ?? 1024, rl, this.resources.limit));
      this.ring.registerSparseFiles(this.slotCount);
      this.loop = new CompletionLoop(this.ring, () => this.afterReap());
    } catch (e) {
      this.ring.close();
      throw e;
    }
    this.plainReads = new PlainReads({
      ring: this.ring,
      loop: this.loop,
      ensureSq: (n) => this.ensureSq(n),
      flush: () => this.flush(),
      isClosing: () => this.closing !== undefined || this.closed,
      isClosed: () => this.closed,
    });
    for (let s = this.slotCount - 1; s >= 0; s--) this.freeSlots.push(s);
    this.logger?.debug(
      { backend: 'io_uring', sqEntries: this.ring.sqEntries, cqEntries: this.ring.cqEntries, fileSlots: this.slotCount },
      'io_uring ring ready',
    );
  }

  /** One result per input, in order, without a promise per item: tasks settle into the array. */
  protected runBatch<R, T>(n: number, make: (i: number) => FileTask<R> | ForgeError | Outcome<R>, toResult: (o: Outcome<R>) => T): Promise<T[]> {
    return new Promise<T[]>((resolve) => {
      const results = new Array<T>(n);
      let remaining = n;
      const settle = (t: FileTask<R>, o: Outcome<R>): void => {
        results[t.index] = toResult(o);
        if (--remaining === 0) resolve(results);
      };
      for (let i = 0; i < n; i++) {
        const t = make(i);
        if (!(t instanceof FileTask)) {
          results[i] = toResult(t instanceof ForgeError ? { ok: false, error: t } : t);
          remaining--;
          continue;
        }
        t.index = i;
        t.onSettle = settle;
        this.tasks.push(t as FileTask<unknown>);
      }
      if (remaining === 0) resolve(results);
      else this.kick();
    });
  }

  // ChainOwner ------------------------------------------------------------

  /** @internal */
  scratch(slot: number): Buffer {
    let b = this.scratchBufs[slot];
    if (b === undefined) {
      b = this.scratchBufs[slot] = Buffer.allocUnsafeSlow(this.tuning.sizeHint);
      this.scratchAddrs[slot] = addressOf(b);
    }
    return b;
  }

  /** @internal */
  scratchAddr(slot: number): number {
    if (this.scratchBufs[slot] === undefined) this.scratch(slot);
    return this.scratchAddrs[slot]!;
  }

  /** @internal */
  get preferStat(): boolean {
    return this.largeScore >= 4;
  }

  /** @internal A direct write went to disk with O_DIRECT, or fell back to buffered. */
  noteDirect(used: boolean): void {
    if (used) this.counters.directWrites++;
    else this.counters.directFallbacks++;
  }

  /** @internal A first READ filled the hint (a large file) or not: a cheap running score. */
  noteHint(filled: boolean): void {
    this.largeScore = filled ? Math.min(this.largeScore + 1, 8) : Math.max(this.largeScore - 2, 0);
  }

  /** @internal The chain in flight of `t` got its last CQE: its slot is empty again (CLOSE ran, or was cancelled with the OPENAT). */
  chainComplete(t: FileTask<unknown>): void {
    this.loop.remove(t.id);
    if (t.slot >= 0) this.freeSlots.push(t.slot);
    t.slot = -1;
    this.active--;
    const done = t.advance();
    if (done || !t.holdsHandle()) {
      t.guard?.release();
      t.guard = undefined;
    }
    if (!done) this.tasks.pushAgain(t);
  }

  /** The ring fd (for tests that check nothing is left open). */
  get ringFd(): number {
    return this.ring.fd;
  }

  /**
   * Finishes the work already accepted (forcing after closeTimeoutMs), cancels pending readFd calls,
   * then closes the poll handle and the ring, and the handle budget if it is this backend's own.
   */
  protected async shutdownRing(): Promise<void> {
    this.plainReads.cancelAll();
    const idle = new Promise<void>((resolve) => {
      this.idleWaiter = resolve;
      this.checkIdle();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([idle.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.closeTimeoutMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger?.warn?.({ backend: 'io_uring', inFlight: this.active }, 'close: forcing the ring closed with work in flight');
      const inFlight = this.loop.targets();
      abandoned.push(inFlight, this.scratchBufs.slice(), this.paths, this.results);
      const err = new ForgeError('timeout', `io_uring close: work still in flight after ${this.closeTimeoutMs} ms`, {
        context: { operation: 'close', backend: 'io_uring', durationMs: this.closeTimeoutMs },
      });
      for (const t of inFlight) {
        if (!(t instanceof FileTask)) continue;
        t.guard?.release(); // the budget may be shared: give its handles back
        t.guard = undefined;
        t.fail(err);
      }
      this.failPending(err);
      this.plainReads.abandon();
      this.active = 0;
    }
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.loop.close(); // poll handle first, then the ring
    this.reserved?.release();
    this.reserved = undefined;
    if (this.ownsResources) await this.resources.shutdown(0);
  }

  // ------------------------------------------------------------------ scheduling

  protected assertOpen(operation: string): void {
    if (this.closing || this.closed) {
      throw new ForgeError('unknown', `${operation}: the io_uring backend is closed`, {
        context: { operation, backend: 'io_uring' },
        suggestions: ['Create a new PlatformIO with createPlatformIO() after close().'],
      });
    }
  }

  protected run<R>(task: FileTask<R>): Promise<Outcome<R>> {
    this.assertOpen(task.operation);
    const p = task.promise();
    this.tasks.push(task as FileTask<unknown>);
    this.kick();
    return p;
  }

  private nextTask(): FileTask<unknown> | undefined {
    return this.tasks.peek();
  }

  /** Pumps now, unless a chunk already went in this turn of the event loop (then on the next turn). */
  private kick(): void {
    if (this.hot || this.immediate) this.scheduleImmediate();
    else this.pump();
  }

  private scheduleImmediate(): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.hot = false;
      this.flush(); // anything an earlier enter could not take (EAGAIN/EBUSY)
      this.pump();
    });
  }

  /** Submits one chunk of whole chains; the next chunk waits for setImmediate. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    let chunkFull = false;
    let blocked = false;
    let started = 0;
    try {
      let bytes = 0;
      for (let t = this.nextTask(); t !== undefined; t = this.nextTask()) {
        t.plan();
        const n = t.sqeCount();
        const inline = t.inlineBytes();
        if (started > 0 && (started >= this.chunkFiles || bytes + inline > this.chunkBytes)) {
          chunkFull = true;
          break;
        }
        if (this.loop.outstanding + n > this.ring.cqEntries || this.ring.sqSpace() < n) {
          blocked = true;
          break;
        }
        let slot = -1;
        let guard: HandleGuard | undefined;
        const wantsSlot = t.usesSlot();
        if (wantsSlot || (t.holdsHandle() && t.guard === undefined)) {
          if (wantsSlot && this.freeSlots.length === 0) {
            blocked = true;
            break;
          }
          if (this.resources.isShutdown) {
            this.failPending(new ForgeError('unknown', 'io_uring: the handle budget was shut down', { context: { backend: 'io_uring' } }));
            break;
          }
          guard = this.reserved ?? this.resources.tryAcquire(1);
          this.reserved = undefined;
          if (guard === undefined) {
            this.waitForHandle();
            blocked = true;
            break;
          }
          if (wantsSlot) slot = this.freeSlots.pop()!;
        }
        this.tasks.take();
        this.start(t, slot, guard);
        started++;
        bytes += inline;
      }
      if (started > 0) this.hot = true;
      this.flush();
    } finally {
      this.pumping = false;
    }
    if (blocked) this.counters.waits++;
    // Blocked on slots/CQ room with CQEs still to come: afterReap resumes. Otherwise the next turn does.
    if (started > 0 || (this.nextTask() !== undefined && (chunkFull || !blocked || this.loop.outstanding === 0) && !this.handleWait)) {
      this.scheduleImmediate();
    }
    this.checkIdle();
  }

  private start(t: FileTask<unknown>, slot: number, guard: HandleGuard | undefined): void {
    t.slot = slot;
    if (guard) t.guard = guard; // a task that holds its handle across chains keeps the one it has
    t.id = this.loop.add(t);
    this.active++;
    t.prep(this.ring);
    this.loop.expect(t.id, t.sqeCount());
    this.counters.chainsSubmitted++;
  }

  private waitForHandle(): void {
    if (this.handleWait) return;
    this.handleWait = true;
    this.resources.acquire(1).then(
      (g) => {
        this.handleWait = false;
        if (this.closed) return g.release();
        this.reserved = g;
        this.kick();
      },
      (err: unknown) => {
        // The budget was shut down: nothing queued can run any more.
        this.handleWait = false;
        this.failPending(err instanceof ForgeError ? err : new ForgeError('unknown', 'handle budget unavailable', { cause: err }));
        this.checkIdle();
      },
    );
  }

  /** Fails every task not yet started (their chains never reached the kernel). */
  private failPending(e: ForgeError): void {
    for (const t of this.tasks.drain()) {
      t.guard?.release(); // a safe read between its chains holds one
      t.guard = undefined;
      t.fail(e);
    }
  }

  /** Makes room for `n` SQEs by submitting what is prepped. */
  protected ensureSq(n: number): void {
    if (this.ring.sqSpace() >= n) return;
    this.flush();
    if (this.ring.sqSpace() < n) {
      throw new ForgeError('unknown', 'io_uring: submission queue full', { context: { backend: 'io_uring' }, retryable: true });
    }
  }

  /** io_uring_enter for everything prepped, then reap the completions the kernel produced inline. */
  protected flush(): void {
    if (this.ring.pending > 0) {
      const r = this.ring.submit();
      this.counters.enters++;
      // EAGAIN/EBUSY (kernel short of memory, CQ overflow): the next turn retries after reaping.
      if (r < 0 && this.ring.pending > 0) this.scheduleImmediate();
    }
    this.loop.reapNow();
  }

  private afterReap(): void {
    if (this.nextTask() !== undefined) this.kick();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idleWaiter && this.loop.outstanding === 0 && this.nextTask() === undefined && this.active === 0) {
      const w = this.idleWaiter;
      this.idleWaiter = undefined;
      w();
    }
  }
}
