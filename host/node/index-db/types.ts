/** The index's public records and inputs, and the versions row shared with queries.ts. */
import type { DoomedVersion, PrunePolicy } from './prune.js';
import type { PoolLogger } from './pool.js';

/** What a recorded version is: a creation, modification, removal or rename. */
export type VersionKind = 'created' | 'modified' | 'removed' | 'renamed';
export const KINDS: ReadonlySet<string> = new Set(['created', 'modified', 'removed', 'renamed']);

/** One recorded version of a path. */
export interface VersionRecord {
  /** Global sequence number: increases with every version of every path. */
  seq: number;
  path: string;
  /** When it was recorded (ms since the epoch). */
  timeMs: number;
  kind: VersionKind;
  /** SHA-256 of the whole content (what `sha256sum` prints); null for 'removed'. */
  hash: string | null;
  size: number | null;
  mode: number | null;
  mtimeMs: number | null;
  /** Inode number as a decimal string (may exceed 2^53). */
  ino: string | null;
  /** For 'renamed': the path it had before. */
  oldPath: string | null;
}

/** Input of {@link Index.addVersion}. */
export interface AddVersionInput {
  path: string;
  kind: VersionKind;
  /** Required unless kind is 'removed'. */
  hash?: string;
  size?: number;
  mode?: number;
  mtimeMs?: number;
  ino?: number | bigint | string;
  oldPath?: string;
  /** Defaults to now. */
  timeMs?: number;
  /** Bytes the content added to the store when put (from BlobStore.put/putFile). */
  storedSize?: number;
  /** Manifest object hash for chunked content. */
  manifest?: string;
  chunks?: number;
}

/** A blob the index refers to. */
export interface BlobRecord {
  hash: string;
  size: number;
  storedSize: number;
  refs: number;
  manifest: string | null;
  chunks: number;
}

/** Totals of an {@link Index}. */
export interface IndexStats {
  /** Live files (latest version not 'removed'). */
  files: number;
  versions: number;
  blobs: number;
  /** Sum of the sizes of every version. */
  logicalBytes: number;
  /** Sum of the stored sizes of every referenced blob. */
  storedBytes: number;
}

/** A pruning policy: see {@link PrunePolicy}. The newest content of every file always survives unless `pruneDeleted` names it. */
export type PruneOptions = PrunePolicy;

/** What a prune removed. */
export interface PruneResult {
  versionsRemoved: number;
  /** Blob hashes no version refers to any more (run BlobStore.gc to reclaim them). */
  blobsReleased: string[];
  /** The versions removed. */
  versions: DoomedVersion[];
  /** Files whose whole history went (only with `pruneDeleted`). */
  filesForgotten: string[];
}

/** Options of `Index.open`. */
export interface IndexOptions {
  /** Connection pool size (default 4): the most connections open at once. */
  poolSize?: number;
  /**
   * Open for reading only (read commands, a read-only store): no schema change, no write, and
   * a missing index is an error instead of being created.
   */
  readonly?: boolean;
  /**
   * Create the index even though the store beside it holds objects. Only the index rebuild sets
   * this: otherwise a missing or empty index beside objects is an `integrity` error, because
   * recreating it would lose every path and time (see store-guard.ts).
   */
  rebuild?: boolean;
  /** How long SQLite itself waits for another connection's write lock before SQLITE_BUSY (default 5,000 ms; then the call is retried). */
  busyTimeoutMs?: number;
  /** How long a caller waits for a pooled connection (default 10,000 ms). */
  acquireTimeoutMs?: number;
  logger?: PoolLogger;
}

/** A row of the versions query (snake_case columns), shared with queries built on the Index. */
export interface VersionRow {
  seq: number;
  path: string;
  time_ms: number;
  kind: VersionKind;
  hash: string | null;
  size: number | null;
  mode: number | null;
  mtime_ms: number | null;
  ino: string | null;
  old_path: string | null;
}

export const VERSION_COLUMNS = 'v.seq, f.path, v.time_ms, v.kind, v.hash, v.size, v.mode, v.mtime_ms, v.ino, v.old_path';

/** Maps a {@link VersionRow} to the public record. */
export function toRecord(r: VersionRow): VersionRecord {
  return {
    seq: r.seq,
    path: r.path,
    timeMs: r.time_ms,
    kind: r.kind,
    hash: r.hash,
    size: r.size,
    mode: r.mode,
    mtimeMs: r.mtime_ms,
    ino: r.ino,
    oldPath: r.old_path,
  };
}
