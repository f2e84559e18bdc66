/**
 * The watch descriptors of one inotify watch: adding a directory's watch, the wd ↔ path maps, and
 * what a failed `inotify_add_watch` means (limit, permission, gone).
 *
 * The wd doubles as the directory's identity for the scan: the kernel returns the wd it already
 * gave when the same inode is added again (through a bind mount, or a followed symlink), so a wd
 * already entered marks a loop or an alias, without an lstat per directory.
 */
import type { ForgeError } from '../../node/base/errors.js';
import type { DirKey } from '../../node/watch/scan.js';
import { errnoName, IN_DONT_FOLLOW, WATCH_MASK, type InotifyBindings } from './inotify.js';
import { limitError, type WatchHealth } from './watch-health.js';

// errno values (Linux).
const [EPERM, ENOENT, EACCES, ENOTDIR, ENOSPC] = [1, 2, 13, 20, 28];

/**
 * The watches of one inotify fd.
 *
 * @example
 * ```ts
 * const w = new InotifyWatches(bindings, root, false, health, (rel) => retryLater(rel));
 * w.fd = fd;
 * scanTree(root, '', snap, { ...opts, identify: (a, r) => w.identify(a, r), beforeList: (a, r, k) => w.record(a, r, k) });
 * ```
 */
export class InotifyWatches {
  readonly wdToRel = new Map<number, string>();
  readonly relToWd = new Map<string, number>();
  fd = -1;
  closed = false;
  /** Directories that could not get a watch because of the limit (ENOSPC). */
  unwatchedForLimit = 0;
  private readonly mask: number;
  /** The last failed add (identify → record of the same directory). */
  private failedAbs: string | undefined;
  private failedWith = 0;

  constructor(
    private readonly b: InotifyBindings,
    private readonly root: string,
    followSymlinks: boolean,
    private readonly health: WatchHealth,
    private readonly onUnreadable: (rel: string) => void,
  ) {
    this.mask = WATCH_MASK | (followSymlinks ? 0 : IN_DONT_FOLLOW);
  }

  /**
   * Adds the watch of `abs` and returns its wd: the scan's identity of the directory. undefined
   * when the watch failed; {@link record} then handles the failure (once the scan knows the
   * directory is not an alias).
   */
  identify(abs: string, _rel: string): number | undefined {
    if (this.closed) return undefined;
    const wd = this.b.addWatch(this.fd, abs, this.mask);
    if (wd >= 0) return wd;
    this.failedAbs = abs;
    this.failedWith = wd;
    return undefined;
  }

  /** The scan entered `rel` (not seen before): keeps its wd, or reports why it has none. */
  record(abs: string, rel: string, key: DirKey): void {
    if (this.closed) return;
    if (typeof key === 'number') return this.keep(key, rel);
    const wd = this.failedAbs === abs ? this.failedWith : this.b.addWatch(this.fd, abs, this.mask);
    this.failedAbs = undefined;
    if (wd >= 0) return this.keep(wd, rel);
    if (wd === -ENOSPC) {
      this.unwatchedForLimit++;
      return;
    }
    if (wd === -ENOENT || wd === -ENOTDIR) return; // gone or replaced meanwhile; its parent's events tell the rest
    if ((wd === -EACCES || wd === -EPERM) && rel !== '') return this.onUnreadable(rel);
    this.health.problems.push(`${rel || '.'}: inotify_add_watch ${errnoName(wd)}`);
  }

  /** `rel` now has watch `wd` (a rescan may find a watched directory under a new path). */
  private keep(wd: number, rel: string): void {
    const prev = this.wdToRel.get(wd);
    if (prev !== undefined && prev !== rel && this.relToWd.get(prev) === wd) this.relToWd.delete(prev);
    this.wdToRel.set(wd, rel);
    this.relToWd.set(rel, wd);
  }

  /** Drops the watch of `rel`. */
  remove(rel: string): void {
    const wd = this.relToWd.get(rel);
    if (wd === undefined) return;
    this.relToWd.delete(rel);
    if (this.wdToRel.get(wd) === rel) this.wdToRel.delete(wd);
    if (!this.closed && this.fd >= 0) this.b.rmWatch(this.fd, wd); // EINVAL when the kernel already dropped it
  }

  /** The kernel dropped `wd` (IN_IGNORED). */
  dropped(wd: number): void {
    const rel = this.wdToRel.get(wd);
    if (rel === undefined) return;
    this.wdToRel.delete(wd);
    if (this.relToWd.get(rel) === wd) this.relToWd.delete(rel);
  }

  /** The error of a watch that hit the limit, or undefined while it has not. */
  limitError(): ForgeError | undefined {
    return this.unwatchedForLimit > 0 ? limitError(this.root, this.relToWd.size, this.unwatchedForLimit) : undefined;
  }

  clear(): void {
    this.wdToRel.clear();
    this.relToWd.clear();
  }
}
