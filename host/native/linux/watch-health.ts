/**
 * What an inotify watch could not cover, kept apart from the event handling: directories that
 * could not be listed or watched (problems), directories not readable yet (retried until they
 * are), entries no path can name (non-UTF-8 names, paths over PATH_MAX), and the watch limit.
 * It turns them into the `stats()` fields and the reason a watch is partial.
 */
import * as fs from 'node:fs';
import { ForgeError } from '../../node/base/errors.js';
import type { WatchStats } from '../../node/base/platform-io.js';
import type { DirKey, Snapshot, SnapshotEntry } from '../../node/watch/scan.js';

const ENOSPC = 28;

/** Reads the kernel's per-user watch limit, or undefined where it cannot be read. */
export function maxUserWatches(): number | undefined {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** The error of a watch that hit fs.inotify.max_user_watches. */
export function limitError(root: string, registered: number, missing: number): ForgeError {
  const needed = registered + missing;
  const limit = maxUserWatches();
  const target = limit !== undefined ? limit + missing : undefined;
  return new ForgeError(
    'filesystem',
    `watch: inotify watch limit reached: ${registered} of ${needed} directories under ${root} are watched ` +
      `(${missing} more watches needed); raise fs.inotify.max_user_watches` +
      (limit !== undefined ? ` (now ${limit}) to at least ${target}` : ''),
    {
      context: { operation: 'watch', file: root, code: 'ENOSPC', errno: ENOSPC, needed, registered, missing, limit, partial: true },
      suggestions: [
        `sudo sysctl fs.inotify.max_user_watches=${target ?? 'N'} (persist it in /etc/sysctl.d/)`,
        'Or ignore large generated directories with the `ignore` option.',
      ],
    },
  );
}

/** How often directories not readable yet are tried again (besides when their mode changes: IN_ATTRIB). */
export const UNREADABLE_RETRY_MS = 1000;

/** At most this many paths are named in `degradedReason`; the counters hold the totals. */
const NAMED = 5;

function sample(paths: Iterable<string>, total: number): string {
  const first = [...paths].slice(0, NAMED);
  return `${first.join(', ')}${total > NAMED ? ', …' : ''}`;
}

export class WatchHealth {
  /** Directories that could not be listed or watched for a reason other than permission. */
  readonly problems: string[] = [];
  /** Directories not readable yet (root-relative). */
  readonly unreadable = new Set<string>();
  private readonly notUtf8 = new Set<string>();
  private readonly tooLong = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;

  /** A directory not readable yet: `retry` gets every such directory after UNREADABLE_RETRY_MS. */
  noteUnreadable(rel: string, retry: (rels: string[]) => void): void {
    this.unreadable.add(rel);
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      retry([...this.unreadable]);
    }, UNREADABLE_RETRY_MS);
  }

  /** Stops the retries (the watch closes). */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** An entry no path can name; counted once per path. */
  unaddressable(rel: string, why: 'not-utf8' | 'too-long'): void {
    (why === 'not-utf8' ? this.notUtf8 : this.tooLong).add(rel);
  }

  /** The stats fields and reasons; `limit` is the watch-limit error, if any. */
  stats(limit: ForgeError | undefined): Pick<WatchStats, 'partial' | 'degradedReason' | 'unreadableDirectories' | 'namesNotUtf8' | 'pathsTooLong'> {
    const reasons: string[] = [];
    if (limit) reasons.push(limit.message);
    if (this.problems.length > 0) reasons.push(`not listed: ${sample(this.problems, this.problems.length)}`);
    if (this.unreadable.size > 0) reasons.push(`not readable yet (retried every second and on chmod): ${sample(this.unreadable, this.unreadable.size)}`);
    if (this.notUtf8.size > 0) reasons.push(`names that are not valid UTF-8, not watched: ${sample(this.notUtf8, this.notUtf8.size)}`);
    if (this.tooLong.size > 0) reasons.push(`paths longer than PATH_MAX, not watched: ${sample(this.tooLong, this.tooLong.size)}`);
    return {
      partial: reasons.length > 0,
      ...(reasons.length > 0 ? { degradedReason: reasons.join('; ') } : {}),
      unreadableDirectories: this.unreadable.size,
      namesNotUtf8: this.notUtf8.size,
      pathsTooLong: this.tooLong.size,
    };
  }
}

/** The path-keyed maps of an inotify watch. */
export interface WatchMaps {
  snapshot: Snapshot;
  wdToRel: Map<number, string>;
  relToWd: Map<string, number>;
  seenDirs: Map<DirKey, string>;
}

/** Re-keys everything at or below `from` to `to` after a rename inside the tree (the kernel keeps the watches). */
export function rekeySubtree(m: WatchMaps, from: string, to: string): void {
  const prefix = `${from}/`;
  const under = (k: string): boolean => k === from || k.startsWith(prefix);
  const rekey = (k: string): string => (k === from ? to : to + k.slice(from.length));
  const moved: Array<[string, SnapshotEntry]> = [];
  for (const [k, e] of m.snapshot) if (under(k)) moved.push([k, e]);
  for (const [k] of moved) m.snapshot.delete(k);
  for (const [k, e] of moved) m.snapshot.set(rekey(k), e);
  for (const [wd, r] of [...m.wdToRel]) {
    if (!under(r)) continue;
    const nr = rekey(r);
    m.wdToRel.set(wd, nr);
    if (m.relToWd.get(r) === wd) m.relToWd.delete(r);
    m.relToWd.set(nr, wd);
  }
  for (const [key, r] of m.seenDirs) if (under(r)) m.seenDirs.set(key, rekey(r));
}
