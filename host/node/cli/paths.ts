/**
 * Where the tree and the store are, and the checks that keep a path inside
 * the tree: `..`, absolute paths outside the root, and symlinks pointing out
 * of it are refused with a ForgeError before anything is read or written.
 */
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';
import type { CommandContext } from './command.js';

/** The name of the store directory inside a watched tree. */
export const STORE_DIR_NAME = '.forge';

export interface Location {
  /** Absolute path of the watched tree. */
  root: string;
  /** Absolute path of the store directory. */
  storeDir: string;
}

/**
 * Finds the tree and the store: `--root` (else the nearest ancestor of the
 * current directory that holds `.forge/`, else the current directory) and
 * `--store` (else `<root>/.forge`).
 */
export function locate(ctx: Pick<CommandContext, 'values' | 'cwd'>): Location {
  const rootOpt = ctx.values['root'];
  const storeOpt = ctx.values['store'];
  let root: string;
  if (typeof rootOpt === 'string') root = path.resolve(ctx.cwd, rootOpt);
  else {
    root = path.resolve(ctx.cwd);
    for (let dir = root; ; ) {
      if (existsSync(path.join(dir, STORE_DIR_NAME))) {
        root = dir;
        break;
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  const storeDir = typeof storeOpt === 'string' ? path.resolve(ctx.cwd, storeOpt) : path.join(root, STORE_DIR_NAME);
  return { root, storeDir };
}

/** Throws unless a store exists at `storeDir`. */
export function requireStore(loc: Location): void {
  let ok = false;
  try {
    ok = statSync(loc.storeDir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ForgeError('filesystem', `no Forge store at ${loc.storeDir}`, {
      context: { file: loc.storeDir, operation: 'open store', code: 'ENOENT' },
      suggestions: [`Start one with \`forge watch ${loc.root}\`, or point at an existing one with --root <dir> or --store <dir>.`],
    });
  }
}

function escapeError(userPath: string, root: string, why: string): ForgeError {
  return new ForgeError('validation', `refusing ${JSON.stringify(userPath)}: ${why}`, {
    context: { file: userPath, operation: 'resolve path', root, code: 'ERR_PATH_ESCAPE' },
    suggestions: [`Give a path inside the watched tree ${root} (relative to the current directory, or absolute).`],
  });
}

/**
 * The `/`-separated path of `userPath` relative to `root`, checked lexically:
 * `..` that climbs out of the root and absolute paths elsewhere are refused.
 */
export function toTreePath(root: string, cwd: string, userPath: string): string {
  if (userPath.length === 0) throw escapeError(userPath, root, 'the path is empty');
  if (userPath.includes('\0')) throw escapeError(userPath, root, 'the path contains a NUL byte');
  const abs = path.resolve(cwd, userPath);
  const rel = path.relative(root, abs);
  if (rel === '') throw escapeError(userPath, root, 'it is the root of the tree, not a file in it');
  if (rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    throw escapeError(userPath, root, `it is outside the watched tree ${root}`);
  }
  const tp = rel.split(path.sep).join('/');
  if (tp === STORE_DIR_NAME || tp.startsWith(STORE_DIR_NAME + '/')) throw escapeError(userPath, root, 'it is inside the store directory');
  return tp;
}

/**
 * Checks that writing `treePath` under `root` stays inside the real tree:
 * no directory on the way and not the file itself is a symlink that leads
 * outside `root`, and the file itself is not a symlink at all (restoring
 * through a link would write wherever it points).
 */
export function assertWritableInsideTree(root: string, treePath: string): string {
  const realRoot = realpathSync(root);
  const abs = path.join(root, ...treePath.split('/'));
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isSymbolicLink()) {
    let target = '?';
    try {
      target = realpathSync(abs);
    } catch {
      /* dangling */
    }
    const inside = target !== '?' && (target === realRoot || target.startsWith(realRoot + path.sep));
    throw escapeError(
      treePath,
      root,
      inside ? `it is a symbolic link (to ${target}); restore the file it points to instead` : `it is a symbolic link pointing outside the tree (to ${target})`,
    );
  }
  if (st?.isDirectory()) throw escapeError(treePath, root, 'it is a directory');
  // The deepest existing ancestor must resolve inside the real root.
  let dir = path.dirname(abs);
  while (!existsSync(dir)) dir = path.dirname(dir);
  const realDir = realpathSync(dir);
  if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) {
    throw escapeError(treePath, root, `a directory on the way is a symbolic link leading outside the tree (to ${realDir})`);
  }
  return abs;
}

/** The real path of `abs`, resolving what exists of it (its deepest existing ancestor) and appending the rest. */
export function realPathOfMaybeMissing(abs: string): string {
  let dir = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(dir), ...rest.reverse());
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return abs;
      rest.push(path.basename(dir));
      dir = up;
    }
  }
}

/**
 * Refuses a destination inside the store, at any depth and through any symbolic link on the way
 * (`d2 -> .forge`, `--to .forge/index.db`): a restore never writes into the history it reads from.
 */
export function assertOutsideStore(dest: string, storeDir: string, shownAs: string): void {
  const realStore = realPathOfMaybeMissing(path.resolve(storeDir));
  // The destination's parent resolved, plus its own name: a symlink as the last component is refused elsewhere.
  const real = path.join(realPathOfMaybeMissing(path.dirname(path.resolve(dest))), path.basename(dest));
  if (real === realStore || real.startsWith(realStore + path.sep)) {
    throw new ForgeError('validation', `refusing ${JSON.stringify(shownAs)}: it is inside the store directory ${storeDir}`, {
      context: { file: real, operation: 'restore', code: 'ERR_PATH_IN_STORE' },
      suggestions: ['Restore into the tree or to a path outside the store; the store is written only by Forge itself.'],
    });
  }
}

/**
 * Refuses to replace an existing destination that is not a regular file (a FIFO, device, socket,
 * directory or symbolic link), whatever `--force` says: replacing one would change what it is.
 */
export function assertReplaceable(dest: string, shownAs: string): void {
  let st;
  try {
    st = lstatSync(dest);
  } catch {
    return;
  }
  if (st.isFile()) return;
  const what = st.isSymbolicLink()
    ? 'a symbolic link'
    : st.isDirectory()
      ? 'a directory'
      : st.isFIFO()
        ? 'a FIFO'
        : st.isSocket()
          ? 'a socket'
          : st.isCharacterDevice() || st.isBlockDevice()
            ? 'a device node'
            : 'not a regular file';
  throw new ForgeError('validation', `refusing to replace ${JSON.stringify(shownAs)}: it is ${what}, not a regular file`, {
    context: { file: dest, operation: 'restore', code: 'ENOTREG' },
    suggestions: ['Remove it yourself if it should be replaced, or choose another destination with --to <dest>.'],
  });
}
