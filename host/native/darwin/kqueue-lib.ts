/**
 * The one place that knows which library provides the BSD calls and which
 * open flags the platform uses, so the kqueue backend can run against any
 * library implementing the BSD kqueue ABI:
 *
 * - macOS: kqueue/kevent and the POSIX file calls from libSystem; directories
 *   and watched files are opened with O_EVTONLY (event notification only: the
 *   volume can still be unmounted).
 * - elsewhere (Linux with libkqueue, for testing): kqueue/kevent from the
 *   library named by FORGE_KQUEUE_LIB, the POSIX calls from libc, and O_RDONLY
 *   in place of O_EVTONLY.
 *
 * Nothing is loaded at import time; `loadKqueueLib()` does it.
 */
import { constants } from 'node:fs';
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';

/** open(2) flags of the running platform. */
export interface OpenFlags {
  O_RDONLY: number;
  O_WRONLY: number;
  O_RDWR: number;
  O_CREAT: number;
  O_TRUNC: number;
  O_CLOEXEC: number;
  O_DIRECTORY: number;
  /** Safe reads: a last-component symlink fails with ELOOP; opening a FIFO does not block. */
  O_NOFOLLOW: number;
  O_NONBLOCK: number;
  /** O_EVTONLY on macOS, O_RDONLY elsewhere. */
  O_WATCH: number;
}

/** <sys/fcntl.h> on macOS. */
export const DARWIN_OPEN_FLAGS: OpenFlags = {
  O_RDONLY: 0x0000,
  O_WRONLY: 0x0001,
  O_RDWR: 0x0002,
  O_CREAT: 0x0200,
  O_TRUNC: 0x0400,
  O_CLOEXEC: 0x0100_0000,
  O_DIRECTORY: 0x0010_0000,
  O_NOFOLLOW: 0x0100,
  O_NONBLOCK: 0x0004,
  O_WATCH: 0x8000, // O_EVTONLY
};

/** <asm-generic/fcntl.h> on Linux x86_64/arm64 (for libkqueue runs). */
export const LINUX_OPEN_FLAGS: OpenFlags = {
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_TRUNC: 0o1000,
  O_CLOEXEC: 0o2000000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: constants.O_NOFOLLOW ?? 0o400000, // differs by architecture (arm64: 0o100000)
  O_NONBLOCK: 0o4000,
  O_WATCH: 0o0,
};

/** Where the libraries come from, before loading. */
export interface KqueueLibSpec {
  libc: string;
  /** The library with kqueue()/kevent(); undefined when none is known (not macOS, FORGE_KQUEUE_LIB unset). */
  kqueue: string | undefined;
  flags: OpenFlags;
}

/** The libraries and flags for `platform` (default: this process), honouring FORGE_KQUEUE_LIB. */
export function kqueueLibSpec(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): KqueueLibSpec {
  const override = env.FORGE_KQUEUE_LIB && env.FORGE_KQUEUE_LIB.length > 0 ? env.FORGE_KQUEUE_LIB : undefined;
  if (platform === 'darwin') {
    const libSystem = '/usr/lib/libSystem.B.dylib';
    return { libc: libSystem, kqueue: override ?? libSystem, flags: DARWIN_OPEN_FLAGS };
  }
  return { libc: 'libc.so.6', kqueue: override, flags: LINUX_OPEN_FLAGS };
}

type AsyncCb<T> = (err: unknown, result: T) => void;

/** The POSIX file calls the backend uses (descriptor-level, pointers as bigint). */
export interface PosixFile {
  /** open(path, flags, mode): variadic, so called synchronously. */
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  preadAsync(fd: number, buf: bigint, n: number, offset: number, cb: AsyncCb<number>): void;
  pwriteAsync(fd: number, buf: bigint, n: number, offset: number, cb: AsyncCb<number>): void;
  pread(fd: number, buf: bigint, n: number, offset: number): number;
  pwrite(fd: number, buf: bigint, n: number, offset: number): number;
  fsyncAsync(fd: number, cb: AsyncCb<number>): void;
  /** errno of the last synchronous call on this thread. */
  errno(): number;
}

/** kqueue(2) and kevent(2). */
export interface KqueueCalls {
  kqueue(): number;
  /** kevent with pointers to native kevent arrays and a timespec (0n = wait forever). */
  kevent(kq: number, changes: bigint, nchanges: number, events: bigint, nevents: number, timeout: bigint): number;
}

export interface KqueueLib {
  spec: KqueueLibSpec;
  file: PosixFile;
  /** Undefined when no kqueue library is available (then watching is not supported). */
  kq: KqueueCalls | undefined;
  alloc(size: number): { ptr: bigint; size: number; bytes: Uint8Array; free(): void };
}

type KoffiFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

let cached: KqueueLib | undefined;

/** Loads the libraries once. Throws koffi's error when a library cannot be opened. */
export function loadKqueueLib(spec: KqueueLibSpec = kqueueLibSpec()): KqueueLib {
  if (cached && cached.spec.libc === spec.libc && cached.spec.kqueue === spec.kqueue) return cached;
  const libc = koffi.load(spec.libc);
  const fn = (lib: LibraryHandle, sig: string): KoffiFn => lib.func(sig) as unknown as KoffiFn;
  const open = fn(libc, 'int open(const char *path, int flags, ...)');
  const close = fn(libc, 'int close(int fd)');
  const pread = fn(libc, 'intptr_t pread(int fd, void *buf, size_t n, int64_t offset)');
  const pwrite = fn(libc, 'intptr_t pwrite(int fd, void *buf, size_t n, int64_t offset)');
  const fsync = fn(libc, 'int fsync(int fd)');
  const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
  const file: PosixFile = {
    open: (p, flags, mode) => open(p, flags, 'uint32_t', mode) as number,
    close: (fd) => close(fd) as number,
    preadAsync: (fd, b, n, o, cb) => pread.async(fd, b, n, o, (e: unknown, r: unknown) => cb(e, num(r))),
    pwriteAsync: (fd, b, n, o, cb) => pwrite.async(fd, b, n, o, (e: unknown, r: unknown) => cb(e, num(r))),
    pread: (fd, b, n, o) => num(pread(fd, b, n, o)),
    pwrite: (fd, b, n, o) => num(pwrite(fd, b, n, o)),
    fsyncAsync: (fd, cb) => fsync.async(fd, cb),
    errno: () => koffi.errno(),
  };
  let kq: KqueueCalls | undefined;
  if (spec.kqueue !== undefined) {
    const lib = spec.kqueue === spec.libc ? libc : koffi.load(spec.kqueue);
    const kqueue = fn(lib, 'int kqueue()');
    const kevent = fn(lib, 'int kevent(int kq, void *changes, int nchanges, void *events, int nevents, void *timeout)');
    const ptr = (p: bigint): bigint | null => (p === 0n ? null : p);
    kq = {
      kqueue: () => kqueue() as number,
      kevent: (q, c, nc, e, ne, t) => kevent(q, ptr(c), nc, ptr(e), ne, ptr(t)) as number,
    };
  }
  const alloc = (size: number): { ptr: bigint; size: number; bytes: Uint8Array; free(): void } => {
    const ptr = koffi.alloc('uint8_t', Math.max(1, size)) as bigint;
    const bytes = size === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(ptr, size));
    bytes.fill(0);
    let freed = false;
    return {
      ptr,
      size,
      bytes,
      free: () => {
        if (!freed) {
          freed = true;
          koffi.free(ptr);
        }
      },
    };
  };
  cached = { spec, file, kq, alloc };
  return cached;
}
