/** ResourceManager: budget, FIFO order, guards released by `using`, shutdown, stats and queue reporting. */
import { describe, expect, test } from 'vitest';
import { ResourceManager } from '../../host/node/base/resources.js';

describe('ResourceManager', () => {
  test('grants up to the limit, then queues FIFO', async () => {
    const rm = new ResourceManager({ maxHandles: 2 });
    const a = await rm.acquire();
    const b = await rm.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) => rm.acquire().then((g) => (order.push(i), g)));
    expect(rm.stats()).toMatchObject({ inUse: 2, queued: 3, peak: 2, queuedTotal: 3 });
    a.release();
    b.release();
    const [g1, g2] = await Promise.all([waits[0]!, waits[1]!]);
    expect(order).toEqual([1, 2]);
    g1.release();
    const g3 = await waits[2]!;
    expect(order).toEqual([1, 2, 3]);
    g2.release();
    g3.release();
    expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0, peak: 2 });
  });

  test('a large request at the head is not overtaken by small ones (strict FIFO)', async () => {
    const rm = new ResourceManager({ maxHandles: 3 });
    const a = await rm.acquire(2);
    const order: string[] = [];
    const big = rm.acquire(3).then((g) => (order.push('big'), g));
    const small = rm.acquire(1).then((g) => (order.push('small'), g));
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]); // one handle free, but the big request is first in line
    a.release();
    (await big).release();
    (await small).release();
    expect(order).toEqual(['big', 'small']);
  });

  test('`using` and `await using` release the guard at the end of the block; release twice is harmless', async () => {
    const rm = new ResourceManager({ maxHandles: 1 });
    {
      using g = await rm.acquire();
      expect(rm.stats().inUse).toBe(1);
      g.release();
      g.release();
      expect(rm.stats().inUse).toBe(0);
    }
    {
      await using g = await rm.acquire();
      expect(g.isReleased).toBe(false);
      expect(rm.stats().inUse).toBe(1);
    }
    expect(rm.stats().inUse).toBe(0);
    expect(rm.tryAcquire()).toBeDefined();
    expect(rm.tryAcquire()).toBeUndefined();
  });

  test('queueing is reported: counter, event and debug log', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const rm = new ResourceManager({ maxHandles: 1, logger: { debug: (o) => logs.push(o) } });
    const events: unknown[] = [];
    rm.on('queued', (s) => events.push(s));
    const g = await rm.acquire();
    const w = rm.acquire();
    expect(rm.stats().queuedTotal).toBe(1);
    expect(events).toHaveLength(1);
    expect(logs[0]).toMatchObject({ resource: 'handles', queued: 1, limit: 1 });
    g.release();
    (await w).release();
  });

  test('shutdown rejects waiters with a ForgeError, force-releases held guards after the timeout, and refuses new work', async () => {
    const rm = new ResourceManager({ maxHandles: 1 });
    const held = await rm.acquire();
    const waiter = rm.acquire().catch((e: unknown) => e);
    const t0 = Date.now();
    await rm.shutdown(50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(await waiter).toMatchObject({ name: 'ForgeError' });
    expect(held.isReleased).toBe(true);
    expect(rm.stats().inUse).toBe(0);
    await expect(rm.acquire()).rejects.toMatchObject({ name: 'ForgeError' });
  });

  test('timeouts and aborts drop a waiter and let the next one in', async () => {
    const rm = new ResourceManager({ maxHandles: 1 });
    const g = await rm.acquire();
    await expect(rm.acquire(1, { timeoutMs: 10 })).rejects.toMatchObject({ category: 'timeout' });
    const ac = new AbortController();
    const aborted = rm.acquire(1, { signal: ac.signal });
    const next = rm.acquire();
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ category: 'timeout' });
    g.release();
    (await next).release();
    expect(rm.stats()).toMatchObject({ inUse: 0, queued: 0 });
  });

  test('bad limits and requests are clear errors', async () => {
    expect(() => new ResourceManager({ maxHandles: 0 })).toThrow(/maxHandles/);
    const rm = new ResourceManager({ maxHandles: 2 });
    await expect(rm.acquire(3)).rejects.toThrow(/budget is 2/);
    expect(() => rm.tryAcquire(0)).toThrow(/budget is 2/);
  });
});
