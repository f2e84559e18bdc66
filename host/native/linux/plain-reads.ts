/**
 * READs of ordinary fds (the watcher's inotify fd) on the backend's ring, beside its file chains:
 * each pending read keeps its buffer referenced until its CQE, and can be cancelled by fd
 * (IORING_OP_ASYNC_CANCEL by user_data) before that fd is closed.
 */
import type { CompletionLoop, CqeTarget } from './completion-loop.js';
import { OP, addressOf, type Ring } from './ring.js';

const STEP_PLAIN = 5;
const STEP_CANCEL = 6;
export const ECANCELED = 125;

/** What plain reads need from the scheduler that owns the ring. */
export interface PlainReadHost {
  readonly ring: Ring;
  readonly loop: CompletionLoop;
  /** Makes room for `n` SQEs (submitting what is prepped). */
  ensureSq(n: number): void;
  /** Submits what is prepped and reaps what completed inline. */
  flush(): void;
  /** No new reads once closing; no cancels once closed. */
  isClosing(): boolean;
  isClosed(): boolean;
}

/** A pending read: keeps `buf` referenced until its CQE. */
class PlainRead implements CqeTarget {
  id = -1;
  constructor(
    readonly fd: number,
    readonly buf: Buffer,
    readonly resolve: (n: number) => void,
    private readonly done: (r: PlainRead) => void,
  ) {}
  onCqe(_step: number, res: number): void {
    this.done(this);
    this.resolve(res);
  }
}

/**
 * The plain reads of one ring.
 *
 * @example
 * ```ts
 * const reads = new PlainReads(host);
 * const n = await reads.read(inotifyFd, buf, true); // bytes, or -errno
 * ```
 */
export class PlainReads {
  private readonly pending = new Map<number, PlainRead>();

  constructor(private readonly host: PlainReadHost) {}

  /** Reads pending. */
  get size(): number {
    return this.pending.size;
  }

  /** One READ at the fd's position (offset -1); resolves to the CQE result, -ECANCELED once closing. */
  read(fd: number, buf: Buffer, ref: boolean): Promise<number> {
    const h = this.host;
    if (h.isClosing()) return Promise.resolve(-ECANCELED);
    return new Promise<number>((resolve) => {
      const r = new PlainRead(fd, buf, resolve, (done) => {
        h.loop.remove(done.id);
        this.pending.delete(done.id);
      });
      r.id = h.loop.add(r, ref);
      this.pending.set(r.id, r);
      h.ensureSq(1);
      h.ring.prep(OP.READ, fd, addressOf(buf), buf.length, -1, 0, r.id, STEP_PLAIN);
      h.loop.expect(r.id, 1);
      h.flush();
    });
  }

  /** Cancels every pending read of `fd`; resolves once the cancel requests completed. */
  async cancelFd(fd: number): Promise<void> {
    const ids = [...this.pending].filter(([, p]) => p.fd === fd).map(([id]) => id);
    await Promise.all(ids.map((id) => this.cancelById(id)));
  }

  /** Asks the kernel to cancel every pending read (at close). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) void this.cancelById(id);
  }

  /** A forced close: every pending read resolves to -ECANCELED now. */
  abandon(): void {
    for (const p of this.pending.values()) p.resolve(-ECANCELED);
    this.pending.clear();
  }

  private cancelById(target: number): Promise<number> {
    const h = this.host;
    if (h.isClosed()) return Promise.resolve(-ECANCELED);
    return new Promise<number>((resolve) => {
      const req: CqeTarget & { id: number } = {
        id: -1,
        onCqe: (_s, res) => {
          h.loop.remove(req.id);
          resolve(res);
        },
      };
      req.id = h.loop.add(req, false);
      h.ensureSq(1);
      // ASYNC_CANCEL matches the full 64-bit user_data: low = id, high = the plain-read step tag.
      h.ring.prep(OP.ASYNC_CANCEL, -1, target + STEP_PLAIN * 0x100000000, 0, 0, 0, req.id, STEP_CANCEL);
      h.loop.expect(req.id, 1);
      h.flush();
    });
  }
}
