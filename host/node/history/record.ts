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
import type { AddVersionInput, Index, VersionRecord } from '../index-db/index.js';
import type { Change, ReadResult } from '../base/platform-io.js';
import type { PutManyResult, PutResult } from '../store/blob-store.js';
import { latestMany, livePathsUnder } from '../index-db/queries.js';
import { batches, factsOf, walkTree, type FileFacts, type WalkOptions } from './tree-scan.js';

/** What storing one content returned. */
export type PutInfo = PutResult;

/** The blob store as the recorder uses it (BlobStore satisfies it). */
export interface ContentSink {
  putMany(datas: readonly Uint8Array[]): Promise<PutManyResult[]>;
  putFile(abs: string): Promise<PutResult>;
}

/** The batch reader (a PlatformIO). */
export interface BatchReader {
  readonly backend: string;
  batchRead(paths: readonly string[]): Promise<ReadResult[]>;
}

/** A minimal logger (pino-compatible). */
export interface RecorderLog {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RecorderOptions {
  /** Files at least this large go through putFile one by one (default 8 MiB). */
  largeFileBytes?: number;
  /** Files per read/store batch (default 256). */
  batchFiles?: number;
  /** Bytes per read/store batch (default 32 MiB). */
  batchBytes?: number;
  walk: WalkOptions;
  /** Batches in flight at once (default 2). */
  concurrency?: number;
  /** Checked between batches: a shutdown stops a long scan early (the next start catches up). */
  shouldStop?: () => boolean;
}

/** What one call recorded. */
export interface RecordTally {
  /** Versions added. */
  recorded: number;
  /** Files read and stored (including unchanged ones that were then skipped). */
  filesStored: number;
  bytesRead: number;
  /** Content identical to the newest version: not recorded again. */
  unchanged: number;
  removed: number;
  renamed: number;
  /** Files that vanished or failed to read; failures are logged. */
  failed: number;
  errors: ForgeError[];
}

export function emptyTally(): RecordTally {
  return { recorded: 0, filesStored: 0, bytesRead: 0, unchanged: 0, removed: 0, renamed: 0, failed: 0, errors: [] };
}

export function addTally(into: RecordTally, t: RecordTally): RecordTally {
  into.recorded += t.recorded;
  into.filesStored += t.filesStored;
  into.bytesRead += t.bytesRead;
  into.unchanged += t.unchanged;
  into.removed += t.removed;
  into.renamed += t.renamed;
  into.failed += t.failed;
  into.errors.push(...t.errors);
  return into;
}

/** A file to store, and how to record it if its content is new. */
interface Pending {
  facts: FileFacts;
  /** For renames: the path it came from (already known to be live). */
  oldPath?: string;
}

function isLive(v: VersionRecord | undefined): v is VersionRecord {
  return v !== undefined && v.kind !== 'removed';
}

export class HistoryRecorder {
  private readonly largeFileBytes: number;
  private readonly batchFiles: number;
  private readonly batchBytes: number;
  private readonly concurrency: number;

  constructor(
    private readonly root: string,
    private readonly io: BatchReader,
    private readonly store: ContentSink,
    private readonly index: Index,
    private readonly log: RecorderLog,
    private readonly options: RecorderOptions,
  ) {
    this.largeFileBytes = options.largeFileBytes ?? 8 * 1024 * 1024;
    this.batchFiles = options.batchFiles ?? 256;
    this.batchBytes = options.batchBytes ?? 32 * 1024 * 1024;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
  }

  /**
   * Stores and records `files` in batches. `onBatch` is called after each
   * batch with the files and bytes it covered (for progress).
   */
  async recordFiles(files: readonly Pending[] | readonly FileFacts[], onBatch?: (files: number, bytes: number) => void): Promise<RecordTally> {
    const pending: Pending[] = files.map((f) => ('facts' in f ? f : { facts: f }));
    const tally = emptyTally();
    const small: Pending[] = [];
    const large: Pending[] = [];
    for (const p of pending) (p.facts.size >= this.largeFileBytes ? large : small).push(p);
    const byPath = new Map(small.map((p) => [p.facts.path, p]));
    // Batches overlap (reading one while another is compressed, written and fsynced): the scan
    // mostly waits on the disk, so two in flight keep it busy. Paths are distinct across batches.
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for (const group of batches(small.map((p) => p.facts), this.batchFiles, this.batchBytes)) {
      if (failure || this.options.shouldStop?.()) break;
      const job: Promise<void> = this.storeBatch(group.map((f) => byPath.get(f.path)!), tally)
        .then(() => onBatch?.(group.length, group.reduce((s, f) => s + f.size, 0)))
        .catch((error: unknown) => void (failure ??= { error }))
        .finally(() => inflight.delete(job));
      inflight.add(job);
      if (inflight.size >= this.concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (failure) throw failure.error;
    if (this.options.shouldStop?.()) return tally;
    for (const p of large) {
      if (this.options.shouldStop?.()) return tally;
      await this.storeLarge(p, tally);
      onBatch?.(1, p.facts.size);
    }
    return tally;
  }

  private async storeBatch(group: Pending[], tally: RecordTally): Promise<void> {
    const reads = await this.io.batchRead(group.map((p) => p.facts.abs));
    const ok: Array<{ p: Pending; data: Uint8Array }> = [];
    reads.forEach((r, i) => {
      const p = group[i]!;
      if (r.ok) ok.push({ p, data: r.data });
      else this.failed(p.facts.path, r.error, tally);
    });
    if (ok.length === 0) return;
    const results = await this.store.putMany(ok.map((o) => o.data));
    const stored: Array<{ p: Pending; info: PutInfo }> = [];
    results.forEach((r, i) => {
      const o = ok[i]!;
      tally.bytesRead += o.data.length;
      if (r.ok) stored.push({ p: o.p, info: r });
      else this.failed(o.p.facts.path, r.error, tally);
    });
    await this.record(stored, tally);
  }

  private async storeLarge(p: Pending, tally: RecordTally): Promise<void> {
    try {
      const info = await this.store.putFile(p.facts.abs);
      tally.bytesRead += info.size;
      await this.record([{ p, info }], tally);
    } catch (e) {
      this.failed(p.facts.path, toForgeError(e, { file: p.facts.path, operation: 'putFile' }), tally);
    }
  }

  private failed(treePath: string, err: ForgeError, tally: RecordTally): void {
    tally.failed++;
    // A file that vanished between the event and the read is not an error: a later event records the removal.
    if (err.context.code === 'ENOENT') {
      this.log.debug({ file: treePath }, 'file vanished before it could be read');
      return;
    }
    tally.errors.push(err);
    this.log.warn({ err, file: treePath }, 'could not record file');
  }

  private async record(stored: Array<{ p: Pending; info: PutInfo }>, tally: RecordTally): Promise<void> {
    tally.filesStored += stored.length;
    const latest = await latestMany(this.index, stored.map((s) => s.p.facts.path));
    const rows: AddVersionInput[] = [];
    for (const { p, info } of stored) {
      const prev = latest.get(p.facts.path);
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
    if (rows.length > 0) await this.index.addVersions(rows);
    tally.recorded += rows.length;
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
