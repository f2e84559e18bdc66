/**
 * Writing objects, crash-safely: bytes go to `objects/tmp/<unique>`, are
 * fsynced (one pass per batch), renamed to `objects/<2>/<62>`, and the
 * fan-out directories are fsynced. A final name therefore only ever holds a
 * complete frame. An existing object is verified before it is trusted; a
 * corrupt one is replaced. Writes of one hash are serialized (KeyedLocks).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { threadId } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { ForgeError, toForgeError } from '../errors.js';
import type { PlatformIO } from '../platform-io.js';
import type { KeyedLocks } from './keyed-locks.js';
import { objectDir, objectPath, tmpDir, OBJECTS_DIR } from './object-path.js';

/** Content about to be stored under `hash`. */
export interface PendingObject {
  hash: string;
  content: Uint8Array;
}

export type WriteStatus = 'written' | 'existing' | 'repaired';

export type WriteOutcome =
  | { ok: true; status: WriteStatus; storedBytes: number }
  | { ok: false; error: ForgeError };

/** How an existing object checks out. */
export type ExistingState = 'ok' | 'missing' | 'corrupt';

export interface ObjectWriterOptions {
  root: string;
  locks: KeyedLocks;
  /** fsync files and directories (default true). */
  sync: boolean;
  /** Batch writes go through this when given. */
  io?: PlatformIO;
  /** Reads and verifies the object `hash` on disk. */
  checkExisting(hash: string): ExistingState;
  /** Frames for contents that must be written (called inside the locks). */
  compress(contents: Uint8Array[]): Promise<Uint8Array[]>;
  /** Called for every hash written or found intact (gc uses it). */
  touched(hash: string): void;
}

let tmpCounter = 0;
// Random once per thread: pid + thread + counter are unique among live writers, and the
// random part keeps a reused pid (after a crash) from meeting its predecessor's leftovers.
const tmpPrefix = `${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;

/** A tmp file name no other writer (process, thread) can pick. */
export function tmpName(root: string, hash: string): string {
  return `${tmpDir(root)}${sep}${hash.slice(0, 12)}-${tmpPrefix}-${++tmpCounter}`;
}

/** fsync a directory so a rename into it is durable. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL): nothing more can be done there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw toForgeError(err, { file: dir, operation: 'fsync dir' });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` to a new file at `path` (sync fs), fsyncing it if asked. */
export function writeFileDurably(path: string, data: Uint8Array, sync: boolean): void {
  const fd = openSync(path, 'wx', 0o444);
  try {
    let at = 0;
    while (at < data.length) at += writeSync(fd, data, at, data.length - at);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Writes objects for the store (see the file comment for the protocol). */
export class ObjectWriter {
  private readonly knownDirs = new Set<string>();

  constructor(private readonly o: ObjectWriterOptions) {}

  /** Stores every object (deduplicated by hash); outcomes by hash. */
  async writeBatch(objects: readonly PendingObject[]): Promise<Map<string, WriteOutcome>> {
    const unique = new Map<string, PendingObject>();
    for (const obj of objects) if (!unique.has(obj.hash)) unique.set(obj.hash, obj);
    const release = await this.o.locks.lockAll(unique.keys());
    const outcomes = new Map<string, WriteOutcome>();
    try {
      const todo: Array<{ obj: PendingObject; repair: boolean }> = [];
      for (const obj of unique.values()) {
        let state: ExistingState;
        try {
          state = this.o.checkExisting(obj.hash);
        } catch (err) {
          outcomes.set(obj.hash, { ok: false, error: toForgeError(err, { operation: 'put', hash: obj.hash }) });
          continue;
        }
        if (state === 'ok') {
          this.freshen(obj.hash);
          this.o.touched(obj.hash);
          outcomes.set(obj.hash, { ok: true, status: 'existing', storedBytes: 0 });
        } else {
          todo.push({ obj, repair: state === 'corrupt' });
        }
      }
      if (todo.length > 0) await this.writeNew(todo, outcomes);
    } finally {
      release();
    }
    return outcomes;
  }

  private async writeNew(todo: Array<{ obj: PendingObject; repair: boolean }>, outcomes: Map<string, WriteOutcome>): Promise<void> {
    const frames = await this.o.compress(todo.map((t) => t.obj.content));
    const tmps = todo.map((t) => tmpName(this.o.root, t.obj.hash));
    const written = await this.writeTmps(tmps, frames, todo.map((t) => t.obj.hash), outcomes);
    const dirs = new Set<string>();
    let newFanout = false;
    for (let i = 0; i < todo.length; i++) {
      if (!written[i]) continue;
      const { obj, repair } = todo[i]!;
      const final = objectPath(this.o.root, obj.hash);
      try {
        newFanout = this.ensureDir(objectDir(this.o.root, obj.hash)) || newFanout;
        renameSync(tmps[i]!, final);
        dirs.add(dirname(final));
        this.o.touched(obj.hash);
        outcomes.set(obj.hash, { ok: true, status: repair ? 'repaired' : 'written', storedBytes: frames[i]!.length });
      } catch (err) {
        tryUnlink(tmps[i]!);
        outcomes.set(obj.hash, { ok: false, error: toForgeError(err, { file: final, operation: 'put' }) });
      }
    }
    if (this.o.sync) {
      if (newFanout) fsyncDir(join(this.o.root, OBJECTS_DIR));
      for (const d of dirs) fsyncDir(d);
    }
  }

  /** Writes the tmp files: one batchWrite (with per-op fsync) when an io is given and there are several. */
  private async writeTmps(
    tmps: string[],
    frames: Uint8Array[],
    hashes: string[],
    outcomes: Map<string, WriteOutcome>,
  ): Promise<boolean[]> {
    const ok = new Array<boolean>(tmps.length).fill(false);
    if (this.o.io !== undefined && tmps.length > 1) {
      const results = await this.o.io.batchWrite(tmps.map((path, i) => ({ path, data: frames[i]!, sync: this.o.sync })));
      results.forEach((r, i) => {
        if (r.ok && r.bytes === frames[i]!.length) ok[i] = true;
        else {
          tryUnlink(tmps[i]!);
          const error = r.ok
            ? new ForgeError('filesystem', `short write to ${tmps[i]}: ${r.bytes} of ${frames[i]!.length} bytes`, {
                context: { file: tmps[i], operation: 'put' },
              })
            : r.error;
          outcomes.set(hashes[i]!, { ok: false, error });
        }
      });
      return ok;
    }
    for (let i = 0; i < tmps.length; i++) {
      try {
        writeFileDurably(tmps[i]!, frames[i]!, this.o.sync);
        ok[i] = true;
      } catch (err) {
        tryUnlink(tmps[i]!);
        outcomes.set(hashes[i]!, { ok: false, error: toForgeError(err, { file: tmps[i], operation: 'put' }) });
      }
    }
    return ok;
  }

  /** Creates a fan-out directory once; true if it was new. */
  private ensureDir(dir: string): boolean {
    if (this.knownDirs.has(dir)) return false;
    const made = mkdirSync(dir, { recursive: true }) !== undefined;
    this.knownDirs.add(dir);
    return made;
  }

  /** Marks an existing object as recently used, so a concurrent gc in another process keeps it. */
  private freshen(hash: string): void {
    const now = new Date();
    try {
      utimesSync(objectPath(this.o.root, hash), now, now);
    } catch {
      // read-only store: freshness only matters to gc
    }
  }
}
