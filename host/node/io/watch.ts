/**
 * The public watcher entry points. A PlatformIO backend's `watch()` uses its own watcher; the
 * standalone {@link watch} opens the PlatformIO that `createPlatformIO()` would choose (io_uring,
 * kqueue, IOCP, fallback) and uses that backend's watcher, so both pick the same one:
 * - Linux: inotify, its fd read through an io_uring ring; when the kernel refuses a ring, inotify
 *   read by poll(2) readiness + read(2);
 * - macOS: kqueue EVFILT_VNODE; Windows: ReadDirectoryChangesW on an IOCP port;
 * - anything else, or `FORGE_IO_BACKEND=fallback`: recursive `fs.watch` (fallback-watcher.ts).
 */
import { FsWatchSource } from './fallback-watcher.js';
import { createPlatformIO, maxHandlesFrom } from './select.js';
import {
  ManagedWatchHandle,
  resolveWatchOptions,
  type ResolvedWatchOptions,
  type WatchSink,
  type WatchSource,
  type WatchSourceProvider,
} from '../watch/handle.js';
import type { ForgeError } from '../base/errors.js';
import type { PlatformIO, WatchOptions, WatchStats } from '../base/platform-io.js';
import { InotifyWatchSource } from '../../native/linux/inotify-watcher.js';
import { PollInotifyReader, UringInotifyReader, type FdReadSource, type InotifyReader } from '../../native/linux/inotify-reader.js';
import { inotifyBindings } from '../../native/linux/inotify.js';

/** Which watcher a handle runs on. */
export type WatcherKind = 'inotify-io_uring' | 'inotify-poll' | 'kqueue' | 'ReadDirectoryChangesW' | 'fs.watch';

/** The io_uring ring a standalone watch opens for itself: one inotify READ in flight needs little. */
const OWN_RING = { entries: 8, fileSlots: 1 } as const;

/**
 * The watcher `io.watch()` uses, or (without `io`) the one {@link watch} starts with.
 *
 * @example
 * ```ts
 * watcherKindFor(await createPlatformIO()); // 'inotify-io_uring' on Linux with io_uring
 * ```
 */
export function watcherKindFor(io?: PlatformIO): WatcherKind {
  const backend = io?.backend ?? (process.env.FORGE_IO_BACKEND === 'fallback' ? 'fallback' : undefined);
  switch (backend) {
    case 'io_uring':
      return 'inotify-io_uring';
    case 'kqueue':
      return 'kqueue';
    case 'iocp':
      return 'ReadDirectoryChangesW';
    case 'fallback':
      return 'fs.watch';
  }
  if (process.platform === 'linux') return 'inotify-io_uring';
  if (process.platform === 'darwin') return 'kqueue';
  if (process.platform === 'win32') return 'ReadDirectoryChangesW';
  return 'fs.watch';
}

function hasWatchSource(io: PlatformIO): io is PlatformIO & WatchSourceProvider {
  return typeof (io as Partial<WatchSourceProvider>).createWatchSource === 'function';
}

/**
 * Like {@link watch} with an explicit watcher (tests run every case on every watcher with it).
 * `inotify-io_uring`, `kqueue` and `ReadDirectoryChangesW` go through `io.watch()` when `io` is
 * given; `inotify-poll` and `fs.watch` run on their own.
 *
 * @example
 * ```ts
 * const h = watchTreeWith('fs.watch', '/srv/project', { debounceMs: 50 });
 * ```
 */
export function watchTreeWith(kind: WatcherKind, root: string, options: WatchOptions | undefined, io?: PlatformIO): ManagedWatchHandle {
  const o = resolveWatchOptions(root, options);
  const opts = { ignore: o.ignore, followSymlinks: o.followSymlinks };
  switch (kind) {
    case 'inotify-poll':
      return new ManagedWatchHandle(new InotifyWatchSource(root, opts, new PollInotifyReader()), o);
    case 'fs.watch':
      return new ManagedWatchHandle(new FsWatchSource(root, opts), o);
    default:
      return (io ? io.watch(root, options) : watch(root, options)) as ManagedWatchHandle;
  }
}

/**
 * Watches a tree with the platform's watcher (see the module comment): debounced, coalesced
 * batches of changes with paths relative to `root`. The PlatformIO it opens is closed with it.
 *
 * @example
 * ```ts
 * import { watch } from 'forge-io';
 * const w = watch('/srv/project', { debounceMs: 50, ignore: ['dist', '*.log'] });
 * await w.ready;
 * for await (const batch of w) for (const c of batch) console.log(c.kind, c.path);
 * ```
 */
export function watch(root: string, options?: WatchOptions): ManagedWatchHandle {
  const o = resolveWatchOptions(root, options);
  return new ManagedWatchHandle(new PlatformWatchSource(root, o), o);
}

/**
 * The watcher of the PlatformIO `createPlatformIO()` chooses, on a PlatformIO of its own. The
 * backends load koffi, so they are imported when the watch starts, not when this module loads.
 */
class PlatformWatchSource implements WatchSource {
  private inner: WatchSource | undefined;
  private io: PlatformIO | undefined;
  private closed = false;
  private starting: Promise<unknown> | undefined;
  /** The watcher in use, once started. */
  kind: WatcherKind | undefined;

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
    const opts = { ignore: this.o.ignore, followSymlinks: this.o.followSymlinks };
    const forced = process.env.FORGE_IO_BACKEND?.trim().toLowerCase();
    if (process.platform === 'linux' && (forced === undefined || forced === '' || forced === 'auto')) {
      // inotify: the ring that reads the fd is opened after the walk (see LateRingReader). Its
      // configuration is checked now, so a bad value still rejects `ready`.
      maxHandlesFrom({});
      this.kind = 'inotify-io_uring';
      const reader = new LateRingReader(
        (kind) => (this.kind = kind),
        (e) => sink.fail(e),
      );
      this.inner = new InotifyWatchSource(this.root, opts, reader);
      return this.inner.start(sink);
    }
    const io = await createPlatformIO({ ioUring: OWN_RING });
    if (this.closed) {
      await io.close();
      return undefined;
    }
    if (io.backend === 'fallback' && process.platform === 'linux' && process.env.FORGE_IO_BACKEND !== 'fallback') {
      // The kernel refused a ring (disabled, seccomp, old kernel) or koffi is missing: inotify still works.
      await io.close();
      this.kind = 'inotify-poll';
      this.inner = new InotifyWatchSource(this.root, opts, new PollInotifyReader());
    } else {
      this.io = io;
      this.kind = watcherKindFor(io);
      this.inner = hasWatchSource(io) ? io.createWatchSource(this.root, this.o) : new FsWatchSource(this.root, opts);
    }
    return this.inner.start(sink);
  }

  stats(): WatchStats {
    const s = this.inner?.stats() ?? { directoriesWatched: 0, filesWatched: 0, eventsSeen: 0, overflows: 0, partial: false };
    return this.kind === undefined ? s : { ...s, watcher: this.kind };
  }

  backlog(): boolean {
    return this.inner?.backlog?.() ?? false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting; // a start still opening its PlatformIO closes it when it sees `closed`
    await this.inner?.close();
    await this.io?.close();
  }
}

/**
 * The standalone inotify watch's reader: it opens its io_uring ring once the start's walk is done,
 * so the ring's setup is not part of the time to ready. Nothing is lost meanwhile: the inotify fd
 * queues every event from the moment each watch is added (and a full queue is an IN_Q_OVERFLOW,
 * which the watcher answers with a rescan). When the kernel refuses a ring the fd is made
 * non-blocking and read by poll(2) + read(2), as an eager start would have chosen.
 */
class LateRingReader implements InotifyReader {
  readonly wantsBlockingFd = true;
  readonly name = 'io_uring';
  private inner: InotifyReader | undefined;
  private io: PlatformIO | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly onKind: (kind: WatcherKind) => void,
    private readonly fail: (e: ForgeError) => void,
  ) {}

  start(fd: number, buf: Buffer, onData: (n: number) => void, onError: (negErrno: number) => void): void {
    // setImmediate: after the caller's `await ready` continuation, which runs on the microtask queue.
    this.opening = new Promise<void>((r) => setImmediate(r)).then(async () => {
      if (this.closed) return;
      let io: PlatformIO;
      try {
        io = await createPlatformIO({ ioUring: OWN_RING });
      } catch (e) {
        return this.fail(e as ForgeError); // checked before the walk, so only an environment changed since
      }
      if (this.closed) return void (await io.close());
      if (io.backend === 'io_uring') {
        this.io = io;
        this.inner = new UringInotifyReader(io as PlatformIO & FdReadSource);
      } else {
        // The kernel refused a ring (disabled, seccomp, old kernel) or koffi is missing: inotify still works.
        await io.close();
        const r = inotifyBindings().setNonBlocking(fd);
        if (r < 0) return onError(r);
        this.onKind('inotify-poll');
        this.inner = new PollInotifyReader();
      }
      this.inner.start(fd, buf, onData, onError);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.opening;
    await this.inner?.close();
    await this.io?.close();
  }
}
