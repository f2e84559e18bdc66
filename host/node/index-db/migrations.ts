/**
 * Index schema, versioned through SQLite's `PRAGMA user_version`. Each
 * migration runs once, in order, inside a transaction; a database newer than
 * this code is refused rather than misread.
 */
import { ForgeError } from '../base/errors.js';
import type { SqliteDatabase } from './sqlite-types.js';
import { stmt } from './statements.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'files, versions, blobs, state',
    sql: `
      CREATE TABLE files (
        id          INTEGER PRIMARY KEY,
        path        TEXT NOT NULL UNIQUE,
        latest_seq  INTEGER,              -- seq of the newest version
        live        INTEGER NOT NULL DEFAULT 1  -- 0 once the newest version is 'removed'
      );
      CREATE TABLE versions (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,  -- global, increasing
        file_id   INTEGER NOT NULL REFERENCES files(id),
        time_ms   INTEGER NOT NULL,
        kind      TEXT NOT NULL CHECK (kind IN ('created','modified','removed','renamed')),
        hash      TEXT,                   -- SHA-256 of the whole content; NULL for 'removed'
        size      INTEGER,
        mode      INTEGER,
        mtime_ms  REAL,
        ino       TEXT,                   -- decimal string (inode numbers can exceed 2^53)
        old_path  TEXT                    -- for 'renamed'
      );
      CREATE INDEX versions_by_file ON versions(file_id, seq);
      CREATE INDEX versions_by_time ON versions(time_ms);
      CREATE TABLE blobs (
        hash         TEXT PRIMARY KEY,    -- SHA-256 of the whole content
        size         INTEGER NOT NULL,
        stored_size  INTEGER NOT NULL,    -- bytes this content added to the store when first put
        refs         INTEGER NOT NULL DEFAULT 0,  -- versions referring to it
        manifest     TEXT,                -- manifest object for chunked content, else NULL
        chunks       INTEGER NOT NULL DEFAULT 1
      );
      CREATE TABLE state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL              -- JSON
      );
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings `db` up to {@link SCHEMA_VERSION}; returns the versions applied. */
export function migrate(db: SqliteDatabase, file: string): number[] {
  const current = userVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new ForgeError('configuration', `Index ${file} has schema version ${current}, newer than this Forge understands (${SCHEMA_VERSION})`, {
      context: { file, operation: 'migrate', schemaVersion: current, supported: SCHEMA_VERSION },
      suggestions: ['Upgrade forge-io to a version that knows this schema, or point Forge at another index.'],
    });
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    // Re-read inside the write transaction: another process may have migrated meanwhile.
    db.transaction(() => {
      if (userVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      applied.push(m.version);
    }).immediate();
  }
  return applied;
}

/** For a read-only open: the schema must be there already and not newer than this code. */
export function checkReadable(db: SqliteDatabase, file: string): void {
  const current = userVersion(db);
  if (current > SCHEMA_VERSION) migrate(db, file); // throws the "newer than this Forge" error
  if (current < SCHEMA_VERSION) {
    throw new ForgeError('configuration', `Index ${file} has schema version ${current}; this Forge needs ${SCHEMA_VERSION} and cannot upgrade it read-only`, {
      context: { file, operation: 'open index', schemaVersion: current, supported: SCHEMA_VERSION },
      suggestions: ['Run a command that writes (e.g. `forge watch`) once with write access to upgrade it.'],
    });
  }
}

/** The schema version of `db` (0: none). */
export function userVersion(db: SqliteDatabase): number {
  return (stmt(db, 'PRAGMA user_version').get() as { user_version: number }).user_version;
}
