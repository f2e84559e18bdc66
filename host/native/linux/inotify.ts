/**
 * inotify(7) over koffi: the three syscalls, their constants, and a decoder
 * for the `struct inotify_event` records the kernel writes into a read buffer.
 *
 * The bindings load lazily so that importing this module on a machine without
 * koffi's binary (or not on Linux) costs nothing until a watch is started.
 */
import { createRequire } from 'node:module';
import { ForgeError, LINUX_ERRNO } from '../../node/base/errors.js';

// Event bits (linux/inotify.h).
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x1000000;
export const IN_DONT_FOLLOW = 0x2000000;
export const IN_EXCL_UNLINK = 0x4000000;
export const IN_ISDIR = 0x40000000;

// inotify_init1 flags (same values as O_NONBLOCK / O_CLOEXEC on x86_64 and arm64).
export const IN_NONBLOCK = 0o4000;
export const IN_CLOEXEC = 0o2000000;

/** sizeof(struct inotify_event) without the name: wd, mask, cookie, len. */
export const INOTIFY_EVENT_HEADER = 16;
/** NAME_MAX + 1: the largest name a record can carry, so a buffer of header+this always fits one record. */
export const INOTIFY_NAME_MAX = 256;

/**
 * What the watcher asks for on every directory. IN_CLOSE_WRITE is left out on
 * purpose: IN_MODIFY already reports every write, and a second event per
 * rewritten file halves the burst the queue can absorb before IN_Q_OVERFLOW.
 */
export const WATCH_MASK =
  IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;

/** One decoded `struct inotify_event`. */
export interface InotifyEvent {
  wd: number;
  mask: number;
  cookie: number;
  /** The entry name inside the watched directory; '' for events on the directory itself. */
  name: string;
}

/**
 * Decodes the records in `buf[0, length)`. A truncated trailing record (which
 * the kernel never produces) is ignored rather than read out of bounds.
 *
 * @example
 * ```ts
 * for (const ev of decodeInotifyEvents(buf, n)) if (ev.mask & IN_CREATE) console.log('created', ev.name);
 * ```
 */
export function decodeInotifyEvents(buf: Buffer, length: number): InotifyEvent[] {
  const out: InotifyEvent[] = [];
  const end = Math.min(length, buf.length);
  let o = 0;
  while (o + INOTIFY_EVENT_HEADER <= end) {
    const wd = buf.readInt32LE(o);
    const mask = buf.readUInt32LE(o + 4);
    const cookie = buf.readUInt32LE(o + 8);
    const len = buf.readUInt32LE(o + 12);
    const nameStart = o + INOTIFY_EVENT_HEADER;
    if (nameStart + len > end) break;
    let name = '';
    if (len > 0) {
      // The name is NUL-padded to `len` bytes.
      let z = buf.indexOf(0, nameStart);
      if (z < 0 || z > nameStart + len) z = nameStart + len;
      name = buf.toString('utf8', nameStart, z);
    }
    out.push({ wd, mask, cookie, name });
    o = nameStart + len;
  }
  return out;
}

/** The raw syscalls; each returns -errno on failure (never throws). */
export interface InotifyBindings {
  init1(flags: number): number;
  addWatch(fd: number, path: string, mask: number): number;
  rmWatch(fd: number, wd: number): number;
  close(fd: number): number;
  /** read(2), for the poll-driven reader used when no io_uring ring is available. */
  read(fd: number, buf: Buffer, length: number): number;
  /** Bytes of events queued and not yet read (ioctl FIONREAD), or -errno. */
  pending(fd: number): number;
  /** Makes `fd` non-blocking (ioctl FIONBIO): an fd made for io_uring READs, read by poll + read(2) instead. */
  setNonBlocking(fd: number): number;
}

let bindings: InotifyBindings | undefined;

/** Loads the bindings once; a ForgeError (dependency) when koffi or libc cannot be loaded. */
export function inotifyBindings(): InotifyBindings {
  if (bindings) return bindings;
  if (process.platform !== 'linux') {
    throw new ForgeError('dependency', `inotify is not supported on ${process.platform}`, {
      context: { operation: 'watch', code: 'ENOSYS' },
      suggestions: ['Use the fallback watcher (FORGE_IO_BACKEND=fallback).'],
    });
  }
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (cause) {
    throw new ForgeError('dependency', 'koffi could not be loaded, so inotify is unavailable', {
      cause,
      context: { operation: 'watch', code: 'ERR_DLOPEN_FAILED' },
    });
  }
  const libc = koffi.load('libc.so.6');
  // FFI edge: koffi functions are untyped; each wrapper below fixes its types.
  const init1 = libc.func('int inotify_init1(int flags)');
  const addWatch = libc.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)');
  const rmWatch = libc.func('int inotify_rm_watch(int fd, int wd)');
  const closeFd = libc.func('int close(int fd)');
  const readFd = libc.func('long read(int fd, void *buf, size_t n)');
  const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
  const FIONREAD = 0x541b;
  const FIONBIO = 0x5421;
  const count = Buffer.alloc(4);
  const one = Buffer.from([1, 0, 0, 0]);
  const withErrno = (r: number): number => (r < 0 ? -koffi.errno() : r);
  bindings = {
    init1: (flags) => withErrno(init1(flags) as number),
    addWatch: (fd, path, mask) => withErrno(addWatch(fd, path, mask >>> 0) as number),
    rmWatch: (fd, wd) => withErrno(rmWatch(fd, wd) as number),
    close: (fd) => withErrno(closeFd(fd) as number),
    read: (fd, buf, length) => withErrno(Number(readFd(fd, buf, length))),
    pending: (fd) => {
      const r = withErrno(ioctl(fd, FIONREAD, count) as number);
      return r < 0 ? r : count.readInt32LE(0);
    },
    setNonBlocking: (fd) => withErrno(ioctl(fd, FIONBIO, one) as number),
  };
  return bindings;
}

/** `ENOSPC` for a negative syscall result, or `errno N` when unnamed. */
export function errnoName(negErrno: number): string {
  return LINUX_ERRNO[-negErrno] ?? `errno ${-negErrno}`;
}

/** The poll(2) readiness handle koffi offers, for the reader without io_uring. */
export interface PollHandleLike {
  close(): void;
}

/** koffi.node.poll, loaded with the bindings. */
export function pollReadable(fd: number, onReadable: () => void): PollHandleLike {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  return koffi.node.poll(fd, { readable: true, writable: false, disconnect: false }, () => onReadable());
}
