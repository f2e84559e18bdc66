/**
 * Recording history: files are read in batches (PlatformIO.batchRead), stored
 * (putMany; large files through putFile so they are never held whole in
 * memory), and recorded as versions in one index transaction per batch.
 * Content identical to the newest version is not recorded again.
 *
 * {@link HistoryRecorder.applyChanges} turns one coalesced watcher batch into
 * versions: created/modified, removed (files and whole directories), renamed
 * (files and whole directories), and overflow (a full reconcile).
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { toForgeError, type ForgeError } from '../base/errors.js';
import { addTally, emptyTally, type RecordTally } from './record-tally.js';

export { addTally, emptyTally, type RecordTally };
import { changedError } from '../base/safe-read.js';
import type { AddVersionInput, Index, VersionRecord } from '../index-db/index.js';
import type { Change, FileIdentity } from '../base/platform-io.js';
import type { PutFileOptions, PutManyResult, PutResult } from '../store/blob-store.js';
import { SafeBatchReader, type BatchReader } from './safe-batch.js';
import { RowSink } from './row-sink.js';
import { latestMany, livePathsUnder } from '../index-db/queries.js';
import { batchesAsync, factsOf, walkTree, type FileFacts, type LstatMany, type WalkOptions } from './tree-scan.js';

/** What storing one content returned. */
export type PutInfo = PutResult;

/** The blob store as the recorder uses it (BlobStore satisfies it). */
export interface ContentSink {
  putMany(datas: readonly Uint8Array[]): Promise<PutManyResult[]>;
  putFile(abs: string, options?: PutFileOptions): Promise<PutResult>;
}

export type { BatchReader } from './safe-batch.js';

/** A minimal logger (pino-compatible). */
export interface RecorderLog {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RecorderOptions {
  /** Files at least this large go through putFile one by one (default 8 MiB). */
  largeFileBytes?: number;
  /** Files per read/store batch (default {@link DEFAULT_SCAN_BATCH_FILES}). */
  batchFiles?: number;
  /** Bytes per read/store batch (default {@link DEFAULT_SCAN_BATCH_MIB} MiB). */
  batchBytes?: number;
  walk: WalkOptions;
  /**
   * Read/store batches in flight at once (default {@link DEFAULT_SCAN_CONCURRENCY}). The bound on
   * memory: at most this many batches' contents (each <= `batchBytes`) are held at once, and the
   * store spreads their hashing and compression over its worker pool.
   */
  concurrency?: number;
  /**
   * Versions written to the index per transaction (default 4096): stored batches' rows are
   * gathered and committed together, since one transaction per small batch costs more than the
   * rows. A row is only written after its content is durable in the store, so a crash before the
   * commit loses no data: the next start's catch-up reads those files again.
   */
  indexBatchRows?: number;
  /** Checked between batches: a shutdown stops a long scan early (the next start catches up). */
  shouldStop?: () => boolean;
  /**
   * Runs one batch (read, store, record) under the caller's retry policy; a batch that throws is
   * run again as a whole. Default: once. The daemon retries transient errors and waits out a full disk.
   */
  runBatch?: <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
  /** Times a file that keeps changing while it is read is read again before it is reported (default 5). */
  maxRereads?: number;
}

/** Read/store batches in flight at once unless configured (`RecorderOptions.concurrency`, FORGE_SCAN_CONCURRENCY). */
export const DEFAULT_SCAN_CONCURRENCY = 4;

/** Files per read/store batch unless configured (`RecorderOptions.batchFiles`, FORGE_SCAN_BATCH_FILES). */
export const DEFAULT_SCAN_BATCH_FILES = 1024;

/** MiB per read/store batch unless configured (`RecorderOptions.batchBytes`, FORGE_SCAN_BATCH_MIB). */
export const DEFAULT_SCAN_BATCH_MIB = 32;

/** A file to store, and how to record it if its content is new. */
export interface Pending {
  facts: FileFacts;
  /** For renames: the path it came from (already known to be live). */
  oldPath?: string;
  /**
   * The path's newest version when the caller already knows it (null: none, or removed), so the
   * index is not asked again; undefined: look it up. Only valid while nothing else writes the index.
   */
  prev?: VersionRecord | null;
}

/** What one batch found besides what it stored: files to read again, paths that are no longer regular files. */
interface Leftovers {
  again: Pending[];
  gone: string[];
}

function isLive(v: VersionRecord | undefined): v is VersionRecord {
  return v !== undefined && v.kind !== 'removed';
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Codes that mean "the path is not (or no longer) the regular file the walk saw": look at it again. */
const REEXAMINE = new Set(['ELOOP', 'ENOTREG', 'ECHANGED', 'ENOENT', 'ENOTDIR']);

/** The facts to record for what was really read: the walk's path, the descriptor's fstat. */
function factsFromIdentity(f: FileFacts, id: FileIdentity): FileFacts {
  return { ...f, size: Number(id.size), mode: id.mode, mtimeMs: Number(id.mtimeNs) / 1e6, ino: String(id.ino), dev: String(id.dev) };
}

/** Whether a safe read returned the very file the walk saw (regular, same dev/ino). */
function sameFile(f: FileFacts, id: FileIdentity): boolean {
  return (id.mode & S_IFMT) === S_IFREG && String(id.dev) === f.dev && String(id.ino) === f.ino;
}

/** What storing one batch produced: versions to add once the batch counts. */
interface BatchOutcome {
  tally: RecordTally;
  left: Leftovers;
  rows: AddVersionInput[];
}

async function* pendingOf(files: Iterable<Pending | FileFacts> | AsyncIterable<Pending | FileFacts>): AsyncGenerator<Pending> {
  for await (const f of files) yield 'facts' in f ? f : { facts: f };
}

export class HistoryRecorder {
  private readonly largeFileBytes: number;
  private readonly batchFiles: number;
  private readonly batchBytes: number;
  private readonly concurrency: number;
  private readonly indexBatchRows: number;
  private readonly maxRereads: number;
  private readonly reader: SafeBatchReader;
  private readonly runBatch: <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
  /** The backend's batched lstat (io_uring ring STATX) when it has one: the scan's walk uses it. */
  readonly lstatMany: LstatMany | undefined;

  constructor(
    private readonly root: string,
    io: BatchReader,
    private readonly store: ContentSink,
    private readonly index: Index,
    private readonly log: RecorderLog,
    private readonly options: RecorderOptions,
  ) {
    this.largeFileBytes = options.largeFileBytes ?? 8 * 1024 * 1024;
    this.batchFiles = Math.max(1, options.batchFiles ?? DEFAULT_SCAN_BATCH_FILES);
    this.batchBytes = Math.max(1, options.batchBytes ?? DEFAULT_SCAN_BATCH_MIB * 2 ** 20);
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_SCAN_CONCURRENCY);
    this.indexBatchRows = Math.max(1, options.indexBatchRows ?? 4096);
    this.maxRereads = Math.max(0, options.maxRereads ?? 5);
    this.reader = new SafeBatchReader(io);
    this.lstatMany = io.lstatMany?.bind(io);
    this.runBatch = options.runBatch ?? ((_op, fn) => fn());
  }

  /**
   * Stores and records `files` in batches. `onBatch` is called after each
   * batch with the files and bytes it covered (for progress). Every file is
   * read safely (never through a symlink, never blocking on a FIFO) and
   * recorded only when it is still the regular file the walk saw; a path
   * that became something else is recorded as removed, a file that changed
   * during its read is read again.
   */
  async recordFiles(
    files: Iterable<Pending | FileFacts> | AsyncIterable<Pending | FileFacts>,
    onBatch?: (files: number, bytes: number) => void,
  ): Promise<RecordTally> {
    const tally = emptyTally();
    let work: AsyncIterable<Pending> | Iterable<Pending> = pendingOf(files);
    for (let round = 0; ; round++) {
      const left: Leftovers = { again: [], gone: [] };
      await this.recordRound(work, tally, left, round === 0 ? onBatch : undefined);
      if (left.gone.length > 0) addTally(tally, await this.runBatch('record removals', () => this.recordRemovals(left.gone)));
      if (this.options.shouldStop?.()) return tally;
      if (left.again.length === 0) break;
      tally.reread += left.again.length;
      if (round >= this.maxRereads) {
        for (const p of left.again) {
          this.failed(p.facts.path, changedError(p.facts.abs, `still changing after ${this.maxRereads} re-reads`, 'record'), tally);
        }
        break;
      }
      work = left.again;
    }
    return tally;
  }

  /**
   * One pass over `pending`, consumed lazily: at most `concurrency` batches are read and stored at
   * once, and their versions are committed `indexBatchRows` at a time. Large files are stored one
   * by one afterwards (only their facts are kept meanwhile).
   */
  private async recordRound(
    pending: AsyncIterable<Pending> | Iterable<Pending>,
    tally: RecordTally,
    left: Leftovers,
    onBatch?: (files: number, bytes: number) => void,
  ): Promise<void> {
    const large: Pending[] = [];
    const small = async function* (this: HistoryRecorder): AsyncGenerator<Pending> {
      for await (const p of pending) {
        if (p.facts.size >= this.largeFileBytes) large.push(p);
        else yield p;
      }
    }.call(this);
    const rows = new RowSink(this.index, this.indexBatchRows, this.runBatch, tally);
    // Batches overlap (reading one while others are hashed, compressed, written and fsynced): the
    // scan mostly waits on the disk and the store's workers. Paths are distinct across batches.
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    try {
      for await (const group of batchesAsync(small, this.batchFiles, this.batchBytes, (p) => p.facts.size)) {
        if (failure || this.options.shouldStop?.()) break;
        const job: Promise<void> = this.runBatch('record batch', () => this.storeBatch(group))
          .then((r) => {
            rows.add(r.rows);
            addTally(tally, r.tally);
            left.again.push(...r.left.again);
            left.gone.push(...r.left.gone);
            onBatch?.(
              group.length,
              group.reduce((s, p) => s + p.facts.size, 0),
            );
          })
          .catch((error: unknown) => void (failure ??= { error }))
          .finally(() => inflight.delete(job));
        inflight.add(job);
        if (inflight.size >= this.concurrency) await Promise.race(inflight);
        if (rows.full()) await rows.flush();
      }
      await Promise.all(inflight);
    } finally {
      // What was stored is recorded even when a later batch failed or a shutdown stopped the scan.
      await Promise.all(inflight);
      await rows.flush();
    }
    if (failure) throw failure.error;
    for (const p of large) {
      if (this.options.shouldStop?.()) return;
      const r = await this.runBatch('record large file', () => this.storeLarge(p));
      if (r.rows.length > 0) await this.index.addVersions(r.rows);
      r.tally.recorded += r.rows.length;
      addTally(tally, r.tally);
      left.again.push(...r.left.again);
      left.gone.push(...r.left.gone);
      onBatch?.(1, p.facts.size);
    }
  }

  /** Looks at a path again after a read found it changed or replaced. */
  private reexamine(p: Pending, left: Leftovers): void {
    const st = this.lstat(p.facts.path);
    if (st !== undefined && st.isFile()) left.again.push({ ...p, facts: factsOf(p.facts.path, p.facts.abs, st) });
    else left.gone.push(p.facts.path); // a symlink, FIFO, directory or nothing: what was recorded there is gone
  }

  /** Handles a failed slot: re-examine, throw (the batch is retried: disk full, transient), or report. */
  private slotFailed(p: Pending, err: ForgeError, tally: RecordTally, left: Leftovers): void {
    if (REEXAMINE.has(String(err.context.code ?? ''))) return this.reexamine(p, left);
    if (err.category === 'storage' || err.isRetryable()) throw err;
    this.failed(p.facts.path, err, tally);
  }

  /** One batch, all or nothing: its rows, tally and leftovers count only when it returns. */
  private async storeBatch(group: Pending[]): Promise<BatchOutcome> {
    const tally = emptyTally();
    const left: Leftovers = { again: [], gone: [] };
    const reads = await this.reader.read(group.map((p) => p.facts.abs));
    const ok: Array<{ p: Pending; data: Uint8Array }> = [];
    reads.forEach((r, i) => {
      const p = group[i]!;
      if (!r.ok) return this.slotFailed(p, r.error, tally, left);
      if (r.identity === undefined || !sameFile(p.facts, r.identity)) return this.reexamine(p, left);
      ok.push({ p: { ...p, facts: factsFromIdentity(p.facts, r.identity) }, data: r.data });
    });
    if (ok.length === 0) return { tally, left, rows: [] };
    const results = await this.store.putMany(ok.map((o) => o.data));
    const stored: Array<{ p: Pending; info: PutInfo }> = [];
    results.forEach((r, i) => {
      const o = ok[i]!;
      tally.bytesRead += o.data.length;
      if (r.ok) stored.push({ p: o.p, info: r });
      else this.slotFailed(o.p, r.error, tally, left);
    });
    return { tally, left, rows: await this.versionRows(stored, tally) };
  }

  private async storeLarge(p: Pending): Promise<BatchOutcome> {
    const tally = emptyTally();
    const left: Leftovers = { again: [], gone: [] };
    let info: PutResult;
    try {
      info = await this.store.putFile(p.facts.abs, { safe: true, expect: { dev: BigInt(p.facts.dev), ino: BigInt(p.facts.ino) } });
    } catch (e) {
      this.slotFailed(p, toForgeError(e, { file: p.facts.path, operation: 'putFile' }), tally, left);
      return { tally, left, rows: [] };
    }
    if (info.identity === undefined || !sameFile(p.facts, info.identity)) {
      this.reexamine(p, left);
      return { tally, left, rows: [] };
    }
    tally.bytesRead += info.size;
    return { tally, left, rows: await this.versionRows([{ p: { ...p, facts: factsFromIdentity(p.facts, info.identity) }, info }], tally) };
  }

  private failed(treePath: string, err: ForgeError, tally: RecordTally): void {
    tally.failed++;
    tally.errors.push(err);
    this.log.warn({ err, file: treePath }, 'could not record file');
  }

  /** The versions to add for what a batch stored (content equal to the newest version is not recorded again). */
  private async versionRows(stored: Array<{ p: Pending; info: PutInfo }>, tally: RecordTally): Promise<AddVersionInput[]> {
    tally.filesStored += stored.length;
    const unknown = stored.filter((s) => s.p.prev === undefined).map((s) => s.p.facts.path);
    const latest = unknown.length > 0 ? await latestMany(this.index, unknown) : new Map<string, VersionRecord>();
    const rows: AddVersionInput[] = [];
    for (const { p, info } of stored) {
      const prev = p.prev === undefined ? latest.get(p.facts.path) : (p.prev ?? undefined);
      const base = {
        path: p.facts.path,
        hash: info.hash,
        size: info.size,
        mode: p.facts.mode,
        mtimeMs: p.facts.mtimeMs,
        ino: p.facts.ino,
        storedSize: info.storedBytes,
        ...(info.manifest !== undefined ? { manifest: info.manifest } : {}),
        ...(info.chunks !== undefined ? { chunks: info.chunks } : {}),
      };
      if (p.oldPath !== undefined && p.oldPath !== p.facts.path) {
        rows.push({ ...base, kind: 'renamed', oldPath: p.oldPath });
        tally.renamed++;
      } else if (isLive(prev) && prev.hash === info.hash) {
        tally.unchanged++;
      } else rows.push({ ...base, kind: isLive(prev) ? 'modified' : 'created' });
    }
    return rows;
  }

  /** Records removals of the live paths among `paths`. */
  async recordRemovals(paths: readonly string[]): Promise<RecordTally> {
    const tally = emptyTally();
    const latest = await latestMany(this.index, paths);
    const rows: AddVersionInput[] = paths.filter((p) => isLive(latest.get(p))).map((p) => ({ path: p, kind: 'removed' }));
    if (rows.length > 0) await this.index.addVersions(rows);
    tally.removed = rows.length;
    tally.recorded = rows.length;
    return tally;
  }

  private abs(treePath: string): string {
    return path.join(this.root, ...treePath.split('/'));
  }

  private lstat(treePath: string): fs.BigIntStats | undefined {
    try {
      return fs.lstatSync(this.abs(treePath), { bigint: true });
    } catch {
      return undefined;
    }
  }

  /** Regular files at and below a tree path (a file or a directory). */
  private filesAt(treePath: string, st: fs.BigIntStats): FileFacts[] {
    if (st.isFile()) return [factsOf(treePath, this.abs(treePath), st)];
    if (!st.isDirectory()) return [];
    return walkTree(this.root, this.options.walk, treePath).files;
  }

  /**
   * Applies one coalesced batch of watcher changes. `ignored` filters paths
   * the daemon does not record (the store itself, ignore patterns).
   * Returns whether the batch held an overflow (the caller then reconciles).
   */
  async applyChanges(changes: readonly Change[], ignored: (p: string) => boolean): Promise<{ tally: RecordTally; overflow: boolean }> {
    const tally = emptyTally();
    if (changes.some((c) => c.kind === 'overflow')) return { tally, overflow: true };
    const toStore = new Map<string, Pending>();
    const toRemove = new Set<string>();
    const removeUnder = async (p: string): Promise<void> => {
      toRemove.add(p);
      for (const q of await livePathsUnder(this.index, p)) toRemove.add(q);
    };
    for (const c of changes) {
      if (ignored(c.path)) {
        if (c.kind === 'renamed' && c.oldPath !== undefined && !ignored(c.oldPath)) await removeUnder(c.oldPath);
        continue;
      }
      if (c.kind === 'removed') {
        await removeUnder(c.path);
        continue;
      }
      const st = this.lstat(c.path);
      if (st === undefined) {
        // Gone again before we looked: a removal (of whatever was recorded).
        await removeUnder(c.path);
        if (c.kind === 'renamed' && c.oldPath !== undefined && !ignored(c.oldPath)) await removeUnder(c.oldPath);
        continue;
      }
      if (!st.isFile() && !st.isDirectory()) {
        // A symlink, FIFO, socket or device now: never read, and whatever was recorded there is gone.
        await removeUnder(c.path);
        if (c.kind === 'renamed' && c.oldPath !== undefined && !ignored(c.oldPath)) await removeUnder(c.oldPath);
        continue;
      }
      const files = this.filesAt(c.path, st);
      if (c.kind === 'renamed' && c.oldPath !== undefined && !ignored(c.oldPath)) {
        const oldPath = c.oldPath;
        const oldLive = new Set([...(await livePathsUnder(this.index, oldPath))]);
        const oldLatest = await latestMany(this.index, [oldPath]);
        if (isLive(oldLatest.get(oldPath))) oldLive.add(oldPath);
        for (const f of files) {
          const from = f.path === c.path ? oldPath : oldPath + f.path.slice(c.path.length);
          toStore.set(f.path, oldLive.has(from) ? { facts: f, oldPath: from } : { facts: f });
          oldLive.delete(from);
        }
        // Whatever was under the old name and did not arrive under the new one is gone.
        for (const rest of oldLive) toRemove.add(rest);
      } else {
        for (const f of files) if (!toStore.has(f.path)) toStore.set(f.path, { facts: f });
      }
    }
    for (const p of toStore.keys()) toRemove.delete(p);
    const stored = await this.recordFiles([...toStore.values()].filter((p) => !ignored(p.facts.path)));
    addTally(tally, stored);
    if (toRemove.size > 0) addTally(tally, await this.recordRemovals([...toRemove]));
    return { tally, overflow: false };
  }
}
