/**
 * The store directory itself: who may read it, and the `store.json` marker that says which
 * format it holds.
 *
 * Who may read: the store holds copies of every recorded file, including ones only their owner
 * may read. So the store directory is created 0700 (its owner only) and an existing store that
 * is more open than that is tightened when opened, and says so ({@link StoreAccess}). The
 * directory is the guard: objects are created 0400, never more readable than the directory, so
 * an object copied or hard-linked elsewhere does not open up either. A daemon run as root on a
 * user's tree therefore keeps a store only root can read; that user reads history through a
 * store of their own (or a daemon run as them).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError, toForgeError } from '../base/errors.js';
import { FORMAT_FILE, FORMAT_NAME, FORMAT_VERSION, MANIFESTS_DIR, OBJECTS_DIR, tmpDir } from './object-path.js';

/** Mode of the store directory and every directory in it. */
export const STORE_DIR_MODE = 0o700;
/** Mode of every object and manifest ref. */
export const OBJECT_FILE_MODE = 0o400;

/** What opening did to the store directory's permissions. */
export interface StoreAccess {
  /** The directory's mode now (permission bits). */
  mode: number;
  /** Set when the directory was more open than 0700 and was tightened: its mode before. */
  tightenedFrom?: number;
  /** Set when it is more open than 0700 and could not be tightened (not its owner, read-only): why. */
  warning?: string;
}

export function storeError(message: string, field: string, suggestion: string): ForgeError {
  return new ForgeError('configuration', message, { context: { operation: 'open store', field }, suggestions: [suggestion] });
}

/**
 * Creates the store directory (0700) with its `objects/tmp` and `manifests` directories, or
 * tightens an existing one to 0700. Read-only stores (`create: false`) are only checked.
 */
export function prepareStoreDir(dir: string, create = true): StoreAccess {
  if (create) refuseOwnerStrippingUmask(dir);
  try {
    if (create) {
      mkdirSync(dir, { recursive: true, mode: STORE_DIR_MODE });
      mkdirSync(tmpDir(dir), { recursive: true, mode: STORE_DIR_MODE });
      mkdirSync(join(dir, MANIFESTS_DIR), { recursive: true, mode: STORE_DIR_MODE });
    }
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o077) === 0) return { mode };
    const tight = mode & 0o700;
    try {
      chmodSync(dir, tight);
      return { mode: tight, tightenedFrom: mode };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { mode, warning: `store ${dir} is readable by others (mode ${mode.toString(8)}) and could not be tightened to 700 (${code})` };
    }
  } catch (err) {
    throw toForgeError(err, { file: dir, operation: 'open store' });
  }
}

let umaskCache: number | null | undefined;

/**
 * The process umask, read once from /proc/self/status (`process.umask()` would briefly set it to 0
 * for every thread); undefined where that is not available. A umask changed later is not noticed.
 *
 * @example
 * ```ts
 * const stripsOwnerRead = ((processUmask() ?? 0o400) & 0o400) !== 0;
 * ```
 */
export function processUmask(): number | undefined {
  if (umaskCache === undefined) {
    try {
      const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
      umaskCache = m === null ? null : Number.parseInt(m[1]!, 8);
    } catch {
      umaskCache = null;
    }
  }
  return umaskCache ?? undefined;
}

/**
 * A umask that takes the owner's own bits away (e.g. 0400) would create the store's directories,
 * store.json and the SQLite index unreadable by the user who writes them; only root could use such
 * a store. Refused up front with what to change, instead of failing later on EACCES.
 */
function refuseOwnerStrippingUmask(dir: string): void {
  const umask = processUmask();
  if (umask === undefined || (umask & 0o700) === 0 || process.getuid?.() === 0) return;
  const shown = umask.toString(8).padStart(4, '0');
  throw new ForgeError('configuration', `the umask ${shown} takes the owner's own permissions away: the store at ${dir} could not be read back`, {
    context: { operation: 'open store', field: 'umask', file: dir, umask: shown },
    suggestions: ['Run Forge with a umask that keeps the owner bits, e.g. `umask 077` (private) or `umask 022`.'],
  });
}

/** Creates store.json, or checks that an existing one describes a format this code reads. */
export function checkFormat(dir: string, create = true): void {
  const p = join(dir, FORMAT_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw toForgeError(err, { file: p, operation: 'open store' });
  }
  if (text === undefined) {
    if (!create) return;
    const body =
      JSON.stringify({ format: FORMAT_NAME, version: FORMAT_VERSION, objects: `${OBJECTS_DIR}/<2 hex>/<62 hex>`, hash: 'sha256', frame: 'lz4' }, null, 2) +
      '\n';
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, body, { mode: 0o600 });
    renameSync(tmp, p);
    return;
  }
  let parsed: { format?: unknown; version?: unknown };
  try {
    parsed = JSON.parse(text) as { format?: unknown; version?: unknown };
  } catch {
    parsed = {};
  }
  if (parsed.format !== FORMAT_NAME || typeof parsed.version !== 'number') {
    throw storeError(`${p} does not describe a Forge store`, 'dir', 'Point the store at a Forge store directory or an empty one.');
  }
  if (parsed.version > FORMAT_VERSION) {
    throw storeError(`${p}: store format version ${parsed.version} is newer than this Forge reads (${FORMAT_VERSION})`, 'dir', 'Upgrade forge-io.');
  }
}
