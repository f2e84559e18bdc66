/**
 * The tree scan every watcher backend shares: walks a directory tree (or a
 * subtree that just appeared), calls back for each directory *before* listing
 * it (so a backend can add its watch first and miss nothing created meanwhile),
 * and records sizes and mtimes so an overflow rescan can diff against them.
 *
 * Symlink loops cannot hang it: directories are identified by dev:ino and a
 * directory already seen is not entered again.
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

export interface ScanOptions {
  ignored: IgnoreMatcher;
  followSymlinks: boolean;
  /** dev:ino of every directory already entered (shared across scans of one watch, so loops and aliases are skipped). */
  seenDirs: Map<string, string>;
  /** Called before a directory is listed; the backend adds its watch here. */
  beforeList?(abs: string, rel: string, key: string): void;
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

/** The identity used for loop detection. */
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
  // Below a directory that was not ignored, name-only patterns need only the entry's own name.
  const onlyNames = options.ignored.onlyNames;
  const startAbs = startRel === '' ? rootAbs : `${rootAbs}/${startRel}`;
  const st = statPath(startAbs, true);
  if (!st || !st.isDirectory()) return result;
  const unaddressable = (rel: string, why: 'not-utf8' | 'too-long'): void => {
    if (options.onUnaddressable) options.onUnaddressable(rel, why);
    else result.problems.push(`${rel}: ${why === 'too-long' ? 'path longer than PATH_MAX' : 'name is not valid UTF-8'}`);
  };
  const stack: Array<[string, string, fs.Stats]> = [[startAbs, startRel, st]];
  // Directories reached through a symlink wait until every real one was entered, so a
  // directory is known by its real path, not by whichever alias the walk met first.
  const viaLink: Array<[string, string, fs.Stats]> = [];
  while (stack.length > 0 || viaLink.length > 0) {
    const [abs, rel, dst] = stack.length > 0 ? stack.pop()! : viaLink.shift()!;
    const key = dirKey(dst);
    if (options.seenDirs.has(key)) continue; // a loop, or a second link to a directory already watched
    options.seenDirs.set(key, rel);
    if (rel !== '') {
      const e = toEntry(dst);
      snapshot.set(rel, e);
      options.onEntry?.(rel, e);
    }
    options.beforeList?.(abs, rel, key);
    result.directories++;
    let names: fs.Dirent[];
    const listedAt = Date.now();
    try {
      names = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'EACCES' || code === 'EPERM') && options.onUnreadable) options.onUnreadable(rel, code);
      else if (code === 'ENAMETOOLONG') unaddressable(rel, 'too-long');
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') result.problems.push(`${rel || '.'}: ${code ?? String(err)}`);
      continue;
    }
    // One shared entry for the unstatted files of this listing (entries are never mutated).
    let unstatted: SnapshotEntry | undefined;
    for (const d of names) {
      const name = d.name;
      if (onlyNames ? onlyNames.has(name) : options.ignored(joinRel(rel, name))) continue;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (abs.length + name.length >= PATH_MAX / 3 && Buffer.byteLength(`${abs}/${name}`) >= PATH_MAX) {
        unaddressable(childRel, 'too-long');
        continue;
      }
      // Bytes that are not UTF-8 decode to U+FFFD, and the decoded name then names nothing.
      if (name.includes('\uFFFD') && !statPath(`${abs}/${name}`, false)) {
        unaddressable(childRel, 'not-utf8');
        continue;
      }
      const link = d.isSymbolicLink();
      if (options.statFiles === false && (d.isFile() || (link && !options.followSymlinks))) {
        // No stat for a plain file: an overflow rescan judges it by its ctime
        // against the time it was listed (see changedSince).
        unstatted ??= { dir: false, size: -1, mtimeMs: listedAt, ino: -1 };
        snapshot.set(childRel, unstatted);
        options.onEntry?.(childRel, unstatted);
        result.files++;
        continue;
      }
      const childAbs = `${abs}/${name}`;
      let isDir = d.isDirectory();
      let cst: fs.Stats | undefined;
      if (link && options.followSymlinks) {
        cst = statPath(childAbs, true);
        if (!cst) cst = statPath(childAbs, false); // dangling link: record the link itself
        isDir = cst?.isDirectory() ?? false;
      } else {
        cst = statPath(childAbs, false);
        isDir = cst?.isDirectory() ?? isDir;
      }
      if (!cst) continue; // vanished meanwhile
      if (isDir) {
        (link ? viaLink : stack).push([childAbs, childRel, cst]);
      } else {
        const e = toEntry(cst);
        snapshot.set(childRel, e);
        options.onEntry?.(childRel, e);
        result.files++;
      }
    }
  }
  return result;
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
