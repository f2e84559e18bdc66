/**
 * What Forge asks of io_uring, as per-file tasks made of SQE chains:
 *
 *   read : OPENAT(direct slot) -LINK-> READ(FIXED_FILE) -HARDLINK-> CLOSE(slot)
 *   write: OPENAT(direct slot) -LINK-> WRITE(FIXED_FILE) -HARDLINK-> [FSYNC -HARDLINK->] CLOSE(slot)
 *   stat : STATX (one SQE, no slot), used only when a file outgrew the size hint
 *   plain: READ on an ordinary fd (the watcher's inotify fd)
 *
 * Every SQE posts its own CQE (no CQE_SKIP_SUCCESS: on a failing head it hides
 * the whole chain's CQEs), so a chain is finished when all its CQEs arrived,
 * including the -ECANCELED ones that follow a failed OPENAT. CLOSE is hard-linked
 * so a slot is emptied even when the READ/WRITE in front of it failed or was short.
 *
 * A task keeps its path bytes and data buffers referenced until its last CQE:
 * the kernel may read or write them from an io-wq thread until then.
 */
import { LINUX_ERRNO, toForgeError, type ForgeError } from '../../node/base/errors.js';
import { addressOf, OP, SQE, type Ring } from './ring.js';

const AT_FDCWD = -100;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
// O_CLOEXEC must not be passed: OPENAT into a direct-descriptor slot rejects it with EINVAL
// (a direct descriptor is not in the fd table, so there is nothing to close on exec).
const STATX_TYPE = 0x1;
const STATX_SIZE = 0x200;
const STATX_BUF_SIZE = 256;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const ECANCELED = 125;
const EISDIR = 21;

/** Step tags carried in the high half of user_data. */
export const STEP = { OPEN: 0, RW: 1, FSYNC: 2, CLOSE: 3, STATX: 4 } as const;

/** Tuning shared by all tasks of one backend. */
export interface ChainTuning {
  /** First READ length for a file of unknown size (bytes). */
  sizeHint: number;
  /** READ/WRITE longer than this get IOSQE_ASYNC: run on an io-wq thread, not inline in io_uring_enter. */
  inlineLimit: number;
}

/**
 * A bump allocator over off-heap slabs the GC never moves: NUL-terminated
 * paths for OPENAT/STATX, and small read results (like Node's Buffer pool, a
 * result shares its slab's ArrayBuffer). A slab lives as long as anything
 * carved from it.
 */
export class SlabArena {
  /** The slab the last allocation came from (callers keep it referenced). */
  current: Buffer;
  private addr: number;
  private used = 0;
  constructor(private readonly slabSize: number) {
    this.current = Buffer.allocUnsafeSlow(slabSize);
    this.addr = addressOf(this.current);
  }

  private reserve(n: number): number {
    if (this.used + n > this.slabSize) {
      this.current = Buffer.allocUnsafeSlow(Math.max(this.slabSize, n));
      this.addr = addressOf(this.current);
      this.used = 0;
    }
    const off = this.used;
    this.used = (off + n + 7) & ~7; // keep 8-byte alignment
    return off;
  }

  /** Copies `s` + NUL into the arena; returns its address (the slab is `current`). */
  putCString(s: string): number {
    const n = Buffer.byteLength(s);
    const off = this.reserve(n + 1);
    this.current.write(s, off, 'utf8');
    this.current[off + n] = 0;
    return this.addr + off;
  }

  /** A copy of `src[0, n)` carved from the arena. */
  copyOf(src: Buffer, n: number): Buffer {
    const off = this.reserve(n);
    const slab = this.current;
    slab.set(src.subarray(0, n), off); // TypedArray#set: a plain memcpy, cheaper than Buffer#copy here
    return slab.subarray(off, off + n);
  }
}

/** What tasks need from the backend that schedules them. */
export interface ChainOwner {
  /** The slot's scratch buffer (reused per slot; stays referenced by the owner) and its address. */
  scratch(slot: number): Buffer;
  scratchAddr(slot: number): number;
  /** Where small read results are copied to. */
  readonly results: SlabArena;
  /** Results up to this size go to `results`; larger ones get their own buffer. */
  readonly smallResult: number;
  /** Called when the chain in flight got its last CQE. */
  chainComplete(task: FileTask<unknown>): void;
  /** Whether recent files outgrew the size hint (then new reads start with STATX). */
  readonly preferStat: boolean;
  /** Reports whether a first READ filled the size hint. */
  noteHint(filled: boolean): void;
}

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: ForgeError };

/**
 * One file operation as a sequence of chains. The backend asks for the next
 * chain, preps it with a slot and an id, the task receives its CQEs (it is the
 * completion loop's target for that id), and the backend asks again until the
 * task is finished. No promise per task: `onSettle` receives the outcome.
 */
export abstract class FileTask<R> {
  readonly path: string;
  /** The slab holding the NUL-terminated path, referenced until the task ends. */
  protected readonly pathSlab: Buffer;
  protected readonly pathAddr: number;
  readonly operation: string;
  protected readonly owner: ChainOwner;
  /** Scheduling state, owned by the backend. */
  slot = -1;
  id = -1;
  guard: { release(): void } | undefined = undefined;
  /** Position in its batch. */
  index = 0;
  onSettle: ((task: FileTask<R>, outcome: Outcome<R>) => void) | undefined = undefined;
  /** CQEs still expected for the chain in flight. */
  private awaiting = 0;
  protected result: R | undefined;
  protected error: ForgeError | undefined;

  constructor(path: string, operation: string, owner: ChainOwner, paths: SlabArena) {
    this.path = path;
    this.operation = operation;
    this.owner = owner;
    this.pathAddr = paths.putCString(path);
    this.pathSlab = paths.current;
  }

  /** A promise of the outcome (single operations; batches use onSettle directly). */
  promise(): Promise<Outcome<R>> {
    return new Promise((resolve) => (this.onSettle = (_t, o) => resolve(o)));
  }

  /** Called by the scheduler right before it sizes and starts the next chain. */
  plan(): void {}
  /** Whether the next chain installs a file in a direct-descriptor slot (and takes a handle). */
  abstract usesSlot(): boolean;
  /**
   * Whether the task keeps one handle of the budget from its first chain to its end (it holds an
   * ordinary fd across chains, as a safe read does), rather than one per chain with a slot.
   */
  holdsHandle(): boolean {
    return false;
  }
  /** Called once when the task settles (success or failure): release what it holds outside the ring. */
  protected onFinish(): void {}
  /** SQEs (= CQEs) in the next chain. */
  abstract sqeCount(): number;
  /** Bytes the next chain copies inline (inside io_uring_enter, on this thread). */
  abstract inlineBytes(): number;
  /** Writes the next chain's SQEs. */
  protected abstract prepChain(ring: Ring, slot: number, id: number): void;
  /** One CQE of the chain in flight. */
  protected abstract onStep(step: number, res: number): void;
  /** Called when the chain's last CQE arrived: true when the task is finished. */
  protected abstract chainDone(): boolean;

  prep(ring: Ring): void {
    this.awaiting = this.sqeCount();
    this.prepChain(ring, this.slot, this.id);
  }

  /** The completion loop's entry point for this task's id. */
  onCqe(step: number, res: number): void {
    this.onStep(step, res);
    if (--this.awaiting === 0) this.owner.chainComplete(this as FileTask<unknown>);
  }

  /** After the chain completed: settles the task and returns true, or returns false for another chain. */
  advance(): boolean {
    if (this.error === undefined && !this.chainDone()) return false;
    this.finish();
    return true;
  }

  /** Fails the task without I/O (validation, shutdown). */
  fail(error: ForgeError): void {
    this.error = error;
    this.finish();
  }

  private finish(): void {
    this.onFinish();
    const o: Outcome<R> = this.error !== undefined ? { ok: false, error: this.error } : { ok: true, value: this.result as R };
    this.onSettle?.(this, o);
  }

  /** Records a negative CQE result as this task's error (the first real one wins over ECANCELED). */
  protected recordErrno(res: number, what: string): void {
    if (res >= 0) return;
    if (this.error !== undefined && (res === -ECANCELED || this.error.context.errno !== ECANCELED)) return;
    this.error = toForgeError(
      { kind: 'cqe', res },
      { file: this.path, operation: this.operation, backend: 'io_uring', step: what },
      `${what} failed: ${LINUX_ERRNO[-res] ?? `errno ${-res}`}`,
    );
  }

  /** `createMode`: the mode of a file O_CREAT makes (default 0644), before the umask. */
  protected prepOpen(ring: Ring, slot: number, id: number, flags: number, createMode = 0o644): void {
    // For OPENAT, sqe->len carries the mode of a created file.
    const mode = flags & O_CREAT ? createMode & 0o7777 : 0;
    ring.prep(OP.OPENAT, AT_FDCWD, this.pathAddr, mode, 0, flags, id, STEP.OPEN, SQE.IO_LINK, slot + 1);
  }

  protected prepClose(ring: Ring, slot: number, id: number): void {
    ring.prep(OP.CLOSE, 0, 0, 0, 0, 0, id, STEP.CLOSE, 0, slot + 1);
  }
}

/** Everything of one file: first READ into the slot scratch (size hint), then STATX and the rest if it filled the hint. */
export class ReadAllTask extends FileTask<Uint8Array> {
  private phase: 'hint' | 'stat' | 'rest' = 'hint';
  private started = false;
  private skippedHint = false;
  private buf: Buffer | undefined;
  private got = 0;
  private requested = 0;
  private lastRes = 0;
  private statSize = -1;
  private statBuf: Buffer | undefined;
  private readonly tuning: ChainTuning;

  constructor(path: string, tuning: ChainTuning, owner: ChainOwner, paths: SlabArena, operation = 'batchRead') {
    super(path, operation, owner, paths);
    this.tuning = tuning;
  }

  /** While recent files of this backend outgrew the hint, a new read skips the hint READ and starts with STATX. */
  override plan(): void {
    if (!this.started && this.phase === 'hint' && this.owner.preferStat) {
      this.phase = 'stat';
      this.skippedHint = true;
    }
    this.started = true;
  }
  usesSlot(): boolean {
    return this.phase !== 'stat';
  }
  sqeCount(): number {
    return this.phase === 'stat' ? 1 : 3;
  }
  inlineBytes(): number {
    if (this.phase === 'hint') return this.tuning.sizeHint;
    if (this.phase === 'stat') return 0;
    const n = this.nextLength();
    return n > this.tuning.inlineLimit ? 0 : n;
  }

  private nextLength(): number {
    return this.buf ? this.buf.length - this.got : this.tuning.sizeHint;
  }

  protected prepChain(ring: Ring, slot: number, id: number): void {
    if (this.phase === 'stat') {
      this.statBuf ??= Buffer.allocUnsafeSlow(STATX_BUF_SIZE);
      // STATX: fd = dirfd, addr = path, len = mask, off (addr2) = struct statx *, op flags = AT_* flags
      ring.prep(OP.STATX, AT_FDCWD, this.pathAddr, STATX_TYPE | STATX_SIZE, addressOf(this.statBuf), 0, id, STEP.STATX);
      return;
    }
    this.prepOpen(ring, slot, id, O_RDONLY);
    if (this.phase === 'hint') {
      this.requested = this.tuning.sizeHint;
      ring.prep(OP.READ, slot, this.owner.scratchAddr(slot), this.requested, 0, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK);
    } else {
      const b = this.buf!;
      this.requested = b.length - this.got;
      const async = this.requested > this.tuning.inlineLimit ? SQE.ASYNC : 0;
      ring.prep(OP.READ, slot, addressOf(b) + this.got, this.requested, this.got, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK | async);
    }
    this.prepClose(ring, slot, id);
  }

  protected onStep(step: number, res: number): void {
    if (step === STEP.STATX) {
      if (res < 0) return this.recordErrno(res, 'statx');
      const sb = this.statBuf!;
      if ((sb.readUInt16LE(28) & S_IFMT) === S_IFDIR) return this.recordErrno(-EISDIR, 'read');
      this.statSize = Number(sb.readBigUInt64LE(40));
      // Keep the backend's guess honest: would this file have fit the hint?
      if (this.skippedHint) this.owner.noteHint(this.statSize >= this.tuning.sizeHint);
      return;
    }
    if (step === STEP.OPEN) return this.recordErrno(res, 'open');
    if (step === STEP.CLOSE) return; // a failed close of a read-only file loses nothing
    if (res < 0) return this.recordErrno(res, 'read');
    this.lastRes = res;
    if (this.phase === 'hint') {
      this.owner.noteHint(res >= this.requested);
      const s = this.owner.scratch(this.slot);
      if (res < this.requested) {
        // Below the hint: the whole file (the kernel completes buffered regular-file reads up to EOF).
        if (res <= this.owner.smallResult) this.result = this.owner.results.copyOf(s, res);
        else {
          const out = Buffer.allocUnsafeSlow(res);
          s.copy(out, 0, 0, res);
          this.result = out;
        }
      } else {
        this.buf = Buffer.allocUnsafeSlow(res); // keep what we have; grown after STATX
        s.copy(this.buf, 0, 0, res);
      }
      this.got = res;
      return;
    }
    this.got += res;
  }

  protected chainDone(): boolean {
    switch (this.phase) {
      case 'hint':
        if (this.result !== undefined) return true;
        this.phase = 'stat';
        return false;
      case 'stat': {
        // One extra byte tells "exactly statSize" from "grew since STATX".
        const size = Math.max(this.statSize, this.got) + 1;
        const b = Buffer.allocUnsafeSlow(size);
        this.buf?.copy(b, 0, 0, this.got); // nothing yet when the hint READ was skipped
        this.buf = b;
        this.phase = 'rest';
        return false;
      }
      case 'rest': {
        const b = this.buf!;
        const eof = this.lastRes === 0 || (this.lastRes < this.requested && this.got >= this.statSize);
        if (eof) {
          this.result = b.subarray(0, this.got);
          return true;
        }
        if (this.got === b.length) {
          // Still growing: double the buffer and keep reading.
          const nb = Buffer.allocUnsafeSlow(b.length * 2);
          b.copy(nb, 0, 0, this.got);
          this.buf = nb;
        }
        return false;
      }
    }
  }
}

/** `length` bytes at `offset` (fewer at EOF). Short reads continue until EOF or `length`. */
export class ReadRangeTask extends FileTask<Uint8Array> {
  private readonly buf: Buffer;
  private got = 0;
  private lastRes = -1;
  private readonly offset: number;
  private readonly tuning: ChainTuning;

  constructor(path: string, offset: number, length: number, tuning: ChainTuning, owner: ChainOwner, paths: SlabArena) {
    super(path, 'read', owner, paths);
    this.offset = offset;
    this.buf = Buffer.allocUnsafeSlow(length);
    this.tuning = tuning;
  }
  usesSlot(): boolean {
    return true;
  }
  sqeCount(): number {
    return 3;
  }
  inlineBytes(): number {
    const n = this.buf.length - this.got;
    return n > this.tuning.inlineLimit ? 0 : n;
  }
  protected prepChain(ring: Ring, slot: number, id: number): void {
    const n = this.buf.length - this.got;
    this.prepOpen(ring, slot, id, O_RDONLY);
    const async = n > this.tuning.inlineLimit ? SQE.ASYNC : 0;
    ring.prep(OP.READ, slot, addressOf(this.buf) + this.got, n, this.offset + this.got, 0, id, STEP.RW, SQE.FIXED_FILE | SQE.IO_HARDLINK | async);
    this.prepClose(ring, slot, id);
  }
  protected onStep(step: number, res: number): void {
    if (step === STEP.OPEN) return this.recordErrno(res, 'open');
    if (step === STEP.RW) {
      if (res < 0) return this.recordErrno(res, 'read');
      this.lastRes = res;
      this.got += res;
    }
  }
  protected chainDone(): boolean {
    if (this.lastRes === 0 || this.got >= this.buf.length) {
      // Copy a small result out of a large request so the big buffer is not retained.
      this.result = this.got * 2 < this.buf.length ? Buffer.from(this.buf.subarray(0, this.got)) : this.buf.subarray(0, this.got);
      return true;
    }
    return false;
  }
}
