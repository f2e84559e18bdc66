/**
 * PlatformIO over io_uring: per-file SQE chains (sqe-chains.ts) scheduled onto
 * one ring (ring.ts) whose completions arrive through libuv's poll on the ring
 * fd (completion-loop.ts).
 *
 * Scheduling rules (DESIGN.md, "Platform I/O"):
 * - a file in flight holds one direct-descriptor slot and one handle of the
 *   ResourceManager; the slot table is min(fileSlots, RLIMIT_NOFILE, budget);
 * - one io_uring_enter carries at most `chunkFiles` chains (32) or `chunkBytes`
 *   inline bytes (1 MiB), whole chains only, with setImmediate between chunks,
 *   so cached I/O run inline by the kernel never holds the event loop long;
 * - READ/WRITE longer than `chunkBytes` are flagged IOSQE_ASYNC (io-wq thread);
 * - CQEs announced never exceed the CQ size.
 */
import { ForgeError, toForgeError } from '../../node/base/errors.js';
import type {
  BackendName,
  BatchReadOptions,
  PlatformIO,
  ReadResult,
  WatchHandle,
  WatchOptions,
  WriteOp,
  WriteResult,
} from '../../node/base/platform-io.js';
import { dataProblem, pathProblem, rangeProblem } from '../../node/io/fallback-backend.js';
import { ResourceManager, type HandleGuard, type IoLogger } from '../../node/base/resources.js';
import { closeWatchesOf, watchTree } from '../../node/io/watch.js';
import { CompletionLoop } from './completion-loop.js';
import { OP, Ring, addressOf } from './ring.js';
import type { CqeTarget } from './completion-loop.js';
import { FileTask, ReadAllTask, ReadRangeTask, SlabArena, WriteTask, type ChainOwner, type ChainTuning, type Outcome } from './sqe-chains.js';
import { nofileLimit } from './syscalls.js';
import { DirectWriteTask, type DirectWriteOwner } from './direct-write-task.js';
import { SafeReadTask, type SafeRead } from './safe-read-task.js';
import { readSmallPlain, readSmallSafely } from './small-reads.js';

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
   * file or two that is cheaper than a ring round trip (DESIGN.md). Default 4; 0 disables.
   */
  smallBatchSync?: number;
  /** Largest file the small-batch path reads synchronously (default 64 KiB); larger ones use the ring. */
  smallSyncMaxBytes?: number;
}

/** Counters for tests, `forge doctor` and benchmarks. */
export interface IoUringStats {
  fileSlots: number;
  slotsInUse: number;
  queued: number;
  chainsSubmitted: number;
  enters: number;
  /** Times work waited for a slot, CQ room or a handle. */
  waits: number;
  plainReads: number;
  /** Writes asked for `direct` whose aligned head went to disk with O_DIRECT. */
  directWrites: number;
  /** Writes asked for `direct` that the filesystem refused (EINVAL: tmpfs) and that were written buffered instead. */
  directFallbacks: number;
}

const STEP_PLAIN = 5;
const STEP_CANCEL = 6;
const ECANCELED = 125;

/** A pending readFd: keeps `buf` referenced until its CQE. */
class PlainRead implements CqeTarget {
  id = -1;
  constructor(
    readonly fd: number,
    readonly buf: Buffer,
    readonly resolve: (n: number) => void,
    private readonly owner: IoUringBackend,
  ) {}
  onCqe(_step: number, res: number): void {
    this.owner.plainDone(this);
    this.resolve(res);
  }
}

/** Buffers of work abandoned by a forced close: kept alive because the kernel may still write them. */
const abandoned: unknown[] = [];

/**
 * The io_uring backend. Create it with {@link createIoUringBackend} (or through createPlatformIO).
 *
 * @example
 * ```ts
 * const io = createIoUringBackend({ maxHandles: 256 });
 * const [a, b] = await io.batchRead(['a.txt', 'missing.txt']);
 * if (!b.ok) console.log(b.error.category); // 'filesystem'
 * await io.close();
 * ```
 */
export class IoUringBackend implements PlatformIO, DirectWriteOwner {
  readonly backend: BackendName = 'io_uring';
  readonly resources: ResourceManager;
  private readonly ownsResources: boolean;
  private readonly ring: Ring;
  private readonly loop: CompletionLoop;
  private readonly tuning: ChainTuning;
  private readonly chunkFiles: number;
  private readonly chunkBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly smallBatchSync: number;
  private readonly smallSyncMaxBytes: number;
  private readonly logger: IoLogger | undefined;
  private readonly freeSlots: number[] = [];
  private readonly slotCount: number;
  /** Per-slot scratch for first READs (and its address), allocated on first use and kept. */
  private readonly scratchBufs: Array<Buffer | undefined> = [];
  private readonly scratchAddrs: number[] = [];
  /** NUL-terminated paths for OPENAT/STATX. */
  private readonly paths = new SlabArena(64 * 1024);
  /** Small read results are carved from shared slabs, as Node's Buffer pool does. */
  readonly results = new SlabArena(128 * 1024);
  readonly smallResult = 8 * 1024;
  /** Tasks waiting for their first chain (FIFO) and continuations (served first). */
  private queue: Array<FileTask<unknown>> = [];
  private qHead = 0;
  private readonly again: Array<FileTask<unknown>> = [];
  /** Chains in flight. */
  private active = 0;
  /** Rises with files that fill the size hint, falls faster with files that do not (see preferStat). */
  private largeScore = 0;
  private readonly plain = new Map<number, PlainRead>();
  private reserved: HandleGuard | undefined;
  private handleWait = false;
  private pumping = false;
  /** A chunk was submitted in this turn of the event loop: the next waits for setImmediate. */
  private hot = false;
  private immediate: NodeJS.Immediate | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private idleWaiter: (() => void) | undefined;
  private readonly counters = { chainsSubmitted: 0, enters: 0, waits: 0, directWrites: 0, directFallbacks: 0 };

  constructor(options: IoUringBackendOptions = {}) {
    this.ownsResources = options.resources === undefined;
    this.resources = options.resources ?? new ResourceManager({ maxHandles: options.maxHandles, logger: options.logger });
    this.logger = options.logger;
    const sizeHint = options.sizeHint ?? 32 * 1024;
    this.chunkFiles = options.chunkFiles ?? 32;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.smallBatchSync = options.smallBatchSync ?? 4;
    this.smallSyncMaxBytes = options.smallSyncMaxBytes ?? 64 * 1024;
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
    for (let s = this.slotCount - 1; s >= 0; s--) this.freeSlots.push(s);
    this.logger?.debug({ backend: 'io_uring', sqEntries: this.ring.sqEntries, cqEntries: this.ring.cqEntries, fileSlots: this.slotCount }, 'io_uring ring ready');
  }

  // ------------------------------------------------------------------ PlatformIO

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, path);
    const r = await this.run(new ReadRangeTask(checkPath(path, 'read'), offset, length, this.tuning, this, this.paths));
    if (!r.ok) throw r.error;
    return r.value;
  }

  async write(path: string, data: Uint8Array, offset = 0): Promise<number> {
    checkData(data, path, 'write');
    checkRange(offset, 0, path);
    const r = await this.run(new WriteTask(checkPath(path, 'write'), data, { truncate: false, offset, operation: 'write' }, this.tuning, this, this.paths));
    if (!r.ok) throw r.error;
    return r.value;
  }

  async readAll(path: string): Promise<Uint8Array> {
    this.assertOpen('readAll');
    const quick = this.smallBatchSync > 0 ? readSmallPlain(checkPath(path, 'readAll'), this.resources, this.smallSyncMaxBytes, 'readAll') : undefined;
    if (quick) {
      if (!quick.ok) throw quick.error;
      return quick.value;
    }
    const r = await this.run(new ReadAllTask(checkPath(path, 'readAll'), this.tuning, this, this.paths, 'readAll'));
    if (!r.ok) throw r.error;
    return r.value;
  }

  async writeAll(path: string, data: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    checkData(data, path, 'writeAll');
    const r = await this.run(new WriteTask(checkPath(path, 'writeAll'), data, { truncate: true, sync: options.sync, operation: 'writeAll' }, this.tuning, this, this.paths));
    if (!r.ok) throw r.error;
  }

  async batchRead(paths: readonly string[], options: BatchReadOptions = {}): Promise<ReadResult[]> {
    this.assertOpen('batchRead');
    const quick = paths.length <= this.smallBatchSync;
    if (options.safe === true) {
      return this.runBatch<SafeRead, ReadResult>(
        paths.length,
        (i) => {
          const p = paths[i];
          const bad = pathProblem(p, 'batchRead', 'io_uring');
          if (bad) return bad;
          return (quick && readSmallSafely(p!, this.resources, this.smallSyncMaxBytes)) || new SafeReadTask(p!, this.tuning, this, this.paths);
        },
        (o) => (o.ok ? { ok: true, data: o.value.data, identity: o.value.identity } : o),
      );
    }
    return this.runBatch<Uint8Array, ReadResult>(
      paths.length,
      (i) => {
        const p = paths[i];
        const bad = pathProblem(p, 'batchRead', 'io_uring');
        if (bad) return bad;
        return (quick && readSmallPlain(p!, this.resources, this.smallSyncMaxBytes, 'batchRead')) || new ReadAllTask(p!, this.tuning, this, this.paths);
      },
      (o) => (o.ok ? { ok: true, data: o.value } : o),
    );
  }

  async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
    this.assertOpen('batchWrite');
    return this.runBatch<number, WriteResult>(
      ops.length,
      (i) => {
        const op = ops[i];
        const bad = pathProblem(op?.path, 'batchWrite', 'io_uring') ?? dataProblem(op?.data, op?.path, 'batchWrite', 'io_uring');
        if (bad) return bad;
        const sync = op!.sync === true;
        return op!.direct === true
          ? new DirectWriteTask(op!.path, op!.data, { sync, operation: 'batchWrite' }, this.tuning, this, this.paths)
          : new WriteTask(op!.path, op!.data, { truncate: true, sync, operation: 'batchWrite' }, this.tuning, this, this.paths);
      },
      (o) => (o.ok ? { ok: true, bytes: o.value } : o),
    );
  }

  /** One result per input, in order, without a promise per item: tasks settle into the array. */
  private runBatch<R, T>(n: number, make: (i: number) => FileTask<R> | ForgeError | Outcome<R>, toResult: (o: Outcome<R>) => T): Promise<T[]> {
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
        this.queue.push(t as FileTask<unknown>);
      }
      if (remaining === 0) resolve(results);
      else this.kick();
    });
  }

  watch(root: string, options?: WatchOptions): WatchHandle {
    return watchTree(root, options, this);
  }

  /**
   * Reads up to `buf.length` bytes from an ordinary fd at its current position
   * (a plain READ, offset -1) through this ring and poll. Resolves to the CQE
   * result: bytes read, or a negative errno — it never rejects for an errno.
   * `buf` stays referenced until the CQE. After {@link cancelFd} or close() the
   * pending read resolves to -ECANCELED (-125). With `ref: false` a pending read
   * does not keep the process alive.
   *
   * @example
   * ```ts
   * const n = await io.readFd(inotifyFd, buf);
   * if (n > 0) parseEvents(buf.subarray(0, n)); else if (n !== -125) console.error('errno', -n);
   * ```
   */
  readFd(fd: number, buf: Buffer, options: { ref?: boolean } = {}): Promise<number> {
    if (this.closing || this.closed) return Promise.resolve(-ECANCELED);
    return new Promise<number>((resolve) => {
      const r = new PlainRead(fd, buf, resolve, this);
      r.id = this.loop.add(r, options.ref ?? true);
      this.plain.set(r.id, r);
      this.ensureSq(1);
      this.ring.prep(OP.READ, fd, addressOf(buf), buf.length, -1, 0, r.id, STEP_PLAIN);
      this.loop.expect(r.id, 1);
      this.flush();
    });
  }

  /** @internal A plain read's CQE arrived. */
  plainDone(r: PlainRead): void {
    this.loop.remove(r.id);
    this.plain.delete(r.id);
  }

  /**
   * Cancels every pending {@link readFd} on `fd` (IORING_OP_ASYNC_CANCEL by
   * user_data); they resolve to -ECANCELED. Resolves once the cancel requests
   * completed. Call it before closing the fd.
   */
  async cancelFd(fd: number): Promise<void> {
    const ids = [...this.plain].filter(([, p]) => p.fd === fd).map(([id]) => id);
    await Promise.all(ids.map((id) => this.cancelById(id)));
  }

  private cancelById(target: number): Promise<number> {
    if (this.closed) return Promise.resolve(-ECANCELED);
    return new Promise<number>((resolve) => {
      const req: CqeTarget & { id: number } = {
        id: -1,
        onCqe: (_s, res) => {
          this.loop.remove(req.id);
          resolve(res);
        },
      };
      req.id = this.loop.add(req, false);
      this.ensureSq(1);
      // ASYNC_CANCEL matches the full 64-bit user_data: low = id, high = the plain-read step tag.
      this.ring.prep(OP.ASYNC_CANCEL, -1, target + STEP_PLAIN * 0x100000000, 0, 0, 0, req.id, STEP_CANCEL);
      this.loop.expect(req.id, 1);
      this.flush();
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
    if (!done) this.again.push(t);
  }

  /** Ring, slot and queue counters. */
  stats(): IoUringStats {
    return {
      fileSlots: this.slotCount,
      slotsInUse: this.slotCount - this.freeSlots.length,
      queued: this.queue.length - this.qHead + this.again.length,
      chainsSubmitted: this.counters.chainsSubmitted,
      enters: this.counters.enters,
      waits: this.counters.waits,
      plainReads: this.plain.size,
      directWrites: this.counters.directWrites,
      directFallbacks: this.counters.directFallbacks,
    };
  }

  /** The ring fd (for tests that check nothing is left open). */
  get ringFd(): number {
    return this.ring.fd;
  }

  /**
   * Finishes the work already accepted, cancels pending readFd calls, then
   * closes the poll handle, unregisters the file table, unmaps the ring and
   * closes its fd. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // Watches read their inotify fd through this ring: stop them first.
    await closeWatchesOf(this).catch((e: unknown) => this.logger?.warn?.({ err: e }, 'close: a watch failed to close'));
    for (const id of [...this.plain.keys()]) void this.cancelById(id);
    const idle = new Promise<void>((resolve) => {
      this.idleWaiter = resolve;
      this.checkIdle();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      idle.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.closeTimeoutMs))),
    ]);
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
      for (const p of this.plain.values()) p.resolve(-ECANCELED);
      this.active = 0;
      this.plain.clear();
    }
    this.closed = true;
    if (this.immediate) clearImmediate(this.immediate);
    this.loop.close(); // poll handle first, then the ring
    this.reserved?.release();
    this.reserved = undefined;
    if (this.ownsResources) await this.resources.shutdown(0);
  }

  // ------------------------------------------------------------------ scheduling

  private assertOpen(operation: string): void {
    if (this.closing || this.closed) {
      throw new ForgeError('unknown', `${operation}: the io_uring backend is closed`, {
        context: { operation, backend: 'io_uring' },
        suggestions: ['Create a new PlatformIO with createPlatformIO() after close().'],
      });
    }
  }

  private run<R>(task: FileTask<R>): Promise<Outcome<R>> {
    this.assertOpen(task.operation);
    const p = task.promise();
    this.queue.push(task as FileTask<unknown>);
    this.kick();
    return p;
  }

  private *pendingTasks(): Iterable<FileTask<unknown>> {
    yield* this.again.splice(0);
    yield* this.queue.slice(this.qHead);
    this.queue = [];
    this.qHead = 0;
  }

  private nextTask(): FileTask<unknown> | undefined {
    return this.again[0] ?? this.queue[this.qHead];
  }

  private takeTask(): void {
    if (this.again.length) this.again.shift();
    else if (++this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
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
        this.takeTask();
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
    for (const t of this.pendingTasks()) {
      t.guard?.release(); // a safe read between its chains holds one
      t.guard = undefined;
      t.fail(e);
    }
  }

  /** Makes room for `n` SQEs by submitting what is prepped. */
  private ensureSq(n: number): void {
    if (this.ring.sqSpace() >= n) return;
    this.flush();
    if (this.ring.sqSpace() < n) {
      throw new ForgeError('unknown', 'io_uring: submission queue full', { context: { backend: 'io_uring' }, retryable: true });
    }
  }

  /** io_uring_enter for everything prepped, then reap the completions the kernel produced inline. */
  private flush(): void {
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

/**
 * Opens an io_uring backend; throws a ForgeError (with the errno) when the kernel refuses a ring.
 * Most callers want createPlatformIO(), which falls back when io_uring is unavailable.
 *
 * @example
 * ```ts
 * const io = createIoUringBackend({ maxHandles: 128, sizeHint: 64 * 1024 });
 * const data = await io.readAll('/etc/hostname');
 * await io.close();
 * ```
 */
export function createIoUringBackend(options: IoUringBackendOptions = {}): IoUringBackend {
  return new IoUringBackend(options);
}

// ------------------------------------------------------------------ input checks

function checkPath(path: string, operation: string): string {
  const e = pathProblem(path, operation, 'io_uring');
  if (e) throw e;
  return path;
}

function checkData(data: Uint8Array, path: string, operation: string): void {
  const e = dataProblem(data, path, operation, 'io_uring');
  if (e) throw e;
}

function checkRange(offset: number, length: number, path: string): void {
  const e = rangeProblem(offset, length, path, 'io_uring');
  if (e) throw e;
}
