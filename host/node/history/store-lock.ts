/**
 * One daemon per store: `forge watch` holds an exclusive flock(2) on `<store>/daemon.lock` while it
 * runs. The kernel drops the lock when the process ends, however it ends (SIGKILL included), so a
 * leftover file never blocks a start, and a reused pid cannot be mistaken for a running daemon.
 * The file also holds the holder's pid, for messages and `forge doctor`.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ForgeError, toForgeError } from '../base/errors.js';
import { lockFileOf } from './store-files.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

type FlockFn = (fd: number, op: number) => number;
let flockFn: FlockFn | undefined;

/** flock(2) from libc through koffi (loaded on first use). */
function flock(): FlockFn {
  if (flockFn) return flockFn;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6');
    flockFn = libc.func('int flock(int fd, int operation)') as FlockFn;
    return flockFn;
  } catch (e) {
    throw new ForgeError('dependency', 'cannot lock the store: flock(2) is not reachable through koffi', {
      cause: e,
      context: { operation: 'lock store' },
      suggestions: ['Reinstall dependencies with `npm ci` (koffi).'],
    });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the daemon holding the lock of `storeDir`, if one does (tested with a non-blocking flock). */
export function runningDaemon(storeDir: string): number | undefined {
  const file = lockFileOf(storeDir);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const lock = flock();
    if (lock(fd, LOCK_EX | LOCK_NB) === 0) {
      lock(fd, LOCK_UN);
      return undefined;
    }
    return readPid(file) ?? -1;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `dir` and its missing parents one level at a time (0700). Node's recursive mkdir loops
 * forever under /proc (mkdir there fails in a way it takes for a race); this fails at once instead.
 */
export function makeDirs(dir: string): void {
  const parts = path.resolve(dir).split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    const p = parts.slice(0, i).join(path.sep) || path.sep;
    try {
      if (fs.statSync(p).isDirectory()) continue;
      throw new ForgeError('filesystem', `cannot create the store ${dir}: ${p} is not a directory`, {
        context: { file: p, operation: 'create store directory', code: 'ENOTDIR' },
        suggestions: ['Choose another --store (or FORGE_STORE_DIR) on a writable filesystem.'],
      });
    } catch (e) {
      if (e instanceof ForgeError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toForgeError(e, { file: p, operation: 'create store directory' });
    }
    try {
      fs.mkdirSync(p, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new ForgeError('filesystem', `cannot create the store directory ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
        cause: e,
        context: { file: p, operation: 'create store directory', code: (e as NodeJS.ErrnoException).code ?? 'EIO' },
        suggestions: ['Choose another --store (or FORGE_STORE_DIR) on a writable filesystem.'],
      });
    }
  }
}

/** Takes the store for this process (fails at once if another process holds it); returns the release function. */
export function lockStore(storeDir: string): () => void {
  const file = lockFileOf(storeDir);
  makeDirs(storeDir);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    throw toForgeError(e, { file, operation: 'lock store' });
  }
  const lock = flock();
  if (lock(fd, LOCK_EX | LOCK_NB) !== 0) {
    fs.closeSync(fd);
    const other = readPid(file);
    throw new ForgeError('filesystem', `another forge watch${other ? ` (pid ${other})` : ''} is already recording into ${storeDir}`, {
      context: { file, operation: 'lock store', ...(other ? { pid: other } : {}) },
      suggestions: [`Stop it first${other ? ` (kill ${other})` : ''}, or give this one its own store with --store <dir>.`],
    });
  }
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
  } catch {
    /* the pid is for messages only (a full disk must not stop the lock): the flock is what counts */
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      fs.ftruncateSync(fd, 0);
      lock(fd, LOCK_UN);
    } finally {
      fs.closeSync(fd);
    }
  };
}
