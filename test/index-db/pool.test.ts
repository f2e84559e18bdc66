import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ConnectionPool } from '../../host/node/index-db/pool.js';
import { ForgeError } from '../../host/node/base/errors.js';
import { tempDir } from '../store/helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ConnectionPool', () => {
  it('Property 26: the pool never hands out more than N connections', async () => {
    const t = tempDir('forge-pool-');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.record({ holdMs: fc.integer({ min: 0, max: 3 }), write: fc.boolean() }), { minLength: 1, maxLength: 25 }),
          async (n, tasks) => {
            const pool = new ConnectionPool(`${t.dir}/p.db`, {
              size: n,
              setup: (db) => {
                db.pragma('journal_mode = WAL');
                db.exec('CREATE TABLE IF NOT EXISTS t (x INTEGER)');
              },
            });
            let active = 0;
            let maxActive = 0;
            const distinct = new Set<unknown>();
            try {
              await Promise.all(
                tasks.map((task, i) =>
                  pool.with(async (db) => {
                    active++;
                    maxActive = Math.max(maxActive, active);
                    distinct.add(db);
                    if (task.write) db.prepare('INSERT INTO t VALUES (?)').run(i);
                    else db.prepare('SELECT count(*) FROM t').get();
                    await sleep(task.holdMs);
                    active--;
                  }),
                ),
              );
              expect(maxActive).toBeLessThanOrEqual(n);
              expect(pool.peakInUse).toBeLessThanOrEqual(n);
              expect(distinct.size).toBeLessThanOrEqual(n);
              // Every task asks at once and holds across an await, so the pool fills up exactly.
              expect(pool.peakInUse).toBe(Math.min(n, tasks.length));
              expect(pool.inUse).toBe(0);
              expect(pool.waiting).toBe(0);
            } finally {
              await pool.close();
            }
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      t.cleanup();
    }
  });

  it('a waiter that times out logs a possible deadlock with the holders and fails with a timeout ForgeError', async () => {
    const t = tempDir('forge-pool-');
    const logs: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const pool = new ConnectionPool(`${t.dir}/p.db`, {
      size: 1,
      acquireTimeoutMs: 50,
      logger: { warn: (obj, msg) => logs.push({ obj, msg }) },
    });
    try {
      const lease = await pool.acquire('long-transaction');
      const err = await pool.acquire('second').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as ForgeError).category).toBe('timeout');
      expect(logs).toHaveLength(1);
      expect(logs[0]!.msg).toContain('possible deadlock');
      expect(logs[0]!.obj.holders).toEqual([expect.objectContaining({ label: 'long-transaction' })]);
      lease.release();
      // The pool still works after a timeout.
      expect(await pool.with((db) => (db.prepare('SELECT 1 AS one').get() as { one: number }).one)).toBe(1);
    } finally {
      await pool.close();
      t.cleanup();
    }
  });

  it('serves waiters first come, first served and rejects them on close', async () => {
    const t = tempDir('forge-pool-');
    const pool = new ConnectionPool(`${t.dir}/p.db`, { size: 1 });
    try {
      const first = await pool.acquire('a');
      const order: string[] = [];
      const b = pool.acquire('b').then((l) => (order.push('b'), l.release()));
      const c = pool.acquire('c').then((l) => (order.push('c'), l.release()));
      first.release();
      await Promise.all([b, c]);
      expect(order).toEqual(['b', 'c']);
      const held = await pool.acquire('held');
      const waiting = pool.acquire('waiting');
      await pool.close();
      await expect(waiting).rejects.toBeInstanceOf(ForgeError);
      held.release();
      await expect(pool.acquire('after')).rejects.toBeInstanceOf(ForgeError);
    } finally {
      t.cleanup();
    }
  });

  it('rejects a size below 1 with a configuration error', () => {
    expect(() => new ConnectionPool('/tmp/x.db', { size: 0 })).toThrow(ForgeError);
  });
});
