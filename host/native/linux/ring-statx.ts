/**
 * lstat of many paths through the backend's ring (IORING_OP_STATX with AT_SYMLINK_NOFOLLOW), for
 * the tree scan: one io_uring_enter per window of paths instead of one statx syscall per file, and
 * no Stats object per file. Windows go one at a time, so the CQ never holds more than a window of
 * them beside the scheduler's own chains.
 */
import type { FileIdentity } from '../../node/base/platform-io.js';
import type { CompletionLoop, CqeTarget } from './completion-loop.js';
import { identityFromStatx } from './safe-read-task.js';
import { OP, addressOf, type Ring } from './ring.js';

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** STATX_TYPE | MODE | INO | SIZE | MTIME | CTIME (struct statx in <linux/stat.h>; dev is always filled). */
const STATX_MASK = 0x1 | 0x2 | 0x100 | 0x200 | 0x40 | 0x80;
/** sizeof(struct statx). */
const STATX_SIZE = 256;
const ECANCELED = 125;
/** Paths per window at most (a window's SQEs go in one enter; never more than the SQ holds). */
export const STATX_WINDOW = 128;

/** One path's lstat: its identity (mode, size, ino, dev, mtime, ctime), or a negative errno. */
export type StatxResult = FileIdentity | number;

/** What ring statx needs from the scheduler that owns the ring. */
export interface StatxHost {
  readonly ring: Ring;
  readonly loop: CompletionLoop;
  /** Makes room for `n` SQEs (submitting what is prepped). */
  ensureSq(n: number): void;
  /** Submits what is prepped and reaps what completed inline. */
  flush(): void;
  /** No new work once closing. */
  isClosing(): boolean;
}

/** One window in flight: keeps its path and statx buffers referenced until its last CQE. */
class Window implements CqeTarget {
  id = -1;
  left: number;
  readonly res: Int32Array;
  constructor(
    readonly names: Buffer,
    readonly stats: Buffer,
    n: number,
    private readonly done: (w: Window) => void,
  ) {
    this.left = n;
    this.res = new Int32Array(n);
  }
  onCqe(step: number, res: number): void {
    this.res[step] = res;
    if (--this.left === 0) this.done(this);
  }
}

/**
 * lstat through the ring.
 *
 * @example
 * ```ts
 * const statx = new RingStatx(host);
 * const [a] = await statx.lstatMany(['/etc/hostname']);
 * if (typeof a !== 'number') console.log(a.size, a.mode.toString(8));
 * ```
 */
export class RingStatx {
  constructor(private readonly host: StatxHost) {}

  /** One result per path, in order: the identity lstat would give, or -errno (-ENOENT, -EACCES, ...). */
  async lstatMany(paths: readonly string[]): Promise<StatxResult[]> {
    const out: StatxResult[] = new Array(paths.length);
    // A window fits the SQ whole (a small ring takes smaller windows).
    const win = Math.max(1, Math.min(STATX_WINDOW, this.host.ring.sqEntries));
    for (let at = 0; at < paths.length; at += win) {
      const part = paths.slice(at, at + win);
      const got = await this.window(part);
      for (let i = 0; i < part.length; i++) out[at + i] = got[i]!;
    }
    return out;
  }

  private window(paths: readonly string[]): Promise<StatxResult[]> {
    const h = this.host;
    const n = paths.length;
    if (n === 0) return Promise.resolve([]);
    if (h.isClosing()) return Promise.resolve(paths.map(() => -ECANCELED));
    // All names of the window in one off-heap buffer, each NUL-terminated; a name holding a NUL
    // byte is refused here (the kernel would read a shorter path).
    const encoded = paths.map((p) => Buffer.from(p, 'utf8'));
    let total = 0;
    for (const e of encoded) total += e.length + 1;
    const names = Buffer.allocUnsafeSlow(total);
    const stats = Buffer.allocUnsafeSlow(STATX_SIZE * n);
    const offsets = new Array<number>(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = o;
      o += encoded[i]!.copy(names, o);
      names[o++] = 0;
    }
    return new Promise<StatxResult[]>((resolve) => {
      const w = new Window(names, stats, n, (done) => {
        h.loop.remove(done.id);
        const results: StatxResult[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const r = done.res[i]!;
          results[i] = r < 0 ? r : identityFromStatx(done.stats.subarray(i * STATX_SIZE, (i + 1) * STATX_SIZE));
        }
        resolve(results);
      });
      w.id = h.loop.add(w, true);
      const namesAddr = addressOf(names);
      const statsAddr = addressOf(stats);
      const ok = encoded.filter((e) => !e.includes(0)).length;
      // Room for the whole window first: a flush in the middle could reap CQEs not yet expected.
      if (ok > 0) {
        try {
          h.ensureSq(ok);
        } catch (e) {
          h.loop.remove(w.id);
          throw e;
        }
      }
      for (let i = 0; i < n; i++) {
        if (encoded[i]!.includes(0)) {
          w.onCqe(i, -22); // EINVAL: the kernel would read the name only up to its NUL
          continue;
        }
        // STATX: fd = dirfd, addr = path, len = mask, off (addr2) = struct statx *, op flags = AT_* flags
        h.ring.prep(OP.STATX, AT_FDCWD, namesAddr + offsets[i]!, STATX_MASK, statsAddr + i * STATX_SIZE, AT_SYMLINK_NOFOLLOW, w.id, i);
      }
      if (ok > 0) {
        h.loop.expect(w.id, ok);
        h.flush();
      }
    });
  }
}
