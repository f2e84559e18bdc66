/**
 * The raw Linux calls the io_uring backend needs, bound through koffi to libc.
 *
 * This is the FFI edge: koffi's untyped functions are wrapped here in typed
 * functions, and every failure is returned as a negative errno (the io_uring
 * convention) instead of glibc's `-1` + `errno`.
 *
 * `syscall(2)` is variadic in C; it is declared here with fixed integer/pointer
 * parameters, which is the same calling convention on x86-64 and aarch64 Linux.
 */
import koffi from 'koffi';

/** Syscall numbers (identical on x86-64 and aarch64 since the unified table, Linux 5.1). */
export const SYS_IO_URING_SETUP = 425;
export const SYS_IO_URING_ENTER = 426;
export const SYS_IO_URING_REGISTER = 427;

/** What mmap(2) returns on failure: `(void *) -1`. */
export const MAP_FAILED = 0xffffffffffffffffn;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_POPULATE = 0x8000;
const RLIMIT_NOFILE = 7;

/** Anything koffi accepts for a `void *` parameter. */
export type PointerArg = Buffer | Uint8Array | Int32Array | Uint32Array | null;

interface LibcBindings {
  setup: (nr: number, entries: number, params: Buffer) => number | bigint;
  enter: (nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, sig: null, sz: number) => number | bigint;
  register: (nr: number, fd: number, opcode: number, arg: PointerArg, nrArgs: number) => number | bigint;
  mmap: (addr: null, length: number, prot: number, flags: number, fd: number, offset: number) => bigint;
  munmap: (addr: bigint, length: number) => number;
  close: (fd: number) => number;
  getrlimit: (resource: number, out: Buffer) => number;
}

let bindings: LibcBindings | undefined;

/** Loads libc once; throws if koffi cannot (the selector reports it). */
function libc(): LibcBindings {
  if (bindings) return bindings;
  const lib = koffi.load('libc.so.6');
  // The functions koffi returns are untyped (`any`); their shapes are pinned by LibcBindings.
  bindings = {
    setup: lib.func('syscall', 'long', ['long', 'uint32_t', 'void *']),
    enter: lib.func('syscall', 'long', ['long', 'int', 'uint32_t', 'uint32_t', 'uint32_t', 'void *', 'size_t']),
    register: lib.func('syscall', 'long', ['long', 'int', 'uint32_t', 'void *', 'uint32_t']),
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    close: lib.func('int close(int fd)'),
    getrlimit: lib.func('int getrlimit(int resource, void *rlim)'),
  };
  return bindings;
}

/** glibc's `-1`/errno convention → `-errno`. */
function ret(r: number | bigint): number {
  const n = Number(r);
  return n < 0 ? -koffi.errno() : n;
}

/** io_uring_setup(2): the ring fd, or `-errno`. `params` is a 120-byte `struct io_uring_params`. */
export function ioUringSetup(entries: number, params: Buffer): number {
  return ret(libc().setup(SYS_IO_URING_SETUP, entries, params));
}

/** io_uring_enter(2) without a signal mask: submitted count, or `-errno`. */
export function ioUringEnter(fd: number, toSubmit: number, minComplete: number, flags: number): number {
  return ret(libc().enter(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, null, 0));
}

/** io_uring_register(2): result, or `-errno`. */
export function ioUringRegister(fd: number, opcode: number, arg: PointerArg, nrArgs: number): number {
  return ret(libc().register(SYS_IO_URING_REGISTER, fd, opcode, arg, nrArgs));
}

/** mmap(2) of a shared, populated, read-write region of `fd`: the address, or `-errno` as a number. */
export function mmapShared(fd: number, length: number, offset: number): bigint | number {
  const p = libc().mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  // The failure value is (void *) -1, which koffi hands back as an unsigned 64-bit bigint.
  if (p === MAP_FAILED || p === 0n) return -koffi.errno();
  return p;
}

export function munmap(addr: bigint, length: number): number {
  return ret(libc().munmap(addr, length));
}

export function closeFd(fd: number): number {
  return ret(libc().close(fd));
}

/** getrlimit(RLIMIT_NOFILE): soft and hard limits (Infinity for RLIM_INFINITY). */
export function nofileLimit(): { soft: number; hard: number } {
  const out = Buffer.alloc(16);
  if (ret(libc().getrlimit(RLIMIT_NOFILE, out)) < 0) return { soft: 1024, hard: 1024 };
  const cvt = (v: bigint): number => (v >= 0xffffffffffffffffn ? Infinity : Number(v));
  return { soft: cvt(out.readBigUInt64LE(0)), hard: cvt(out.readBigUInt64LE(8)) };
}

/** A JavaScript view of native memory (the mmapped rings). Must not be used after munmap. */
export function viewOf(addr: bigint, length: number): ArrayBuffer {
  return koffi.view(addr, length);
}

/**
 * The address of a buffer's first byte, as a Number (user-space addresses fit in 2^53).
 * The caller keeps the buffer referenced for as long as the kernel may touch it.
 */
export function addressOf(buf: Uint8Array | Int32Array): number {
  // Touching .buffer moves a small on-heap typed array's bytes off-heap, where the GC never moves them.
  void buf.buffer;
  return Number(koffi.address(buf));
}
