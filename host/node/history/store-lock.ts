/**
 * One daemon per store: `forge watch` holds `<store>/daemon.pid` while it
 * runs. A second daemon on the same store is refused (two writers would
 * record every change twice); a pid file left by a dead process is taken over.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { ForgeError } from '../base/errors.js';

export const LOCK_FILE = 'daemon.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the daemon running on `storeDir`, if any. */
export function runningDaemon(storeDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(storeDir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the store for this process; returns the release function. */
export function lockStore(storeDir: string): () => void {
  fs.mkdirSync(storeDir, { recursive: true });
  const file = path.join(storeDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const other = runningDaemon(storeDir);
      if (other !== undefined) {
        throw new ForgeError('filesystem', `another forge watch (pid ${other}) is already recording into ${storeDir}`, {
          context: { file, operation: 'lock store', pid: other },
          suggestions: [`Stop it first (kill ${other}), or give this one its own store with --store <dir>.`],
        });
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new ForgeError('filesystem', `could not take the store lock ${file}`, { context: { file, operation: 'lock store' } });
}
