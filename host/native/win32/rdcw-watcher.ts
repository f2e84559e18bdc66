/**
 * Tree watching on Windows: one ReadDirectoryChangesW (subtree) on the root's
 * directory handle, associated with the backend's completion port.
 *
 * - The request is re-armed as soon as a completion arrives (after its records
 *   are decoded, since they share the buffer), so the gap is as short as it can be.
 * - A 0-byte result (or STATUS_NOTIFY_ENUM_DIR) means the kernel's buffer
 *   overflowed: an `overflow` change is reported, then a rescan diffed against
 *   the snapshot reports what changed. No silent loss.
 * - A new or moved-in directory is scanned and its contents reported as
 *   created, so nested creates (`mkdir -p a/b && touch a/b/f`) are never lost,
 *   even where change records for them are missing (Wine).
 * - A directory the scan cannot list (access denied) is counted in `stats()`
 *   and listed again every second (and when a record says it changed), through
 *   the watchers' shared UnreadableDirs; the recursive request already covers
 *   it, so once listable its entries are reported as created.
 * - Closing cancels the pending request with CancelIoEx and waits for its
 *   ERROR_OPERATION_ABORTED packet before the handle and buffer are freed.
 */
import * as path from 'node:path';
import { ForgeError } from '../../node/base/errors.js';
import type { Change, WatchStats } from '../../node/base/platform-io.js';
import type { HandleGuard, ResourceManager } from '../../node/base/resources.js';
import type { ResolvedWatchOptions, WatchSink, WatchSource } from '../../node/watch/handle.js';
import { compileIgnore, type IgnoreMatcher } from '../../node/watch/ignore.js';
import { entriesUnder, scanTree, statPath, toEntry, type Snapshot, type SnapshotEntry } from '../../node/watch/scan.js';
import { UnaddressableEntries } from '../../node/watch/unaddressable.js';
import { createdBy, UnreadableDirs } from '../../node/watch/unreadable.js';
import { diffListings } from '../shared/snapshot-diff.js';
import type { Completion, IocpPort } from './iocp-port.js';
import type { Handle, Kernel32 } from './kernel32.js';
import { allocNative, type NativeBlock } from './native-memory.js';
import { translateRecords } from './rdcw-translate.js';
import { win32Error } from './win32-errors.js';
import {
  ERROR_ACCESS_DENIED,
  ERROR_IO_PENDING,
  ERROR_NOTIFY_ENUM_DIR,
  ERROR_OPERATION_ABORTED,
  FILE_FLAG_BACKUP_SEMANTICS,
  FILE_FLAG_OVERLAPPED,
  FILE_LIST_DIRECTORY,
  FILE_SHARE_ALL,
  INVALID_HANDLE_VALUE,
  OPEN_EXISTING,
  OVERLAPPED,
  STATUS_NOTIFY_CLEANUP,
  STATUS_NOTIFY_ENUM_DIR,
  WATCH_NOTIFY_FILTER,
  decodeNotifyRecords,
} from './win32-layouts.js';

/** Completion keys of directory handles start here (files use 1). */
let nextDirKey = 0x100n;

/**
 * Default size of the change-record buffer. 64 KiB is the largest
 * ReadDirectoryChangesW accepts on network shares; a burst beyond it is an
 * overflow (reported, then rescanned). Configurable per backend (`rdcwBufferBytes`).
 */
export const RDCW_BUFFER_BYTES = 64 * 1024;

export class RdcwWatchSource implements WatchSource {
  private readonly rootAbs: string;
  private readonly ignored: IgnoreMatcher;
  private readonly snapshot: Snapshot = new Map();
  private dir: Handle | undefined;
  private guard: HandleGuard | undefined;
  private buf: NativeBlock | undefined;
  private ov: NativeBlock | undefined;
  private pending: Promise<Completion> | undefined;
  private loop: Promise<void> | undefined;
  private closing = false;
  private eventsSeen = 0;
  private overflows = 0;
  private readonly key = nextDirKey++;
  private sink: WatchSink | undefined;
  private readonly unreadable = new UnreadableDirs((rels) => this.retryUnreadable(rels));
  private readonly unaddressable = new UnaddressableEntries();

  constructor(
    private readonly k: Kernel32,
    private readonly port: IocpPort,
    root: string,
    private readonly options: ResolvedWatchOptions,
    private readonly resources: ResourceManager,
    private readonly bufferBytes: number = RDCW_BUFFER_BYTES,
  ) {
    this.rootAbs = path.resolve(root);
    this.ignored = compileIgnore(options.ignore);
  }

  async start(sink: WatchSink): Promise<ForgeError | undefined> {
    const st = statPath(this.rootAbs, true);
    if (!st || !st.isDirectory()) {
      throw new ForgeError('filesystem', `watch: ${this.rootAbs} is not a directory`, {
        context: { operation: 'watch', file: this.rootAbs, backend: 'iocp', code: st ? 'ENOTDIR' : 'ENOENT' },
      });
    }
    this.sink = sink;
    this.guard = await this.resources.acquire();
    const h = this.k.CreateFileW(
      path.toNamespacedPath(this.rootAbs),
      FILE_LIST_DIRECTORY,
      FILE_SHARE_ALL,
      null,
      OPEN_EXISTING,
      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED,
      null,
    );
    if (h === INVALID_HANDLE_VALUE) {
      this.guard.release();
      throw win32Error(this.k.GetLastError(), 'CreateFileW(directory)', this.rootAbs);
    }
    try {
      this.port.associate(h, this.key, this.rootAbs);
    } catch (e) {
      this.k.CloseHandle(h);
      this.guard.release();
      throw e;
    }
    this.dir = h;
    this.buf = allocNative(this.k, this.bufferBytes);
    this.ov = allocNative(this.k, OVERLAPPED.size);
    // Armed before the scan, so nothing created during the scan is missed.
    this.pending = this.arm();
    const scan = scanTree(this.rootAbs, '', this.snapshot, this.scanOptions());
    this.loop = this.run(sink);
    if (scan.problems.length > 0) {
      return new ForgeError('filesystem', `watch: ${scan.problems.length} directories could not be listed: ${scan.problems.slice(0, 5).join('; ')}`, {
        context: { operation: 'watch', file: this.rootAbs, backend: 'iocp' },
      });
    }
    return undefined;
  }

  private scanOptions(): Parameters<typeof scanTree>[3] {
    // A fresh dev:ino set per scan: a renamed directory keeps its identity and must be rescanned.
    return {
      ignored: this.ignored,
      followSymlinks: this.options.followSymlinks,
      seenDirs: new Map(),
      onUnreadable: (rel) => this.unreadable.note(rel),
      onUnaddressable: (rel, why) => this.unaddressable.note(rel, why),
    };
  }

  /** Lists again the directories that could not be read; what a now-readable one holds is reported as created. */
  private retryUnreadable(rels: string[]): void {
    if (this.closing) return;
    const changes: Change[] = [];
    for (const rel of rels) {
      this.unreadable.take(rel);
      if (!this.snapshot.get(rel)?.dir) continue; // gone or replaced meanwhile
      changes.push(...createdBy(this.snapshot, rel, () => scanTree(this.rootAbs, rel, this.snapshot, this.scanOptions())));
    }
    if (changes.length > 0) this.sink?.push(changes);
  }

  /** Issues ReadDirectoryChangesW and returns the promise of its completion. */
  private arm(): Promise<Completion> {
    const ov = this.ov!;
    ov.bytes.fill(0);
    const ok = this.k.ReadDirectoryChangesW(this.dir!, this.buf!.ptr, this.bufferBytes, 1, WATCH_NOTIFY_FILTER, null, ov.ptr, null);
    if (!ok) {
      const err = this.k.GetLastError();
      if (err !== ERROR_IO_PENDING) return Promise.resolve({ status: 0xffffffff, error: err, bytes: 0, key: this.key });
    }
    return this.port.expect(ov.ptr, true);
  }

  private async run(sink: WatchSink): Promise<void> {
    for (;;) {
      const c = await this.pending!;
      this.pending = undefined;
      if (this.closing || c.error === ERROR_OPERATION_ABORTED || c.status === STATUS_NOTIFY_CLEANUP) return;
      const overflow = c.status === STATUS_NOTIFY_ENUM_DIR || c.error === ERROR_NOTIFY_ENUM_DIR || (c.status === 0 && c.bytes === 0);
      if (c.status !== 0 && !overflow) {
        // The root was deleted (ACCESS_DENIED / DELETE_PENDING) or the handle broke.
        if (c.error === ERROR_ACCESS_DENIED || statPath(this.rootAbs, true) === undefined) {
          sink.push(
            [...this.snapshot.keys()]
              .sort()
              .reverse()
              .map((p): Change => ({ path: p, kind: 'removed' })),
          );
          this.snapshot.clear();
          sink.end();
        } else {
          sink.fail(win32Error(c.error, 'ReadDirectoryChangesW', this.rootAbs));
        }
        return;
      }
      const records = overflow ? [] : decodeNotifyRecords(this.buf!.bytes, c.bytes);
      this.pending = this.arm();
      if (overflow) {
        this.overflows++;
        sink.push([{ path: '', kind: 'overflow' }, ...this.rescan()]);
        continue;
      }
      this.eventsSeen += records.length;
      const changes = this.follow(translateRecords(records, this.ignored));
      if (changes.length > 0) sink.push(changes);
    }
  }

  /** The whole tree listed again and diffed against the snapshot. */
  private rescan(): Change[] {
    const fresh: Snapshot = new Map();
    scanTree(this.rootAbs, '', fresh, this.scanOptions());
    const changes = diffListings(this.snapshot, fresh);
    this.snapshot.clear();
    for (const [k, v] of fresh) this.snapshot.set(k, v);
    return changes;
  }

  /** Updates the snapshot from the changes and adds what the records could not say. */
  private follow(changes: Change[]): Change[] {
    const out: Change[] = [];
    const retry: string[] = [];
    const mentioned = new Set(changes.map((c) => c.path));
    const scanNew = (rel: string): void => {
      // Contents of a new or moved-in directory that no record reported.
      const found: Snapshot = new Map();
      scanTree(this.rootAbs, rel, found, this.scanOptions());
      for (const [k, v] of found) {
        if (k === rel) continue;
        if (!this.snapshot.has(k) && !mentioned.has(k)) out.push({ path: k, kind: 'created' });
        this.snapshot.set(k, v);
      }
    };
    const entryOf = (rel: string): SnapshotEntry | undefined => {
      const st = statPath(path.join(this.rootAbs, rel), false);
      return st ? toEntry(st) : undefined;
    };
    for (const c of changes) {
      if (c.kind === 'created') {
        out.push(c);
        const e = entryOf(c.path);
        if (e) this.snapshot.set(c.path, e);
        if (e?.dir) scanNew(c.path);
      } else if (c.kind === 'removed') {
        out.push(c);
        this.unreadable.forgetUnder(c.path);
        for (const k of entriesUnder(this.snapshot, c.path).sort().reverse()) {
          if (k !== c.path && !mentioned.has(k)) out.push({ path: k, kind: 'removed' });
          this.snapshot.delete(k);
        }
      } else if (c.kind === 'modified') {
        const known = this.snapshot.get(c.path);
        const e = entryOf(c.path);
        // A directory's "modified" only says its listing changed; its entries are
        // reported themselves, but an unreadable one may be readable now.
        if (known?.dir && this.unreadable.has(c.path)) retry.push(c.path);
        if (known?.dir || e?.dir) continue;
        if (e) this.snapshot.set(c.path, e);
        out.push(c);
      } else if (c.kind === 'renamed' && c.oldPath !== undefined) {
        out.push(c);
        const moved = entriesUnder(this.snapshot, c.oldPath);
        for (const k of moved) {
          const v = this.snapshot.get(k)!;
          this.snapshot.delete(k);
          this.snapshot.set(c.path + k.slice(c.oldPath.length), v);
        }
        const e = entryOf(c.path);
        if (e) this.snapshot.set(c.path, e);
        if (e?.dir) scanNew(c.path);
      } else {
        out.push(c);
      }
    }
    if (retry.length > 0) queueMicrotask(() => this.retryUnreadable(retry)); // after this batch is pushed
    return out;
  }

  stats(): WatchStats {
    let dirs = this.dir !== undefined ? 1 : 0;
    let files = 0;
    for (const v of this.snapshot.values()) v.dir ? dirs++ : files++;
    // One recursive handle covers the whole tree: only a directory not listable yet makes the watch partial.
    const reasons = [this.unreadable.reason(), ...this.unaddressable.reasons()].filter((r) => r !== undefined);
    const reason = reasons.length > 0 ? reasons.join('; ') : undefined;
    return {
      directoriesWatched: dirs,
      filesWatched: files,
      eventsSeen: this.eventsSeen,
      overflows: this.overflows,
      partial: reason !== undefined,
      ...(reason !== undefined ? { degradedReason: reason } : {}),
      ...this.unreadable.stats(),
      ...this.unaddressable.stats(),
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unreadable.close();
    if (this.dir !== undefined) {
      if (this.pending) {
        this.k.CancelIoEx(this.dir, this.ov!.ptr);
        await this.pending; // the buffer and OVERLAPPED stay alive until the kernel lets go of them
      }
      await this.loop;
      this.k.CloseHandle(this.dir);
      this.dir = undefined;
    }
    this.buf?.free();
    this.ov?.free();
    this.guard?.release();
  }
}
