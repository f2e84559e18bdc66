/**
 * The portable watcher backend: `fs.watch(root, { recursive: true })`, with
 * each event checked against a snapshot (stat now vs. last known) to decide
 * created / modified / removed, and everything sent through the same handle
 * and core coalescer as the inotify backend.
 *
 * What it cannot do, and why (the tests skip these cases with this reason):
 * - rename pairs: fs.watch reports two unrelated `rename` events, so a rename
 *   is reported as `removed` + `created`;
 * - overflow: fs.watch exposes no queue-overflow signal (libuv drops it);
 * - ignore before watching: fs.watch has no exclude option, so ignored
 *   subtrees still cost OS watches (their events are dropped here);
 * - the watch limit: Node's recursive watcher on Linux swallows the errors it
 *   hits while setting up, so a partial watch cannot be detected.
 *
 * A directory unreadable at start (or when it appears) is counted in `stats()` and tried again every
 * second (UnreadableDirs); once readable it is scanned, its entries are reported as created, and on
 * Linux it gets its own recursive fs.watch, since Node's root watcher never entered it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ForgeError, toForgeError } from '../base/errors.js';
import type { Change, WatchStats } from '../base/platform-io.js';
import type { WatchSink, WatchSource } from '../watch/handle.js';
import { compileIgnore, type IgnoreMatcher } from '../watch/ignore.js';
import { changedSince, entriesUnder, scanTree, statPath, toEntry, type ScanOptions, type Snapshot } from '../watch/scan.js';
import { UnaddressableEntries } from '../watch/unaddressable.js';
import { createdBy, UnreadableDirs } from '../watch/unreadable.js';

export interface FallbackWatchOptions {
  ignore: Array<string | RegExp>;
  followSymlinks: boolean;
}

/**
 * The fs.watch {@link WatchSource}; wrap it in a ManagedWatchHandle (watchTree does).
 *
 * @example
 * ```ts
 * const o = resolveWatchOptions(root, undefined);
 * const h = new ManagedWatchHandle(new FsWatchSource(root, o), o);
 * ```
 */
export class FsWatchSource implements WatchSource {
  private readonly root: string;
  private readonly ignored: IgnoreMatcher;
  private watcher: fs.FSWatcher | undefined;
  private snapshot: Snapshot = new Map();
  private sink: WatchSink | undefined;
  private closed = false;
  private eventsSeen = 0;
  private problems: string[] = [];
  private batch: Change[] = [];
  private flushScheduled = false;
  /**
   * Files replaced by a rename (an editor's atomic save). Node's recursive
   * watcher on Linux keeps watching the replaced inode and stops reporting the
   * name, so such a file gets its own watcher here.
   */
  private readonly replaced = new Map<string, fs.FSWatcher>();
  private readonly unreadable = new UnreadableDirs((rels) => this.retryUnreadable(rels));
  private readonly unaddressable = new UnaddressableEntries();
  /** Directories that became readable after the start, each with its own recursive watcher (Linux). */
  private readonly late = new Map<string, fs.FSWatcher>();

  constructor(
    root: string,
    private readonly options: FallbackWatchOptions,
  ) {
    this.root = path.resolve(root);
    this.ignored = compileIgnore(options.ignore);
  }

  async start(sink: WatchSink): Promise<ForgeError | undefined> {
    this.sink = sink;
    const st = statPath(this.root, true);
    if (!st || !st.isDirectory()) {
      throw new ForgeError('filesystem', `watch: ${this.root} ${st ? 'is not a directory' : 'does not exist'}`, {
        context: { operation: 'watch', file: this.root, code: st ? 'ENOTDIR' : 'ENOENT' },
      });
    }
    // Watch first, then scan: anything created in between is seen by one or the other.
    try {
      this.watcher = fs.watch(this.root, { recursive: true, persistent: true }, (ev, name) => this.onEvent(ev, name));
    } catch (err) {
      throw toForgeError(err, { operation: 'watch', file: this.root, backend: 'fallback' });
    }
    this.watcher.on('error', (err) => this.sink?.fail(toForgeError(err, { operation: 'watch', file: this.root, backend: 'fallback' })));
    // Node's recursive watcher stats every file anyway; full entries let events be told from noise.
    const r = scanTree(this.root, '', this.snapshot, this.scanOptions());
    this.problems.push(...r.problems);
    return undefined;
  }

  private scanOptions(extra?: Partial<ScanOptions>): ScanOptions {
    return {
      ignored: this.ignored,
      followSymlinks: this.options.followSymlinks,
      seenDirs: new Map(),
      onUnreadable: (rel) => this.unreadable.note(rel),
      onUnaddressable: (rel, why) => this.unaddressable.note(rel, why),
      ...extra,
    };
  }

  /** Lists again the directories that could not be read; what a now-readable one holds is reported as created. */
  private retryUnreadable(rels: string[]): void {
    if (this.closed) return;
    const out: Change[] = [];
    for (const rel of rels) {
      this.unreadable.take(rel);
      if (!this.snapshot.get(rel)?.dir) continue; // gone or replaced meanwhile
      this.watchLate(rel); // watch first, then scan (fails quietly while still unreadable)
      out.push(...createdBy(this.snapshot, rel, () => scanTree(this.root, rel, this.snapshot, this.scanOptions())));
      if (this.unreadable.has(rel)) this.unwatchLate(rel);
    }
    if (out.length > 0) this.sink?.push(out);
  }

  private watchLate(rel: string): void {
    if (process.platform !== 'linux' || this.late.has(rel)) return; // native recursive watchers cover the subtree
    try {
      const w = fs.watch(`${this.root}/${rel}`, { recursive: true, persistent: true }, (ev, name) =>
        this.onEvent(ev, name === null || name === undefined ? null : `${rel}${path.sep}${String(name)}`),
      );
      w.on('error', () => undefined); // the directory vanished; the root watcher reports that
      this.late.set(rel, w);
    } catch {
      // still unreadable, or gone: the scan notes it again
    }
  }

  private unwatchLate(rel: string): void {
    for (const [k, w] of this.late) {
      if (k === rel || k.startsWith(`${rel}/`)) {
        w.close();
        this.late.delete(k);
      }
    }
  }

  stats(): WatchStats {
    let dirs = 1;
    let files = 0;
    for (const e of this.snapshot.values()) {
      if (e.dir) dirs++;
      else files++;
    }
    const reasons: string[] = [];
    if (this.problems.length > 0) reasons.push(`not listed: ${this.problems.slice(0, 5).join(', ')}`);
    const unreadable = this.unreadable.reason();
    if (unreadable !== undefined) reasons.push(unreadable);
    reasons.push(...this.unaddressable.reasons());
    return {
      directoriesWatched: this.closed ? 0 : dirs,
      filesWatched: this.closed ? 0 : files,
      eventsSeen: this.eventsSeen,
      overflows: 0,
      partial: reasons.length > 0,
      ...(reasons.length > 0 ? { degradedReason: reasons.join('; ') } : {}),
      ...this.unreadable.stats(),
      ...this.unaddressable.stats(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const w of this.replaced.values()) w.close();
    this.replaced.clear();
    for (const w of this.late.values()) w.close();
    this.late.clear();
    this.unreadable.close();
  }

  private rewatch(rel: string): void {
    if (process.platform !== 'linux') return; // native recursive watchers follow names, not inodes
    this.replaced.get(rel)?.close();
    this.replaced.delete(rel);
    try {
      const w = fs.watch(`${this.root}/${rel}`, { persistent: true }, () => this.onEvent('change', rel));
      w.on('error', () => undefined); // the name vanished; the recursive watcher reports that
      this.replaced.set(rel, w);
    } catch {
      // gone again already
    }
  }

  private onEvent(_ev: string, name: string | Buffer | null): void {
    if (this.closed) return;
    this.eventsSeen++;
    const out = this.batch;
    const before = out.length;
    if (name === null || name === undefined) {
      this.rescan(out); // the platform did not say which entry changed
    } else {
      const rel = String(name).split(path.sep).join('/');
      if (rel !== '' && !this.ignored(rel)) this.check(rel, out);
    }
    // Only an event on the root itself, or a removal, can mean the root is gone.
    let suspicious = name === null || String(name) === '';
    for (let i = before; i < out.length && !suspicious; i++) suspicious = out[i]!.kind === 'removed';
    if (suspicious && !statPath(this.root, true)) {
      for (const rel of this.snapshot.keys()) out.push({ path: rel, kind: 'removed' });
      this.snapshot.clear();
      this.flushBatch();
      this.sink?.end();
      return;
    }
    // fs.watch calls back once per event: the changes of one turn of the loop go to the coalescer together.
    if (out.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushBatch());
    }
  }

  private flushBatch(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const out = this.batch;
    this.batch = [];
    if (!this.closed) this.sink?.push(out);
  }

  /** Compares `rel` now with the snapshot; fs.watch's event names are too coarse to trust alone. */
  private check(rel: string, out: Change[]): void {
    const before = this.snapshot.get(rel);
    const st = statPath(`${this.root}/${rel}`, this.options.followSymlinks);
    if (!st) {
      if (!before) return;
      this.unreadable.forgetUnder(rel);
      this.unwatchLate(rel);
      for (const k of entriesUnder(this.snapshot, rel)) {
        out.push({ path: k, kind: 'removed' });
        this.snapshot.delete(k);
        this.replaced.get(k)?.close();
        this.replaced.delete(k);
      }
      return;
    }
    if (st.isDirectory()) {
      // A directory's own metadata is not a change of the tree, but a chmod may make it readable.
      if (before?.dir) return void (this.unreadable.has(rel) && this.retryUnreadable([rel]));
      if (before) {
        this.snapshot.delete(rel);
        out.push({ path: rel, kind: 'removed' });
      }
      // Node may already have reported some of its entries one by one.
      const known = new Set(entriesUnder(this.snapshot, rel));
      scanTree(this.root, rel, this.snapshot, this.scanOptions({ onEntry: (r) => void (known.has(r) || out.push({ path: r, kind: 'created' })) }));
      return;
    }
    // fs.watch fires for opens and attribute noise too: only a different size or mtime is a change.
    if (before && !before.dir && before.size === st.size && before.mtimeMs === st.mtimeMs) return;
    if (before?.dir) {
      for (const k of entriesUnder(this.snapshot, rel)) {
        out.push({ path: k, kind: 'removed' });
        this.snapshot.delete(k);
      }
    }
    this.snapshot.set(rel, toEntry(st));
    if (before && !before.dir && before.ino >= 0 && before.ino !== st.ino) this.rewatch(rel);
    out.push({ path: rel, kind: before && !before.dir ? 'modified' : 'created' });
  }

  private rescan(out: Change[]): void {
    const fresh: Snapshot = new Map();
    scanTree(this.root, '', fresh, this.scanOptions());
    for (const [rel, e] of this.snapshot) {
      const now = fresh.get(rel);
      if (!now) out.push({ path: rel, kind: 'removed' });
      else if (!e.dir && changedSince(e, now)) out.push({ path: rel, kind: 'modified' });
    }
    for (const rel of fresh.keys()) if (!this.snapshot.has(rel)) out.push({ path: rel, kind: 'created' });
    this.snapshot = fresh;
  }
}
