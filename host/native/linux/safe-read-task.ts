/**
 * A whole-file read for a tree that someone else may be changing (batchRead with `safe`), as chains
 * on the ring:
 *
 *   open  : OPENAT(O_RDONLY|O_NOFOLLOW|O_NONBLOCK), an ordinary fd (STATX cannot take a direct slot)
 *   before: STATX(fd, "", AT_EMPTY_PATH)       -> only a regular file goes on; its size sizes the buffer
 *   read  : READ(fd, size + 1 bytes) -HARDLINK-> STATX(fd, "", AT_EMPTY_PATH)   (repeated past 2 GiB)
 *
 * then a plain close(2) of the fd. O_NOFOLLOW refuses a symlink swapped in after the caller's lstat
 * (ELOOP), O_NONBLOCK keeps a FIFO swapped in from blocking the open, and the first STATX is of the
 * opened descriptor, so what is read is what was checked. The one extra byte and the STATX after the
 * read catch a file that grew, shrank or was rewritten meanwhile: that slot fails with `ECHANGED`
 * (retryable) instead of returning a version that never existed.
 */
import fs from 'node:fs';
import { changedError, notRegularError } from '../../node/base/safe-read.js';
import type { FileIdentity } from '../../node/base/platform-io.js';
import { identityMoved, isRegularMode, kindOfMode } from '../shared/file-identity.js';
import { addressOf, OP, SQE, type Ring } from './ring.js';
import { FileTask, O_RDONLY, STEP, type ChainOwner, type ChainTuning, type SlabArena } from './sqe-chains.js';

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
// From Node's table: O_NOFOLLOW differs between architectures (x86-64 0o400000, arm64 0o100000).
const O_NOFOLLOW: number = fs.constants.O_NOFOLLOW;
const O_NONBLOCK: number = fs.constants.O_NONBLOCK;
const O_CLOEXEC = 0o2000000;
/** STATX_TYPE | MODE | INO | SIZE | MTIME | CTIME. */
const STATX_MASK = 0x1 | 0x2 | 0x100 | 0x200 | 0x40 | 0x80;
const STATX_BUF_SIZE = 256;
const ENXIO = 6;
/** Linux transfers at most this much per read(2) (MAX_RW_COUNT). */
const MAX_RW = 0x7ffff000;
/** Step tag of the STATX that follows the read. */
const STEP_STATX_AFTER = 7;
/**
 * The empty path STATX gets with AT_EMPTY_PATH. Larger than V8's on-heap typed-array limit (64
 * bytes), so the GC never moves it; and referenced from a function, so it stays alive: a module
 * constant that no function uses is collected once the module has run, and the kernel then reads
 * whatever took its place.
 */
const EMPTY_PATH = Buffer.alloc(128);
let emptyPathAddr = 0;
function emptyPath(): number {
  return (emptyPathAddr ||= addressOf(EMPTY_PATH));
}

/** The result of a safe read: the bytes and the identity of the file they came from. */
export interface SafeRead {
  data: Uint8Array;
  identity: FileIdentity;
}

/** glibc's makedev(), so dev compares equal to Node's `stat().dev` of the same file. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** A FileIdentity from a struct statx (<linux/stat.h> layout). */
export function identityFromStatx(b: Buffer): FileIdentity {
  const ts = (at: number): bigint => b.readBigInt64LE(at) * 1_000_000_000n + BigInt(b.readUInt32LE(at + 8));
  return {
    dev: makedev(b.readUInt32LE(136), b.readUInt32LE(140)),
    ino: b.readBigUInt64LE(32),
    size: b.readBigUInt64LE(40),
    mtimeNs: ts(112),
    ctimeNs: ts(96),
    mode: b.readUInt16LE(28),
  };
}

export class SafeReadTask extends FileTask<SafeRead> {
  private phase: 'open' | 'before' | 'read' = 'open';
  private fd = -1;
  private readonly stat = Buffer.allocUnsafeSlow(STATX_BUF_SIZE * 2);
  private before: FileIdentity | undefined;
  private after: FileIdentity | undefined;
  private buf: Buffer | undefined;
  private got = 0;
  private requested = 0;
  private lastRes = 0;
  private readonly tuning: ChainTuning;

  constructor(path: string, tuning: ChainTuning, owner: ChainOwner, paths: SlabArena) {
    super(path, 'batchRead', owner, paths);
    this.tuning = tuning;
  }

  usesSlot(): boolean {
    return false;
  }
  override holdsHandle(): boolean {
    return true;
  }
  sqeCount(): number {
    return this.phase === 'read' ? 2 : 1;
  }
  inlineBytes(): number {
    if (this.phase !== 'read') return 0;
    const n = this.nextLength();
    return n > this.tuning.inlineLimit ? 0 : n;
  }

  private nextLength(): number {
    return Math.min(this.buf!.length - this.got, MAX_RW);
  }

  protected prepChain(ring: Ring, _slot: number, id: number): void {
    const statAddr = addressOf(this.stat);
    if (this.phase === 'open') {
      ring.prep(OP.OPENAT, AT_FDCWD, this.pathAddr, 0, 0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, id, STEP.OPEN);
    } else if (this.phase === 'before') {
      // STATX: fd = dirfd, addr = path, len = mask, off (addr2) = struct statx *, op flags = AT_* flags
      ring.prep(OP.STATX, this.fd, emptyPath(), STATX_MASK, statAddr, AT_EMPTY_PATH, id, STEP.STATX);
    } else {
      this.requested = this.nextLength();
      const async = this.requested > this.tuning.inlineLimit ? SQE.ASYNC : 0;
      ring.prep(OP.READ, this.fd, addressOf(this.buf!) + this.got, this.requested, this.got, 0, id, STEP.RW, SQE.IO_HARDLINK | async);
      ring.prep(OP.STATX, this.fd, emptyPath(), STATX_MASK, statAddr + STATX_BUF_SIZE, AT_EMPTY_PATH, id, STEP_STATX_AFTER);
    }
  }

  protected onStep(step: number, res: number): void {
    switch (step) {
      case STEP.OPEN:
        if (res >= 0) this.fd = res;
        // open(2) of a socket (or a device without a driver) is ENXIO: it is not a regular file either.
        else if (res === -ENXIO) this.error = notRegularError(this.path, 'a socket or device', this.operation);
        else this.recordErrno(res, 'open');
        return;
      case STEP.STATX: {
        if (res < 0) return this.recordErrno(res, 'fstat');
        const id = identityFromStatx(this.stat.subarray(0, STATX_BUF_SIZE));
        if (!isRegularMode(id.mode)) {
          this.error = notRegularError(this.path, kindOfMode(id.mode), this.operation);
          return;
        }
        this.before = id;
        // One byte more than the size: a file that grew since is seen to have grown.
        this.buf = Buffer.allocUnsafeSlow(Number(id.size) + 1);
        return;
      }
      case STEP.RW:
        if (res < 0) return this.recordErrno(res, 'read');
        this.lastRes = res;
        this.got += res;
        return;
      case STEP_STATX_AFTER:
        if (res < 0) return this.recordErrno(res, 'fstat');
        this.after = identityFromStatx(this.stat.subarray(STATX_BUF_SIZE));
        return;
    }
  }

  protected chainDone(): boolean {
    switch (this.phase) {
      case 'open':
        this.phase = 'before';
        return false;
      case 'before':
        this.phase = 'read';
        return false;
      case 'read': {
        const before = this.before!;
        const eof = this.lastRes < this.requested || this.got >= this.buf!.length;
        if (!eof) return false; // a file over MAX_RW: read on
        if (BigInt(this.got) !== before.size || this.after === undefined || identityMoved(before, this.after)) {
          this.error = changedError(this.path, 'size or times moved during the read', this.operation);
          return true;
        }
        this.result = { data: this.buf!.subarray(0, this.got), identity: this.after };
        return true;
      }
    }
  }

  protected override onFinish(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // a failed close of a read-only fd loses nothing
    }
    this.fd = -1;
  }
}
