/** Where the history keeps its files inside a store directory (shared by the daemon and the CLI). */
import path from 'node:path';

/** The index database inside a store directory. */
export function indexFileOf(storeDir: string): string {
  return path.join(storeDir, 'index.db');
}

/** The lock file `forge watch` holds (flock) while it records into the store. */
export function lockFileOf(storeDir: string): string {
  return path.join(storeDir, 'daemon.lock');
}
