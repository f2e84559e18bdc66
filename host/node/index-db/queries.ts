/**
 * Queries the daemon needs that the Index does not offer, written on top of
 * its connection pool (read-only SQL against the documented schema).
 */
import { toRecord, VERSION_COLUMNS, type Index, type VersionRecord, type VersionRow } from './index.js';
import { rowsOf, stmt } from './statements.js';

interface Row extends VersionRow {
  live: number;
}

const COLUMNS = `${VERSION_COLUMNS}, f.live`;
const CHUNK = 500; // stays well under SQLite's bound-parameter limit

/** The newest version of each of `paths` that has one (removed ones included), by path. */
export async function latestMany(index: Index, paths: readonly string[]): Promise<Map<string, VersionRecord>> {
  const out = new Map<string, VersionRecord>();
  if (paths.length === 0) return out;
  await index.connections.with((db) => {
    for (let i = 0; i < paths.length; i += CHUNK) {
      const part = paths.slice(i, i + CHUNK);
      // One cached statement per distinct part length: at most CHUNK of them.
      const rows = stmt(db, `SELECT ${COLUMNS} FROM files f JOIN versions v ON v.seq = f.latest_seq WHERE f.path IN (${part.map(() => '?').join(',')})`).all(
        ...part,
      ) as Row[];
      for (const r of rows) out.set(r.path, toRecord(r));
    }
  }, 'latestMany');
  return out;
}

/** Live paths at or below directory `dir` (`/`-separated, no trailing slash). */
export async function livePathsUnder(index: Index, dir: string): Promise<string[]> {
  // Range scan on the UNIQUE(path) index: every path starting with `dir/`.
  const lo = `${dir}/`;
  const hi = `${dir}0`; // '0' is the character after '/'
  return index.connections.with(
    (db) =>
      (stmt(db, 'SELECT path FROM files WHERE live = 1 AND path >= ? AND path < ? ORDER BY path').all(lo, hi) as Array<{ path: string }>).map((r) => r.path),
    'livePathsUnder',
  );
}

/**
 * Every distinct content hash of every version, with the paths/seqs that use it (for verify).
 * @public Loaded from dist by the statement-teardown test, which static analysis cannot see.
 */
export async function versionHashes(index: Index): Promise<Map<string, Array<{ path: string; seq: number }>>> {
  return index.connections.with((db) => {
    const out = new Map<string, Array<{ path: string; seq: number }>>();
    for (const r of rowsOf<{ hash: string; seq: number; path: string }>(
      stmt(db, 'SELECT v.hash, v.seq, f.path FROM versions v JOIN files f ON f.id = v.file_id WHERE v.hash IS NOT NULL'),
    )) {
      let list = out.get(r.hash);
      if (!list) out.set(r.hash, (list = []));
      list.push({ path: r.path, seq: r.seq });
    }
    return out;
  }, 'versionHashes');
}

/** The version with global sequence number `seq`, whatever its path. */
export async function versionBySeq(index: Index, seq: number): Promise<VersionRecord | undefined> {
  return index.connections.with((db) => {
    const r = stmt(db, `SELECT ${COLUMNS} FROM versions v JOIN files f ON f.id = v.file_id WHERE v.seq = ?`).get(seq) as Row | undefined;
    return r && toRecord(r);
  }, 'versionBySeq');
}

/** Distinct content referenced by some version: count and total uncompressed size. */
export async function uniqueContent(index: Index): Promise<{ blobs: number; bytes: number }> {
  return index.connections.with((db) => {
    const r = stmt(db, 'SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM blobs WHERE refs > 0').get() as { n: number; bytes: number };
    return { blobs: r.n, bytes: r.bytes };
  }, 'uniqueContent');
}

// ------------------------------------------------------------ browsing the history (forge log / ls / restore <dir>)

/** Range bounds of the paths at or below directory `dir` ('' is the whole tree). */
function under(dir: string): { lo: string; hi: string } {
  return dir === '' ? { lo: '', hi: '\u{10FFFF}' } : { lo: `${dir}/`, hi: `${dir}0` };
}

/**
 * Versions of every path at or below `dir` ('' = the whole tree), newest first: at most `limit`,
 * recorded at or after `sinceMs` when given.
 */
export async function recentVersions(index: Index, options: { dir?: string; limit?: number; sinceMs?: number } = {}): Promise<VersionRecord[]> {
  const { lo, hi } = under(options.dir ?? '');
  return index.connections.with(
    (db) =>
      (
        stmt(
          db,
          `SELECT ${VERSION_COLUMNS} FROM versions v JOIN files f ON f.id = v.file_id
           WHERE f.path >= @lo AND f.path < @hi AND (@since IS NULL OR v.time_ms >= @since)
           ORDER BY v.seq DESC LIMIT @limit`,
        ).all({ lo, hi, since: options.sinceMs ?? null, limit: options.limit ?? -1 }) as VersionRow[]
      ).map(toRecord),
    'recentVersions',
  );
}

/**
 * The files at or below `dir` ('' = the whole tree) as they were at `atMs`: for each path, its newest
 * version recorded at or before then, unless that version is a removal. Sorted by path.
 */
export async function filesAt(index: Index, dir: string, atMs: number): Promise<VersionRecord[]> {
  const { lo, hi } = under(dir);
  return index.connections.with(
    (db) =>
      (
        stmt(
          db,
          `SELECT ${VERSION_COLUMNS} FROM files f JOIN versions v ON v.seq = (
             SELECT max(seq) FROM versions WHERE file_id = f.id AND time_ms <= @at)
           WHERE f.path >= @lo AND f.path < @hi AND v.kind <> 'removed'
           ORDER BY f.path`,
        ).all({ lo, hi, at: atMs }) as VersionRow[]
      ).map(toRecord),
    'filesAt',
  );
}

/** What verify needs from the index, read in one read transaction (a consistent snapshot while a daemon records). */
export interface VerifySnapshot {
  /** Every content hash some version refers to, plus the manifests of chunked ones. */
  expected: Set<string>;
  /** The versions that use each content hash. */
  users: Map<string, Array<{ path: string; seq: number }>>;
}

/** {@link VerifySnapshot} of `index`. */
export async function verifySnapshot(index: Index): Promise<VerifySnapshot> {
  return index.connections.with(
    (db) =>
      db.transaction((): VerifySnapshot => {
        const expected = new Set<string>();
        for (const r of rowsOf<{ hash: string; manifest: string | null }>(stmt(db, 'SELECT hash, manifest FROM blobs WHERE refs > 0'))) {
          expected.add(r.hash);
          if (r.manifest !== null) expected.add(r.manifest);
        }
        const users = new Map<string, Array<{ path: string; seq: number }>>();
        for (const r of rowsOf<{ hash: string; seq: number; path: string }>(
          stmt(db, 'SELECT v.hash, v.seq, f.path FROM versions v JOIN files f ON f.id = v.file_id WHERE v.hash IS NOT NULL'),
        )) {
          let list = users.get(r.hash);
          if (!list) users.set(r.hash, (list = []));
          list.push({ path: r.path, seq: r.seq });
          // A version whose content has no blob row is still content verify must find.
          expected.add(r.hash);
        }
        return { expected, users };
      })(),
    'verifySnapshot',
  );
}

/** Content hashes recorded in the index that start with `prefix` (lowercase hex), for short-hash lookup. */
export async function hashesWithPrefix(index: Index, prefix: string): Promise<string[]> {
  return index.connections.with(
    (db) => (stmt(db, "SELECT hash FROM blobs WHERE hash >= ? AND hash < ? || 'g'").all(prefix, prefix) as Array<{ hash: string }>).map((r) => r.hash),
    'hashesWithPrefix',
  );
}
