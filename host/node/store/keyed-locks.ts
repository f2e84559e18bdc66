/**
 * In-process mutual exclusion per key (object hash): writes of the same hash
 * run one after another, writes of different hashes in parallel. Several keys
 * are always taken in sorted order, so two batches cannot deadlock.
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for `key` and returns its release function. */
  async lock(key: string): Promise<() => void> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev === undefined ? mine : prev.then(() => mine);
    this.tails.set(key, tail);
    if (prev !== undefined) await prev;
    return this.releaser(key, tail, release);
  }

  /**
   * Takes `key` at once if nobody holds or waits for it (the common case: no promise to await);
   * undefined if it is taken.
   */
  tryLock(key: string): (() => void) | undefined {
    if (this.tails.has(key)) return undefined;
    let release!: () => void;
    const tail = new Promise<void>((r) => (release = r));
    this.tails.set(key, tail);
    return this.releaser(key, tail, release);
  }

  /** A release for `key` that runs once and forgets the key when nobody queued behind it. */
  private releaser(key: string, tail: Promise<void>, release: () => void): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  /** Locks every key (deduplicated, in sorted order); returns one release for all. */
  async lockAll(keys: Iterable<string>): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const k of sorted) releases.push(await this.lock(k));
    } catch (err) {
      for (const r of releases) r();
      throw err;
    }
    return () => {
      for (const r of releases) r();
    };
  }

  /** Keys locked or waited for right now. */
  get size(): number {
    return this.tails.size;
  }
}
