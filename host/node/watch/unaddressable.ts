/**
 * Entries a watch cannot address, shared by the watcher backends: a name that is not valid UTF-8
 * (a string path cannot name it) or a path longer than PATH_MAX (no path call reaches it). They are
 * counted in `stats()` (`namesNotUtf8`, `pathsTooLong`) and named in `degradedReason`, never dropped
 * silently.
 */
import type { WatchStats } from '../base/platform-io.js';

/** At most this many paths are named in the reason; the counters hold the totals. */
const NAMED = 5;

function sample(paths: Set<string>): string {
  return `${[...paths].slice(0, NAMED).join(', ')}${paths.size > NAMED ? ', …' : ''}`;
}

/**
 * The entries a watch could not address, each counted once.
 *
 * @example
 * ```ts
 * const un = new UnaddressableEntries();
 * scanTree(root, '', snapshot, { ...opts, onUnaddressable: (rel, why) => un.note(rel, why) });
 * ```
 */
export class UnaddressableEntries {
  private readonly notUtf8 = new Set<string>();
  private readonly tooLong = new Set<string>();

  note(rel: string, why: 'not-utf8' | 'too-long'): void {
    (why === 'not-utf8' ? this.notUtf8 : this.tooLong).add(rel);
  }

  /** The reasons a watch is partial because of them (empty when none). */
  reasons(): string[] {
    const out: string[] = [];
    if (this.notUtf8.size > 0) out.push(`names that are not valid UTF-8, not watched: ${sample(this.notUtf8)}`);
    if (this.tooLong.size > 0) out.push(`paths longer than PATH_MAX, not watched: ${sample(this.tooLong)}`);
    return out;
  }

  /** The stats fields. */
  stats(): Pick<WatchStats, 'namesNotUtf8' | 'pathsTooLong'> {
    return { namesNotUtf8: this.notUtf8.size, pathsTooLong: this.tooLong.size };
  }
}
