/**
 * The index lives in its store's directory (`<store>/index.db`). An index that is missing or
 * empty while the store beside it holds objects has been lost, not never made: recreating it
 * silently would make every object look unreferenced (and `gc` delete them all). This is where
 * that case is told apart from a new store. The object layout read here is the store's public
 * format (`objects/<2 hex>/<62 hex>`, see store/object-path.ts); the index reads only names.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ForgeError } from '../base/errors.js';

const FANOUT = /^[0-9a-f]{2}$/;
const OBJECT_NAME = /^[0-9a-f]{62}$/;

/** True when `storeDir/objects` holds at least one object. */
export function storeHasObjects(storeDir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(join(storeDir, 'objects'));
  } catch {
    return false;
  }
  for (const n of names) {
    if (!FANOUT.test(n)) continue;
    try {
      if (readdirSync(join(storeDir, 'objects', n)).some((f) => OBJECT_NAME.test(f))) return true;
    } catch {
      // not a directory: not an object
    }
  }
  return false;
}

/** True when `file` is absent or has no bytes (SQLite would make a new database of it). */
export function indexFileIsNew(file: string): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st === undefined || st.size === 0;
}

/** The error for an index that is missing or empty beside a store that holds objects. */
export function lostIndexError(file: string, what: 'missing' | 'empty'): ForgeError {
  return new ForgeError('integrity', `The index ${file} is ${what}, but the store beside it holds objects: the history of paths and times is not there`, {
    context: { file, operation: 'open index', code: 'ERR_INDEX_LOST', store: dirname(file) },
    suggestions: [
      'If you have a copy of index.db (a backup), put it back first.',
      'Otherwise run `forge index rebuild`: it recovers every content and chunked file the objects hold (under lost+found/), and lists what is lost (paths and times).',
      'No command changes the store meanwhile; `forge gc` refuses to run.',
    ],
  });
}

/**
 * Throws {@link lostIndexError} when the index `file` is `state` ('missing' or 'empty') and the
 * store directory around it holds objects.
 */
export function guardLostIndex(file: string, state: 'missing' | 'empty'): void {
  if (storeHasObjects(dirname(file))) throw lostIndexError(file, state);
}
