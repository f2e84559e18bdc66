/**
 * Deriving changes by comparing two listings: what a directory rescan (kqueue
 * NOTE_WRITE on a directory) or an overflow rescan (IOCP's 0-byte result)
 * reports. Pure functions over root-relative, '/'-separated snapshots
 * (host/node/watch/scan.ts's Snapshot), so they are unit-tested on Linux.
 */
import type { Change } from '../../node/base/platform-io.js';
import type { SnapshotEntry } from '../../node/watch/scan.js';

/** A root-relative path → state listing (a Snapshot, or part of one). */
export type Listing = ReadonlyMap<string, SnapshotEntry>;

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** The entries of `snapshot` that are direct children of directory `dirRel` ('' = root). */
export function childrenOf(snapshot: Listing, dirRel: string): Map<string, SnapshotEntry> {
  const out = new Map<string, SnapshotEntry>();
  for (const [k, v] of snapshot) if (k !== '' && parentOf(k) === dirRel) out.set(k, v);
  return out;
}

/**
 * Changes that turn `before` into `after`: new paths are `created` (parents
 * before children), vanished ones `removed` (children before parents), and a
 * file whose size, mtime or inode (replaced by a rename) changed, or that changed between file and
 * directory, is `modified`. Directories whose mtime changed are not reported:
 * that only means their listing changed, which the created/removed entries say.
 *
 * @example
 * ```ts
 * diffListings(new Map([['a', f1]]), new Map([['a', f1], ['b', f2]])); // [{ path: 'b', kind: 'created' }]
 * ```
 */
export function diffListings(before: Listing, after: Listing): Change[] {
  const created: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const [k, a] of after) {
    const b = before.get(k);
    if (!b) created.push(k);
    else if (a.dir !== b.dir) modified.push(k);
    else if (!a.dir && (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ino !== b.ino)) modified.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) removed.push(k);
  created.sort();
  removed.sort().reverse();
  modified.sort();
  return [
    ...removed.map((path): Change => ({ path, kind: 'removed' })),
    ...created.map((path): Change => ({ path, kind: 'created' })),
    ...modified.map((path): Change => ({ path, kind: 'modified' })),
  ];
}
