/**
 * Read-only memory maps of whole files through koffi (Linux). Objects are
 * immutable once renamed into place (replaced only by another rename, never
 * truncated), so a mapping cannot lose its pages under us (no SIGBUS).
 */
import { createRequire } from 'node:module';

interface LibcMmap {
  mmap: (addr: null, length: number, prot: number, flags: number, fd: number, offset: number) => unknown;
  munmap: (addr: unknown, length: number) => number;
  view: (ptr: unknown, len: number) => ArrayBuffer;
  address: (ptr: unknown) => bigint;
}

const PROT_READ = 0x1;
const MAP_PRIVATE = 0x2;
const MAP_FAILED = 0xffffffffffffffffn;

let libc: LibcMmap | null | undefined;

function load(): LibcMmap | null {
  if (libc !== undefined) return libc;
  if (process.platform !== 'linux') {
    // mmap reads are implemented for Linux only; elsewhere objects are read normally.
    return (libc = null);
  }
  try {
    // koffi is CommonJS; load it lazily so platforms without it still read objects.
    const require = createRequire(import.meta.url);
    // FFI edge: koffi's function objects are untyped.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = require('koffi') as any;
    const lib = koffi.load('libc.so.6');
    libc = {
      mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
      munmap: lib.func('int munmap(void *addr, size_t length)'),
      view: (ptr, len) => koffi.view(ptr, len) as ArrayBuffer,
      address: (ptr) => koffi.address(ptr) as bigint,
    };
  } catch {
    // koffi could not load libc: objects are read normally.
    libc = null;
  }
  return libc;
}

/** True when {@link withMappedFile} maps files (otherwise it reads them). */
export function mmapAvailable(): boolean {
  return load() !== null;
}

/**
 * Calls `fn` with `size` bytes of open file `fd` mapped read-only, and unmaps
 * afterwards: the view is invalid once `fn` returns, so `fn` must copy out
 * whatever it keeps. Returns `{ mapped: false }` when mmap is unavailable or fails
 * (the caller then reads the file).
 */
export function withMappedFd<T>(fd: number, size: number, fn: (bytes: Uint8Array) => T): { mapped: true; value: T } | { mapped: false } {
  const c = load();
  if (c === null || size === 0) return { mapped: false };
  const ptr = c.mmap(null, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (ptr === null || c.address(ptr) === MAP_FAILED) return { mapped: false };
  try {
    return { mapped: true, value: fn(new Uint8Array(c.view(ptr, size))) };
  } finally {
    c.munmap(ptr, size);
  }
}
