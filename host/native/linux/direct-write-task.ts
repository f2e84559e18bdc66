/**
 * A whole-file write that bypasses the page cache (O_DIRECT), as SQE chains:
 *
 *   direct: OPENAT(O_DIRECT|O_CREAT|O_TRUNC) -LINK-> WRITE(aligned head) -HARDLINK-> [FSYNC ->] CLOSE
 *   tail  : OPENAT(buffered)                 -LINK-> WRITE(the rest)     -HARDLINK-> [FSYNC ->] CLOSE
 *
 * O_DIRECT wants the buffer address, the file offset and the length aligned to
 * the device's logical block size. The head (the largest multiple of
 * DIRECT_ALIGN) is copied once into an aligned buffer and written directly; the
 * tail of under one block goes through the page cache in a second chain, so the
 * file never needs padding and truncating. The two parts never share a block.
 *
 * Where the filesystem refuses O_DIRECT (tmpfs: OPENAT fails with EINVAL; some
 * devices: the WRITE does), the task quietly starts again from byte 0 as an
 * ordinary buffered write and tells its owner, which counts it.
 */
import fs from 'node:fs';
import { addressOf, OP, SQE, type Ring } from './ring.js';
import { O_CREAT, O_TRUNC, O_WRONLY, STEP, type ChainOwner, type ChainTuning, type SlabArena } from './sqe-chains.js';
import { WriteTask, WriteTaskBase } from './write-tasks.js';
import { toForgeError } from '../../node/base/errors.js';
import type { WriteResult } from '../../node/base/platform-io.js';

/** Alignment of buffer, offset and length for O_DIRECT: 4096 covers 512-byte and 4 KiB logical blocks. */
export const DIRECT_ALIGN = 4096;
// From Node's own table: the value differs between architectures (x86-64 0o40000, arm64 0o200000).
const O_DIRECT: number = fs.constants.O_DIRECT ?? 0;
const EINVAL = 22;

/** What a direct write tells its owner, for counters. */
export interface DirectWriteOwner extends ChainOwner {
  /** The head went to disk with O_DIRECT (true) or the filesystem refused it and the write fell back (false). */
  noteDirect(used: boolean): void;
}

/** Whether this platform build has O_DIRECT at all. */
export const directSupported = O_DIRECT !== 0;

export interface DirectWriteOptions {
  /** fsync before the last CLOSE (the data is on the device already; the size and extents are not). */
  sync: boolean;
  /** Mode of the file it creates (before the umask); default 0644. With a tail or a restart the file is opened again: keep owner write. */
  mode?: number;
  operation: string;
}

/** Writes `data` as the whole new content of `path`, the aligned head with O_DIRECT. */
export class DirectWriteTask extends WriteTaskBase {
  private readonly head: number;
  private alignedAddr = 0;
  /** The aligned copy of the head, referenced until the kernel is done with it. */
  private aligned: Buffer | undefined;
  private phase: 'direct' | 'buffered';
  private created = false;
  private refused = false;

  constructor(
    path: string,
    data: Uint8Array,
    private readonly opts: DirectWriteOptions,
    private readonly tuning: ChainTuning,
    private readonly directOwner: DirectWriteOwner,
    paths: SlabArena,
  ) {
    super(path, data, opts.operation, directOwner, paths);
    this.head = data.length - (data.length % DIRECT_ALIGN);
    this.phase = directSupported && this.head > 0 ? 'direct' : 'buffered';
  }

  sqeCount(): number {
    return this.syncsThisChain() ? 4 : 3;
  }
  inlineBytes(): number {
    // A direct WRITE hands the pages to the device without copying them on this thread.
    if (this.phase === 'direct') return 0;
    const n = this.data.length - this.written;
    return n > this.tuning.inlineLimit ? 0 : n;
  }

  /** The last chain carries the FSYNC: the direct one only when there is no tail. */
  private syncsThisChain(): boolean {
    return this.opts.sync && (this.phase === 'buffered' || this.head === this.data.length);
  }

  protected prepChain(ring: Ring, slot: number, id: number): void {
    const fresh = this.created ? 0 : O_CREAT | O_TRUNC;
    if (this.phase === 'direct') {
      this.ensureAligned();
      this.prepOpen(ring, slot, id, O_WRONLY | O_DIRECT | fresh, this.opts.mode);
      const n = this.head - this.written;
      ring.prep(OP.WRITE, slot, this.alignedAddr + this.written, n, this.written, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK);
    } else {
      this.prepOpen(ring, slot, id, O_WRONLY | fresh, this.opts.mode);
      const n = this.data.length - this.written;
      const addr = n > 0 ? addressOf(this.data) + this.written : 0;
      const async = n > this.tuning.inlineLimit ? SQE.ASYNC : 0;
      ring.prep(OP.WRITE, slot, addr, n, this.written, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK | async);
    }
    if (this.syncsThisChain()) ring.prep(OP.FSYNC, slot, 0, 0, 0, 0, id, STEP.FSYNC, SQE.FIXED_FILE | SQE.IO_HARDLINK);
    this.prepClose(ring, slot, id);
  }

  /** One copy of the head into memory aligned for the device. */
  private ensureAligned(): void {
    if (this.aligned !== undefined) return;
    const raw = Buffer.allocUnsafeSlow(this.head + DIRECT_ALIGN);
    const skew = (DIRECT_ALIGN - (addressOf(raw) % DIRECT_ALIGN)) % DIRECT_ALIGN;
    this.aligned = raw.subarray(skew, skew + this.head);
    this.aligned.set(this.data.subarray(0, this.head));
    this.alignedAddr = addressOf(raw) + skew;
  }

  protected override onStep(step: number, res: number): void {
    if (this.phase === 'direct' && this.isRefusal(step, res)) {
      this.refused = true;
      return;
    }
    if (this.refused) return; // the rest of a refused chain: ECANCELED, or the CLOSE of what was opened
    if (step === STEP.OPEN && res >= 0) this.created = true;
    super.onStep(step, res);
  }

  /** EINVAL from OPENAT or WRITE in the direct phase: the filesystem or device will not do O_DIRECT here. */
  private isRefusal(step: number, res: number): boolean {
    return res === -EINVAL && (step === STEP.OPEN || step === STEP.RW) && this.error === undefined;
  }

  protected chainDone(): boolean {
    if (this.refused) {
      // Start over buffered from byte 0, truncating whatever the direct attempt left.
      this.directOwner.noteDirect(false);
      this.refused = false;
      this.phase = 'buffered';
      this.written = 0;
      this.created = false;
      this.aligned = undefined;
      return false;
    }
    if (this.phase === 'direct') {
      if (this.written < this.head && this.written % DIRECT_ALIGN === 0) return this.finishedOrStalled(); // short but aligned: go on directly
      this.directOwner.noteDirect(true);
      this.aligned = undefined;
      this.phase = 'buffered';
    }
    return this.finishedOrStalled();
  }
}

/** Largest count one write(2) transfers on Linux (MAX_RW_COUNT); a longer write needs further chains, each with its own open. */
export const MAX_RW_COUNT = 0x7ffff000;
const S_IWUSR = 0o200;

/** A created file's mode the owner cannot write: a second open of it for writing fails (EACCES) unless root. */
function ownerCannotWrite(mode: number | undefined): mode is number {
  return mode !== undefined && (mode & S_IWUSR) === 0;
}

/**
 * Whether this op's file may be opened more than once: a direct write (the buffered tail, a
 * restart where the filesystem refuses O_DIRECT) or one over MAX_RW_COUNT bytes (continuations).
 */
function reopens(op: { data: Uint8Array; direct?: boolean }): boolean {
  return op.direct === true || op.data.length > MAX_RW_COUNT;
}

/**
 * The task of one batchWrite op. With a mode the owner cannot write, a file that may be opened
 * again is created with owner write added ({@link applyCreateModes} takes it away afterwards).
 */
export function writeOpTask(
  op: { path: string; data: Uint8Array; sync?: boolean; direct?: boolean; mode?: number },
  tuning: ChainTuning,
  owner: DirectWriteOwner,
  paths: SlabArena,
): WriteTask | DirectWriteTask {
  const sync = op.sync === true;
  const mode = ownerCannotWrite(op.mode) && reopens(op) ? op.mode | S_IWUSR : op.mode;
  return op.direct === true
    ? new DirectWriteTask(op.path, op.data, { sync, operation: 'batchWrite', mode }, tuning, owner, paths)
    : new WriteTask(op.path, op.data, { truncate: true, sync, operation: 'batchWrite', mode }, tuning, owner, paths);
}

/**
 * After a batch: the files {@link writeOpTask} created with owner write added get their asked mode
 * (`mode & ~umask`: the created bits minus owner write). A failed chmod fails that slot.
 */
export async function applyCreateModes(
  ops: readonly { path: string; data: Uint8Array; direct?: boolean; mode?: number }[],
  results: WriteResult[],
): Promise<WriteResult[]> {
  await Promise.all(
    results.map(async (r, i) => {
      const op = ops[i]!;
      if (!r.ok || !ownerCannotWrite(op.mode) || !reopens(op)) return;
      try {
        const st = await fs.promises.stat(op.path);
        await fs.promises.chmod(op.path, st.mode & 0o7777 & ~S_IWUSR);
      } catch (err) {
        results[i] = { ok: false, error: toForgeError(err, { file: op.path, operation: 'batchWrite', backend: 'io_uring', step: 'chmod' }) };
      }
    }),
  );
  return results;
}
