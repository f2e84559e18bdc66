/**
 * The one interface every I/O backend implements (io_uring, IOCP, kqueue, node:fs fallback).
 *
 * The records come from the WIT contract (`wit/forge.wit`, interface `platform-io`),
 * through the types `jco types` generates; this file adds what JavaScript needs
 * around them: Promises for asynchronous results and an AsyncIterable for watching.
 */
import type { ForgeError } from './errors.js';
import type { WriteOp as WitWriteOp } from '../../../gen/types/host/interfaces/forge-core-platform-io.js';
import type { Change as WitChange, ChangeKind as WitChangeKind } from '../../../gen/types/core/interfaces/forge-core-events.js';

/** Backend names as the host reports them (`io-uring` in WIT is `io_uring` here). */
export type BackendName = 'io_uring' | 'iocp' | 'kqueue' | 'fallback';

/** One write of a batch: the whole file `path` becomes `data`; `sync` fsyncs it before completing. */
export interface WriteOp extends Omit<WitWriteOp, 'sync'> {
  sync?: boolean;
  /**
   * Bypass the page cache (O_DIRECT) for the block-aligned head of the data: a hint, host-side only
   * (not in the WIT record). Only the io_uring backend acts on it; where the filesystem refuses
   * O_DIRECT (tmpfs) it writes buffered instead, quietly, and counts that in `stats().directFallbacks`.
   * Other backends write buffered.
   */
  direct?: boolean;
  /**
   * Permission bits of the file when this write creates it, as open(2)'s mode argument: the
   * process umask then removes bits (umask 022 turns 0o644 into 0o644, umask 077 turns it into
   * 0o600), so the result is `mode & ~umask`. An existing file keeps its mode. Unset: 0o644
   * (io_uring, the fallback's synced write) or 0o666 (the fallback's unsynced write, kqueue). The descriptor the write opened
   * stays writable whatever the mode, so a read-only 0o400 file is created and filled in one go.
   *
   * Per backend: io_uring passes it to OPENAT; the fallback to `open(2)` through node:fs; kqueue to
   * `open(2)`. IOCP (Windows) has no POSIX permission bits and ignores it: the file is created with
   * FILE_ATTRIBUTE_NORMAL; use `fs.chmod` afterwards for a read-only attribute.
   *
   * A file whose mode lacks owner write (0o200) cannot be opened again for writing by a non-root
   * owner, so on io_uring a write that may open its file more than once (`direct`: the unaligned
   * tail, a restart where O_DIRECT is refused; over 0x7ffff000 bytes: continuations) is created
   * with owner write added and chmodded to `mode & ~umask` once complete (one chmod on the libuv
   * threadpool). Every other write, and every write of the other backends, opens its file once.
   *
   * @example
   * ```ts
   * // An owner-read-only object: 0o400 under any usual umask, with no chmod afterwards.
   * const [r] = await io.batchWrite([{ path: tmp, data, sync: true, mode: 0o400 }]);
   * ```
   */
  mode?: number;
}

/**
 * Who an opened file is and what it was, from `fstat` of the descriptor the read used (not from a
 * path lookup, so a swap between a walk's `lstat` and the read cannot fool it).
 */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** st_mode, type bits included. */
  mode: number;
}

/**
 * Options of a batch read.
 *
 * `safe`: the tree may be written by someone else while it is read (the daemon's case). Each file is
 * opened with O_NOFOLLOW | O_NONBLOCK and its descriptor is `fstat`ed before and after the read:
 * - a symlink (ELOOP), FIFO, socket or device (code `ENOTREG`) fails that slot; nothing is followed and nothing blocks;
 * - a file whose size, mtime or ctime changed during the read fails that slot with code `ECHANGED`
 *   (retryable: read it again), so a version that never existed is never returned;
 * - a successful slot carries `identity` (the fstat), which the caller compares with its walk's dev/ino.
 *
 * Per backend: io_uring opens with OPENAT and takes STATX(AT_EMPTY_PATH) of the descriptor before and
 * after the READ; the fallback uses node:fs (base/safe-read.ts); kqueue opens with O_NOFOLLOW|O_NONBLOCK
 * and fstats the fd; IOCP opens with FILE_FLAG_OPEN_REPARSE_POINT (a symlink is opened, not followed,
 * and reported as ELOOP) and takes GetFileInformationByHandle (volume serial, file index, size, last
 * write time; Windows has no ctime there, so the last write time stands for both). O_NOFOLLOW covers
 * the last component only: a directory above it swapped for a link is still followed.
 */
export interface BatchReadOptions {
  safe?: boolean;
}

/** One slot of a batch read: the bytes (and, for a safe read, the file's identity), or the error for that path alone. */
export type ReadResult = { ok: true; data: Uint8Array; identity?: FileIdentity } | { ok: false; error: ForgeError };

/** One slot of a batch write: bytes written, or the error for that op alone. */
export type WriteResult = { ok: true; bytes: number } | { ok: false; error: ForgeError };

/** What happened to a path: created, modified, removed or renamed. */
export type ChangeKind = WitChangeKind;

/** A change under a watched root; `path` is relative to the root and `/`-separated. */
export type Change = WitChange;

/** Options of a tree watch. */
export interface WatchOptions {
  /** Coalescing window in ms (default 100). 0 delivers each event batch as it is read. */
  debounceMs?: number;
  /** Names or globs (matched against the relative path and its basename) to skip before adding watches. */
  ignore?: Array<string | RegExp>;
  /** Follow symbolic links to directories (default false). Loops are detected. */
  followSymlinks?: boolean;
  /** Aborting closes the watch. */
  signal?: AbortSignal;
}

/** Counters of a watch: what it watches and the events it has seen. */
export interface WatchStats {
  directoriesWatched: number;
  filesWatched: number;
  eventsSeen: number;
  overflows: number;
  /** True when not every directory could be watched (e.g. inotify watch limit). */
  partial: boolean;
  /** Why the watch is partial or degraded, if it is. */
  degradedReason?: string;
  /**
   * Directories not readable (EACCES/EPERM) when met: retried every second and when their mode
   * changes (IN_ATTRIB), and watched once readable. Counted here until then (inotify watcher).
   */
  unreadableDirectories?: number;
  /** Entries named by bytes that are not valid UTF-8: reported here, since a string path cannot name them. */
  namesNotUtf8?: number;
  /** Entries whose path is longer than PATH_MAX: reported here, since no path call reaches them. */
  pathsTooLong?: number;
  /** The watcher the standalone `watch()` chose (inotify-io_uring, inotify-poll, kqueue, ReadDirectoryChangesW, fs.watch). */
  watcher?: string;
}

/**
 * A running watch: iterate it for batches of coalesced changes.
 *
 * @example
 * ```ts
 * const w = io.watch('/srv/project', { debounceMs: 50 });
 * for await (const batch of w) for (const c of batch) console.log(c.kind, c.path);
 * ```
 */
export interface WatchHandle extends AsyncIterable<Change[]> {
  /** Resolves once the initial scan is done and every watch is registered. */
  readonly ready: Promise<void>;
  /** Counters of this watch so far. */
  stats(): WatchStats;
  /** The same as {@link WatchHandle.close}, for `await using w = io.watch(root)`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Unregisters every watch and closes every fd; the iterator then ends. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Batch file I/O and watching over the platform's native interface.
 *
 * @example
 * ```ts
 * const io = await createPlatformIO();
 * const results = await io.batchRead(['a.txt', 'b.txt']);
 * for (const r of results) if (r.ok) console.log(r.data.length); else console.error(r.error.message);
 * await io.close();
 * ```
 */
export interface PlatformIO {
  readonly backend: BackendName;
  /** The same as {@link PlatformIO.close}, for `await using io = await createPlatformIO()`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Reads up to `length` bytes at `offset`. */
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Writes `data` at `offset` (creating the file if needed); resolves to bytes written. */
  write(path: string, data: Uint8Array, offset?: number): Promise<number>;
  /** The whole file. */
  readAll(path: string): Promise<Uint8Array>;
  /** Replaces the whole file with `data`. */
  writeAll(path: string, data: Uint8Array, options?: { sync?: boolean }): Promise<void>;
  /** One result per path, in order; a failed path does not fail the batch. See {@link BatchReadOptions} for `safe`. */
  batchRead(paths: readonly string[], options?: BatchReadOptions): Promise<ReadResult[]>;
  /** One result per op, in order; a failed op does not fail the batch. */
  batchWrite(ops: readonly WriteOp[]): Promise<WriteResult[]>;
  /** Watches a tree; see {@link WatchHandle}. */
  watch(root: string, options?: WatchOptions): WatchHandle;
  /** Releases the ring, fds and watches. Safe to call twice. */
  close(): Promise<void>;
}
