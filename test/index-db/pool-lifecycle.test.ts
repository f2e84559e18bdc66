// The connection pool's edges on real SQLite (better-sqlite3 on temp files): close() closing every
// connection (idle ones at once, lent ones when given back), read-only pools, connections that cannot
// be opened or set up, the acquire timeout's special values, double releases, and the exact errors.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { ConnectionPool, type SqliteDatabase } from '../../host/node/index-db/pool.js';
import { requireRoot } from '../support/reference-tools.js';
import { requireDist, tempDir } from '../store/helpers.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A database file with one table `t` holding 1, 2, 3 (rollback journal unless `wal`). */
function makeDb(file: string, wal = false): void {
  const db = new Database(file);
  if (wal) db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);');
  db.close();
}

const count = (db: SqliteDatabase): number => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

describe('ConnectionPool lifecycle', () => {
  it('close() closes every idle connection at once and a lent one when it is given back', async () => {
    const t = tempDir('forge-pool-');
    const file = join(t.dir, 'p.db');
    makeDb(file, true);
    const opened: SqliteDatabase[] = [];
    const pool = new ConnectionPool(file, { size: 3, setup: (db) => void opened.push(db) });
    try {
      const leases = await Promise.all([pool.acquire('a'), pool.acquire('b'), pool.acquire('c')]);
      // One connection per lease, each opened once, with the WAL the file was made with.
      expect(opened).toHaveLength(3);
      expect(new Set(leases.map((l) => l.db)).size).toBe(3);
      expect(leases.map((l) => count(l.db))).toEqual([3, 3, 3]);
      leases[0]!.release();
      leases[1]!.release();
      const held = leases[2]!;
      await pool.close();
      expect(opened.map((db) => db.open)).toEqual([false, false, true]);
      // The held one still works until it is given back, then it is closed too (not pooled again).
      expect(count(held.db)).toBe(3);
      held.release();
      expect(opened.map((db) => db.open)).toEqual([false, false, false]);
      expect(() => count(held.db)).toThrow(/not open/);
      // With every connection closed, SQLite checkpointed the WAL into the file and removed it.
      expect(existsSync(`${file}-wal`)).toBe(false);
      // A later use fails with a clear ForgeError, and closing again is harmless.
      const err = (await pool.acquire('late').catch((e: unknown) => e)) as ForgeError;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.category).toBe('configuration');
      expect(err.message).toBe('The index connection pool is closed');
      expect(err.context).toMatchObject({ file, operation: 'pool acquire' });
      expect(err.suggestions().join(' ')).toMatch(/Index\.open/);
      await expect(pool.with(() => 1)).rejects.toThrow('The index connection pool is closed');
      await pool.close();
      // Nothing holds the file: it can be removed, made again and opened by a new pool.
      rmSync(file);
      makeDb(file);
      const again = new ConnectionPool(file, { size: 1 });
      expect(await again.with(count)).toBe(3);
      await again.close();
    } finally {
      t.cleanup();
    }
  });

  it('close() rejects every waiter with the closed error', async () => {
    const t = tempDir('forge-pool-');
    const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 1, acquireTimeoutMs: 60_000 });
    try {
      const held = await pool.acquire('held');
      const waiters = [pool.acquire('w1'), pool.acquire('w2')].map((p) => p.catch((e: unknown) => e));
      expect(pool.waiting).toBe(2);
      await pool.close();
      expect(pool.waiting).toBe(0);
      for (const e of await Promise.all(waiters)) {
        expect(e).toBeInstanceOf(ForgeError);
        expect((e as ForgeError).message).toBe('The index connection pool is closed');
      }
      held.release();
      expect(held.db.open).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('a read-only pool reads but refuses writes; a read-write pool on the same file writes', async () => {
    const t = tempDir('forge-pool-');
    const file = join(t.dir, 'p.db');
    makeDb(file);
    const ro = new ConnectionPool(file, { size: 2, readonly: true });
    const rw = new ConnectionPool(file, { size: 1 });
    try {
      expect(await ro.with(count)).toBe(3);
      const err = await ro.with((db) => db.prepare('INSERT INTO t VALUES (4)').run()).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('SQLITE_READONLY');
      await rw.with((db) => db.prepare('INSERT INTO t VALUES (4)').run());
      expect(await ro.with(count)).toBe(4);
    } finally {
      await ro.close();
      await rw.close();
      t.cleanup();
    }
  });

  it('a read-only pool opens no file that is not there (ForgeError naming the file and "open index")', async () => {
    const t = tempDir('forge-pool-');
    const file = join(t.dir, 'absent.db');
    const pool = new ConnectionPool(file, { readonly: true });
    try {
      const err = (await pool.acquire().catch((e: unknown) => e)) as ForgeError;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.context).toMatchObject({ file, operation: 'open index' });
      expect(existsSync(file)).toBe(false);
      expect(pool.inUse).toBe(0);
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('a connection whose setup throws is closed and the acquire fails with a ForgeError', async () => {
    const t = tempDir('forge-pool-');
    const file = join(t.dir, 'p.db');
    let made: SqliteDatabase | undefined;
    let fail = true;
    const pool = new ConnectionPool(file, {
      size: 1,
      setup: (db) => {
        made = db;
        if (fail) throw new Error('pragma refused');
      },
    });
    try {
      const err = (await pool.acquire('s').catch((e: unknown) => e)) as ForgeError;
      expect(err).toBeInstanceOf(ForgeError);
      expect(err.message).toContain('pragma refused');
      expect(err.context).toMatchObject({ file, operation: 'open index' });
      expect(made?.open).toBe(false);
      // The failed open did not take the only slot.
      expect(pool.inUse).toBe(0);
      fail = false;
      expect(await pool.with((db) => (db.prepare('SELECT 7 AS v').get() as { v: number }).v)).toBe(7);
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('never opens more than size connections: opens are counted by the setup hook', async () => {
    const t = tempDir('forge-pool-');
    let opens = 0;
    const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 2, setup: () => void opens++ });
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 7 }, (_, i) => pool.with(async () => sleep(i % 3), `r${round}-${i}`)));
      }
      expect(opens).toBe(2);
      expect(pool.peakInUse).toBe(2);
      expect(pool.inUse).toBe(0);
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('releasing a lease twice gives its connection back once', async () => {
    const t = tempDir('forge-pool-');
    const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 1, acquireTimeoutMs: 0 });
    try {
      const a = await pool.acquire('a');
      a.release();
      a.release();
      a[Symbol.dispose]();
      const b = await pool.acquire('b');
      let cGot = false;
      const c = pool.acquire('c').then((l) => ((cGot = true), l));
      await tick();
      expect(cGot).toBe(false);
      expect(pool.inUse).toBe(1);
      expect(b.id).not.toBe(a.id);
      b.release();
      const lc = await c;
      expect(new Set([a.id, b.id, lc.id]).size).toBe(3);
      lc.release();
      expect(pool.peakInUse).toBe(1);
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('a lease released twice is pooled once: two later leases never share a connection', async () => {
    const t = tempDir('forge-pool-');
    const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 2 });
    try {
      const a = await pool.acquire('a');
      a.release();
      a.release();
      const [b, c] = await Promise.all([pool.acquire('b'), pool.acquire('c')]);
      expect(b.db).not.toBe(c.db);
      expect(pool.inUse).toBe(2);
      b.release();
      c.release();
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('peakInUse keeps the highest count after fewer connections are used', async () => {
    const t = tempDir('forge-pool-');
    const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 3 });
    try {
      const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
      for (const l of held) l.release();
      expect(pool.peakInUse).toBe(3);
      const one = await pool.acquire();
      expect(pool.peakInUse).toBe(3);
      one.release();
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  for (const acquireTimeoutMs of [0, Number.POSITIVE_INFINITY]) {
    it(`acquireTimeoutMs ${acquireTimeoutMs}: a waiter waits without a deadline`, async () => {
      const t = tempDir('forge-pool-');
      const warned: string[] = [];
      const pool = new ConnectionPool(join(t.dir, 'p.db'), { size: 1, acquireTimeoutMs, logger: { warn: (_o, msg) => warned.push(msg) } });
      try {
        const held = await pool.acquire('held');
        let settled = false;
        const next = pool.acquire('next').then(
          (l) => ((settled = true), l),
          (e: unknown) => ((settled = true), Promise.reject(e)),
        );
        await sleep(50);
        expect(settled).toBe(false);
        expect(warned).toEqual([]);
        held.release();
        (await next).release();
      } finally {
        await pool.close();
        t.cleanup();
      }
    });
  }

  it('defaults: 4 connections, a 10 s acquire timeout', () => {
    const pool = new ConnectionPool('/nonexistent/p.db');
    expect(pool.size).toBe(4);
    expect(pool.acquireTimeoutMs).toBe(10_000);
  });

  it('the timeout names the waiter, the holders and the file; the default logger writes one JSON line to stderr', async () => {
    const t = tempDir('forge-pool-');
    const file = join(t.dir, 'p.db');
    const pool = new ConnectionPool(file, { size: 1, acquireTimeoutMs: 30 });
    const lines: string[] = [];
    const write = process.stderr.write;
    try {
      const before = Date.now();
      const held = await pool.acquire();
      process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
      let err: ForgeError;
      try {
        err = (await pool.acquire('second').catch((e: unknown) => e)) as ForgeError;
      } finally {
        process.stderr.write = write;
      }
      expect(err.category).toBe('timeout');
      expect(err.message).toBe('index pool acquire timed out after 30 ms');
      expect(err.context).toMatchObject({ file, waiter: 'second', holders: [expect.objectContaining({ id: held.id, label: 'anonymous' })] });
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 'warn', file, waiter: 'second', waitedMs: 30, poolSize: 1 });
      expect(logged[0]!.msg).toMatch(/possible deadlock/);
      const holders = logged[0]!.holders as Array<{ label: string; heldMs: number }>;
      expect(holders).toHaveLength(1);
      expect(holders[0]!.label).toBe('anonymous');
      // How long the holder held it: between 0 and the time this test has waited since acquiring.
      expect(holders[0]!.heldMs).toBeGreaterThanOrEqual(0);
      expect(holders[0]!.heldMs).toBeLessThanOrEqual(Date.now() - before);
      // One line each (newline-terminated JSON).
      expect(lines.join('')).toBe(lines.map((l) => `${l.trimEnd()}\n`).join(''));
      expect(pool.waiting).toBe(0);
      held.release();
    } finally {
      process.stderr.write = write;
      await pool.close();
      t.cleanup();
    }
  });

  for (const size of [0, -1, 1.5, Number.NaN]) {
    it(`size ${size} is a configuration error naming the field`, () => {
      let err: unknown;
      try {
        new ConnectionPool('/tmp/x.db', { size });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ForgeError);
      const f = err as ForgeError;
      expect(f.category).toBe('configuration');
      expect(f.message).toBe(`Pool size must be a positive integer, got ${String(size)}`);
      expect(f.context).toMatchObject({ operation: 'pool', field: 'size' });
      expect(f.suggestions().join(' ')).toMatch(/>= 1/);
    });
  }

  it('size 1 is allowed', () => {
    expect(new ConnectionPool('/tmp/x.db', { size: 1 }).size).toBe(1);
  });
});

const asRoot = requireRoot('the read-only pool on a read-only directory as user nobody');

describe('ConnectionPool on a read-only directory', () => {
  it.skipIf(!asRoot)('as nobody, a read-only pool reads a database in a 0555 directory; writes fail', () => {
    const poolJs = requireDist('index-db/pool.js');
    const t = tempDir('forge-pool-ro-');
    const file = join(t.dir, 'p.db');
    try {
      makeDb(file);
      chmodSync(file, 0o444);
      chmodSync(t.dir, 0o555);
      const script = `
        const { ConnectionPool } = await import(${JSON.stringify(poolJs)});
        const pool = new ConnectionPool(${JSON.stringify(file)}, { readonly: true, size: 2 });
        const n = await pool.with((db) => db.prepare('SELECT count(*) AS n FROM t').get().n);
        let write = 'wrote';
        try { await pool.with((db) => db.prepare('INSERT INTO t VALUES (9)').run()); } catch (e) { write = e.code; }
        await pool.close();
        process.stdout.write(JSON.stringify({ n, write }));
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', uid: 65534, gid: 65534, timeout: 30_000 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ n: 3, write: 'SQLITE_READONLY' });
      expect(existsSync(`${file}-journal`)).toBe(false);
    } finally {
      chmodSync(t.dir, 0o700);
      t.cleanup();
    }
  });
});
