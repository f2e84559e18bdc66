/**
 * One io_uring instance: setup, the single shared mmap, SQE/CQE views, prep,
 * submit, reap, the sparse registered-file table, and close. Ring mechanics
 * only: what the SQEs mean lives in sqe-chains.ts, and who waits for CQEs in
 * completion-loop.ts.
 *
 * Layouts are those of <linux/io_uring.h> (struct io_uring_params is 120 bytes,
 * an SQE 64, a CQE 16). Head/tail words shared with the kernel are read and
 * written with Atomics (acquire/release), everything else with plain views.
 */
import { ownFd, releaseFd } from '../../node/base/owned-fds.js';
import { ForgeError, toForgeError } from '../../node/base/errors.js';
import { addressOf, closeFd, ioUringEnter, ioUringRegister, ioUringSetup, mmapShared, munmap, viewOf, type PointerArg } from './syscalls.js';

/** Opcodes used by Forge (enum io_uring_op). */
export const OP = {
  NOP: 0,
  FSYNC: 3,
  ASYNC_CANCEL: 14,
  OPENAT: 18,
  CLOSE: 19,
  STATX: 21,
  READ: 22,
  WRITE: 23,
} as const;

/** SQE flags (IOSQE_*). */
export const SQE = {
  FIXED_FILE: 1,
  IO_DRAIN: 2,
  IO_LINK: 4,
  IO_HARDLINK: 8,
  ASYNC: 16,
  // CQE_SKIP_SUCCESS (64) is deliberately not used: on a failing chain head it hides the
  // whole chain's CQEs, and a lost CQE is a leaked slot and a hung promise.
} as const;

const SETUP_CQSIZE = 1 << 3;
const SETUP_CLAMP = 1 << 4;
const SETUP_SUBMIT_ALL = 1 << 7;
const FEAT_SINGLE_MMAP = 1 << 0;
const FEAT_NODROP = 1 << 1;
const OFF_SQES = 0x10000000;
const REGISTER_FILES = 2;
const UNREGISTER_FILES = 3;
const EINVAL = 22;

/** Options of {@link Ring.open}. */
export interface RingOptions {
  /** SQ entries (rounded up to a power of two by the kernel). Default 256. */
  entries?: number;
  /** CQ entries; default 4 × entries. */
  cqEntries?: number;
}

/** Called once per CQE: low and high halves of user_data, the result (bytes or -errno), CQE flags. */
export type CqeHandler = (udLow: number, udHigh: number, res: number, flags: number) => void;

function ringError(what: string, negErrno: number): ForgeError {
  return toForgeError({ kind: 'errno', errno: -negErrno }, { operation: what, backend: 'io_uring' }, `${what} failed`);
}

/**
 * An io_uring without SQPOLL (a polling kernel thread would take one of this
 * machine's two cores).
 *
 * @example
 * ```ts
 * const ring = Ring.open({ entries: 64 });
 * ring.prep(OP.NOP, -1, 0, 0, 0, 0, 1, 0);
 * ring.submit();
 * ring.reap((id, tag, res) => console.log(id, res));
 * ring.close();
 * ```
 */
export class Ring {
  readonly fd: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly features: number;
  private maps: Array<[bigint, number]>;
  private sq: Uint32Array;
  private sqes: Uint32Array;
  private readonly sqHead: number;
  private readonly sqTail: number;
  private readonly sqMask: number;
  private readonly cqHead: number;
  private readonly cqTail: number;
  private readonly cqMask: number;
  private readonly cqBase: number;
  private localTail: number;
  /** SQEs prepared but not yet accepted by io_uring_enter. */
  private unsubmitted = 0;
  private registeredFiles = 0;
  private closed = false;
  private reaping = false;

  private constructor(fd: number, params: Buffer) {
    this.fd = fd;
    ownFd(fd, 'io_uring');
    const u = (o: number): number => params.readUInt32LE(o);
    this.sqEntries = u(0);
    this.cqEntries = u(4);
    this.features = u(20);
    this.maps = [];
    const sqArray = u(64);
    const cqesOff = u(100);
    // IORING_FEAT_SINGLE_MMAP (5.4): SQ and CQ rings share one mapping at offset 0.
    const ringSize = Math.max(sqArray + this.sqEntries * 4, cqesOff + this.cqEntries * 16);
    const ring = this.map(ringSize, 0);
    const sqeMem = this.map(this.sqEntries * 64, OFF_SQES);
    this.sq = new Uint32Array(viewOf(ring, ringSize));
    this.sqes = new Uint32Array(viewOf(sqeMem, this.sqEntries * 64));
    this.sqHead = u(40) >> 2;
    this.sqTail = u(44) >> 2;
    this.sqMask = this.sq[u(48) >> 2]!;
    this.cqHead = u(80) >> 2;
    this.cqTail = u(84) >> 2;
    this.cqMask = this.sq[u(88) >> 2]!;
    this.cqBase = cqesOff >> 2;
    // Identity-map the SQ index array once: SQ slot i always names SQE i.
    const arr = sqArray >> 2;
    for (let i = 0; i < this.sqEntries; i++) this.sq[arr + i] = i;
    this.localTail = this.sq[this.sqTail]!;
  }

  /** Sets up a ring; throws a ForgeError carrying the errno (EPERM under seccomp, ENOSYS on old kernels). */
  static open(options: RingOptions = {}): Ring {
    const entries = options.entries ?? 256;
    const cqEntries = options.cqEntries ?? entries * 4;
    let flags = SETUP_CQSIZE | SETUP_CLAMP | SETUP_SUBMIT_ALL;
    let params = Buffer.alloc(120);
    let fd = -1;
    for (;;) {
      params = Buffer.alloc(120);
      params.writeUInt32LE(cqEntries, 4);
      params.writeUInt32LE(flags, 8);
      fd = ioUringSetup(entries, params);
      // SUBMIT_ALL is 5.18+; older kernels reject unknown setup flags with EINVAL.
      if (fd === -EINVAL && flags & SETUP_SUBMIT_ALL) {
        flags &= ~SETUP_SUBMIT_ALL;
        continue;
      }
      break;
    }
    if (fd < 0) throw ringError('io_uring_setup', fd);
    const features = params.readUInt32LE(20);
    if (!(features & FEAT_SINGLE_MMAP) || !(features & FEAT_NODROP)) {
      closeFd(fd);
      throw new ForgeError('dependency', 'io_uring: the kernel lacks IORING_FEAT_SINGLE_MMAP/NODROP (Linux >= 5.5 needed)', {
        context: { operation: 'io_uring_setup', backend: 'io_uring', features },
      });
    }
    try {
      return new Ring(fd, params);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  private map(length: number, offset: number): bigint {
    const p = mmapShared(this.fd, length, offset);
    if (typeof p === 'number') {
      for (const [addr, len] of this.maps) munmap(addr, len);
      this.maps = [];
      throw ringError('mmap', p);
    }
    this.maps.push([p, length]);
    return p;
  }

  /** Free SQ slots right now. */
  sqSpace(): number {
    return this.sqEntries - ((this.localTail - Atomics.load(this.sq, this.sqHead)) >>> 0);
  }

  /** SQEs prepared and not yet accepted by the kernel. */
  get pending(): number {
    return this.unsubmitted;
  }

  /**
   * Fills one SQE. `addr` and `off` are Numbers (< 2^53; `off` -1 means the
   * current file position). Throws if the SQ is full: callers check sqSpace().
   */
  prep(op: number, fd: number, addr: number, len: number, off: number, opFlags: number, udLow: number, udHigh: number, sqeFlags = 0, fileIndex = 0): void {
    if (this.sqSpace() <= 0) throw new ForgeError('unknown', 'io_uring: submission queue full', { context: { backend: 'io_uring' } });
    const w = (this.localTail & this.sqMask) << 4;
    const s = this.sqes;
    s.fill(0, w, w + 16);
    s[w] = op | (sqeFlags << 8); // opcode u8, flags u8, ioprio u16
    s[w + 1] = fd; // s32 fd
    s[w + 2] = off >>> 0; // u64 off / addr2
    s[w + 3] = off < 0 ? 0xffffffff : Math.floor(off / 0x100000000);
    s[w + 4] = addr >>> 0; // u64 addr
    s[w + 5] = Math.floor(addr / 0x100000000);
    s[w + 6] = len; // u32 len
    s[w + 7] = opFlags; // rw_flags / open_flags / fsync_flags / cancel_flags
    s[w + 8] = udLow; // u64 user_data
    s[w + 9] = udHigh;
    s[w + 11] = fileIndex; // file_index: direct-descriptor slot + 1
    this.localTail = (this.localTail + 1) >>> 0;
    this.unsubmitted++;
  }

  /**
   * Publishes the SQ tail and calls io_uring_enter without waiting. Returns how
   * many SQEs the kernel took, or a negative errno (EAGAIN/EBUSY: retry after reaping).
   * Cached reads/writes run inline inside this call, on this thread.
   */
  submit(): number {
    Atomics.store(this.sq, this.sqTail, this.localTail); // release: SQE contents before the tail
    if (this.unsubmitted === 0) return 0;
    const r = ioUringEnter(this.fd, this.unsubmitted, 0, 0);
    if (r > 0) this.unsubmitted -= r;
    return r;
  }

  /**
   * Calls `fn` for every CQE available, until the CQ is empty, and returns how
   * many there were. Not re-entrant: a nested call (from inside `fn`) returns 0
   * and the outer call picks up whatever the handler caused.
   */
  reap(fn: CqeHandler): number {
    if (this.reaping || this.closed) return 0;
    this.reaping = true;
    const cq = this.sq;
    let n = 0;
    try {
      for (;;) {
        let head = cq[this.cqHead]!;
        const tail = Atomics.load(cq, this.cqTail); // acquire: CQE contents after the tail
        if (head === tail) break;
        while (head !== tail) {
          const w = this.cqBase + ((head & this.cqMask) << 2);
          const udLow = cq[w]!;
          const udHigh = cq[w + 1]!;
          const res = cq[w + 2]! | 0;
          const flags = cq[w + 3]!;
          head = (head + 1) >>> 0;
          // Release the slot before calling out, so the handler may prep and submit again.
          Atomics.store(cq, this.cqHead, head);
          n++;
          fn(udLow, udHigh, res, flags);
          if (this.closed) return n;
        }
      }
    } finally {
      this.reaping = false;
    }
    return n;
  }

  /** CQEs waiting to be reaped. */
  cqReady(): number {
    return (Atomics.load(this.sq, this.cqTail) - this.sq[this.cqHead]!) >>> 0;
  }

  /**
   * Registers a sparse direct-descriptor table of `count` slots (all -1), so
   * OPENAT can install files straight into slots without using the fd table.
   * The kernel caps `count` at RLIMIT_NOFILE (EMFILE above it).
   */
  registerSparseFiles(count: number): void {
    const fds = new Int32Array(count).fill(-1);
    const r = ioUringRegister(this.fd, REGISTER_FILES, fds, count);
    if (r < 0) throw ringError('io_uring_register(FILES)', r);
    this.registeredFiles = count;
  }

  /** Raw io_uring_register for callers that need another opcode. */
  register(opcode: number, arg: PointerArg, nrArgs: number): number {
    return ioUringRegister(this.fd, opcode, arg, nrArgs);
  }

  get fileSlots(): number {
    return this.registeredFiles;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Unregisters files, unmaps both regions and closes the ring fd. The kernel
   * cancels anything still in flight. Safe to call twice.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.registeredFiles) ioUringRegister(this.fd, UNREGISTER_FILES, null, 0);
    this.registeredFiles = 0;
    // Drop the views first: touching them after munmap would fault.
    this.sq = new Uint32Array(0);
    this.sqes = new Uint32Array(0);
    for (const [addr, len] of this.maps) munmap(addr, len);
    this.maps = [];
    closeFd(this.fd);
    releaseFd(this.fd);
  }
}

export { addressOf };
