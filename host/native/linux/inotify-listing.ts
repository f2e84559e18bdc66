/**
 * Directory listing for the inotify watcher's scan: getdents64(2) through koffi into one reused
 * buffer, parsed here. Against `fs.readdirSync(dir, { withFileTypes: true })` it skips libuv's
 * per-entry allocations and sort and Node's Dirent objects: names and types land in two arrays the
 * scan reuses for every directory.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { ForgeError } from '../../node/base/errors.js';
import { DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, type DirLister } from '../../node/watch/scan.js';
import { errnoName } from './inotify.js';

// open(2) flags (x86_64 and arm64 share these values).
const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const OPEN_FLAGS = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

/** struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the NUL-terminated name. */
const RECLEN_AT = 16;
const TYPE_AT = 18;
const NAME_AT = 19;

/** Bytes per getdents64 call: a directory of ~1,500 short names in one call. */
const DIRENT_BUFFER = 64 * 1024;

interface ListingBindings {
  open(path: string, flags: number): number;
  getdents(fd: number, buf: Buffer, n: number): number;
  close(fd: number): number;
}

let bindings: ListingBindings | undefined;

function listingBindings(): ListingBindings {
  if (bindings) return bindings;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (cause) {
    throw new ForgeError('dependency', 'koffi could not be loaded, so getdents64 is unavailable', {
      cause,
      context: { operation: 'watch', code: 'ERR_DLOPEN_FAILED' },
    });
  }
  const libc = koffi.load('libc.so.6');
  // FFI edge: `open` is variadic in C; without O_CREAT the mode is never read, so two fixed
  // parameters are the same call on x86-64 and aarch64.
  const open = libc.func('int open(const char *path, int flags)');
  const getdents = libc.func('long getdents64(int fd, void *buf, size_t n)');
  const close = libc.func('int close(int fd)');
  const withErrno = (r: number): number => (r < 0 ? -koffi.errno() : r);
  bindings = {
    open: (p, flags) => withErrno(open(p, flags) as number),
    getdents: (fd, buf, n) => withErrno(Number(getdents(fd, buf, n))),
    close: (fd) => withErrno(close(fd) as number),
  };
  return bindings;
}

/** d_type from an lstat, for filesystems that report DT_UNKNOWN; undefined when the entry is gone. */
function typeByLstat(abs: string): number | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(abs);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return DT_DIR;
  if (st.isFile()) return DT_REG;
  if (st.isSymbolicLink()) return DT_LNK;
  return 1; // DT_FIFO: any other kind; the scan lstats it anyway
}

/**
 * Buffer's own UTF-8 decoder, where `toString('utf8', start, end)` ends up. Called directly: the
 * generic `toString` makes the optimized parse loop several times larger to compile, and a watch's
 * scan runs once, cold, so that compile is most of its cost.
 */
type Utf8Sliceable = Buffer & { utf8Slice(start: number, end: number): string };
const utf8Slice = typeof (Buffer.prototype as Partial<Utf8Sliceable>).utf8Slice === 'function';

/**
 * Appends the entries of `buf[0, n)` (getdents64 records) to `names` and `types`, leaving out `.`
 * and `..`. Names decode as UTF-8 (bytes that are not UTF-8 become U+FFFD, as in Node's readdir).
 * Types are the raw d_type, DT_UNKNOWN included.
 *
 * @example
 * ```ts
 * const n = getdents64(fd, buf);           // bytes the kernel wrote
 * parseDirents(buf, n, names, types);      // names[i] has d_type types[i]
 * ```
 */
export function parseDirents(buf: Buffer, n: number, names: string[], types: number[]): void {
  let o = 0;
  while (o + NAME_AT < n) {
    const reclen = buf[o + RECLEN_AT]! | (buf[o + RECLEN_AT + 1]! << 8);
    if (reclen <= NAME_AT || o + reclen > n) break; // never produced by the kernel; not read past
    // reclen is the name's end rounded up to 8 bytes: the terminating NUL is in the record's last 8.
    const last = o + reclen;
    let end = Math.max(last - 8, o + NAME_AT);
    while (end < last && buf[end] !== 0) end++;
    const start = o + NAME_AT;
    const type = buf[o + TYPE_AT]!;
    o = last;
    if (buf[start] === 0x2e && (end === start + 1 || (end === start + 2 && buf[start + 1] === 0x2e))) continue;
    names.push(utf8Slice ? (buf as Utf8Sliceable).utf8Slice(start, end) : buf.toString('utf8', start, end));
    types.push(type);
  }
}

/**
 * A {@link DirLister} over getdents64. One instance per watch (its buffer is reused); not reentrant.
 *
 * @example
 * ```ts
 * const names: string[] = [], types: number[] = [];
 * const err = new GetdentsLister().list('/srv/p', names, types); // undefined, or 'EACCES', …
 * ```
 */
export class GetdentsLister implements DirLister {
  private readonly b = listingBindings();
  private readonly buf = Buffer.allocUnsafeSlow(DIRENT_BUFFER);
  /** Entries listed as DT_UNKNOWN whose type came from an lstat (diagnostics and tests). */
  typesByLstat = 0;

  list(abs: string, names: string[], types: number[]): string | undefined {
    names.length = 0;
    types.length = 0;
    const fd = this.b.open(abs, OPEN_FLAGS);
    if (fd < 0) return errnoName(fd);
    const n = this.drain(fd, names, types);
    this.b.close(fd);
    if (n < 0) return errnoName(n);
    if (types.includes(DT_UNKNOWN)) this.typesByLstat += resolveUnknown(abs, names, types);
    return undefined;
  }

  /** Reads and parses until getdents64 returns 0 (the end) or -errno. Apart from list(): see TreeWalk.step. */
  private drain(fd: number, names: string[], types: number[]): number {
    let n = this.b.getdents(fd, this.buf, DIRENT_BUFFER);
    while (n > 0) {
      parseDirents(this.buf, n, names, types);
      n = this.b.getdents(fd, this.buf, DIRENT_BUFFER);
    }
    return n;
  }
}

/** Some filesystems (ext2 without filetype, iso9660, some FUSE) report no types: lstat those. */
function resolveUnknown(abs: string, names: string[], types: number[]): number {
  let resolved = 0;
  for (let i = 0; i < types.length; i++) {
    if (types[i] !== DT_UNKNOWN) continue;
    const t = typeByLstat(`${abs}/${names[i]}`);
    resolved++;
    if (t !== undefined) types[i] = t;
    else if (names[i]!.includes('\uFFFD'))
      types[i] = DT_REG; // no string names it: the scan reports it
    else {
      names.splice(i, 1); // gone since it was listed: as if listed a moment later
      types.splice(i, 1);
      i--;
    }
  }
  return resolved;
}
