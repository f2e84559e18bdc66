/**
 * kqueue has no rename cookie: a rename shows up as a directory rescan in
 * which one entry vanished and another appeared. Entries keep their inode
 * across a rename, so a removed and a created path with the same inode (and
 * kind) are joined into one `renamed` change.
 */
import type { Change } from '../../node/base/platform-io.js';
import type { SnapshotEntry } from '../../node/watch/scan.js';

/**
 * Joins removed/created pairs with the same inode into `renamed`.
 * `before` holds the removed paths' last state, `after` the created ones'.
 *
 * @example
 * ```ts
 * pairRenames([{ path: 'a', kind: 'removed' }, { path: 'b', kind: 'created' }], before, after);
 * // [{ path: 'b', kind: 'renamed', oldPath: 'a' }] when before.get('a').ino === after.get('b').ino
 * ```
 */
export function pairRenames(changes: readonly Change[], before: ReadonlyMap<string, SnapshotEntry>, after: ReadonlyMap<string, SnapshotEntry>): Change[] {
  const removedByIno = new Map<string, string>();
  for (const c of changes) {
    if (c.kind !== 'removed') continue;
    const e = before.get(c.path);
    if (!e || !e.ino) continue;
    const key = `${e.dir ? 'd' : 'f'}:${e.ino}`;
    // Two removed paths with one inode (hard links) are ambiguous: join neither.
    removedByIno.set(key, removedByIno.has(key) ? '' : c.path);
  }
  const joined = new Map<string, string>(); // old path → new path
  for (const c of changes) {
    if (c.kind !== 'created') continue;
    const e = after.get(c.path);
    if (!e || !e.ino) continue;
    const old = removedByIno.get(`${e.dir ? 'd' : 'f'}:${e.ino}`);
    if (old && !joined.has(old)) joined.set(old, c.path);
  }
  if (joined.size === 0) return [...changes];
  const newToOld = new Map([...joined].map(([o, n]) => [n, o]));
  const out: Change[] = [];
  for (const c of changes) {
    if (c.kind === 'removed' && joined.has(c.path)) continue;
    if (c.kind === 'created' && newToOld.has(c.path)) out.push({ path: c.path, kind: 'renamed', oldPath: newToOld.get(c.path)! });
    else out.push(c);
  }
  return out;
}
