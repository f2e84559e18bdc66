/**
 * Write tasks as SQE chains:
 *
 *   write: OPENAT(direct slot) -LINK-> WRITE(FIXED_FILE) -HARDLINK-> [FSYNC -HARDLINK->] CLOSE(slot)
 *
 * A short write continues from where it stopped in a new chain; a chain that makes no progress
 * MAX_STALLS times is an EIO. CLOSE's result counts for writes (a deferred write error).
 */
import { addressOf, OP, SQE, type Ring } from './ring.js';
import { FileTask, O_CREAT, O_TRUNC, O_WRONLY, STEP, type ChainOwner, type ChainTuning, type SlabArena } from './sqe-chains.js';

const EIO = 5;
/** Zero-progress continuations tolerated before a write is reported as EIO. */
const MAX_STALLS = 3;

export interface WriteTaskOptions {
  /** fsync before CLOSE. */
  sync?: boolean;
  /** Replace the file (O_TRUNC) — writeAll/batchWrite — or write in place at `offset` — write(). */
  truncate: boolean;
  offset?: number;
  /** Mode of a file the write creates (before the umask); default 0644. */
  mode?: number;
  operation: string;
}

/**
 * What every write task shares: its CQE bookkeeping (bytes written, the last result)
 * and the rule that a chain making no progress MAX_STALLS times is an EIO.
 */
export abstract class WriteTaskBase extends FileTask<number> {
  protected readonly data: Uint8Array;
  protected written = 0;
  protected lastRes = 0;
  private stalls = 0;

  constructor(path: string, data: Uint8Array, operation: string, owner: ChainOwner, paths: SlabArena) {
    super(path, operation, owner, paths);
    this.data = data;
  }
  usesSlot(): boolean {
    return true;
  }
  protected onStep(step: number, res: number): void {
    switch (step) {
      case STEP.OPEN:
        return this.recordErrno(res, 'open');
      case STEP.RW:
        if (res < 0) return this.recordErrno(res, 'write');
        this.lastRes = res;
        this.written += res;
        return;
      case STEP.FSYNC:
        return this.recordErrno(res, 'fsync');
      case STEP.CLOSE:
        // close can report a deferred write error (e.g. on network filesystems): not ignorable for writes.
        return this.recordErrno(res, 'close');
    }
  }
  /** Finished when everything is written; fails after repeated zero-progress chains. */
  protected finishedOrStalled(): boolean {
    if (this.written >= this.data.length) {
      this.result = this.written;
      return true;
    }
    if (this.lastRes === 0 && ++this.stalls >= MAX_STALLS) {
      this.recordErrno(-EIO, 'write (no progress)');
      return true;
    }
    return false;
  }
}

/** Writes `data` (whole file or at an offset). A short write continues from where it stopped. */
export class WriteTask extends WriteTaskBase {
  private first = true;
  private readonly opts: WriteTaskOptions;
  private readonly tuning: ChainTuning;

  constructor(path: string, data: Uint8Array, opts: WriteTaskOptions, tuning: ChainTuning, owner: ChainOwner, paths: SlabArena) {
    super(path, data, opts.operation, owner, paths);
    this.opts = opts;
    this.tuning = tuning;
  }
  sqeCount(): number {
    return this.opts.sync ? 4 : 3;
  }
  inlineBytes(): number {
    const n = this.data.length - this.written;
    return n > this.tuning.inlineLimit ? 0 : n;
  }
  protected prepChain(ring: Ring, slot: number, id: number): void {
    const flags = O_WRONLY | (this.first ? O_CREAT | (this.opts.truncate ? O_TRUNC : 0) : 0);
    this.prepOpen(ring, slot, id, flags, this.opts.mode);
    const n = this.data.length - this.written;
    const addr = n > 0 ? addressOf(this.data) + this.written : 0;
    const async = n > this.tuning.inlineLimit ? SQE.ASYNC : 0;
    const off = (this.opts.offset ?? 0) + this.written;
    ring.prep(OP.WRITE, slot, addr, n, off, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK | async);
    if (this.opts.sync) ring.prep(OP.FSYNC, slot, 0, 0, 0, 0, id, STEP.FSYNC, SQE.FIXED_FILE | SQE.IO_HARDLINK);
    this.prepClose(ring, slot, id);
    this.first = false;
  }
  protected chainDone(): boolean {
    return this.finishedOrStalled();
  }
}
