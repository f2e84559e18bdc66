/**
 * A bounded pool of SQLite connections. It never hands out more than `size`
 * connections at once (Property 26); waiters are served first come, first
 * served. A waiter that waits longer than `acquireTimeoutMs` logs a possible
 * deadlock, listing who holds the connections, and fails with a timeout
 * ForgeError instead of hanging.
 */
import Database from 'better-sqlite3';
import { ForgeError, timeoutError, toForgeError } from '../base/errors.js';
import type { SqliteDatabase } from './sqlite-types.js';
import { retainConnection } from './statements.js';

export type { SqliteDatabase };

/** The subset of a pino logger the pool uses. */
export interface PoolLogger {
  /** Logs at warn level (a possible deadlock). */
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface PoolOptions {
  /** Maximum connections open and handed out at once (default 4). */
  size?: number;
  /** How long `acquire` waits before failing (default 10,000 ms). */
  acquireTimeoutMs?: number;
  /** Runs once on every new connection (pragmas). */
  setup?: (db: SqliteDatabase) => void;
  /** Where "possible deadlock" warnings go (default: stderr as JSON). */
  logger?: PoolLogger;
  /** Open read-only connections. */
  readonly?: boolean;
}

/** A connection on loan; give it back with `release()` or `using`. */
export interface Lease extends Disposable {
  readonly db: SqliteDatabase;
  readonly id: number;
  release(): void;
}

interface Holder {
  id: number;
  label: string;
  since: number;
}

interface Waiter {
  label: string;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

const stderrLogger: PoolLogger = {
  warn(obj, msg) {
    process.stderr.write(JSON.stringify({ level: 'warn', msg, ...obj }) + '\n');
  },
};

/**
 * Connection pool over one database file.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool('/srv/forge/index.db', { size: 4 });
 * const n = await pool.with((db) => db.prepare('select count(*) as n from files').get());
 * await pool.close();
 * ```
 */
export class ConnectionPool {
  readonly size: number;
  readonly acquireTimeoutMs: number;
  private readonly idle: SqliteDatabase[] = [];
  private readonly all = new Set<SqliteDatabase>();
  private readonly holders = new Map<number, Holder>();
  private readonly waiters: Waiter[] = [];
  private nextId = 1;
  private closed = false;
  private peak = 0;

  constructor(
    readonly file: string,
    private readonly options: PoolOptions = {},
  ) {
    const size = options.size ?? 4;
    if (!Number.isInteger(size) || size < 1) {
      throw new ForgeError('configuration', `Pool size must be a positive integer, got ${String(size)}`, {
        context: { operation: 'pool', field: 'size' },
        suggestions: ['Set index pool size to an integer >= 1 (default 4).'],
      });
    }
    this.size = size;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000;
  }

  /** Connections handed out right now. */
  get inUse(): number {
    return this.holders.size;
  }

  /** The most connections ever handed out at once. */
  get peakInUse(): number {
    return this.peak;
  }

  /** Callers waiting for a connection. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Borrows a connection; waits (FIFO) while all `size` are lent. */
  acquire(label = 'anonymous'): Promise<Lease> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.holders.size < this.size && this.waiters.length === 0) {
      try {
        return Promise.resolve(this.lend(label));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = { label, resolve, reject, timer: undefined };
      if (this.acquireTimeoutMs > 0 && Number.isFinite(this.acquireTimeoutMs)) {
        waiter.timer = setTimeout(() => this.timeOut(waiter), this.acquireTimeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Runs `fn` with a borrowed connection and gives it back, even on error. */
  async with<T>(fn: (db: SqliteDatabase) => T | Promise<T>, label?: string): Promise<T> {
    const lease = await this.acquire(label);
    try {
      return await fn(lease.db);
    } finally {
      lease.release();
    }
  }

  /** Closes every connection; pending waiters fail. Lent connections close when released. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(this.closedError());
    }
    for (const db of this.idle.splice(0)) {
      this.all.delete(db);
      db.close();
    }
  }

  private lend(label: string): Lease {
    let db = this.idle.pop();
    if (db === undefined) db = this.open();
    const id = this.nextId++;
    this.holders.set(id, { id, label, since: Date.now() });
    if (this.holders.size > this.peak) this.peak = this.holders.size;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.holders.delete(id);
      this.giveBack(db);
    };
    return { db, id, release, [Symbol.dispose]: release };
  }

  private open(): SqliteDatabase {
    let db: SqliteDatabase;
    try {
      db = new Database(this.file, { readonly: this.options.readonly ?? false, timeout: 5000 });
    } catch (err) {
      throw toForgeError(err, { file: this.file, operation: 'open index' });
    }
    try {
      this.options.setup?.(db);
    } catch (err) {
      db.close();
      throw toForgeError(err, { file: this.file, operation: 'open index' });
    }
    retainConnection(db);
    this.all.add(db);
    return db;
  }

  private giveBack(db: SqliteDatabase): void {
    if (this.closed) {
      this.all.delete(db);
      db.close();
      return;
    }
    this.idle.push(db);
    const next = this.waiters.shift();
    if (next !== undefined) {
      if (next.timer) clearTimeout(next.timer);
      try {
        next.resolve(this.lend(next.label));
      } catch (err) {
        next.reject(err);
      }
    }
  }

  private timeOut(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    const now = Date.now();
    const holders = [...this.holders.values()].map((h) => ({ id: h.id, label: h.label, heldMs: now - h.since }));
    (this.options.logger ?? stderrLogger).warn(
      { file: this.file, waiter: waiter.label, waitedMs: this.acquireTimeoutMs, poolSize: this.size, holders },
      'index connection pool: possible deadlock (every connection is held and a waiter timed out)',
    );
    waiter.reject(
      timeoutError('index pool acquire', this.acquireTimeoutMs, {
        file: this.file,
        waiter: waiter.label,
        holders,
      }),
    );
  }

  private closedError(): ForgeError {
    return new ForgeError('configuration', 'The index connection pool is closed', {
      context: { file: this.file, operation: 'pool acquire' },
      suggestions: ['Open the index again (Index.open) before using it.'],
    });
  }
}
