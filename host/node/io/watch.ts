/**
 * The public watcher entry points. Every PlatformIO backend's `watch()` calls
 * {@link watchTree}; {@link watch} picks a backend by itself.
 *
 * Backend choice:
 * - an io_uring PlatformIO (it has `readFd`): inotify, its fd read by io_uring
 *   READs on that backend's ring;
 * - no PlatformIO on Linux ({@link watch}): an io_uring backend of its own,
 *   closed with the watch; when the kernel refuses a ring, inotify with its fd
 *   read by poll(2) readiness + read(2) (`FORGE_IO_BACKEND=fallback` forces fs.watch);
 * - anything else: recursive `fs.watch` (host/node/io/fallback-watcher.ts).
 */
import { FsWatchSource } from './fallback-watcher.js';
import { ManagedWatchHandle, resolveWatchOptions, type ResolvedWatchOptions, type WatchSink, type WatchSource } from '../watch/handle.js';
import type { ForgeError } from '../base/errors.js';
import type { PlatformIO, WatchHandle, WatchOptions, WatchStats } from '../base/platform-io.js';
import { InotifyWatchSource } from '../../native/linux/inotify-watcher.js';
import type { IoUringBackend } from '../../native/linux/io-uring-backend.js';
import { PollInotifyReader, UringInotifyReader, type FdReadSource } from '../../native/linux/inotify-reader.js';

/** Which watcher a handle runs on. */
export type WatcherKind = 'inotify-io_uring' | 'inotify-poll' | 'fs.watch';

/** Handles opened through each PlatformIO, so its close() can close them (see {@link closeWatchesOf}). */
const handlesByIo = new WeakMap<PlatformIO, Set<ManagedWatchHandle>>();

function hasReadFd(io: PlatformIO | undefined): io is PlatformIO & FdReadSource {
  return io !== undefined && typeof (io as Partial<FdReadSource>).readFd === 'function';
}

/**
 * The watcher `watchTree` would use for `io` (or for no io).
 *
 * @example
 * ```ts
 * watcherKindFor(await createPlatformIO()); // 'inotify-io_uring' on Linux with io_uring
 * ```
 */
export function watcherKindFor(io?: PlatformIO): WatcherKind {
  if (process.platform !== 'linux') return 'fs.watch';
  if (io) return io.backend === 'io_uring' && hasReadFd(io) ? 'inotify-io_uring' : 'fs.watch';
  return process.env.FORGE_IO_BACKEND === 'fallback' ? 'fs.watch' : 'inotify-poll';
}

function sourceFor(kind: WatcherKind, root: string, o: ReturnType<typeof resolveWatchOptions>, io?: PlatformIO): WatchSource {
  const opts = { ignore: o.ignore, followSymlinks: o.followSymlinks };
  switch (kind) {
    case 'inotify-io_uring':
      return new InotifyWatchSource(root, opts, new UringInotifyReader(io as PlatformIO & FdReadSource));
    case 'inotify-poll':
      return new InotifyWatchSource(root, opts, new PollInotifyReader());
    case 'fs.watch':
      return new FsWatchSource(root, opts);
  }
}

/**
 * Watches `root` with the backend that fits `io` (see the module comment).
 * Backends call this from their `watch()`.
 *
 * @example
 * ```ts
 * class MyBackend implements PlatformIO {
 *   watch(root: string, options?: WatchOptions) { return watchTree(root, options, this); }
 * }
 * ```
 */
export function watchTree(root: string, options: WatchOptions | undefined, io?: PlatformIO): WatchHandle {
  return watchTreeWith(watcherKindFor(io), root, options, io);
}

/**
 * Like {@link watchTree} with an explicit watcher (tests run every case on every backend with it).
 *
 * @example
 * ```ts
 * const h = watchTreeWith('fs.watch', '/srv/project', { debounceMs: 50 });
 * ```
 */
export function watchTreeWith(kind: WatcherKind, root: string, options: WatchOptions | undefined, io?: PlatformIO): ManagedWatchHandle {
  const o = resolveWatchOptions(root, options);
  if (!io) return new ManagedWatchHandle(sourceFor(kind, root, o, io), o);
  let set = handlesByIo.get(io);
  if (!set) handlesByIo.set(io, (set = new Set()));
  const owned = set;
  // Forget the handle once it is closed, so a long-lived io does not accumulate them.
  const handle: ManagedWatchHandle = new ManagedWatchHandle(sourceFor(kind, root, o, io), o, undefined, () => owned.delete(handle));
  owned.add(handle);
  return handle;
}

/**
 * Closes every watch opened through `io`; PlatformIO backends call it from
 * their `close()` (before releasing the ring a watch reads through).
 *
 * @example
 * ```ts
 * async close() { await closeWatchesOf(this); this.ring.close(); }
 * ```
 */
export async function closeWatchesOf(io: PlatformIO): Promise<void> {
  const set = handlesByIo.get(io);
  if (!set) return;
  await Promise.all([...set].map((h) => h.close()));
  handlesByIo.delete(io);
}

/**
 * Watches a tree with the default backend: debounced, coalesced batches of
 * changes with paths relative to `root`.
 *
 * @example
 * ```ts
 * import { watch } from 'forge-io';
 * const w = watch('/srv/project', { debounceMs: 50, ignore: ['dist', '*.log'] });
 * await w.ready;
 * for await (const batch of w) for (const c of batch) console.log(c.kind, c.path);
 * ```
 */
export function watch(root: string, options?: WatchOptions): WatchHandle {
  if (process.platform !== 'linux' || process.env.FORGE_IO_BACKEND === 'fallback') return watchTreeWith('fs.watch', root, options);
  const o = resolveWatchOptions(root, options);
  return new ManagedWatchHandle(new OwnRingInotifySource(root, o), o);
}

/**
 * inotify on a ring of its own, for {@link watch}. The io_uring backend loads
 * koffi, so it is imported when the watch starts, not when this module loads
 * (the package root must import on machines without koffi's binary).
 */
class OwnRingInotifySource implements WatchSource {
  private inner: InotifyWatchSource | undefined;
  private io: IoUringBackend | undefined;
  private closed = false;
  private starting: Promise<unknown> | undefined;

  constructor(
    private readonly root: string,
    private readonly o: ResolvedWatchOptions,
  ) {}

  start(sink: WatchSink): Promise<ForgeError | undefined> {
    const p = this.doStart(sink);
    this.starting = p.catch(() => undefined);
    return p;
  }

  private async doStart(sink: WatchSink): Promise<ForgeError | undefined> {
    try {
      const mod = await import('../../native/linux/io-uring-backend.js');
      this.io = mod.createIoUringBackend({ entries: 8, fileSlots: 1 });
    } catch {
      this.io = undefined; // io_uring refused (disabled, seccomp, old kernel, no koffi): poll(2) + read(2) instead
    }
    if (this.closed) {
      await this.io?.close();
      return undefined;
    }
    const opts = { ignore: this.o.ignore, followSymlinks: this.o.followSymlinks };
    this.inner = new InotifyWatchSource(this.root, opts, this.io ? new UringInotifyReader(this.io) : new PollInotifyReader());
    return this.inner.start(sink);
  }

  stats(): WatchStats {
    return this.inner?.stats() ?? { directoriesWatched: 0, filesWatched: 0, eventsSeen: 0, overflows: 0, partial: false };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting; // a start still importing closes its own ring when it sees `closed`
    await this.inner?.close();
    await this.io?.close();
  }
}
