/**
 * Whole-filesystem flushes for the store (syncfs(2) on Linux), behind io/ like every native call.
 * A handle keeps one descriptor on a directory of the filesystem open from its open to its close:
 * syncfs reports writeback errors (Linux 5.8+) that happened since THAT descriptor was opened, so
 * it must exist before the first write it vouches for.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { toForgeError } from '../base/errors.js';

/** An open descriptor on a filesystem, and how to flush that filesystem. */
export interface FsFlushHandle {
  /** statfs(2) f_type (0xef53 ext2/3/4, 0x58465342 xfs, 0x9123683e btrfs, 0x01021994 tmpfs, ...). */
  readonly magic: number;
  /** The filesystem type /proc/self/mountinfo names for the descriptor's device ('ext4', 'ext2', ...), or undefined. */
  readonly mountType: string | undefined;
  /** syncfs(2) on a worker thread: 0, or -errno. */
  syncfs(): Promise<number>;
  /** Closes the descriptor (safe to call twice). */
  close(): void;
}

/** The `fstype` of the mountinfo line of device `major:minor`, or undefined. */
function mountTypeOf(major: number, minor: number): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const dev = `${major}:${minor}`;
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[2] !== dev) continue;
    const dash = f.indexOf('-', 6);
    if (dash > 0) return f[dash + 1];
  }
  return undefined;
}

/**
 * Opens a flush handle on the filesystem of directory `dir`; undefined where there is no syncfs
 * (not Linux, or the FFI library cannot load: the store then keeps its per-file fsyncs).
 *
 * @example
 * ```ts
 * const h = await openFsFlush('/srv/store/objects');
 * if (h && (await h.syncfs()) < 0) throw new Error('flush failed');
 * h?.close();
 * ```
 */
export async function openFsFlush(dir: string): Promise<FsFlushHandle | undefined> {
  if (process.platform !== 'linux') return undefined;
  let native: typeof import('../../native/linux/fs-flush.js');
  try {
    native = await import('../../native/linux/fs-flush.js');
  } catch {
    return undefined;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw toForgeError(err, { file: dir, operation: 'open store filesystem' });
  }
  try {
    const magic = native.fsMagic(fd);
    const st = fstatSync(fd);
    // st_dev of Linux: major = bits 8..19 and 44..63, minor = bits 0..7 and 20..43 (glibc's gnu_dev_major/minor).
    const dev = BigInt(st.dev);
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    let open = true;
    return {
      magic,
      mountType: mountTypeOf(major, minor),
      syncfs: () => (open ? native.syncfsAsync(fd) : Promise.resolve(-9)),
      close: () => {
        if (!open) return;
        open = false;
        closeSync(fd);
      },
    };
  } catch (err) {
    closeSync(fd);
    throw toForgeError(err, { file: dir, operation: 'open store filesystem' });
  }
}
