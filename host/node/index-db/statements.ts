/**
 * Prepared statements, cached per connection, and the rule that keeps
 * better-sqlite3 12 from aborting the process on Node >= 24.
 *
 * Node 24 changed `node::ObjectWrap`: its destructor removes an environment
 * cleanup hook and asserts that a JS context is current. better-sqlite3 <= 12
 * builds Database and Statement on ObjectWrap, so one of them collected by a
 * GC that runs outside a context (idle GC, teardown) aborts the process with
 * `Assertion failed: (env) != nullptr` (WiseLibs/better-sqlite3#1515, closed
 * without a fix; 13.x moved to Node-API but crashes on Node 20). So on those
 * Node versions nothing of ours may become garbage: every statement is
 * prepared once per connection and cached, pragmas run through `exec` (which
 * makes no Statement object), and connections stay referenced after close for
 * the life of the process (a few KiB each).
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite-types.js';

const cache = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();

/** Whether this Node's ObjectWrap asserts in its destructor (see the file comment). */
export const retainSqliteObjects = Number(process.versions.node.split('.')[0]) >= 24;
const retained: SqliteDatabase[] = [];

/**
 * The statement for `sql` on `db`, prepared on first use. Callers must not change its mode
 * (`pluck`, `raw`, `expand`) unless they own that SQL text alone.
 *
 * @example
 * ```ts
 * const n = stmt(db, 'SELECT count(*) AS n FROM files').get() as { n: number };
 * ```
 */
export function stmt(db: SqliteDatabase, sql: string): Database.Statement {
  let m = cache.get(db);
  if (m === undefined) cache.set(db, (m = new Map()));
  let st = m.get(sql);
  if (st === undefined) m.set(sql, (st = db.prepare(sql)));
  return st;
}

/** Called for every connection opened: on Node >= 24 it (and, through the cache, its statements) is never collected. */
export function retainConnection(db: SqliteDatabase): void {
  if (retainSqliteObjects) retained.push(db);
}

/**
 * The rows of `st`: streamed (`iterate`) where that is safe, else all at once, because each
 * `iterate()` makes a StatementIterator ObjectWrap that would be collected later (see above).
 */
export function rowsOf<T>(st: Database.Statement, ...params: unknown[]): Iterable<T> {
  return (retainSqliteObjects ? st.all(...params) : st.iterate(...params)) as Iterable<T>;
}
