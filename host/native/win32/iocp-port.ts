/**
 * One I/O completion port and its reaper.
 *
 * Operations register the address of their OVERLAPPED with {@link IocpPort.expect}
 * and get a promise for its completion packet; packets are reaped in batches
 * with GetQueuedCompletionStatusEx, and the event loop never blocks:
 *
 * - while file I/O is pending, one GetQueuedCompletionStatusEx with a short
 *   timeout (ASYNC_WAIT_MS) runs as a koffi async call on a libuv threadpool
 *   thread and is re-issued until no file I/O is left;
 * - while only long-lived requests are pending (ReadDirectoryChangesW of a
 *   watch), a timer polls with a zero timeout every POLL_MS instead, so a
 *   watch never holds one of libuv's (by default 4) threadpool threads, which
 *   node:fs, crypto and zlib share.
 *
 * When nothing is pending nothing runs, so an idle port does not keep the
 * process alive. `close()` wakes a waiting call with a posted packet.
 */
import { ForgeError } from '../../node/base/errors.js';
import type { Handle, Kernel32, Pointer } from './kernel32.js';
import { allocNative, type NativeBlock } from './native-memory.js';
import { INVALID_HANDLE_VALUE, OVERLAPPED_ENTRY } from './win32-layouts.js';
import { win32Error } from './win32-errors.js';

/** The result of one overlapped operation. */
export interface Completion {
  /** NTSTATUS from OVERLAPPED_ENTRY.Internal (0 = success). */
  status: number;
  /** The Win32 error for `status` (0 on success). */
  error: number;
  bytes: number;
  key: bigint;
}

/** Completion key of the packet `close()` posts to wake the reaper. */
const WAKE_KEY = 0xf0f0_dead_beefn;

/** Timeout of one threadpool wait while file I/O is pending. */
export const ASYNC_WAIT_MS = 50;
/** Poll period while only watches are pending: the added latency of a change notification. */
export const POLL_MS = 15;

interface Pending {
  resolve(c: Completion): void;
  longLived: boolean;
}

export class IocpPort {
  private readonly pending = new Map<Pointer, Pending>();
  private readonly entries: NativeBlock;
  private readonly removed: NativeBlock;
  /** Separate buffers for the main-thread poll: it may run while the threadpool call is in flight. */
  private readonly pollEntries: NativeBlock;
  private readonly pollRemoved: NativeBlock;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private shortPending = 0;
  private closed = false;
  /** Packets reaped, and reaper calls made (for stats and tests). */
  reaped = 0;
  reaperCalls = 0;

  private constructor(
    private readonly k: Kernel32,
    readonly handle: Handle,
    private readonly batch: number,
  ) {
    this.entries = allocNative(k, OVERLAPPED_ENTRY.size * batch);
    this.removed = allocNative(k, 4);
    this.pollEntries = allocNative(k, OVERLAPPED_ENTRY.size * batch);
    this.pollRemoved = allocNative(k, 4);
  }

  /** Creates a port; `batch` is how many packets one reaper call may take. */
  static create(k: Kernel32, batch = 64): IocpPort {
    const h = k.CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0n, 0n, 0);
    if (h === 0n) throw win32Error(k.GetLastError(), 'CreateIoCompletionPort', undefined);
    return new IocpPort(k, h, batch);
  }

  /** Associates a handle opened with FILE_FLAG_OVERLAPPED; its packets carry `key`. */
  associate(file: Handle, key: bigint, path?: string): void {
    const r = this.k.CreateIoCompletionPort(file, this.handle, key, 0);
    if (r === 0n) throw win32Error(this.k.GetLastError(), 'CreateIoCompletionPort(associate)', path);
  }

  /** Ops whose completion has not arrived yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Waits for the packet of the operation whose OVERLAPPED is at `ov`. Call it
   * right after the operation was issued and reported success or
   * ERROR_IO_PENDING (a synchronous failure queues no packet). `longLived`
   * marks requests that may stay pending indefinitely (directory watches).
   */
  expect(ov: Pointer, longLived = false): Promise<Completion> {
    if (this.closed) {
      return Promise.reject(new ForgeError('unknown', 'IOCP port is closed', { context: { operation: 'expect', backend: 'iocp' } }));
    }
    const p = new Promise<Completion>((resolve) => this.pending.set(ov, { resolve, longLived }));
    if (!longLived) this.shortPending++;
    this.pump();
    return p;
  }

  private pump(): void {
    if (this.closed) return;
    if (this.shortPending > 0) {
      if (!this.inFlight) this.waitOnThreadpool();
    } else if (this.pending.size > 0 && !this.timer && !this.inFlight) {
      this.timer = setTimeout(() => this.pollNow(), POLL_MS);
    }
  }

  private waitOnThreadpool(): void {
    this.inFlight = new Promise<void>((done) => {
      this.reaperCalls++;
      this.k.GetQueuedCompletionStatusExAsync(this.handle, this.entries.ptr, this.batch, this.removed.ptr, ASYNC_WAIT_MS, 0, (err, ok) => {
        this.inFlight = undefined;
        // FALSE with WAIT_TIMEOUT when nothing arrived: nothing to dispatch.
        const n = !err && ok ? new DataView(this.removed.bytes.buffer, this.removed.bytes.byteOffset, 4).getUint32(0, true) : 0;
        this.dispatch(this.entries, n);
        done();
        this.pump();
      });
    });
  }

  /** Zero-timeout reap on the main thread (never blocks). */
  private pollNow(): void {
    this.timer = undefined;
    if (this.closed) return;
    for (;;) {
      this.reaperCalls++;
      const ok = this.k.GetQueuedCompletionStatusEx(this.handle, this.pollEntries.ptr, this.batch, this.pollRemoved.ptr, 0, 0);
      const n = ok ? new DataView(this.pollRemoved.bytes.buffer, this.pollRemoved.bytes.byteOffset, 4).getUint32(0, true) : 0;
      this.dispatch(this.pollEntries, n);
      if (n < this.batch) break;
    }
    this.pump();
  }

  private dispatch(entries: NativeBlock, n: number): void {
    const v = new DataView(entries.bytes.buffer, entries.bytes.byteOffset, entries.size);
    for (let i = 0; i < n; i++) {
      const at = i * OVERLAPPED_ENTRY.size;
      const key = v.getBigUint64(at + OVERLAPPED_ENTRY.completionKey, true);
      if (key === WAKE_KEY) continue;
      const ov = v.getBigUint64(at + OVERLAPPED_ENTRY.overlapped, true);
      const status = Number(v.getBigUint64(at + OVERLAPPED_ENTRY.internal, true) & 0xffff_ffffn);
      const bytes = v.getUint32(at + OVERLAPPED_ENTRY.bytesTransferred, true);
      const p = this.pending.get(ov);
      if (!p) continue; // a packet for an op nobody waits on (cannot happen unless misused)
      this.pending.delete(ov);
      if (!p.longLived) this.shortPending--;
      this.reaped++;
      // Success statuses (< 0x80000000) other than 0, e.g. STATUS_NOTIFY_ENUM_DIR, are
      // passed through: the watcher gives them meaning.
      const error = status === 0 ? 0 : this.k.RtlNtStatusToDosError(status);
      p.resolve({ status, error, bytes, key });
    }
  }

  /**
   * Wakes and stops the reaper and closes the port. Operations still pending
   * resolve as cancelled (ERROR_OPERATION_ABORTED); callers cancel their I/O
   * (CancelIoEx) and await it before closing, so normally none are left.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) {
      this.k.PostQueuedCompletionStatus(this.handle, 0, WAKE_KEY, null);
      await this.inFlight;
    }
    for (const p of this.pending.values()) p.resolve({ status: 0xc0000120, error: 995, bytes: 0, key: 0n });
    this.pending.clear();
    this.k.CloseHandle(this.handle);
    this.entries.free();
    this.removed.free();
    this.pollEntries.free();
    this.pollRemoved.free();
  }
}
