/**
 * PlatformIO over io_uring: the front of the backend. Reads, writes and batches become per-file SQE
 * chains (sqe-chains.ts, safe-read-task.ts, direct-write-task.ts) that the scheduler (scheduler.ts)
 * submits onto one ring; a batch of a file or two is read on this thread instead (small-reads.ts).
 * Watching is inotify with its fd read through this ring (inotify-watcher.ts, inotify-reader.ts).
 */
import type { BackendName, BatchReadOptions, PlatformIO, ReadResult, WatchOptions, WriteOp, WriteResult } from '../../node/base/platform-io.js';
import { checkData, checkPath, checkRange, dataProblem, modeProblem, pathProblem } from '../../node/base/validate.js';
import {
  WatchSet,
  resolveWatchOptions,
  type ManagedWatchHandle,
  type ResolvedWatchOptions,
  type WatchSource,
  type WatchSourceProvider,
} from '../../node/watch/handle.js';
import { ReadAllTask, ReadRangeTask, type FileTask, type Outcome } from './sqe-chains.js';
import { retryIo, retrySlots } from '../shared/io-retry.js';
import { WriteTask } from './write-tasks.js';
import { applyCreateModes, writeOpTask, type DirectWriteTask } from './direct-write-task.js';
import { SafeReadTask, type SafeRead } from './safe-read-task.js';
import { readSmallPlain, readSmallSafely } from './small-reads.js';
import { InotifyWatchSource } from './inotify-watcher.js';
import { UringInotifyReader } from './inotify-reader.js';
import { RingScheduler, type IoUringBackendOptions } from './scheduler.js';
import { RingStatx, type StatxResult } from './ring-statx.js';

export type { IoUringBackendOptions } from './scheduler.js';

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
 */ export class IoUringBackend extends RingScheduler implements PlatformIO, WatchSourceProvider {
  readonly backend: BackendName = 'io_uring';
  private readonly smallBatchSync: number;
  private readonly smallSyncMaxBytes: number;
  /** Watches whose inotify fd this ring reads: closed before the ring. */
  private readonly watches = new WatchSet();
  private readonly statx = new RingStatx({
    ring: this.ring,
    loop: this.loop,
    ensureSq: (n) => this.ensureSq(n),
    flush: () => this.flush(),
    isClosing: () => this.closing !== undefined || this.closed,
  });

  constructor(options: IoUringBackendOptions = {}) {
    super(options);
    this.smallBatchSync = options.smallBatchSync ?? 4;
    this.smallSyncMaxBytes = options.smallSyncMaxBytes ?? 64 * 1024;
  }

  // ------------------------------------------------------------------ PlatformIO

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, path, 'io_uring');
    validPath(path, 'read');
    return this.runRetried('read', path, () => new ReadRangeTask(path, offset, length, this.tuning, this, this.paths));
  }

  async write(path: string, data: Uint8Array, offset = 0): Promise<number> {
    checkData(data, path, 'write', 'io_uring');
    checkRange(offset, 0, path, 'io_uring');
    validPath(path, 'write');
    return this.runRetried('write', path, () => new WriteTask(path, data, { truncate: false, offset, operation: 'write' }, this.tuning, this, this.paths));
  }

  async readAll(path: string): Promise<Uint8Array> {
    this.assertOpen('readAll');
    const quick = this.smallBatchSync > 0 ? readSmallPlain(validPath(path, 'readAll'), this.resources, this.smallSyncMaxBytes, 'readAll') : undefined;
    if (quick?.ok) return quick.value;
    validPath(path, 'readAll');
    return this.runRetried('readAll', path, () => new ReadAllTask(path, this.tuning, this, this.paths, 'readAll'));
  }

  async writeAll(path: string, data: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    checkData(data, path, 'writeAll', 'io_uring');
    validPath(path, 'writeAll');
    await this.runRetried(
      'writeAll',
      path,
      () => new WriteTask(path, data, { truncate: true, sync: options.sync, operation: 'writeAll' }, this.tuning, this, this.paths),
    );
  }

  async batchRead(paths: readonly string[], options: BatchReadOptions = {}): Promise<ReadResult[]> {
    this.assertOpen('batchRead');
    const quick = paths.length <= this.smallBatchSync;
    if (options.safe === true) {
      const safeSlot = (o: Outcome<SafeRead>): ReadResult => (o.ok ? { ok: true, data: o.value.data, identity: o.value.identity } : o);
      const results = await this.runBatch<SafeRead, ReadResult>(
        paths.length,
        (i) => {
          const p = paths[i];
          const bad = pathProblem(p, 'batchRead', 'io_uring');
          if (bad) return bad;
          return (quick && readSmallSafely(p!, this.resources, this.smallSyncMaxBytes)) || new SafeReadTask(p!, this.tuning, this, this.paths);
        },
        safeSlot,
      );
      return retrySlots(results, async (i) => safeSlot(await this.run(new SafeReadTask(paths[i]!, this.tuning, this, this.paths))), 'batchRead');
    }
    const results = await this.runBatch<Uint8Array, ReadResult>(
      paths.length,
      (i) => {
        const p = paths[i];
        const bad = pathProblem(p, 'batchRead', 'io_uring');
        if (bad) return bad;
        return (quick && readSmallPlain(p!, this.resources, this.smallSyncMaxBytes, 'batchRead')) || new ReadAllTask(p!, this.tuning, this, this.paths);
      },
      readSlot,
    );
    return retrySlots(results, async (i) => readSlot(await this.run(new ReadAllTask(paths[i]!, this.tuning, this, this.paths))), 'batchRead');
  }

  async batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]> {
    this.assertOpen('batchWrite');
    const task = (op: WriteOp): WriteTask | DirectWriteTask => writeOpTask(op, this.tuning, this, this.paths);
    const slot = (o: Outcome<number>): WriteResult => (o.ok ? { ok: true, bytes: o.value } : o);
    const results = await this.runBatch<number, WriteResult>(
      ops.length,
      (i) => {
        const op = ops[i];
        return (
          pathProblem(op?.path, 'batchWrite', 'io_uring') ??
          dataProblem(op?.data, op?.path, 'batchWrite', 'io_uring') ??
          modeProblem(op?.mode, op?.path, 'batchWrite', 'io_uring') ??
          task(op!)
        );
      },
      slot,
    );
    return applyCreateModes(ops, await retrySlots(results, async (i) => slot(await this.run(task(ops[i]!))), 'batchWrite'));
  }

  /**
   * lstat of many paths through this ring (STATX, AT_SYMLINK_NOFOLLOW): one result per path, in
   * order — the identity (mode, size, ino, dev, mtime, ctime) or a negative errno. Used by the tree scan.
   *
   * @example
   * ```ts
   * const [st] = await io.lstatMany(['/etc/hostname']);
   * if (typeof st !== 'number') console.log(st.size);
   * ```
   */
  lstatMany(paths: readonly string[]): Promise<StatxResult[]> {
    this.assertOpen('lstatMany');
    return this.statx.lstatMany(paths);
  }

  /** One task (made anew per attempt), retried while it fails with a transient code (EAGAIN, EMFILE...). */
  private runRetried<R>(operation: string, path: string, make: () => FileTask<R>): Promise<R> {
    return retryIo(
      async () => {
        const o = await this.run(make());
        if (!o.ok) throw o.error;
        return o.value;
      },
      operation,
      { file: path, backend: 'io_uring' },
    );
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
    return this.plainReads.read(fd, buf, options.ref ?? true);
  }

  /**
   * Cancels every pending {@link readFd} on `fd` (IORING_OP_ASYNC_CANCEL by
   * user_data); they resolve to -ECANCELED. Resolves once the cancel requests
   * completed. Call it before closing the fd.
   */
  cancelFd(fd: number): Promise<void> {
    return this.plainReads.cancelFd(fd);
  }

  /** inotify, its fd read by READs on this ring. */
  watch(root: string, options?: WatchOptions): ManagedWatchHandle {
    this.assertOpen('watch');
    const o = resolveWatchOptions(root, options);
    return this.watches.open(this.createWatchSource(root, o), o);
  }

  createWatchSource(root: string, options: ResolvedWatchOptions): WatchSource {
    return new InotifyWatchSource(root, { ignore: options.ignore, followSymlinks: options.followSymlinks }, new UringInotifyReader(this));
  }

  /** Ring, slot and queue counters. */
  stats(): IoUringStats {
    return {
      fileSlots: this.slotCount,
      slotsInUse: this.slotCount - this.freeSlots.length,
      queued: this.tasks.size,
      chainsSubmitted: this.counters.chainsSubmitted,
      enters: this.counters.enters,
      waits: this.counters.waits,
      plainReads: this.plainReads.size,
      directWrites: this.counters.directWrites,
      directFallbacks: this.counters.directFallbacks,
    };
  }

  /**
   * Closes its watches, finishes the work already accepted, cancels pending readFd calls, then
   * closes the poll handle, unregisters the file table, unmaps the ring and closes its fd. Safe to call twice.
   */
  /** The same as `close()`: `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Watches read their inotify fd through this ring: stop them first.
      await this.watches.closeAll().catch((e: unknown) => this.logger?.warn?.({ err: e }, 'close: a watch failed to close'));
      await this.shutdownRing();
    })();
    return this.closing;
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

const readSlot = (o: Outcome<Uint8Array>): ReadResult => (o.ok ? { ok: true, data: o.value } : o);

/** `path`, or the validation ForgeError for it. */
function validPath(path: string, operation: string): string {
  checkPath(path, operation, 'io_uring');
  return path;
}
