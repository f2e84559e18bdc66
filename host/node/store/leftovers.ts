/**
 * Interrupted writes: a process killed mid-put leaves its file in `objects/tmp/` (never under a
 * final name). Each tmp name carries its writer's pid (`<hash12>-<pid>-<thread>-<random>-<n>`),
 * so a leftover whose writer is gone can be removed at once, while one a live writer still holds
 * is left alone (and is no problem for verify). Names without a pid are removed once old.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from './object-path.js';

const TMP_NAME = /^[0-9a-f]{12}-(\d+)-\d+-[0-9a-f]+-\d+$/;
/** Tmp files whose writer cannot be told are removed once this old (default 1 hour). */
export const UNKNOWN_WRITER_MAX_AGE_MS = 3_600_000;

/** The pid that wrote tmp file `name`, if its name says. */
export function writerOf(name: string): number | undefined {
  const m = TMP_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** True when process `pid` exists (it may be another program after a pid reuse: then the file waits for its age limit). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a live writer may still be using tmp file `name` (so it is not a leftover). */
export function heldByLiveWriter(name: string, mtimeMs: number, now = Date.now()): boolean {
  const pid = writerOf(name);
  if (pid !== undefined) return processAlive(pid) && now - mtimeMs < UNKNOWN_WRITER_MAX_AGE_MS * 24;
  return now - mtimeMs < UNKNOWN_WRITER_MAX_AGE_MS;
}

/**
 * Removes the interrupted writes under `root`: tmp files whose writer process is gone, and
 * unattributable ones older than an hour. Returns how many were removed.
 */
export function cleanInterruptedWrites(root: string): { removed: number; kept: number } {
  const dir = tmpDir(root);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { removed: 0, kept: 0 };
  }
  let removed = 0;
  let kept = 0;
  const now = Date.now();
  for (const name of names) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (!st.isFile() || heldByLiveWriter(name, st.mtimeMs, now)) {
      kept++;
      continue;
    }
    try {
      unlinkSync(p);
      removed++;
    } catch {
      kept++; // read-only store, or removed meanwhile
    }
  }
  return { removed, kept };
}
