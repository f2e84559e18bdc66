/**
 * Win32 constants and the byte layouts of the structs the IOCP backend shares
 * with the kernel, for x64 Windows (LLP64: DWORD 4 bytes, ULONG_PTR/HANDLE/pointers 8).
 *
 * Pure data and decoders, no FFI: the layouts are unit-tested on Linux
 * (test/win32/win32-layouts.test.ts) against the sizes and offsets documented
 * in the Windows SDK headers (minwinbase.h, winnt.h).
 */

/** OVERLAPPED (minwinbase.h): Internal, InternalHigh, Offset/OffsetHigh (union with Pointer), hEvent. */
export const OVERLAPPED = {
  size: 32,
  /** ULONG_PTR Internal: the NTSTATUS of the finished I/O. */
  internal: 0,
  /** ULONG_PTR InternalHigh: bytes transferred. */
  internalHigh: 8,
  /** DWORD Offset: low 32 bits of the file offset. */
  offset: 16,
  /** DWORD OffsetHigh: high 32 bits of the file offset. */
  offsetHigh: 20,
  /** HANDLE hEvent: unused here (completions go to the port). */
  hEvent: 24,
} as const;

/** OVERLAPPED_ENTRY (minwinbase.h), as filled by GetQueuedCompletionStatusEx. */
export const OVERLAPPED_ENTRY = {
  size: 32,
  /** ULONG_PTR lpCompletionKey */
  completionKey: 0,
  /** LPOVERLAPPED lpOverlapped */
  overlapped: 8,
  /** ULONG_PTR Internal: NTSTATUS of the I/O. */
  internal: 16,
  /** DWORD dwNumberOfBytesTransferred (followed by 4 bytes of padding). */
  bytesTransferred: 24,
} as const;

/** FILE_NOTIFY_INFORMATION (winnt.h): records are DWORD-aligned and chained by NextEntryOffset. */
export const FILE_NOTIFY_INFORMATION = {
  /** Size of the fixed part plus one WCHAR, as `sizeof` reports it. */
  size: 16,
  nextEntryOffset: 0,
  action: 4,
  /** Length of FileName in bytes (not characters), no terminating NUL. */
  fileNameLength: 8,
  fileName: 12,
} as const;

// CreateFileW
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const FILE_LIST_DIRECTORY = 0x0001;
export const FILE_SHARE_READ = 0x1;
export const FILE_SHARE_WRITE = 0x2;
export const FILE_SHARE_DELETE = 0x4;
export const FILE_SHARE_ALL = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
export const CREATE_ALWAYS = 2;
export const OPEN_EXISTING = 3;
export const OPEN_ALWAYS = 4;
export const FILE_ATTRIBUTE_NORMAL = 0x80;
export const FILE_FLAG_OVERLAPPED = 0x40000000;
export const FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
/** `(HANDLE)-1` */
export const INVALID_HANDLE_VALUE = -1n;

// ReadDirectoryChangesW notify filter
export const FILE_NOTIFY_CHANGE_FILE_NAME = 0x001;
export const FILE_NOTIFY_CHANGE_DIR_NAME = 0x002;
export const FILE_NOTIFY_CHANGE_SIZE = 0x008;
export const FILE_NOTIFY_CHANGE_LAST_WRITE = 0x010;
/** What the watcher asks for: names (files and dirs), size and last-write changes. */
export const WATCH_NOTIFY_FILTER = FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_DIR_NAME | FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE;

// FILE_NOTIFY_INFORMATION.Action
export const FILE_ACTION_ADDED = 1;
export const FILE_ACTION_REMOVED = 2;
export const FILE_ACTION_MODIFIED = 3;
export const FILE_ACTION_RENAMED_OLD_NAME = 4;
export const FILE_ACTION_RENAMED_NEW_NAME = 5;

// Win32 error codes the backend branches on (winerror.h)
export const ERROR_ACCESS_DENIED = 5;
export const ERROR_HANDLE_EOF = 38;
export const ERROR_OPERATION_ABORTED = 995;
export const ERROR_IO_PENDING = 997;
export const ERROR_NOTIFY_ENUM_DIR = 1022;

// NTSTATUS values seen in OVERLAPPED.Internal / OVERLAPPED_ENTRY.Internal (ntstatus.h)
/** Directory change buffer overflowed: the result has 0 bytes; rescan. */
export const STATUS_NOTIFY_ENUM_DIR = 0x0000010c;
/** The directory handle was closed while a ReadDirectoryChangesW was pending. */
export const STATUS_NOTIFY_CLEANUP = 0x0000010b;

/** One decoded FILE_NOTIFY_INFORMATION record. */
export interface NotifyRecord {
  action: number;
  /** Relative to the watched directory, with Windows `\` separators. */
  name: string;
}

/**
 * Decodes the chain of FILE_NOTIFY_INFORMATION records ReadDirectoryChangesW
 * wrote into `buf`. `bytes` is the transfer count; 0 means the kernel's buffer
 * overflowed (the caller reports `overflow` and rescans), so it yields nothing.
 * Malformed chains (offsets past the end) stop decoding rather than read out
 * of bounds; a zero offset ends the chain, so it cannot loop.
 */
export function decodeNotifyRecords(buf: Uint8Array, bytes: number): NotifyRecord[] {
  const out: NotifyRecord[] = [];
  const end = Math.min(bytes, buf.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, end);
  let at = 0;
  while (at + FILE_NOTIFY_INFORMATION.fileName <= end) {
    const next = view.getUint32(at + FILE_NOTIFY_INFORMATION.nextEntryOffset, true);
    const action = view.getUint32(at + FILE_NOTIFY_INFORMATION.action, true);
    const nameBytes = view.getUint32(at + FILE_NOTIFY_INFORMATION.fileNameLength, true);
    const nameStart = at + FILE_NOTIFY_INFORMATION.fileName;
    if (nameStart + nameBytes > end || nameBytes % 2 !== 0) break;
    const name = Buffer.from(buf.buffer, buf.byteOffset + nameStart, nameBytes).toString('utf16le');
    out.push({ action, name });
    // Windows aligns records to 4 bytes; Wine 8 does not (offset 22 after `a.txt`), so no alignment check.
    if (next === 0) break;
    at += next;
  }
  return out;
}

/**
 * Encodes records the way the kernel lays them out (DWORD-aligned, chained):
 * used by tests to build realistic buffers, and documents the format.
 */
export function encodeNotifyRecords(records: readonly NotifyRecord[]): Uint8Array {
  const parts = records.map((r) => Buffer.from(r.name, 'utf16le'));
  const sizes = parts.map((p) => (FILE_NOTIFY_INFORMATION.fileName + p.length + 3) & ~3);
  const total = sizes.reduce((a, b) => a + b, 0);
  const out = Buffer.alloc(total);
  let at = 0;
  records.forEach((r, i) => {
    const name = parts[i]!;
    const size = sizes[i]!;
    out.writeUInt32LE(i === records.length - 1 ? 0 : size, at + FILE_NOTIFY_INFORMATION.nextEntryOffset);
    out.writeUInt32LE(r.action, at + FILE_NOTIFY_INFORMATION.action);
    out.writeUInt32LE(name.length, at + FILE_NOTIFY_INFORMATION.fileNameLength);
    name.copy(out, at + FILE_NOTIFY_INFORMATION.fileName);
    at += size;
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Splits a 64-bit file offset into OVERLAPPED's Offset/OffsetHigh pair. */
export function splitOffset(offset: number): { low: number; high: number } {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`file offset must be a non-negative safe integer, got ${offset}`);
  return { low: offset % 0x1_0000_0000, high: Math.floor(offset / 0x1_0000_0000) };
}
