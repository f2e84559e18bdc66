/**
 * Tree watching with kqueue EVFILT_VNODE.
 *
 * - Every directory gets a descriptor (O_EVTONLY on macOS) registered for
 *   NOTE_WRITE|NOTE_EXTEND|NOTE_DELETE|NOTE_RENAME|NOTE_ATTRIB. A directory's
 *   NOTE_WRITE means its listing changed: it is listed again and diffed against
 *   the snapshot, which yields created and removed entries; a removed and a
 *   created entry with the same inode are one rename (kqueue-rename.ts).
 * - Files get their own descriptor while the ResourceManager's budget allows,
 *   so content changes are seen as NOTE_WRITE/NOTE_EXTEND/NOTE_ATTRIB. Beyond
 *   the budget the watch degrades to directory-level watching for the rest
 *   (content changes of those files are only seen when their directory
 *   changes), and `stats()` says so in `degradedReason`. A share of the budget
 *   is kept for directories created later.
 * - Events are read by a zero-timeout kevent() on the main thread every
 *   POLL_MS, so the event loop never blocks and no libuv threadpool thread is
 *   held for the life of a watch (koffi async calls run on that pool, which
 *   node:fs shares). Waiting for readability of the kqueue descriptor with
 *   koffi.node.poll would avoid the periodic wake-up on macOS, but libkqueue's
 *   descriptor never reports readable (checked here), so it could not be tested.
 * - A directory that cannot be opened or listed for lack of permission is
 *   counted in `stats()` and tried again every second (and on its NOTE_ATTRIB
 *   when it has a descriptor), through the watchers' shared UnreadableDirs; once
 *   readable it is watched and scanned, and what it holds is reported as created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ForgeError } from '../../node/base/errors.js';
import type { Change, WatchStats } from '../../node/base/platform-io.js';
import type { HandleGuard, ResourceManager } from '../../node/base/resources.js';
import type { ResolvedWatchOptions, WatchSink, WatchSource } from '../../node/watch/handle.js';
import { compileIgnore, type IgnoreMatcher } from '../../node/watch/ignore.js';
import { entriesUnder, joinRel, scanTree, statPath, toEntry, type Snapshot, type SnapshotEntry } from '../../node/watch/scan.js';
import { UnaddressableEntries } from '../../node/watch/unaddressable.js';
import { createdBy, UnreadableDirs } from '../../node/watch/unreadable.js';
import { EVFILT_VNODE, EV_ADD, EV_CLEAR, EV_ERROR, KEVENT, TIMESPEC, VNODE_FFLAGS, decodeKevent, encodeKevent, vnodeAction } from './kqueue-layouts.js';
import type { KqueueLib } from './kqueue-lib.js';
import { pairRenames } from './kqueue-rename.js';
import { errnoError } from './posix-errors.js';
import { childrenOf, diffListings } from '../shared/snapshot-diff.js';

interface Watched {
  rel: string;
  dir: boolean;
  guard: HandleGuard;
}

const EPERM = 1;
const EACCES = 13;

/** Events taken per kevent() call. */
const EVENT_BATCH = 64;

/** Poll period: the added latency of a change notification. */
export const POLL_MS = 15;

export class KqueueWatchSource implements WatchSource {
  private readonly rootAbs: string;
  private readonly ignored: IgnoreMatcher;
  private readonly snapshot: Snapshot = new Map();
  private readonly byFd = new Map<number, Watched>();
  private readonly byRel = new Map<string, number>();
  private kq = -1;
  private timer: NodeJS.Timeout | undefined;
  private mem: { ptr: bigint; bytes: Uint8Array; free(): void } | undefined;
  private sink: WatchSink | undefined;
  private closed = false;
  private eventsSeen = 0;
  private dirsUnwatched = 0;
  private filesUnwatched = 0;
  private readonly unreadable = new UnreadableDirs((rels) => this.retryUnreadable(rels));
  private readonly unaddressable = new UnaddressableEntries();
  /** Directories that could not be listed for another reason than permission. */
  private readonly problems: string[] = [];
  /** Handles kept free for directories created later (files may not take them). */
  private readonly dirReserve: number;

  constructor(
    private readonly lib: KqueueLib,
    root: string,
    private readonly options: ResolvedWatchOptions,
    private readonly resources: ResourceManager,
  ) {
    this.rootAbs = path.resolve(root);
    this.ignored = compileIgnore(options.ignore);
    this.dirReserve = Math.max(1, Math.min(256, Math.floor(resources.limit / 8)));
  }

  async start(sink: WatchSink): Promise<ForgeError | undefined> {
    const kqc = this.lib.kq;
    if (!kqc) {
      throw new ForgeError('dependency', 'watch: no kqueue library is available', {
        context: { operation: 'watch', backend: 'kqueue', file: this.rootAbs },
        suggestions: ['On macOS kqueue comes from libSystem; elsewhere set FORGE_KQUEUE_LIB to a libkqueue shared library.'],
      });
    }
    const st = statPath(this.rootAbs, true);
    if (!st || !st.isDirectory()) {
      throw new ForgeError('filesystem', `watch: ${this.rootAbs} is not a directory`, {
        context: { operation: 'watch', file: this.rootAbs, backend: 'kqueue', code: st ? 'ENOTDIR' : 'ENOENT' },
      });
    }
    this.sink = sink;
    this.kq = kqc.kqueue();
    if (this.kq < 0) throw errnoError(this.lib.file.errno(), 'kqueue', this.rootAbs);
    // One block: [change record][event records × EVENT_BATCH][zero timespec].
    this.mem = this.lib.alloc(KEVENT.size * (1 + EVENT_BATCH) + TIMESPEC.size);
    this.scan('');
    // Changes made during the scan are already queued in the kqueue: the first poll returns them.
    this.schedulePoll();
    if (this.dirsUnwatched > 0) {
      return new ForgeError('filesystem', `watch: ${this.dirsUnwatched} directories are not watched: ${this.degradedReason()}`, {
        context: { operation: 'watch', backend: 'kqueue', file: this.rootAbs, code: 'EMFILE' },
        suggestions: ['Raise maxHandles (FORGE_MAX_FILE_HANDLES) or `ulimit -n`, or add ignore patterns.'],
      });
    }
    return undefined;
  }

  private get changeRec(): bigint {
    return this.mem!.ptr;
  }
  private get eventsPtr(): bigint {
    return this.mem!.ptr + BigInt(KEVENT.size);
  }
  private get zeroTimeout(): bigint {
    return this.mem!.ptr + BigInt(KEVENT.size * (1 + EVENT_BATCH));
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        const n = this.lib.kq!.kevent(this.kq, 0n, 0, this.eventsPtr, EVENT_BATCH, this.zeroTimeout);
        if (n > 0) this.handle(n);
      } catch (e) {
        this.sink?.fail(e);
      }
      this.schedulePoll();
    }, POLL_MS);
  }

  /** Scans `rel` (a subtree), adding watches; returns what it found (rel → entry). */
  private scan(rel: string): Snapshot {
    const found: Snapshot = new Map();
    const result = scanTree(this.rootAbs, rel, found, {
      ignored: this.ignored,
      followSymlinks: this.options.followSymlinks,
      seenDirs: new Map(),
      // Watch first, then list: nothing created in between is missed.
      beforeList: (abs, r) => this.watch(abs, r, true),
      onEntry: (r, e) => {
        if (!e.dir) this.watch(path.join(this.rootAbs, r), r, false);
      },
      onUnreadable: (r) => this.unreadable.note(r),
      onUnaddressable: (r, why) => this.unaddressable.note(r, why),
    });
    this.problems.push(...result.problems);
    for (const [k, v] of found) this.snapshot.set(k, v);
    return found;
  }

  /** Opens and registers one descriptor, within the budget. */
  private watch(abs: string, rel: string, dir: boolean): void {
    if (this.byRel.has(rel) || this.closed) return;
    const guard = dir ? this.resources.tryAcquire() : this.resources.available > this.dirReserve ? this.resources.tryAcquire() : undefined;
    if (!guard) {
      if (dir) this.dirsUnwatched++;
      else this.filesUnwatched++;
      return;
    }
    const flags = this.lib.spec.flags;
    // A path that vanished before its watch was in place is not a gap: the parent's rescan reports it.
    const failed = (): void => {
      const errno = this.lib.file.errno();
      guard.release();
      if (statPath(abs, false) === undefined) return;
      // Not openable for lack of permission: retried until it is (the listing fails too, and says so).
      if (dir && (errno === EACCES || errno === EPERM)) return this.unreadable.note(rel);
      if (dir) this.dirsUnwatched++;
      else this.filesUnwatched++;
    };
    const fd = this.lib.file.open(abs, flags.O_WATCH | flags.O_CLOEXEC, 0);
    if (fd < 0) return failed();
    encodeKevent(this.mem!.bytes, 0, { ident: fd, filter: EVFILT_VNODE, flags: EV_ADD | EV_CLEAR, fflags: VNODE_FFLAGS, data: 0n, udata: 0n });
    if (this.lib.kq!.kevent(this.kq, this.changeRec, 1, 0n, 0, this.zeroTimeout) < 0) {
      this.lib.file.close(fd);
      return failed();
    }
    this.byFd.set(fd, { rel, dir, guard });
    this.byRel.set(rel, fd);
  }

  /** Closing a descriptor removes its kevent registration. */
  private unwatch(rel: string): void {
    const fd = this.byRel.get(rel);
    if (fd === undefined) return;
    const w = this.byFd.get(fd)!;
    this.byRel.delete(rel);
    this.byFd.delete(fd);
    this.lib.file.close(fd);
    w.guard.release();
  }

  /** Turns `n` events in the event buffer (plus any still queued) into changes. */
  private handle(n: number): void {
    if (this.closed || !this.sink) return;
    const rescans = new Set<string>();
    const modified = new Set<string>();
    const retry: string[] = [];
    let rootGone = false;
    for (;;) {
      const events = this.mem!.bytes.subarray(KEVENT.size);
      for (let i = 0; i < n; i++) {
        const ev = decodeKevent(events, i);
        if ((ev.flags & EV_ERROR) !== 0) continue;
        const w = this.byFd.get(ev.ident);
        if (!w) continue;
        this.eventsSeen++;
        const a = vnodeAction(ev.fflags, ev.flags, w.dir);
        if (a.rescanDirectory) rescans.add(w.rel);
        // A directory's mode changed (NOTE_ATTRIB): it may be readable now.
        if (w.dir && this.unreadable.has(w.rel)) retry.push(w.rel);
        if (a.modified) modified.add(w.rel);
        if (a.gone) {
          if (w.rel === '') rootGone = statPath(this.rootAbs, true) === undefined;
          else {
            const parent = w.rel.includes('/') ? w.rel.slice(0, w.rel.lastIndexOf('/')) : '';
            rescans.add(parent); // its listing says where the entry went
          }
        }
      }
      if (n < EVENT_BATCH) break;
      // A full buffer: take the rest without waiting.
      n = this.lib.kq!.kevent(this.kq, 0n, 0, this.eventsPtr, EVENT_BATCH, this.zeroTimeout);
      if (n <= 0) break;
    }
    const changes = this.process(rescans, modified);
    if (rootGone) {
      changes.push(
        ...[...this.snapshot.keys()]
          .sort()
          .reverse()
          .map((p): Change => ({ path: p, kind: 'removed' })),
      );
      this.snapshot.clear();
    }
    if (changes.length > 0) this.sink.push(changes);
    if (rootGone) this.sink.end();
    else if (retry.length > 0) this.retryUnreadable(retry);
  }

  /** Opens and lists again the directories that could not be read; what a now-readable one holds is reported as created. */
  private retryUnreadable(rels: string[]): void {
    if (this.closed) return;
    const changes: Change[] = [];
    for (const rel of rels) {
      this.unreadable.take(rel);
      if (!this.snapshot.get(rel)?.dir) continue; // gone or replaced meanwhile
      this.unwatch(rel); // a descriptor opened while unreadable is opened again with the scan
      changes.push(...createdBy(this.snapshot, rel, () => this.scan(rel)));
    }
    if (changes.length > 0) this.sink?.push(changes);
  }

  private process(rescans: Set<string>, modified: Set<string>): Change[] {
    const diff: Change[] = [];
    const before = new Map<string, SnapshotEntry>();
    const after = new Map<string, SnapshotEntry>();
    // Parents first, so a new directory's scan is not repeated for its children.
    for (const rel of [...rescans].sort()) {
      const dirAbs = rel === '' ? this.rootAbs : path.join(this.rootAbs, rel);
      const old = childrenOf(this.snapshot, rel);
      if (rel !== '' && !this.snapshot.has(rel)) continue; // removed by an earlier rescan of this batch
      const fresh = this.list(dirAbs, rel);
      if (!fresh) continue; // the directory itself is gone: its parent's rescan reports it
      for (const c of diffListings(old, fresh)) {
        if (c.kind === 'removed') {
          before.set(c.path, old.get(c.path)!);
          this.unreadable.forgetUnder(c.path);
          for (const k of entriesUnder(this.snapshot, c.path).sort().reverse()) {
            if (k !== c.path) {
              before.set(k, this.snapshot.get(k)!);
              diff.push({ path: k, kind: 'removed' });
            }
            this.unwatch(k);
            this.snapshot.delete(k);
          }
          diff.push(c);
        } else if (c.kind === 'created') {
          const e = fresh.get(c.path)!;
          after.set(c.path, e);
          this.snapshot.set(c.path, e);
          diff.push(c);
          if (e.dir) {
            for (const [k, v] of this.scan(c.path)) {
              if (k === c.path) continue;
              after.set(k, v);
              diff.push({ path: k, kind: 'created' });
            }
          } else this.watch(path.join(this.rootAbs, c.path), c.path, false);
        } else {
          // Size/mtime/inode differ (a file replaced, or written while unwatched): modified.
          const e = fresh.get(c.path)!;
          this.snapshot.set(c.path, e);
          if (!modified.has(c.path)) diff.push(c);
          if (!e.dir && !this.byRel.has(c.path)) this.watch(path.join(this.rootAbs, c.path), c.path, false);
          else if (!e.dir && old.get(c.path)?.ino !== e.ino) {
            this.unwatch(c.path); // the descriptor follows the replaced inode
            this.watch(path.join(this.rootAbs, c.path), c.path, false);
          }
        }
      }
    }
    for (const rel of modified) {
      const st = statPath(path.join(this.rootAbs, rel), false);
      if (!st || st.isDirectory() || !this.snapshot.has(rel)) continue;
      this.snapshot.set(rel, toEntry(st));
      diff.push({ path: rel, kind: 'modified' });
    }
    return pairRenames(diff, before, after);
  }

  /** The direct children of a directory, as snapshot entries; undefined if it cannot be listed. */
  private list(dirAbs: string, rel: string): Map<string, SnapshotEntry> | undefined {
    let names: string[];
    try {
      names = fs.readdirSync(dirAbs);
    } catch {
      return undefined;
    }
    const out = new Map<string, SnapshotEntry>();
    for (const name of names) {
      const childRel = joinRel(rel, name);
      if (this.ignored(childRel)) continue;
      const st = statPath(path.join(dirAbs, name), this.options.followSymlinks);
      if (st) out.set(childRel, toEntry(st));
    }
    return out;
  }

  private degradedReason(): string | undefined {
    const parts: string[] = [];
    const unreadable = this.unreadable.reason();
    if (unreadable !== undefined) parts.push(unreadable);
    parts.push(...this.unaddressable.reasons());
    if (this.problems.length > 0) parts.push(`not listed: ${this.problems.slice(0, 5).join(', ')}`);
    if (this.dirsUnwatched > 0) parts.push(`${this.dirsUnwatched} directories could not be watched (handle budget ${this.resources.limit} or open() failed)`);
    if (this.filesUnwatched > 0) {
      parts.push(
        `${this.filesUnwatched} files are watched at directory level only (handle budget ${this.resources.limit}, ${this.dirReserve} kept for new directories): their content changes are seen only when their directory changes`,
      );
    }
    return parts.length > 0 ? parts.join('; ') : undefined;
  }

  stats(): WatchStats {
    let dirs = 0;
    for (const w of this.byFd.values()) if (w.dir) dirs++;
    const reason = this.degradedReason();
    return {
      directoriesWatched: dirs,
      filesWatched: this.byFd.size - dirs,
      eventsSeen: this.eventsSeen,
      overflows: 0,
      // Files watched at directory level only still have every change seen (later): not partial.
      partial: this.dirsUnwatched > 0 || this.unreadable.size > 0 || this.problems.length > 0 || this.unaddressable.reasons().length > 0,
      ...(reason !== undefined ? { degradedReason: reason } : {}),
      ...this.unreadable.stats(),
      ...this.unaddressable.stats(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unreadable.close();
    for (const rel of [...this.byRel.keys()]) this.unwatch(rel);
    if (this.kq >= 0) this.lib.file.close(this.kq);
    this.kq = -1;
    this.mem?.free();
  }
}
