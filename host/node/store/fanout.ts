/**
 * The 256 fan-out directories of `objects/`, and what a writer knows to be absent from the ones
 * it made itself (so that a put of new content need not ask the file system first).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { STORE_DIR_MODE } from './format.js';
import { isFanoutDir, OBJECTS_DIR } from './object-path.js';

/**
 * Makes the 256 fan-out directories in one pass (stores made by older versions have only some:
 * the missing ones are added), in parallel on the libuv threadpool: 256 mkdirs took 180 ms in a
 * row on the build machine's disk, 60 ms this way, and none of it on the event loop. A rename
 * then never waits for a mkdir; one that finds its directory missing anyway (a failed mkdir here,
 * a directory removed since) makes it itself. `created` is called with each name made here.
 * Resolves to true when it made any (never rejects).
 */
export function makeFanoutDirs(root: string, created: (name: string) => void): Promise<boolean> {
  const objects = join(root, OBJECTS_DIR);
  return readdir(objects)
    .then((names) => {
      const have = new Set(names.filter(isFanoutDir));
      const missing: string[] = [];
      for (let i = 0; i < 256; i++) {
        const name = i.toString(16).padStart(2, '0');
        if (!have.has(name)) missing.push(name);
      }
      return Promise.all(
        missing.map((name) =>
          mkdir(join(objects, name), { mode: STORE_DIR_MODE }).then(
            () => {
              created(name);
              return true;
            },
            () => false,
          ),
        ),
      );
    })
    .then(
      (made) => made.some(Boolean),
      () => false, // the writer's rename makes what it needs
    );
}

/** Objects a writer knows about at most (beyond that it forgets everything and checks again: memory stays bounded). */
export const KNOWN_MAX = 1 << 20;

/**
 * Objects known absent: those of fan-out directories this writer created (empty then) that it
 * has not renamed into them since. Used by ObjectWriter to skip the existence check of new
 * content. Never wrong the other way: an object it thinks is there is checked as usual.
 */
export class KnownAbsent {
  /** Fan-out directories (2 hex) this writer created. */
  private readonly dirs = new Set<string>();
  /** Objects renamed into them since. */
  private readonly objects = new Set<string>();

  created(dir: string): void {
    this.dirs.add(dir);
  }

  absent(hash: string): boolean {
    return this.dirs.size > 0 && this.dirs.has(hash.slice(0, 2)) && !this.objects.has(hash);
  }

  written(hash: string): void {
    if (this.dirs.size === 0 || !this.dirs.has(hash.slice(0, 2))) return;
    if (this.objects.size >= KNOWN_MAX) {
      this.dirs.clear();
      this.objects.clear();
      return;
    }
    this.objects.add(hash);
  }
}
