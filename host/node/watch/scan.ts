/**
 * The tree scan every watcher backend shares: walks a directory tree (or a
 * subtree that just appeared), calls back for each directory *before* listing
 * it (so a backend can add its watch first and miss nothing created meanwhile),
 * and records sizes and mtimes so an overflow rescan can diff against them.
 *
 * Symlink loops cannot hang it: directories are identified (by dev:ino, or by
 * the backend's own identity, see {@link ScanOptions.identify}) and a directory
 * already seen is not entered again.
 */
import * as fs from 'node:fs';
import type { IgnoreMatcher } from './ignore.js';

/**
 * What the watcher remembers about one path. A scan with `statFiles: false`
 * does not stat plain files: such an entry has `size` -1 and `mtimeMs` set to
 * when it was listed (see {@link changedSince}).
 */
export interface SnapshotEntry {
  dir: boolean;
  /** Bytes, or -1 when not statted. */
  size: number;
  /** mtime, or (size -1) the time the entry was listed. */
  mtimeMs: number;
  /** Inode: a file replaced by a rename keeps its name but not its inode (-1 when not statted). */
  ino: number;
  /** ctime, when statted. */
  ctimeMs?: number;
}

/** Root-relative path → last known state. */
export type Snapshot = Map<string, SnapshotEntry>;

/** d_type values (dirent.h), the entry types a {@link DirLister} reports. */
export const DT_UNKNOWN = 0;
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;
/** Any other kind (FIFO, socket, device). */
const DT_OTHER = 1;

/**
 * Lists one directory: fills `names` and `types` (d_type values, never DT_UNKNOWN; `.` and `..`
 * left out) and returns undefined, or returns the error code ('EACCES', 'ENOENT', …).
 */
export interface DirLister {
  list(abs: string, names: string[], types: number[]): string | undefined;
}

/**
 * A directory's identity for loop and alias detection: `dev:ino` from a stat, or a number the
 * backend gives (the inotify backend: the watch descriptor, which the kernel returns again for the
 * same inode).
 */
export type DirKey = string | number;

/** The default {@link DirLister}: `fs.readdirSync` with file types. */
const readdirLister: DirLister = {
  list(abs, names, types) {
    names.length = 0;
    types.length = 0;
    let ds: fs.Dirent[];
    try {
      ds = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? String(err);
    }
    for (const d of ds) {
      names.push(d.name);
      types.push(d.isFile() ? DT_REG : d.isDirectory() ? DT_DIR : d.isSymbolicLink() ? DT_LNK : DT_OTHER);
    }
    return undefined;
  },
};

export interface ScanOptions {
  ignored: IgnoreMatcher;
  followSymlinks: boolean;
  /** Identity of every directory already entered (shared across scans of one watch, so loops and aliases are skipped). */
  seenDirs: Map<DirKey, string>;
  /** Called before a directory is listed (once it is known not to be seen yet); the backend adds its watch here. */
  beforeList?(abs: string, rel: string, key: DirKey): void;
  /**
   * Identifies a directory without a stat, before the seen check: the inotify backend adds the
   * watch here and returns its watch descriptor. undefined (e.g. the watch failed): the scan
   * stats the directory and uses dev:ino. With it, a directory's snapshot entry is not statted
   * (size -1, mtimeMs = listing time).
   */
  identify?(abs: string, rel: string): DirKey | undefined;
  /** How directories are listed (default {@link readdirLister}). */
  lister?: DirLister;
  /**
   * stat every file for size, mtime and inode (default true). `false` records
   * plain files unstatted (size -1, mtimeMs = listing time; see changedSince),
   * which halves the syscalls of a scan: the inotify backend's start uses it.
   */
  statFiles?: boolean;
  /** Called for each path found, after the snapshot was updated. */
  onEntry?(rel: string, entry: SnapshotEntry): void;
  /**
   * Called for a directory that could not be listed for lack of permission (EACCES, EPERM), instead
   * of a problem: a backend may retry it once it becomes readable.
   */
  onUnreadable?(rel: string, code: string): void;
  /**
   * Called for an entry the watch cannot address: a name that is not valid UTF-8 (Node's string
   * paths cannot name it) or a path longer than PATH_MAX. Without it, such entries are problems.
   */
  onUnaddressable?(rel: string, why: 'not-utf8' | 'too-long'): void;
}

export interface ScanResult {
  directories: number;
  files: number;
  /** Directories that could not be listed (EACCES, …), with the reason. */
  problems: string[];
}

/** Linux's PATH_MAX: longer paths fail every path-based call with ENAMETOOLONG. */
export const PATH_MAX = 4096;

/** `a/b` joined to `c` as a root-relative path. */
export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function toEntry(st: fs.Stats): SnapshotEntry {
  return { dir: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs };
}

/** The identity used for loop detection when the backend has none of its own. */
export function dirKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Scans `rootAbs/startRel` (the whole tree when `startRel` is ''), writing
 * every path found into `snapshot`. Synchronous on purpose: a few thousand
 * readdir calls finish faster without a round trip through the thread pool
 * per directory, and the caller needs the watches in place before it returns.
 *
 * @example
 * ```ts
 * const snap: Snapshot = new Map();
 * scanTree('/srv/p', '', snap, { ignored: compileIgnore([]), followSymlinks: false, seenDirs: new Map() });
 * ```
 */
export function scanTree(rootAbs: string, startRel: string, snapshot: Snapshot, options: ScanOptions): ScanResult {
  const result: ScanResult = { directories: 0, files: 0, problems: [] };
  const startAbs = startRel === '' ? rootAbs : `${rootAbs}/${startRel}`;
  const st = statPath(startAbs, true);
  if (!st?.isDirectory()) return result;
  new TreeWalk(snapshot, options, result).run(startAbs, startRel, st);
  return result;
}

/** A directory waiting to be entered, with its stat when the walk already has one. */
type Pending = [abs: string, rel: string, known: fs.Stats | undefined];

/**
 * One scan. Split into small methods on purpose: a walk runs once per watch, cold, so what it
 * costs is mostly the optimizing compiler's work on its hottest functions, which grows with their size.
 */
class TreeWalk {
  private readonly stack: Pending[] = [];
  // Directories reached through a symlink wait until every real one was entered, so a
  // directory is known by its real path, not by whichever alias the walk met first.
  private readonly viaLink: Pending[] = [];
  private readonly names: string[] = [];
  private readonly types: number[] = [];
  private readonly lister: DirLister;
  /** Below a directory that was not ignored, name-only patterns need only the entry's own name. */
  private readonly onlyNames: ReadonlySet<string> | undefined;
  private readonly unstattedFiles: boolean;
  /** The stat of the directory being entered, when the walk has one. */
  private dirStat: fs.Stats | undefined;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly options: ScanOptions,
    private readonly result: ScanResult,
  ) {
    this.lister = options.lister ?? readdirLister;
    this.onlyNames = options.ignored.onlyNames;
    this.unstattedFiles = options.statFiles === false;
  }

  run(startAbs: string, startRel: string, st: fs.Stats): void {
    this.stack.push([startAbs, startRel, st]);
    while (this.stack.length > 0 || this.viaLink.length > 0) this.step(this.stack.length > 0 ? this.stack.pop()! : this.viaLink.shift()!);
  }

  /**
   * One directory. The per-directory steps are small functions called in turn, so that only the
   * per-entry loops (parse, visit) get hot enough for the optimizing compiler, and each is
   * compiled once rather than again inlined into every caller.
   */
  private step(p: Pending): void {
    const listedAt = this.enter(p[0], p[1], p[2]);
    if (listedAt < 0) return;
    const code = this.lister.list(p[0], this.names, this.types);
    // The length of `abs` is read here, not in visit(): paths come as flat and as concatenated
    // strings, and a kind the optimized visit() has not seen yet would throw it back (a deopt, then a second compile).
    if (code === undefined) this.visit(p[0], p[1], listedAt, PATH_MAX / 3 - p[0].length);
    else this.listFailed(p[1], code);
  }

  /** Identifies and records one directory before it is listed; -1 when it is not to be listed. */
  private enter(abs: string, rel: string, known: fs.Stats | undefined): number {
    this.dirStat = known;
    const key = this.options.identify?.(abs, rel) ?? this.keyByStat(abs);
    if (key === undefined || this.options.seenDirs.has(key)) return -1; // gone, a loop, or a second path to a directory already entered
    this.options.seenDirs.set(key, rel);
    return this.record(abs, rel, key);
  }

  /** dev:ino, when the backend has no identity of its own (or none for this directory). */
  private keyByStat(abs: string): string | undefined {
    this.dirStat ??= statPath(abs, false);
    // Gone or replaced since it was listed: its parent's events tell.
    return this.dirStat?.isDirectory() ? dirKey(this.dirStat) : undefined;
  }

  private record(abs: string, rel: string, key: DirKey): number {
    const listedAt = Date.now();
    if (rel !== '') {
      const e: SnapshotEntry = this.dirStat ? toEntry(this.dirStat) : { dir: true, size: -1, mtimeMs: listedAt, ino: -1 };
      this.snapshot.set(rel, e);
      this.options.onEntry?.(rel, e);
    }
    this.options.beforeList?.(abs, rel, key);
    this.result.directories++;
    return listedAt;
  }

  private listFailed(rel: string, code: string): void {
    if ((code === 'EACCES' || code === 'EPERM') && this.options.onUnreadable) this.options.onUnreadable(rel, code);
    else if (code === 'ENAMETOOLONG') this.unaddressable(rel, 'too-long');
    else if (code !== 'ENOENT' && code !== 'ENOTDIR') this.result.problems.push(`${rel || '.'}: ${code}`);
  }

  /** The entries of the listing just made; `room`: PATH_MAX / 3 less the length of `abs` (see unnameable). */
  private visit(abs: string, rel: string, listedAt: number, room: number): void {
    const { names, types, onlyNames, snapshot } = this;
    const onEntry = this.options.onEntry;
    const stack = this.options.identify ? this.stack : undefined;
    // Made once per directory: `${rel}/${name}` per entry would allocate the `rel/` part every time.
    const prefix = rel === '' ? '' : `${rel}/`;
    // One shared entry for the unstatted files of this listing (entries are never mutated).
    let unstatted: SnapshotEntry | undefined;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const type = types[i]!;
      if (onlyNames ? onlyNames.has(name) : this.options.ignored(prefix + name)) continue;
      const childRel = prefix + name;
      if (name.length >= room || name.includes('\uFFFD')) {
        if (this.unnameable(abs, name, childRel)) continue;
      }
      if (this.unstattedFiles && (type === DT_REG || (type === DT_LNK && !this.options.followSymlinks))) {
        // No stat for a plain file: an overflow rescan judges it by its ctime
        // against the time it was listed (see changedSince).
        unstatted ??= { dir: false, size: -1, mtimeMs: listedAt, ino: -1 };
        snapshot.set(childRel, unstatted);
        onEntry?.(childRel, unstatted);
        this.result.files++;
      } else if (type === DT_DIR && stack) {
        stack.push([`${abs}/${name}`, childRel, undefined]); // identified (and its watch added) when entered
      } else {
        this.visitStatted(`${abs}/${name}`, childRel, type);
      }
    }
  }

  /** Whether an entry is reported as one no path can name (too long, or not UTF-8). */
  private unnameable(abs: string, name: string, childRel: string): boolean {
    if (abs.length + name.length >= PATH_MAX / 3 && Buffer.byteLength(`${abs}/${name}`) >= PATH_MAX) {
      this.unaddressable(childRel, 'too-long');
      return true;
    }
    // Bytes that are not UTF-8 decode to U+FFFD, and the decoded name then names nothing.
    if (name.includes('\uFFFD') && !statPath(`${abs}/${name}`, false)) {
      this.unaddressable(childRel, 'not-utf8');
      return true;
    }
    return false;
  }

  /** An entry whose kind or state needs a stat: a directory (without `identify`), a followed link, any other file. */
  private visitStatted(childAbs: string, childRel: string, type: number): void {
    const link = type === DT_LNK;
    let isDir = type === DT_DIR;
    let cst: fs.Stats | undefined;
    if (link && this.options.followSymlinks) {
      cst = statPath(childAbs, true);
      if (!cst) cst = statPath(childAbs, false); // dangling link: record the link itself
      isDir = cst?.isDirectory() ?? false;
    } else {
      cst = statPath(childAbs, false);
      isDir = cst?.isDirectory() ?? isDir;
    }
    if (!cst) return; // vanished meanwhile
    if (isDir) {
      (link ? this.viaLink : this.stack).push([childAbs, childRel, cst]);
    } else {
      const e = toEntry(cst);
      this.snapshot.set(childRel, e);
      this.options.onEntry?.(childRel, e);
      this.result.files++;
    }
  }

  private unaddressable(rel: string, why: 'not-utf8' | 'too-long'): void {
    if (this.options.onUnaddressable) this.options.onUnaddressable(rel, why);
    else this.result.problems.push(`${rel}: ${why === 'too-long' ? 'path longer than PATH_MAX' : 'name is not valid UTF-8'}`);
  }
}

/** stat (following links) or lstat; undefined when the path is gone. */
export function statPath(abs: string, follow: boolean): fs.Stats | undefined {
  try {
    return follow ? fs.statSync(abs) : fs.lstatSync(abs);
  } catch {
    return undefined;
  }
}

/**
 * Coarse kernel timestamps lag the wall clock by up to a tick; a change this
 * close before listing counts as after it (a spurious `modified` rather than a
 * missed one).
 */
const CTIME_SLACK_MS = 20;

/** Whether a file now described by `now` (a statted entry) differs from what `before` recorded. */
export function changedSince(before: SnapshotEntry, now: SnapshotEntry): boolean {
  if (before.dir !== now.dir) return true;
  if (before.size < 0) return (now.ctimeMs ?? Infinity) >= before.mtimeMs - CTIME_SLACK_MS;
  return now.size !== before.size || now.mtimeMs !== before.mtimeMs || now.ino !== before.ino;
}

/** Every snapshot key at or below `rel` (a file: just itself, without scanning the snapshot). */
export function entriesUnder(snapshot: Snapshot, rel: string): string[] {
  const e = snapshot.get(rel);
  if (e && !e.dir) return [rel];
  const prefix = `${rel}/`;
  const out: string[] = [];
  for (const k of snapshot.keys()) if (k === rel || k.startsWith(prefix)) out.push(k);
  return out;
}
