/**
 * The initial scan: walks the tree (respecting ignores, never entering the
 * store), and hands the files to the recorder in batches sized by count and
 * bytes, so memory stays bounded however large the tree is.
 */
import * as fs from 'node:fs';
import path from 'node:path';
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

/**
 * The tree's own ignore files: `.gitignore` and `.forgeignore` in any directory apply to that
 * directory and below, as git applies them (a deeper file's `!pattern` re-includes). Read once per
 * directory and cached for the matcher's life (a restart reads edits).
 */
function treeIgnoreFiles(root: string): (relPath: string) => boolean {
  const cache = new Map<string, Ignore | null>();
  const load = (dir: string): Ignore | null => {
    let ig = cache.get(dir);
    if (ig !== undefined) return ig;
    ig = null;
    for (const name of IGNORE_FILES) {
      try {
        const text = fs.readFileSync(path.join(root, dir, name), 'utf8');
        ig ??= ignore();
        ig.add(text);
      } catch {
        /* absent */
      }
    }
    cache.set(dir, ig);
    return ig;
  };
  // The verdict of the ignore files on one path (a directory when `isDir`), the deepest file deciding.
  const verdict = (parts: readonly string[], isDir: boolean): boolean => {
    let ignored = false;
    for (let i = 0; i < parts.length; i++) {
      const ig = load(parts.slice(0, i).join('/'));
      if (!ig) continue;
      const t = ig.test(parts.slice(i).join('/') + (isDir ? '/' : ''));
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
  return (relPath) => {
    const parts = relPath.split('/');
    if (parts.length > 1 && dirIgnored(parts.slice(0, -1))) return true;
    return verdict(parts, false);
  };
}

/** The ignore matcher the daemon uses everywhere: patterns, the tree's .gitignore/.forgeignore files, and the store directory. */
export function daemonIgnore(root: string, options: WalkOptions): IgnoreMatcher {
  const patterns = compileIgnore(options.ignore ? [...options.ignore] : undefined);
  const fromTree = treeIgnoreFiles(root);
  const base: IgnoreMatcher = (p: string) => p !== '' && (patterns(p) || fromTree(p));
  if (options.storeDir === undefined) return base;
  const rel = path.relative(root, options.storeDir).split(path.sep).join('/');
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return base;
  return (p: string) => p === rel || p.startsWith(rel + '/') || base(p);
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

/**
 * Lists every regular file under `root` that is not ignored, depth first.
 * `startRel` walks only that subtree (paths stay root-relative).
 * Symbolic links are not followed (a link out of the tree must not pull
 * foreign files into its history).
 *
 * @example
 * ```ts
 * const { files, directories } = walkTree('/srv/project', { storeDir: '/srv/project/.forge' });
 * ```
 */
export function walkTree(root: string, options: WalkOptions = {}, startRel = ''): WalkResult {
  const ignored = daemonIgnore(root, options);
  const out: WalkResult = { files: [], directories: 0, skipped: 0, problems: [], forgeTemps: [], totalBytes: 0 };
  const stack: string[] = [startRel];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const absDir = rel === '' ? root : path.join(root, rel);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(absDir, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') out.problems.push(`${rel || '.'}: ${code ?? String(e)}`);
      continue;
    }
    out.directories++;
    // Names that are not valid UTF-8 would be recorded under a mangled name (U+FFFD), and could not
    // be read back by it: each is reported, never silently dropped.
    const badNames = new Set<string>();
    let raw: Buffer[] = [];
    try {
      raw = fs.readdirSync(absDir, { encoding: 'buffer' });
    } catch {
      /* vanished since: its entries are skipped below as they fail */
    }
    if (raw.length === entries.length) {
      for (const b of raw) {
        if (Buffer.from(b.toString('utf8'), 'utf8').equals(b)) continue;
        badNames.add(b.toString('utf8'));
        out.problems.push(`${rel ? rel + '/' : ''}${b.toString('utf8')}: name is not valid UTF-8 (bytes ${b.toString('hex')}); not recorded`);
      }
    }
    for (const d of entries) {
      const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
      if (badNames.has(d.name)) continue; // reported above
      if (isForgeTempName(d.name)) {
        out.forgeTemps.push(path.join(absDir, d.name));
        continue;
      }
      if (ignored(childRel)) continue;
      if (d.isDirectory()) {
        stack.push(childRel);
        continue;
      }
      if (!d.isFile()) {
        out.skipped++;
        continue;
      }
      const abs = path.join(absDir, d.name);
      try {
        const st = fs.lstatSync(abs, { bigint: true });
        if (!st.isFile()) {
          out.skipped++;
          continue;
        }
        const f = factsOf(childRel, abs, st);
        out.files.push(f);
        out.totalBytes += f.size;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') out.problems.push(`${childRel}: ${code ?? String(e)}`);
      }
    }
  }
  return out;
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

/** Splits files into batches of at most `maxFiles` files and about `maxBytes` bytes. */
export function* batches(files: readonly FileFacts[], maxFiles: number, maxBytes: number): Generator<FileFacts[]> {
  let cur: FileFacts[] = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length > 0 && (cur.length >= maxFiles || bytes + f.size > maxBytes)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length > 0) yield cur;
}
