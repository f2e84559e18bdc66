/**
 * The history index: which content each watched path had, and when. SQLite
 * (better-sqlite3@12) in WAL mode behind a bounded connection pool. The store
 * holds the bytes; this records versions and the blobs they refer to.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ForgeError } from '../base/errors.js';
import { withRetry } from '../base/retry.js';
import { checkReadable, migrate, userVersion } from './migrations.js';
import { guardLostIndex, indexFileIsNew } from './store-guard.js';
import { applyPrune, checkPrunePolicy, planPrune, type PrunePlan } from './prune.js';
import { rowsOf, stmt } from './statements.js';
import { insertImported, maxSeqOf, versionsAfterSeq, type ImportedBlob, type ImportedVersion } from './imported.js';
import { ConnectionPool, type SqliteDatabase } from './pool.js';
import {
  KINDS,
  toRecord,
  VERSION_COLUMNS,
  type AddVersionInput,
  type BlobRecord,
  type IndexOptions,
  type IndexStats,
  type PruneOptions,
  type PruneResult,
  type VersionKind,
  type VersionRecord,
  type VersionRow,
} from './types.js';

export * from './types.js';
export type { ImportedBlob, ImportedVersion } from './imported.js';

// `await using` on Node versions whose Symbol.asyncDispose is missing (the well-known symbol Node uses).
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('nodejs.asyncDispose');
function setupConnection(db: SqliteDatabase): void {
  // exec, not pragma(): no Statement object to be collected (statements.ts).
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL'); // WAL + NORMAL: committed data survives a process crash
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
}

/** SQLITE_BUSY / SQLITE_LOCKED (and their extended codes) as a retryable ForgeError; undefined for anything else. */
export function busyError(err: unknown, file: string, operation: string): ForgeError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^SQLITE_(BUSY|LOCKED)/.test(code)) return undefined;
  return new ForgeError('timeout', `The index ${file} is locked by another connection (${code})`, {
    cause: err,
    retryable: true,
    context: { file, operation, code },
    suggestions: ['Another process holds a write transaction on the index; it is retried. If it persists, find the process holding index.db (fuser, lsof).'],
  });
}

function setupReadonly(db: SqliteDatabase): void {
  db.exec('PRAGMA busy_timeout = 5000');
}

function missingReadonly(file: string): ForgeError {
  return new ForgeError('filesystem', `The index ${file} does not exist (opened read-only, so it is not created)`, {
    context: { file, operation: 'open index', code: 'ENOENT' },
    suggestions: ['Check the store directory, or record a tree first with `forge watch`.'],
  });
}

function invalid(message: string, field: string): ForgeError {
  return new ForgeError('validation', message, {
    context: { operation: 'index', field },
    suggestions: ['See the "Index" section of README.md for the Index API.'],
  });
}

function checkInput(v: AddVersionInput): void {
  if (typeof v.path !== 'string' || v.path.length === 0) throw invalid('addVersion: path must be a non-empty string', 'path');
  if (!KINDS.has(v.kind)) throw invalid(`addVersion: unknown kind ${JSON.stringify(v.kind)}`, 'kind');
  if (v.kind !== 'removed') {
    if (typeof v.hash !== 'string' || !/^[0-9a-f]{64}$/.test(v.hash)) {
      throw invalid(`addVersion: ${v.kind} version of ${v.path} needs a 64-hex SHA-256 hash`, 'hash');
    }
    if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) {
      throw invalid(`addVersion: ${v.kind} version of ${v.path} needs a size >= 0`, 'size');
    }
  }
  if (v.kind === 'renamed' && (typeof v.oldPath !== 'string' || v.oldPath.length === 0)) {
    throw invalid('addVersion: a renamed version needs oldPath', 'oldPath');
  }
}

/**
 * The version history index.
 *
 * @example
 * ```ts
 * const index = await Index.open('/srv/forge/index.db');
 * const { hash, size } = await store.putFile('/srv/project/a.txt');
 * const seq = await index.addVersion({ path: 'a.txt', kind: 'created', hash, size, mode: 0o644 });
 * console.log(await index.latest('a.txt'));
 * await index.close();
 * ```
 */
export class Index {
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly pool: ConnectionPool,
  ) {}

  /** Opens (creating and migrating if needed) the index database at `file`. */
  static async open(file: string, options: IndexOptions = {}): Promise<Index> {
    const readonly = options.readonly === true;
    if (file !== ':memory:') {
      if (indexFileIsNew(file)) {
        if (!options.rebuild) guardLostIndex(file, existsSync(file) ? 'empty' : 'missing');
        if (readonly) throw missingReadonly(file);
      }
      if (!readonly) mkdirSync(dirname(file), { recursive: true });
    }
    const pool = new ConnectionPool(file, {
      // Every ':memory:' connection is a database of its own: one connection only.
      size: file === ':memory:' ? 1 : (options.poolSize ?? 4),
      acquireTimeoutMs: options.acquireTimeoutMs ?? 10_000,
      setup: (db) => {
        (readonly ? setupReadonly : setupConnection)(db);
        if (options.busyTimeoutMs !== undefined) db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
      },
      readonly,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    try {
      await pool.with((db) => {
        // A file SQLite holds no schema in (never migrated) counts as empty too.
        if (file !== ':memory:' && !options.rebuild && userVersion(db) === 0) guardLostIndex(file, 'empty');
        if (readonly) checkReadable(db, file);
        else migrate(db, file);
      }, 'migrate');
    } catch (err) {
      await pool.close();
      throw err;
    }
    return new Index(file, pool);
  }

  /**
   * Runs `fn` on a pooled connection. SQLITE_BUSY / SQLITE_LOCKED (another connection or process
   * holds the write lock past `busyTimeoutMs`) become a retryable ForgeError with that code, and
   * the call is retried with backoff (base/retry.ts); a transaction that failed so was rolled back.
   */
  private with<T>(fn: (db: SqliteDatabase) => T, label: string): Promise<T> {
    return withRetry(
      () =>
        this.pool.with((db) => {
          try {
            return fn(db);
          } catch (err) {
            throw busyError(err, this.file, label) ?? err;
          }
        }, label),
      { operation: `index ${label}` },
    );
  }

  /** The pool, for callers that need raw SQL (read-only use recommended). */
  get connections(): ConnectionPool {
    return this.pool;
  }

  /** Records a version; returns its seq. A 'renamed' version also records 'removed' for oldPath. */
  async addVersion(v: AddVersionInput): Promise<number> {
    const [seq] = await this.addVersions([v]);
    return seq!;
  }

  /** Records several versions in one transaction; returns their seqs in order. */
  async addVersions(list: readonly AddVersionInput[]): Promise<number[]> {
    for (const v of list) checkInput(v);
    return this.with((db) => db.transaction(() => list.map((v) => insertVersion(db, v))).immediate(), 'addVersions');
  }

  /** The newest seq of any version (0 when there is none). */
  async maxSeq(): Promise<number> {
    return this.with((db) => maxSeqOf(db), 'maxSeq');
  }

  /** Every version with seq > `afterSeq`, oldest first (what a push sends). */
  async versionsAfter(afterSeq: number): Promise<VersionRecord[]> {
    return this.with((db) => versionsAfterSeq(db, afterSeq), 'versionsAfter');
  }

  /**
   * Writes versions recorded elsewhere (a remote's history, oldest first) with their original
   * seq, in one transaction. Every seq must be above this index's newest (else a validation
   * ForgeError and nothing written); `blobs` gives the stored facts of each content hash.
   *
   * @example
   * ```ts
   * await index.importVersions(segment.versions, new Map([[hash, { storedSize: 120, chunks: 1 }]]));
   * ```
   */
  async importVersions(versions: readonly ImportedVersion[], blobs: ReadonlyMap<string, ImportedBlob>): Promise<void> {
    if (versions.length === 0) return;
    await this.with((db) => insertImported(db, versions, blobs), 'importVersions');
  }

  /** The newest version of `path`, or undefined. */
  async latest(path: string): Promise<VersionRecord | undefined> {
    return this.with((db) => {
      const r = stmt(db, `SELECT ${VERSION_COLUMNS} FROM files f JOIN versions v ON v.seq = f.latest_seq WHERE f.path = ?`).get(path) as VersionRow | undefined;
      return r && toRecord(r);
    }, 'latest');
  }

  /** Every version of `path`, oldest first. */
  async versions(path: string): Promise<VersionRecord[]> {
    return this.with((db) => {
      const rows = stmt(db, `SELECT ${VERSION_COLUMNS} FROM files f JOIN versions v ON v.file_id = f.id WHERE f.path = ? ORDER BY v.seq`).all(
        path,
      ) as VersionRow[];
      return rows.map(toRecord);
    }, 'versions');
  }

  /**
   * The version of `path` current at `at`: a number is a seq (newest version
   * with seq <= at), a Date a time (newest version recorded at or before it).
   */
  async versionAt(path: string, at: number | Date): Promise<VersionRecord | undefined> {
    const bySeq = typeof at === 'number';
    const value = bySeq ? at : at.getTime();
    if (!Number.isFinite(value)) throw invalid('versionAt: seq or time must be finite', 'at');
    return this.with((db) => {
      const r = stmt(
        db,
        `SELECT ${VERSION_COLUMNS} FROM files f JOIN versions v ON v.file_id = f.id
           WHERE f.path = ? AND ${bySeq ? 'v.seq' : 'v.time_ms'} <= ? ORDER BY v.seq DESC LIMIT 1`,
      ).get(path, value) as VersionRow | undefined;
      return r && toRecord(r);
    }, 'versionAt');
  }

  /** Live files (newest version not 'removed') with their newest version, by path. */
  async files(): Promise<VersionRecord[]> {
    return this.with((db) => {
      const rows = stmt(
        db,
        `SELECT ${VERSION_COLUMNS} FROM files f JOIN versions v ON v.seq = f.latest_seq WHERE f.live = 1 ORDER BY f.path`,
      ).all() as VersionRow[];
      return rows.map(toRecord);
    }, 'files');
  }

  /** The blob row of `hash`, if any version refers to it. */
  async blob(hash: string): Promise<BlobRecord | undefined> {
    return this.with((db) => {
      const r = stmt(db, 'SELECT hash, size, stored_size AS storedSize, refs, manifest, chunks FROM blobs WHERE hash = ?').get(hash) as BlobRecord | undefined;
      return r;
    }, 'blob');
  }

  /**
   * Removes old versions. A version survives if it is one of the `keep` newest
   * of its path, or younger than `keepDays`; the newest version of every path
   * always survives. Blobs left without versions are returned (the store's
   * `gc({ keep: await index.referencedHashes() })` then reclaims them).
   */
  async prune(options: PruneOptions): Promise<PruneResult> {
    checkPrunePolicy(options);
    return this.with(
      (db) =>
        db
          .transaction((): PruneResult => {
            const plan = planPrune(db, options);
            applyPrune(db, plan);
            return { versionsRemoved: plan.versions.length, blobsReleased: plan.blobsReleased, versions: plan.versions, filesForgotten: plan.filesForgotten };
          })
          .immediate(),
      'prune',
    );
  }

  /** What {@link Index.prune} would remove with `options`, changing nothing (for `gc --dry-run`). */
  async planPrune(options: PruneOptions): Promise<PrunePlan> {
    checkPrunePolicy(options);
    return this.with((db) => db.transaction(() => planPrune(db, options)).deferred(), 'planPrune');
  }

  /** Every content hash some version refers to, plus the manifests of chunked ones. */
  async referencedHashes(): Promise<Set<string>> {
    return this.with((db) => {
      const out = new Set<string>();
      for (const r of rowsOf<{ hash: string; manifest: string | null }>(stmt(db, 'SELECT hash, manifest FROM blobs WHERE refs > 0'))) {
        out.add(r.hash);
        if (r.manifest !== null) out.add(r.manifest);
      }
      return out;
    }, 'referencedHashes');
  }

  /** Counts of live files, versions and blobs, and their logical and stored bytes. */
  async stats(): Promise<IndexStats> {
    return this.with((db) => {
      const files = (stmt(db, 'SELECT count(*) AS n FROM files WHERE live = 1').get() as { n: number }).n;
      const v = stmt(db, 'SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM versions').get() as {
        n: number;
        bytes: number;
      };
      const b = stmt(db, 'SELECT count(*) AS n, coalesce(sum(stored_size), 0) AS bytes FROM blobs WHERE refs > 0').get() as {
        n: number;
        bytes: number;
      };
      return { files, versions: v.n, blobs: b.n, logicalBytes: v.bytes, storedBytes: b.bytes };
    }, 'stats');
  }

  /** A daemon state value (JSON-decoded), or undefined. */
  async getState<T = unknown>(key: string): Promise<T | undefined> {
    return this.with((db) => {
      const r = stmt(db, 'SELECT value FROM state WHERE key = ?').get(key) as { value: string } | undefined;
      return r === undefined ? undefined : (JSON.parse(r.value) as T);
    }, 'getState');
  }

  /** Stores a JSON-serialisable daemon state value; `undefined` deletes the key. */
  async setState(key: string, value: unknown): Promise<void> {
    await this.with((db) => {
      if (value === undefined) stmt(db, 'DELETE FROM state WHERE key = ?').run(key);
      else stmt(db, 'INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
    }, 'setState');
  }

  /**
   * SQLite's own check of the database file: `PRAGMA quick_check` (pages, records, b-trees), or
   * with `full` `PRAGMA integrity_check` (also every index against its table). Returns the
   * problems SQLite names; none when the file is sound. A file too damaged to be read yields its
   * read error as the one problem.
   */
  async checkIntegrity(options: { full?: boolean } = {}): Promise<string[]> {
    const pragma = options.full ? 'PRAGMA integrity_check' : 'PRAGMA quick_check';
    return this.with((db) => {
      try {
        const rows = stmt(db, pragma).all() as Array<Record<string, unknown>>;
        const out = rows.map((r) => String(Object.values(r)[0]));
        return out.length === 1 && out[0] === 'ok' ? [] : out;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return [`${code}: ${(err as Error).message}`];
        throw err;
      }
    }, 'checkIntegrity');
  }

  /** Closes it at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Closes every connection (checkpointing the WAL). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}

function fileId(db: SqliteDatabase, path: string): number {
  const r = stmt(db, 'INSERT INTO files(path) VALUES (?) ON CONFLICT(path) DO UPDATE SET path = path RETURNING id').get(path) as {
    id: number;
  };
  return r.id;
}

function insertRow(db: SqliteDatabase, v: AddVersionInput, path: string, kind: VersionKind, oldPath: string | null): number {
  const id = fileId(db, path);
  const removed = kind === 'removed';
  const r = stmt(
    db,
    `INSERT INTO versions(file_id, time_ms, kind, hash, size, mode, mtime_ms, ino, old_path)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
  ).get(
    id,
    v.timeMs ?? Date.now(),
    kind,
    removed ? null : v.hash!,
    removed ? null : v.size!,
    removed ? null : (v.mode ?? null),
    removed ? null : (v.mtimeMs ?? null),
    removed || v.ino === undefined ? null : String(v.ino),
    oldPath,
  ) as { seq: number };
  stmt(db, 'UPDATE files SET latest_seq = ?, live = ? WHERE id = ?').run(r.seq, removed ? 0 : 1, id);
  return r.seq;
}

function insertVersion(db: SqliteDatabase, v: AddVersionInput): number {
  if (v.kind === 'renamed') {
    const old = stmt(db, 'SELECT live FROM files WHERE path = ?').get(v.oldPath!) as { live: number } | undefined;
    if (old !== undefined && old.live === 1) insertRow(db, { ...v, kind: 'removed' }, v.oldPath!, 'removed', null);
  }
  const seq = insertRow(db, v, v.path, v.kind, v.kind === 'renamed' ? v.oldPath! : null);
  if (v.kind !== 'removed') {
    stmt(
      db,
      `INSERT INTO blobs(hash, size, stored_size, refs, manifest, chunks) VALUES (?, ?, ?, 1, ?, ?)
       ON CONFLICT(hash) DO UPDATE SET refs = refs + 1, manifest = coalesce(blobs.manifest, excluded.manifest)`,
    ).run(v.hash!, v.size!, v.storedSize ?? 0, v.manifest ?? null, v.chunks ?? 1);
  }
  return seq;
}
