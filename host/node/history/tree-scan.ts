/**
 * The initial scan: walks the tree (respecting ignores, never entering the
 * store), and hands the files to the recorder in batches sized by count and
 * bytes, so memory stays bounded however large the tree is.
 */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileIdentity } from '../base/platform-io.js';
import { compileIgnore, type IgnoreMatcher } from '../watch/ignore.js';
import { isForgeTempName } from './housekeeping.js';
import ignore, { type Ignore } from 'ignore';

/** One regular file of the tree, as lstat saw it. */
export interface FileFacts {
  /** Root-relative, `/`-separated. */
  path: string;
  abs: string;
  size: number;
  mode: number;
  mtimeMs: number;
  /** Inode number, decimal (may exceed 2^53). */
  ino: string;
  /** Device number, decimal: with `ino`, the identity a safe read must find again. */
  dev: string;
}

export interface WalkOptions {
  /** Extra ignore patterns (the watcher's defaults — node_modules, .git, .forge — always apply unless negated). */
  ignore?: ReadonlyArray<string | RegExp>;
  /** The store directory, skipped wherever it is inside the tree. */
  storeDir?: string;
}

export interface WalkResult {
  files: FileFacts[];
  directories: number;
  /** Symlinks, sockets, FIFOs and devices: not recorded (see README.md, "The `forge` command"). */
  skipped: number;
  /** Entries that could not be read (EACCES, …), or names that cannot be recorded, with the reason. */
  problems: string[];
  /** Forge's own restore temps met on the way (never recorded; the daemon cleans old ones). */
  forgeTemps: string[];
  totalBytes: number;
}

/** Files in the tree whose lines are ignore patterns for their directory and below (gitignore syntax). */
export const IGNORE_FILES: readonly string[] = ['.gitignore', '.forgeignore'];

/** A tree-ignore matcher that the walk can tell which directories hold no ignore file (it listed them). */
interface TreeIgnore {
  (relPath: string): boolean;
  /** The walk listed `dir` and saw whether it holds an ignore file: no read is tried where there is none. */
  listed(dir: string, hasIgnoreFile: boolean): void;
}

/**
 * The tree's own ignore files: `.gitignore` and `.forgeignore` in any directory apply to that
 * directory and below, as git applies them (a deeper file's `!pattern` re-includes). Read once per
 * directory and cached for the matcher's life (a restart reads edits).
 */
function treeIgnoreFiles(root: string): TreeIgnore {
  const cache = new Map<string, (() => Ignore) | null>();
  const load = (dir: string): (() => Ignore) | null => {
    let ig = cache.get(dir);
    if (ig !== undefined) return ig;
    const texts: string[] = [];
    for (const name of IGNORE_FILES) {
      try {
        texts.push(fs.readFileSync(path.join(root, dir, name), 'utf8'));
      } catch {
        /* absent */
      }
    }
    // One add() per file: a string is split into lines, an array's elements would each be one pattern.
    ig = texts.length === 0 ? null : freshEvery(() => texts.reduce((acc, t) => acc.add(t), ignore()));
    cache.set(dir, ig);
    return ig;
  };
  // The verdict of the ignore files on one path (a directory when `isDir`), the deepest file deciding.
  const verdict = (parts: readonly string[], isDir: boolean): boolean => {
    let ignored = false;
    let dir = '';
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) dir = i === 1 ? parts[0]! : `${dir}/${parts[i - 1]!}`;
      const ig = load(dir);
      if (!ig) continue;
      const t = ig().test(parts.slice(i).join('/') + (isDir ? '/' : ''));
      if (t.ignored) ignored = true;
      else if (t.unignored) ignored = false;
    }
    return ignored;
  };
  // As git: nothing below an excluded directory can be re-included, whatever a deeper file says.
  const dirs = new Map<string, boolean>();
  const dirIgnored = (parts: readonly string[]): boolean => {
    const key = parts.join('/');
    let v = dirs.get(key);
    if (v === undefined) {
      v = (parts.length > 1 && dirIgnored(parts.slice(0, -1))) || verdict(parts, true);
      dirs.set(key, v);
    }
    return v;
  };
  const test = ((relPath: string) => {
    const parts = relPath.split('/');
    if (parts.length > 1 && dirIgnored(parts.slice(0, -1))) return true;
    return verdict(parts, false);
  }) as TreeIgnore;
  test.listed = (dir, hasIgnoreFile) => {
    if (!hasIgnoreFile && !cache.has(dir)) cache.set(dir, null);
  };
  return test;
}

/** The ignore matcher the daemon uses everywhere: patterns, the tree's .gitignore/.forgeignore files, and the store directory. */
export function daemonIgnore(root: string, options: WalkOptions): IgnoreMatcher {
  return walkIgnore(root, options).ignored;
}

/**
 * Uses of an `ignore` matcher before it is made afresh. The package caches a result for every
 * path it is asked about (and each of its parent directories), for the matcher's life: a walk
 * asks about every file, so that cache held the whole tree (about 150 bytes a file, the largest
 * part of the scan's per-file memory). Remade every this many uses, it holds at most this many
 * paths (times their depth), and a rebuild (compiling the patterns again) is paid once per
 * this many paths.
 */
export const IGNORE_CACHE_PATHS = 8192;

/** A getter for `make()`'s value, made again after every {@link IGNORE_CACHE_PATHS} gets (see there). */
function freshEvery<T>(make: () => T, uses = IGNORE_CACHE_PATHS): () => T {
  let value = make();
  let n = 0;
  return () => {
    if (++n > uses) {
      value = make();
      n = 1;
    }
    return value;
  };
}

/** The configured patterns as a matcher whose memory does not grow with the tree (see {@link IGNORE_CACHE_PATHS}). */
function patternMatcher(patterns: ReadonlyArray<string | RegExp> | undefined): IgnoreMatcher {
  const current = freshEvery(() => compileIgnore(patterns));
  return (p: string) => current()(p);
}

function walkIgnore(root: string, options: WalkOptions): { ignored: IgnoreMatcher; listed: TreeIgnore['listed'] } {
  const patterns = patternMatcher(options.ignore ? [...options.ignore] : undefined);
  const fromTree = treeIgnoreFiles(root);
  const base: IgnoreMatcher = (p: string) => p !== '' && (patterns(p) || fromTree(p));
  const listed = fromTree.listed;
  if (options.storeDir === undefined) return { ignored: base, listed };
  const rel = path.relative(root, options.storeDir).split(path.sep).join('/');
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return { ignored: base, listed };
  return { ignored: (p: string) => p === rel || p.startsWith(rel + '/') || base(p), listed };
}

/** Facts of one file from its lstat. */
export function factsOf(treePath: string, abs: string, st: fs.BigIntStats): FileFacts {
  return {
    path: treePath,
    abs,
    size: Number(st.size),
    mode: Number(st.mode),
    // Nanosecond precision where available, so a rewrite within the same millisecond still differs.
    mtimeMs: typeof st.mtimeNs === 'bigint' ? Number(st.mtimeNs) / 1e6 : Number(st.mtimeMs),
    ino: String(st.ino),
    dev: String(st.dev),
  };
}

/** What a walk met besides the files it yielded; filled in as the walk goes. */
export interface WalkStats {
  files: number;
  directories: number;
  /** Symlinks, sockets, FIFOs and devices: not recorded (see README.md, "The `forge` command"). */
  skipped: number;
  /** Entries that could not be read (EACCES, …), or names that cannot be recorded, with the reason. */
  problems: string[];
  /** Forge's own restore temps met on the way (never recorded; the daemon cleans old ones). */
  forgeTemps: string[];
  totalBytes: number;
}

export function emptyWalkStats(): WalkStats {
  return { files: 0, directories: 0, skipped: 0, problems: [], forgeTemps: [], totalBytes: 0 };
}

/** Files per batch a streamed walk yields by default. */
export const WALK_BATCH_FILES = 1024;

/** A regular file (by its directory entry) the walk has still to lstat. */
interface Candidate {
  path: string;
  abs: string;
}

/**
 * lstat of many paths at once, one result per path in order: the identity, or a negative errno
 * (the io_uring backend's `lstatMany`: one ring submission per window instead of a syscall per file).
 */
export type LstatMany = (paths: readonly string[]) => Promise<Array<FileIdentity | number>>;

const ERRNO_NAME = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));

/** Lists the tree (the part of the walk that reads directories), yielding batches of regular-file entries to lstat. */
function* walkCandidates(root: string, options: WalkOptions, stats: WalkStats, startRel: string, batchFiles: number): Generator<Candidate[]> {
  const { ignored, listed } = walkIgnore(root, options);
  const max = Math.max(1, batchFiles);
  let out: Candidate[] = [];
  const stack: string[] = [startRel];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const absDir = rel === '' ? root : path.join(root, rel);
    let entries: Array<fs.Dirent<Buffer>>;
    try {
      // One listing, names as bytes: the types for the walk, the bytes to find names that are not UTF-8.
      entries = fs.readdirSync(absDir, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') stats.problems.push(`${rel || '.'}: ${code ?? String(e)}`);
      continue;
    }
    stats.directories++;
    let hasIgnoreFile = false;
    const names: string[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const b = entries[i]!.name;
      const name = b.toString('utf8');
      // A name that is not valid UTF-8 would be recorded under a mangled name (U+FFFD), and could
      // not be read back by it: each is reported, never silently dropped.
      if (name.includes('\uFFFD') && !Buffer.from(name, 'utf8').equals(b)) {
        stats.problems.push(`${rel ? rel + '/' : ''}${name}: name is not valid UTF-8 (bytes ${b.toString('hex')}); not recorded`);
        continue;
      }
      names[i] = name;
      if (IGNORE_FILES.includes(name)) hasIgnoreFile = true;
    }
    listed(rel, hasIgnoreFile);
    for (let i = 0; i < entries.length; i++) {
      const name = names[i];
      if (name === undefined) continue; // reported above
      const d = entries[i]!;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (isForgeTempName(name)) {
        stats.forgeTemps.push(path.join(absDir, name));
        continue;
      }
      if (ignored(childRel)) continue;
      if (d.isDirectory()) {
        stack.push(childRel);
        continue;
      }
      if (!d.isFile()) {
        stats.skipped++;
        continue;
      }
      out.push({ path: childRel, abs: path.join(absDir, name) });
      if (out.length >= max) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}

/** Adds one lstat'ed candidate to `out` (a regular file), or counts it (skipped, gone, a problem). */
function take(c: Candidate, facts: FileFacts | string | undefined, stats: WalkStats, out: FileFacts[]): void {
  if (facts === undefined) stats.skipped++;
  else if (typeof facts === 'string') {
    if (facts !== 'ENOENT') stats.problems.push(`${c.path}: ${facts}`);
  } else {
    out.push(facts);
    stats.files++;
    stats.totalBytes += facts.size;
  }
}

/** Facts of one file from a ring statx identity (the same values {@link factsOf} takes from lstat). */
export function factsOfIdentity(treePath: string, abs: string, id: FileIdentity): FileFacts {
  return { path: treePath, abs, size: Number(id.size), mode: id.mode, mtimeMs: Number(id.mtimeNs) / 1e6, ino: String(id.ino), dev: String(id.dev) };
}

/**
 * Streams every regular file under `root` that is not ignored, depth first, in batches of at most
 * `batchFiles` files, so that a caller that records each batch before asking for the next holds
 * one batch at a time however large the tree is (the walk itself keeps only the directories still
 * to visit). `stats` is filled in as the walk goes. `startRel` walks only that subtree (paths stay
 * root-relative). Symbolic links are not followed (a link out of the tree must not pull foreign
 * files into its history).
 *
 * @example
 * ```ts
 * const stats = emptyWalkStats();
 * for (const batch of walkBatches('/srv/project', { storeDir: '/srv/project/.forge' }, stats)) console.log(batch.length);
 * console.log(stats.files, stats.directories);
 * ```
 */
export function* walkBatches(root: string, options: WalkOptions, stats: WalkStats, startRel = '', batchFiles = WALK_BATCH_FILES): Generator<FileFacts[]> {
  for (const cands of walkCandidates(root, options, stats, startRel, batchFiles)) {
    const out: FileFacts[] = [];
    for (const c of cands) {
      let facts: FileFacts | string | undefined;
      try {
        const st = fs.lstatSync(c.abs, { bigint: true });
        facts = st.isFile() ? factsOf(c.path, c.abs, st) : undefined;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        facts = code ?? String(e);
      }
      take(c, facts, stats, out);
    }
    if (out.length > 0) yield out;
  }
}

/**
 * {@link walkBatches} with each batch's lstat done by `lstatMany` (the io_uring backend's ring
 * STATX: one submission per window of files instead of one syscall each). Same files, same facts,
 * same stats.
 *
 * @example
 * ```ts
 * const stats = emptyWalkStats();
 * for await (const batch of walkBatchesWith(io.lstatMany.bind(io), '/srv/project', {}, stats)) console.log(batch.length);
 * ```
 */
export async function* walkBatchesWith(
  lstatMany: LstatMany,
  root: string,
  options: WalkOptions,
  stats: WalkStats,
  startRel = '',
  batchFiles = WALK_BATCH_FILES,
): AsyncGenerator<FileFacts[]> {
  for (const cands of walkCandidates(root, options, stats, startRel, batchFiles)) {
    const got = await lstatMany(cands.map((c) => c.abs));
    const out: FileFacts[] = [];
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i]!;
      const r = got[i]!;
      const facts =
        typeof r === 'number' ? (ERRNO_NAME.get(-r) ?? `errno ${-r}`) : (r.mode & 0o170000) === 0o100000 ? factsOfIdentity(c.path, c.abs, r) : undefined;
      take(c, facts, stats, out);
    }
    if (out.length > 0) yield out;
  }
}

/**
 * Lists every regular file under `root` that is not ignored (all at once: for subtrees; the scan
 * streams with {@link walkBatches}).
 *
 * @example
 * ```ts
 * const { files, directories } = walkTree('/srv/project', { storeDir: '/srv/project/.forge' });
 * ```
 */
export function walkTree(root: string, options: WalkOptions = {}, startRel = ''): WalkResult {
  const stats = emptyWalkStats();
  const files: FileFacts[] = [];
  for (const batch of walkBatches(root, options, stats, startRel)) for (const f of batch) files.push(f);
  return {
    files,
    directories: stats.directories,
    skipped: stats.skipped,
    problems: stats.problems,
    forgeTemps: stats.forgeTemps,
    totalBytes: stats.totalBytes,
  };
}

/** Counts the directories a watcher would watch (for `forge doctor`), stopping at `limit`. */
export function countDirectories(root: string, options: WalkOptions = {}, limit = 10_000_000): number {
  const ignored = daemonIgnore(root, options);
  let n = 0;
  const stack: string[] = [''];
  while (stack.length > 0 && n < limit) {
    const rel = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(rel === '' ? root : path.join(root, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    n++;
    for (const d of entries) {
      if (!d.isDirectory()) continue;
      const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
      if (!ignored(childRel)) stack.push(childRel);
    }
  }
  return n;
}

/** Splits items (an async or sync iterable, consumed lazily) into batches of at most `maxFiles` items and about `maxBytes` bytes (`sizeOf` each). */
export async function* batchesAsync<T>(
  items: AsyncIterable<T> | Iterable<T>,
  maxFiles: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): AsyncGenerator<T[]> {
  let cur: T[] = [];
  let bytes = 0;
  for await (const f of items) {
    const size = sizeOf(f);
    if (cur.length > 0 && (cur.length >= maxFiles || bytes + size > maxBytes)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += size;
  }
  if (cur.length > 0) yield cur;
}
