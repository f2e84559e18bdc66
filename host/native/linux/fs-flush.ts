/**
 * syncfs(2) and fstatfs(2) through koffi, for the store's batched flush: one flush of a whole
 * filesystem instead of an fsync per file. The FFI edge: failures come back as `-errno`.
 *
 * syncfs blocks until the filesystem's dirty data and metadata are written and the device cache
 * is flushed, so it runs as a koffi async call (a worker thread), never on the event loop; koffi
 * hands the worker's errno back with the result.
 */
import koffi from 'koffi';

interface FlushBindings {
  syncfs: ((fd: number) => number) & { async: (fd: number, cb: (err: unknown, res: number) => void) => void };
  fstatfs: (fd: number, buf: Buffer) => number;
}

let bindings: FlushBindings | undefined;

function libc(): FlushBindings {
  if (bindings) return bindings;
  const lib = koffi.load('libc.so.6');
  // koffi's functions are untyped; their shapes are pinned by FlushBindings.
  bindings = {
    syncfs: lib.func('int syncfs(int fd)'),
    fstatfs: lib.func('int fstatfs(int fd, void *buf)'),
  };
  return bindings;
}

/** sizeof(struct statfs) is 120 on x86-64 and aarch64; room to spare. */
const STATFS_SIZE = 256;

/**
 * f_type of the filesystem `fd` lives on (fstatfs(2); `__fsword_t f_type` is the first field on
 * x86-64 and aarch64), or `-errno`.
 *
 * @example
 * ```ts
 * const t = fsMagic(fd); // 0xef53 for ext2/3/4, 0x58465342 for xfs
 * ```
 */
export function fsMagic(fd: number): number {
  const buf = Buffer.alloc(STATFS_SIZE);
  const r = libc().fstatfs(fd, buf);
  if (r < 0) return -koffi.errno();
  return Number(buf.readBigInt64LE(0) & 0xffffffffn);
}

/**
 * syncfs(2) of the filesystem `fd` is on, on a koffi worker thread: 0, or `-errno` (EIO, ENOSPC:
 * a writeback error on that filesystem since `fd` was opened; EBADF).
 *
 * @example
 * ```ts
 * if ((await syncfsAsync(fd)) < 0) throw new Error('flush failed');
 * ```
 */
export function syncfsAsync(fd: number): Promise<number> {
  const { syncfs } = libc();
  return new Promise((resolve, reject) => {
    koffi.errno(0);
    syncfs.async(fd, (err, res) => {
      if (err) reject(err);
      else resolve(res < 0 ? -(koffi.errno() || 5) : res);
    });
  });
}
