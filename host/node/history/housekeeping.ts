/**
 * What a crash leaves behind, cleaned by the daemon at startup and after each catch-up:
 * - store writes in progress (`objects/tmp/<hash12>-<pid>-…`) whose writer process is gone;
 * - a killed `forge restore`'s temp files in the tree (`.<name>.forge-restore-<hex>`), once they
 *   are older than a live restore could leave them untouched.
 * The daemon never records either (see {@link isForgeTempName}).
 */
import * as fs from 'node:fs';
import path from 'node:path';

/** A `forge restore` temp file name (`.<name>.forge-restore-<hex>`). */
export const RESTORE_TEMP_RE = /^\..*\.forge-restore-[0-9a-f]+$/;

/** The same, matched against a root-relative path (for the watcher's ignore list). */
export const RESTORE_TEMP_PATH_RE = /(?:^|\/)\.[^/]*\.forge-restore-[0-9a-f]+$/;

/** Whether a base name is one of Forge's own temp names (never recorded). */
export function isForgeTempName(name: string): boolean {
  return RESTORE_TEMP_RE.test(name);
}

/** A restore temp untouched this long is a leftover (a live restore keeps writing it). */
export const RESTORE_TEMP_AGE_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes interrupted writes of dead processes from `<store>/objects/tmp`; returns how many. */
export function cleanStoreTemps(storeDir: string): number {
  const dir = path.join(storeDir, 'objects', 'tmp');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) {
    const pid = Number(n.split('-')[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue;
    if (pid === process.pid) continue;
    try {
      fs.rmSync(path.join(dir, n), { force: true });
      removed++;
    } catch {
      /* gone or not ours to remove: verify reports it */
    }
  }
  return removed;
}

/** Removes leftover restore temps (regular files only, older than {@link RESTORE_TEMP_AGE_MS}) at the given absolute paths. */
export function cleanRestoreTemps(paths: readonly string[], now = Date.now()): number {
  let removed = 0;
  for (const p of paths) {
    try {
      const st = fs.lstatSync(p);
      if (!st.isFile() || now - st.mtimeMs < RESTORE_TEMP_AGE_MS) continue;
      fs.rmSync(p);
      removed++;
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}
