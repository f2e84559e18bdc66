/**
 * The SQLite connection type shared by the pool and the statement cache, kept
 * apart so neither has to import the other.
 */
import type Database from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;
