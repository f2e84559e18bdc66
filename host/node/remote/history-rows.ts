/**
 * Moving version rows between a local index and remote segments. Export reads
 * the versions after a seq; import writes rows with their original seq (so
 * `forge log` / `restore --version N` agree with the origin), keeping the
 * files and blobs tables consistent exactly as the index's own insert does.
 */
import { ForgeError } from '../base/errors.js';
import { toRecord, VERSION_COLUMNS, type Index, type VersionRow } from '../index-db/index.js';
import { stmt } from '../index-db/statements.js';
import type { SegmentVersion } from './format.js';

/** The blob facts a local put reported, for the blobs table. */
export interface BlobFacts {
  storedSize: number;
  manifest?: string;
  chunks: number;
}

/** Versions with seq > `afterSeq`, oldest first. */
export async function versionsAfter(index: Index, afterSeq: number): Promise<SegmentVersion[]> {
  return index.connections.with((db) => {
    const rows = stmt(db, `SELECT ${VERSION_COLUMNS} FROM versions v JOIN files f ON f.id = v.file_id WHERE v.seq > ? ORDER BY v.seq`).all(afterSeq) as VersionRow[];
    return rows.map(toRecord);
  }, 'remote versionsAfter');
}

/** The newest seq in the index (0 when empty). */
export async function maxSeq(index: Index): Promise<number> {
  return index.connections.with((db) => (stmt(db, 'SELECT coalesce(max(seq), 0) AS s FROM versions').get() as { s: number }).s, 'remote maxSeq');
}

/**
 * Writes `versions` (from a remote host, oldest first) into `index` in one
 * transaction. Every seq must be above the index's newest; `blobs` gives the
 * stored facts of each content hash (it must cover every non-removed version).
 */
export async function importVersions(index: Index, versions: readonly SegmentVersion[], blobs: ReadonlyMap<string, BlobFacts>): Promise<void> {
  if (versions.length === 0) return;
  await index.connections.with((db) => {
    db.transaction(() => {
      const top = (stmt(db, 'SELECT coalesce(max(seq), 0) AS s FROM versions').get() as { s: number }).s;
      if (versions[0]!.seq <= top) {
        throw new ForgeError('validation', `the remote's versions start at seq ${versions[0]!.seq}, but this index already has versions up to ${top}`, {
          context: { operation: 'remote import' },
          suggestions: ['This store has history of its own beyond what came from the remote; clone into a new directory instead.'],
        });
      }
      for (const v of versions) {
        const id = (stmt(db, 'INSERT INTO files(path) VALUES (?) ON CONFLICT(path) DO UPDATE SET path = path RETURNING id').get(v.path) as { id: number }).id;
        stmt(db, 'INSERT INTO versions(seq, file_id, time_ms, kind, hash, size, mode, mtime_ms, ino, old_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
          v.seq, id, v.timeMs, v.kind, v.hash, v.size, v.mode, v.mtimeMs, v.ino, v.oldPath,
        );
        stmt(db, 'UPDATE files SET latest_seq = ?, live = ? WHERE id = ?').run(v.seq, v.kind === 'removed' ? 0 : 1, id);
        if (v.hash !== null) {
          const b = blobs.get(v.hash);
          if (!b) throw new ForgeError('unknown', `internal: no stored content for ${v.hash} (version ${v.seq})`, { context: { operation: 'remote import' } });
          stmt(db,
            `INSERT INTO blobs(hash, size, stored_size, refs, manifest, chunks) VALUES (?, ?, ?, 1, ?, ?)
             ON CONFLICT(hash) DO UPDATE SET refs = refs + 1, manifest = coalesce(blobs.manifest, excluded.manifest)`,
          ).run(v.hash, v.size ?? 0, b.storedSize, b.manifest ?? null, b.chunks);
        }
      }
    }).immediate();
  }, 'remote import');
}
