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
  /** Objects renamed into them since, by the first 64 bits of their hash (about 16 B each, not a 64-character string). */
  private readonly objects = new PrefixSet();

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

/**
 * A set of hex hashes kept as their first 64 bits, in an open-addressing table of Uint32 pairs.
 * Two hashes sharing a prefix count as one: `has` may then say yes for a hash never added, which
 * for KnownAbsent only means an existence check that was not needed — never a skipped one.
 */
export class PrefixSet {
  private table = new Uint32Array(2 * 1024);
  private mask = 1023;
  private zero = false; // the all-zero prefix marks an empty slot, so it is kept aside
  size = 0;

  has(hash: string): boolean {
    const hi = Number.parseInt(hash.slice(0, 8), 16) >>> 0;
    const lo = Number.parseInt(hash.slice(8, 16), 16) >>> 0;
    if (hi === 0 && lo === 0) return this.zero;
    return this.find(hi, lo) >= 0;
  }

  add(hash: string): void {
    const hi = Number.parseInt(hash.slice(0, 8), 16) >>> 0;
    const lo = Number.parseInt(hash.slice(8, 16), 16) >>> 0;
    if (hi === 0 && lo === 0) {
      if (!this.zero) this.size++;
      this.zero = true;
      return;
    }
    if (this.find(hi, lo) >= 0) return;
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.insert(hi, lo);
    this.size++;
  }

  clear(): void {
    this.table = new Uint32Array(2 * 1024);
    this.mask = 1023;
    this.zero = false;
    this.size = 0;
  }

  /** The slot holding (hi, lo), or -1. Hashes are uniform, so their low bits index the table. */
  private find(hi: number, lo: number): number {
    const t = this.table;
    for (let i = lo & this.mask; ; i = (i + 1) & this.mask) {
      const h = t[2 * i]!;
      const l = t[2 * i + 1]!;
      if (h === hi && l === lo) return i;
      if (h === 0 && l === 0) return -1;
    }
  }

  private insert(hi: number, lo: number): void {
    const t = this.table;
    let i = lo & this.mask;
    while (t[2 * i] !== 0 || t[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    t[2 * i] = hi;
    t[2 * i + 1] = lo;
  }

  private grow(): void {
    const old = this.table;
    this.mask = this.mask * 2 + 1;
    this.table = new Uint32Array(2 * (this.mask + 1));
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!);
  }
}
