/**
 * One I/O completion port and its reaper.
 *
 * Operations register the address of their OVERLAPPED with {@link IocpPort.expect}
 * and get a promise for its completion packet. While anything is pending, one
 * `GetQueuedCompletionStatusEx` runs as a koffi async call (on koffi's worker
 * thread), so the event loop never blocks; it reaps up to `batch` packets per
 * call. When nothing is pending no call is in flight, so an idle port does not
 * keep the process alive. `close()` wakes the reaper with a posted packet.
 */
import { ForgeError } from '../../node/errors.js';
import type { Handle, Kernel32, Pointer } from './kernel32.js';
import { allocNative, type NativeBlock } from './native-memory.js';
import { INFINITE, INVALID_HANDLE_VALUE, OVERLAPPED_ENTRY } from './win32-layouts.js';
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

interface Pending {
  resolve(c: Completion): void;
}

export class IocpPort {
  private readonly pending = new Map<Pointer, Pending>();
  private readonly entries: NativeBlock;
  private readonly removed: NativeBlock;
  private inFlight: Promise<void> | undefined;
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
   * ERROR_IO_PENDING (a synchronous failure queues no packet).
   */
  expect(ov: Pointer): Promise<Completion> {
    if (this.closed) {
      return Promise.reject(new ForgeError('unknown', 'IOCP port is closed', { context: { operation: 'expect', backend: 'iocp' } }));
    }
    const p = new Promise<Completion>((resolve) => this.pending.set(ov, { resolve }));
    this.pump();
    return p;
  }

  private pump(): void {
    if (this.inFlight || this.closed || this.pending.size === 0) return;
    this.inFlight = new Promise<void>((done) => {
      this.reaperCalls++;
      this.k.GetQueuedCompletionStatusExAsync(this.handle, this.entries.ptr, this.batch, this.removed.ptr, INFINITE, 0, (err, ok) => {
        this.inFlight = undefined;
        const n = !err && ok ? new DataView(this.removed.bytes.buffer, this.removed.bytes.byteOffset, 4).getUint32(0, true) : 0;
        this.dispatch(n);
        done();
        this.pump();
      });
    });
  }

  private dispatch(n: number): void {
    const v = new DataView(this.entries.bytes.buffer, this.entries.bytes.byteOffset, this.entries.size);
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
    if (this.inFlight) {
      this.k.PostQueuedCompletionStatus(this.handle, 0, WAKE_KEY, null);
      await this.inFlight;
    }
    for (const p of this.pending.values()) p.resolve({ status: 0xc0000120, error: 995, bytes: 0, key: 0n });
    this.pending.clear();
    this.k.CloseHandle(this.handle);
    this.entries.free();
    this.removed.free();
  }
}
