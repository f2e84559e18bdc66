/**
 * koffi bindings to kernel32.dll (and one ntdll function) for the IOCP backend.
 *
 * Nothing is loaded at import time: `loadKernel32()` opens the DLLs, so this
 * module type-checks and imports on Linux and macOS (the selector only calls it
 * on Windows). The FFI edge is typed right here: handles are `bigint`
 * (`intptr_t`, INVALID_HANDLE_VALUE is -1n), pointers are `bigint` addresses
 * (koffi 3 represents pointers as BigInt), BOOL results are numbers.
 */
import koffi from 'koffi';
import type { LibraryHandle, TypeObject } from 'koffi';

export type Handle = bigint;
export type Pointer = bigint;

/** Callback of a koffi `.async` call. */
type AsyncCb<T> = (err: unknown, result: T) => void;

/** The kernel32/ntdll functions the backend uses, typed. */
export interface Kernel32 {
  GetLastError(): number;
  CloseHandle(h: Handle): number;
  CreateFileW(name: string, access: number, share: number, sa: null, disposition: number, flags: number, template: null): Handle;
  CreateIoCompletionPort(file: Handle, port: Handle, key: bigint, threads: number): Handle;
  ReadFile(h: Handle, buf: Pointer, n: number, nread: null, ov: Pointer): number;
  WriteFile(h: Handle, buf: Pointer, n: number, nwritten: null, ov: Pointer): number;
  GetFileSizeEx(h: Handle, size: Pointer): number;
  /** BY_HANDLE_FILE_INFORMATION (52 bytes) into `info`. */
  GetFileInformationByHandle(h: Handle, info: Pointer): number;
  /** Blocking: only called through `FlushFileBuffersAsync`. */
  FlushFileBuffersAsync(h: Handle, cb: AsyncCb<number>): void;
  GetQueuedCompletionStatusEx(port: Handle, entries: Pointer, count: number, removed: Pointer, ms: number, alertable: number): number;
  GetQueuedCompletionStatusExAsync(port: Handle, entries: Pointer, count: number, removed: Pointer, ms: number, alertable: number, cb: AsyncCb<number>): void;
  PostQueuedCompletionStatus(port: Handle, bytes: number, key: bigint, ov: Pointer | null): number;
  CancelIoEx(h: Handle, ov: Pointer | null): number;
  ReadDirectoryChangesW(h: Handle, buf: Pointer, len: number, subtree: number, filter: number, ret: null, ov: Pointer, routine: null): number;
  GetProcessHeap(): Pointer;
  HeapAlloc(heap: Pointer, flags: number, size: number): Pointer;
  HeapFree(heap: Pointer, flags: number, mem: Pointer): number;
  RtlNtStatusToDosError(status: number): number;
}

// koffi function objects are untyped; this is the one place they are cast.
type KoffiFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

let loaded: Kernel32 | undefined;

/** Loads kernel32.dll/ntdll.dll once. Throws (koffi's error) off Windows. */
export function loadKernel32(): Kernel32 {
  if (loaded) return loaded;
  const k32 = koffi.load('kernel32.dll');
  const nt = koffi.load('ntdll.dll');
  const fn = (lib: LibraryHandle, sig: string): KoffiFn => lib.func(sig) as unknown as KoffiFn;
  const GetLastError = fn(k32, 'uint32_t __stdcall GetLastError()');
  const CloseHandle = fn(k32, 'int __stdcall CloseHandle(intptr_t h)');
  const CreateFileW = fn(
    k32,
    'intptr_t __stdcall CreateFileW(str16 name, uint32_t access, uint32_t share, void *sa, uint32_t disp, uint32_t flags, void *tmpl)',
  );
  const CreateIoCompletionPort = fn(k32, 'intptr_t __stdcall CreateIoCompletionPort(intptr_t file, intptr_t port, uintptr_t key, uint32_t threads)');
  const ReadFile = fn(k32, 'int __stdcall ReadFile(intptr_t h, void *buf, uint32_t n, void *nread, void *ov)');
  const WriteFile = fn(k32, 'int __stdcall WriteFile(intptr_t h, void *buf, uint32_t n, void *nwritten, void *ov)');
  const GetFileSizeEx = fn(k32, 'int __stdcall GetFileSizeEx(intptr_t h, void *size)');
  const GetFileInformationByHandle = fn(k32, 'int __stdcall GetFileInformationByHandle(intptr_t h, void *info)');
  const FlushFileBuffers = fn(k32, 'int __stdcall FlushFileBuffers(intptr_t h)');
  const GQCSEx = fn(k32, 'int __stdcall GetQueuedCompletionStatusEx(intptr_t port, void *entries, uint32_t count, void *removed, uint32_t ms, int alertable)');
  const PQCS = fn(k32, 'int __stdcall PostQueuedCompletionStatus(intptr_t port, uint32_t bytes, uintptr_t key, void *ov)');
  const CancelIoEx = fn(k32, 'int __stdcall CancelIoEx(intptr_t h, void *ov)');
  const RDCW = fn(
    k32,
    'int __stdcall ReadDirectoryChangesW(intptr_t h, void *buf, uint32_t len, int subtree, uint32_t filter, void *ret, void *ov, void *routine)',
  );
  const GetProcessHeap = fn(k32, 'void * __stdcall GetProcessHeap()');
  const HeapAlloc = fn(k32, 'void * __stdcall HeapAlloc(void *heap, uint32_t flags, size_t size)');
  const HeapFree = fn(k32, 'int __stdcall HeapFree(void *heap, uint32_t flags, void *mem)');
  const RtlNtStatusToDosError = fn(nt, 'uint32_t __stdcall RtlNtStatusToDosError(uint32_t status)');
  const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : v === null ? 0n : BigInt(v as number));
  loaded = {
    GetLastError: () => GetLastError() as number,
    CloseHandle: (h) => CloseHandle(h) as number,
    CreateFileW: (...a) => big(CreateFileW(...a)),
    CreateIoCompletionPort: (...a) => big(CreateIoCompletionPort(...a)),
    ReadFile: (...a) => ReadFile(...a) as number,
    WriteFile: (...a) => WriteFile(...a) as number,
    GetFileSizeEx: (...a) => GetFileSizeEx(...a) as number,
    GetFileInformationByHandle: (...a) => GetFileInformationByHandle(...a) as number,
    FlushFileBuffersAsync: (h, cb) => FlushFileBuffers.async(h, cb),
    GetQueuedCompletionStatusEx: (...a) => GQCSEx(...a) as number,
    GetQueuedCompletionStatusExAsync: (port, entries, count, removed, ms, alertable, cb) => GQCSEx.async(port, entries, count, removed, ms, alertable, cb),
    PostQueuedCompletionStatus: (...a) => PQCS(...a) as number,
    CancelIoEx: (...a) => CancelIoEx(...a) as number,
    ReadDirectoryChangesW: (...a) => RDCW(...a) as number,
    GetProcessHeap: () => big(GetProcessHeap()),
    HeapAlloc: (...a) => big(HeapAlloc(...a)),
    HeapFree: (...a) => HeapFree(...a) as number,
    RtlNtStatusToDosError: (s) => RtlNtStatusToDosError(s) as number,
  };
  return loaded;
}

/**
 * koffi struct types for the shared layouts. Only used to cross-check the
 * hand-written offsets in win32-layouts.ts (tests), never to marshal: the
 * backend reads and writes the bytes through views so the kernel-owned memory
 * is never copied while I/O is pending.
 */
export function layoutTypes(): { overlapped: TypeObject; entry: TypeObject; notify: TypeObject } {
  const overlapped = koffi.struct({
    Internal: 'uintptr_t',
    InternalHigh: 'uintptr_t',
    Offset: 'uint32_t',
    OffsetHigh: 'uint32_t',
    hEvent: 'void *',
  });
  const entry = koffi.struct({
    lpCompletionKey: 'uintptr_t',
    lpOverlapped: 'void *',
    Internal: 'uintptr_t',
    dwNumberOfBytesTransferred: 'uint32_t',
  });
  const notify = koffi.struct({
    NextEntryOffset: 'uint32_t',
    Action: 'uint32_t',
    FileNameLength: 'uint32_t',
    FileName: koffi.array('uint16_t', 1),
  });
  return { overlapped, entry, notify };
}
