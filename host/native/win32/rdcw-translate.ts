/**
 * FILE_NOTIFY_INFORMATION records → raw changes (before coalescing).
 *
 * ADDED/REMOVED/MODIFIED map to created/removed/modified; a RENAMED_OLD_NAME
 * followed by its RENAMED_NEW_NAME becomes one `renamed` pair. An old name
 * without a new one (moved out of the tree) is `removed`, a new name without
 * an old one (moved in) is `created`. Names become '/'-separated root-relative
 * paths; ignored paths are dropped here, before they cost anything else.
 */
import type { Change } from '../../node/base/platform-io.js';
import type { IgnoreMatcher } from '../../node/watch/ignore.js';
import {
  FILE_ACTION_ADDED,
  FILE_ACTION_MODIFIED,
  FILE_ACTION_REMOVED,
  FILE_ACTION_RENAMED_NEW_NAME,
  FILE_ACTION_RENAMED_OLD_NAME,
  type NotifyRecord,
} from './win32-layouts.js';

/** `a\b\c` → `a/b/c`. */
export function toRelPath(name: string): string {
  return name.replace(/\\/g, '/');
}

/**
 * Translates one completion's records, in order.
 *
 * @example
 * ```ts
 * translateRecords([{ action: 4, name: 'a.txt' }, { action: 5, name: 'b.txt' }], () => false);
 * // [{ path: 'b.txt', kind: 'renamed', oldPath: 'a.txt' }]
 * ```
 */
export function translateRecords(records: readonly NotifyRecord[], ignored: IgnoreMatcher): Change[] {
  const out: Change[] = [];
  let oldName: string | undefined;
  const flushOld = (): void => {
    if (oldName !== undefined && !ignored(oldName)) out.push({ path: oldName, kind: 'removed' });
    oldName = undefined;
  };
  for (const r of records) {
    const rel = toRelPath(r.name);
    if (r.action === FILE_ACTION_RENAMED_NEW_NAME) {
      const from = oldName;
      oldName = undefined;
      const fromIgnored = from === undefined || ignored(from);
      const toIgnored = ignored(rel);
      if (from !== undefined && !fromIgnored && !toIgnored) out.push({ path: rel, kind: 'renamed', oldPath: from });
      else if (!toIgnored) out.push({ path: rel, kind: 'created' });
      else if (from !== undefined && !fromIgnored) out.push({ path: from, kind: 'removed' });
      continue;
    }
    flushOld();
    if (r.action === FILE_ACTION_RENAMED_OLD_NAME) {
      oldName = rel;
      continue;
    }
    if (ignored(rel)) continue;
    if (r.action === FILE_ACTION_ADDED) out.push({ path: rel, kind: 'created' });
    else if (r.action === FILE_ACTION_REMOVED) out.push({ path: rel, kind: 'removed' });
    else if (r.action === FILE_ACTION_MODIFIED) out.push({ path: rel, kind: 'modified' });
    // Unknown actions are skipped: the documented set is 1..5.
  }
  flushOld();
  return out;
}
