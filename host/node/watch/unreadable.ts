/**
 * Directories a watch could not list for lack of permission (EACCES, EPERM), shared by the watcher
 * backends: each is tried again on a timer (and whenever a backend learns its mode changed) until it
 * can be listed; then it is watched and scanned, and what it holds is reported as created. Until then
 * `stats()` counts it (`unreadableDirectories`) and names it in `degradedReason`, and the watch is partial.
 */
import type { Change, WatchStats } from '../base/platform-io.js';
import { entriesUnder, type Snapshot } from './scan.js';

/** How often directories not readable yet are tried again. */
export const UNREADABLE_RETRY_MS = 1000;

/** At most this many paths are named in the reason; `unreadableDirectories` holds the total. */
const NAMED = 5;

/**
 * The set of directories not readable yet, and the timer that retries them.
 *
 * @example
 * ```ts
 * const unreadable = new UnreadableDirs((rels) => { for (const r of rels) rescan(r); });
 * scanTree(root, '', snapshot, { ...opts, onUnreadable: (rel) => unreadable.note(rel) });
 * ```
 */
export class UnreadableDirs {
  private readonly dirs = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * @param retry gets every directory still noted, once per period; it calls {@link take} for each
   *   (a directory still unreadable is noted again by the scan it runs).
   */
  constructor(
    private readonly retry: (rels: string[]) => void,
    private readonly periodMs = UNREADABLE_RETRY_MS,
  ) {}

  /** A directory that could not be listed: tried again after the period. */
  note(rel: string): void {
    if (this.closed) return;
    this.dirs.add(rel);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.retry([...this.dirs]);
    }, this.periodMs);
  }

  has(rel: string): boolean {
    return this.dirs.has(rel);
  }

  /** Takes `rel` off the list before it is scanned again; false when it was not on it. */
  take(rel: string): boolean {
    return this.dirs.delete(rel);
  }

  get size(): number {
    return this.dirs.size;
  }

  /** Forgets what is at or below `rel` (it was removed from the tree). */
  forgetUnder(rel: string): void {
    for (const d of [...this.dirs]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
  }

  /** The reason a watch is partial because of these directories, or undefined. */
  reason(): string | undefined {
    if (this.dirs.size === 0) return undefined;
    const first = [...this.dirs].slice(0, NAMED).map((r) => r || '.');
    return `not readable yet (retried every ${this.periodMs} ms): ${first.join(', ')}${this.dirs.size > NAMED ? ', …' : ''}`;
  }

  /** The stats field. */
  stats(): Pick<WatchStats, 'unreadableDirectories'> {
    return { unreadableDirectories: this.dirs.size };
  }

  /** Stops the retries (the watch closes). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirs.clear();
  }
}

/**
 * Runs `scan` (which adds what it finds below `rel` to `snapshot`) and returns a `created` change
 * for every path it added, except `rel` itself: what a directory that just became readable holds.
 *
 * @example
 * ```ts
 * const changes = createdBy(snapshot, 'locked', () => scanTree(root, 'locked', snapshot, opts));
 * ```
 */
export function createdBy(snapshot: Snapshot, rel: string, scan: () => unknown): Change[] {
  const known = new Set(entriesUnder(snapshot, rel));
  scan();
  const out: Change[] = [];
  for (const k of entriesUnder(snapshot, rel)) if (k !== rel && !known.has(k)) out.push({ path: k, kind: 'created' });
  return out;
}
