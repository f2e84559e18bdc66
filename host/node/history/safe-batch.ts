/**
 * Safe batch reads for a tree that someone else may write: every file is opened O_NOFOLLOW |
 * O_NONBLOCK and fstat'ed (see `BatchReadOptions.safe`). Backends that implement `safe` do it on
 * their own path (io_uring in parallel); for a backend that does not (it returns no `identity`),
 * the files are read with `readFileSafely` instead — never through the backend's plain open, which
 * would follow a swapped-in symlink or block on a swapped-in FIFO.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BatchReadOptions, FileIdentity, ReadResult } from '../base/platform-io.js';
import { readFileSafely } from '../base/safe-read.js';
import { toForgeError } from '../base/errors.js';

/** The batch reader (a PlatformIO). */
export interface BatchReader {
  readonly backend: string;
  batchRead(paths: readonly string[], options?: BatchReadOptions): Promise<ReadResult[]>;
  /** Batched lstat (the io_uring backend's ring STATX), when the backend has one: the scan's walk uses it. */
  lstatMany?(paths: readonly string[]): Promise<Array<FileIdentity | number>>;
}

/** Files read at once by the node:fs path (bounded so a large batch does not exhaust descriptors). */
const FS_CONCURRENCY = 32;

/**
 * Reads batches safely through `io` when it honours `safe`, else through node:fs.
 *
 * @example
 * ```ts
 * const reader = new SafeBatchReader(io);
 * const [r] = await reader.read(['/srv/tree/a.txt']);
 * if (r.ok) console.log(r.identity?.ino);
 * ```
 */
export class SafeBatchReader {
  private native: Promise<boolean> | undefined;

  constructor(private readonly io: BatchReader) {}

  /** Whether the backend honours `safe` (it returns an fstat identity): probed once on a file of our own. */
  supportsSafe(): Promise<boolean> {
    this.native ??= (async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'forge-probe-'));
      try {
        const file = path.join(dir, 'probe');
        writeFileSync(file, 'probe');
        const [r] = await this.io.batchRead([file], { safe: true });
        return r !== undefined && r.ok && r.identity !== undefined;
      } catch {
        return false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    return this.native;
  }

  /** One result per path, in order; each successful slot carries the fstat `identity`. */
  async read(paths: readonly string[]): Promise<ReadResult[]> {
    if (await this.supportsSafe()) {
      const out = await this.io.batchRead(paths, { safe: true });
      // Defensive: a slot without identity is read again the node:fs way rather than trusted.
      return Promise.all(out.map((r, i) => (r.ok && r.identity === undefined ? readOne(paths[i]!) : r)));
    }
    const out: ReadResult[] = new Array(paths.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const i = next++;
        out[i] = await readOne(paths[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FS_CONCURRENCY, paths.length) }, worker));
    return out;
  }
}

async function readOne(p: string): Promise<ReadResult> {
  try {
    const { data, identity } = await readFileSafely(p, undefined, 'batchRead');
    return { ok: true, data, identity };
  } catch (e) {
    return { ok: false, error: toForgeError(e, { file: p, operation: 'batchRead' }) };
  }
}
