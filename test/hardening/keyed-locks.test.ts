/**
 * KeyedLocks (the store's per-hash write lock) against a hand-written model: at most one holder per
 * key, waiters served in arrival order, tryLock only when nobody holds or waits, `size` = keys held or
 * waited for, and lockAll without deadlock. Ordering is checked with counters, never with sleeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedLocks } from '../../host/node/store/keyed-locks.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('KeyedLocks', () => {
  it('one holder per key, FIFO per key, independent keys in parallel; release twice is harmless', async () => {
    const locks = new KeyedLocks();
    const got: string[] = [];
    const a1 = await locks.lock('a');
    const b1 = await locks.lock('b'); // another key: not blocked by a
    const a2p = locks.lock('a').then((r) => (got.push('a2'), r));
    const a3p = locks.lock('a').then((r) => (got.push('a3'), r));
    await flush();
    expect(got).toEqual([]);
    expect(locks.size).toBe(2);
    expect(locks.tryLock('a')).toBeUndefined();
    expect(locks.tryLock('b')).toBeUndefined();
    a1();
    a1(); // must not release a2's turn
    await flush();
    expect(got).toEqual(['a2']);
    const a2 = await a2p;
    a2();
    const a3 = await a3p;
    expect(got).toEqual(['a2', 'a3']);
    a3();
    b1();
    expect(locks.size).toBe(0);
    const c = locks.tryLock('c');
    expect(c).toBeDefined();
    expect(locks.size).toBe(1);
    c!();
    c!();
    expect(locks.size).toBe(0);
  });

  it('lockAll takes every key once, in sorted order, so opposite orders cannot deadlock', async () => {
    const locks = new KeyedLocks();
    const r1 = await locks.lockAll(['b', 'a', 'b']);
    expect(locks.size).toBe(2);
    let second = false;
    const p = locks.lockAll(['b', 'a']).then((r) => ((second = true), r));
    await flush();
    expect(second).toBe(false);
    r1();
    const r2 = await p;
    expect(second).toBe(true);
    r2();
    expect(locks.size).toBe(0);
    // Two batches started together in opposite orders: both finish (no a-waits-b, b-waits-a).
    let finished = 0;
    const both = [
      ['a', 'b'],
      ['b', 'a'],
    ].map(async (keys) => {
      const r = await locks.lockAll(keys);
      finished++;
      r();
    });
    await flush();
    await flush();
    expect(finished).toBe(2);
    await Promise.all(both);
    // Many overlapping batches in random orders all finish.
    const batches = Array.from({ length: 20 }, (_, i) => ['k1', 'k2', 'k3', 'k4'].filter((_, j) => (i + j) % 3 !== 0).reverse());
    await Promise.all(batches.map(async (keys) => (await locks.lockAll(keys))()));
    expect(locks.size).toBe(0);
  });

  it('property: random lock/tryLock/release sequences match the model (150 runs)', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('lock' as const), k: fc.constantFrom('x', 'y', 'z') }),
      fc.record({ t: fc.constant('try' as const), k: fc.constantFrom('x', 'y', 'z') }),
      fc.record({ t: fc.constant('release' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 50 }), async (ops) => {
        const locks = new KeyedLocks();
        const model = new Map<string, { holder: number | undefined; queue: number[] }>();
        const held = new Map<number, { key: string; release: () => void }>();
        const grantedOrder: number[] = [];
        const expectedOrder: number[] = [];
        let id = 0;
        const entry = (k: string) => model.get(k) ?? (model.set(k, { holder: undefined, queue: [] }), model.get(k)!);
        for (const o of ops) {
          if (o.t === 'lock') {
            const my = id++;
            const e = entry(o.k);
            if (e.holder === undefined && e.queue.length === 0) {
              e.holder = my;
              expectedOrder.push(my);
            } else e.queue.push(my);
            void locks.lock(o.k).then((release) => {
              grantedOrder.push(my);
              held.set(my, { key: o.k, release });
            });
          } else if (o.t === 'try') {
            const e = entry(o.k);
            const r = locks.tryLock(o.k);
            const free = e.holder === undefined && e.queue.length === 0;
            expect(r !== undefined).toBe(free);
            if (r) {
              const my = id++;
              e.holder = my;
              expectedOrder.push(my);
              grantedOrder.push(my);
              held.set(my, { key: o.k, release: r });
            }
          } else {
            const ids = [...held.keys()];
            if (ids.length > 0) {
              const my = ids[o.pick % ids.length]!;
              const h = held.get(my)!;
              held.delete(my);
              h.release();
              const e = model.get(h.key)!;
              expect(e.holder).toBe(my);
              e.holder = e.queue.shift();
              if (e.holder !== undefined) expectedOrder.push(e.holder);
            }
          }
          await flush();
          // At most one holder per key, and exactly the model's.
          const holders = new Map<string, number>();
          for (const [hid, h] of held) {
            expect(holders.has(h.key), `two holders of ${h.key}`).toBe(false);
            holders.set(h.key, hid);
          }
          for (const [k, e] of model) expect(holders.get(k)).toBe(e.holder);
          expect(locks.size).toBe([...model.values()].filter((e) => e.holder !== undefined || e.queue.length > 0).length);
        }
        expect(grantedOrder).toEqual(expectedOrder);
      }),
      { numRuns: 150 },
    );
  });
});
