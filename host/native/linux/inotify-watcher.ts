/**
 * The Linux watcher backend: one inotify fd, one watch per directory, records
 * read through an {@link InotifyReader} (io_uring READ in production) and
 * decoded in TypeScript, raw changes handed to the shared handle's coalescer.
 *
 * Invariants kept here:
 * - a directory gets its watch *before* it is listed, so nothing created in a
 *   new directory is lost (`mkdir -p a/b/c && touch a/b/c/f`);
 * - the snapshot (path → size/mtime) is what an IN_Q_OVERFLOW rescan diffs
 *   against, so an overflow is followed by the changes it hid;
 * - ignored paths never get a watch.
 */
import * as path from 'node:path';
import { ForgeError } from '../../node/base/errors.js';
import type { Change, WatchStats } from '../../node/base/platform-io.js';
import type { WatchSink, WatchSource } from '../../node/watch/handle.js';
import { compileIgnore, type IgnoreMatcher } from '../../node/watch/ignore.js';
import { changedSince, entriesUnder, joinRel, scanTree, statPath, toEntry, type DirKey, type ScanOptions, type Snapshot } from '../../node/watch/scan.js';
import { rekeySubtree, WatchHealth } from './watch-health.js';
import { GetdentsLister } from './inotify-listing.js';
import { InotifyWatches } from './inotify-watches.js';

import {
  errnoName,
  decodeInotifyEvents,
  inotifyBindings,
  INOTIFY_EVENT_HEADER,
  INOTIFY_NAME_MAX,
  IN_ATTRIB,
  IN_CLOEXEC,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_IGNORED,
  IN_ISDIR,
  IN_MODIFY,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_MOVE_SELF,
  IN_NONBLOCK,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  type InotifyBindings,
  type InotifyEvent,
} from './inotify.js';
import type { InotifyReader } from './inotify-reader.js';

/** A backlog read longer than this after it was first seen is stamped with its own read time. */
const MAX_CARRY_MS = 1000;

/** How long an unpaired IN_MOVED_FROM at the end of a full read waits for its IN_MOVED_TO. */
const PAIR_WAIT_MS = 20;

/** Bytes per read: room for thousands of records, so a burst drains in few reads. */
export const INOTIFY_READ_BUFFER = 256 * 1024;

export interface InotifyWatchOptions {
  ignore: Array<string | RegExp>;
  followSymlinks: boolean;
}

/**
 * The inotify {@link WatchSource}; wrap it in a ManagedWatchHandle (watchTree does).
 *
 * @example
 * ```ts
 * const o = resolveWatchOptions(root, { debounceMs: 50 });
 * const h = new ManagedWatchHandle(new InotifyWatchSource(root, o, new UringInotifyReader(io)), o);
 * ```
 */
export class InotifyWatchSource implements WatchSource {
  private readonly root: string;
  private readonly ignored: IgnoreMatcher;
  private readonly b: InotifyBindings;
  private fd = -1;
  private readonly buf = Buffer.allocUnsafeSlow(INOTIFY_READ_BUFFER);
  private readonly watches: InotifyWatches;
  private readonly wdToRel: Map<number, string>;
  private readonly relToWd: Map<string, number>;
  private readonly lister = new GetdentsLister();
  private snapshot: Snapshot = new Map();
  private seenDirs = new Map<DirKey, string>();
  private readonly pendingMoves = new Map<number, { rel: string; dir: boolean }>();
  private sink: WatchSink | undefined;
  private closed = false;
  private rootGone = false;
  private eventsSeen = 0;
  private overflows = 0;
  private readonly health = new WatchHealth();
  private moveTimer: NodeJS.Timeout | undefined;
  /** When the backlog now being read was already queued (see onData). */
  private carryAt: number | undefined;

  constructor(
    root: string,
    private readonly options: InotifyWatchOptions,
    private readonly reader: InotifyReader,
  ) {
    this.root = path.resolve(root);
    this.ignored = compileIgnore(options.ignore);
    this.b = inotifyBindings();
    this.watches = new InotifyWatches(this.b, this.root, options.followSymlinks, this.health, (rel) => this.noteUnreadable(rel));
    this.wdToRel = this.watches.wdToRel;
    this.relToWd = this.watches.relToWd;
  }

  /** The inotify fd (for tests that inspect /proc/self/fdinfo). */
  get inotifyFd(): number {
    return this.fd;
  }

  async start(sink: WatchSink): Promise<ForgeError | undefined> {
    this.sink = sink;
    const st = statPath(this.root, true);
    if (!st) {
      throw new ForgeError('filesystem', `watch: ${this.root} does not exist`, {
        context: { operation: 'watch', file: this.root, code: 'ENOENT' },
      });
    }
    if (!st.isDirectory()) {
      throw new ForgeError('filesystem', `watch: ${this.root} is not a directory`, {
        context: { operation: 'watch', file: this.root, code: 'ENOTDIR' },
      });
    }
    const flags = IN_CLOEXEC | (this.reader.wantsBlockingFd ? 0 : IN_NONBLOCK);
    const fd = this.b.init1(flags);
    if (fd < 0) {
      const code = errnoName(fd);
      throw new ForgeError('filesystem', `watch: inotify_init1 failed (${code})`, {
        context: { operation: 'watch', file: this.root, code, errno: -fd },
        suggestions: code === 'EMFILE' ? ['Too many inotify instances: raise fs.inotify.max_user_instances (sysctl) or close other watchers.'] : undefined,
      });
    }
    this.fd = fd;
    this.watches.fd = fd;
    // No stat per file at start: it would double the time to ready (an overflow rescan uses ctimes instead).
    const result = scanTree(this.root, '', this.snapshot, {
      ...this.scanOptions(this.seenDirs),
      statFiles: false,
      onUnreadable: (rel) => this.noteUnreadable(rel),
      onUnaddressable: (rel, why) => this.health.unaddressable(rel, why),
    });
    this.health.problems.push(...result.problems);
    if (!this.relToWd.has('')) {
      // The root itself could not be watched: nothing works, so this is fatal.
      const err =
        this.watches.limitError() ??
        new ForgeError('filesystem', `watch: cannot watch ${this.root}`, {
          context: { operation: 'watch', file: this.root },
        });
      await this.close();
      throw err;
    }
    this.reader.start(
      fd,
      this.buf,
      (n) => this.onData(n),
      (e) => this.onReadError(e),
    );
    return this.watches.limitError();
  }

  /**
   * How every scan of this watch walks: getdents64 listings, and each directory identified by the
   * wd its watch got (added before it is listed, so nothing created meanwhile is missed).
   */
  private scanOptions(seenDirs: Map<DirKey, string>): ScanOptions {
    return {
      ignored: this.ignored,
      followSymlinks: this.options.followSymlinks,
      seenDirs,
      lister: this.lister,
      identify: (abs, rel) => this.watches.identify(abs, rel),
      beforeList: (abs, rel, key) => this.watches.record(abs, rel, key),
    };
  }

  stats(): WatchStats {
    let files = 0;
    for (const [rel, e] of this.snapshot) {
      if (e.dir) continue;
      const slash = rel.lastIndexOf('/');
      if (this.relToWd.has(slash < 0 ? '' : rel.slice(0, slash))) files++;
    }
    return {
      directoriesWatched: this.relToWd.size,
      filesWatched: files,
      eventsSeen: this.eventsSeen,
      overflows: this.overflows,
      ...this.health.stats(this.watches.limitError()),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.closed = true;
    if (this.moveTimer) clearTimeout(this.moveTimer);
    this.health.close();
    await this.reader.close();
    if (this.fd >= 0) {
      // Closing the fd drops every watch with it; removing them one by one first would only cost syscalls.
      this.b.close(this.fd);
      this.fd = -1;
    }
    this.watches.clear();
  }

  // ------------------------------------------------------------------- events

  private onReadError(negErrno: number): void {
    this.sink?.fail(
      new ForgeError('filesystem', `watch: reading the inotify fd failed (${errnoName(negErrno)})`, {
        context: { operation: 'watch', file: this.root, code: errnoName(negErrno), errno: -negErrno },
      }),
    );
  }

  /** Whether the kernel has events queued that were not read yet. */
  backlog(): boolean {
    return this.fd >= 0 && !this.closed && (this.carryAt !== undefined || this.b.pending(this.fd) > 0);
  }

  private onData(n: number): void {
    if (this.closed) return;
    // Events still queued after the previous read were there when it was processed: same moment.
    const now = Date.now();
    const at = this.carryAt !== undefined && now - this.carryAt < MAX_CARRY_MS ? this.carryAt : now;
    this.carryAt = undefined;
    const events = decodeInotifyEvents(this.buf, n);
    this.eventsSeen += events.length;
    const out: Change[] = [];
    let overflow = false;
    for (const ev of events) {
      if (ev.mask & IN_Q_OVERFLOW) {
        overflow = true;
        continue;
      }
      this.handle(ev, out);
    }
    // A MOVED_FROM whose MOVED_TO did not follow left the tree. The pair is queued
    // together, so only a read that may have cut it apart (a nearly full buffer) waits.
    if (this.pendingMoves.size > 0) {
      if (n < this.buf.length - (INOTIFY_EVENT_HEADER + INOTIFY_NAME_MAX)) this.settleMoves(out);
      else this.moveTimer ??= setTimeout(() => this.settleMovesLate(), PAIR_WAIT_MS); // the next read normally comes first
    }
    if (overflow) {
      this.overflows++;
      out.push({ path: '', kind: 'overflow' });
      this.rescan(out);
    }
    if (this.rootGone) {
      for (const rel of [...this.snapshot.keys()]) out.push({ path: rel, kind: 'removed' });
      this.snapshot.clear();
    }
    this.carryAt = this.fd >= 0 && this.b.pending(this.fd) > 0 ? at : undefined;
    if (out.length > 0) this.sink?.push(out, at);
    if (this.rootGone) this.sink?.end();
  }

  /** MOVED_FROMs still unpaired: the entries left the tree. */
  private settleMoves(out: Change[]): void {
    for (const m of this.pendingMoves.values()) this.removeSubtree(m.rel, out);
    this.pendingMoves.clear();
    if (this.moveTimer) clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
  }

  private settleMovesLate(): void {
    this.moveTimer = undefined;
    if (this.closed) return;
    const out: Change[] = [];
    this.settleMoves(out);
    if (out.length > 0) this.sink?.push(out);
  }

  private handle(ev: InotifyEvent, out: Change[]): void {
    if (ev.mask & IN_IGNORED) return this.watches.dropped(ev.wd);
    const dirRel = this.wdToRel.get(ev.wd);
    if (dirRel === undefined) return; // a watch already dropped
    if (ev.name === '') {
      // Events on the watched directory itself; the parent reports the entry's own removal or move.
      if (dirRel === '' && ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) this.rootGone = true;
      return;
    }
    const rel = joinRel(dirRel, ev.name);
    if (this.ignored(rel)) return;
    if (ev.name.includes('\uFFFD') && !statPath(`${this.root}/${rel}`, false)) return this.health.unaddressable(rel, 'not-utf8');
    const isDir = (ev.mask & IN_ISDIR) !== 0;
    if (ev.mask & IN_CREATE) {
      if (this.snapshot.has(rel)) return; // already reported by the scan of its new parent
      if (isDir) this.addSubtree(rel, out);
      else this.noteFile(rel, 'created', out);
    } else if (ev.mask & (IN_MODIFY | IN_ATTRIB)) {
      // A directory's own metadata is not a change of the tree, but a chmod may make it readable.
      if (isDir) return void (this.health.unreadable.has(rel) && this.retryUnreadable(rel, out));
      this.noteFile(rel, this.snapshot.has(rel) ? 'modified' : 'created', out);
    } else if (ev.mask & IN_DELETE) {
      this.removeSubtree(rel, out);
    } else if (ev.mask & IN_MOVED_FROM) {
      this.pendingMoves.set(ev.cookie, { rel, dir: isDir });
    } else if (ev.mask & IN_MOVED_TO) {
      const from = this.pendingMoves.get(ev.cookie);
      this.pendingMoves.delete(ev.cookie);
      const fromKnown = from !== undefined && this.snapshot.has(from.rel);
      if (!isDir && this.snapshot.get(rel)?.dir === false) {
        // Replaced an existing file (an editor's atomic save): the target was
        // modified; the source is gone (and is reported only if it was ever seen).
        if (fromKnown) {
          this.forget(from.rel);
          out.push({ path: from.rel, kind: 'removed' });
        }
        this.noteFile(rel, 'modified', out);
      } else if (!fromKnown) {
        // Moved in from outside the tree, from an ignored path, or from a file
        // created and renamed before we looked at it (it never surfaced).
        if (this.snapshot.has(rel)) this.removeSubtree(rel, out);
        if (isDir) this.addSubtree(rel, out);
        else this.noteFile(rel, 'created', out);
      } else {
        if (this.snapshot.has(rel)) this.removeSubtree(rel, out);
        this.renameSubtree(from.rel, rel);
        out.push({ path: rel, kind: 'renamed', oldPath: from.rel });
      }
    }
  }

  private noteFile(rel: string, kind: 'created' | 'modified', out: Change[]): void {
    const st = statPath(`${this.root}/${rel}`, this.options.followSymlinks);
    if (st) this.snapshot.set(rel, toEntry(st));
    else if (kind === 'created') return; // created and gone before we looked: the delete event follows
    out.push({ path: rel, kind });
  }

  /** A directory appeared: watch it, then scan it, reporting everything in it as created (but `quiet`). */
  private addSubtree(rel: string, out: Change[], quiet?: string): void {
    scanTree(this.root, rel, this.snapshot, {
      ...this.scanOptions(this.seenDirs),
      onEntry: (r) => r !== quiet && out.push({ path: r, kind: 'created' }),
      onUnreadable: (r) => this.noteUnreadable(r),
      onUnaddressable: (r, why) => this.health.unaddressable(r, why),
    });
  }

  /** A directory that could not be watched or listed for lack of permission: tried again later. */
  private noteUnreadable(rel: string): void {
    this.health.noteUnreadable(rel, (rels) => {
      const out: Change[] = [];
      for (const r of this.closed ? [] : rels) this.retryUnreadable(r, out);
      if (out.length > 0) this.sink?.push(out);
    });
  }

  /** Scans `rel` again (its watch and listing); what it holds is reported as created. */
  private retryUnreadable(rel: string, out: Change[]): void {
    this.health.unreadable.delete(rel);
    const known = this.snapshot.get(rel);
    if (!known?.dir) return; // gone (or replaced) meanwhile
    for (const [key, r] of this.seenDirs) if (r === rel) this.seenDirs.delete(key);
    this.addSubtree(rel, out, rel); // still unreadable: noteUnreadable puts it back
  }

  /** Drops `rel` and everything known below it: watches, snapshot, loop keys. */
  private removeSubtree(rel: string, out: Change[], report = true): void {
    if (!this.snapshot.has(rel)) return; // never seen (created and gone between reads): nothing below it either
    const under = entriesUnder(this.snapshot, rel);
    for (const k of under) {
      if (report) out.push({ path: k, kind: 'removed' });
      this.forget(k);
    }
  }

  private forget(rel: string): void {
    const e = this.snapshot.get(rel);
    this.snapshot.delete(rel);
    if (e?.dir) {
      this.watches.remove(rel);
      for (const [key, r] of this.seenDirs) if (r === rel) this.seenDirs.delete(key);
    }
  }

  /** A rename inside the tree: re-key the snapshot and the watch maps; the kernel keeps the watches. */
  private renameSubtree(from: string, to: string): void {
    rekeySubtree({ snapshot: this.snapshot, wdToRel: this.wdToRel, relToWd: this.relToWd, seenDirs: this.seenDirs }, from, to);
  }

  /**
   * After IN_Q_OVERFLOW: rescan the whole tree (re-adding watches; the kernel
   * returns the existing wd for a directory already watched) and report the
   * difference against the snapshot.
   */
  private rescan(out: Change[]): void {
    const fresh: Snapshot = new Map();
    const seen = new Map<DirKey, string>();
    scanTree(this.root, '', fresh, { ...this.scanOptions(seen), statFiles: true });
    for (const [rel, e] of this.snapshot) {
      const now = fresh.get(rel);
      if (!now) {
        out.push({ path: rel, kind: 'removed' });
        if (e.dir) this.watches.remove(rel);
      } else if (!e.dir && changedSince(e, now)) {
        out.push({ path: rel, kind: 'modified' });
      }
    }
    for (const rel of fresh.keys()) if (!this.snapshot.has(rel)) out.push({ path: rel, kind: 'created' });
    this.snapshot = fresh;
    this.seenDirs = seen;
    this.pendingMoves.clear();
  }
}
