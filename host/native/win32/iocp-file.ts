/**
 * A file opened with FILE_FLAG_OVERLAPPED and associated with the port:
 * ReadFile/WriteFile at explicit offsets, each completing through the port.
 */
import { ForgeError } from '../../node/base/errors.js';
import type { Handle, Kernel32 } from './kernel32.js';
import type { IocpPort } from './iocp-port.js';
import type { PositionalFile } from '../shared/positional-backend.js';
import { allocNative, type NativeBlock } from './native-memory.js';
import { win32Error } from './win32-errors.js';
import {
  CREATE_ALWAYS,
  ERROR_HANDLE_EOF,
  ERROR_IO_PENDING,
  FILE_ATTRIBUTE_NORMAL,
  FILE_FLAG_BACKUP_SEMANTICS,
  FILE_FLAG_OVERLAPPED,
  FILE_SHARE_ALL,
  GENERIC_READ,
  GENERIC_WRITE,
  INVALID_HANDLE_VALUE,
  OPEN_ALWAYS,
  OPEN_EXISTING,
  OVERLAPPED,
  splitOffset,
} from './win32-layouts.js';

import type { OpenMode } from '../shared/positional-backend.js';
import type { FileIdentity } from '../../node/base/platform-io.js';
import { S_IFDIR, S_IFLNK, S_IFREG } from '../shared/file-identity.js';

const FILE_FLAG_OPEN_REPARSE_POINT = 0x0020_0000;
const FILE_ATTRIBUTE_DIRECTORY = 0x10;
const FILE_ATTRIBUTE_REPARSE_POINT = 0x400;
/** sizeof(BY_HANDLE_FILE_INFORMATION). */
const BY_HANDLE_INFO_BYTES = 52;

/** Completion key of file I/O packets (the watcher uses its own keys). */
export const FILE_KEY = 1n;

/** Largest single ReadFile/WriteFile request; longer transfers are split (DWORD length). */
export const MAX_TRANSFER = 64 * 1024 * 1024;

export class OverlappedFile implements PositionalFile {
  private closed = false;

  private constructor(
    private readonly k: Kernel32,
    private readonly port: IocpPort,
    readonly handle: Handle,
    readonly path: string,
  ) {}

  /** Opens `winPath` (absolute, namespaced) and associates it with `port`. */
  static open(k: Kernel32, port: IocpPort, winPath: string, displayPath: string, mode: OpenMode): OverlappedFile {
    const reading = mode === 'read' || mode === 'read-safe';
    const access = reading ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE;
    const disposition = reading ? OPEN_EXISTING : mode === 'write' ? OPEN_ALWAYS : CREATE_ALWAYS;
    // A safe read opens a symlink (reparse point) itself instead of its target; identity() then reports it.
    // BACKUP_SEMANTICS lets a directory open too, so it is reported as not a regular file rather than as EACCES.
    const flags = FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OVERLAPPED | (mode === 'read-safe' ? FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS : 0);
    const h = k.CreateFileW(winPath, access, FILE_SHARE_ALL, null, disposition, flags, null);
    if (h === INVALID_HANDLE_VALUE) throw win32Error(k.GetLastError(), 'CreateFileW', displayPath);
    try {
      port.associate(h, FILE_KEY, displayPath);
    } catch (e) {
      k.CloseHandle(h);
      throw e;
    }
    return new OverlappedFile(k, port, h, displayPath);
  }

  /** The file's size in bytes (GetFileSizeEx). */
  size(): number {
    const out = allocNative(this.k, 8);
    try {
      if (!this.k.GetFileSizeEx(this.handle, out.ptr)) throw win32Error(this.k.GetLastError(), 'GetFileSizeEx', this.path);
      return Number(new DataView(out.bytes.buffer, out.bytes.byteOffset, 8).getBigInt64(0, true));
    } finally {
      out.free();
    }
  }

  /**
   * GetFileInformationByHandle as a FileIdentity: dev = volume serial, ino = file index, mode from the
   * attributes (reparse point = link, directory, else regular), mtime = ctime = last write (this call
   * has no change time).
   */
  identity(): FileIdentity {
    const out = allocNative(this.k, BY_HANDLE_INFO_BYTES);
    try {
      if (!this.k.GetFileInformationByHandle(this.handle, out.ptr)) throw win32Error(this.k.GetLastError(), 'GetFileInformationByHandle', this.path);
      const v = new DataView(out.bytes.buffer, out.bytes.byteOffset, BY_HANDLE_INFO_BYTES);
      const attrs = v.getUint32(0, true);
      const u64 = (hiAt: number, loAt: number): bigint => (BigInt(v.getUint32(hiAt, true)) << 32n) | BigInt(v.getUint32(loAt, true));
      // FILETIME: 100 ns ticks since 1601 (low dword first).
      const written = (u64(24, 20) - 116_444_736_000_000_000n) * 100n;
      const mode = attrs & FILE_ATTRIBUTE_REPARSE_POINT ? S_IFLNK : attrs & FILE_ATTRIBUTE_DIRECTORY ? S_IFDIR : S_IFREG;
      return { dev: BigInt(v.getUint32(28, true)), ino: u64(44, 48), size: u64(32, 36), mtimeNs: written, ctimeNs: written, mode: mode | 0o644 };
    } finally {
      out.free();
    }
  }

  /** One overlapped ReadFile of up to `length` bytes into `dst` at `dstOffset`; 0 at end of file. */
  readAt(dst: NativeBlock, dstOffset: number, fileOffset: number, length: number): Promise<number> {
    return this.transfer('ReadFile', dst, dstOffset, fileOffset, Math.min(length, MAX_TRANSFER));
  }

  /** One overlapped WriteFile of up to `length` bytes from `src` at `srcOffset`. */
  writeAt(src: NativeBlock, srcOffset: number, fileOffset: number, length: number): Promise<number> {
    return this.transfer('WriteFile', src, srcOffset, fileOffset, Math.min(length, MAX_TRANSFER));
  }

  private async transfer(op: 'ReadFile' | 'WriteFile', mem: NativeBlock, memOffset: number, fileOffset: number, length: number): Promise<number> {
    if (memOffset + length > mem.size) throw new RangeError(`${op}: ${length} bytes at ${memOffset} exceed the ${mem.size}-byte buffer`);
    const ov = allocNative(this.k, OVERLAPPED.size);
    try {
      const { low, high } = splitOffset(fileOffset);
      const v = new DataView(ov.bytes.buffer, ov.bytes.byteOffset, OVERLAPPED.size);
      v.setUint32(OVERLAPPED.offset, low, true);
      v.setUint32(OVERLAPPED.offsetHigh, high, true);
      const buf = mem.ptr + BigInt(memOffset);
      const ok = op === 'ReadFile' ? this.k.ReadFile(this.handle, buf, length, null, ov.ptr) : this.k.WriteFile(this.handle, buf, length, null, ov.ptr);
      if (!ok) {
        const err = this.k.GetLastError();
        if (err === ERROR_HANDLE_EOF) return 0; // failed at once: no packet is queued
        if (err !== ERROR_IO_PENDING) throw win32Error(err, op, this.path);
      }
      // Success or pending: a completion packet is (or will be) queued on the port.
      const c = await this.port.expect(ov.ptr);
      if (c.error === ERROR_HANDLE_EOF) return 0;
      if (c.error !== 0) throw win32Error(c.error, op, this.path);
      return c.bytes;
    } finally {
      ov.free();
    }
  }

  /** FlushFileBuffers on a koffi worker thread (it blocks until the data is on disk). */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.k.FlushFileBuffersAsync(this.handle, (err, ok) => {
        if (err) reject(err);
        // The thread's last-error value stayed on koffi's worker, so the code is unknown here.
        else if (!ok)
          reject(new ForgeError('filesystem', `FlushFileBuffers failed (${this.path})`, { context: { operation: 'flush', file: this.path, backend: 'iocp' } }));
        else resolve();
      });
    });
  }

  /** CancelIoEx on every pending operation of this handle; they complete with ERROR_OPERATION_ABORTED. */
  cancel(): void {
    if (!this.closed) this.k.CancelIoEx(this.handle, null);
  }

  /** Closes the handle; only called when no I/O on it is pending. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.k.CloseHandle(this.handle);
  }
}
