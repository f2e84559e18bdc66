/**
 * Versions that come from elsewhere (another host's index, through a remote) with their original
 * seq, so `forge log` and `restore --version N` agree with the origin. The files and blobs tables
 * are kept consistent exactly as {@link Index.addVersions} keeps them.
 */
import { ForgeError } from '../base/errors.js';
import type { SqliteDatabase } from './sqlite-types.js';
import { stmt } from './statements.js';
import { toRecord, VERSION_COLUMNS, type VersionRecord, type VersionRow } from './types.js';

/** A version as it was recorded at its origin (seq included). */
export type ImportedVersion = Pick<VersionRecord, 'seq' | 'path' | 'timeMs' | 'kind' | 'hash' | 'size' | 'mode' | 'mtimeMs' | 'ino' | 'oldPath'>;

/** What the local store reported for a content hash, for its blobs row. */
export interface ImportedBlob {
  storedSize: number;
  manifest?: string;
  chunks: number;
}

/** The newest seq (0 when there are no versions). */
export function maxSeqOf(db: SqliteDatabase): number {
  return (stmt(db, 'SELECT coalesce(max(seq), 0) AS s FROM versions').get() as { s: number }).s;
}

/** Versions with seq > `afterSeq`, oldest first. */
export function versionsAfterSeq(db: SqliteDatabase, afterSeq: number): VersionRecord[] {
  const rows = stmt(db, `SELECT ${VERSION_COLUMNS} FROM versions v JOIN files f ON f.id = v.file_id WHERE v.seq > ? ORDER BY v.seq`).all(
    afterSeq,
  ) as VersionRow[];
  return rows.map(toRecord);
}

/**
 * Inserts `versions` (oldest first) in one transaction. Every seq must be above the newest one
 * here, and `blobs` must cover the hash of every version that has one; otherwise nothing is written.
 */
export function insertImported(db: SqliteDatabase, versions: readonly ImportedVersion[], blobs: ReadonlyMap<string, ImportedBlob>): void {
  if (versions.length === 0) return;
  db.transaction(() => {
    const top = maxSeqOf(db);
    if (versions[0]!.seq <= top) {
      throw new ForgeError('validation', `the remote's versions start at seq ${versions[0]!.seq}, but this index already has versions up to ${top}`, {
        context: { operation: 'remote import' },
        suggestions: ['This store has history of its own beyond what came from the remote; clone into a new directory instead.'],
      });
    }
    for (const v of versions) {
      const id = (stmt(db, 'INSERT INTO files(path) VALUES (?) ON CONFLICT(path) DO UPDATE SET path = path RETURNING id').get(v.path) as { id: number }).id;
      stmt(db, 'INSERT INTO versions(seq, file_id, time_ms, kind, hash, size, mode, mtime_ms, ino, old_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        v.seq,
        id,
        v.timeMs,
        v.kind,
        v.hash,
        v.size,
        v.mode,
        v.mtimeMs,
        v.ino,
        v.oldPath,
      );
      stmt(db, 'UPDATE files SET latest_seq = ?, live = ? WHERE id = ?').run(v.seq, v.kind === 'removed' ? 0 : 1, id);
      if (v.hash !== null) {
        const b = blobs.get(v.hash);
        if (!b) throw new ForgeError('unknown', `internal: no stored content for ${v.hash} (version ${v.seq})`, { context: { operation: 'remote import' } });
        stmt(
          db,
          `INSERT INTO blobs(hash, size, stored_size, refs, manifest, chunks) VALUES (?, ?, ?, 1, ?, ?)
           ON CONFLICT(hash) DO UPDATE SET refs = refs + 1, manifest = coalesce(blobs.manifest, excluded.manifest)`,
        ).run(v.hash, v.size ?? 0, b.storedSize, b.manifest ?? null, b.chunks);
      }
    }
  }).immediate();
}
