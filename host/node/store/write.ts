/**
 * Writing objects, crash-safely: bytes go to `objects/tmp/<unique>`, are made
 * durable, renamed to `objects/<2>/<62>`, and the renames are made durable
 * before a put resolves. A final name therefore only ever holds a complete
 * frame, and a resolved put's object survives a crash. Durable means, per
 * batch (batch-flush.ts decides which, once per store): on ext4, xfs and
 * btrfs on Linux, one syncfs after the writes and one after the renames; elsewhere
 * an fsync per tmp file and one per touched fan-out directory. An existing
 * object is verified before it is trusted; a corrupt one is replaced. Writes
 * of one hash are serialized (KeyedLocks).
 *
 * Group commit: each object is hashed, checked and compressed on its own
 * (under its hash's lock), then queued; the queue is committed once the
 * current turn's microtasks have run (process.nextTick), so the puts of one
 * turn (16 concurrent puts, a putMany) share one write pass, one fsync pass
 * and one fsync per touched directory. While a synced batch is in flight the
 * next one gathers. With sync on, every step that can wait for the disk
 * (create, write, fsync, rename, directory fsync) runs off the event loop
 * (io_uring or the libuv threadpool). With sync off, nothing waits for the
 * disk, and the steps run on this thread: the fastest way to fill a tmpfs or
 * the page cache.
 */
import { mkdirSync, renameSync, utimesSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { type ForgeError, toForgeError } from '../base/errors.js';
import type { PlatformIO } from '../base/platform-io.js';
import { STORE_DIR_MODE } from './format.js';
import type { KeyedLocks } from './keyed-locks.js';
import { KnownAbsent, makeFanoutDirs } from './fanout.js';
import { BatchFlush, flushChoice, type FlushChoice, type FlushState } from './batch-flush.js';
import { objectDir, objectPath, tmpDir, OBJECTS_DIR } from './object-path.js';
import { fsyncDirAsync, renameRetrying, frameLength, tmpNameIn, tryUnlink, type Frame } from './tmp-files.js';
import { writeTmpFiles } from './write-tmps.js';

export { fsyncDirAsync, joinFrame, tmpName, writeFileDurablyAsync, type Frame } from './tmp-files.js';

/** Content about to be stored under `hash`. */
export interface PendingObject {
  hash: string;
  content: Uint8Array;
  /**
   * Its frame, when compression was started before the hash was known (large content goes to
   * the workers first, so they compress while this thread hashes). Dropped if the object exists.
   */
  frame?: Promise<Frame>;
  /** Size of the whole content this object is a chunk of: a chunk of large content is a large write too (O_DIRECT). */
  partOf?: number;
  /** The compressor was asked already and chose this thread: frame it here (no second decision, no promise). */
  inline?: boolean;
}

export type WriteStatus = 'written' | 'existing' | 'repaired';

export type WriteOutcome = { ok: true; status: WriteStatus; storedBytes: number } | { ok: false; error: ForgeError };

/** How an existing object checks out. */
export type ExistingState = 'ok' | 'missing' | 'corrupt';

export interface ObjectWriterOptions {
  root: string;
  locks: KeyedLocks;
  /** Make objects durable before a put resolves (default true). */
  sync: boolean;
  /** How, when syncing: batched syncfs where sound (`'auto'`, default) or an fsync per file (see batch-flush.ts). */
  flush?: FlushChoice;
  /** Synced tmp files are written and fsynced through this (asynchronously) when given. */
  io?: PlatformIO;
  /**
   * Objects whose content is at least this many bytes are written with O_DIRECT through
   * `io.batchWrite` (`WriteOp.direct`; io_uring only, buffered where the filesystem refuses).
   * Unset: never.
   */
  directMinSize?: number;
  /** Reads and verifies the object `hash` on disk. */
  checkExisting(hash: string): ExistingState;
  /**
   * The frame of `content` (called inside the hash's lock): a value when it was made on this
   * thread, a promise when workers make it. `batched`: one of several objects written together.
   */
  compress(content: Uint8Array, batched: boolean): Frame | Promise<Frame>;
  /** The frame of `content`, made on this thread. */
  frameHere(content: Uint8Array): Frame;
  /** Called for every hash written or found intact (gc uses it). */
  touched(hash: string): void;
}

/** One object waiting in the commit queue: its frame is made, its hash locked. */
interface Commit {
  hash: string;
  frame: Frame;
  repair: boolean;
  /** Write it with O_DIRECT (large content, oDirect on). */
  direct: boolean;
  settle: (outcome: WriteOutcome) => void;
}

const EXISTING: WriteOutcome = { ok: true, status: 'existing', storedBytes: 0 };

/** Writes objects for the store (see the file comment for the protocol). */
export class ObjectWriter {
  private queue: Commit[] = [];
  private scheduled = false;
  private committing = false;
  /** Making the 256 fan-out directories (started by the first write, off the event loop). */
  private fanout: Promise<void> | undefined;
  private fanoutDone = false;
  /** A fan-out directory was created: the objects directory needs an fsync before a rename into it counts. */
  private objectsDirDirty = false;
  /** `<root>/objects/tmp/`, built once (names are made per object). */
  private readonly tmpBase: string;
  /**
   * What this writer knows is absent, so a put of new content skips the existence check (an
   * access(2), ~10% of a 4 KiB put): the fan-out directories it created itself (empty then), and
   * the objects it renamed into them since. Another writer's object in one of them is written
   * again: an atomic rename over an equal object, never a loss. Bounded (see KNOWN_MAX).
   */
  private readonly known = new KnownAbsent();

  private readonly inside = new Map<string, number>();
  /** Write-path counters (store.stats()). */
  readonly counters = { peakWritersPerHash: 0 };

  /** The flush policy, decided with the fan-out directories (before the first write). */
  private flusher: BatchFlush | undefined;
  private readonly flushChoice: FlushChoice;

  constructor(private readonly o: ObjectWriterOptions) {
    this.tmpBase = `${tmpDir(o.root)}${sep}`;
    this.flushChoice = flushChoice(o.flush);
  }

  /** How objects are made durable (undefined until the first write decides it). */
  flushState(): FlushState | undefined {
    return this.flusher?.state();
  }

  /** Closes the flush descriptor once a running flush is done (a later batch then fails). */
  async close(): Promise<void> {
    this.flushClosed = true;
    await this.fanout?.catch(() => undefined);
    await this.flusher?.close();
  }

  private flushClosed = false;

  /** Stores one object; never rejects (a failure is an outcome). Same-turn calls share one commit. */
  write(obj: PendingObject, batched = false): Promise<WriteOutcome> {
    const release = this.o.locks.tryLock(obj.hash);
    if (release !== undefined) return this.writeLocked(obj, batched, release);
    return this.o.locks.lock(obj.hash).then((r) => this.writeLocked(obj, batched, r));
  }

  /** Stores every object (deduplicated by hash); outcomes by hash. */
  async writeBatch(objects: readonly PendingObject[]): Promise<Map<string, WriteOutcome>> {
    const unique = new Map<string, PendingObject>();
    for (const obj of objects) {
      if (!unique.has(obj.hash)) unique.set(obj.hash, obj);
      else obj.frame?.catch(() => undefined); // a repeat's early frame is not used
    }
    const batched = unique.size > 1;
    const list = [...unique.values()];
    const outs = await Promise.all(list.map((obj) => this.write(obj, batched)));
    const outcomes = new Map<string, WriteOutcome>();
    list.forEach((obj, i) => outcomes.set(obj.hash, outs[i]!));
    return outcomes;
  }

  private writeLocked(obj: PendingObject, batched: boolean, unlock: () => void): Promise<WriteOutcome> {
    // Writers inside the lock of one hash: 1 at most, unless the per-hash lock is broken (stats).
    const inside = (this.inside.get(obj.hash) ?? 0) + 1;
    this.inside.set(obj.hash, inside);
    if (inside > this.counters.peakWritersPerHash) this.counters.peakWritersPerHash = inside;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.inside.get(obj.hash) ?? 1) - 1;
      if (n === 0) this.inside.delete(obj.hash);
      else this.inside.set(obj.hash, n);
      unlock();
    };
    const fail = (err: unknown): WriteOutcome => ({ ok: false, error: toForgeError(err, { operation: 'put', hash: obj.hash }) });
    let pending: Promise<WriteOutcome>;
    try {
      const state = this.known.absent(obj.hash) ? 'missing' : this.o.checkExisting(obj.hash);
      if (state === 'ok') {
        obj.frame?.catch(() => undefined); // not needed; its failure does not matter
        this.freshen(obj.hash);
        this.o.touched(obj.hash);
        release();
        return Promise.resolve(EXISTING);
      }
      this.ensureFanout();
      const repair = state === 'corrupt';
      const frame = obj.frame ?? (obj.inline === true ? this.o.frameHere(obj.content) : this.o.compress(obj.content, batched));
      const direct = this.o.io !== undefined && this.o.directMinSize !== undefined && (obj.partOf ?? obj.content.length) >= this.o.directMinSize;
      pending = frame instanceof Promise ? frame.then((f) => this.commit(obj.hash, f, repair, direct)) : this.commit(obj.hash, frame, repair, direct);
    } catch (err) {
      obj.frame?.catch(() => undefined);
      release();
      return Promise.resolve(fail(err));
    }
    return pending.then(
      (outcome) => {
        release();
        return outcome;
      },
      (err: unknown) => {
        release();
        return fail(err);
      },
    );
  }

  /** Queues a made frame; resolves once it is under its final name (and durable, when syncing). */
  private commit(hash: string, frame: Frame, repair: boolean, direct: boolean): Promise<WriteOutcome> {
    return new Promise<WriteOutcome>((settle) => {
      this.queue.push({ hash, frame, repair, direct, settle });
      if (this.scheduled || this.committing) return; // the running commit loop takes it
      this.scheduled = true;
      // nextTick runs after the microtasks of this turn: every put of the turn is queued by then.
      process.nextTick(() => {
        this.scheduled = false;
        this.drain();
      });
    });
  }

  /** Commits queued batches until the queue is empty (one batch at a time). */
  private drain(): void {
    if (this.committing) return;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      // The first batches wait for the fan-out directories (renames need them).
      const running = this.fanoutDone ? this.commitBatch(batch) : this.fanout!.then(() => this.commitBatch(batch));
      if (running !== undefined) {
        // A synced batch (or one waiting for the fan-out directories): the next one gathers meanwhile.
        this.committing = true;
        void running.then(() => {
          this.committing = false;
          this.drain();
        });
        return;
      }
    }
  }

  /** Writes, renames and (when syncing) fsyncs one batch; settles every commit. Never throws. */
  private commitBatch(batch: Commit[]): Promise<void> | undefined {
    const tmps = batch.map((c) => tmpNameIn(this.tmpBase, c.hash));
    const errors = new Array<ForgeError | undefined>(batch.length);
    let written: boolean[] | Promise<boolean[]>;
    try {
      written = this.writeTmps(tmps, batch, errors);
    } catch (err) {
      // Not expected (writeTmps reports per file), but no commit may be left unsettled.
      for (const c of batch) c.settle({ ok: false, error: toForgeError(err, { operation: 'put', hash: c.hash }) });
      return undefined;
    }
    if (Array.isArray(written)) {
      this.renameAll(batch, tmps, written, errors);
      this.settleAll(batch, errors);
      return undefined;
    }
    const flusher = this.batchFlusher();
    return written
      .then(async (ok) => {
        if (flusher !== undefined) await this.flushOrFail(flusher, 'before rename', batch, tmps, ok, errors);
        const dirs = await this.renameAllAsync(batch, tmps, ok, errors);
        if (flusher !== undefined) await this.flushOrFail(flusher, 'after rename', batch, undefined, ok, errors);
        else if (this.o.sync) await this.syncDirs(batch, dirs, errors);
      })
      .catch((err: unknown) => {
        for (let i = 0; i < batch.length; i++) errors[i] ??= toForgeError(err, { operation: 'put', hash: batch[i]!.hash });
      })
      .then(() => this.settleAll(batch, errors));
  }

  /** The flusher when this store's synced batches use syncfs. */
  private batchFlusher(): BatchFlush | undefined {
    return this.o.sync && this.flusher?.batched === true ? this.flusher : undefined;
  }

  /**
   * One syncfs for the batch; when it fails, every object still standing fails with its error
   * (their tmp files are removed before the renames; after them the final names hold complete
   * frames, but no put resolves as stored).
   */
  private async flushOrFail(
    flusher: BatchFlush,
    step: 'before rename' | 'after rename',
    batch: Commit[],
    tmps: string[] | undefined,
    ok: boolean[],
    errors: Array<ForgeError | undefined>,
  ): Promise<void> {
    if (!ok.some((w, i) => w && errors[i] === undefined)) return; // nothing of this batch to vouch for
    try {
      await flusher.flush(step);
      if (step === 'after rename') this.objectsDirDirty = false; // new fan-out directories are durable too
    } catch (err) {
      for (let i = 0; i < batch.length; i++) {
        if (!ok[i] || errors[i] !== undefined) continue;
        ok[i] = false;
        if (tmps !== undefined) await unlink(tmps[i]!).catch(() => undefined);
        errors[i] = toForgeError(err, { hash: batch[i]!.hash }); // operation stays 'syncfs'
      }
    }
  }

  /** Renames every written tmp file to its final name, on this thread (unsynced batches). */
  private renameAll(batch: Commit[], tmps: string[], written: boolean[], errors: Array<ForgeError | undefined>): void {
    for (let i = 0; i < batch.length; i++) {
      if (!written[i]) continue;
      const { hash } = batch[i]!;
      const final = objectPath(this.o.root, hash);
      try {
        this.renameInto(tmps[i]!, final, hash);
        this.known.written(hash);
      } catch (err) {
        tryUnlink(tmps[i]!);
        errors[i] = toForgeError(err, { file: final, operation: 'put' });
      }
    }
  }

  /**
   * {@link renameAll} on the libuv threadpool, in parallel (when syncing: a rename is a metadata
   * update that can wait for the filesystem journal; the event loop must not). Different hashes
   * only (the locks), so the order among them does not matter.
   */
  private async renameAllAsync(batch: Commit[], tmps: string[], written: boolean[], errors: Array<ForgeError | undefined>): Promise<Map<string, number[]>> {
    const dirs = new Map<string, number[]>();
    await Promise.all(
      batch.map(async ({ hash }, i) => {
        if (!written[i] || errors[i] !== undefined) return;
        const final = objectPath(this.o.root, hash);
        try {
          await renameRetrying(tmps[i]!, final).catch(async (err: unknown) => {
            if ((err as { code?: string }).code !== 'ENOENT') throw err;
            if ((await mkdir(objectDir(this.o.root, hash), { recursive: true, mode: STORE_DIR_MODE })) === undefined) throw err; // the tmp is missing
            this.objectsDirDirty = true;
            await renameRetrying(tmps[i]!, final);
          });
          this.known.written(hash);
          const dir = objectDir(this.o.root, hash);
          const list = dirs.get(dir);
          if (list === undefined) dirs.set(dir, [i]);
          else list.push(i);
        } catch (err) {
          await unlink(tmps[i]!).catch(() => undefined);
          errors[i] = toForgeError(err, { file: final, operation: 'put' });
        }
      }),
    );
    return dirs;
  }

  /** rename(2), re-creating the fan-out directory if something removed it since open. */
  private renameInto(tmp: string, final: string, hash: string): void {
    try {
      renameSync(tmp, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (mkdirSync(objectDir(this.o.root, hash), { recursive: true, mode: STORE_DIR_MODE }) === undefined) throw err; // the dir was there: the tmp is missing
      this.objectsDirDirty = true;
      renameSync(tmp, final);
    }
  }

  /** One fsync per touched directory, in parallel, off the event loop; a failure fails that directory's objects. */
  private async syncDirs(batch: Commit[], dirs: Map<string, number[]>, errors: Array<ForgeError | undefined>): Promise<void> {
    const jobs: Array<Promise<void>> = [];
    if (this.objectsDirDirty) {
      // New fan-out directories must be durable before anything renamed into them is.
      this.objectsDirDirty = false;
      const objects = join(this.o.root, OBJECTS_DIR);
      jobs.push(
        fsyncDirAsync(objects).catch((err: unknown) => {
          this.objectsDirDirty = true;
          for (const list of dirs.values()) for (const i of list) errors[i] ??= toForgeError(err, { file: objects, hash: batch[i]!.hash });
        }),
      );
    }
    for (const [dir, list] of dirs) {
      jobs.push(
        fsyncDirAsync(dir).catch((err: unknown) => {
          for (const i of list) errors[i] ??= toForgeError(err, { file: dir, hash: batch[i]!.hash });
        }),
      );
    }
    await Promise.all(jobs);
  }

  private settleAll(batch: Commit[], errors: Array<ForgeError | undefined>): void {
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      const error = errors[i];
      if (error !== undefined) {
        c.settle({ ok: false, error });
        continue;
      }
      this.o.touched(c.hash);
      c.settle({ ok: true, status: c.repair ? 'repaired' : 'written', storedBytes: frameLength(c.frame) });
    }
  }

  /** Writes the tmp files (see write-tmps.ts); without fsync when the batch's syncfs makes them durable. */
  private writeTmps(tmps: string[], batch: Commit[], errors: Array<ForgeError | undefined>): boolean[] | Promise<boolean[]> {
    return writeTmpFiles(this.o.io, this.o.sync, this.o.sync && this.batchFlusher() === undefined, tmps, batch, errors);
  }

  /** Starts making the fan-out directories (see fanout.ts), the first time this writer writes. */
  private ensureFanout(): void {
    if (this.fanout !== undefined) return;
    // The flush descriptor is opened here, before any write it must vouch for (syncfs reports
    // only errors since its descriptor was opened). If it cannot be opened, fsync per file.
    const flusher = this.flushClosed
      ? Promise.resolve(undefined)
      : BatchFlush.open(join(this.o.root, OBJECTS_DIR), this.o.sync, this.flushChoice).catch(() => BatchFlush.open('', this.o.sync, 'per-file'));
    this.fanout = Promise.all([makeFanoutDirs(this.o.root, (name) => this.known.created(name)), flusher]).then(([made, f]) => {
      if (made) this.objectsDirDirty = true;
      this.flusher = f;
      this.fanoutDone = true;
    });
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
