/**
 * ResourceManager, beyond its I/O tests: exact counters, a property over random acquire/release
 * sequences against a hand-written model (FIFO, never over the budget), the waiter-queue compaction,
 * release of held handles at shutdown, and the errors of bad requests.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ForgeError } from '../../host/node/base/errors.js';
import { ResourceManager, type HandleGuard } from '../../host/node/base/resources.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ResourceManager counters and errors', () => {
  test('stats are exact: limit, inUse, peak, queued, queuedTotal, acquiredTotal, available; resetPeak', async () => {
    const rm = new ResourceManager({ maxHandles: 4, name: 'fds' });
    expect(rm.name).toBe('fds');
    expect(rm.stats()).toEqual({ limit: 4, inUse: 0, peak: 0, queued: 0, queuedTotal: 0, acquiredTotal: 0 });
    const a = await rm.acquire(3);
    expect(rm.available).toBe(1);
    const b = rm.tryAcquire(1)!;
    expect(rm.stats()).toEqual({ limit: 4, inUse: 4, peak: 4, queued: 0, queuedTotal: 0, acquiredTotal: 2 });
    const w = rm.acquire(2);
    expect(rm.stats()).toEqual({ limit: 4, inUse: 4, peak: 4, queued: 1, queuedTotal: 1, acquiredTotal: 2 });
    a.release();
    const g = await w;
    expect(rm.stats()).toEqual({ limit: 4, inUse: 3, peak: 4, queued: 0, queuedTotal: 1, acquiredTotal: 3 });
    rm.resetPeak();
    expect(rm.stats().peak).toBe(3);
    b.release();
    g.release();
    expect(rm.stats().inUse).toBe(0);
    expect(rm.stats().peak).toBe(3);
  });

  test('the default budget is 1024 and the default name "handles"', async () => {
    const rm = new ResourceManager();
    expect(rm.limit).toBe(1024);
    const all = await rm.acquire(1024);
    expect(rm.tryAcquire()).toBeUndefined();
    await expect(rm.acquire(1, { timeoutMs: 1 })).rejects.toThrow('acquire handles timed out after 1 ms');
    all.release();
  });

  test('tryAcquire does not jump the queue even when handles are free', async () => {
    const rm = new ResourceManager({ maxHandles: 3 });
    const a = await rm.acquire(2);
    const big = rm.acquire(3);
    expect(rm.available).toBe(1);
    expect(rm.tryAcquire(1)).toBeUndefined(); // one free, but someone is waiting
    a.release();
    const g = await big;
    expect(g.count).toBe(3);
    g.release();
    expect(rm.tryAcquire(3)).toBeDefined();
  });

  test('bad requests: non-integers, zero, negative and over the budget; bad limits; all validation/configuration ForgeErrors', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 3]) {
      const rm = new ResourceManager({ maxHandles: 2 });
      const err = (await rm.acquire(bad).catch((e: unknown) => e)) as ForgeError;
      expect(err, String(bad)).toBeInstanceOf(ForgeError);
      expect(err.category).toBe('validation');
      expect(err.message).toBe(`cannot acquire ${bad} handles: the budget is 2`);
      expect(err.context.operation).toBe('acquire');
      expect(err.suggestions()).toEqual(['Ask for 1..2 handles, or raise maxHandles.']);
      expect(() => rm.tryAcquire(bad)).toThrow(ForgeError);
      expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0, acquiredTotal: 0 });
    }
    expect(new ResourceManager({ maxHandles: 1 }).limit).toBe(1);
    for (const bad of [0, -5, 2.5, Number.NaN]) {
      let err: unknown;
      try {
        new ResourceManager({ maxHandles: bad });
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toMatchObject({ category: 'configuration', message: `maxHandles must be an integer >= 1, got ${String(bad)}` });
      expect((err as ForgeError).context).toMatchObject({ operation: 'ResourceManager', field: 'maxHandles' });
      expect((err as ForgeError).suggestions()[0]).toMatch(/positive integer/);
    }
  });

  test('withHandles holds the handles during fn and releases them when fn throws', async () => {
    const rm = new ResourceManager({ maxHandles: 2 });
    await expect(
      rm.withHandles(async () => {
        expect(rm.stats().inUse).toBe(2);
        throw new Error('inner');
      }, 2),
    ).rejects.toThrow('inner');
    expect(rm.stats().inUse).toBe(0);
    expect(await rm.withHandles(async () => rm.stats().inUse)).toBe(1);
    expect(rm.stats().inUse).toBe(0);
  });

  test('the queued event and debug log carry the stats and the wanted count', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const texts: Array<string | undefined> = [];
    const rm = new ResourceManager({ maxHandles: 2, name: 'ring', logger: { debug: (o, m) => void (logs.push(o), texts.push(m)) } });
    const events: unknown[] = [];
    rm.on('queued', (s) => events.push(s));
    const g = await rm.acquire(2);
    expect(logs).toEqual([]); // no queueing, no log
    const w = rm.acquire(2);
    expect(events).toEqual([{ limit: 2, inUse: 2, peak: 2, queued: 1, queuedTotal: 1, acquiredTotal: 1 }]);
    expect(logs).toEqual([{ resource: 'ring', limit: 2, inUse: 2, peak: 2, queued: 1, queuedTotal: 1, acquiredTotal: 1, want: 2 }]);
    expect(texts).toEqual(['handle budget exhausted: queued']);
    g.release();
    (await w).release();
  });

  test('a timed-out or aborted head waiter lets a smaller waiter behind it in at once', async () => {
    const rm = new ResourceManager({ maxHandles: 3 });
    const a = await rm.acquire(2);
    const big = rm.acquire(3, { timeoutMs: 20 }).catch((e: unknown) => e);
    const small = rm.acquire(1);
    const e = (await big) as ForgeError;
    expect(e.category).toBe('timeout');
    expect(e.message).toBe('acquire handles timed out after 20 ms');
    const s = await small; // granted by the drop, with `a` still held
    expect(rm.stats()).toMatchObject({ inUse: 3, queued: 0 });
    const ac = new AbortController();
    const aborted = rm.acquire(3, { signal: ac.signal }).catch((x: unknown) => x);
    const next = rm.acquire(1, { signal: new AbortController().signal });
    s.release();
    await tick();
    ac.abort(new Error('reason'));
    const ae = (await aborted) as ForgeError;
    expect(ae).toMatchObject({ category: 'timeout', message: 'acquire handles: aborted' });
    expect(ae.context.operation).toBe('acquire');
    expect((ae.cause as Error).message).toBe('reason');
    (await next).release();
    a.release();
    expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0 });
    // An already-aborted signal rejects without queueing.
    const done = new AbortController();
    done.abort();
    const full = await rm.acquire(3);
    await expect(rm.acquire(1, { signal: done.signal })).rejects.toMatchObject({ category: 'timeout' });
    expect(rm.stats().queued).toBe(0);
    full.release();
  });

  test("a granted waiter's timeout and abort are disarmed: they cannot reject or drop it later", async () => {
    const rm = new ResourceManager({ maxHandles: 1 });
    const g = await rm.acquire();
    const ac = new AbortController();
    const w = rm.acquire(1, { timeoutMs: 30, signal: ac.signal });
    g.release();
    const got = await w;
    ac.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(got.isReleased).toBe(false);
    expect(rm.stats()).toMatchObject({ inUse: 1, queued: 0 });
    got.release();
  });

  test('shutdown: waiters rejected as non-retryable, new work refused, held handles given back in time stay theirs, late ones force-released with a warning', async () => {
    const warns: Array<Record<string, unknown>> = [];
    const warnTexts: Array<string | undefined> = [];
    const rm = new ResourceManager({ maxHandles: 2, logger: { debug: () => undefined, warn: (o, m) => void (warns.push(o), warnTexts.push(m)) } });
    const early = await rm.acquire();
    const late = await rm.acquire();
    const waiter = rm.acquire().catch((e: unknown) => e);
    setTimeout(() => early.release(), 5);
    const t0 = performance.now();
    await rm.shutdown(60);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55); // waited for `late` up to the budget
    const we = (await waiter) as ForgeError;
    expect(we).toBeInstanceOf(ForgeError);
    expect(we.message).toBe('handles: shut down while waiting for a handle');
    expect(we.isRetryable()).toBe(false);
    expect(we.category).toBe('unknown');
    expect(we.context.operation).toBe('acquire');
    expect(rm.isShutdown).toBe(true);
    expect(late.isReleased).toBe(true);
    expect(warns).toEqual([{ resource: 'handles', inUse: 1 }]);
    expect(warnTexts).toEqual(['shutdown: force-releasing handles still held']);
    expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0 });
    expect(() => rm.tryAcquire()).toThrow('handles: resource manager is shut down');
    expect(() => rm.tryAcquire()).toThrow(expect.objectContaining({ category: 'unknown', context: expect.objectContaining({ operation: 'acquire' }) }));
    await expect(rm.acquire()).rejects.toThrow('resource manager is shut down');
    await rm.shutdown(0); // twice is harmless
  });

  test('shutdown returns as soon as every handle is back (no warning)', async () => {
    const warns: unknown[] = [];
    const rm = new ResourceManager({ maxHandles: 1, logger: { debug: () => undefined, warn: (o) => warns.push(o) } });
    const g = await rm.acquire();
    setTimeout(() => g.release(), 10);
    const t0 = performance.now();
    await rm.shutdown(10_000);
    expect(performance.now() - t0).toBeLessThan(5_000); // far below the budget; the budget was not spent
    expect(warns).toEqual([]);
  });

  test('`using` releases at the end of the block; a logger without warn is fine at a forced release', async () => {
    const rm = new ResourceManager({ maxHandles: 1, logger: { debug: () => undefined } });
    {
      using g = await rm.acquire();
      expect(g.isReleased).toBe(false);
      expect(rm.stats().inUse).toBe(1);
    }
    expect(rm.stats().inUse).toBe(0);
    const held = await rm.acquire();
    await rm.shutdown(1); // force-releases `held`; the logger has no warn
    expect(held.isReleased).toBe(true);
  });

  test('more than 1024 waiters: FIFO order survives the queue compaction', async () => {
    const rm = new ResourceManager({ maxHandles: 1 });
    let g: HandleGuard | undefined = await rm.acquire();
    const order: number[] = [];
    const n = 3000;
    const waits = Array.from({ length: n }, (_, i) => rm.acquire().then((x) => (order.push(i), x)));
    for (let i = 0; i < n; i++) {
      g!.release();
      g = await waits[i]!;
      if (i === 1500) expect(rm.stats().queued).toBe(n - 1 - i);
    }
    g!.release();
    expect(order).toEqual(Array.from({ length: n }, (_, i) => i));
    // The queue's storage is compacted as waiters are served (memory stays bounded by the waiting ones).
    expect((rm as unknown as { waiters: unknown[] }).waiters.length).toBeLessThan(n / 2);
    expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0, queuedTotal: n, acquiredTotal: n + 1 });
  });
});

describe('ResourceManager against a model (property)', () => {
  test('random acquires, tryAcquires and releases: never over budget, strict FIFO, counters as the model says', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('acquire' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant('try' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant('release' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 40 }), async (limit, ops) => {
        const rm = new ResourceManager({ maxHandles: limit });
        const held: HandleGuard[] = [];
        const granted: number[] = [];
        // The model: handles in use, the FIFO queue of (id, count), counters.
        let inUse = 0;
        let peak = 0;
        let queuedTotal = 0;
        let acquiredTotal = 0;
        const queue: Array<{ id: number; n: number }> = [];
        const drain = (): void => {
          while (queue.length > 0 && inUse + queue[0]!.n <= limit) {
            const w = queue.shift()!;
            inUse += w.n;
            peak = Math.max(peak, inUse);
            acquiredTotal++;
            granted.push(w.id);
          }
        };
        const order: number[] = [];
        let id = 0;
        for (const o of ops) {
          if (o.t === 'acquire') {
            if (o.n > limit) continue;
            const my = id++;
            if (queue.length === 0 && inUse + o.n <= limit) {
              inUse += o.n;
              peak = Math.max(peak, inUse);
              acquiredTotal++;
              granted.push(my);
            } else {
              queue.push({ id: my, n: o.n });
              queuedTotal++;
            }
            void rm
              .acquire(o.n)
              .then((g) => (order.push(my), held.push(g)))
              .catch(() => undefined); // rejected by the final shutdown
          } else if (o.t === 'try') {
            if (o.n > limit) continue;
            const g = rm.tryAcquire(o.n);
            const fits = queue.length === 0 && inUse + o.n <= limit;
            expect(g !== undefined).toBe(fits);
            if (g) {
              inUse += o.n;
              peak = Math.max(peak, inUse);
              acquiredTotal++;
              held.push(g);
            }
          } else if (held.length > 0) {
            const g = held.splice(o.pick % held.length, 1)[0]!;
            inUse -= g.count;
            g.release();
            drain();
          }
          await tick();
          const s = rm.stats();
          expect(s.inUse).toBeLessThanOrEqual(limit);
          expect(s).toEqual({ limit, inUse, peak, queued: queue.length, queuedTotal, acquiredTotal });
        }
        expect(order).toEqual(granted);
        await rm.shutdown(0);
      }),
      { numRuns: 150 },
    );
  });
});
